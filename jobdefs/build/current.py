"""Which outputs are current, and which are ours to remove: decided by what the sources make
and what this machine wrote, never by what the output folder says of itself.

An output folder can arrive in anybody's commit with a manifest and a cache that agree
with whatever it holds. So an output is current only when

- this machine's sealed record (build.cache.OutputCache) says it wrote exactly these bytes
  there, made from this very digest, and the file still holds them
  (`OutputFolder.known_current`: a stat while its stamp holds, else a hash); or
- made again from the sources, it gives the same bytes (`same_bytes`): outputs are
  deterministic, so on a fresh clone a build or `--check` makes each output once and
  keeps (never rewrites) those that are identical (`OutputFolder.same_bytes`).

The manifest is a list of what jobdefs made, to tell what it may remove: only a regular
file it lists whose bytes are still the ones it wrote (`ours_to_remove`), never a folder,
a link, or a file changed by hand, which are kept and named in a note.
"""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from jobdefs.build.cache import Written
from jobdefs.build.replace import Manifest
from jobdefs.documents.review_workbooks import CARRIED
from jobdefs.errors import OutputError
from jobdefs.output import STATE_FILE_MAX, inside

_CHUNK = 1 << 20
_CORE_MAX = 64 * 1024  # docProps/core.xml: a title, a subject and two dates


class OutputFolder:
    """The output folder as one build or check looks at it: `root` is resolved once, and
    each folder on the way to its outputs is checked for links once (output.inside)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._prefix = os.path.join(root, "")
        self._clear: dict[str, bool] = {}  # folder below root -> no link or file on its way

    def _way_is_clear(self, path: str) -> bool:
        folder = path.rpartition("/")[0]
        clear = self._clear.get(folder)
        if clear is None:
            try:
                inside(self.root, path)
                clear = True
            except OutputError:
                clear = False
            self._clear[folder] = clear
        return clear

    def _regular(self, path: str) -> os.stat_result | None:
        """The status of the regular file at `path`, reached through no link; else None."""
        if not self._way_is_clear(path):
            return None
        try:
            status = os.lstat(self._prefix + path)
        except OSError:
            return None
        return status if stat.S_ISREG(status.st_mode) else None

    def present(self, path: str) -> bool:
        """Whether anything (a file, a folder, a link) sits at `path`, or a link on its way."""
        if not self._way_is_clear(path):
            return True  # a link or a file where a folder of outputs goes
        return os.path.lexists(self._prefix + path)

    def known_current(
        self, path: str, digest: str, record: Mapping[str, Written] | None
    ) -> str | None:
        """The sha256 of the output at `path` when this machine wrote exactly those bytes
        there from `digest` (a stat says so while its stamp holds; else they are hashed)."""
        written = record.get(path) if record else None
        if written is None or written[2] != digest:
            return None
        status = self._regular(path)
        if status is None or status.st_size != written[0][0]:
            return None
        if (status.st_size, status.st_mtime_ns, status.st_ino) == written[0]:
            return written[1]
        return written[1] if _file_sha256(self._prefix + path) == written[1] else None

    def same_bytes(self, path: str, data: bytes) -> bool:
        """Whether the regular file at `path` holds exactly `data` (read only when the
        sizes agree)."""
        status = self._regular(path)
        if status is None or status.st_size != len(data):
            return False
        try:
            with open(self._prefix + path, "rb") as stream:
                return stream.read(len(data) + 1) == data
        except OSError:
            return False

    def carried_answers(self, path: str) -> int:
        """How many review answers the workbook at `path` says it carries (its properties
        say so when a build carried them; see review_workbooks.carried_subject)."""
        status = self._regular(path)
        if status is None or status.st_size > STATE_FILE_MAX:
            return 0
        try:
            with zipfile.ZipFile(self._prefix + path) as archive:
                info = archive.getinfo("docProps/core.xml")
                if info.file_size > _CORE_MAX:
                    return 0
                found = CARRIED.search(archive.read(info).decode("utf-8", "replace"))
        except (OSError, KeyError, ValueError, RuntimeError, zipfile.BadZipFile, EOFError):
            return 0  # a stranger's file says nothing we need
        return int(found.group(1)) if found else 0

    def written_bytes(self, record: Mapping[str, Written] | None, path: str) -> bytes | None:
        """The bytes at `path` when they are exactly what this machine's record says it
        wrote there: an earlier output a workbook may build on (a stranger's may not)."""
        written = record.get(path) if record else None
        if written is None:
            return None
        status = self._regular(path)
        if status is None or status.st_size != written[0][0]:
            return None
        try:
            with open(self._prefix + path, "rb") as stream:
                data = stream.read(written[0][0] + 1)
        except OSError:
            return None
        return data if hashlib.sha256(data).hexdigest() == written[1] else None


def _file_sha256(path: str | Path) -> str | None:
    """The sha256 of a file's bytes, read in pieces (a stranger's file may be large)."""
    hasher = hashlib.sha256()
    try:
        with open(path, "rb", buffering=0) as stream:
            while piece := stream.read(_CHUNK):
                hasher.update(piece)
    except OSError:
        return None
    return hasher.hexdigest()


def ours_to_remove(
    root: Path, paths: Iterable[str], manifest: Manifest, record: Mapping[str, Written] | None
) -> tuple[list[str], list[str]]:
    """Of the outputs the manifest lists that no longer belong, those a build may remove,
    and a note for each of the others that is still there (it is kept: the manifest forgets
    it, so the note is said once)."""
    removable, notes = [], []
    for path in paths:
        entry = manifest.entries[path]
        try:
            target = inside(root, path)
            status = os.lstat(target)
        except OutputError:
            way = _blocked_step(root, path)
            notes.append(
                f"kept {path}: '{way}' is a link or a file, and jobdefs never follows a link "
                "in the output folder"
            )
            continue
        except OSError:
            continue  # gone already
        if not stat.S_ISREG(status.st_mode):
            notes.append(
                f"kept {path}: not a file jobdefs wrote (a folder, a link or a special file); "
                "remove it by hand if it is not wanted"
            )
            continue
        written = record.get(path) if record else None
        known = (
            written is not None
            and written[1] == entry.sha256
            and (status.st_size, status.st_mtime_ns, status.st_ino) == written[0]
        )
        if known or _file_sha256(target) == entry.sha256:
            removable.append(path)
        else:
            notes.append(
                f"kept {path}: changed since jobdefs wrote it; remove it by hand if it is "
                "not wanted"
            )
    return removable, notes


def _blocked_step(root: Path, path: str) -> str:
    """The first step on the way to `path` that is not a folder (a link, a file)."""
    parts = path.split("/")
    for end in range(1, len(parts)):
        way = "/".join(parts[:end])
        try:
            if not stat.S_ISDIR(os.lstat(root / way).st_mode):
                return way
        except OSError:
            break
    return path
