"""Workbook folder -> validated model, with a finding for everything a person must fix."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import gc
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from jobdefs.digests import content_digest
from jobdefs.errors import NotAWorkbook
from jobdefs.model import (
    Customer,
    ExternalCustomer,
    Finding,
    Location,
    MomentOfTruth,
    Organization,
    Product,
    ReceivedProduct,
    Role,
    Settings,
    fold_name,
)
from jobdefs.workbook import analyze
from jobdefs.workbook.confined import Inside
from jobdefs.workbook.journeys import DEFAULT_FOLDER, read_journeys
from jobdefs.workbook.questions import read_questions
from jobdefs.workbook.records import FileReader, Record
from jobdefs.workbook.role_cache import FileOutcome, RoleCache
from jobdefs.workbook.schema import (
    ORGANIZATION,
    ROLE,
    ROLE_ID_MAX,
    ROLE_ID_PATTERN,
)
from jobdefs.workbook.source import Parsed, parse_source, read_source, read_yaml

CONFIG_FILE = "jobdefs.yaml"
ROLE_SUFFIXES = (".yaml", ".yml")
ROLE_ID = re.compile(ROLE_ID_PATTERN)


@dataclass(frozen=True)
class Workbook:
    """A loaded workbook: where it lives, the organization and every finding."""

    root: Path
    organization: Organization
    findings: tuple[Finding, ...]
    roles_dir: Path
    templates_dir: Path
    output_dir: Path
    journeys_dir: Path = Path(DEFAULT_FOLDER)
    site: bool = True  # whether a build writes the explorer (`site:` in jobdefs.yaml)
    site_single_file: bool = False  # and site.html, the explorer in one file
    role_sources: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)
    # cache.content_digest of each role's bytes, when the build cache needed them.
    role_digests: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    # What a build keeps of the role files it read, for the next build (see jobdefs.build.cache).
    role_cache: RoleCache | None = field(default=None, repr=False, compare=False)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.is_error)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.is_error)


def find_workbook(start: Path) -> Path:
    """The workbook `start` is in: `start` itself if it is one, else the nearest folder
    above it holding jobdefs.yaml (as git finds a repository from any of its folders), else
    `start`, for load_workbook to say what is missing."""
    config, roles = find_workbook_paths(start)
    if config.is_file() or roles.is_dir():
        return start
    for folder in start.resolve().parents:
        if (folder / CONFIG_FILE).is_file():
            return folder
    return start


def find_workbook_paths(root: Path) -> tuple[Path, Path]:
    """The config file and the folder that must exist for `root` to be a workbook."""
    return root / CONFIG_FILE, root / "roles"


def load_workbook(
    root: Path | str,
    *,
    review_date: datetime.date | None = None,
    output_dir: Path | None = None,
    cached: bool = False,
    contained: bool = False,
) -> Workbook:
    """Load and validate the workbook in `root`.

    `review_date` is the day review due dates are judged against (default: the day of
    SOURCE_DATE_EPOCH when set, else today). `output_dir` replaces the output folder
    jobdefs.yaml names. With `cached`, role files whose bytes have not changed since the
    last build into that folder are not read again (see jobdefs.build.cache); the build saves
    the cache once it succeeds. With `contained`, nothing outside `root` is read.
    """
    root = Path(root)
    if not root.is_dir():
        raise NotAWorkbook(f"'{root}' is not a folder")
    findings: list[Finding] = []
    inside = Inside(root, CONFIG_FILE) if contained else None
    config = _read_config(root, findings)
    if inside is not None:
        inside.check_folders(config)
    roles_dir = root / config.get("roles", "roles")
    if not (root / CONFIG_FILE).is_file() and not roles_dir.is_dir():
        raise NotAWorkbook(
            f"'{root}' is not a jobdefs workbook: it has neither {CONFIG_FILE} nor a roles/ "
            "folder. Run the command from the workbook's folder, pass --workbook DIR, or "
            "create one with 'jobdefs init'"
        )
    if not roles_dir.is_dir():
        where = config.location("roles") if isinstance(config, Record) else Location(CONFIG_FILE)
        findings.append(
            Finding.at(
                where,
                "error",
                "missing-key",
                f"the roles folder '{_relative(roles_dir, root)}' does not "
                "exist; create it or fix 'roles:' in jobdefs.yaml",
            )
        )
    externals = _external_customers(config)
    output_dir = output_dir or root / config.get("output", "build")
    cache = RoleCache.open(output_dir) if cached else None
    with _no_cycle_collection():
        roles, sources, digests, role_files = _read_roles(root, roles_dir, findings, cache, inside)
        settings = Settings(
            review_every_months=config.get("review_every_months"),
            warnings=dict(config.get("warnings", {})),
        )
        organization = analyze.organize(
            name=config.get("organization", root.resolve().name),
            mission=config.get("mission", ""),
            external_customers=externals,
            roles=roles,
            settings=settings,
            findings=findings,
            external_locations={
                k: v
                for k, v in config.get(
                    "external_customers", Record(Location(CONFIG_FILE))
                ).at.items()
            },
            review_date=review_date,
            broken_ids=frozenset(role_files) - {role.id for role in roles},
        )
        journeys_dir = root / config.get("journeys", DEFAULT_FOLDER)
        journeys = read_journeys(root, journeys_dir, organization, findings, inside)
        organization = dataclasses.replace(
            organization,
            journeys=journeys,
            discharge_questions=tuple(config.get("discharge_questions", ())),
        )
        findings[:] = [f for f in findings if f.is_error or settings.warns(f.code)]
    findings.sort(key=Finding.sort_key)
    return Workbook(
        root=root,
        organization=organization,
        findings=tuple(findings),
        roles_dir=roles_dir,
        templates_dir=root / config.get("templates", "templates"),
        output_dir=output_dir,
        journeys_dir=journeys_dir,
        site=config.get("site", True),
        site_single_file=config.get("site_single_file", False),
        role_sources=sources,
        role_digests=digests,
        role_cache=cache,
    )


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a model is built.

    Loading a thousand roles makes a few hundred thousand objects and no reference cycles:
    the collector would walk them all again and again as they are made, for nothing (a
    tenth of an incremental build). Memory is still freed as usual, by reference counts.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _read_config(root: Path, findings: list[Finding]) -> Record:
    path = root / CONFIG_FILE
    empty = Record(Location(CONFIG_FILE, 1, 1))
    if not path.is_file():
        return empty
    parsed = read_yaml(path, CONFIG_FILE)
    if parsed.root is None:
        assert parsed.finding is not None
        findings.append(parsed.finding)
        return empty
    reader = FileReader(CONFIG_FILE, findings, parsed.content)
    record = reader.mapping(parsed.root, ORGANIZATION, "")
    return record if record is not None else empty


def _external_customers(config: Record) -> tuple[ExternalCustomer, ...]:
    declared = config.get("external_customers", {})
    return tuple(
        ExternalCustomer(
            id=id_, name=entry.get("name", id_), description=entry.get("description", "")
        )
        for id_, entry in declared.items()
    )


def _role_files(root: Path, roles_dir: Path) -> list[tuple[str, str]]:
    """Every role file below `roles_dir` as (path relative to `root`, path), in the order
    of the relative paths, skipping . and _ names."""
    if not roles_dir.is_dir():
        return []
    found = []
    # Strings, not Paths, for the thousands of files of a large organization.
    prefix = os.path.join(str(root), "")
    for folder, subfolders, files in os.walk(roles_dir, onerror=None):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith((".", "_")))
        within = folder.startswith(prefix)
        for name in files:
            if name.startswith((".", "_")) or not name.endswith(ROLE_SUFFIXES):
                continue
            path = os.path.join(folder, name)
            relative = (
                path[len(prefix) :].replace(os.sep, "/") if within else _relative(Path(path), root)
            )
            found.append((relative, path))
    return sorted(found)


def _read_roles(
    root: Path,
    roles_dir: Path,
    findings: list[Finding],
    cache: RoleCache | None = None,
    inside: Inside | None = None,
) -> tuple[list[Role], dict[str, bytes], dict[str, str], dict[str, str]]:
    """The roles that loaded, their files' bytes and (with a cache) their digests, and every
    valid role id's file."""
    roles: list[Role] = []
    sources: dict[str, bytes] = {}
    digests: dict[str, str] = {}
    first_file: dict[str, str] = {}
    for relative, path in _role_files(root, roles_dir):
        role_id = os.path.basename(path).rsplit(".", 1)[0]
        if len(role_id) > ROLE_ID_MAX or not ROLE_ID.match(role_id):
            suggestion = re.sub(r"[^a-z0-9]+", "-", role_id.lower()).strip("-")[:ROLE_ID_MAX]
            findings.append(
                Finding(
                    "error",
                    "bad-role-id",
                    f"'{role_id}' is not a valid role id (the file's name without .yaml): use "
                    f"lower-case letters, digits and single hyphens, 1 to {ROLE_ID_MAX} "
                    f"characters"
                    + (
                        f", e.g. rename the file to '{suggestion}.yaml'"
                        if suggestion and ROLE_ID.match(suggestion)
                        else ""
                    ),
                    relative,
                    1,
                    1,
                )
            )
            continue
        if role_id in first_file:
            findings.append(
                Finding(
                    "error",
                    "duplicate-role-id",
                    f"the role id '{role_id}' is already used by {first_file[role_id]}; role ids "
                    "are unique across all sub-folders: rename one of the files",
                    relative,
                    1,
                    1,
                )
            )
            continue
        first_file[role_id] = relative
        if inside is not None and (outside := inside.refused(path, relative)):
            findings.append(outside)
            continue
        content = read_source(path, relative)
        if isinstance(content, Parsed):
            assert content.finding is not None
            findings.append(content.finding)
            continue
        digest = content_digest(content) if cache is not None else ""
        outcome = cache.get(relative, digest) if cache is not None else None
        if outcome is None:
            parsed = parse_source(content, relative)
            if parsed.root is None:
                assert parsed.finding is not None
                findings.append(parsed.finding)
                continue
            outcome = _read_role(role_id, relative, parsed)
            if cache is not None:
                cache.put(relative, digest, outcome)
        sources[role_id] = content
        if cache is not None:
            digests[role_id] = digest
        findings += outcome.findings
        if outcome.role is not None:
            roles.append(outcome.role)
    return roles, sources, digests, first_file


def _read_role(role_id: str, relative: str, parsed: Parsed) -> FileOutcome:
    """What one parsed role file gives on its own: its role and its findings."""
    assert parsed.root is not None
    findings: list[Finding] = []
    reader = FileReader(relative, findings, parsed.content)
    record = reader.mapping(parsed.root, ROLE, "")
    role = _role(role_id, relative, record, reader) if record is not None else None
    return FileOutcome(role, tuple(findings))


def _role(role_id: str, file: str, record: Record, reader: FileReader) -> Role:
    products = []
    seen_products: dict[str, Record] = {}
    for product in record.get("products", []):
        name = product.get("name")
        if name is not None:
            folded = fold_name(name)
            if folded in seen_products:
                first = seen_products[folded].where.line
                reader.findings.append(
                    Finding.at(
                        product.location("name"),
                        "error",
                        "duplicate-product",
                        f"the product '{name}' is listed twice in this role "
                        f"(first on line {first}); merge the two or rename one",
                    )
                )
                continue
            seen_products[folded] = product
        customers = [_customer(c, reader) for c in product.get("customers", [])]
        products.append(
            Product(
                name=name or "",
                description=product.get("description", ""),
                customers=tuple(c for c in customers if c is not None),
                where=product.where,
            )
        )
    return Role(
        id=role_id,
        file=file,
        title=record.get("title", role_id),
        department=record.get("department", ""),
        purpose=record.get("purpose", ""),
        products=tuple(products),
        reports_to=record.get("reports_to"),
        revision=record.get("revision", ""),
        reviewed=record.get("reviewed", ""),
        receives=tuple(
            ReceivedProduct(r["product"], r["from"], r.where)
            for r in record.get("receives", [])
            if "product" in r and "from" in r
        ),
        moments_of_truth=tuple(
            MomentOfTruth(m["moment"], m["practice"])
            for m in record.get("moments_of_truth", [])
            if "moment" in m and "practice" in m
        ),
        feedback_questions=read_questions(
            record.get("feedback_questions", []), products, reader.findings
        ),
        where=Location(file, 1, 1),
        at=dict(record.at),
    )


def _customer(record: Record, reader: FileReader) -> Customer | None:
    has_role, has_external = "role" in record.at, "external" in record.at
    if has_role == has_external:
        problem = "both 'role' and 'external'" if has_role else "neither 'role' nor 'external'"
        reader.findings.append(
            Finding.at(
                record.where,
                "error",
                "customer-kind",
                f"this customer has {problem}; give exactly one: 'role: <role id>' for a role "
                "in the organization or 'external: <id>' for a customer declared in jobdefs.yaml",
            )
        )
        return None
    if "need" not in record or ("role" not in record and "external" not in record):
        return None  # already reported
    return Customer(
        need=record["need"],
        standard=record.get("standard", ""),
        role=record.get("role"),
        external=record.get("external"),
        where=record.location("role" if has_role else "external"),
        standard_where=record.at.get("standard"),
    )
