"""Model -> .xlsx: the internal-customer matrix and one review workbook per department.

openpyxl writes what a workbook is built of: its sheets' columns, frozen panes, print setup,
filters, table and drop-down, and the styles. Every row is written here as XML: openpyxl
spends some 30 µs on each cell, and a large organization's workbooks have hundreds of
thousands. The matrix's empty cells are never written, so size and memory follow the
number of hand-offs, not roles².

Given the file an earlier build wrote, a workbook is not made again from nothing. Each part
of the package carries, in its zip comment, a digest of everything it is made from, taken
before it is made; a part whose digest has not changed is copied from that file as it was
stored, still compressed. Sheets are compressed in blocks of rows, so that a changed need
remakes one block, not the 5,000 rows around it; and when no sheet's columns, row count or
styles changed, openpyxl is not even imported. Either way the bytes are the same. A build
also tells the matrix which file each role was read from (`RowSources`): a block of rows
made only from unchanged files is then known unchanged without its rows being made.

Role text never becomes a formula or an error value: every text cell is stored as a string
whatever it starts with (`=`, `+`, `-`, `@`, `#N/A`). The same organization and moment give
the same bytes.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import importlib.util
import io
import math
import os
import re
import struct
import sys
import unicodedata
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

from jobdefs.documents import ooxml
from jobdefs.model import EXTERNAL_DEPARTMENT, Finding, HandOff, Organization

SHEETS = ("Matrix", "Hand-offs", "Roles", "Findings")
HANDOFFS_SHEET = "Hand-offs"
HANDOFFS_TABLE = "HandOffs"
STATUS_OPTIONS = ("Agreed", "Needs change", "Not needed")
CELL_MAX = 32_767  # the most characters one spreadsheet cell holds
SLUG_MAX = 60

# Matrix: titles in column A and row 1 (the contract), departments in column B and row 2.
MATRIX_FIRST_ROW = 3
MATRIX_FIRST_COLUMN = 3
MATRIX_COLUMN_WIDTH = 22

# What XML 1.0 cannot hold. The loader reports these as errors; this only guards API callers.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Text that Excel would turn into a formula, a number or an error if someone retyped it.
_RETYPED = re.compile(r"[=+\-@#]")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {
    f"{port}{digit}" for port in ("com", "lpt") for digit in "123456789"
}


class Column(NamedTuple):
    """A column of a list sheet: header, width in characters and how its cells look."""

    header: str
    width: float
    style: str = "text"


HANDOFF_COLUMNS = (
    Column("Supplier", 24, "prose"),
    Column("Supplier department", 18, "prose"),
    Column("Product", 28, "prose"),
    Column("Customer", 24, "prose"),
    Column("Customer department", 18, "prose"),
    Column("Need", 48, "prose"),
    Column("Standard", 36, "prose"),
    Column("Status", 15, "answer"),
    Column("Reviewer", 18, "answer"),
    Column("Comment", 40, "answer"),
    Column("Review note", 30, "prose"),
    Column("Hand-off id", 14, "code"),
    Column("Fingerprint", 15, "code"),
)
HANDOFF_HEADERS = tuple(column.header for column in HANDOFF_COLUMNS)
STATUS_COLUMN = HANDOFF_HEADERS.index("Status") + 1

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

FINDING_COLUMNS = (
    Column("Severity", 10),
    Column("Code", 20, "code"),
    Column("File", 36, "code"),
    Column("Line", 7, "number"),
    Column("Column", 8, "number"),
    Column("Message", 90, "prose"),
)

NO_WARNINGS = "No warnings: every check passed."


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


def matrix_workbook(
    organization: Organization,
    warnings: Sequence[Finding],
    moment: datetime.datetime,
    reviews: CarriedReviews = NO_REVIEWS,
    *,
    previous: bytes | None = None,
    sources: RowSources | None = None,
) -> bytes:
    """internal-customer-matrix.xlsx: the sheets Matrix, Hand-offs, Roles and Findings.

    `previous` is the file this wrote in an earlier build, unchanged since: what has not
    changed is copied from it rather than made again. A damaged or foreign file is ignored.
    `sources`, from a build, let rows made from unchanged files be copied without being made.
    """
    sheets = (
        _matrix_sheet(organization, sources),
        _handoffs_sheet(organization.handoffs, reviews, sources),
        _roles_sheet(organization, sources),
        _findings_sheet(warnings),
    )
    title = f"{organization.name}: internal-customer matrix"
    return _package(sheets, title, moment, previous)


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


def department_slugs(departments: Iterable[str]) -> dict[str, str]:
    """A file name stem for each department: unique, lower-case and safe on every system.

    A slug holds only letters, digits and single hyphens: never a dot, a separator or `..`,
    so `departments/<slug>.xlsx` always stays inside the output folder. Of names that clean
    to the same slug, the shortest (then the first alphabetically) keeps it and the others
    get -2, -3, ...: decided by the names alone, never by the order they come in.
    """
    names = list(dict.fromkeys(departments))
    base = {name: _slug(name) for name in names}
    taken = set(base.values())
    slugs: dict[str, str] = {}
    claimed: set[str] = set()
    for name in sorted(names, key=lambda n: (base[n], len(n), n)):
        slug = base[name]
        if slug in claimed:
            number = 2
            while f"{slug}-{number}" in taken or f"{slug}-{number}" in claimed:
                number += 1
            slug = f"{slug}-{number}"
        claimed.add(slug)
        slugs[name] = slug
    return {name: slugs[name] for name in names}


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


def cell_text(text: str) -> str:
    """Text a cell can hold: XML-safe, at most CELL_MAX characters, and never cut silently."""
    text = _NOT_XML.sub("\ufffd", text)
    if len(text) <= CELL_MAX:
        return text
    note = " … (cut: longer than a spreadsheet cell holds)"
    return text[: CELL_MAX - len(note)] + note


def _slug(name: str) -> str:
    letters = "".join(
        ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch)
    )
    slug = re.sub(r"[\W_]+", "-", unicodedata.normalize("NFC", letters).casefold()).strip("-")
    if len(slug) > SLUG_MAX:
        slug = slug[:SLUG_MAX].rstrip("-")
        if slug.rfind("-") > SLUG_MAX // 2:  # end on a whole word when one is near
            slug = slug[: slug.rfind("-")]
    if not slug:
        return "department"
    return f"{slug}-department" if slug in _WINDOWS_RESERVED else slug


def handoffs_by_department(
    organization: Organization, departments: Iterable[str] | None = None
) -> dict[str, list[HandOff]]:
    """The hand-offs each department's review workbook holds, in the organization's order.

    `departments` limits them to these: then only their own roles' hand-offs are looked at.
    """
    if departments is not None:
        return _handoffs_of_departments(organization, set(departments))
    grouped: dict[str, list[HandOff]] = {d: [] for d in organization.departments()}
    for handoff in organization.handoffs:
        for department in dict.fromkeys((handoff.supplier.department, handoff.customer.department)):
            if department in grouped and involves(handoff, department):
                grouped[department].append(handoff)
    return grouped


def _handoffs_of_departments(
    organization: Organization, departments: set[str]
) -> dict[str, list[HandOff]]:
    found: dict[str, dict[int, HandOff]] = {d: {} for d in departments}
    for role in organization.roles:
        if role.department in found:
            # Its department's workbook holds what it hands over and what it receives.
            held = found[role.department]
            for handoff in organization.handoffs_from(role.id):
                held[id(handoff)] = handoff
            for handoff in organization.handoffs_to(role.id):
                held[id(handoff)] = handoff
    if not any(found.values()):
        return {department: [] for department in found}
    order = {id(handoff): number for number, handoff in enumerate(organization.handoffs)}
    return {
        department: sorted(held.values(), key=lambda handoff: order[id(handoff)])
        for department, held in found.items()
    }


def involves(handoff: HandOff, department: str) -> bool:
    """Whether a department's review workbook holds this hand-off."""
    return handoff.supplier.department == department or (
        handoff.customer.kind == "role" and handoff.customer.department == department
    )


# ---------------------------------------------------------------------------------------
# Looks: the styles cells are written with


class _Look(NamedTuple):
    """How a cell looks, as plain data; openpyxl makes a style of the workbook of each."""

    bold: bool = False
    italic: bool = False
    color: str = "FF000000"
    size: float = 11
    fill: str | None = None
    align: str | None = None  # a key of _ALIGNMENTS
    grid: bool = False  # thin grey lines all round
    number_format: str | None = None
    quoted: bool = False  # quotePrefix: Excel keeps the cell text when someone edits it


_ALIGNMENTS: dict[str, dict[str, Any]] = {
    "plain": {"horizontal": "left", "vertical": "top"},
    "wrap": {"horizontal": "left", "vertical": "top", "wrap_text": True},
    "head": {"horizontal": "left", "vertical": "bottom", "wrap_text": True},
}
_GRID_COLOR = "FFBFBFBF"
_HEADER_FILL = "FF1F4E78"
_BAND_FILLS = ("FFDDEBF7", "FFEDEDED")  # alternate departments
_DIAGONAL_FILL = "FFA6A6A6"
_GAP_FILL = "FFFFD966"  # a role that serves no one, a customer nobody supplies
# Matrix cells by number of products: 1, 2, 3 or more. The number is written too.
_COUNT_FILLS = ("FFE2EFDA", "FFA9D08E", "FF70AD47")
_NOTE_COLOR = "FF404040"

_LIST_LOOKS = {
    "header": _Look(bold=True, color="FFFFFFFF", fill=_HEADER_FILL, align="head"),
    "text": _Look(align="plain"),
    "prose": _Look(align="wrap"),
    "answer": _Look(align="wrap"),
    "code": _Look(color="FF595959", align="plain"),
    "number": _Look(align="plain"),
    "date": _Look(align="plain", number_format="yyyy-mm-dd"),
}

_CORNER = _Look(bold=True, fill=_BAND_FILLS[1], align="head", grid=True)
_LEGEND = _Look(
    italic=True, color=_NOTE_COLOR, size=9, fill=_BAND_FILLS[1], align="wrap", grid=True
)
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
    return _Look(
        fill=_COUNT_FILLS[min(count, len(_COUNT_FILLS)) - 1],
        align="wrap",
        grid=True,
        # Excel shows the number before the list; the cell's value stays the list itself.
        number_format=f'"({count}) "@',
    )


def _styles(ids: Mapping[_Look, int], look: _Look) -> tuple[int, int]:
    """The style ids of a look, plain and quote-prefixed."""
    return ids[look], ids[look._replace(quoted=True)]


# ---------------------------------------------------------------------------------------
# Shapes: all that openpyxl writes of a workbook


class _MatrixShape(NamedTuple):
    """What openpyxl writes of the Matrix sheet: everything but its rows."""

    customers: int
    counts: tuple[int, ...]  # the numbers of products its cells show: each has its format
    title: str = "Matrix"

    @property
    def looks(self) -> list[_Look]:
        looks = [_CORNER, _LEGEND, _DIAGONAL]
        for across, gap in ((True, _NO_SUPPLIER), (False, _SERVES_NO_ONE)):
            looks += [_title_look(band, marker, across) for band in (0, 1) for marker in ("", gap)]
            looks += [_department_look(band, across) for band in (0, 1)]
        return looks + [_count_look(count) for count in self.counts]


class _ListShape(NamedTuple):
    """What openpyxl writes of a list sheet: everything but its rows."""

    title: str
    columns: tuple[Column, ...]
    rows: int  # below the header
    filtered: bool = False  # filter buttons over the header and the rows
    table: bool = False  # the Hand-offs table and its Status drop-down

    @property
    def looks(self) -> list[_Look]:
        return list(_LIST_LOOKS.values())


@dataclass(frozen=True)
class _Shape:
    """Everything openpyxl writes of a workbook: when this is unchanged, so are those parts."""

    sheets: tuple[_MatrixShape | _ListShape, ...]

    @functools.cached_property
    def looks(self) -> tuple[_Look, ...]:
        """Every look the rows may use, plain and quote-prefixed, in a fixed order.

        All are made styles of the workbook, in this order, before anything is written: so
        each one's style id follows from the shape alone, whatever the rows hold. The list
        sheets' come first, and are the same in every workbook.
        """
        bases = list(_LIST_LOOKS.values())
        for sheet in self.sheets:
            bases += sheet.looks
        return tuple(
            dict.fromkeys(look for base in bases for look in (base, base._replace(quoted=True)))
        )


def _openpyxl_parts(shape: _Shape) -> tuple[dict[str, bytes], tuple[int, ...]]:
    """The parts openpyxl writes of `shape`, its sheets without rows; and each look's style id.

    This is given nothing but the shape: the digest of the shape then says whether these
    bytes would be the same.
    """
    from openpyxl import Workbook
    from openpyxl.cell.cell import Cell
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    workbook = Workbook(write_only=True)
    sheets = [workbook.create_sheet(sheet.title) for sheet in shape.sheets]
    side = Side(style="thin", color=_GRID_COLOR)
    grid = Border(left=side, right=side, top=side, bottom=side)
    styles: dict[_Look, Any] = {}
    ids: list[int] = []
    for look in shape.looks:
        # A cell of any sheet makes a style of the workbook; the style's id is its position
        # among the workbook's styles, which come in the order they are asked for.
        cell = Cell(sheets[0], row=1, column=1)
        cell.font = Font(
            name="Calibri", family=2, sz=look.size, b=look.bold, i=look.italic, color=look.color
        )
        if look.fill is not None:
            cell.fill = PatternFill(fill_type="solid", start_color=look.fill, end_color=look.fill)
        if look.align is not None:
            cell.alignment = Alignment(**_ALIGNMENTS[look.align])
        if look.grid:
            cell.border = grid
        if look.number_format is not None:
            cell.number_format = look.number_format
        cell.quotePrefix = look.quoted
        ids.append(cell.style_id)
        styles[look] = cell._style
    for sheet, sheet_shape in zip(sheets, shape.sheets, strict=True):
        if isinstance(sheet_shape, _MatrixShape):
            _matrix_structure(sheet, sheet_shape)
        else:
            _list_structure(sheet, sheet_shape, styles)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return ooxml.read_parts(buffer.getvalue()), tuple(ids)


def _matrix_structure(sheet: Any, shape: _MatrixShape) -> None:
    offset = MATRIX_FIRST_COLUMN - 1
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 18
    if shape.customers:
        grid = sheet.column_dimensions[_column_letter(MATRIX_FIRST_COLUMN)]
        grid.min, grid.max = MATRIX_FIRST_COLUMN, offset + shape.customers
        grid.width = MATRIX_COLUMN_WIDTH
    sheet.freeze_panes = f"{_column_letter(MATRIX_FIRST_COLUMN)}{MATRIX_FIRST_ROW}"
    _print_setup(sheet, f"1:{MATRIX_FIRST_ROW - 1}", f"A:{_column_letter(offset)}")
    sheet.print_options.horizontalCentered = True
    # A matrix is wide: narrow margins print it larger, and at the default ones LibreOffice
    # gives up fitting the example hospital's 36 columns to the page and adds a blank one.
    margins = sheet.page_margins
    margins.left = margins.right = 0.3
    margins.top = margins.bottom = 0.5
    margins.header = margins.footer = 0.25


def _list_structure(sheet: Any, shape: _ListShape, styles: Mapping[_Look, Any]) -> None:
    from openpyxl.worksheet.dimensions import ColumnDimension

    for number, column in enumerate(shape.columns, 1):
        letter = _column_letter(number)
        # The column's style is also what a cell typed in later (a Comment) looks like.
        sheet.column_dimensions[letter] = ColumnDimension(
            sheet, index=letter, width=column.width, style=styles[_LIST_LOOKS[column.style]]
        )
    sheet.freeze_panes = "A2"
    _print_setup(sheet, "1:1")
    last = _column_letter(len(shape.columns))
    if shape.filtered:
        sheet.auto_filter.ref = f"A1:{last}{max(shape.rows + 1, 2)}"
    if shape.table:
        _table(sheet, shape)


def _table(sheet: Any, shape: _ListShape) -> None:
    """The Hand-offs table, and the Status drop-down in each of its rows."""
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.filters import AutoFilter
    from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

    # A table needs a row below its header, even an empty one.
    last_row = max(shape.rows, 1) + 1
    ref = f"A1:{_column_letter(len(shape.columns))}{last_row}"
    table = Table(displayName=HANDOFFS_TABLE, ref=ref)
    table.tableColumns = [
        TableColumn(id=number, name=column.header) for number, column in enumerate(shape.columns, 1)
    ]
    table.autoFilter = AutoFilter(ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    sheet.tables.add(table)  # add_table() warns in write-only mode; the columns are set

    status = _column_letter(STATUS_COLUMN)
    validation = DataValidation(
        type="list",
        formula1='"' + ",".join(STATUS_OPTIONS) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Status",
        error=f"Choose {', '.join(STATUS_OPTIONS[:-1])} or {STATUS_OPTIONS[-1]}.",
        showInputMessage=True,
        promptTitle="Status",
        prompt="Is this hand-off right as written? Choose " + " / ".join(STATUS_OPTIONS),
    )
    validation.add(f"{status}2:{status}{last_row}")
    sheet.data_validations.append(validation)


def _print_setup(sheet: Any, title_rows: str, title_columns: str | None = None) -> None:
    """Landscape, as wide as one page, titles repeated on every page."""
    from openpyxl.worksheet.properties import PageSetupProperties

    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = title_rows
    if title_columns:
        sheet.print_title_cols = title_columns


# ---------------------------------------------------------------------------------------
# Sheets: their rows as values, written in blocks


class _Block(NamedTuple):
    """A run of a sheet's rows: `write(*args, ids)` makes their XML.

    So the digest of `args` and of the style ids says whether the XML would be the same.
    `key`, when given, is digested instead: something quicker to digest that says the same.
    Then `args` may be a function that makes them, called only if the block is not found
    unchanged in the earlier file.
    """

    write: Callable[..., str]
    args: tuple[Any, ...] | Callable[[], tuple[Any, ...]]
    key: tuple[Any, ...] | None = None

    @property
    def digested(self) -> tuple[Any, ...]:
        if self.key is not None:
            return self.key
        if callable(self.args):
            raise TypeError("a block made on demand is known by its key, and it has none")
        return self.args

    def xml(self, ids: Mapping[_Look, int]) -> str:
        args = self.args() if callable(self.args) else self.args
        return self.write(*args, ids)


def _not_known(start: int, end: int) -> None:
    """What rows `start` to `end` are made from, when nothing says: their values will."""
    return None


class RowSources(NamedTuple):
    """What the build read each role from: `files` by role id (`id=file=digest of its
    bytes`), read by the code whose digest is `code`.

    Given to `matrix_workbook`, they let a block of rows made only from unchanged files be
    known unchanged without its rows being made. The workbook's bytes then follow from the
    files as well as from what they say: right for the matrix, which changes with any file
    anyway, and not for a department's workbook, which is kept while its rows are unchanged.
    """

    files: Mapping[str, str]
    code: str
    # A digest of what else the Roles sheet shows of a role, when the build knows it: every
    # role's links (its customers and suppliers, the external customers it reaches, and its
    # title, so its manager's too) and the settings. Then a row follows from its role's file.
    structure: str = ""


def _rows_key(rows: Sequence[tuple[_Value, ...]]) -> str:
    """Rows as one text that tells them apart as well as repr() does, several times faster.

    Separators join the cells, rows and marked non-text values; the separators' counts
    prove that no value held one (role text cannot: the loader refuses control
    characters), else it is repr() after all.
    """
    width = len(rows[0]) if rows else 0
    text = "\x1e".join(
        "\x1f".join(value if type(value) is str else f"\x1d{value!r}" for value in row)
        for row in rows
    )
    marks = text.count("\x1d")  # none at all proves there is no value other than text
    others = marks and sum(type(value) is not str for row in rows for value in row)
    if (
        all(len(row) == width for row in rows)
        and text.count("\x1e") == max(len(rows) - 1, 0)
        and text.count("\x1f") == len(rows) * max(width - 1, 0)
        and marks == others
    ):
        return f"{len(rows)}x{width}\x1c{text}"
    return repr(rows)


BLOCK_ROWS = 128  # rows per block: a change remakes and recompresses only its block
_MAX_BLOCKS = 800  # a sheet's list of blocks must fit in its zip comment


def _blocks(rows: int) -> range:
    """Where each block of `rows` rows starts, from 0."""
    return range(0, rows, max(BLOCK_ROWS, math.ceil(rows / _MAX_BLOCKS)))


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
        starts = _blocks(self.rows)
        blocks = [_Block(_matrix_titles, (self.customers,))]
        for start in starts:
            end = start + starts.step
            told = self.sources(start, end)
            if told is None:
                blocks.append(_Block(_matrix_rows, (start, self.suppliers(start, end))))
            else:
                made = functools.partial(lambda s, e: (s, self.suppliers(s, e)), start, end)
                blocks.append(_Block(_matrix_rows, made, (start, told)))
        return blocks


def _matrix_sheet(organization: Organization, sources: RowSources | None = None) -> _MatrixSheet:
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

    # The numbers of products the cells show, each a number format of the sheet's shape:
    # how many names each role hands to each customer, counted without making the rows.
    named = {(h.supplier.id, h.customer.key, h.product) for h in organization.handoffs}
    counts = set(Counter((supplier, customer) for supplier, customer, _ in named).values())
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
        _MatrixShape(len(customers), tuple(sorted(counts))),
        tuple(
            (title, department, band, key not in supplied)
            for (key, title, department), band in zip(customers, bands, strict=True)
        ),
        len(roles),
        suppliers,
        told,
    )


_CORNER_TEXT = "Supplier ↓   Customer →"
_LEGEND_TEXT = (
    "(n): the number of products handed over. Grey: the role itself. "
    "Yellow: serves no one, or nobody supplies it."
)


def _matrix_titles(customers: tuple[_Customer, ...], ids: Mapping[_Look, int]) -> str:
    """Rows 1 and 2: each customer's title, then its department."""
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
        _lines(title + gap, MATRIX_COLUMN_WIDTH, BOLD)
        for (title, *_), gap in zip(customers, gaps, strict=True)
    ]
    rows = [_row(1, cells, max(lines, default=1) * LINE_POINTS)]

    departments = [_styles(ids, _department_look(band, True)) for band in (0, 1)]
    cells = [
        _text_cell("A2", _LEGEND_TEXT, _styles(ids, _LEGEND)),
        _empty_cell("B2", departments[1][0]),
    ]
    cells += [
        _text_cell(f"{letters[offset + index]}2", department, departments[band])
        for index, (_, department, band, _) in enumerate(customers)
    ]
    lines = [_lines(department, MATRIX_COLUMN_WIDTH) for _, department, *_ in customers]
    points = max(_lines(_LEGEND_TEXT, 30, 0.8) * 12.0, max(lines, default=1) * LINE_POINTS)
    rows.append(_row(2, cells, points))
    return "".join(rows)


def _matrix_rows(start: int, suppliers: tuple[_Supplier, ...], ids: Mapping[_Look, int]) -> str:
    """The rows of the supplier roles from position `start` on."""
    offset = MATRIX_FIRST_COLUMN - 1
    titles = {
        (band, gap): _styles(ids, _title_look(band, gap, False))
        for band in (0, 1)
        for gap in ("", _SERVES_NO_ONE)
    }
    departments = [_styles(ids, _department_look(band, False)) for band in (0, 1)]
    diagonal = ids[_DIAGONAL]
    counts: dict[int, tuple[int, int]] = {}
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
        lines = max(_lines(title + gap, 30, BOLD), _lines(department, 18))
        found: list[tuple[int, str]] = []
        for column, names in products:
            count = len(names)
            if count not in counts:
                counts[count] = _styles(ids, _count_look(count))
            listed = _product_list(list(names))
            ref = f"{letters[offset + column]}{number}"
            found.append((column, _text_cell(ref, listed, counts[count])))
            lines = max(lines, _lines(f"({count}) {listed}", MATRIX_COLUMN_WIDTH))
        if all(column != index for column, _ in products):  # grey: the role itself
            found.append((index, _empty_cell(f"{letters[offset + index]}{number}", diagonal)))
        cells += [cell for _, cell in sorted(found, key=lambda item: item[0])]
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


_Value = str | int | datetime.date | None


class _ListSheet(NamedTuple):
    """A sheet of rows under a frozen header row (Hand-offs, Roles, Findings).

    `rows(start, end)` makes those rows; `sources(start, end)` says what they are made from,
    when a build knows (None otherwise).
    """

    shape: _ListShape
    rows: Callable[[int, int], tuple[tuple[_Value, ...], ...]]
    sources: Callable[[int, int], str | None] = _not_known

    def blocks(self) -> list[_Block]:
        columns = self.shape.columns
        starts = _blocks(self.shape.rows)
        blocks = [_Block(_list_header, (columns,))]
        named = repr(columns)  # the columns in each block's key, as text made once
        for start in starts:
            end = start + starts.step
            told = self.sources(start, end)
            if told is None:
                rows = self.rows(start, end)
                blocks.append(
                    _Block(
                        _list_rows, (start + 2, columns, rows), (start + 2, named, _rows_key(rows))
                    )
                )
            else:
                made = functools.partial(lambda s, e: (s + 2, columns, self.rows(s, e)), start, end)
                blocks.append(_Block(_list_rows, made, (start + 2, named, "files", told)))
        return blocks


def _list_sheet(
    title: str,
    columns: tuple[Column, ...],
    rows: Iterable[tuple[_Value, ...]],
    *,
    filtered: bool = False,
    table: bool = False,
) -> _ListSheet:
    values = tuple(rows)
    shape = _ListShape(title, columns, len(values), filtered, table)
    return _ListSheet(shape, lambda start, end: values[start:end])


def _list_header(columns: tuple[Column, ...], ids: Mapping[_Look, int]) -> str:
    letters = _column_letters(len(columns))[: len(columns)]
    header = _styles(ids, _LIST_LOOKS["header"])
    lines = max(_lines(column.header, column.width, BOLD) for column in columns)
    cells = [
        _text_cell(f"{letter}1", column.header, header)
        for letter, column in zip(letters, columns, strict=True)
    ]
    return _row(1, cells, lines * LINE_POINTS)


def _list_rows(
    first: int,
    columns: tuple[Column, ...],
    rows: tuple[tuple[_Value, ...], ...],
    ids: Mapping[_Look, int],
) -> str:
    """Rows from row number `first` on: text as text, numbers and dates as numbers."""
    letters = _column_letters(len(columns))[: len(columns)]
    styles = [_styles(ids, _LIST_LOOKS[column.style]) for column in columns]
    # Only prose wraps, so only prose makes a row taller.
    widths = [column.width if column.style == "prose" else 0 for column in columns]
    xml = []
    for number, values in enumerate(rows, first):
        cells = []
        lines = 1
        for letter, style, width, value in zip(letters, styles, widths, values, strict=True):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                cells.append(_text_cell(f"{letter}{number}", value, style))
                if width:
                    lines = max(lines, _lines(value, width))
            else:
                stored = _serial(value) if isinstance(value, datetime.date) else value
                cells.append(f'<c r="{letter}{number}" s="{style[0]}" t="n"><v>{stored}</v></c>')
        xml.append(_row(number, cells, lines * LINE_POINTS))
    return "".join(xml)


def _handoffs_sheet(
    handoffs: Sequence[HandOff], reviews: CarriedReviews, sources: RowSources | None = None
) -> _ListSheet:
    shape = _ListShape(HANDOFFS_SHEET, HANDOFF_COLUMNS, len(handoffs), table=True)

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


def _roles_sheet(organization: Organization, sources: RowSources | None = None) -> _ListSheet:
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

    shape = _ListShape("Roles", ROLE_COLUMNS, len(roles), filtered=True)
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


def _findings_sheet(warnings: Sequence[Finding]) -> _ListSheet:
    if not warnings:
        return _list_sheet("Findings", FINDING_COLUMNS, [("none", "", "", None, None, NO_WARNINGS)])
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
    return _list_sheet("Findings", FINDING_COLUMNS, rows, filtered=True)


# ---------------------------------------------------------------------------------------
# Cells, rows and row heights

# What a text cell's XML cannot hold as it is: characters to escape or replace.
_SPECIAL = re.compile("[&<>\r\n\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text_cell(ref: str, text: str, styles: tuple[int, int]) -> str:
    """A cell that holds `text` as text, whatever it starts with: never a formula or error."""
    if not text:
        return _empty_cell(ref, styles[0])  # an empty string cell is not valid XML
    # Quote-prefixed, so that Excel keeps it text when someone edits the cell.
    style = styles[1] if _RETYPED.match(text) else styles[0]
    space = ""
    if (
        _SPECIAL.search(text) is not None
        or len(text) > CELL_MAX
        or text[0].isspace()
        or text[-1].isspace()
    ):
        text = cell_text(text)
        if "\n" in text or text != text.strip():
            space = ' xml:space="preserve"'
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        text = text.replace("\r", "&#13;")  # a parser reads a bare carriage return as a newline
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _empty_cell(ref: str, style: int) -> str:
    return f'<c r="{ref}" s="{style}"/>'


_EXCEL_EPOCH = datetime.date(1899, 12, 30)


def _serial(day: datetime.date) -> int:
    """A date as the number Excel stores, in the 1900 date system, as openpyxl writes it."""
    days = (day - _EXCEL_EPOCH).days
    if 0 < days <= 60:  # Excel counts a 29 February 1900 that never was
        days -= 1
    return days


_LETTERS: list[str] = []


def _column_letter(number: int) -> str:
    """A, B, ..., Z, AA, ...: the letters of the column `number` (from 1)."""
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _column_letters(count: int) -> list[str]:
    """The letters of at least the first `count` columns, made once."""
    _LETTERS.extend(_column_letter(n) for n in range(len(_LETTERS) + 1, count + 1))
    return _LETTERS


LINE_POINTS = 15.0  # the height of a line of 11-point Calibri
BOLD = 1.25  # how much wider bold text runs
MAX_ROW_POINTS = 409.0  # the tallest row Excel allows


def _row(number: int, cells: Iterable[str], points: float) -> str:
    """A row, with the height it needs when that is more than one line."""
    height = ""
    if points > LINE_POINTS:
        height = f' ht="{min(points + 3, MAX_ROW_POINTS):g}" customHeight="1"'
    return f'<row r="{number}"{height}>{"".join(cells)}</row>'


def _lines(text: str, width: float, per_character: float = 1.0) -> int:
    """How many lines `text` wraps to in a column `width` characters wide (an estimate).

    Applications do not size rows to wrapped text on opening a file (LibreOffice never
    does), so rows get a height from this, written out like any other attribute.
    """
    room = max(int(width * 1.2 / per_character), 1)
    if len(text) <= room and "\n" not in text:
        return 1
    count = 0
    for paragraph in text.split("\n"):
        lines, used = 1, 0
        for word in paragraph.split(" "):
            size = len(word)
            if used and used + 1 + size > room:
                lines, used = lines + 1, 0
            used = used + 1 + size if used else size
            if used > room:  # a word longer than the line breaks where it must
                extra = math.ceil(used / room) - 1
                lines, used = lines + extra, used - extra * room
        count += lines
    return count


# ---------------------------------------------------------------------------------------
# Packages, and what is reused from an earlier one
#
# Every part but the core properties carries a note in its zip comment: the digest of what
# it is made from, then any details, sealed by a checksum of the note and of the bytes
# stored. The structure (what openpyxl writes) is made from the shape; the note of its
# styles part also lists the style id of each look, so that rows can be written without
# openpyxl. A sheet is compressed in pieces, its XML before the rows, each block of rows
# and its XML after them, and its note lists each piece's digest, compressed size, CRC and
# size: a changed block is made and compressed again, the others are copied.

_CORE = "docProps/core.xml"
_APP = "docProps/app.xml"
_STYLES = "xl/styles.xml"
_SHEET_DATA = re.compile(r"<sheetData(?:\s*/>|>.*</sheetData>)", re.S)
_COMMENT_MAX = 65_535  # the longest comment a zip entry can hold

# A fixed docProps/app.xml: openpyxl's names its own version, which would change the bytes
# of every file whenever openpyxl is upgraded.
_APP_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'extended-properties"><Application>jobdefs</Application></Properties>'
)

_Sheet = _MatrixSheet | _ListSheet


class _Unusable(Exception):
    """The earlier package lacks a piece its notes promised: it cannot be built on."""


class _Structure(NamedTuple):
    """A package but for what every build makes: its sheets' rows and core properties.

    `parts` come in package order, each part a build makes named in its place; `ids` are
    the style ids of the shape's looks, in order; `frames` hold each sheet's XML before
    and after its rows, when openpyxl has just written them.
    """

    parts: list[ooxml.Part | str]
    ids: tuple[int, ...]
    frames: Mapping[str, tuple[str, str]]

    def frame(self, name: str) -> tuple[str, str]:
        if name not in self.frames:
            raise _Unusable(f"{name}: its rows changed and its frame is not there to reuse")
        return self.frames[name]


def _package(
    sheets: Sequence[_Sheet], title: str, moment: datetime.datetime, previous: bytes | None
) -> bytes:
    earlier = _stored(previous)
    if earlier:
        try:
            return _assemble(sheets, title, moment, earlier)
        except _Unusable:
            pass  # damaged where its notes could not tell: make it all afresh
    return _assemble(sheets, title, moment, {})


def _assemble(
    sheets: Sequence[_Sheet],
    title: str,
    moment: datetime.datetime,
    earlier: Mapping[str, ooxml.Part],
) -> bytes:
    shape = _Shape(tuple(sheet.shape for sheet in sheets))
    digest = _digest("structure", shape)
    structure = _reused_structure(earlier, shape, digest) or _new_structure(shape, digest)
    ids = dict(zip(shape.looks, structure.ids, strict=True))
    styles = _digest("styles", tuple(ids.items()))  # the same for every sheet
    by_part = {_sheet_part(number): sheet for number, sheet in enumerate(sheets, 1)}
    parts: list[ooxml.Part] = []
    for part in structure.parts:
        if isinstance(part, ooxml.Part):
            parts.append(part)
        elif part == _CORE:
            core = ooxml.core_properties(cell_text(title), moment)
            parts.append(ooxml.Part.of(_CORE, core))
        else:
            parts.append(_sheet(part, by_part[part], structure, ids, styles, earlier.get(part)))
    return ooxml.write_package(parts, moment)


def _sheet(
    name: str,
    sheet: _Sheet,
    structure: _Structure,
    ids: Mapping[_Look, int],
    styles: str,
    earlier: ooxml.Part | None,
) -> ooxml.Part:
    """A sheet part, copied from the earlier one as far as its digests allow. `styles` is
    the digest of the style ids `ids`."""
    blocks = sheet.blocks()
    keys = [
        _digest("head", name, sheet.shape, styles),
        *(_digest(block.write.__qualname__, block.digested, styles) for block in blocks),
        _digest("tail", name, sheet.shape, styles),
    ]
    digest = _digest("sheet", keys)
    note = None if earlier is None else _note(earlier)
    if earlier is not None and note is not None and note.partition(" ")[0] == digest:
        return earlier
    stored = {} if earlier is None or note is None else _pieces(earlier, note)
    if name in structure.frames:
        # openpyxl has just written the sheet's frame: take it from there, whatever is stored.
        stored.pop(keys[0], None)
        stored.pop(keys[-1], None)

    def make(index: int) -> str:
        if index == 0:
            return structure.frame(name)[0] + "<sheetData>"
        if index == len(blocks) + 1:
            return "</sheetData>" + structure.frame(name)[1]
        return blocks[index - 1].xml(ids)

    pieces = [
        stored.get(key) or ooxml.Piece.of(make(index).encode()) for index, key in enumerate(keys)
    ]
    listed = ";".join(
        f"{key}:{len(piece.compressed)}:{piece.crc}:{piece.size}"
        for key, piece in zip(keys, pieces, strict=True)
    )
    note = f"{digest} {listed}"
    if len(note) > _COMMENT_MAX - 16:
        note = digest  # too many pieces to list: the sheet is reused whole or not at all
    return _noted(ooxml.Part.joined(name, pieces), note)


def _pieces(part: ooxml.Part, note: str) -> dict[str, ooxml.Piece]:
    """The pieces an earlier sheet part is made of, by digest, as its note lists them."""
    listed = [entry.split(":") for entry in note.partition(" ")[2].split(";")]
    if not all(len(entry) == 4 and all(n.isdigit() for n in entry[1:]) for entry in listed):
        return {}
    try:
        pieces = part.split((int(stored), int(crc), int(size)) for _, stored, crc, size in listed)
    except ValueError:
        return {}
    return {key: piece for (key, *_), piece in zip(listed, pieces, strict=True)}


def _new_structure(shape: _Shape, digest: str) -> _Structure:
    made, ids = _openpyxl_parts(shape)
    sheets = {_sheet_part(number) for number in range(1, len(shape.sheets) + 1)}
    if not sheets | {_CORE} <= made.keys():
        raise AssertionError(f"openpyxl did not write the parts expected: {sorted(made)}")
    parts: list[ooxml.Part | str] = []
    frames: dict[str, tuple[str, str]] = {}
    for name, data in made.items():
        if name in sheets:
            xml = data.decode()
            found = _SHEET_DATA.search(xml)
            if found is None:
                raise AssertionError(f"openpyxl wrote {name} without sheetData")
            frames[name] = xml[: found.start()], xml[found.end() :]
            parts.append(name)
        elif name == _CORE:
            parts.append(name)
        else:
            note = f"{digest} {','.join(map(str, ids))}" if name == _STYLES else digest
            parts.append(_noted(ooxml.Part.of(name, _APP_XML if name == _APP else data), note))
    return _Structure(parts, ids, frames)


def _reused_structure(
    earlier: Mapping[str, ooxml.Part], shape: _Shape, digest: str
) -> _Structure | None:
    """The earlier package's structure, if it was made from this same shape."""
    made = {_CORE} | {_sheet_part(number) for number in range(1, len(shape.sheets) + 1)}
    if not made <= earlier.keys():
        return None
    parts: list[ooxml.Part | str] = []
    ids: tuple[int, ...] = ()
    for name, part in earlier.items():
        if name in made:
            parts.append(name)
            continue
        note = _note(part)
        if note is not None and name == _STYLES:
            note, _, listed = note.partition(" ")
            ids = tuple(int(n) for n in listed.split(",") if n.isdigit())
        if note != digest:
            return None
        parts.append(part)
    if len(ids) != len(shape.looks):
        return None
    return _Structure(parts, ids, {})


def _sheet_part(number: int) -> str:
    return f"xl/worksheets/sheet{number}.xml"


def _stored(previous: bytes | None) -> dict[str, ooxml.Part]:
    """The parts of an earlier package, as stored; none when it cannot be built on."""
    if previous is None or _maker() is None:
        return {}
    try:
        return ooxml.stored_parts(previous)
    except ValueError:
        return {}


def _seal(note: bytes, part: ooxml.Part) -> bytes:
    check = zlib.crc32(note + struct.pack("<II", part.crc, part.size))
    return b"%08x" % zlib.crc32(part.compressed, check)


def _noted(part: ooxml.Part, note: str) -> ooxml.Part:
    """`part` with `note` in its zip comment, sealed to the bytes stored."""
    raw = note.encode("ascii")
    return replace(part, comment=raw + b" " + _seal(raw, part))


def _note(part: ooxml.Part) -> str | None:
    """The note in a part's zip comment; None when its seal does not match what is stored."""
    raw, _, seal = part.comment.rpartition(b" ")
    if not raw or not raw.isascii() or seal != _seal(raw, part):
        return None
    return raw.decode("ascii")


def _digest(*inputs: object) -> str:
    """A digest of everything a part is made from, and of what makes it (see _maker)."""
    data = repr(inputs).encode("utf-8", "backslashreplace")
    return hashlib.blake2b(data, key=_maker() or b"", digest_size=16).hexdigest()


@functools.cache
def _maker() -> bytes | None:
    """A digest of what turns inputs into bytes: this code, openpyxl, lxml, Python and zlib.

    Other versions of them may write other bytes from the same inputs, so a part is reused
    only from a package they made. Read from their files, not their modules: importing
    openpyxl takes a third of a second, which a build that reuses everything need not pay.
    None when one of them cannot be read: then nothing is reused.
    """
    files = [Path(__file__), Path(ooxml.__file__ or "")]
    spec = importlib.util.find_spec("openpyxl")
    if spec is None or not spec.submodule_search_locations:
        return None
    files.append(Path(next(iter(spec.submodule_search_locations))) / "_constants.py")
    for package in ("lxml", "et_xmlfile"):  # openpyxl writes XML with one or the other
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin:
            files.append(Path(spec.origin))
    hasher = hashlib.blake2b(digest_size=32)
    try:
        for path in files:
            hasher.update(path.read_bytes())
    except OSError:
        return None
    versions = (sys.version, zlib.ZLIB_RUNTIME_VERSION, os.environ.get("OPENPYXL_LXML"))
    hasher.update(repr(versions).encode())
    return hasher.digest()
