"""The Journeys sheet of the matrix workbook: one row per step of every journey.

Each row names the journey, the step's number (from 1), the supplier, the product, the
customer and the hand-off's id, so a filter on one journey reads its path in order and the
id leads to the same hand-off on the Hand-offs sheet, in the review workbooks and in the
surveys. A step that names no declared hand-off shows the ids its file wrote and no
hand-off id. An organization without journeys gets no sheet: its workbook is as before.
"""

from __future__ import annotations

import json

from jobdefs.documents.sheets import Column
from jobdefs.documents.xlsx import _list_sheet, _ListSheet, _Value
from jobdefs.model import Journey, Organization

JOURNEYS_SHEET = "Journeys"

JOURNEY_COLUMNS = (
    Column("Journey", 28, "prose"),
    Column("Step", 7, "number"),
    Column("Supplier", 24, "prose"),
    Column("Product", 28, "prose"),
    Column("Customer", 24, "prose"),
    Column("Hand-off id", 14, "code"),
)


def journey_rows(journey: Journey) -> list[tuple[_Value, ...]]:
    """The rows of one journey's steps, in order."""
    rows: list[tuple[_Value, ...]] = []
    for number, step in enumerate(journey.steps, 1):
        handoff = step.handoff
        if handoff is None:
            rows.append((journey.title, number, step.supplier, step.product, step.to, ""))
        else:
            rows.append(
                (
                    journey.title,
                    number,
                    handoff.supplier.title,
                    handoff.product,
                    handoff.customer.title,
                    handoff.id,
                )
            )
    return rows


def journeys_shown(organization: Organization) -> list[str]:
    """What the sheet shows, as text for a build's digest; empty without journeys."""
    rows = [row for journey in organization.journeys for row in journey_rows(journey)]
    return [json.dumps(rows, ensure_ascii=False)] if organization.journeys else []


def journeys_sheet(organization: Organization) -> _ListSheet:
    """The Journeys sheet, for an organization that has journeys."""
    rows = [row for journey in organization.journeys for row in journey_rows(journey)]
    return _list_sheet(
        JOURNEYS_SHEET,
        JOURNEY_COLUMNS,
        rows,
        page_header=(organization.name, JOURNEYS_SHEET),
        filtered=True,
    )
