"""The review workbooks, one per department: departments/<slug>.xlsx.

Each holds the Hand-offs rows in which one of the department's roles is the supplier or the
customer (workbook.departments), for the department to check and answer.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence

from jobdefs.documents.handoffs_sheet import NO_REVIEWS, CarriedReviews, _handoffs_sheet
from jobdefs.documents.xlsx_package import _package
from jobdefs.model import HandOff, Organization
from jobdefs.workbook.departments import department_slugs, handoffs_by_department


def department_workbooks(
    organization: Organization,
    moment: datetime.datetime,
    reviews: CarriedReviews = NO_REVIEWS,
    only: Iterable[str] | None = None,
    *,
    previous: Mapping[str, bytes] | None = None,
    by_department: Mapping[str, Sequence[HandOff]] | None = None,
) -> dict[str, bytes]:
    """One review workbook per department, keyed by its slug (departments/<slug>.xlsx).

    Each holds the Hand-offs rows in which one of the department's roles is the supplier or
    the customer, with the same columns, drop-down and table as the organization's workbook.
    `only` limits them to these slugs (the ones a build found out of date); `previous` holds
    the files an earlier build wrote, by slug, as for `matrix_workbook`; `by_department`
    holds the hand-offs of any departments the caller has grouped already
    (`handoffs_by_department`).
    """
    wanted = None if only is None else set(only)
    earlier = previous or {}
    slugs = {
        department: slug
        for department, slug in department_slugs(organization.departments()).items()
        if wanted is None or slug in wanted
    }
    by_department = dict(by_department or {})
    missing = [department for department in slugs if department not in by_department]
    if missing:
        by_department.update(handoffs_by_department(organization, missing))
    workbooks: dict[str, bytes] = {}
    for department, slug in slugs.items():
        sheets = (_handoffs_sheet(by_department[department], reviews),)
        title = f"{organization.name}: {department} hand-offs"
        workbooks[slug] = _package(sheets, title, moment, earlier.get(slug))
    return workbooks
