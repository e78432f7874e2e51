"""Model -> every output on disk: plan what is out of date, render it, replace it atomically.

Each output has a digest of everything it is rendered from (its render context, the
template, the tool's version and the date it carries). A build renders only the outputs
whose digest changed; `--check` compares digests without writing anything.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from jobdefs import __version__
from jobdefs.build.cache import Links, OutputCache
from jobdefs.build.replace import Manifest, Staging, is_current
from jobdefs.digests import code_version, content_digest
from jobdefs.errors import JobdefsError, OutputError
from jobdefs.model import HandOff, Organization, Role
from jobdefs.output import (
    DEPARTMENTS,
    HANDBOOK,
    HANDBOOK_PDF,
    JOB_AIDS,
    MATRIX,
    describe,
    sha256,
    stamp,
)
from jobdefs.workbook.dates import document_moment
from jobdefs.workbook.load import CONFIG_FILE, Workbook

PARALLEL_FROM = 24  # fewer job aids than this render faster in one process

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Target:
    """One output: where it goes, what it is made from, and how to make it."""

    path: str
    digest: str
    kind: str  # "job-aid", "handbook", "workbook" or "map"
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


def _digest(*parts: object) -> str:
    hasher = hashlib.sha256(__version__.encode())
    for part in parts:
        hasher.update(b"\x1e")
        hasher.update(part if isinstance(part, bytes) else str(part).encode())
    return hasher.hexdigest()


class Plan:
    """Every output a build makes, with its digest, and the means to render it.

    `figures` holds each role's scorecard figures (`scoring.role_figures`), when the build
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
    ) -> None:
        from jobdefs.documents import handoffs_sheet

        self.reviews: handoffs_sheet.CarriedReviews = reviews or handoffs_sheet.NO_REVIEWS
        from jobdefs.documents import word

        self.workbook = workbook
        self.output_dir = output_dir
        self.moment = document_moment(workbook.organization)
        self.template_path = word.job_aid_template_path(workbook.templates_dir)
        self.template_bytes = self.template_path.read_bytes()
        try:
            self.template_name = self.template_path.relative_to(workbook.root).as_posix()
        except ValueError:
            self.template_name = "the default job-aid template"
        organization = workbook.organization
        unknown = [role_id for role_id in only if not organization.has_role(role_id)]
        if unknown:
            raise JobdefsError(f"no role '{unknown[0]}' in this workbook", option="only")
        if only and handbook:
            raise JobdefsError(
                "--handbook binds every role's job aid, so it cannot be combined with --only"
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
        shared = _digest("job-aid sources", template_digest, self.moment, settings)
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
        # job aid shows something of (word.job_aid_sources).
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
                related, sight_shape = word.job_aid_sources(organization, role)
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
        from jobdefs.documents import handoff_map

        organization = self.workbook.organization
        reviews = self.reviews_text
        # Each role's id, file and bytes: the Roles sheet shows the file a role is read from.
        sources = "\x1e".join(self.files[role_id] for role_id in sorted(self.files))
        # The Findings sheet shows warnings that also depend on the day (review-due).
        warnings = "\x1e".join(
            f"{f.code}\x1f{f.file}\x1f{f.line}\x1f{f.column}\x1f{f.message}"
            for f in self.workbook.warnings
        )
        matrix = _digest("workbooks", self.moment, self.config_bytes, sources, reviews, warnings)
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
        from jobdefs.documents.handoffs_sheet import handoff_row
        from jobdefs.workbook import departments

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
        members = _department_members(organization, looked_at)
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
        from jobdefs.documents import xlsx

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
            from jobdefs.documents import handoff_map

            self.maps = handoff_map.maps(self.workbook.organization)
        return self.maps[path]

    def render_workbooks(
        self, wanted: set[str], previous: Callable[[str], bytes | None] = lambda path: None
    ) -> Iterator[tuple[str, bytes]]:
        """The organization-wide outputs in `wanted`: workbooks and maps.

        `previous(path)` gives the bytes an earlier build wrote there, when they are still
        as written: the workbooks reuse whatever parts of them did not change.
        """
        from jobdefs.documents import matrix, review_workbooks

        organization = self.workbook.organization
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
        from jobdefs.documents.handoff_map import DOT_FILE, MARKDOWN_FILE

        for path in (MARKDOWN_FILE, DOT_FILE):
            if path in wanted:
                yield path, self.map_bytes(path)


class _Contexts(Mapping[str, Mapping[str, Any]]):
    """Each role's job-aid context, made the first time it is asked for.

    A build that renders three job aids of a thousand makes three contexts: which job
    aids are out of date is known from `word.job_aid_sources`, not from the contexts.
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
            from jobdefs.documents import word

            role = self.organization.role(role_id)
            found = word.job_aid_context(self.organization, role, self.figures.get(role_id))
            self.made[role_id] = found
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self.role_ids)

    def __len__(self) -> int:
        return len(self.role_ids)


def _department_members(
    organization: Organization, departments: Sequence[str]
) -> dict[str, set[str]]:
    """The roles at either end of each department's hand-offs (departments.involves): the roles
    of the department that hand something over or receive something, and their partners."""
    members: dict[str, set[str]] = {department: set() for department in departments}
    for role in organization.roles:
        found = members.get(role.department)
        if found is None:
            continue
        for handoff in organization.handoffs_from(role.id):
            found.add(role.id)
            if handoff.customer.kind == "role":
                found.add(handoff.customer.id)
        for handoff in organization.handoffs_to(role.id):
            found.update((handoff.supplier.id, role.id))
    return members


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


# Job aids render in worker processes; each compiles the template once.
_worker_template: Any = None


def _start_worker(template_path: str) -> None:
    global _worker_template
    from jobdefs.documents import word

    _worker_template = word.load_job_aid_template(Path(template_path))


def _render_in_worker(job: tuple[dict[str, Any], datetime.datetime]) -> bytes:
    context, moment = job
    data: bytes = _worker_template.render(context, moment, title=context["role"]["title"])
    return data


def scorecard_figures(
    workbook: Workbook, surveys: Sequence[Path], baseline: Sequence[Path] = ()
) -> tuple[dict[str, dict[str, Any]] | None, list[str]]:
    """Each role's latest figures from answered `surveys` (files or folders), compared with
    `baseline`, and the notes that reading them gave; (None, []) without surveys."""
    if not surveys:
        if baseline:
            raise JobdefsError(
                "--scorecard-baseline needs --scorecard: the answered surveys of the latest "
                "round, to compare with the baseline"
            )
        return None, []
    from jobdefs.feedback import scoring

    card = scoring.make_scorecard(workbook.organization, list(surveys), list(baseline))
    figures = {role.id: scoring.role_figures(card, role.id) for role in workbook.organization.roles}
    return figures, [note.as_text() for note in card.notes]


def build(
    workbook: Workbook,
    *,
    output_dir: Path | None = None,
    only: Sequence[str] = (),
    force: bool = False,
    jobs: int | None = None,
    pdf: bool = False,
    progress: Progress | None = None,
    handbook: bool = False,
    scorecard: Sequence[Path] = (),
    scorecard_baseline: Sequence[Path] = (),
    reviews: Sequence[Path] = (),
) -> BuildReport:
    """Write every out-of-date output of `workbook`; all of them or, on failure, none.

    `handbook` also writes handbook.docx (and handbook.pdf under `pdf`); a later build
    without it keeps that handbook as it is. `scorecard` are answered surveys (files or
    folders) whose figures each job aid shows, compared with `scorecard_baseline`.
    `reviews` are reviewed workbooks whose still-valid answers the new review workbooks
    carry; answers to hand-offs changed since are left blank and marked.
    """
    from jobdefs.documents import word

    output_dir = output_dir or workbook.output_dir
    figures, notes = scorecard_figures(workbook, scorecard, scorecard_baseline)
    carried = carried_reviews(workbook, reviews)
    memory = _memory(workbook, output_dir)
    plan = Plan(
        workbook,
        output_dir,
        only,
        handbook=handbook,
        figures=figures,
        reviews=carried,
        remembered=memory.digests if memory else None,
        links=(memory.links_shared, memory.links) if memory else None,
    )
    # The template is checked, then compiled, before anything is written: a template HR
    # broke in Word is reported paragraph by paragraph and leaves every output as it was.
    # (Unless the last build here checked these very bytes with this very code.)
    if memory is None or memory.template != plan.template_digest:
        from jobdefs.documents import template_lint

        template_lint.check_template(plan.template_bytes, plan.template_name)
    manifest = Manifest.read(output_dir)
    known = memory.stamps if memory is not None else None
    report = BuildReport(notes=notes)
    todo = []
    for target in plan.targets:
        if not force and is_current(output_dir, target.path, target.digest, manifest, known):
            report.kept.append(target.path)
        else:
            todo.append(target)
    orphans = [] if plan.partial else _orphans(plan, manifest)
    digests = {t.path: t.digest for t in plan.targets}
    handbook_pdf = (
        pdf
        and handbook
        and plan.handbook is not None
        and (force or not is_current(output_dir, HANDBOOK_PDF, plan.handbook.digest, manifest))
    )
    job_aids = [t for t in todo if t.kind == "job-aid"]
    # Compiling the template is worth it only when a document made from it is due.
    template = (
        word.load_job_aid_template(plan.template_path, plan.template_name)
        if job_aids or handbook_pdf or plan.handbook in todo
        else None
    )
    with Staging(output_dir) as staging:
        total = len(todo)
        done = 0

        def advance() -> None:
            nonlocal done
            done += 1
            if progress:
                progress(done, total)

        rendered = _render_job_aids(plan, template, job_aids, jobs)
        for target, data in zip(job_aids, rendered, strict=True):
            staging.write(target.path, data)
            advance()
        for path, data in plan.render_workbooks(
            {t.path for t in todo}, partial(_as_written, output_dir, manifest)
        ):
            staging.write(path, data)
            advance()
        if plan.handbook is not None and (plan.handbook in todo or handbook_pdf):
            from jobdefs.documents.handbook import render_handbook

            assert template is not None
            made = render_handbook(
                workbook.organization, template, plan.contexts, plan.moment, handbook_pdf
            )
            if plan.handbook in todo:
                staging.write(HANDBOOK, made.docx)
                advance()
            if made.printable is not None:
                digests[HANDBOOK_PDF] = plan.handbook.digest
                _stage_handbook_pdf(plan, staging, made.printable)
        if pdf:
            _stage_pdfs(plan, staging, digests, manifest, force)
        staging.commit(manifest, digests, remove=orphans)
    if memory is not None and workbook.role_cache is not None:
        workbook.role_cache.save()
        stamps = {path: (staging.stamps.get(path), sha) for path, sha in staging.files.items()}
        for path in report.kept:  # found current a moment ago
            if path not in stamps and path in manifest.entries:
                sha = manifest.entries[path].sha256
                before = known.get(path) if known is not None else None
                # A stamp kept from before is as good as a new one: at worst it no longer
                # matches, and the next build hashes the file, as it would without it.
                stamps[path] = (
                    before
                    if before is not None and before[1] == sha
                    else (stamp(output_dir / path), sha)
                )
        remembered = dict(memory.digests) | plan.remembered if plan.partial else plan.remembered
        memory.save(stamps, remembered, plan.template_digest, plan.links, plan.links_shared)
    report.written = sorted(staging.files)
    report.kept = sorted(set(report.kept) - set(report.written))
    report.removed = sorted(orphans)
    return report


def _render_job_aids(
    plan: Plan, template: Any, targets: list[Target], jobs: int | None
) -> Iterator[bytes]:
    work = [(plan.contexts[t.role_id], plan.moment) for t in targets]
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(work) < PARALLEL_FROM:
        for context, moment in work:
            yield template.render(context, moment, title=context["role"]["title"])
        return
    from concurrent.futures import ProcessPoolExecutor

    chunk = max(1, len(work) // (workers * 8))
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_start_worker, initargs=(str(plan.template_path),)
    ) as pool:
        yield from pool.map(_render_in_worker, work, chunksize=chunk)


def _stage_pdfs(
    plan: Plan, staging: Staging, digests: dict[str, str], manifest: Manifest, force: bool
) -> None:
    """PDF copies of the job aids through LibreOffice, for the ones new or out of date."""
    from jobdefs.documents import word

    sources = []
    for target in plan.targets:
        if target.kind != "job-aid":
            continue
        pdf_path = target.path.removesuffix(".docx") + ".pdf"
        digests[pdf_path] = target.digest
        if force or not is_current(plan.output_dir, pdf_path, target.digest, manifest):
            staged = staging.folder / target.path
            sources.append(staged if staged.exists() else plan.output_dir / target.path)
    if not sources:
        return
    converted = staging.folder / ".pdf"
    word.convert_to_pdf(sources, converted)
    for source in sources:
        name = source.with_suffix(".pdf").name
        staging.write(f"{JOB_AIDS}/{name}", (converted / name).read_bytes())


def _stage_handbook_pdf(plan: Plan, staging: Staging, printable: bytes) -> None:
    """handbook.pdf through LibreOffice, from the variant whose contents it can number."""
    from jobdefs.documents import word

    source = staging.folder / ".handbook" / HANDBOOK
    try:
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_bytes(printable)
    except OSError as error:
        raise OutputError(f"could not write {HANDBOOK_PDF}: {describe(error)}") from None
    # A handbook is long: allow a few seconds a role on top of LibreOffice's start.
    timeout = 60 + 3 * len(plan.contexts)
    [converted] = word.convert_to_pdf([source], staging.folder / ".handbook-pdf", timeout)
    staging.write(HANDBOOK_PDF, converted.read_bytes())


def _memory(workbook: Workbook, output_dir: Path) -> OutputCache | None:
    """What the last build on this machine remembered of its outputs (jobdefs.build.cache), for a
    workbook loaded with its build cache and built into the same folder."""
    if workbook.role_cache is None or output_dir != workbook.output_dir:
        return None
    return OutputCache.open(output_dir)


def _as_written(output_dir: Path, manifest: Manifest, path: str) -> bytes | None:
    """The bytes of an earlier output, if they are still exactly what the build wrote."""
    entry = manifest.entries.get(path)
    if entry is None:
        return None
    try:
        data = (output_dir / path).read_bytes()
    except OSError:
        return None
    return data if sha256(data) == entry.sha256 else None


def _orphans(plan: Plan, manifest: Manifest) -> list[str]:
    """Outputs the manifest says we made that no longer correspond to anything.

    The handbook is optional, like the PDFs: a build that does not ask for it keeps the
    one an earlier build made (and `check` says when it is stale).
    """
    wanted = {t.path for t in plan.targets} | {HANDBOOK, HANDBOOK_PDF}
    wanted |= {p.removesuffix(".docx") + ".pdf" for p in wanted if p.endswith(".docx")}
    return sorted(p for p in manifest.entries if p not in wanted)


def carried_reviews(workbook: Workbook, files: Sequence[Path]) -> Any:
    """The answers of reviewed workbooks that new review workbooks should carry."""
    from jobdefs.documents import handoffs_sheet

    if not files:
        return handoffs_sheet.NO_REVIEWS
    from jobdefs.feedback import review

    result = review.review(workbook.organization, files)
    suspect = {
        handoff.id: (
            f"Changed since it was reviewed (then: {answer.status or 'no status'}"
            f"{', ' + answer.reviewer if answer.reviewer else ''}): review it again"
        )
        for handoff, answer in result.suspect
    }
    answers = {h.id: (a.status, a.reviewer, a.comment) for h, a in result.current}
    return handoffs_sheet.CarriedReviews(answers=answers, suspect=suspect)


def check(
    workbook: Workbook,
    *,
    output_dir: Path | None = None,
    handbook: bool = False,
    scorecard: Sequence[Path] = (),
    scorecard_baseline: Sequence[Path] = (),
    reviews: Sequence[Path] = (),
) -> BuildReport:
    """What a build with the same options would change, without writing anything."""
    output_dir = output_dir or workbook.output_dir
    figures, notes = scorecard_figures(workbook, scorecard, scorecard_baseline)
    memory = _memory(workbook, output_dir)  # read, never written
    plan = Plan(
        workbook,
        output_dir,
        handbook=handbook,
        figures=figures,
        reviews=carried_reviews(workbook, reviews),
        remembered=memory.digests if memory else None,
        links=(memory.links_shared, memory.links) if memory else None,
    )
    known = memory.stamps if memory is not None else None
    manifest = Manifest.read(output_dir)
    report = BuildReport(notes=notes)
    targets = {t.path: t for t in plan.targets}
    if plan.handbook is not None and HANDBOOK in manifest.entries:
        targets.setdefault(HANDBOOK, plan.handbook)  # made earlier: current or stale
    for target in targets.values():
        if not (output_dir / target.path).is_file():
            if target.path in {t.path for t in plan.targets}:
                report.missing.append(target.path)
        elif is_current(output_dir, target.path, target.digest, manifest, known):
            report.kept.append(target.path)
        else:
            report.stale.append(target.path)
    pdfs = {p for p in manifest.entries if p.endswith(".pdf")}
    report.orphaned = [
        p for p in _orphans(plan, manifest) if (output_dir / p).exists() and p not in pdfs
    ]
    for pdf_path in sorted(pdfs):  # PDFs are optional, but a stale one is still stale
        source = targets.get(pdf_path.removesuffix(".pdf") + ".docx")
        if source is None:
            if pdf_path != HANDBOOK_PDF or plan.handbook is None:
                report.orphaned.append(pdf_path)
            elif manifest.entries[pdf_path].digest != plan.handbook.digest:
                report.stale.append(pdf_path)
        elif manifest.entries[pdf_path].digest != source.digest:
            report.stale.append(pdf_path)
    return report
