"""What each page of the explorer shows, as plain data, and which roles it is made from.

A page is a path under `site/` and a context for its template. `SitePages.sources(path)`
names the roles whose files a page shows something of, the way `job_aid.job_aid_sources`
does for a job aid: the build digests those files instead of making every page, so that
an edit re-renders only the pages that show it. Keep `context` and `sources` in step.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from markupsafe import Markup, escape

from jobdefs.documents.job_aid import scorecard_context
from jobdefs.documents.journey_steps import StepFigures
from jobdefs.documents.site import journeys, printed, sight
from jobdefs.documents.site.department_matrix import (
    column,
    matrix_context,
    one_way,
    pair_counts,
)
from jobdefs.documents.site.journeys import Journey
from jobdefs.model import (
    Finding,
    HandOff,
    Organization,
    Party,
    Role,
    open_gaps,
)
from jobdefs.workbook.departments import department_slugs

SITE = "site"
INDEX = "index.html"
MATRIX_PAGE = "matrix.html"
SEARCH_INDEX = "search-index.js"
SINGLE_FILE = "site.html"
# The index lists the findings one by one up to this many, then counts the rest: a
# workbook of a thousand roles in its first weeks has thousands, and each role's page
# lists its own.
INDEX_FINDINGS_MAX = 200


@dataclass(frozen=True)
class Page:
    path: str  # relative to site/
    kind: str  # "index", "role", "department", "customer", "matrix", "journey"
    key: str = ""  # the role id, department name, external id or journey id


class SitePages:
    """Every page of the site for one organization, its context and its sources."""

    def __init__(
        self,
        organization: Organization,
        findings: Sequence[Finding],
        figures: Mapping[str, Mapping[str, Any]] | None = None,
        moment: datetime.datetime | None = None,
        journeys: Sequence[Journey] = (),
        step_figures: Mapping[str, StepFigures] | None = None,  # by hand-off id, for journeys
    ) -> None:
        self.organization = organization
        self.findings = findings
        self.figures = figures or {}
        self.moment = moment
        self.journeys, self.step_figures = journeys, step_figures
        self.department_slug = department_slugs(organization.departments())
        self.customer_slug = department_slugs([x.id for x in organization.external_customers])
        self.root = ""  # of the page being made: "../" for a page in a folder
        self.parties: dict[tuple[str, str], dict[str, Any]] = {}
        self.handoffs: dict[tuple[str, str], dict[str, Any]] = {}

    # -- where pages go ----------------------------------------------------------------

    def pages(self) -> list[Page]:
        organization = self.organization
        pages = [Page(INDEX, "index"), Page(MATRIX_PAGE, "matrix")]
        pages += [Page(self.role_path(role.id), "role", role.id) for role in organization.roles]
        pages += [
            Page(self.department_path(name), "department", name) for name in self.department_slug
        ]
        externals = organization.external_customers
        pages += [Page(self.customer_path(x.id), "customer", x.id) for x in externals]
        pages += [Page(f"journeys/{j.id}.html", "journey", j.id) for j in self.journeys]
        return pages

    @staticmethod
    def role_path(role_id: str) -> str:
        return f"roles/{role_id}.html"

    def department_path(self, department: str) -> str:
        return f"departments/{self.department_slug[department]}.html"

    def customer_path(self, external_id: str) -> str:
        return f"customers/{self.customer_slug[external_id]}.html"

    def party_path(self, party: Party) -> str:
        return self.role_path(party.id) if party.kind == "role" else self.customer_path(party.id)

    # -- what a page is made from ----------------------------------------------------------

    def sources(self, page: Page) -> list[str] | None:
        """The roles whose files the page shows something of, in the organization's order;
        None when it shows something of every role (the index, the matrix, the customers'
        chains). A role page's sources are its job aid's (job_aid.job_aid_sources)."""
        if page.kind == "department":
            return self.department_sources(page.key)
        return None

    def department_sources(self, department: str) -> list[str]:
        shown = set()
        for role in self.members[department]:
            shown.add(role.id)
            for handoff in self.organization.handoffs_from(role.id):
                if handoff.customer.kind == "role":
                    shown.add(handoff.customer.id)
            shown.update(h.supplier.id for h in self.organization.handoffs_to(role.id))
        return [role.id for role in self.organization.roles if role.id in shown]

    @cached_property
    def members(self) -> dict[str, list[Role]]:
        return dict(self.organization.roles_by_department())

    @cached_property
    def findings_by_file(self) -> dict[str, list[Finding]]:
        grouped: dict[str, list[Finding]] = {}
        for finding in self.findings:
            grouped.setdefault(finding.file, []).append(finding)
        return grouped

    def role_findings(self, role: Role) -> list[Finding]:
        return self.findings_by_file.get(role.file, [])

    # -- what a page shows -------------------------------------------------------------

    def context(self, page: Page) -> dict[str, Any]:
        depth = page.path.count("/")
        self.root = "../" * depth
        builder = getattr(self, f"_{page.kind}_context")
        made: dict[str, Any] = builder(page.key) if page.key else builder()
        organization = self.organization
        made.update(
            kind=page.kind,
            root="../" * depth,
            organization={"name": organization.name, "mission": organization.mission},
            date=self.moment.date().isoformat() if self.moment else "",
            any_journeys=bool(self.journeys),
        )
        return made

    def _party(self, party: Party) -> dict[str, Any]:
        """A role or external customer with its links as markup, made once per folder
        depth: a thousand pages name the same few thousand parties."""
        key = (party.key, self.root)
        made = self.parties.get(key)
        if made is None:
            href = self.party_path(party)
            department_href = self.department_path(party.department) if party.kind == "role" else ""
            made = self.parties[key] = {
                "title": party.title,
                "department": party.department,
                "href": href,
                "department_href": department_href,
                "link": link(self.root + href, party.title),
                "department_link": (
                    link(self.root + department_href, party.department)
                    if department_href
                    else escape(party.department)
                ),
            }
        return made

    def _handoff_out(self, handoff: HandOff) -> dict[str, Any]:
        key = (handoff.id, self.root)
        made = self.handoffs.get(key)
        if made is None:
            href = f"{self.role_path(handoff.supplier.id)}#{handoff.id}"
            made = self.handoffs[key] = {
                "id": handoff.id,
                "product": handoff.product,
                "need": handoff.need,
                "standard": handoff.standard,
                "customer": self._party(handoff.customer),
                "supplier": self._party(handoff.supplier),
                "href": href,
                "id_link": link(self.root + href, handoff.id),
                "product_link": link(self.root + href, handoff.product),
            }
        return made

    def _role_context(self, role_id: str) -> dict[str, Any]:
        organization = self.organization
        role = organization.role(role_id)
        out = organization.handoffs_from(role.id)
        by_product: dict[str, list[HandOff]] = {}
        for handoff in out:
            by_product.setdefault(handoff.product, []).append(handoff)
        products = [
            {
                "name": product.name,
                "description": product.description,
                "handoffs": [self._handoff_out(h) for h in by_product.get(product.name, ())],
            }
            for product in role.products
        ]
        received = organization.handoffs_to(role.id)
        gaps = [
            {
                "product": expected.product,
                "supplier": self._known_role(expected.supplier),
                "instead": sorted(
                    {h.product for h in received if h.supplier.id == expected.supplier}
                ),
            }
            for expected in open_gaps(role.receives, received)
        ]
        lines = [
            {
                "customer": line.external.name,
                "customer_href": self.customer_path(line.external.id),
                "drawing": sight.drawing(line.chain, line.external.name),
                "steps": [self._handoff_out(h) for h in line.chain],
            }
            for line in organization.lines_of_sight.get(role.id, ())
        ]
        worked_with: dict[str, Party] = {}
        for handoff in (*received, *out):
            for party in (handoff.supplier, handoff.customer):
                if party.kind == "role" and party.id != role.id:
                    worked_with.setdefault(party.id, party)
        asks = {p.key: p.title for p in self.organization.customers_of(role.id)}
        return {
            "title": role.title,
            "role": {
                "id": role.id,
                "title": role.title,
                "purpose": role.purpose,
                "department": role.department,
                "department_href": self.department_path(role.department),
                "reports_to": self._known_role(role.reports_to) if role.reports_to else None,
                "revision": role.revision,
                "reviewed": role.reviewed,
                "file": role.file,
            },
            "products": products,
            "suppliers": (suppliers := [self._handoff_out(h) for h in received]),
            "received_print": printed.received(suppliers, self.role_path(role.id)),
            "gaps": gaps,
            "lines_of_sight": lines,
            "moments_of_truth": [
                {"moment": m.moment, "practice": m.practice} for m in role.moments_of_truth
            ],
            "feedback_questions": [
                (asks.get(q.asks or ""), q.text) for q in role.feedback_questions
            ],
            "findings": [self._finding(f) for f in self.role_findings(role)],
            "scorecard": scorecard_context(self.figures.get(role.id)),
            "worked_with": [
                self._party(party)
                for party in sorted(worked_with.values(), key=lambda p: (p.title, p.id))
            ],
        }

    def _known_role(self, role_id: str) -> dict[str, str]:
        organization = self.organization
        if organization.has_role(role_id):
            return self._party(organization.party(organization.role(role_id)))
        return {
            "title": role_id,
            "department": "",
            "href": "",
            "department_href": "",
            "link": escape(role_id),
            "department_link": "",
        }

    @staticmethod
    def _finding(finding: Finding) -> dict[str, str]:
        return {"severity": finding.severity, "code": finding.code, "text": finding.as_text()}

    def _review_status(self, role: Role) -> str:
        codes = {f.code for f in self.role_findings(role)}
        if "review-due" in codes:
            return "Review due"
        return "Reviewed" if role.reviewed else "Never reviewed"

    def _department_context(self, department: str) -> dict[str, Any]:
        organization = self.organization
        roles = self.members[department]
        coming = []
        partners: dict[str, list[HandOff]] = {}
        for role in roles:
            for handoff in organization.handoffs_from(role.id):
                partners.setdefault(column(handoff), []).append(handoff)
            coming += [
                h for h in organization.handoffs_to(role.id) if h.supplier.department != department
            ]
        figures = {role.id: scorecard_context(self.figures.get(role.id)) for role in roles}
        return {
            "title": department,
            "department": department,
            "roles": [
                {
                    **self._party(organization.party(role)),
                    "reviewed": role.reviewed,
                    "status": self._review_status(role),
                    "products": len(role.products),
                    "share_met": figures[role.id]["share_met"],
                    "responses": figures[role.id]["responses"],
                }
                for role in roles
            ],
            "scorecard": any(f["found"] for f in figures.values()),
            "coming": [self._handoff_out(h) for h in coming],
            "pairs": [
                self._pair(department, partner, handoffs)
                for partner, handoffs in sorted(partners.items(), key=lambda p: self._order(p[0]))
            ],
        }

    @cached_property
    def pair_counts(self) -> dict[tuple[str, str], int]:
        return pair_counts(self.organization.handoffs)

    def _order(self, department: str) -> tuple[int, str]:
        slug = self.department_slug.get(department)
        return (1, "") if slug is None else (0, slug)

    def pair_anchor(self, partner: str) -> str:
        slug = self.department_slug.get(partner)
        return "to-external" if slug is None else f"to-{slug}"

    def _pair(self, department: str, partner: str, handoffs: list[HandOff]) -> dict[str, Any]:
        """The role × role drill-down of one pair: what each role of `department` hands
        to each role (or external customer) of `partner`."""
        suppliers = list(dict.fromkeys(h.supplier for h in handoffs))
        customers = list(dict.fromkeys(h.customer for h in handoffs))
        cells: dict[tuple[str, str], list[HandOff]] = {}
        for handoff in handoffs:
            cells.setdefault((handoff.supplier.key, handoff.customer.key), []).append(handoff)
        return {
            "partner": partner,
            "partner_href": (
                self.department_path(partner) if partner in self.department_slug else ""
            ),
            "anchor": self.pair_anchor(partner),
            "count": len(handoffs),
            "one_way": one_way(self.pair_counts, department, partner),
            "customers": [self._party(c) for c in customers],
            "rows": [
                {
                    "supplier": self._party(s),
                    "cells": [
                        [self._handoff_out(h) for h in cells.get((s.key, c.key), ())]
                        for c in customers
                    ],
                }
                for s in suppliers
            ],
        }

    def _customer_context(self, external_id: str) -> dict[str, Any]:
        organization = self.organization
        external = organization.external(external_id)
        assert external is not None
        direct = organization.handoffs_to(f"external:{external_id}")
        by_length: dict[int, list[dict[str, Any]]] = {}
        for role in organization.roles:
            for line in organization.lines_of_sight.get(role.id, ()):
                if line.external.id == external_id:
                    by_length.setdefault(len(line.chain), []).append(
                        {
                            "role": self._party(organization.party(role)),
                            "through": [self._party(h.customer) for h in line.chain[:-1]],
                        }
                    )
        return {
            "title": external.name,
            "customer": {"id": external.id, "name": external.name, "desc": external.description},
            "direct": [self._handoff_out(h) for h in direct],
            "chains": [
                {"handoffs": length, "roles": by_length[length]} for length in sorted(by_length)
            ],
            "unreached": [
                self._party(organization.party(role))
                for role in organization.roles
                if all(
                    line.external.id != external_id
                    for line in organization.lines_of_sight.get(role.id, ())
                )
            ],
        }

    def _index_context(self) -> dict[str, Any]:
        organization = self.organization
        errors = sum(1 for f in self.findings if f.is_error)
        return {
            "title": organization.name,
            "counts": {
                "roles": len(organization.roles),
                "departments": len(self.department_slug),
                "handoffs": len(organization.handoffs),
                "externals": len(organization.external_customers),
                "errors": errors,
                "warnings": len(self.findings) - errors,
            },
            "externals": [
                {"name": x.name, "description": x.description, "href": self.customer_path(x.id)}
                for x in organization.external_customers
            ],
            "departments": [
                {
                    "name": name,
                    "href": self.department_path(name),
                    "roles": [self._party(organization.party(role)) for role in roles],
                }
                for name, roles in self.members.items()
            ],
            "journeys": [
                {"title": j.title, "href": f"journeys/{j.id}.html"} for j in self.journeys
            ],
            "findings": [self._finding(f) for f in self.findings[:INDEX_FINDINGS_MAX]],
            "findings_left": max(0, len(self.findings) - INDEX_FINDINGS_MAX),
        }

    def _matrix_context(self) -> dict[str, Any]:
        return matrix_context(
            self.pair_counts, list(self.department_slug), self.department_path, self.pair_anchor
        )

    def _journey_context(self, journey_id: str) -> dict[str, Any]:
        journey = next(j for j in self.journeys if j.id == journey_id)
        shown = {s.handoff.id: self._handoff_out(s.handoff) for s in journey.steps if s.handoff}
        known = self.organization.external(journey.customer) is not None
        href = self.customer_path(journey.customer) if known else ""
        return journeys.context(self.organization, journey, shown, href, self.step_figures)


def link(href: str, text: str) -> Markup:
    """A link as markup, both of its values escaped (as `Markup.format` would, faster)."""
    return Markup(f'<a href="{escape(href)}">{escape(text)}</a>')
