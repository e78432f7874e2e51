"""Replacing outputs safely: a manifest, a staging folder, and all-or-nothing replacement.

Every output is first written into a staging folder inside the output folder (so the final
rename stays on one file system), and only when every file has been written are they
renamed into place. A build that fails or is interrupted before that point changes nothing.
The manifest records what the tool made, so it only ever removes its own files.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from jobdefs.build.interrupt import all_or_nothing
from jobdefs.errors import OutputError
from jobdefs.output import MANIFEST, Stamp, describe, file_sha256, sha256, stamp

STAGING_PREFIX = ".jobdefs-staging-"


MANIFEST_VERSION = 1
_json_text = json.encoder.encode_basestring_ascii  # how json.dumps writes a string


class Entry(NamedTuple):
    """What the manifest remembers of one output."""

    digest: str  # of everything the output was rendered from
    sha256: str  # of the bytes written, to notice a file changed by hand


@dataclass
class Manifest:
    entries: dict[str, Entry] = field(default_factory=dict)

    @classmethod
    def read(cls, output_dir: Path) -> Manifest:
        try:
            raw = json.loads((output_dir / MANIFEST).read_text(encoding="utf-8"))
            if raw.get("version") != MANIFEST_VERSION:
                return cls()
            entries = {}
            for path, entry in raw["outputs"].items():
                digest, sha = entry["digest"], entry["sha256"]
                if type(digest) is not str or type(sha) is not str:
                    return cls()
                if safe_relative(path):
                    entries[path] = Entry(digest, sha)
            return cls(entries)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return cls()  # unreadable or foreign: treat every output as out of date

    def to_bytes(self) -> bytes:
        """The manifest as json.dumps(..., indent=1, sort_keys=True) writes it, made
        directly: the indenting encoder is pure Python, and there are thousands of outputs."""
        text = _json_text
        outputs = ",\n".join(
            f'  {text(path)}: {{\n   "digest": {text(entry.digest)},\n'
            f'   "sha256": {text(entry.sha256)}\n  }}'
            for path, entry in sorted(self.entries.items())
        )
        body = f"{{\n{outputs}\n }}" if outputs else "{}"
        return (
            f'{{\n "generator": "jobdefs",\n "outputs": {body},\n'
            f' "version": {MANIFEST_VERSION}\n}}\n'
        ).encode()


def safe_relative(path: str) -> bool:
    """A path that stays inside the output folder whatever a file or manifest says."""
    return (
        bool(path) and not path.startswith("/") and "\\" not in path and ".." not in path.split("/")
    )


def is_current(
    output_dir: Path,
    path: str,
    digest: str,
    manifest: Manifest,
    stamps: Mapping[str, tuple[Stamp, str]] | None = None,
) -> bool:
    """Whether `path` was made from `digest` and still holds the bytes the tool wrote.

    `stamps` are the outputs' stamps as this machine wrote them, with their sha256: while
    a file keeps its stamp it keeps its bytes, so it need not be read to be hashed (the
    shortcut version control takes too).
    """
    entry = manifest.entries.get(path)
    if entry is None or entry.digest != digest:
        return False
    known = stamps.get(path) if stamps else None
    if (
        known is not None
        and known[1] == entry.sha256
        and (stamp(os.path.join(output_dir, path)) == known[0])
    ):
        return True
    return file_sha256(output_dir / path) == entry.sha256


class Staging:
    """New outputs written aside, then moved into place together by `commit`."""

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir
        self.folder = output_dir / f"{STAGING_PREFIX}{os.getpid()}"
        self.files: dict[str, str] = {}  # relative path -> sha256 of the bytes
        self.stamps: dict[str, Stamp | None] = {}  # a rename into place keeps them

    def __enter__(self) -> Staging:
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            remove_stale_staging(self.output_dir)
            self.folder.mkdir()
        except OSError as error:
            raise OutputError(f"cannot write to '{self.output_dir}': {describe(error)}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def write(self, path: str, data: bytes) -> None:
        if not safe_relative(path):
            raise ValueError(f"refusing to write outside the output folder: {path!r}")
        target = self.folder / path
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as stream:
                stream.write(data)
        except OSError as error:
            raise OutputError(
                f"could not write {path}: {describe(error)}; no output was changed"
            ) from None
        self.files[path] = sha256(data)
        self.stamps[path] = stamp(target)

    @all_or_nothing  # SIGINT and SIGTERM wait: the moves finish or roll back
    def commit(
        self, manifest: Manifest, digests: Mapping[str, str], remove: Iterable[str] = ()
    ) -> None:
        """Move every staged file into place and remove `remove`, or change nothing.

        Each output it replaces or removes is first moved aside into the staging folder, so
        that if any step fails (a file locked by another program, a full disk) everything
        already moved is put back as it was.
        """
        for path in sorted(self.files):
            manifest.entries[path] = Entry(digests[path], self.files[path])
        removed = [path for path in remove if safe_relative(path)]
        for path in removed:
            manifest.entries.pop(path, None)
        aside = self.folder / ".replaced"
        moves: list[tuple[Path, Path | None]] = []  # (output, where its old bytes went)
        try:
            (self.folder / MANIFEST).write_bytes(manifest.to_bytes())
            changes: list[tuple[str, Path | None]] = [
                (path, self.folder / path) for path in sorted(self.files)
            ]
            changes += [(path, None) for path in removed]
            changes.append((MANIFEST, self.folder / MANIFEST))
            for path, new in changes:
                target = self.output_dir / path
                old: Path | None = None
                if target.exists() or target.is_symlink():
                    old = aside / path
                    old.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(target, old)
                moves.append((target, old))
                if new is not None:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(new, target)
        except OSError as error:
            self._put_back(moves)
            raise OutputError(
                f"could not replace the outputs: {describe(error)}; every output was left as it was"
            ) from None
        for path in removed:
            _remove_empty_parents((self.output_dir / path).parent, self.output_dir)

    @staticmethod
    def _put_back(moves: list[tuple[Path, Path | None]]) -> None:
        for target, old in reversed(moves):
            try:
                if old is not None:
                    os.replace(old, target)
                else:
                    target.unlink(missing_ok=True)
            except OSError:
                pass  # best effort: the original error is the one to report


def remove_stale_staging(output_dir: Path) -> None:
    """Staging folders left by a build that was killed; only ours, by their name."""
    for stale in output_dir.glob(f"{STAGING_PREFIX}*"):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)


def _remove_empty_parents(folder: Path, stop: Path) -> None:
    while folder != stop and stop in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
