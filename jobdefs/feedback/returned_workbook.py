"""A workbook handed back (a review, a survey), opened and read within bounds.

The file is read once and checked as a package (jobdefs.office_files) before openpyxl sees
it. Rows and columns are bounded by what the reader reads, never by what the sheet claims:
openpyxl's read-only sheets pad every row to the width their `dimension` element states and
yield an empty row for every row number skipped, so a sheet may claim 16,384 columns or jump
to row 1,048,576 at almost no cost in bytes.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from jobdefs.office_files import UnsafeFile, check_workbook, read_regular_file
from jobdefs.text import shorten


def open_workbook(path: Path) -> Any:
    """openpyxl's read-only workbook of `path`; UnsafeFile says why it cannot be read."""
    from openpyxl import load_workbook

    data = read_regular_file(path)
    check_workbook(data).close()
    try:
        # Formulas come back as the text typed (=HYPERLINK(...)), never evaluated.
        return load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as error:  # checked as a package: what is left is openpyxl's reaction
        raise UnsafeFile(_reason(error)) from None


def sheet_rows(sheet: Any, max_rows: int, max_columns: int) -> Iterator[tuple[Any, ...]]:
    """The sheet's rows, each `max_columns` wide; UnsafeFile past `max_rows` rows."""
    sheet.reset_dimensions()  # ignore the size the sheet claims
    try:
        for number, row in enumerate(
            sheet.iter_rows(max_row=max_rows + 1, max_col=max_columns, values_only=True), 1
        ):
            if number > max_rows:
                raise UnsafeFile(f"the sheet '{sheet.title}' has more than {max_rows:,} rows")
            yield row
    except UnsafeFile:
        raise
    except Exception as error:
        raise UnsafeFile(_reason(error)) from None


Header = TypeVar("Header")


def first_with_header(
    sheets: Iterable[tuple[str, Sequence[tuple[Any, ...]]]],
    find_header: Callable[[Sequence[tuple[Any, ...]]], Header | None],
) -> tuple[str, Sequence[tuple[Any, ...]], Header] | None:
    """The first sheet (title, rows) whose header `find_header` finds, with that header:
    the answers' sheet, wherever a person moved it among the others."""
    for title, rows in sheets:
        header = find_header(rows)
        if header is not None:
            return title, rows, header
    return None


def _reason(error: Exception) -> str:
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return f"openpyxl cannot read it ({shorten(' '.join(text.split()), 120)})"
