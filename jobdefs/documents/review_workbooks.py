"""The review workbooks, one per department: departments/<slug>.xlsx.

Each holds the Hand-offs rows in which one of the department's roles is the supplier or the
customer (workbook.departments), for the department to check and answer. It is a form, the
surveys' sibling: a title block says whose it is, what is asked and how to send it back;
the sheet is protected without a password, and Status, Reviewer and Comment are the yellow
cells left open. `jobdefs review` finds its header below the title block.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence

from jobdefs.documents.handoffs_sheet import NO_REVIEWS, CarriedReviews, _handoffs_sheet
from jobdefs.documents.sheets import (
    COMMENT_HEADER,
    FINGERPRINT_HEADER,
    ID_HEADER,
    REVIEWER_HEADER,
    STATUS_HEADER,
    STATUS_OPTIONS,
)
from jobdefs.documents.xlsx_package import _package
from jobdefs.model import HandOff, Organization
from jobdefs.workbook.dates import ZIP_EARLIEST
from jobdefs.workbook.departments import department_slugs, handoffs_by_department

RETURN_WITHIN = "two weeks"  # what the form asks; the organization may say otherwise
HEADER_ROW = 7  # below the title block's five lines and a blank row: review finds it there


def review_heading(
    organization: Organization, department: str, handoffs: int, moment: datetime.datetime
) -> tuple[tuple[str, str], ...]:
    """The title block of a department's review form: (look, text) per line."""
    # The build's date: SOURCE_DATE_EPOCH or the newest review, so "as of", not "made".
    made = f" · as of {moment.date().isoformat()}" if moment > ZIP_EARLIEST else ""
    count = f"{handoffs} hand-off{'s' if handoffs != 1 else ''}"
    agreed, change, unneeded = STATUS_OPTIONS
    return (
        ("title", f"{department}: hand-offs to review"),
        ("subtitle", f"{organization.name}{made} · {count} your department gives or receives"),
        ("lead", "What is asked"),
        (
            "prose",
            f"For each hand-off your department gives or receives, choose a {STATUS_HEADER}: "
            f"{agreed}, {change} or {unneeded}; say why in {COMMENT_HEADER}, and write your "
            f"name under {REVIEWER_HEADER}. Only the yellow cells can be changed, and no "
            "password is needed.",
        ),
        (
            "prose",
            f"Send it back within {RETURN_WITHIN} to whoever sent it, saved under the same "
            f"file name. Filter the rows as you like, but leave the {ID_HEADER} and "
            f"{FINGERPRINT_HEADER} columns at the far right on screen (they are not printed) "
            "as they are: they match each answer to its hand-off.",
        ),
    )


# Said in the file's properties when it carries answers from reviewed workbooks, so that a
# later build given none can say what it leaves out, without reading the sheet.
CARRIED = re.compile(r"<dc:subject>carries (\d+) review answers?</dc:subject>")


def carried_subject(count: int) -> str:
    return f"carries {count} review answer{'' if count == 1 else 's'}" if count else ""


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
        handoffs = by_department[department]
        sheet = _handoffs_sheet(
            handoffs,
            reviews,
            page_header=(organization.name, f"{department}: hand-offs to review"),
            heading=review_heading(organization, department, len(handoffs), moment),
            form=True,
        )
        sheets = (sheet,)
        title = f"{organization.name}: {department} hand-offs"
        carried = sum(h.id in reviews.answers for h in handoffs)
        subject = carried_subject(carried)
        workbooks[slug] = _package(sheets, title, moment, earlier.get(slug), subject)
    return workbooks
