"""The site's part of a build: each page of `site/`, the digest of what it is made from,
and its bytes when they have to be made.

A page is known by the digest of what it is made from (the files of the roles it shows,
`pages.SitePages.sources`, or for a role page its job aid's sources, with everything every
page shows), like a job aid: planning renders nothing, and a build renders only the pages
whose sources changed, in worker processes when there are many (a cold build renders them
all). So an edit makes only the pages that show the edited role, plus the few that show
every role (the index, the matrix, the search index, the external customers), and the
build rewrites only the pages whose bytes changed (`same_bytes` in jobdefs.build.run).

site.html, the whole site in one file (`--site-single-file`), is made from every page: its
digest is of theirs, and when it is due it is made from the pages this build makes and
the bytes of the others as this machine wrote them (pages it cannot vouch for are made
again). Like the handbook it is optional: a build that does not ask for it keeps it.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from jobdefs import __version__
from jobdefs.build.journey_plan import journeys_text
from jobdefs.build.workers import parallel_map
from jobdefs.documents.journey_steps import StepFigures
from jobdefs.documents.site import pages as site_pages
from jobdefs.documents.site.pages import SITE, Page, SitePages
from jobdefs.documents.site.render import asset_files, render_page, site_code_digest
from jobdefs.documents.site.search import search_index
from jobdefs.documents.site.single_file import LARGE, single_file
from jobdefs.errors import JobdefsError
from jobdefs.model import Finding
from jobdefs.output import JOB_AIDS
from jobdefs.workbook.load import Workbook

SEARCH_INDEX = f"{SITE}/{site_pages.SEARCH_INDEX}"
SINGLE_FILE = site_pages.SINGLE_FILE  # in the output folder, beside site/
PARALLEL_FROM = 64  # fewer pages than this render faster in one process than in workers


def _digest(*parts: object) -> str:
    hasher = hashlib.sha256(__version__.encode())
    for part in parts:
        hasher.update(b"\x1e")
        hasher.update(part if isinstance(part, bytes) else str(part).encode())
    return hasher.hexdigest()


def _findings_text(findings: Iterable[Finding]) -> str:
    return "\x1e".join(
        f"{f.severity}\x1f{f.code}\x1f{f.file}\x1f{f.line}\x1f{f.column}\x1f{f.message}"
        for f in findings
    )


class Planned(Protocol):
    """What the site's part of a build needs of the build's plan (jobdefs.build.plan)."""

    # Read-only, so that the plan's dicts stand for these mappings.
    @property
    def workbook(self) -> Workbook: ...
    @property
    def figures(self) -> Mapping[str, Mapping[str, Any]]: ...
    @property
    def step_figures(self) -> Mapping[str, StepFigures] | None:
        """Each hand-off's share met (by id), for the journey pages; None without a scorecard."""

    @property
    def moment(self) -> datetime.datetime: ...
    @property
    def config_bytes(self) -> bytes: ...
    @property
    def jobs(self) -> int | None:
        """Worker processes to render in; None for one per processor."""

    @property
    def files(self) -> Mapping[str, str]:
        """Each role's file key."""

    @property
    def remembered(self) -> Mapping[str, tuple[str, str]]:
        """By path: (sources digest, digest), of this build so far."""

    @property
    def remembered_before(self) -> Mapping[str, tuple[str, str]]:
        """The same, of the build before."""


def is_site_path(path: str) -> bool:
    return path.startswith(f"{SITE}/")


class SitePlan:
    """Every file of `site/` with its digest; the pages whose sources changed are made.

    Made from the build's plan once it has planned the job aids: a role page shows what
    its role's job aid shows (and the role's findings), so it has the same sources.
    """

    def __init__(self, plan: Planned) -> None:
        workbook, figures, moment, files = plan.workbook, plan.figures, plan.moment, plan.files
        remembered = plan.remembered_before
        organization = workbook.organization
        steps = plan.step_figures
        self.pages = pages = SitePages(
            organization,
            workbook.findings,
            figures,
            moment,
            journeys=organization.journeys,
            step_figures=steps,
        )
        self.made: dict[str, bytes] = {}  # the assets
        self.jobs = plan.jobs
        self.by_path: dict[str, Page] = {}
        self.digests: dict[str, str] = {}
        self.remembered: dict[str, tuple[str, str]] = {}
        shared = _digest(
            "site",
            site_code_digest(),
            moment.isoformat(),
            plan.config_bytes,
            organization.name,
            organization.mission,
            json.dumps([pages.department_slug, pages.customer_slug], ensure_ascii=False),
            journeys_text(organization.journeys),  # the index links them; each has a page
        )
        figures_text = json.dumps(figures, sort_keys=True, ensure_ascii=False) if figures else ""
        everything = _digest(
            shared,
            "\x1e".join(files[role.id] for role in organization.roles),
            _findings_text(workbook.findings),
            figures_text,
        )

        def inputs_of(page: Page) -> str:
            if page.kind == "role":
                role = organization.role(page.key)
                job_aid = plan.remembered[f"{JOB_AIDS}/{role.id}.docx"][0]
                return _digest(shared, job_aid, _findings_text(pages.role_findings(role)))
            sources = pages.sources(page)
            if sources is None:
                # A journey's page shows its steps' shares met, besides every role.
                shares = (
                    repr(sorted(steps.items()))
                    if page.kind == "journey" and steps is not None
                    else ""
                )
                return _digest(shared, page.kind, page.key, everything, shares)
            members = pages.members.get(page.key, [])
            return _digest(
                shared,
                page.kind,
                page.key,
                "\x1e".join(files[role_id] for role_id in sources),
                "\x1e".join(_findings_text(pages.role_findings(role)) for role in members),
                json.dumps(
                    [figures.get(role.id) for role in members], sort_keys=True, ensure_ascii=False
                ),
            )

        for page in pages.pages():
            path = f"{SITE}/{page.path}"
            self.by_path[path] = page
            self._plan(path, inputs_of(page), remembered)
        self._plan(SEARCH_INDEX, _digest(shared, "search", everything), remembered)
        made_from = [self.remembered[path][0] for path in [*self.by_path, SEARCH_INDEX]]
        self._plan(SINGLE_FILE, _digest("single file", *made_from), remembered)
        self.single_file = self.digests.pop(SINGLE_FILE)  # its digest: a target only when asked
        for name, data in asset_files().items():
            path = f"{SITE}/{name}"
            self.made[path] = data
            self.digests[path] = _digest("site asset", hashlib.sha256(data).hexdigest())

    def _plan(self, path: str, inputs: str, remembered: Mapping[str, tuple[str, str]]) -> str:
        known = remembered.get(path)
        if known is not None and known[0] == inputs:
            digest = known[1]  # as an earlier build knew it, perhaps of the page's bytes
        else:
            digest = _digest("site page", inputs)
        self.digests[path] = digest
        self.remembered[path] = (inputs, digest)
        return digest

    def render(
        self, wanted: Iterable[str], previous: Callable[[str], bytes | None] = lambda path: None
    ) -> Iterator[tuple[str, bytes]]:
        """The bytes of each wanted file of the site, and of site.html when it is wanted
        (`previous(path)` gives a page's bytes as this machine wrote them). The pages start
        rendering at once (in worker processes when there are many), so the caller may make
        other files before it reads these."""
        wanted = set(wanted)
        paths = sorted(wanted & self.digests.keys())
        earlier: dict[str, bytes] = {}
        if SINGLE_FILE in wanted:
            for path in self.by_path.keys() - wanted:
                if (data := previous(path)) is not None:
                    earlier[path] = data
            paths += sorted(self.by_path.keys() - wanted - earlier.keys())
        due = [path for path in paths if path not in self.made]
        made = _make_all(self.pages, [self.by_path.get(path) for path in due], self.jobs)
        return self._rendered(paths, made, earlier if SINGLE_FILE in wanted else None, wanted)

    def _rendered(
        self,
        paths: list[str],
        made: Iterator[bytes],
        earlier: dict[str, bytes] | None,
        wanted: set[str],
    ) -> Iterator[tuple[str, bytes]]:
        for path in paths:
            data = self.made[path] if path in self.made else next(made)
            if earlier is not None and path in self.by_path:
                earlier[path] = data
            if path in wanted:
                yield path, data
        if earlier is not None:
            rendered = {path.removeprefix(f"{SITE}/"): data for path, data in earlier.items()}
            yield SINGLE_FILE, single_file(self.pages, rendered)


def site_switches(site: bool, asked: bool | None, configured: bool) -> tuple[bool, list[str]]:
    """Whether the build makes site.html, and what to say of it: `asked` is the command
    line's word (None: jobdefs.yaml's `site_single_file`, `configured`). It is made from
    the site's pages, so asking for it without the site is refused; jobdefs.yaml's word
    without the site is set aside with a note."""
    if not site and asked:
        raise JobdefsError(
            f"{SINGLE_FILE} is made from the explorer's pages: --site-single-file cannot be "
            "combined with --no-site or 'site: false'",
            usage=True,
        )
    wanted = configured if asked is None else asked
    if wanted and not site:
        return False, [
            f"{SINGLE_FILE} is not made while the explorer is not ('site_single_file: true' "
            "needs the site)"
        ]
    return wanted, []


def single_file_notes(
    root: Path, asked: bool, digest: str | None, earlier: str | None
) -> list[str]:
    """What a build says of site.html: too large to e-mail when it made one that is, or
    out of date when it was not asked to make it (`earlier`: its manifest's digest)."""
    if asked:
        try:
            size = (root / SINGLE_FILE).stat().st_size
        except OSError:
            return []
        if size <= LARGE:
            return []
        return [
            f"{SINGLE_FILE} is {size / 1e6:.0f} MB, more than most mail services take: "
            "send it zipped (a zip of it is about a tenth of that) or share site/ instead"
        ]
    if earlier is not None and digest is not None and earlier != digest:
        return [
            f"{SINGLE_FILE} was made by an earlier build and is now out of date: run "
            "'jobdefs build --site-single-file' to bring it up to date"
        ]
    return []


def _make(pages: SitePages, page: Page | None) -> bytes:
    """A page's bytes, or the search index's (page None)."""
    return search_index(pages) if page is None else render_page(pages, page)


# The pages of the site, in each worker process that renders them.
_worker_pages: SitePages | None = None


def _start_worker(pages: SitePages) -> None:
    global _worker_pages
    _worker_pages = pages


def _make_in_worker(page: Page | None) -> bytes:
    assert _worker_pages is not None
    return _make(_worker_pages, page)


def _make_all(pages: SitePages, due: list[Page | None], jobs: int | None) -> Iterator[bytes]:
    """The bytes of each due page, in order: in worker processes when there are many (a
    cold build makes them all), as the job aids are."""
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(due) < PARALLEL_FROM:
        return (_make(pages, page) for page in due)
    return parallel_map(
        _make_in_worker,
        due,
        workers=workers,
        chunksize=max(1, len(due) // (workers * 8)),
        initializer=_start_worker,
        initargs=(pages,),
    )
