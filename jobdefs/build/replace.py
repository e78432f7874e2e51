"""Replacing outputs safely: a manifest, a staging folder, and all-or-nothing replacement.

Every output is first written into a staging folder inside the output folder (so the final
rename stays on one file system), and only when every file has been written are they
renamed into place. A build that fails or is interrupted before that point changes nothing.
The manifest records what the tool made, so it only ever removes its own files (and only
those still as it wrote them: build.current.ours_to_remove).

The manifest is read as a stranger's list: at most output.STATE_FILE_MAX bytes, never
through a link, any nesting; a path in it that leaves the output folder, or names the
folder's own state (.jobdefs-*), is dropped. Every path written, moved or removed is checked
on its way below the output folder (output.inside): a link to a folder there stops the
build before anything moves; a link or file where an output goes is replaced, never
followed; a folder where an output goes is refused.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from jobdefs.build.interrupt import all_or_nothing
from jobdefs.errors import OutputError
from jobdefs.output import (
    MANIFEST,
    STATE_FILE_MAX,
    STATE_PREFIX,
    Stamp,
    Untrusted,
    describe,
    inside,
    regular_bytes,
    safe_relative,
    sha256,
    stamp,
)

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
    notes: list[str] = field(default_factory=list)  # why it was not read, if it was not

    @classmethod
    def read(cls, output_dir: Path) -> Manifest:
        """What the manifest lists; empty when there is none, or it is foreign, damaged,
        over STATE_FILE_MAX or a link (said in a note: then nothing is removed, since
        nothing is known to be jobdefs's; every output is still made and compared)."""
        try:
            raw = json.loads(regular_bytes(output_dir / MANIFEST))
            if raw.get("version") != MANIFEST_VERSION:
                return cls()  # an earlier jobdefs's
            entries = {}
            for path, entry in raw["outputs"].items():
                digest, sha = entry["digest"], entry["sha256"]
                if type(digest) is not str or type(sha) is not str:
                    raise Untrusted("not text")
                if safe_relative(path) and not path.startswith(STATE_PREFIX):
                    entries[path] = Entry(digest, sha)
            return cls(entries)
        except FileNotFoundError:
            return cls()
        except (
            OSError,
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
            RecursionError,
            Untrusted,
        ):
            return cls(
                notes=[
                    f"the manifest ({MANIFEST}) is not one jobdefs wrote (damaged, a link, or "
                    f"over {STATE_FILE_MAX // (1024 * 1024)} MiB): it was ignored, so no "
                    "earlier output was removed, and a new one replaces it"
                ]
            )

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


class Staging:
    """New outputs written aside, then moved into place together by `commit`.

    `output_dir` is the output folder as resolved once (a link the user chose is followed
    there, and nowhere below it)."""

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
        inside(self.output_dir, path)  # a link on its way is refused before any move
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
        already moved is put back as it was. Every path is checked first: nothing moves
        while a link or a folder is in the way (OutputError).
        """
        for path in sorted(self.files):
            manifest.entries[path] = Entry(digests[path], self.files[path])
        removed = [path for path in remove if safe_relative(path)]
        for path in removed:
            manifest.entries.pop(path, None)
        for path in [*self.files, *removed, MANIFEST]:
            _check_place(self.output_dir, path)
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


def _check_place(root: Path, path: str) -> None:
    """Raise OutputError unless `path` can be replaced without following a link or
    removing a folder."""
    target = inside(root, path)
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise OutputError(f"cannot replace {path}: {describe(error)}") from None
    if stat.S_ISDIR(mode):
        raise OutputError(
            f"'{path}' in the output folder is a folder, where jobdefs writes a file: move it "
            "away and build again; no output was changed"
        )


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
