"""The plan of a build: every output, the digest of what it is made from, and the means
to make it.

A digest covers everything an output is rendered from (its render context, the template,
the tool's version and the date it carries); the plan knows which outputs are out of date
by comparing digests, often without making their contexts (see Plan).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobdefs import __version__
from jobdefs.build.cache import Links
from jobdefs.build.journey_plan import JourneyPlan, journeys_text
from jobdefs.build.site_plan import SINGLE_FILE, SitePlan
from jobdefs.digests import code_version, content_digest
from jobdefs.documents import (
    handoff_map,
    handoffs_sheet,
    job_aid,
    journeys_sheet,
    matrix,
    review_workbooks,
    template_files,
    xlsx,
)
from jobdefs.documents.handoff_map import DOT_FILE, MARKDOWN_FILE
from jobdefs.documents.handoffs_sheet import handoff_row
from jobdefs.documents.journey_steps import StepFigures
from jobdefs.errors import JobdefsError
from jobdefs.model import HandOff, Organization, Role
from jobdefs.output import (
    DEPARTMENTS,
    HANDBOOK,
    HANDBOOK_PDF,
    JOB_AIDS,
    MATRIX,
)
from jobdefs.text import ROLE_IDS_HINT, did_you_mean
from jobdefs.workbook import departments
from jobdefs.workbook.dates import document_moment
from jobdefs.workbook.load import CONFIG_FILE, Workbook


@dataclass(frozen=True)
class Target:
    """One output: where it goes, what it is made from, and how to make it."""

    path: str
    digest: str
    kind: str  # "job-aid", "handbook", "workbook", "map" or "site"
    role_id: str = ""


@dataclass
class BuildReport:
    """What a build did, or under `check` what it would have to do."""

    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. about the scorecard's surveys

    @property
    def up_to_date(self) -> bool:
        return not (self.missing or self.stale or self.orphaned)

    def remedy(self) -> str:
        """The build that brings every reported output up to date: the optional outputs
        (the handbook, PDFs) are remade only by a build that asks for them."""
        due = self.missing + self.stale
        options = []
        if any(path in (HANDBOOK, HANDBOOK_PDF) for path in due):
            options.append("--handbook")
        if any(path.endswith(".pdf") for path in due):
            options.append("--pdf")
        if SINGLE_FILE in due:
            options.append("--site-single-file")
        return " ".join(["jobdefs build", *options])


def _digest(*parts: object) -> str:
    hasher = hashlib.sha256(__version__.encode())
    for part in parts:
        hasher.update(b"\x1e")
        hasher.update(part if isinstance(part, bytes) else str(part).encode())
    return hasher.hexdigest()


class Plan:
    """Every output a build makes, with its digest, and the means to render it.

    `figures` holds each role's scorecard figures (`role_figures.role_figures`), when the build
    is given answered surveys; `handbook` adds handbook.docx to the outputs. `remembered`
    holds, by path, the digests of a job aid's sources and of its context from an earlier
    build (jobdefs.build.cache): a job aid whose sources are unchanged keeps its digest without
    its context being made. `links` are that build's `links_shared` and `links`: when no
    role changed its place among the others (`links_key`), a job aid none of whose roles
    changed keeps both digests without its sources being worked out, and so does a
    department's review workbook none of whose members changed.
    """

    def __init__(
        self,
        workbook: Workbook,
        output_dir: Path,
        only: Sequence[str] = (),
        *,
        handbook: bool = False,
        figures: Mapping[str, Mapping[str, Any]] | None = None,
        reviews: Any = None,
        remembered: Mapping[str, tuple[str, str]] | None = None,
        links: tuple[str, Links] | None = None,
        site: bool = False,
        single_file: bool = False,
        step_figures: Mapping[str, StepFigures] | None = None,
        jobs: int | None = None,
    ) -> None:
        self.jobs = jobs  # worker processes that may render the site's pages
        self.reviews: handoffs_sheet.CarriedReviews = reviews or handoffs_sheet.NO_REVIEWS
        self.workbook = workbook
        self.output_dir = output_dir
        self.moment = document_moment(workbook.organization)
        self.template_path = template_files.job_aid_template_path(workbook.templates_dir)
        self.template_bytes = self.template_path.read_bytes()
        try:
            self.template_name = self.template_path.relative_to(workbook.root).as_posix()
        except ValueError:
            self.template_name = "the default job-aid template"
        organization = workbook.organization
        unknown = [role_id for role_id in only if not organization.has_role(role_id)]
        if unknown:
            hint = did_you_mean(unknown[0], [role.id for role in organization.roles])
            raise JobdefsError(
                f"no role '{unknown[0]}' in this workbook{hint or ROLE_IDS_HINT}",
                option="only",
                usage=True,
            )
        if only and handbook:
            raise JobdefsError(
                "--handbook binds every role's job aid, so it cannot be combined with --only",
                usage=True,
            )
        if handbook and not organization.roles:
            raise JobdefsError(
                "there is no role to bind yet; add role files to the roles folder "
                "first (e.g. with 'jobdefs new')",
                option="handbook",
            )
        roles = [organization.role(r) for r in only] if only else list(organization.roles)
        self.figures = figures or {}
        self.contexts = _Contexts(organization, self.figures, [role.id for role in roles])
        self.template_digest = template_digest = hashlib.sha256(self.template_bytes).hexdigest()
        config = workbook.root / CONFIG_FILE
        self.config_bytes = config.read_bytes() if config.is_file() else b""
        settings = _digest(self.config_bytes, organization.name, organization.mission)
        self.files = files = _file_keys(workbook)
        remembered = self.remembered_before = remembered or {}
        self.remembered: dict[str, tuple[str, str]] = {}  # for the next build
        self.targets: list[Target] = []
        shared = _digest(
            "job-aid sources",
            template_digest,
            self.moment,
            settings,
            journeys_text(workbook.organization.journeys),
        )
        # The links stand for everything a job aid or a review workbook is made from besides
        # role files: so for the scorecard's figures, and the reviews, too.
        self.reviews_text = json.dumps(
            [sorted(self.reviews.answers.items()), sorted(self.reviews.suspect.items())],
            ensure_ascii=False,
        )
        self.links_shared = _digest(
            shared,
            self.reviews_text,
            json.dumps(self.figures, sort_keys=True, ensure_ascii=False) if self.figures else "",
        )
        # Each role's link line: a digest of its file's key, its links_key, and the roles its
        # job aid shows something of (job_aid.job_aid_sources).
        self.links: Links = {}  # for the next build
        file_digests = {role_id: _short_digest(key) for role_id, key in files.items()}
        before = (
            {}
            if only or self.figures
            else _links_before(organization, file_digests, self.links_shared, links)
        )
        self.links_hold = bool(before)
        self.changed = changed = {
            role_id
            for role_id, line in before.items()
            if not line.startswith(file_digests[role_id])
        }
        for role in roles:
            path = f"{JOB_AIDS}/{role.id}.docx"
            known = remembered.get(path)
            line = before.get(role.id)
            if (
                known is not None and line is not None and changed.isdisjoint(line.split(" ")[2:])
            ):  # the roles it shows
                # Its roles, its lines of sight and what they are made of are as remembered.
                inputs, digest = known
                self.links[role.id] = line
            else:
                related, sight_shape = job_aid.job_aid_sources(organization, role)
                figures = self.figures.get(role.id)
                figures_text = (
                    "null"
                    if figures is None
                    else json.dumps(figures, sort_keys=True, ensure_ascii=False)
                )
                inputs = _digest(
                    shared,
                    role.file,
                    figures_text,
                    "\x1f".join([files.get(role_id, role_id) for role_id in related]),
                    *sight_shape,
                )
                if known is not None and known[0] == inputs:
                    digest = known[1]
                else:
                    context = json.dumps(self.contexts[role.id], sort_keys=True, ensure_ascii=False)
                    digest = _digest("job-aid", template_digest, self.moment, context)
                place = (
                    _place(line) if line is not None and role.id not in changed else links_key(role)
                )
                self.links[role.id] = " ".join([file_digests[role.id], place, *related])
            self.remembered[path] = (inputs, digest)
            self.targets.append(Target(path, digest, "job-aid", role.id))
        self.partial = bool(only)
        self.maps: dict[str, bytes] = {}
        # Each department's hand-offs, once a department's workbook had to be looked at.
        self.by_department: dict[str, list[HandOff]] = {}
        # Computed even when the handbook is not asked for, so that a handbook made by an
        # earlier build can still be told current or stale.
        self.handbook = self._handbook_target() if not only else None
        if handbook and self.handbook is not None:
            self.targets.append(self.handbook)
        if not only:
            self.targets += self._workbook_targets()
        # The journey documents (a partial build leaves them as they are).
        self.step_figures = step_figures  # the journey documents' and pages' shares met
        self.journeys = JourneyPlan(workbook.organization, self.moment, step_figures)
        if not only:
            self.targets += [Target(p, d, "journey") for p, d in self.journeys.digests.items()]
        # The explorer, site/ (a partial build leaves it as it is).
        self.site = SitePlan(self) if site and not only else None
        if self.site is not None:
            self.remembered.update(self.site.remembered)
            self.targets += [Target(p, d, "site") for p, d in self.site.digests.items()]
        # site.html, made only when asked for; known even then, to be told current or stale.
        self.single_file = Target(SINGLE_FILE, self.site.single_file, "site") if self.site else None
        if single_file and self.single_file is not None:
            self.targets.append(self.single_file)

    def _handbook_target(self) -> Target:
        """handbook.docx changes whenever any job aid does, or their order does."""
        by_role = {t.role_id: t.digest for t in self.targets if t.kind == "job-aid"}
        order = [
            role.id
            for _, roles in self.workbook.organization.roles_by_department()
            for role in roles
        ]
        return Target(HANDBOOK, _digest("handbook", *(by_role[r] for r in order)), "handbook")

    def _workbook_targets(self) -> list[Target]:
        organization = self.workbook.organization
        reviews = self.reviews_text
        # Each role's id, file and bytes: the Roles sheet shows the file a role is read from.
        sources = "\x1e".join(self.files[role_id] for role_id in sorted(self.files))
        # The Findings sheet shows warnings that also depend on the day (review-due).
        warnings = "\x1e".join(
            f"{f.code}\x1f{f.file}\x1f{f.line}\x1f{f.column}\x1f{f.message}"
            for f in self.workbook.warnings
        )
        journeys = journeys_sheet.journeys_shown(organization)  # none: the digest as before
        matrix = _digest(
            "workbooks", self.moment, self.config_bytes, sources, reviews, warnings, *journeys
        )
        # The maps are known by their bytes; a build that remembers what they were drawn
        # from need not draw them again to know they have not changed.
        map_sources = _digest("map sources", handoff_map.map_sources(organization))
        map_digests = {}
        for path in (handoff_map.MARKDOWN_FILE, handoff_map.DOT_FILE):
            known = self.remembered_before.get(path)
            if known is not None and known[0] == map_sources:
                map_digests[path] = known[1]
            else:
                map_digests[path] = _digest("map", self.map_bytes(path))
            self.remembered[path] = (map_sources, map_digests[path])
        return [
            Target(MATRIX, matrix, "workbook"),
            *self._department_targets(reviews),
            *(Target(path, digest, "map") for path, digest in map_digests.items()),
        ]

    def _department_targets(self, reviews: str) -> list[Target]:
        """A department's review workbook changes only with the rows it holds.

        Those rows come from the files of the roles at either end of its hand-offs (a role
        that gains or loses one joins or leaves them), the department's name and the
        organization's settings: a build that remembers what these were need not make the
        rows to know that the workbook has not changed.
        """
        organization = self.workbook.organization
        slugs = departments.department_slugs(organization.departments())
        paths = {department: f"{DEPARTMENTS}/{slug}.xlsx" for department, slug in slugs.items()}
        looked_at = list(slugs)
        if self.links_hold:
            # No role moved among the others, so each department has the same members as
            # last time; a changed role is a member only of its own department and of those
            # at the other ends of its hand-offs. The others keep their remembered sources.
            touched = set()
            for role_id in self.changed:
                touched.add(organization.role(role_id).department)
                touched.update(
                    h.customer.department
                    for h in organization.handoffs_from(role_id)
                    if h.customer.kind == "role"
                )
                touched.update(h.supplier.department for h in organization.handoffs_to(role_id))
            looked_at = [
                department
                for department in slugs
                if department in touched or self.remembered_before.get(paths[department]) is None
            ]
        members = departments.department_members(organization, looked_at)
        inputs = {
            department: _digest(
                "department sources",
                self.moment,
                organization.name,
                department,
                self.config_bytes,
                reviews,
                "\x1f".join([self.files[role_id] for role_id in sorted(members[department])]),
            )
            for department in looked_at
        }
        for department in slugs:
            if department not in inputs:
                inputs[department] = self.remembered_before[paths[department]][0]
        kept = {}  # the content digests of the workbooks whose sources are as remembered
        for department, path in paths.items():
            known = self.remembered_before.get(path)
            if known is not None and known[0] == inputs[department]:
                kept[department] = known[1]
        grouped = self.by_department = departments.handoffs_by_department(
            organization, [department for department in slugs if department not in kept]
        )
        targets = []
        for department in sorted(slugs, key=slugs.__getitem__):
            digest = kept.get(department)
            if digest is None:
                # Cells cannot hold the separators (the loader refuses control characters),
                # so joining the rows' text is as unambiguous as JSON, and quicker.
                rows = "\x1e".join(
                    "\x1f".join(handoff_row(handoff, self.reviews))
                    for handoff in grouped[department]
                )
                digest = _digest("department", self.moment, organization.name, department, rows)
            self.remembered[paths[department]] = (inputs[department], digest)
            targets.append(Target(paths[department], digest, "workbook"))
        return targets

    def row_sources(self) -> Any:
        """xlsx.RowSources: each role's file, the code that read it, and every role's links
        (None when that code cannot be read: then every row is made)."""
        try:
            code = code_version()
        except OSError:
            return None
        structure = ""
        if self.links.keys() == self.files.keys():
            places = [_place(self.links[role.id]) for role in self.workbook.organization.roles]
            structure = _digest("links", self.config_bytes, *places)
        return xlsx.RowSources(self.files, code, structure)

    def map_bytes(self, path: str) -> bytes:
        if not self.maps:
            self.maps = handoff_map.maps(self.workbook.organization)
        return self.maps[path]

    def render_workbooks(
        self, wanted: set[str], previous: Callable[[str], bytes | None] = lambda path: None
    ) -> Iterator[tuple[str, bytes]]:
        """The organization-wide outputs in `wanted`: workbooks and maps.

        `previous(path)` gives the bytes an earlier build wrote there, when they are still
        as written: the workbooks reuse whatever parts of them did not change.
        """
        organization = self.workbook.organization
        # The site's pages first: they render in worker processes while the workbooks are made.
        site = self.site.render(wanted, previous) if self.site is not None else iter(())
        if MATRIX in wanted:
            yield (
                MATRIX,
                matrix.matrix_workbook(
                    organization,
                    self.workbook.warnings,
                    self.moment,
                    self.reviews,
                    previous=previous(MATRIX),
                    sources=self.row_sources(),
                ),
            )
        if any(path.startswith(DEPARTMENTS) for path in wanted):
            slugs = {
                path.removeprefix(f"{DEPARTMENTS}/").removesuffix(".xlsx")
                for path in wanted
                if path.startswith(f"{DEPARTMENTS}/")
            }
            earlier = {
                slug: data
                for slug in slugs
                if (data := previous(f"{DEPARTMENTS}/{slug}.xlsx")) is not None
            }
            for slug, data in review_workbooks.department_workbooks(
                organization,
                self.moment,
                self.reviews,
                only=slugs,
                previous=earlier,
                by_department=self.by_department,
            ).items():
                path = f"{DEPARTMENTS}/{slug}.xlsx"
                if path in wanted:
                    yield path, data
        for path in (MARKDOWN_FILE, DOT_FILE):
            if path in wanted:
                yield path, self.map_bytes(path)
        yield from self.journeys.render(wanted)
        yield from site


class _Contexts(Mapping[str, Mapping[str, Any]]):
    """Each role's job-aid context, made the first time it is asked for.

    A build that renders three job aids of a thousand makes three contexts: which job
    aids are out of date is known from `job_aid.job_aid_sources`, not from the contexts.
    """

    def __init__(
        self, organization: Organization, figures: Mapping[str, Any], role_ids: Sequence[str]
    ) -> None:
        self.organization = organization
        self.figures = figures
        self.role_ids = role_ids
        self.known = frozenset(role_ids)
        self.made: dict[str, Mapping[str, Any]] = {}

    def __getitem__(self, role_id: str) -> Mapping[str, Any]:
        found = self.made.get(role_id)
        if found is None:
            if role_id not in self.known:
                raise KeyError(role_id)
            role = self.organization.role(role_id)
            found = job_aid.job_aid_context(self.organization, role, self.figures.get(role_id))
            self.made[role_id] = found
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self.role_ids)

    def __len__(self) -> int:
        return len(self.role_ids)


def links_key(role: Role) -> str:
    """What of a role can change which roles another role's job aid shows, or the shape of
    its lines of sight: each product's name and customers in order, and the role's place in
    the order of roles (which decides between lines of sight of the same length). Whatever
    else it says (its manager, what it expects) only its own job aid shows, and changes its
    file's key; a test changes every line of a web of roles to check this."""
    parts = [role.id, role.department, role.title]
    for product in role.products:
        parts.append(
            "\x1d".join(
                [
                    product.name,
                    *(
                        customer.role
                        if customer.role is not None
                        else f"external:{customer.external}"
                        for customer in product.customers
                    ),
                ]
            )
        )
    return _short_digest("\x1f".join(parts))


def _place(line: str) -> str:
    """The links_key in a link line (cache.OutputCache checks each line's form on reading)."""
    return line.split(" ", 2)[1]


def _short_digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def _links_before(
    organization: Organization,
    file_digests: Mapping[str, str],
    shared: str,
    links: tuple[str, Links] | None,
) -> Links:
    """The links an earlier build remembered, when they still hold for every role: the
    same roles, the same settings and template, and every changed role in the same place
    among the others (so every job aid shows the same roles, and the same lines of sight,
    as then). Empty otherwise: then every job aid's sources are worked out."""
    if links is None or links[0] != shared or links[1].keys() != file_digests.keys():
        return {}
    before = links[1]
    for role_id, file_digest in file_digests.items():
        line = before[role_id]
        if not line.startswith(file_digest) and (
            _place(line) != links_key(organization.role(role_id))
        ):
            return {}
    return before


def _file_keys(workbook: Workbook) -> dict[str, str]:
    """Each role as `id=file=digest of the file's bytes` (of the role itself when it came
    from no file): what the digests of an output's sources are made of."""
    keys = {}
    known = workbook.role_digests
    for role in workbook.organization.roles:
        digest = known.get(role.id)
        if digest is None:
            content = workbook.role_sources.get(role.id)
            digest = content_digest(repr(role).encode() if content is None else content)
        keys[role.id] = f"{role.id}={role.file}={digest}"
    return keys
