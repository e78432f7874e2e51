"""The Hand-offs sheet: one row per hand-off, and the review answers carried into it.

The internal-customer matrix (matrix) and every department's review workbook
(review_workbooks) hold one, with the same columns, Status drop-down and table.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from jobdefs.documents.sheets import (
    COMMENT_HEADER,
    FINGERPRINT_HEADER,
    ID_HEADER,
    REVIEWER_HEADER,
    STATUS_HEADER,
    Column,
)
from jobdefs.documents.xlsx import RowSources, _ListShape, _ListSheet, _Value
from jobdefs.model import HandOff

HANDOFFS_SHEET = "Hand-offs"


# Narrow enough that the columns up to Comment print on one page across at 7 points or
# more (sheets.pages_across); text wraps. The review note prints when there is one; the id
# and fingerprint, there to be read back, never print.
HANDOFF_COLUMNS = (
    Column("Supplier", 15, "prose"),
    Column("Supplier department", 12, "prose"),
    Column("Product", 16, "prose"),
    Column("Customer", 15, "prose"),
    Column("Customer department", 12, "prose"),
    Column("Need", 25, "prose"),
    Column("Standard", 19, "prose"),
    Column(STATUS_HEADER, 13, "answer"),
    Column(REVIEWER_HEADER, 10, "answer"),
    Column(COMMENT_HEADER, 20, "answer"),
    Column("Review note", 20, "prose"),
    Column(ID_HEADER, 12, "code"),
    Column(FINGERPRINT_HEADER, 12, "code"),
)
HANDOFF_HEADERS = tuple(column.header for column in HANDOFF_COLUMNS)
_NOTE_COLUMN = HANDOFF_HEADERS.index("Review note")


@dataclass(frozen=True)
class CarriedReviews:
    """Answers from reviewed workbooks, carried into the ones a build writes anew.

    `answers` holds the still-valid Status, Reviewer and Comment by hand-off id; `suspect`
    the hand-offs changed since they were reviewed, with a note on what was answered then.
    Their answer cells stay blank, so that only what changed needs a new look.
    """

    answers: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)
    suspect: Mapping[str, str] = field(default_factory=dict)


NO_REVIEWS = CarriedReviews()


def handoff_row(handoff: HandOff, reviews: CarriedReviews = NO_REVIEWS) -> tuple[str, ...]:
    """A hand-off as a row of the Hand-offs sheet shows it, with any carried answer."""
    status, reviewer, comment = reviews.answers.get(handoff.id, ("", "", ""))
    return (
        handoff.supplier.title,
        handoff.supplier.department,
        handoff.product,
        handoff.customer.title,
        handoff.customer.department,
        handoff.need,
        handoff.standard,
        status,
        reviewer,
        comment,
        reviews.suspect.get(handoff.id, ""),
        handoff.id,
        handoff.fingerprint,
    )


def _handoffs_sheet(
    handoffs: Sequence[HandOff],
    reviews: CarriedReviews,
    sources: RowSources | None = None,
    *,
    page_header: tuple[str, str],
    heading: tuple[tuple[str, str], ...] = (),
    form: bool = False,
) -> _ListSheet:
    """The Hand-offs sheet of `handoffs`; with a `heading` (a title block above it) and as a
    protected `form`, a department's review form."""
    noted = bool(reviews.suspect) and any(h.id in reviews.suspect for h in handoffs)
    shape = _ListShape(
        HANDOFFS_SHEET,
        HANDOFF_COLUMNS,
        len(handoffs),
        table=True,
        page_header=page_header,
        printed=_NOTE_COLUMN + 1 if noted else _NOTE_COLUMN,
        heading=heading,
        form=form,
    )

    def rows(start: int, end: int) -> tuple[tuple[_Value, ...], ...]:
        return tuple(handoff_row(handoff, reviews) for handoff in handoffs[start:end])

    if sources is None or reviews.answers or reviews.suspect:
        return _ListSheet(shape, rows)
    return _ListSheet(shape, rows, functools.partial(_handoff_sources, handoffs, sources))


def _handoff_sources(
    handoffs: Sequence[HandOff], sources: RowSources, start: int, end: int
) -> str | None:
    """What rows `start` to `end` of the Hand-offs sheet are made from, when the files of all
    of them are known: each row is the hand-off written at one place (its key path) of its
    supplier's file, to a role as that role's file says or to an external customer by name."""
    files = sources.files
    told = [sources.code]
    supplier = None
    for handoff in handoffs[start:end]:
        if handoff.supplier is not supplier:  # the same one for a run of rows
            supplier = handoff.supplier
            made_by = files.get(supplier.id)
            if made_by is None:
                return None
            told.append(made_by)
        customer = handoff.customer
        to = (
            files.get(customer.id)
            if customer.kind == "role"
            else f"external={customer.id}={customer.title}"
        )
        if to is None or not handoff.where.key_path:
            return None
        told.append(f"{handoff.where.key_path}\x1f{to}")
    return "\x1e".join(told)
