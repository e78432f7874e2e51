"""The output folder's names, and the one way jobdefs writes a file: whole or not at all.

Every path an output folder holds is named here once, so that the build, the readers of
reviews and surveys and the tests agree on it. `replace_files` is how every command that
writes outside a build's staging folder (surveys, scorecards, schemas, caches) writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

MANIFEST = ".jobdefs-manifest.json"
CACHE_FOLDER = ".jobdefs-cache"
JOB_AIDS = "job-aids"
MATRIX = "internal-customer-matrix.xlsx"
DEPARTMENTS = "departments"
HANDBOOK = "handbook.docx"
HANDBOOK_PDF = "handbook.pdf"
SURVEYS = "surveys"

# Names Windows keeps for devices, with or without an extension: never a file or folder.
WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul"}) | {
    f"{port}{digit}" for port in ("com", "lpt") for digit in "123456789"
}


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


def cache_enabled() -> bool:
    """False when JOBDEFS_NO_CACHE is set (to anything but 0)."""
    return os.environ.get(DISABLE_VARIABLE, "").strip() in ("", "0")


def save_cache_file(folder: Path, name: str, document: object, ignore: bool = True) -> None:
    """Replace one cache file; a failure only costs the time the cache would save."""
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


class Untrusted(Exception):
    pass


T = TypeVar("T")


def expect(value: Any, kind: type[T]) -> T:
    if type(value) is not kind:  # exactly: JSON gives no subclasses, and bool is not int
        raise Untrusted(f"expected {kind.__name__}")
    return value
