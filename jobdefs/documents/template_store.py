"""Compiled job-aid templates, kept in the user's cache folder (`output.user_folder`), beside
the key that seals the caches kept in output folders (`digests.machine_key`)."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import jinja2

from jobdefs.digests import code_version
from jobdefs.output import Untrusted, expect, regular_bytes, save_cache_file, user_folder


@dataclass(frozen=True)
class CleanPart:
    """One templated part of a job-aid template after docxtpl's clean-up, ready to compile."""

    prolog: str  # the XML declaration, kept out of the template
    source: str  # the Jinja source
    fix_tables: bool  # whether rendering needs docxtpl's fix for column loops
    variables: frozenset[str]  # the names it uses from the context


class TemplateStore:
    """Job-aid templates as an earlier build cleaned up and compiled them.

    Compiling a template means importing docxtpl and python-docx for docxtpl's clean-up
    of Word's XML, then compiling the result with Jinja: together more than an
    incremental build's rendering and all its workbooks. The store keeps the cleaned-up
    parts as JSON, keyed by a digest of the template's bytes, of jobdefs's code and of
    docxtpl's, and Jinja's compiled code in Jinja's own bytecode cache, which checks each
    entry against the source it was compiled from.

    Both are code, not data: they live in the user's own cache folder, as Python keeps
    compiled modules, never in an output folder, which can arrive in anybody's commit.
    """

    def __init__(self, folder: Path, key: str) -> None:
        self.folder = folder
        self.key = key

    @classmethod
    def open(cls, template: bytes) -> TemplateStore | None:
        """The store for these template bytes; None when caching is switched off."""
        folder = user_folder()
        if folder is None:
            return None
        try:
            hasher = hashlib.blake2b(template, digest_size=20)
            hasher.update(code_version().encode())
            hasher.update(_docxtpl_version().encode())
        except OSError:
            return None
        return cls(folder, hasher.hexdigest())

    @property
    def bytecode_folder(self) -> Path:
        return self.folder / "jinja"

    def load(self) -> dict[str, CleanPart] | None:
        """The template's parts as cleaned up before, or None when not known (or damaged)."""
        try:
            raw = expect(
                json.loads(regular_bytes(self.folder / "templates" / f"{self.key}.json")), dict
            )
            parts = {}
            for name, entry in raw.items():
                prolog, source, fix_tables, variables = expect(entry, list)
                parts[expect(name, str)] = CleanPart(
                    expect(prolog, str),
                    expect(source, str),
                    expect(fix_tables, bool),
                    frozenset(expect(v, str) for v in expect(variables, list)),
                )
            return parts
        except (OSError, ValueError, Untrusted, RecursionError):
            return None

    def save(self, parts: Mapping[str, CleanPart]) -> None:
        save_cache_file(
            self.folder / "templates",
            f"{self.key}.json",
            {
                name: [part.prolog, part.source, part.fix_tables, sorted(part.variables)]
                for name, part in parts.items()
            },
            ignore=False,
        )


@functools.cache
def _docxtpl_version() -> str:
    """A digest of docxtpl's code, found without importing it (which is the cost saved)."""
    spec = importlib.util.find_spec("docxtpl")
    if spec is None or not spec.submodule_search_locations:
        raise OSError("docxtpl is not installed")
    hasher = hashlib.blake2b(digest_size=20)
    for module in sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.py")):
        hasher.update(module.name.encode() + b"\x1f" + module.read_bytes())
    return hasher.hexdigest()


class BytecodeCache(jinja2.FileSystemBytecodeCache):
    """Jinja's bytecode cache, for which a damaged or unwritable entry only costs time."""

    @classmethod
    def at(cls, folder: Path) -> BytecodeCache | None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        return cls(str(folder))

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # truncated, foreign or unreadable: compile afresh
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)
