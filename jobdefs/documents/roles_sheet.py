"""The matrix workbook's Roles sheet: one row per role, with what it hands over, to whom,
whether it reaches an external customer and when it was last reviewed."""

from __future__ import annotations

import datetime

from jobdefs.documents.sheets import Column
from jobdefs.documents.xlsx import RowSources, _ListShape, _ListSheet, _Value
from jobdefs.model import Organization

ROLE_COLUMNS = (
    Column("Role id", 24, "code"),
    Column("Title", 28, "prose"),
    Column("Department", 20, "prose"),
    Column("Reports to", 24, "prose"),
    Column("Reports to id", 20, "code"),
    Column("Products", 10, "number"),
    Column("Customers", 11, "number"),
    Column("Suppliers", 10, "number"),
    Column("Line of sight", 9),
    Column("Reaches", 28, "prose"),
    Column("Last reviewed", 12, "date"),
    Column("Source file", 40, "code"),
)


def roles_sheet(organization: Organization, sources: RowSources | None = None) -> _ListSheet:
    roles = organization.roles
    has_externals = bool(organization.external_customers)

    def rows(start: int, end: int) -> tuple[tuple[_Value, ...], ...]:
        made: list[tuple[_Value, ...]] = []
        for role in roles[start:end]:
            boss = role.reports_to
            boss_title = (
                organization.role(boss).title if boss and organization.has_role(boss) else ""
            )
            reaches = [line.external.name for line in organization.lines_of_sight.get(role.id, ())]
            made.append(
                (
                    role.id,
                    role.title,
                    role.department,
                    boss_title,
                    boss or "",
                    len(role.products),
                    # As many as customers_of() and suppliers_of() give, without making them.
                    len({h.customer.key for h in organization.handoffs_from(role.id)}),
                    len({h.supplier.id for h in organization.handoffs_to(role.id)}),
                    ("Yes" if reaches else "No") if has_externals else "n/a",
                    ", ".join(reaches),
                    datetime.date.fromisoformat(role.reviewed) if role.reviewed else None,
                    role.file,
                )
            )
        return tuple(made)

    shape = _ListShape(
        "Roles",
        ROLE_COLUMNS,
        len(roles),
        filtered=True,
        page_header=(organization.name, "Roles"),
        keys=2,  # the id and the title
    )
    if sources is None or not sources.structure:
        return _ListSheet(shape, rows)

    def from_files(start: int, end: int) -> str | None:
        files = sources.files
        if any(role.id not in files for role in roles[start:end]):
            return None
        return "\x1e".join(
            [sources.code, sources.structure, *(files[role.id] for role in roles[start:end])]
        )

    return _ListSheet(shape, rows, from_files)
