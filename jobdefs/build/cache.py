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
(size, modification time, inode) as this machine wrote it, with the sha256 of the bytes
and the digest they were made from, so that telling whether a kept output is current needs
a stat rather than making it again, or reading and hashing it; for each
job aid and map, the digest of what it is made from and of what that gave, so that an
unchanged one is known without being made; and the template last checked. Stamps differ
from machine to machine, which is why they are not in the manifest, whose bytes every
build must reproduce.

The cache is JSON, never a pickle: an output folder can arrive in anybody's commit, and a
cache must be read as data, not run as code. Nor may it change what a document says or
make a stale output pass for current: each file of it is sealed with this machine's key
(`digests.sealed`), and one whose seal does not match, over `output.STATE_FILE_MAX`, or
read through a link is ignored. Every value is checked as it is decoded; anything
unexpected discards that file of the cache, or that entry, which only costs the time it
saves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

from jobdefs.digests import code_version, sealed, unsealed
from jobdefs.output import (
    CACHE_FOLDER,
    Stamp,
    Untrusted,
    expect,
    regular_bytes,
    save_cache_file,
)

OUTPUTS_FILE = "outputs.json"

# What this machine wrote at a path: its stamp then, the sha256 of the bytes, and the digest
# of what they were made from (build.Target.digest).
Written = tuple[Stamp, str, str]


Links = dict[str, str]  # role id -> its link line (see build.Plan)
# Two digests (of the role's file key and of its links key), then role ids.
_LINK = re.compile(r"[0-9a-f]{20} [0-9a-f]{20}(?: [a-z0-9-]+)*")


class OutputCache:
    """What a build remembers of its outputs, for the next build on this machine.

    `stamps`: each output's stamp as written, with the sha256 of its bytes and the digest
    of what they were made from (`Written`). `digests`: for
    each job aid, the digest of its sources (`job_aid.job_aid_sources`) and the digest of the
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
        stamps: dict[str, Written],
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
        stamps: dict[str, Written] = {}
        digests: dict[str, tuple[str, str]] = {}
        links: Links = {}
        template = links_shared = ""
        try:
            version = code_version()
        except OSError:
            version = ""
        try:
            if folder.is_symlink():
                raise Untrusted("a link")
            data = unsealed(OUTPUTS_FILE, regular_bytes(folder / OUTPUTS_FILE))
            raw = expect(json.loads(data), dict)
            if raw.get("version") != version or not version:
                raise Untrusted("another version")
            for path, entry in expect(raw["stamps"], dict).items():
                size, modified, inode, sha, made_from = expect(entry, list)
                if all(type(n) is int for n in (size, modified, inode)):
                    stamps[path] = (
                        (size, modified, inode),
                        expect(sha, str),
                        expect(made_from, str),
                    )
            for path, entry in expect(raw["digests"], dict).items():
                sources, digest = expect(entry, list)
                digests[path] = (expect(sources, str), expect(digest, str))
            template = expect(raw["template"], str)
            links = expect(raw["links"], dict)
            if not all(type(line) is str and _LINK.fullmatch(line) for line in links.values()):
                raise Untrusted("links")
            links_shared = expect(raw["links_shared"], str)
        except (OSError, ValueError, TypeError, KeyError, Untrusted, RecursionError):
            stamps, digests, template, links, links_shared = {}, {}, "", {}, ""
        return cls(folder, version, stamps, digests, template, links, links_shared)

    def save(
        self,
        stamps: Mapping[str, tuple[Stamp | None, str, str]],
        digests: Mapping[str, tuple[str, str]],
        template: str,
        links: Links | None = None,
        links_shared: str = "",
    ) -> None:
        if not self.version:
            return
        links = links or {}
        fresh = {path: (stamp, sha, made) for path, (stamp, sha, made) in stamps.items() if stamp}
        if (
            fresh == self.stamps
            and digests == self.digests
            and template == self.template
            and links == self.links
            and links_shared == self.links_shared
        ):
            return
        document = {
            "version": self.version,
            "template": template,
            "stamps": {
                path: [*stamp, sha, made] for path, (stamp, sha, made) in sorted(fresh.items())
            },
            "digests": {path: list(pair) for path, pair in sorted(digests.items())},
            "links": dict(sorted(links.items())),
            "links_shared": links_shared,
        }
        data = sealed(
            OUTPUTS_FILE, json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        )
        if data is not None:
            save_cache_file(self.folder, OUTPUTS_FILE, data)
