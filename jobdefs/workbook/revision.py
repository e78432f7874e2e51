"""A workbook as a git revision holds it, read without trusting the revision.

`jobdefs diff` compares revisions that come with a pull request, so their trees are read
as a stranger's files. Git's listing gives each file's size before anything is read; only
the YAML files the loader could read are taken out of git (`git cat-file`, so no filter or
attribute of the revision applies), each within the role file's size limit, into a
temporary folder of plain folders and files: a link or a submodule in the revision is never
followed, only reported when the loader would have read it. What the revision's
jobdefs.yaml names must then lie inside that folder (see jobdefs.workbook.confined).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from jobdefs.errors import JobdefsError, NotAWorkbook
from jobdefs.model import Finding
from jobdefs.workbook.load import CONFIG_FILE, ROLE_SUFFIXES, Workbook, load_workbook
from jobdefs.workbook.schema import FILE_MAX_BYTES
from jobdefs.workbook.source import too_large

GIT_TIMEOUT = 120  # seconds; listing and reading a real workbook takes far less
# Files and folders git may list in the workbook's folder of a revision. A 2,000-role
# hospital with its outputs committed lists about 10,000; a tree made of one subtree
# repeated can claim billions while its objects stay tiny, so the listing is cut off.
MAX_LISTED = 200_000
# Folders and YAML files written out of a revision: ten times a 2,000-role hospital's.
MAX_EXPORTED = 20_000
# Bytes of YAML read out of a revision: a 2,000-role hospital's role files are 5.5 MB,
# and each side of a comparison is held in memory whole.
MAX_EXPORT_BYTES = 32 * 1024 * 1024
MAX_PATH_BYTES = 4096  # the longest path a record of git's listing may hold
REGULAR_MODES = frozenset({b"100644", b"100755"})
LINK_MODE = b"120000"


@dataclass(frozen=True)
class Revision:
    """A commit of the repository around a workbook, and where the workbook is in it."""

    spec: str
    commit: str
    top: Path
    folder: str  # the workbook's folder relative to the repository's top, '' at the top

    @property
    def name(self) -> str:
        return f"revision {self.spec} ({self.commit[:7]})"


def git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "--literal-pathspecs", *args],
            cwd=cwd,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise JobdefsError(
            "git is not installed, so revisions cannot be compared; "
            "pass two workbook folders instead"
        ) from None
    except subprocess.TimeoutExpired:
        raise _too_slow(args[0]) from None


def _too_slow(command: str) -> JobdefsError:
    return JobdefsError(
        f"git {command} took longer than {GIT_TIMEOUT} seconds; export the revisions "
        "with 'git worktree add' and compare the two folders instead"
    )


def find_revision(spec: str, workbook: Path) -> Revision:
    """The commit `spec` names in the repository that holds `workbook`."""
    where = workbook.resolve()
    neither = f"'{spec}' is neither a workbook folder nor a git revision"
    if not where.is_dir():
        raise NotAWorkbook(f"{neither} (and the workbook '{workbook}' is not a folder)")
    found = git(["rev-parse", "--show-toplevel", "--show-prefix"], where)
    if found.returncode != 0:
        said = os.fsdecode(found.stderr).strip().splitlines()
        # Say why when it is not the usual reason (e.g. git's "dubious ownership").
        why = f" ({said[0]})" if said and "not a git repository" not in said[0] else ""
        raise NotAWorkbook(f"{neither}: the workbook {where} is not in a git repository{why}")
    top, prefix = [*os.fsdecode(found.stdout).splitlines(), "", ""][:2]
    # A leading '-' would make git read the revision as an option.
    resolved = (
        None
        if spec.startswith("-")
        else git(["rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}"], where)
    )
    if resolved is None or resolved.returncode != 0:
        raise NotAWorkbook(
            f"{neither} of the repository at {top}; give a folder, a branch, "
            "a tag or a commit such as HEAD~1"
        )
    return Revision(spec, os.fsdecode(resolved.stdout).strip(), Path(top), prefix.rstrip("/"))


def load_revision(revision: Revision) -> Workbook:
    """The workbook as `revision` holds it, loaded contained in its own folder."""
    with tempfile.TemporaryDirectory(prefix="jobdefs-diff-") as temporary:
        root = Path(temporary)
        withheld = _export(revision, root)
        try:
            loaded = load_workbook(root, contained=True)
        except NotAWorkbook:
            raise NotAWorkbook(
                f"{revision.name} holds no workbook in "
                f"'{revision.folder or '.'}': neither jobdefs.yaml nor a roles/ folder"
            ) from None
        kept = _read_by_the_loader(loaded, withheld)
    if not kept:
        return loaded
    return dataclasses.replace(
        loaded, findings=tuple(sorted((*loaded.findings, *kept), key=Finding.sort_key))
    )


@dataclass
class _Listing:
    folders: list[str] = dataclasses.field(default_factory=list)
    files: list[tuple[str, bytes, int]] = dataclasses.field(default_factory=list)  # path, oid
    withheld: dict[str, Finding] = dataclasses.field(default_factory=dict)


def _export(revision: Revision, root: Path) -> dict[str, Finding]:
    """Write the revision's folders and YAML files into `root`; what was left out, and why."""
    listing = _Listing()
    for mode, kind, oid, size, path in _list_tree(revision):
        if kind == b"tree":
            listing.folders.append(path)
        elif mode == LINK_MODE:
            listing.withheld[path] = _not_followed(path, "a link", revision)
        elif kind == b"commit":
            listing.withheld[path] = _not_followed(path, "a submodule", revision)
        elif mode in REGULAR_MODES and path.endswith(ROLE_SUFFIXES) and size.isdigit():
            if int(size) > FILE_MAX_BYTES:
                listing.withheld[path] = too_large(path, int(size))
            else:
                listing.files.append((path, oid, int(size)))
    written = len(listing.folders) + len(listing.files)
    if written > MAX_EXPORTED:
        raise JobdefsError(
            f"{revision.name} holds {written:,} folders and YAML files in "
            f"'{revision.folder or '.'}'; the limit is {MAX_EXPORTED:,}, ten times what a "
            "large organization needs: compare two folders instead (git worktree add)"
        )
    total = sum(size for _, _, size in listing.files)
    if total > MAX_EXPORT_BYTES:
        raise JobdefsError(
            f"{revision.name} holds {total:,} bytes of YAML files in "
            f"'{revision.folder or '.'}'; the limit is {MAX_EXPORT_BYTES:,} bytes (32 MiB), "
            "several times what a large organization needs: compare two folders instead "
            "(git worktree add)"
        )
    try:
        for folder in listing.folders:
            root.joinpath(folder).mkdir(parents=True, exist_ok=True)
        for path, content in _read_blobs(revision, listing.files):
            target = root.joinpath(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "xb") as written_file:  # never through a link, never twice
                written_file.write(content)
    except OSError as error:
        raise JobdefsError(
            f"{revision.name} cannot be written out to be compared "
            f"({error.strerror or error}: {error.filename}); compare two folders instead "
            "(git worktree add)"
        ) from None
    return listing.withheld


def _not_followed(path: str, what: str, revision: Revision) -> Finding:
    return Finding(
        "error",
        "yaml-syntax",
        f"this is {what} in {revision.name}, and a comparison reads only the files a "
        f"revision holds, never what {what} points to: commit the files themselves",
        path,
        1,
        1,
    )


def _list_tree(revision: Revision) -> Iterator[tuple[bytes, bytes, bytes, bytes, str]]:
    """(mode, kind, object id, size, path) of everything below the workbook's folder."""
    tree = f"{revision.commit}:{revision.folder}"
    command = ["git", "ls-tree", "-r", "-t", "-z", "--long", tree]
    timed_out = threading.Event()
    with (
        tempfile.TemporaryFile() as errors,
        subprocess.Popen(
            command, cwd=revision.top, stdout=subprocess.PIPE, stderr=errors
        ) as process,
    ):

        def stop() -> None:
            timed_out.set()
            process.kill()

        timer = threading.Timer(GIT_TIMEOUT, stop)
        timer.start()
        try:
            assert process.stdout is not None
            entries = list(_records(process.stdout, revision))
        finally:
            timer.cancel()
            process.kill()  # when the listing was cut off
            process.wait()
        if timed_out.is_set():
            raise _too_slow("ls-tree")
        if process.returncode != 0:
            errors.seek(0)
            problem = errors.read(4096).decode(errors="replace").strip()
            if "Not a valid object name" in problem:
                raise NotAWorkbook(
                    f"{revision.name} has no folder '{revision.folder}': the "
                    "workbook did not exist there yet"
                )
            if "not a tree object" in problem:  # a link is never followed
                raise NotAWorkbook(
                    f"{revision.name} holds a link or a file at '{revision.folder}', not the "
                    "workbook's folder; a link in a revision is never followed"
                )
            raise JobdefsError(f"git could not list {revision.name}: {problem}")
    for record in entries:
        meta, _, raw = record.partition(b"\t")
        fields = meta.split()
        path = _safe_path(raw, revision)
        if len(fields) == 4:
            yield fields[0], fields[1], fields[2], fields[3], path


def _records(stream: IO[bytes], revision: Revision) -> Iterator[bytes]:
    """The NUL-ended records of git's listing, at most MAX_LISTED of them."""
    pending = b""
    count = 0
    while chunk := stream.read(1 << 16):
        *records, pending = (pending + chunk).split(b"\0")
        count += len(records)
        if count > MAX_LISTED:
            raise JobdefsError(
                f"{revision.name} lists more than {MAX_LISTED:,} files and folders in "
                f"'{revision.folder or '.'}', far more than a workbook holds: compare two "
                "folders instead (git worktree add)"
            )
        if len(pending) > MAX_PATH_BYTES + 100:
            raise JobdefsError(
                f"{revision.name} holds a path longer than {MAX_PATH_BYTES:,} bytes, which no "
                "workbook needs; the revision was made by hand: do not compare it"
            )
        yield from records


def _safe_path(raw: bytes, revision: Revision) -> str:
    """A path from git's listing, refused unless it stays below the folder it was listed in."""
    name = os.fsdecode(raw)
    parts = name.split("/")
    if (
        PurePosixPath(name).is_absolute()
        or any(part in ("", ".", "..") for part in parts)
        or "\\" in name
    ):
        raise JobdefsError(
            f"{revision.name} holds an unsafe path, {name!r}, which git itself refuses to "
            "check out; the revision was made by hand: do not compare it"
        )
    return name


def _read_blobs(
    revision: Revision, files: list[tuple[str, bytes, int]]
) -> Iterator[tuple[str, bytes]]:
    """Each file's bytes, read from git in one batch whose size is known beforehand."""
    if not files:
        return
    asked = b"".join(oid + b"\n" for _, oid, _ in files)
    try:
        done = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=revision.top,
            input=asked,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise _too_slow("cat-file") from None
    out = done.stdout
    at = 0
    for path, oid, size in files:
        end = out.find(b"\n", at)
        header = out[at:end].split()
        if end < 0 or header != [oid, b"blob", str(size).encode()]:
            problem = done.stderr.decode(errors="replace").strip()
            raise JobdefsError(f"git could not read {path} of {revision.name} {problem}".strip())
        yield path, out[end + 1 : end + 1 + size]
        at = end + 1 + size + 1


def _read_by_the_loader(loaded: Workbook, withheld: dict[str, Finding]) -> list[Finding]:
    """The findings for what was left out of the revision that the loader would have read:
    jobdefs.yaml, the roles folder or a folder on its way there, and the role files in it."""
    real = os.path.realpath(loaded.root)
    relative = os.path.relpath(os.path.realpath(loaded.roles_dir), real)
    roles = PurePosixPath(Path(relative).as_posix())
    kept = []
    for path, finding in withheld.items():
        where = PurePosixPath(path)
        if path == CONFIG_FILE or where == roles or where in roles.parents:
            kept.append(finding)
        elif roles == PurePosixPath(".") or roles in where.parents:
            below = where.relative_to(roles).parts if roles.parts else where.parts
            hidden = any(part.startswith((".", "_")) for part in below)
            if path.endswith(ROLE_SUFFIXES) and not hidden:
                kept.append(finding)
    return kept
