"""internal-customer-matrix.xlsx: the sheets Matrix, Hand-offs, Roles, Findings, Journeys
(when the organization has any) and Matrix counts.

The Matrix sheet has supplier roles down and customers across, each cell listing the
products one hands to the other, one per line, and nothing else (the contract's cell). How
many is shown too, by the cell's shade and by a number format "(n) " before the names: Excel
shows it on every cell, LibreOffice only on a cell of one line (it drops number formats on a
cell of several). So the sheet Matrix counts repeats the grid with numbers, which every
program shows, prints and can add up. Its empty cells are never written, so
size and memory follow the number of hand-offs, not roles². A build tells the matrix which
file each role was read from (`RowSources`): rows made only from unchanged files are copied
from the earlier file without being made.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from jobdefs.documents.findings_sheet import findings_sheet
from jobdefs.documents.handoffs_sheet import NO_REVIEWS, CarriedReviews, _handoffs_sheet
from jobdefs.documents.journeys_sheet import journeys_sheet
from jobdefs.documents.roles_sheet import roles_sheet
from jobdefs.documents.sheets import (
    BOLD,
    CELL_MAX,
    LINE_POINTS,
    print_setup,
    wrapped_lines,
)
from jobdefs.documents.xlsx import (
    RowSources,
    _Block,
    _blocks,
    _column_letter,
    _column_letters,
    _empty_cell,
    _Look,
    _not_known,
    _row,
    _Sheet,
    _styles,
    _text_cell,
)
from jobdefs.documents.xlsx_package import _digest, _package
from jobdefs.model import EXTERNAL_DEPARTMENT, Finding, Organization

SHEETS = ("Matrix", "Hand-offs", "Roles", "Findings")

# Matrix: titles in column A and row 1 (the contract), departments in column B and row 2.
MATRIX_FIRST_ROW = 3
MATRIX_FIRST_COLUMN = 3
MATRIX_COLUMN_WIDTH = 20
COUNTS_SHEET = "Matrix counts"  # the same grid with numbers: every program shows them
COUNTS_COLUMN_WIDTH = 12  # the least; see _counts_width
COUNTS_WIDEST = 16  # a longer word is cut: the sheet is the compact one
TITLE_WIDTH = 28  # column A, the supplier's title, printed on every page
DEPARTMENT_WIDTH = 16


def matrix_workbook(
    organization: Organization,
    warnings: Sequence[Finding],
    moment: datetime.datetime,
    reviews: CarriedReviews = NO_REVIEWS,
    *,
    previous: bytes | None = None,
    sources: RowSources | None = None,
) -> bytes:
    """internal-customer-matrix.xlsx: Matrix, Hand-offs, Roles, Findings, Journeys, Matrix counts.

    `previous` is the file this wrote in an earlier build, unchanged since: what has not
    changed is copied from it rather than made again. A damaged or foreign file is ignored.
    `sources`, from a build, let rows made from unchanged files be copied without being made.
    """
    name = organization.name
    sheets: tuple[_Sheet, ...] = (
        _matrix_sheet(organization, sources),
        _handoffs_sheet(organization.handoffs, reviews, sources, page_header=(name, "Hand-offs")),
        roles_sheet(organization, sources),
        findings_sheet(warnings, name),
        # After the contract's four, so that each keeps its place.
        *([journeys_sheet(organization)] if organization.journeys else []),
        _matrix_sheet(organization, sources, COUNTS_SHEET),
    )
    title = f"{organization.name}: internal-customer matrix"
    return _package(sheets, title, moment, previous)


# ---------------------------------------------------------------------------------------
# Looks of the Matrix sheet


_BAND_FILLS = ("FFDDEBF7", "FFEDEDED")  # alternate departments
_DIAGONAL_FILL = "FFA6A6A6"
_GAP_FILL = "FFFFD966"  # a role that serves no one, a customer nobody supplies
# Matrix cells by number of products: 1, 2, 3 or more. The number is written too.
_COUNT_FILLS = ("FFE2EFDA", "FFA9D08E", "FF70AD47")
COUNTS_SHOWN = 20  # the number formats made: "(1) " to "(20) ", then "(20+) "
_NOTE_COLOR = "FF404040"


_CORNER = _Look(bold=True, fill=_BAND_FILLS[1], align="head", grid=True)
_LEGEND = _Look(italic=True, color=_NOTE_COLOR, fill=_BAND_FILLS[1], align="wrap", grid=True)
_DIAGONAL = _Look(fill=_DIAGONAL_FILL, grid=True)
_NO_SUPPLIER = "  (nobody supplies this)"
_SERVES_NO_ONE = "  (serves no one)"


def _title_look(band: int, gap: str, across: bool) -> _Look:
    return _Look(
        bold=True,
        fill=_GAP_FILL if gap else _BAND_FILLS[band],
        align="head" if across else "wrap",
        grid=True,
        # The marker is shown after the title without becoming part of its value.
        number_format=f'@"{gap}"' if gap else None,
    )


def _department_look(band: int, across: bool) -> _Look:
    return _Look(
        italic=True,
        color=_NOTE_COLOR,
        fill=_BAND_FILLS[band],
        align="head" if across else "wrap",
        grid=True,
    )


def _count_look(count: int) -> _Look:
    shown = f"{count}" if count <= COUNTS_SHOWN else f"{COUNTS_SHOWN}+"
    return _Look(
        fill=_COUNT_FILLS[min(count, len(_COUNT_FILLS)) - 1],
        align="wrap",
        grid=True,
        # The count is shown before the names without becoming part of the cell's value.
        number_format=f'"({shown}) "@',
    )


# Every look a cell of products may have, by its number of products.
_COUNT_LOOKS = [_count_look(count) for count in range(1, COUNTS_SHOWN + 2)]
# The shades of the Matrix counts sheet's numbers.
_NUMBER_LOOKS = [_Look(fill=fill, align="number", grid=True) for fill in _COUNT_FILLS]


def _products_cell(names: tuple[str, ...]) -> tuple[str, _Look]:
    """A Matrix cell's text and look: its products one per line, and how many."""
    return _product_list(list(names)), _COUNT_LOOKS[min(len(names), COUNTS_SHOWN + 1) - 1]


# ---------------------------------------------------------------------------------------
# The Matrix sheet


class _MatrixShape(NamedTuple):
    """What openpyxl writes of the Matrix sheet: everything but its rows."""

    customers: int
    page_header: tuple[str, str]
    title: str = "Matrix"
    column_width: int = MATRIX_COLUMN_WIDTH

    @property
    def looks(self) -> list[_Look]:
        looks = [_CORNER, _LEGEND, _DIAGONAL]
        for across, gap in ((True, _NO_SUPPLIER), (False, _SERVES_NO_ONE)):
            looks += [_title_look(band, marker, across) for band in (0, 1) for marker in ("", gap)]
            looks += [_department_look(band, across) for band in (0, 1)]
        return looks + (_NUMBER_LOOKS if self.title == COUNTS_SHEET else _COUNT_LOOKS)

    def structure(self, sheet: Any, styles: Mapping[_Look, Any]) -> None:
        _matrix_structure(sheet, self)


def _matrix_structure(sheet: Any, shape: _MatrixShape) -> None:
    offset = MATRIX_FIRST_COLUMN - 1
    sheet.column_dimensions["A"].width = TITLE_WIDTH
    sheet.column_dimensions["B"].width = DEPARTMENT_WIDTH
    if shape.customers:
        grid = sheet.column_dimensions[_column_letter(MATRIX_FIRST_COLUMN)]
        grid.min, grid.max = MATRIX_FIRST_COLUMN, offset + shape.customers
        grid.width = shape.column_width
    sheet.freeze_panes = f"{_column_letter(MATRIX_FIRST_COLUMN)}{MATRIX_FIRST_ROW}"
    # Across as many pages as it takes, each with the roles' titles down its left side.
    print_setup(
        sheet,
        f"1:{MATRIX_FIRST_ROW - 1}",
        widths=[DEPARTMENT_WIDTH] + [shape.column_width] * shape.customers,
        header=shape.page_header,
        title_columns="A:A",
        repeated=[TITLE_WIDTH],
    )


# The matrix's rows as values. A customer: title, department, band (0 or 1: departments
# alternate) and whether nobody supplies it. A supplier role: title, department, band,
# whether it serves no one, and the products it hands to each customer, by column.
_Customer = tuple[str, str, int, bool]
_Supplier = tuple[str, str, int, bool, tuple[tuple[int, tuple[str, ...]], ...]]


class _MatrixSheet(NamedTuple):
    """Supplier roles down, customers across (roles in the same order, then externals).

    `suppliers(start, end)` makes those rows; `sources(start, end)` says what they are made
    from, when a build knows (None otherwise).
    """

    shape: _MatrixShape
    customers: tuple[_Customer, ...]
    rows: int
    suppliers: Callable[[int, int], tuple[_Supplier, ...]]
    sources: Callable[[int, int], tuple[Any, ...] | None]

    def blocks(self) -> list[_Block]:
        counted = self.shape.title == COUNTS_SHEET
        legend = _COUNTS_LEGEND_TEXT if counted else _LEGEND_TEXT
        rows = _count_rows if counted else _matrix_rows
        starts = _blocks(self.rows)
        blocks = [_Block(_matrix_titles, (self.customers, legend, self.shape.column_width))]
        for start in starts:
            end = start + starts.step
            told = self.sources(start, end)
            if told is None:
                blocks.append(_Block(rows, (start, self.suppliers(start, end))))
            else:
                made = functools.partial(lambda s, e: (s, self.suppliers(s, e)), start, end)
                blocks.append(_Block(rows, made, (start, told)))
        return blocks


def _matrix_sheet(
    organization: Organization, sources: RowSources | None = None, title: str = "Matrix"
) -> _MatrixSheet:
    """The Matrix sheet, or with `title` COUNTS_SHEET the same grid holding numbers."""
    roles = organization.roles
    # Each customer's key, title and department: the roles, then the external customers.
    customers = [(role.id, role.title, role.department) for role in roles]
    customers += [
        (f"external:{x.id}", x.name, EXTERNAL_DEPARTMENT) for x in organization.external_customers
    ]
    position = {key: index for index, (key, _, _) in enumerate(customers)}
    # A role listing itself does not count as a supplier or a customer here.
    supplied = {
        h.customer.key
        for h in organization.handoffs
        if h.customer.kind == "external" or h.customer.id != h.supplier.id
    }
    bands = [band % 2 for band in _bands(department for _, _, department in customers)]

    def suppliers(start: int, end: int) -> tuple[_Supplier, ...]:
        made: list[_Supplier] = []
        for index, role in enumerate(roles[start:end], start):
            products: dict[int, dict[str, None]] = {}
            for handoff in organization.handoffs_from(role.id):
                products.setdefault(position[handoff.customer.key], {})[handoff.product] = None
            alone = all(column == index for column in products)
            listed = tuple((column, tuple(names)) for column, names in sorted(products.items()))
            made.append((role.title, role.department, bands[index], alone, listed))
        return tuple(made)

    told: Callable[[int, int], tuple[Any, ...] | None] = _not_known
    if sources is not None:
        # A supplier's row follows from its own file, its place and the columns: which
        # customer is where, and the departments' bands (so from every id and department).
        layout = _digest("columns", [(key, department) for key, _, department in customers])

        def from_files(start: int, end: int) -> tuple[Any, ...] | None:
            files = [sources.files.get(role.id) for role in roles[start:end]]
            return None if None in files else ("files", sources.code, layout, files)

        told = from_files
    return _MatrixSheet(
        _MatrixShape(
            len(customers),
            (organization.name, title),
            title,
            _counts_width(customers) if title == COUNTS_SHEET else MATRIX_COLUMN_WIDTH,
        ),
        tuple(
            (title, department, band, key not in supplied)
            for (key, title, department), band in zip(customers, bands, strict=True)
        ),
        len(roles),
        suppliers,
        told,
    )


def _counts_width(customers: Sequence[tuple[str, str, str]]) -> int:
    """Matrix counts' columns: narrow, yet as wide as the longest word of a customer's title
    or department (a word does not wrap: it would run into the next column)."""
    text = " ".join(f"{title} {department}" for _, title, department in customers)
    longest = max(map(len, re.split(r"[\s/-]+", text)), default=0)  # lines break at - and /
    return min(max(COUNTS_COLUMN_WIDTH, longest + 2), COUNTS_WIDEST)


_CORNER_TEXT = "Supplier ↓   Customer →"
_MARKS_TEXT = "Grey: the role itself. Yellow: serves no one, or nobody supplies it."
_LEGEND_TEXT = (
    "(n) and the shade: the number of products handed over, one per line; the sheet "
    f"{COUNTS_SHEET} has each number. {_MARKS_TEXT}"
)
_COUNTS_LEGEND_TEXT = (
    f"How many products each role hands each customer; the Matrix sheet names them. {_MARKS_TEXT}"
)


def _matrix_titles(
    customers: tuple[_Customer, ...], legend: str, width: int, ids: Mapping[_Look, int]
) -> str:
    """Rows 1 and 2: each customer's title, then its department; the legend below the corner."""
    offset = MATRIX_FIRST_COLUMN - 1
    letters = _column_letters(offset + len(customers))
    corner = _styles(ids, _CORNER)
    titles = {
        (band, gap): _styles(ids, _title_look(band, gap, True))
        for band in (0, 1)
        for gap in ("", _NO_SUPPLIER)
    }
    gaps = [_NO_SUPPLIER if nobody else "" for *_, nobody in customers]
    cells = [_text_cell("A1", _CORNER_TEXT, corner), _text_cell("B1", "Department", corner)]
    cells += [
        _text_cell(f"{letters[offset + index]}1", title, titles[band, gap])
        for index, ((title, _, band, _), gap) in enumerate(zip(customers, gaps, strict=True))
    ]
    lines = [
        wrapped_lines(title + gap, width, BOLD)
        for (title, *_), gap in zip(customers, gaps, strict=True)
    ]
    lines.append(wrapped_lines(_CORNER_TEXT, TITLE_WIDTH, BOLD))
    rows = [_row(1, cells, max(lines, default=1) * LINE_POINTS)]

    departments = [_styles(ids, _department_look(band, True)) for band in (0, 1)]
    cells = [
        _text_cell("A2", legend, _styles(ids, _LEGEND)),
        _empty_cell("B2", departments[1][0]),
    ]
    cells += [
        _text_cell(f"{letters[offset + index]}2", department, departments[band])
        for index, (_, department, band, _) in enumerate(customers)
    ]
    lines = [wrapped_lines(department, width) for _, department, *_ in customers]
    lines.append(wrapped_lines(legend, TITLE_WIDTH))
    points = max(lines, default=1) * LINE_POINTS
    rows.append(_row(2, cells, points))
    return "".join(rows)


# A writer of one grid cell: (its reference, the products) -> its XML and its lines of text.
_GridCell = Callable[[str, tuple[str, ...]], tuple[str, int]]


def _matrix_rows(start: int, suppliers: tuple[_Supplier, ...], ids: Mapping[_Look, int]) -> str:
    """The Matrix rows of the supplier roles from position `start` on: products by name."""
    counts = {look: _styles(ids, look) for look in _COUNT_LOOKS}

    def listed(ref: str, names: tuple[str, ...]) -> tuple[str, int]:
        text, look = _products_cell(names)
        shown = f"({len(names)}) {text}"  # the count goes before the first line
        return _text_cell(ref, text, counts[look]), wrapped_lines(shown, MATRIX_COLUMN_WIDTH)

    return _supplier_rows(start, suppliers, ids, listed)


def _count_rows(start: int, suppliers: tuple[_Supplier, ...], ids: Mapping[_Look, int]) -> str:
    """The Matrix counts rows of the supplier roles from position `start` on: numbers."""
    shades = [ids[look] for look in _NUMBER_LOOKS]

    def counted(ref: str, names: tuple[str, ...]) -> tuple[str, int]:
        shade = shades[min(len(names), len(shades)) - 1]
        return f'<c r="{ref}" s="{shade}"><v>{len(names)}</v></c>', 1

    return _supplier_rows(start, suppliers, ids, counted)


def _supplier_rows(
    start: int, suppliers: tuple[_Supplier, ...], ids: Mapping[_Look, int], cell: _GridCell
) -> str:
    """Rows of the grid: each supplier's title and department, then `cell` for each
    customer it hands something to, grey where it meets itself."""
    offset = MATRIX_FIRST_COLUMN - 1
    titles = {
        (band, gap): _styles(ids, _title_look(band, gap, False))
        for band in (0, 1)
        for gap in ("", _SERVES_NO_ONE)
    }
    departments = [_styles(ids, _department_look(band, False)) for band in (0, 1)]
    diagonal = ids[_DIAGONAL]
    rows = []
    for index, (title, department, band, alone, products) in enumerate(suppliers, start):
        number = MATRIX_FIRST_ROW + index
        last = max(index, products[-1][0]) if products else index  # by column
        letters = _column_letters(offset + last + 1)
        gap = _SERVES_NO_ONE if alone else ""
        cells = [
            _text_cell(f"A{number}", title, titles[band, gap]),
            _text_cell(f"B{number}", department, departments[band]),
        ]
        lines = max(
            wrapped_lines(title + gap, TITLE_WIDTH, BOLD),
            wrapped_lines(department, DEPARTMENT_WIDTH),
        )
        found: list[tuple[int, str]] = []
        for column, names in products:
            made, height = cell(f"{letters[offset + column]}{number}", names)
            found.append((column, made))
            lines = max(lines, height)
        if all(column != index for column, _ in products):  # grey: the role itself
            found.append((index, _empty_cell(f"{letters[offset + index]}{number}", diagonal)))
        cells += [made for _, made in sorted(found, key=lambda item: item[0])]
        rows.append(_row(number, cells, lines * LINE_POINTS))
    return "".join(rows)


def _bands(departments: Iterable[str]) -> list[int]:
    """0, 1, 2, ...: a number that goes up whenever the department changes."""
    bands: list[int] = []
    previous: str | None = None
    for department in departments:
        if department != previous:
            previous = department
            bands.append(bands[-1] + 1 if bands else 0)
        else:
            bands.append(bands[-1])
    return bands


def _product_list(names: list[str]) -> str:
    """Product names one per line; a list too long for a cell says how many it leaves out."""
    text = "\n".join(names)
    if len(text) <= CELL_MAX:
        return text
    kept: list[str] = []
    size = 0
    for name in names:
        if size + len(name) + 1 > CELL_MAX - 100:
            break
        kept.append(name)
        size += len(name) + 1
    kept.append(f"… and {len(names) - len(kept)} more: see the Hand-offs sheet")
    return "\n".join(kept)
