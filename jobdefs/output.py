"""The output folder's names, the one way jobdefs writes a file (whole or not at all), and
the trust boundary around the output folder.

Every path an output folder holds is named here once, so that the build, the readers of
reviews and surveys and the tests agree on it. `replace_files` is how every command that
writes outside a build's staging folder (surveys, scorecards, schemas, caches) writes.

An output folder can arrive in anybody's commit, links, manifest and cache included. So a
path jobdefs writes, moves or deletes in it is relative, with no `..` (`safe_relative`),
and has no link on its way below the output folder (`inside`): a link to a folder there is
refused, never followed; a link where a file goes is replaced like any file. What jobdefs
reads back of its own (the manifest, the cache) is read by `regular_bytes`: a regular
file, not through a link, and at most STATE_FILE_MAX bytes.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from jobdefs.errors import OutputError

MANIFEST = ".jobdefs-manifest.json"
CACHE_FOLDER = ".jobdefs-cache"
JOB_AIDS = "job-aids"
MATRIX = "internal-customer-matrix.xlsx"
DEPARTMENTS = "departments"
HANDBOOK = "handbook.docx"
HANDBOOK_PDF = "handbook.pdf"
SURVEYS = "surveys"
CONVERSATIONS_FILE = "patient-conversations.xlsx"  # in each round of surveys
JOURNEYS = "journeys"  # the journey documents, journeys/<journey-id>.docx
STATE_PREFIX = ".jobdefs-"  # the manifest, the cache and staging: never an output's path

# The manifest and each file of the cache are read whole, and an output folder can hold
# anything: 2,000 roles make a manifest of about half a megabyte and files of the cache of
# a megabyte or two each, so this is generous for any real organization while a file
# padded to gigabytes costs nothing but the check of its size.
STATE_FILE_MAX = 64 * 1024 * 1024

# Names Windows keeps for devices, with or without an extension: never a file or folder.
WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul"}) | {
    f"{port}{digit}" for port in ("com", "lpt") for digit in "123456789"
}


class Untrusted(Exception):
    """Something read back from an output folder or a cache that is not to be used."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str | None:
    try:
        return sha256(path.read_bytes())
    except OSError:
        return None


Stamp = tuple[int, int, int]  # a file's size, modification time (ns) and inode


def stamp(path: Path | str) -> Stamp | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_size, status.st_mtime_ns, status.st_ino


def describe(error: OSError) -> str:
    reason = error.strerror or str(error)
    if error.filename:
        return f"{reason} ({error.filename})"
    return reason


DISABLE_VARIABLE = "JOBDEFS_NO_CACHE"  # set to 1 to read every file afresh
FOLDER_VARIABLE = "JOBDEFS_CACHE_DIR"  # the user's cache folder (see user_folder)


def cache_enabled() -> bool:
    """False when JOBDEFS_NO_CACHE is set (to anything but 0)."""
    return os.environ.get(DISABLE_VARIABLE, "").strip() in ("", "0")


def user_folder() -> Path | None:
    """This user's jobdefs cache folder (JOBDEFS_CACHE_DIR, else the platform's user cache
    folder, e.g. ~/.cache/jobdefs): compiled templates and this machine's key; None when
    caching is switched off."""
    if not cache_enabled():
        return None
    chosen = os.environ.get(FOLDER_VARIABLE, "").strip()
    if chosen:
        return Path(chosen)
    import platformdirs

    return platformdirs.user_cache_path("jobdefs")


def safe_relative(path: str) -> bool:
    """A path that names something inside a folder, whatever a file or manifest says: not
    absolute, and every step a name (no `..`, `.` or empty step, no backslash or NUL)."""
    return (
        bool(path)
        and "\\" not in path
        and "\0" not in path
        and all(part not in ("", ".", "..") for part in path.split("/"))
    )


def inside(root: Path, relative: str) -> Path:
    """`root / relative`, after making sure that no step on the way below `root` is a link
    or a file; raises OutputError. `root` is the resolved output folder: the user may point
    it at a link of their choice, but below it jobdefs follows no link. The last step may be
    anything: what is there is replaced (a link itself, never what it points to)."""
    if not safe_relative(relative):
        raise OutputError(f"refusing a path outside the output folder: {relative!r}")
    folder = root
    for part in relative.split("/")[:-1]:
        folder = folder / part
        try:
            mode = os.lstat(folder).st_mode
        except FileNotFoundError:
            break  # the rest is made as a folder of the output folder's own
        except OSError as error:
            raise OutputError(f"cannot write to '{folder}': {describe(error)}") from None
        way = folder.relative_to(root).as_posix()
        if stat.S_ISLNK(mode):
            raise OutputError(
                f"'{way}' in the output folder is a link: jobdefs writes only inside the "
                "output folder and never follows a link there; remove the link (or point the "
                "output folder itself where the files should go)"
            )
        if not stat.S_ISDIR(mode):
            raise OutputError(
                f"'{way}' in the output folder is not a folder, but {relative} goes in it: "
                "move it away and build again"
            )
    return root / relative


def regular_bytes(path: Path | str, limit: int = STATE_FILE_MAX) -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them, not read through a
    link at its last step. Raises OSError when there is no such file, Untrusted when it is
    a link, a pipe, a device or a folder, or larger than `limit` (then nothing is read)."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise Untrusted("a link") from None
        raise
    with os.fdopen(handle, "rb") as stream:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode):
            raise Untrusted("not a regular file")
        if status.st_size > limit:
            raise Untrusted("too large")
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise Untrusted("too large")
    return data


def save_cache_file(folder: Path, name: str, document: object, ignore: bool = True) -> None:
    """Replace one cache file; a failure only costs the time the cache would save. Nothing
    is written when `folder` is a link: a cache goes in no folder an output folder points to."""
    if folder.is_symlink():
        return
    data = (
        document
        if isinstance(document, bytes)
        else json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    )
    # Like other tools' caches: version control and backups leave it alone.
    marker = {".gitignore": b"# made by jobdefs; safe to delete\n*\n"}
    with contextlib.suppress(OSError):
        if ignore and not (folder / ".gitignore").exists():
            replace_files(folder, marker)
        replace_files(folder, {name: data})


def replace_files(folder: Path, files: Mapping[str, bytes]) -> None:
    """Write each of `files` into `folder`, every one whole or none: raises OSError.

    Each is written to a new temporary file beside its place (created exclusively, so a
    link planted under that name is never followed), and only when all are written are
    they renamed into place, in name order.
    """
    folder.mkdir(parents=True, exist_ok=True)
    temporary: dict[str, str] = {}
    try:
        for name, data in sorted(files.items()):
            handle, temporary[name] = tempfile.mkstemp(
                prefix=f".{Path(name).name}.", suffix=".tmp", dir=(folder / name).parent
            )
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
        for name, temp in temporary.items():
            os.replace(temp, folder / name)
    finally:
        for temp in temporary.values():
            with contextlib.suppress(OSError):
                os.unlink(temp)


T = TypeVar("T")


def expect(value: Any, kind: type[T]) -> T:
    if type(value) is not kind:  # exactly: JSON gives no subclasses, and bool is not int
        raise Untrusted(f"expected {kind.__name__}")
    return value
