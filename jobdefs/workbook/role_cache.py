"""Role files already read: the same bytes are not parsed and checked a second time.

The cache lives in the output folder, which can arrive in anybody's commit, and its keys
(a path and a digest of the file's bytes) are computable by anybody: so each of its files
is sealed with this machine's key (`digests.sealed`), and one whose seal does not match,
or that is over `output.STATE_FILE_MAX`, or a link, is not used. A role read from the
cache is then one this machine read itself.
"""

from __future__ import annotations

import contextlib
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobdefs.digests import code_version, sealed, unsealed
from jobdefs.model import (
    Customer,
    FeedbackQuestion,
    Finding,
    Location,
    MomentOfTruth,
    Product,
    ReceivedProduct,
    Role,
    filled,
)
from jobdefs.output import (
    CACHE_FOLDER,
    Untrusted,
    cache_enabled,
    expect,
    regular_bytes,
    save_cache_file,
)

ROLE_SHARDS = 16  # roles-0.json to roles-f.json


def roles_file(path: str) -> str:
    """The file of the role cache that keeps the outcome of the role file at `path`."""
    return f"roles-{zlib.crc32(path.encode('utf-8', 'surrogatepass')) % ROLE_SHARDS:x}.json"


def roles_files() -> list[str]:
    return [f"roles-{number:x}.json" for number in range(ROLE_SHARDS)]


@dataclass(frozen=True)
class FileOutcome:
    """What reading one role file gave: its role (None when it is not a mapping) and findings."""

    role: Role | None
    findings: tuple[Finding, ...]


class RoleCache:
    """The outcomes of reading role files, by workbook-relative path and content digest.

    Each of the files (`roles_file`) is JSON Lines: a first line with this machine's seal
    of the file and the code version, then one line a role file, `<digest> <path as a
    JSON string>` and a tab before the outcome as JSON. A line is decoded only when its
    file is asked for, and written back as it was read when the file has not changed, so
    that keeping a thousand files costs little more than copying text; a file of the cache
    none of whose paths changed is not written at all.
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
        files cannot be fingerprinted. Empty, too, when the cache folder is a link: the
        output folder's links are never followed.
        """
        if not cache_enabled():
            return None
        try:
            version = code_version()
        except OSError:
            return None
        folder = output_dir / CACHE_FOLDER
        entries: dict[str, tuple[str, str]] = {}
        for name in [] if folder.is_symlink() else roles_files():
            # A file of the cache that cannot be read, or not trusted, only costs the time
            # its role files take to be read afresh.
            with contextlib.suppress(OSError, ValueError, Untrusted, RecursionError):
                entries.update(_read_shard(folder / name, name, version))
        return cls(folder, version, entries)

    def get(self, path: str, digest: str) -> FileOutcome | None:
        stored = self._stored.get(path)
        if stored is None or stored[0] != digest:
            return None
        try:
            outcome = _decode_outcome(path, _json_value(stored[1]))
        except (Untrusted, TypeError, ValueError, KeyError, IndexError, RecursionError):
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
            data = sealed(name, "\n".join([head, *lines]).encode())
            if data is not None:
                save_cache_file(self.folder, name, data)
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
    lines = unsealed(name, regular_bytes(file)).decode("utf-8").split("\n")
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
            else expect(json.loads(quoted), str)
        )
        if roles_file(path) != name:
            raise Untrusted(f"{path} does not belong in {name}")
        entries[path] = (digest, body)
    return entries


def _optional_text(value: Any) -> str | None:
    return None if value is None else expect(value, str)


def _encode_location(where: Location) -> list[Any]:
    return [where.line, where.column, where.key_path]


def _decode_location(file: str, value: Any) -> Location:
    # The hottest decoder (some twenty locations a role): its checks are written out, and
    # the tuple is made without the named tuple's own __new__, which takes twice as long.
    if type(value) is not list or len(value) != 3:
        raise Untrusted("location")
    line, column, key_path = value
    if (
        (type(line) is not int and line is not None)
        or (type(column) is not int and column is not None)
        or type(key_path) is not str
    ):
        raise Untrusted("location")
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
            [[q.text, q.asks] for q in role.feedback_questions],
            _encode_location(role.where),
            {key: _encode_location(where) for key, where in role.at.items()},
            [
                [
                    p.name,
                    p.description,
                    _encode_location(p.where),
                    [
                        [
                            c.need,
                            c.standard,
                            c.role,
                            c.external,
                            _encode_location(c.where),
                            _encode_location(c.standard_where) if c.standard_where else None,
                        ]
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
    value = expect(value, dict)
    findings = tuple(_decode_finding(item) for item in expect(value["findings"], list))
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
    ) = expect(encoded, list)
    at = expect(at, dict)
    role = filled(
        Role,
        {
            "id": expect(role_id, str),
            "file": file,
            "title": expect(title, str),
            "department": expect(department, str),
            "purpose": expect(purpose, str),
            "products": tuple([_decode_product(file, item) for item in expect(products, list)]),
            "reports_to": _optional_text(reports_to),
            "revision": expect(revision, str),
            "reviewed": expect(reviewed, str),
            "receives": tuple(
                [
                    filled(
                        ReceivedProduct,
                        {
                            "product": expect(product, str),
                            "supplier": expect(supplier, str),
                            "where": _decode_location(file, spot),
                        },
                    )
                    for product, supplier, spot in expect(receives, list)
                ]
            ),
            "moments_of_truth": tuple(
                [
                    filled(
                        MomentOfTruth,
                        {"moment": expect(moment, str), "practice": expect(practice, str)},
                    )
                    for moment, practice in expect(moments, list)
                ]
            ),
            "feedback_questions": tuple(
                [_decode_question(item) for item in expect(questions, list)]
            ),
            "where": _decode_location(file, where),
            "at": {expect(key, str): _decode_location(file, spot) for key, spot in at.items()},
        },
    )
    return FileOutcome(role, findings)


def _decode_question(value: Any) -> FeedbackQuestion:
    text, asks = expect(value, list)
    return FeedbackQuestion(expect(text, str), _optional_text(asks))


def _decode_product(file: str, value: Any) -> Product:
    name, description, where, customers = expect(value, list)
    made = []
    for need, standard, role, external, spot, standard_spot in expect(customers, list):
        if (
            type(need) is not str
            or type(standard) is not str
            or (role is not None and type(role) is not str)
            or (external is not None and type(external) is not str)
        ):
            raise Untrusted("customer")
        made.append(
            filled(
                Customer,
                {
                    "need": need,
                    "standard": standard,
                    "role": role,
                    "external": external,
                    "where": _decode_location(file, spot),
                    "standard_where": (
                        None if standard_spot is None else _decode_location(file, standard_spot)
                    ),
                },
            )
        )
    return filled(
        Product,
        {
            "name": expect(name, str),
            "customers": tuple(made),
            "description": expect(description, str),
            "where": _decode_location(file, where),
        },
    )


def _decode_finding(value: Any) -> Finding:
    severity, code, message, file, line, column, key_path = expect(value, list)
    if severity not in ("error", "warning"):
        raise Untrusted("severity")
    for number in (line, column):
        if number is not None:
            expect(number, int)
    return Finding(
        severity,
        expect(code, str),
        expect(message, str),
        expect(file, str),
        line,
        column,
        expect(key_path, str),
    )
