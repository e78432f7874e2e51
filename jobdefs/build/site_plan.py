"""The site's part of a build: each page of `site/`, the digest of what it is made from,
and its bytes when they have to be made.

A page is known by the digest of what it is made from (the files of the roles it shows,
`pages.SitePages.sources`, or for a role page its job aid's sources, with everything every
page shows), like a job aid: planning renders nothing, and a build renders only the pages
whose sources changed, in worker processes when there are many (a cold build renders them
all). So an edit makes only the pages that show the edited role, plus the few that show
every role (the index, the matrix, the search index, the external customers), and the
build rewrites only the pages whose bytes changed (`same_bytes` in jobdefs.build.run).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol

from jobdefs import __version__
from jobdefs.build.journey_plan import journeys_text
from jobdefs.build.workers import parallel_map
from jobdefs.documents.journey_steps import StepFigures
from jobdefs.documents.site import pages as site_pages
from jobdefs.documents.site.pages import SITE, Page, SitePages
from jobdefs.documents.site.render import asset_files, render_page, site_code_digest
from jobdefs.documents.site.search import search_index
from jobdefs.model import Finding
from jobdefs.output import JOB_AIDS
from jobdefs.workbook.load import Workbook

SEARCH_INDEX = f"{SITE}/{site_pages.SEARCH_INDEX}"
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
        for name, data in asset_files().items():
            path = f"{SITE}/{name}"
            self.made[path] = data
            self.digests[path] = _digest("site asset", hashlib.sha256(data).hexdigest())

    def _plan(self, path: str, inputs: str, remembered: Mapping[str, tuple[str, str]]) -> None:
        known = remembered.get(path)
        if known is not None and known[0] == inputs:
            digest = known[1]  # as an earlier build knew it, perhaps of the page's bytes
        else:
            digest = _digest("site page", inputs)
        self.digests[path] = digest
        self.remembered[path] = (inputs, digest)

    def render(self, wanted: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """The bytes of each wanted file of the site. The pages start rendering at once (in
        worker processes when there are many), so the caller may make other files before
        it reads these."""
        paths = sorted(set(wanted) & self.digests.keys())
        due = [path for path in paths if path not in self.made]
        made = _make_all(self.pages, [self.by_path.get(path) for path in due], self.jobs)
        return ((path, self.made[path] if path in self.made else next(made)) for path in paths)


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
