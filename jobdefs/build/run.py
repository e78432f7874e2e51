"""Model -> every output on disk: plan what is out of date, render it, replace it atomically.

Each output has a digest of everything it is rendered from (its render context, the
template, the tool's version and the date it carries). A build renders only the outputs
whose digest changed; `--check` compares digests without writing anything.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from jobdefs.build.cache import OutputCache
from jobdefs.build.plan import (
    BuildReport,
    Plan,
    Target,
)
from jobdefs.build.replace import Manifest, Staging, is_current
from jobdefs.build.site_plan import is_site_path
from jobdefs.documents import handoffs_sheet, pdf, template_files, template_lint
from jobdefs.documents.handbook import render_handbook
from jobdefs.errors import JobdefsError, OutputError
from jobdefs.feedback import review, scoring
from jobdefs.output import (
    HANDBOOK,
    HANDBOOK_PDF,
    JOB_AIDS,
    describe,
    sha256,
    stamp,
)
from jobdefs.workbook.load import Workbook

PARALLEL_FROM = 24  # fewer job aids than this render faster in one process

Progress = Callable[[int, int], None]


# Job aids render in worker processes; each compiles the template once.
_worker_template: Any = None


def _start_worker(template_path: str) -> None:
    global _worker_template
    _worker_template = template_files.load_job_aid_template(Path(template_path))


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
                "round, to compare with the baseline",
                usage=True,
            )
        return None, []
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
    site: bool | None = None,
) -> BuildReport:
    """Write every out-of-date output of `workbook`; all of them or, on failure, none.

    `handbook` also writes handbook.docx (and handbook.pdf under `pdf`); a later build
    without it keeps that handbook as it is. `scorecard` are answered surveys (files or
    folders) whose figures each job aid shows, compared with `scorecard_baseline`.
    `reviews` are reviewed workbooks whose still-valid answers the new review workbooks
    carry; answers to hand-offs changed since are left blank and marked. `site` writes
    the explorer (site/); by default unless jobdefs.yaml says `site: false`.
    """
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
        site=workbook.site if site is None else site,
    )
    # The template is checked, then compiled, before anything is written: a template HR
    # broke in Word is reported paragraph by paragraph and leaves every output as it was.
    # (Unless the last build here checked these very bytes with this very code.)
    if memory is None or memory.template != plan.template_digest:
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
        template_files.load_job_aid_template(plan.template_path, plan.template_name)
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
    pdf.convert_to_pdf(sources, converted)
    for source in sources:
        name = source.with_suffix(".pdf").name
        staging.write(f"{JOB_AIDS}/{name}", (converted / name).read_bytes())


def _stage_handbook_pdf(plan: Plan, staging: Staging, printable: bytes) -> None:
    """handbook.pdf through LibreOffice, from the variant whose contents it can number."""
    source = staging.folder / ".handbook" / HANDBOOK
    try:
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_bytes(printable)
    except OSError as error:
        raise OutputError(f"could not write {HANDBOOK_PDF}: {describe(error)}") from None
    # A handbook is long: allow a few seconds a role on top of LibreOffice's start.
    timeout = 60 + 3 * len(plan.contexts)
    [converted] = pdf.convert_to_pdf([source], staging.folder / ".handbook-pdf", timeout)
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
    # A build without the site (--no-site, site: false) leaves the one made earlier as it is.
    kept = is_site_path if plan.site is None else lambda path: False
    return sorted(p for p in manifest.entries if p not in wanted and not kept(p))


def carried_reviews(workbook: Workbook, files: Sequence[Path]) -> Any:
    """The answers of reviewed workbooks that new review workbooks should carry."""
    if not files:
        return handoffs_sheet.NO_REVIEWS
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
    site: bool | None = None,
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
        site=workbook.site if site is None else site,
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
