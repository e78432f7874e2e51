"""Answering generated surveys the way a person does in a spreadsheet, for the tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl

Answers = dict[tuple[str, str], tuple[Any, Any, Any]]  # (supplier, product) -> cells F, G, H


def fill(path: Path, answers: Answers, edit: Callable[[Any, int], None] | None = None) -> None:
    """Answer a survey by supplier and product; `edit` may then change the sheet further."""
    book = openpyxl.load_workbook(path)
    sheet = book["Survey"]
    top = next(r for r in range(1, 30) if sheet.cell(r, 9).value == "Hand-off id")
    rows = {
        (sheet.cell(r, 1).value, sheet.cell(r, 3).value): r
        for r in range(top + 1, sheet.max_row + 1)
        if sheet.cell(r, 9).value
    }
    for key, values in answers.items():
        for column, value in zip((6, 7, 8), values, strict=True):
            sheet.cell(rows[key], column).value = value
    if edit is not None:
        edit(sheet, top)
    book.save(path)
