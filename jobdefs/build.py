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
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobdefs import __version__
from jobdefs.errors import JobdefsError
from jobdefs.load import CONFIG_FILE, Workbook
from jobdefs.output import Manifest, Staging, is_current

JOB_AIDS = "job-aids"
MATRIX = "internal-customer-matrix.xlsx"
DEPARTMENTS = "departments"
PARALLEL_FROM = 24  # fewer job aids than this render faster in one process

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Target:
    """One output: where it goes, what it is made from, and how to make it."""

    path: str
    digest: str
    kind: str  # "job-aid", "workbook" or "map"
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

    @property
    def up_to_date(self) -> bool:
        return not (self.missing or self.stale or self.orphaned)


def document_moment(workbook: Workbook, environ: dict[str, str] | None = None) -> datetime.datetime:
    """The date every output carries: SOURCE_DATE_EPOCH when set, else from the inputs.

    Never the clock, so that building twice gives the same bytes. Without
    SOURCE_DATE_EPOCH it is the newest `reviewed` date of any role, else 1980-01-01
    (the earliest date a zip entry can hold).
    """
    environ = os.environ if environ is None else environ  # type: ignore[assignment]
    assert environ is not None
    epoch = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        if not epoch.isdigit():
            raise JobdefsError(
                f"SOURCE_DATE_EPOCH must be a whole number of seconds, not '{epoch}'"
            )
        moment = datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc)
        return moment.replace(tzinfo=None)
    reviewed = [role.reviewed for role in workbook.organization.roles if role.reviewed]
    if reviewed:
        return datetime.datetime.fromisoformat(max(reviewed))
    return datetime.datetime(1980, 1, 1)


def _digest(*parts: object) -> str:
    hasher = hashlib.sha256(__version__.encode())
    for part in parts:
        hasher.update(b"\x1e")
        hasher.update(part if isinstance(part, bytes) else str(part).encode())
    return hasher.hexdigest()


class Plan:
    """Every output a build makes, with its digest, and the means to render it."""

    def __init__(self, workbook: Workbook, output_dir: Path, only: Sequence[str] = ()) -> None:
        from jobdefs import word

        self.workbook = workbook
        self.output_dir = output_dir
        self.moment = document_moment(workbook)
        self.template_path = word.job_aid_template_path(workbook.templates_dir)
        self.template_bytes = self.template_path.read_bytes()
        try:
            self.template_name = self.template_path.relative_to(workbook.root).as_posix()
        except ValueError:
            self.template_name = "the default job-aid template"
        organization = workbook.organization
        unknown = [role_id for role_id in only if not organization.has_role(role_id)]
        if unknown:
            raise JobdefsError(f"--only: no role '{unknown[0]}' in this workbook")
        roles = [organization.role(r) for r in only] if only else list(organization.roles)
        self.contexts = {role.id: word.job_aid_context(organization, role) for role in roles}
        template_digest = hashlib.sha256(self.template_bytes).hexdigest()
        self.targets: list[Target] = [
            Target(
                f"{JOB_AIDS}/{role_id}.docx",
                _digest("job-aid", template_digest, self.moment,
                        json.dumps(context, sort_keys=True, ensure_ascii=False)),
                "job-aid",
                role_id,
            )
            for role_id, context in self.contexts.items()
        ]
        self.partial = bool(only)
        if not only:
            self.targets += self._workbook_targets()

    def _workbook_targets(self) -> list[Target]:
        from jobdefs import excel, handoff_map

        config = self.workbook.root / CONFIG_FILE
        sources = b"".join(
            role_id.encode() + b"\x1f" + content
            for role_id, content in sorted(self.workbook.role_sources.items())
        )
        inputs = _digest(
            "workbooks", self.moment, config.read_bytes() if config.is_file() else b"", sources
        )
        slugs = excel.department_slugs(self.workbook.organization.departments())
        self.department_slugs = slugs
        return [
            Target(MATRIX, inputs, "workbook"),
            *(Target(f"{DEPARTMENTS}/{slug}.xlsx", inputs, "workbook")
              for slug in sorted(slugs.values())),
            Target(handoff_map.MARKDOWN_FILE, inputs, "map"),
            Target(handoff_map.DOT_FILE, inputs, "map"),
        ]

    def render_workbooks(self, wanted: set[str]) -> Iterator[tuple[str, bytes]]:
        """The organization-wide outputs in `wanted`: workbooks and maps."""
        from jobdefs import excel, handoff_map

        organization = self.workbook.organization
        if MATRIX in wanted:
            yield MATRIX, excel.matrix_workbook(organization, self.workbook.warnings, self.moment)
        if any(path.startswith(DEPARTMENTS) for path in wanted):
            for slug, data in excel.department_workbooks(organization, self.moment).items():
                path = f"{DEPARTMENTS}/{slug}.xlsx"
                if path in wanted:
                    yield path, data
        if handoff_map.MARKDOWN_FILE in wanted:
            yield handoff_map.MARKDOWN_FILE, handoff_map.mermaid_markdown(organization).encode()
        if handoff_map.DOT_FILE in wanted:
            yield handoff_map.DOT_FILE, handoff_map.graphviz_dot(organization).encode()


# Job aids render in worker processes; each compiles the template once.
_worker_template: Any = None


def _start_worker(template_path: str) -> None:
    global _worker_template
    from jobdefs import word

    _worker_template = word.load_job_aid_template(Path(template_path))


def _render_in_worker(job: tuple[dict[str, Any], datetime.datetime]) -> bytes:
    context, moment = job
    data: bytes = _worker_template.render(context, moment, title=context["role"]["title"])
    return data


def build(
    workbook: Workbook,
    *,
    output_dir: Path | None = None,
    only: Sequence[str] = (),
    force: bool = False,
    jobs: int | None = None,
    pdf: bool = False,
    progress: Progress | None = None,
) -> BuildReport:
    """Write every out-of-date output of `workbook`; all of them or, on failure, none."""
    from jobdefs import word

    output_dir = output_dir or workbook.output_dir
    plan = Plan(workbook, output_dir, only)
    manifest = Manifest.read(output_dir)
    report = BuildReport()
    todo = []
    for target in plan.targets:
        if not force and is_current(output_dir, target.path, target.digest, manifest):
            report.kept.append(target.path)
        else:
            todo.append(target)
    orphans = [] if plan.partial else _orphans(plan, manifest)
    # Compiled here first so that a template error is reported before anything is written.
    template = word.load_job_aid_template(plan.template_path, plan.template_name)
    digests = {t.path: t.digest for t in plan.targets}
    with Staging(output_dir) as staging:
        job_aids = [t for t in todo if t.kind == "job-aid"]
        total = len(todo)
        done = 0
        for target, data in zip(job_aids, _render_job_aids(plan, template, job_aids, jobs)):
            staging.write(target.path, data)
            done += 1
            if progress:
                progress(done, total)
        for path, data in plan.render_workbooks({t.path for t in todo}):
            staging.write(path, data)
            done += 1
            if progress:
                progress(done, total)
        if pdf:
            _stage_pdfs(plan, staging, digests, manifest, force)
        staging.commit(manifest, digests, remove=orphans)
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
    chunk = max(1, len(work) // (workers * 8))
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_start_worker, initargs=(str(plan.template_path),)
    ) as pool:
        yield from pool.map(_render_in_worker, work, chunksize=chunk)


def _stage_pdfs(
    plan: Plan, staging: Staging, digests: dict[str, str], manifest: Manifest, force: bool
) -> None:
    """PDF copies of the job aids through LibreOffice, for the ones new or out of date."""
    from jobdefs import word

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


def _orphans(plan: Plan, manifest: Manifest) -> list[str]:
    """Outputs the manifest says we made that no longer correspond to anything."""
    wanted = {t.path for t in plan.targets}
    wanted |= {p.removesuffix(".docx") + ".pdf" for p in wanted if p.endswith(".docx")}
    return sorted(p for p in manifest.entries if p not in wanted)


def check(workbook: Workbook, *, output_dir: Path | None = None) -> BuildReport:
    """What a build would change, without writing anything."""
    output_dir = output_dir or workbook.output_dir
    plan = Plan(workbook, output_dir)
    manifest = Manifest.read(output_dir)
    report = BuildReport()
    for target in plan.targets:
        if not (output_dir / target.path).is_file():
            report.missing.append(target.path)
        elif is_current(output_dir, target.path, target.digest, manifest):
            report.kept.append(target.path)
        else:
            report.stale.append(target.path)
    pdfs = {p for p in manifest.entries if p.endswith(".pdf")}
    report.orphaned = [p for p in _orphans(plan, manifest)
                       if (output_dir / p).exists() and p not in pdfs]
    for pdf_path in sorted(pdfs):  # PDFs are optional, but a stale one is still stale
        docx = pdf_path.removesuffix(".pdf") + ".docx"
        target = next((t for t in plan.targets if t.path == docx), None)
        if target is None:
            report.orphaned.append(pdf_path)
        elif manifest.entries[pdf_path].digest != target.digest:
            report.stale.append(pdf_path)
    return report
