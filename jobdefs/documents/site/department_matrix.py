"""The explorer's hand-off matrix: how many hand-offs each department gives each other
department (and the external customers), with what is missing said in words.

At a thousand roles a role × role grid is unreadable, so the matrix counts by department;
each count links to the role × role drill-down on the supplying department's page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from jobdefs.model import HandOff

EXTERNAL_COLUMN = "External customers"

Counts = Mapping[tuple[str, str], int]


def column(handoff: HandOff) -> str:
    """The matrix column a hand-off counts in: its customer's department, or External."""
    customer = handoff.customer
    return customer.department if customer.kind == "role" else EXTERNAL_COLUMN


def pair_counts(handoffs: Iterable[HandOff]) -> dict[tuple[str, str], int]:
    """How many hand-offs each department hands each column of the matrix."""
    counts: dict[tuple[str, str], int] = {}
    for handoff in handoffs:
        pair = (handoff.supplier.department, column(handoff))
        counts[pair] = counts.get(pair, 0) + 1
    return counts


def one_way(counts: Counts, supplier: str, customer: str) -> bool:
    """Whether `supplier` hands `customer` (another department) something and gets nothing
    back: worth a look, as most hand-offs between departments run both ways."""
    return (
        counts.get((supplier, customer), 0) > 0
        and customer not in (supplier, EXTERNAL_COLUMN)
        and not counts.get((customer, supplier))
    )


def matrix_context(
    counts: Counts,
    departments: list[str],
    href: Callable[[str], str],
    anchor: Callable[[str], str],
) -> dict[str, Any]:
    """The matrix page: a row per department, a column per department and one for the
    external customers; blank rows and columns and one-way pairs listed as well."""
    columns = [*departments, EXTERNAL_COLUMN]
    sends = {a for (a, b) in counts if a != b and b != EXTERNAL_COLUMN}
    receives = {b for (a, b) in counts if a != b}
    return {
        "title": "Hand-off matrix",
        "columns": [
            {
                "name": c,
                "anchor": anchor(c),
                "blank": c != EXTERNAL_COLUMN and c not in receives,
            }
            for c in columns
        ],
        "rows": [
            {
                "name": name,
                "href": href(name),
                "blank": name not in sends,
                "cells": [
                    {"count": counts.get((name, c), 0), "one_way": one_way(counts, name, c)}
                    for c in columns
                ],
            }
            for name in departments
        ],
        "blank_rows": [n for n in departments if n not in sends],
        "blank_columns": [n for n in departments if n not in receives],
        "one_way": [
            {"from": a, "to": b, "count": n}
            for (a, b), n in sorted(counts.items())
            if one_way(counts, a, b)
        ],
    }
