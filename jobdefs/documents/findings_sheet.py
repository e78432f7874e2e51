"""The matrix workbook's Findings sheet: one row per warning, or one that says there are
none, so that a reader never wonders whether the sheet was left empty by mistake."""

from __future__ import annotations

from collections.abc import Sequence

from jobdefs.documents.sheets import Column
from jobdefs.documents.xlsx import _list_sheet, _ListSheet
from jobdefs.model import Finding

FINDING_COLUMNS = (
    Column("Severity", 10),
    Column("Code", 20, "code"),
    Column("File", 36, "code"),
    Column("Line", 7, "number"),
    Column("Column", 8, "number"),
    Column("Message", 70, "prose"),  # wrapped: the sheet prints one page across
)


NO_WARNINGS = "No warnings: every check passed."


def findings_sheet(warnings: Sequence[Finding], organization: str) -> _ListSheet:
    page_header = (organization, "Findings")
    if not warnings:
        none = [("none", "", "", None, None, NO_WARNINGS)]
        return _list_sheet("Findings", FINDING_COLUMNS, none, page_header=page_header)
    rows = (
        (
            finding.severity,
            finding.code,
            finding.file,
            finding.line,
            finding.column,
            finding.message,
        )
        for finding in warnings
    )
    return _list_sheet("Findings", FINDING_COLUMNS, rows, page_header=page_header, filtered=True)
