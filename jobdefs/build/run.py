"""Model -> every output on disk: plan what is out of date, render it, replace it atomically.

Each output has a digest of everything it is rendered from (its render context, the
template, the tool's version and the date it carries). An output this machine wrote from
the same digest, and that still holds those bytes, is kept without being made; any other
(on a fresh clone, every one) is made and compared with what is there (build.current):
a build keeps the identical ones and replaces the others, `--check` reports the others
as stale, without writing anything. What the output folder says of itself (its manifest,
a cache from elsewhere) never makes an output current.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from jobdefs.build import interrupt
from jobdefs.build.cache import OutputCache, Written
from jobdefs.build.carried import carried_reviews, dropped_answers
from jobdefs.build.current import OutputFolder, ours_to_remove
from jobdefs.build.lock import output_lock
from jobdefs.build.plan import (
    BuildReport,
    Plan,
    Target,
)
from jobdefs.build.replace import Entry, Manifest, Staging
from jobdefs.build.site_plan import SINGLE_FILE, is_site_path, single_file_notes, site_switches
from jobdefs.build.workers import parallel_map, stop_all
from jobdefs.documents import pdf, template_files, template_lint
from jobdefs.documents.handbook import render_handbook
from jobdefs.documents.journey_steps import StepFigures
from jobdefs.errors import JobdefsError, OutputError
from jobdefs.feedback import journey_score, role_figures, scoring
from jobdefs.output import (
    CACHE_FOLDER,
    DEPARTMENTS,
    HANDBOOK,
    HANDBOOK_PDF,
    JOB_AIDS,
    cache_enabled,
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
) -> tuple[dict[str, dict[str, Any]] | None, dict[str, StepFigures] | None, list[str]]:
    """Each role's latest figures from answered `surveys` (files or folders), compared with
    `baseline`, each hand-off's (for the journeys), and the notes that reading them gave;
    (None, None, []) without surveys."""
    if not surveys:
        if baseline:
            raise JobdefsError(
                "--scorecard-baseline needs --scorecard: the answered surveys of the latest "
                "round, to compare with the baseline",
                usage=True,
            )
        return None, None, []
    card = scoring.make_scorecard(workbook.organization, list(surveys), list(baseline))
    figures = {
        role.id: role_figures.role_figures(card, role.id) for role in workbook.organization.roles
    }
    return figures, journey_score.step_figures(card), [note.as_text() for note in card.notes]


def build(
    workbook: Workbook,
    *,
    wait: bool = False,
    waiting: Callable[[str], None] | None = None,
    **options: Any,
) -> BuildReport:
    """`_build` while holding the output folder's lock (jobdefs.build.lock): refused when
    another build holds it, or waited for under `wait` (`waiting` is told).

    SIGINT and SIGTERM raise interrupt.Interrupted, after every output was replaced or
    none (jobdefs.build.interrupt); worker processes are stopped whatever ends the build.
    """
    output_dir = options.get("output_dir") or workbook.output_dir
    lock = output_lock(output_dir, "build", wait=wait, waiting=waiting)
    with interrupt.signals_stop_the_build(), lock:
        try:
            return _build(workbook, **options)
        finally:
            stop_all()


def _build(
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
    site_single_file: bool | None = None,
) -> BuildReport:
    """Write every out-of-date output of `workbook`; all of them or, on failure, none.

    `handbook` also writes handbook.docx (and handbook.pdf under `pdf`); a later build
    without it keeps that handbook as it is. `scorecard` are answered surveys (files or
    folders) whose figures each job aid shows, compared with `scorecard_baseline`.
    `reviews` are reviewed workbooks whose still-valid answers the new review workbooks
    carry; answers to hand-offs changed since are left blank and marked. `site` writes
    the explorer (site/); by default unless jobdefs.yaml says `site: false`;
    `site_single_file` also site.html (site_plan.site_switches).
    """
    output_dir = output_dir or workbook.output_dir
    root = output_dir.resolve()  # followed once: below it, no link is
    folder = OutputFolder(root)
    figures, steps, notes = scorecard_figures(workbook, scorecard, scorecard_baseline)
    site = workbook.site if site is None else site
    single, single_notes = site_switches(site, site_single_file, workbook.site_single_file)
    carried = carried_reviews(workbook, reviews)
    memory = _memory(workbook, output_dir)
    history = memory if memory is not None else _record(root)
    plan = Plan(
        workbook,
        output_dir,
        only,
        handbook=handbook,
        figures=figures,
        step_figures=steps,
        reviews=carried,
        remembered=memory.digests if memory else None,
        links=(memory.links_shared, memory.links) if memory else None,
        site=site,
        single_file=single,
        jobs=jobs,
    )
    # The template is checked, then compiled, before anything is written: a template HR
    # broke in Word is reported paragraph by paragraph and leaves every output as it was.
    # (Unless the last build here checked these very bytes with this very code.)
    if memory is None or memory.template != plan.template_digest:
        template_lint.check_template(plan.template_bytes, plan.template_name)
    manifest = Manifest.read(root)
    record = history.stamps if history is not None else None
    report = BuildReport(
        notes=[*notes, *single_notes, *manifest.notes, *_cache_notes(root, history)]
    )
    kept: dict[str, str] = {}  # path -> the sha256 of its bytes, found current
    todo = []
    for target in plan.targets:
        sha = None if force else folder.known_current(target.path, target.digest, record)
        if sha is None:
            todo.append(target)
        else:
            kept[target.path] = sha
    orphans: list[str] = []
    left: list[str] = []
    if not plan.partial:
        unwanted = _orphans(plan, manifest)
        orphans, left_notes = ours_to_remove(root, unwanted, manifest, record)
        left = [p for p in unwanted if p not in orphans]
        report.notes += left_notes
    digests = {t.path: t.digest for t in plan.targets}
    handbook_pdf = (
        pdf
        and handbook
        and plan.handbook is not None
        and (force or folder.known_current(HANDBOOK_PDF, plan.handbook.digest, record) is None)
    )
    job_aids = [t for t in todo if t.kind == "job-aid"]
    # Compiling the template is worth it only when a document made from it is due.
    template = (
        template_files.load_job_aid_template(plan.template_path, plan.template_name)
        if job_aids or handbook_pdf or plan.handbook in todo
        else None
    )
    with Staging(root) as staging:
        total = len(todo)
        done = 0

        def stage(path: str, data: bytes) -> None:
            """Write `data` unless the file there holds these very bytes already."""
            nonlocal done
            if not force and folder.same_bytes(path, data):
                kept[path] = sha256(data)
            else:
                if not reviews and path.startswith(f"{DEPARTMENTS}/"):
                    report.notes += dropped_answers(path, folder.carried_answers(path))
                staging.write(path, data)
            done += 1
            if progress:
                progress(done, total)

        rendered = _render_job_aids(plan, template, job_aids, jobs)
        for target, data in zip(job_aids, rendered, strict=True):
            stage(target.path, data)
        for path, data in plan.render_workbooks(
            {t.path for t in todo}, partial(folder.written_bytes, record)
        ):
            stage(path, data)
        if plan.handbook is not None and (plan.handbook in todo or handbook_pdf):
            assert template is not None
            made = render_handbook(
                workbook.organization, template, plan.contexts, plan.moment, handbook_pdf
            )
            if plan.handbook in todo:
                stage(HANDBOOK, made.docx)
            if made.printable is not None:
                digests[HANDBOOK_PDF] = plan.handbook.digest
                _stage_handbook_pdf(plan, staging, made.printable)
        if pdf:
            _stage_pdfs(plan, staging, digests, partial(folder.known_current, record=record), force)
        for path, sha in kept.items():  # as found, whatever the manifest said of them
            manifest.entries[path] = Entry(digests[path], sha)
        for path in left:  # kept as they are, and no longer jobdefs's to remove
            manifest.entries.pop(path, None)
        staging.commit(manifest, digests, remove=orphans)
    if history is not None:
        stamps = _written(root, staging, kept, digests, record, manifest)
        if memory is not None and workbook.role_cache is not None:
            workbook.role_cache.save()
            memory.save(
                stamps,
                dict(memory.digests) | plan.remembered if plan.partial else plan.remembered,
                plan.template_digest,
                plan.links,
                plan.links_shared,
            )
        else:  # what it wrote, and nothing of how the workbook was read
            history.save(
                stamps, history.digests, history.template, history.links, history.links_shared
            )
    report.written = sorted(staging.files)
    report.kept = sorted(set(kept) - set(report.written))
    report.removed = sorted(orphans)
    earlier = manifest.entries.get(HANDBOOK)
    # A build without --handbook keeps an earlier handbook as it is: say when it went stale.
    if (
        not handbook
        and plan.handbook is not None
        and earlier is not None
        and earlier.digest != plan.handbook.digest
    ):
        report.notes.append(
            f"{HANDBOOK} was made by an earlier build and is now out of date: "
            "run 'jobdefs build --handbook' to bring it up to date"
        )
    earlier_single = manifest.entries.get(SINGLE_FILE)
    single_digest = plan.single_file.digest if plan.single_file else None
    digest_before = earlier_single.digest if earlier_single else None
    report.notes += single_file_notes(root, single, single_digest, digest_before)
    return report


def _written(
    root: Path,
    staging: Staging,
    kept: dict[str, str],
    digests: dict[str, str],
    record: dict[str, Written] | None,
    manifest: Manifest,
) -> dict[str, tuple[Any, str, str]]:
    """What this machine now knows it wrote: each output's stamp, sha256 and digest."""
    known: dict[str, tuple[Any, str, str]] = {
        # Outputs this build did not look at (PDFs, a handbook not asked for) stay known.
        path: written
        for path, written in (record or {}).items()
        if path in manifest.entries and path not in kept and path not in staging.files
    }
    for path, sha in kept.items():  # found current a moment ago
        before = record.get(path) if record is not None else None
        # A stamp kept from before is as good as a new one: at worst it no longer matches,
        # and the next build hashes the file, as it would without it.
        known[path] = (
            before
            if before is not None and before[1:] == (sha, digests[path])
            else (stamp(root / path), sha, digests[path])
        )
    for path, sha in staging.files.items():
        known[path] = (staging.stamps.get(path), sha, digests[path])
    return known


def _cache_notes(root: Path, memory: OutputCache | None) -> list[str]:
    if memory is None or not (root / CACHE_FOLDER).is_symlink():
        return []
    return [
        f"'{CACHE_FOLDER}' in the output folder is a link: jobdefs neither reads nor writes "
        "its cache through it, so every build makes every output; remove the link to keep it"
    ]


def _render_job_aids(
    plan: Plan, template: Any, targets: list[Target], jobs: int | None
) -> Iterator[bytes]:
    work = [(plan.contexts[t.role_id], plan.moment) for t in targets]
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(work) < PARALLEL_FROM:
        for context, moment in work:
            yield template.render(context, moment, title=context["role"]["title"])
        return
    yield from parallel_map(
        _render_in_worker,
        work,
        workers=workers,
        chunksize=max(1, len(work) // (workers * 8)),
        initializer=_start_worker,
        initargs=(str(plan.template_path),),
    )


def _stage_pdfs(
    plan: Plan,
    staging: Staging,
    digests: dict[str, str],
    known: Callable[[str, str], str | None],
    force: bool,
) -> None:
    """PDF copies of the job aids through LibreOffice, for the ones new or out of date
    (`known(path, digest)` gives the sha256 of a PDF this machine wrote from that digest)."""
    sources = []
    for target in plan.targets:
        if target.kind != "job-aid":
            continue
        pdf_path = target.path.removesuffix(".docx") + ".pdf"
        digests[pdf_path] = target.digest
        if force or known(pdf_path, target.digest) is None:
            staged = staging.folder / target.path
            sources.append(staged if staged.exists() else staging.output_dir / target.path)
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


def _record(root: Path) -> OutputCache | None:
    """What this machine wrote into `root`, for a build that does not remember the rest."""
    return OutputCache.open(root) if cache_enabled() else None


def _orphans(plan: Plan, manifest: Manifest) -> list[str]:
    """Outputs the manifest says we made that no longer correspond to anything.

    The handbook is optional, like the PDFs: a build that does not ask for it keeps the
    one an earlier build made (and `check` says when it is stale).
    """
    wanted = {t.path for t in plan.targets} | {HANDBOOK, HANDBOOK_PDF, SINGLE_FILE}
    wanted |= {p.removesuffix(".docx") + ".pdf" for p in wanted if p.endswith(".docx")}
    # A build without the site (--no-site, site: false) leaves the one made earlier as it is.
    kept = is_site_path if plan.site is None else lambda path: False
    return sorted(p for p in manifest.entries if p not in wanted and not kept(p))


def check(
    workbook: Workbook,
    *,
    output_dir: Path | None = None,
    handbook: bool = False,
    scorecard: Sequence[Path] = (),
    scorecard_baseline: Sequence[Path] = (),
    reviews: Sequence[Path] = (),
    site: bool | None = None,
    site_single_file: bool | None = None,
) -> BuildReport:
    """What a build with the same options would change, without writing anything.

    An output this machine's record does not vouch for is made and compared with the file
    (so on a fresh clone, every one): the folder's own manifest never makes it current.
    """
    output_dir = output_dir or workbook.output_dir
    root = output_dir.resolve()
    folder = OutputFolder(root)
    figures, steps, notes = scorecard_figures(workbook, scorecard, scorecard_baseline)
    memory = _memory(workbook, output_dir)  # read, never written
    site = workbook.site if site is None else site
    single, _ = site_switches(site, site_single_file, workbook.site_single_file)
    history = memory if memory is not None else _record(root)
    plan = Plan(
        workbook,
        output_dir,
        handbook=handbook,
        figures=figures,
        step_figures=steps,
        reviews=carried_reviews(workbook, reviews),
        remembered=memory.digests if memory else None,
        links=(memory.links_shared, memory.links) if memory else None,
        site=site,
        single_file=single,
    )
    record = history.stamps if history is not None else None
    manifest = Manifest.read(root)
    report = BuildReport(notes=notes)
    targets = {t.path: t for t in plan.targets}
    if plan.handbook is not None and HANDBOOK in manifest.entries:
        targets.setdefault(HANDBOOK, plan.handbook)  # made earlier: current or stale
    if plan.single_file is not None and SINGLE_FILE in manifest.entries:
        targets.setdefault(SINGLE_FILE, plan.single_file)  # the same
    unknown: list[Target] = []
    for target in targets.values():
        if folder.known_current(target.path, target.digest, record) is not None:
            report.kept.append(target.path)
        elif not folder.present(target.path):
            if target.path in {t.path for t in plan.targets}:
                report.missing.append(target.path)
        else:
            unknown.append(target)
    try:
        for path, data in _render(plan, unknown, partial(folder.written_bytes, record)):
            (report.kept if folder.same_bytes(path, data) else report.stale).append(path)
    finally:
        stop_all()  # the site's workers, had making a workbook failed before they were read
    pdfs = {p for p in manifest.entries if p.endswith(".pdf")}
    report.orphaned = [p for p in _orphans(plan, manifest) if folder.present(p) and p not in pdfs]
    for pdf_path in sorted(pdfs):  # PDFs are optional, but a stale one is still stale
        source = targets.get(pdf_path.removesuffix(".pdf") + ".docx")
        if source is None and pdf_path == HANDBOOK_PDF:
            source = plan.handbook
        if source is None:
            report.orphaned.append(pdf_path)
        elif folder.known_current(pdf_path, source.digest, record) is None and (
            # Made by LibreOffice, a PDF cannot be made again to be compared: without this
            # machine's record of it, the manifest's word for what it was made from is taken.
            manifest.entries[pdf_path].digest != source.digest
        ):
            report.stale.append(pdf_path)
    return report


def _render(
    plan: Plan, targets: Sequence[Target], previous: Callable[[str], bytes | None]
) -> Iterator[tuple[str, bytes]]:
    """Each of `targets` made afresh (for `check`, which compares and writes nothing)."""
    job_aids = [t for t in targets if t.kind == "job-aid"]
    wanted = {t.path for t in targets}
    template = (
        template_files.load_job_aid_template(plan.template_path, plan.template_name)
        if job_aids or HANDBOOK in wanted
        else None
    )
    rendered = _render_job_aids(plan, template, job_aids, None)
    for target, data in zip(job_aids, rendered, strict=True):
        yield target.path, data
    yield from plan.render_workbooks(wanted, previous)
    if HANDBOOK in wanted:
        assert template is not None
        made = render_handbook(plan.workbook.organization, template, plan.contexts, plan.moment)
        yield HANDBOOK, made.docx
