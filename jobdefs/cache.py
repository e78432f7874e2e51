"""Role files already read: the same bytes are not parsed and checked a second time.

Reading a role file (parsing it with positions, checking every key against the schema)
is most of what loading a large organization costs, and between two builds most files
have not changed. A build keeps what each file gave, its role and its findings, keyed by
the file's path and a digest of its bytes, in `.jobdefs-cache/roles-*.json` inside the
output folder: sixteen files, each of the paths that hash to it, so that a changed role
rewrites a sixteenth of the cache. Whatever changes the outcome of reading a file is part
of the key: its bytes and the code that reads it. Everything that spans files
(references, hand-offs, lines of sight) is worked out afresh on every load.

Beside it, `outputs.json` keeps what the build learnt of its outputs: each one's stamp
(size, modification time, inode) as this machine wrote it, so that telling whether a kept
output was changed by hand needs a stat rather than reading and hashing the file; for each
job aid and map, the digest of what it is made from and of what that gave, so that an
unchanged one is known without being made; and the template last checked. Stamps differ
from machine to machine, which is why they are not in the manifest, whose bytes every
build must reproduce.

The cache is JSON, never a pickle: an output folder can arrive in anybody's commit, and a
cache must be read as data, not run as code. Every value is checked as it is decoded;
anything unexpected discards that file of the cache, or that entry, which only costs the
time it saves.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import re
import sys
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import jobdefs
from jobdefs import __version__
from jobdefs.model import (
    Customer,
    Finding,
    Location,
    MomentOfTruth,
    Product,
    ReceivedProduct,
    Role,
    filled,
)
from jobdefs.output import Stamp

CACHE_FOLDER = ".jobdefs-cache"
ROLE_SHARDS = 16  # roles-0.json to roles-f.json


def roles_file(path: str) -> str:
    """The file of the role cache that keeps the outcome of the role file at `path`."""
    return f"roles-{zlib.crc32(path.encode('utf-8', 'surrogatepass')) % ROLE_SHARDS:x}.json"


def roles_files() -> list[str]:
    return [f"roles-{number:x}.json" for number in range(ROLE_SHARDS)]


OUTPUTS_FILE = "outputs.json"
DISABLE_VARIABLE = "JOBDEFS_NO_CACHE"  # set to 1 to read every file afresh
FOLDER_VARIABLE = "JOBDEFS_CACHE_DIR"  # where compiled templates are kept (see user_folder)


def content_digest(content: bytes) -> str:
    return hashlib.blake2b(content, digest_size=20).hexdigest()


@functools.cache
def code_version() -> str:
    """Changes whenever any of jobdefs's code, or Python itself, does.

    The whole package is a few hundred kilobytes: hashing all of it is quicker than being
    wrong about which module a cached value depends on.
    """
    hasher = hashlib.blake2b(digest_size=20)
    hasher.update(f"{__version__} {sys.version_info[:2]}".encode())
    root = package_root()
    for module in code_files():
        hasher.update(module.relative_to(root).as_posix().encode() + b"\x1f" + module.read_bytes())
    return hasher.hexdigest()


def package_root() -> Path:
    """The folder of the jobdefs package, wherever this module sits in it."""
    return Path(jobdefs.__file__).resolve().parent


def code_files() -> list[Path]:
    """Every module of the package, in every subpackage, in a stable order."""
    return sorted(package_root().rglob("*.py"))


@dataclass(frozen=True)
class FileOutcome:
    """What reading one role file gave: its role (None when it is not a mapping) and findings."""

    role: Role | None
    findings: tuple[Finding, ...]


class RoleCache:
    """The outcomes of reading role files, by workbook-relative path and content digest.

    Each of the files (`roles_file`) is JSON Lines: a first line with the code version,
    then one line a role file, `<digest> <path as a JSON string>` and a tab before the
    outcome as JSON. A line is decoded only when its file is asked for, and written back as
    it was read when the file has not changed, so that keeping a thousand files costs
    little more than copying text; a file of the cache none of whose paths changed is not
    written at all.
    """

    def __init__(self, folder: Path, version: str, entries: dict[str, tuple[str, str]]) -> None:
        self.folder = folder
        self.version = version
        self._stored = entries  # path -> (digest, outcome as JSON text), as read
        self._used: dict[str, tuple[str, str]] = {}  # what this load read, for the next one
        self.hits = 0

    @classmethod
    def open(cls, output_dir: Path) -> RoleCache | None:
        """The cache kept in `output_dir`; empty when missing, unreadable or out of date.

        None when caching is switched off (JOBDEFS_NO_CACHE=1) or the code that reads
        files cannot be fingerprinted.
        """
        if not enabled():
            return None
        try:
            version = code_version()
        except OSError:
            return None
        folder = output_dir / CACHE_FOLDER
        entries: dict[str, tuple[str, str]] = {}
        for name in roles_files():
            # A file of the cache that cannot be read, or not trusted, only costs the time
            # its role files take to be read afresh.
            with contextlib.suppress(OSError, ValueError, _Corrupt, RecursionError):
                entries.update(_read_shard(folder / name, name, version))
        return cls(folder, version, entries)

    def get(self, path: str, digest: str) -> FileOutcome | None:
        stored = self._stored.get(path)
        if stored is None or stored[0] != digest:
            return None
        try:
            outcome = _decode_outcome(path, _json_value(stored[1]))
        except (_Corrupt, TypeError, ValueError, KeyError, IndexError, RecursionError):
            return None
        self._used[path] = stored
        self.hits += 1
        return outcome

    def put(self, path: str, digest: str, outcome: FileOutcome) -> None:
        text = json.dumps(_encode_outcome(outcome), ensure_ascii=False, separators=(",", ":"))
        self._used[path] = (digest, text)

    @property
    def changed(self) -> bool:
        return bool(self._changed_files())

    def _changed_files(self) -> set[str]:
        """The files of the cache whose lines differ from what was read."""
        differ = self._used.keys() ^ self._stored.keys()
        differ.update(
            path for path, entry in self._used.items() if self._stored.get(path) is not entry
        )
        return {roles_file(path) for path in differ}

    def save(self) -> None:
        """Write the files of the cache whose lines changed; a failure only loses speed."""
        changed = self._changed_files()
        if not changed:
            return
        shards: dict[str, list[str]] = {name: [] for name in changed}
        for path, (digest, text) in sorted(self._used.items()):
            lines = shards.get(roles_file(path))
            if lines is not None:
                lines.append(f"{digest} {json.dumps(path, ensure_ascii=False)}\t{text}")
        head = json.dumps({"version": self.version})
        for name, lines in shards.items():
            _save(self.folder, name, "\n".join([head, *lines]).encode())
        with contextlib.suppress(OSError):  # where earlier builds kept them all in one
            (self.folder / "roles.json").unlink(missing_ok=True)


_decoder = json.JSONDecoder()


def _json_value(text: str) -> Any:
    """json.loads(text) for the compact JSON this cache writes, without its per-call work."""
    value, end = _decoder.raw_decode(text)
    if end != len(text):
        raise ValueError("more than one JSON value")
    return value


def _read_shard(file: Path, name: str, version: str) -> dict[str, tuple[str, str]]:
    lines = file.read_text(encoding="utf-8").split("\n")
    if json.loads(lines[0]) != {"version": version}:
        return {}
    entries = {}
    for line in lines[1:]:
        head, tab, body = line.partition("\t")
        digest, space, quoted = head.partition(" ")
        if not (tab and space):
            continue
        # A path without escapes is the text between its quotes.
        path = (
            quoted[1:-1]
            if "\\" not in quoted and quoted[:1] == quoted[-1:] == '"' and len(quoted) > 1
            else _check(json.loads(quoted), str)
        )
        if roles_file(path) != name:
            raise _Corrupt(f"{path} does not belong in {name}")
        entries[path] = (digest, body)
    return entries


def enabled() -> bool:
    """False when JOBDEFS_NO_CACHE is set (to anything but 0)."""
    return os.environ.get(DISABLE_VARIABLE, "").strip() in ("", "0")


Links = dict[str, str]  # role id -> its link line (see build.Plan)
# Two digests (of the role's file key and of its links key), then role ids.
_LINK = re.compile(r"[0-9a-f]{20} [0-9a-f]{20}(?: [a-z0-9-]+)*")


class OutputCache:
    """What a build remembers of its outputs, for the next build on this machine.

    `stamps`: each output's stamp as written, with the sha256 of its bytes. `digests`: for
    each job aid, the digest of its sources (`word.job_aid_sources`) and the digest of the
    context they gave, so that an unchanged job aid's context need not be made again.
    `template`: the sha256 of the job-aid template the last build checked and used.
    `links`: for each role, one line: a digest of its file's key, the key of its place
    among the others (`build.links_key`) and the roles its job aid shows something of;
    with `links_shared`, the digest of what every job aid and review workbook is made from
    besides role files. So a job aid none of whose roles changed, or a department none of
    whose members did, is known unchanged without its sources being worked out again.
    """

    def __init__(
        self,
        folder: Path,
        version: str,
        stamps: dict[str, tuple[Stamp, str]],
        digests: dict[str, tuple[str, str]],
        template: str = "",
        links: Links | None = None,
        links_shared: str = "",
    ) -> None:
        self.folder = folder
        self.version = version
        self.stamps = stamps
        self.digests = digests
        self.template = template
        self.links: Links = links or {}
        self.links_shared = links_shared

    @classmethod
    def open(cls, output_dir: Path) -> OutputCache:
        folder = output_dir / CACHE_FOLDER
        stamps: dict[str, tuple[Stamp, str]] = {}
        digests: dict[str, tuple[str, str]] = {}
        links: Links = {}
        template = links_shared = ""
        try:
            version = code_version()
        except OSError:
            version = ""
        try:
            raw = _check(json.loads((folder / OUTPUTS_FILE).read_bytes()), dict)
            if raw.get("version") != version or not version:
                raise _Corrupt("another version")
            for path, entry in _check(raw["stamps"], dict).items():
                size, modified, inode, sha = _check(entry, list)
                if all(type(n) is int for n in (size, modified, inode)):
                    stamps[path] = ((size, modified, inode), _check(sha, str))
            for path, entry in _check(raw["digests"], dict).items():
                sources, digest = _check(entry, list)
                digests[path] = (_check(sources, str), _check(digest, str))
            template = _check(raw["template"], str)
            links = _check(raw["links"], dict)
            if not all(type(line) is str and _LINK.fullmatch(line) for line in links.values()):
                raise _Corrupt("links")
            links_shared = _check(raw["links_shared"], str)
        except (OSError, ValueError, TypeError, KeyError, _Corrupt, RecursionError):
            stamps, digests, template, links, links_shared = {}, {}, "", {}, ""
        return cls(folder, version, stamps, digests, template, links, links_shared)

    def save(
        self,
        stamps: Mapping[str, tuple[Stamp | None, str]],
        digests: Mapping[str, tuple[str, str]],
        template: str,
        links: Links | None = None,
        links_shared: str = "",
    ) -> None:
        if not self.version:
            return
        links = links or {}
        fresh = {path: (stamp, sha) for path, (stamp, sha) in stamps.items() if stamp}
        if (
            fresh == self.stamps
            and digests == self.digests
            and template == self.template
            and links == self.links
            and links_shared == self.links_shared
        ):
            return
        _save(
            self.folder,
            OUTPUTS_FILE,
            {
                "version": self.version,
                "template": template,
                "stamps": {path: [*stamp, sha] for path, (stamp, sha) in sorted(fresh.items())},
                "digests": {path: list(pair) for path, pair in sorted(digests.items())},
                "links": dict(sorted(links.items())),
                "links_shared": links_shared,
            },
        )


# ---------------------------------------------------------------------------------------
# Compiled templates, kept per user


def user_folder() -> Path | None:
    """This user's jobdefs cache folder (JOBDEFS_CACHE_DIR, else the platform's user cache
    folder, e.g. ~/.cache/jobdefs); None when caching is switched off."""
    if not enabled():
        return None
    chosen = os.environ.get(FOLDER_VARIABLE, "").strip()
    if chosen:
        return Path(chosen)
    import platformdirs

    return platformdirs.user_cache_path("jobdefs")


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
            raw = _check(
                json.loads((self.folder / "templates" / f"{self.key}.json").read_bytes()), dict
            )
            parts = {}
            for name, entry in raw.items():
                prolog, source, fix_tables, variables = _check(entry, list)
                parts[_check(name, str)] = CleanPart(
                    _check(prolog, str),
                    _check(source, str),
                    _check(fix_tables, bool),
                    frozenset(_check(v, str) for v in _check(variables, list)),
                )
            return parts
        except (OSError, ValueError, _Corrupt, RecursionError):
            return None

    def save(self, parts: Mapping[str, CleanPart]) -> None:
        _save(
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


def _save(folder: Path, name: str, document: object, ignore: bool = True) -> None:
    """Replace one cache file; a failure only costs the time the cache would save."""
    data = (
        document
        if isinstance(document, bytes)
        else json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    )
    temporary = folder / f".{name}.{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Like other tools' caches: version control and backups leave it alone.
        marker = folder / ".gitignore"
        if ignore and not marker.exists():
            marker.write_text("# made by jobdefs; safe to delete\n*\n", encoding="utf-8")
        temporary.write_bytes(data)
        os.replace(temporary, folder / name)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------
# JSON <-> model. A location inside a role file is [line, column, key path]: the file is
# the cache entry's own path.


class _Corrupt(Exception):
    pass


T = TypeVar("T")


def _check(value: Any, kind: type[T]) -> T:
    if type(value) is not kind:  # exactly: JSON gives no subclasses, and bool is not int
        raise _Corrupt(f"expected {kind.__name__}")
    return value


def _optional_text(value: Any) -> str | None:
    return None if value is None else _check(value, str)


def _encode_location(where: Location) -> list[Any]:
    return [where.line, where.column, where.key_path]


def _decode_location(file: str, value: Any) -> Location:
    # The hottest decoder (some twenty locations a role): its checks are written out, and
    # the tuple is made without the named tuple's own __new__, which takes twice as long.
    if type(value) is not list or len(value) != 3:
        raise _Corrupt("location")
    line, column, key_path = value
    if (
        (type(line) is not int and line is not None)
        or (type(column) is not int and column is not None)
        or type(key_path) is not str
    ):
        raise _Corrupt("location")
    return _tuple(Location, (file, line, column, key_path))


_tuple = tuple.__new__


def _encode_outcome(outcome: FileOutcome) -> dict[str, Any]:
    role = outcome.role
    findings = [
        [f.severity, f.code, f.message, f.file, f.line, f.column, f.key_path]
        for f in outcome.findings
    ]
    if role is None:
        return {"role": None, "findings": findings}
    return {
        "findings": findings,
        "role": [
            role.id,
            role.title,
            role.department,
            role.purpose,
            role.reports_to,
            role.revision,
            role.reviewed,
            list(role.feedback_questions),
            _encode_location(role.where),
            {key: _encode_location(where) for key, where in role.at.items()},
            [
                [
                    p.name,
                    p.description,
                    _encode_location(p.where),
                    [
                        [c.need, c.standard, c.role, c.external, _encode_location(c.where)]
                        for c in p.customers
                    ],
                ]
                for p in role.products
            ],
            [[r.product, r.supplier, _encode_location(r.where)] for r in role.receives],
            [[m.moment, m.practice] for m in role.moments_of_truth],
        ],
    }


def _decode_outcome(file: str, value: Any) -> FileOutcome:
    value = _check(value, dict)
    findings = tuple(_decode_finding(item) for item in _check(value["findings"], list))
    encoded = value["role"]
    if encoded is None:
        return FileOutcome(None, findings)
    (
        role_id,
        title,
        department,
        purpose,
        reports_to,
        revision,
        reviewed,
        questions,
        where,
        at,
        products,
        receives,
        moments,
    ) = _check(encoded, list)
    at = _check(at, dict)
    role = filled(
        Role,
        {
            "id": _check(role_id, str),
            "file": file,
            "title": _check(title, str),
            "department": _check(department, str),
            "purpose": _check(purpose, str),
            "products": tuple([_decode_product(file, item) for item in _check(products, list)]),
            "reports_to": _optional_text(reports_to),
            "revision": _check(revision, str),
            "reviewed": _check(reviewed, str),
            "receives": tuple(
                [
                    filled(
                        ReceivedProduct,
                        {
                            "product": _check(product, str),
                            "supplier": _check(supplier, str),
                            "where": _decode_location(file, spot),
                        },
                    )
                    for product, supplier, spot in _check(receives, list)
                ]
            ),
            "moments_of_truth": tuple(
                [
                    filled(
                        MomentOfTruth,
                        {"moment": _check(moment, str), "practice": _check(practice, str)},
                    )
                    for moment, practice in _check(moments, list)
                ]
            ),
            "feedback_questions": tuple([_check(q, str) for q in _check(questions, list)]),
            "where": _decode_location(file, where),
            "at": {_check(key, str): _decode_location(file, spot) for key, spot in at.items()},
        },
    )
    return FileOutcome(role, findings)


def _decode_product(file: str, value: Any) -> Product:
    name, description, where, customers = _check(value, list)
    made = []
    for need, standard, role, external, spot in _check(customers, list):
        if (
            type(need) is not str
            or type(standard) is not str
            or (role is not None and type(role) is not str)
            or (external is not None and type(external) is not str)
        ):
            raise _Corrupt("customer")
        made.append(
            filled(
                Customer,
                {
                    "need": need,
                    "standard": standard,
                    "role": role,
                    "external": external,
                    "where": _decode_location(file, spot),
                },
            )
        )
    return filled(
        Product,
        {
            "name": _check(name, str),
            "customers": tuple(made),
            "description": _check(description, str),
            "where": _decode_location(file, where),
        },
    )


def _decode_finding(value: Any) -> Finding:
    severity, code, message, file, line, column, key_path = _check(value, list)
    if severity not in ("error", "warning"):
        raise _Corrupt("severity")
    for number in (line, column):
        if number is not None:
            _check(number, int)
    return Finding(
        severity,
        _check(code, str),
        _check(message, str),
        _check(file, str),
        line,
        column,
        _check(key_path, str),
    )
