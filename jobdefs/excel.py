"""Model -> .xlsx: the internal-customer matrix and one review workbook per department.

Everything is written with openpyxl's write-only (streaming) worksheets: rows go out as they
are made and the matrix's empty cells are never created, so memory follows the number of
hand-offs, not roles². Each style is registered once per workbook and cells copy its small
index array, which keeps 1,000 roles fast.

Role text never becomes a formula or an error value: every text cell is stored as a string
whatever it starts with (`=`, `+`, `-`, `@`, `#N/A`). The same organization and moment give
the same bytes.
"""

from __future__ import annotations

import datetime
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from copy import copy
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.dimensions import ColumnDimension
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from jobdefs import ooxml
from jobdefs.model import EXTERNAL_DEPARTMENT, Finding, HandOff, Organization, Party

MATRIX_FILE = "internal-customer-matrix.xlsx"
DEPARTMENTS_FOLDER = "departments"
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


@dataclass(frozen=True)
class Column:
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
) -> bytes:
    """internal-customer-matrix.xlsx: the sheets Matrix, Hand-offs, Roles and Findings."""
    book = _Book()
    _write_matrix(book, organization)
    _write_handoffs(book, organization.handoffs, reviews)
    _write_roles(book, organization)
    _write_findings(book, warnings)
    return book.save(f"{organization.name}: internal-customer matrix", moment)


def department_workbooks(
    organization: Organization,
    moment: datetime.datetime,
    reviews: CarriedReviews = NO_REVIEWS,
    only: Iterable[str] | None = None,
) -> dict[str, bytes]:
    """One review workbook per department, keyed by its slug (departments/<slug>.xlsx).

    Each holds the Hand-offs rows in which one of the department's roles is the supplier or
    the customer, with the same columns, drop-down and table as the organization's workbook.
    `only` limits them to these slugs (the ones a build found out of date).
    """
    wanted = None if only is None else set(only)
    by_department = handoffs_by_department(organization)
    workbooks: dict[str, bytes] = {}
    for department, slug in department_slugs(organization.departments()).items():
        if wanted is not None and slug not in wanted:
            continue
        book = _Book()
        _write_handoffs(book, by_department[department], reviews)
        workbooks[slug] = book.save(f"{organization.name}: {department} hand-offs", moment)
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


def handoffs_by_department(organization: Organization) -> dict[str, list[HandOff]]:
    """The hand-offs each department's review workbook holds, in the organization's order."""
    grouped: dict[str, list[HandOff]] = {d: [] for d in organization.departments()}
    for handoff in organization.handoffs:
        for department in dict.fromkeys((handoff.supplier.department, handoff.customer.department)):
            if department in grouped and involves(handoff, department):
                grouped[department].append(handoff)
    return grouped


def involves(handoff: HandOff, department: str) -> bool:
    """Whether a department's review workbook holds this hand-off."""
    return handoff.supplier.department == department or (
        handoff.customer.kind == "role" and handoff.customer.department == department
    )


# ---------------------------------------------------------------------------------------
# Styles, cells and row heights


def _font(
    *, bold: bool = False, italic: bool = False, color: str = "FF000000", size: float = 11
) -> Font:
    return Font(name="Calibri", family=2, sz=size, b=bold, i=italic, color=color)


def _fill(rgb: str) -> PatternFill:
    return PatternFill(fill_type="solid", start_color=rgb, end_color=rgb)


_THIN = Side(style="thin", color="FFBFBFBF")
_GRID = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_PLAIN = Alignment(horizontal="left", vertical="top")
_WRAP = Alignment(horizontal="left", vertical="top", wrap_text=True)
_HEAD = Alignment(horizontal="left", vertical="bottom", wrap_text=True)
_BODY = _font()
_BOLD = _font(bold=True)
_NOTE = _font(italic=True, color="FF404040")
_SMALL = _font(italic=True, color="FF404040", size=9)
_CODE = _font(color="FF595959")
_WHITE_BOLD = _font(bold=True, color="FFFFFFFF")

_HEADER_FILL = _fill("FF1F4E78")
_BAND_FILLS = (_fill("FFDDEBF7"), _fill("FFEDEDED"))  # alternate departments
_DIAGONAL_FILL = _fill("FFA6A6A6")
_GAP_FILL = _fill("FFFFD966")  # a role that serves no one, a customer nobody supplies
# Matrix cells by number of products: 1, 2, 3 or more. The number is written too.
_COUNT_FILLS = (_fill("FFE2EFDA"), _fill("FFA9D08E"), _fill("FF70AD47"))

_LIST_STYLES: dict[str, dict[str, Any]] = {
    "header": {"font": _WHITE_BOLD, "fill": _HEADER_FILL, "alignment": _HEAD},
    "text": {"font": _BODY, "alignment": _PLAIN},
    "prose": {"font": _BODY, "alignment": _WRAP},
    "answer": {"font": _BODY, "alignment": _WRAP},
    "code": {"font": _CODE, "alignment": _PLAIN},
    "number": {"font": _BODY, "alignment": _PLAIN},
    "date": {"font": _BODY, "alignment": _PLAIN, "number_format": "yyyy-mm-dd"},
}

# A fixed docProps/app.xml: openpyxl's names its own version, which would change the bytes
# of every file whenever openpyxl is upgraded.
_APP_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'extended-properties"><Application>jobdefs</Application></Properties>'
)


class _Book:
    """A write-only workbook, its shared styles, and the cells made with them."""

    def __init__(self) -> None:
        self.workbook = Workbook(write_only=True)
        self._styles: dict[object, Any] = {}
        self._first_sheet: Any = None
        self._sheets = 0
        # Rows written as XML by us rather than cell by cell by openpyxl, by sheet part.
        self.streamed: dict[str, _StreamedRows] = {}

    def sheet(self, title: str) -> Any:
        sheet = self.workbook.create_sheet(title)
        if self._first_sheet is None:
            self._first_sheet = sheet
        self._sheets += 1
        sheet._jobdefs_part = f"xl/worksheets/sheet{self._sheets}.xml"
        return sheet

    def style(
        self,
        key: object,
        *,
        font: Font = _BODY,
        fill: PatternFill | None = None,
        alignment: Alignment | None = None,
        border: Border | None = None,
        number_format: str | None = None,
    ) -> Any:
        """The style array registered for `key`, made the first time it is asked for."""
        found = self._styles.get(key)
        if found is None:
            # Styles belong to the workbook; any of its sheets can hold the model cell.
            model = Cell(self._first_sheet, row=1, column=1)
            model.font = font
            if fill is not None:
                model.fill = fill
            if alignment is not None:
                model.alignment = alignment
            if border is not None:
                model.border = border
            if number_format is not None:
                model.number_format = number_format
            found = self._styles[key] = copy(model._style)
        return found

    def list_style(self, name: str) -> Any:
        return self.style(name, **_LIST_STYLES[name])

    @staticmethod
    def text(sheet: Any, text: str, style: Any) -> Any:
        """A cell that holds `text` as text, whatever it starts with."""
        if not text:
            return _Book.value(sheet, None, style)  # an empty string cell is not valid XML
        cell = Cell(sheet, row=1, column=1, style_array=style)
        cell.value = cell_text(text)
        # openpyxl takes '=...' for a formula and '#N/A' for an error; role text is neither.
        cell.data_type = "s"
        if _RETYPED.match(text):
            cell.quotePrefix = True  # so Excel keeps it text when someone edits the cell
        return cell

    @staticmethod
    def value(sheet: Any, value: int | datetime.date | None, style: Any) -> Any:
        cell = Cell(sheet, row=1, column=1, style_array=style)
        cell.value = value
        return cell

    def save(self, title: str, moment: datetime.datetime) -> bytes:
        buffer = io.BytesIO()
        self.workbook.save(buffer)
        replace = {
            "docProps/core.xml": ooxml.core_properties(cell_text(title), moment),
            "docProps/app.xml": _APP_XML,
        }
        if self.streamed:
            parts = ooxml.read_parts(buffer.getvalue())
            for part, rows in self.streamed.items():
                replace[part] = rows.splice(parts[part].decode()).encode()
        return ooxml.repack(buffer.getvalue(), moment, replace=replace)


_SAMPLE = "\ue000sample\ue000"  # marks the rows whose styles the streamed rows reuse
_SAMPLE_ROWS = re.compile(r'<row r="2"[^>]*>(.*?)</row><row r="3"[^>]*>(.*?)</row>', re.S)
_STYLE_ID = re.compile(r' s="(\d+)"')


class _StreamedRows:
    """The data rows of a list sheet, written as XML directly.

    openpyxl spends some 30 µs on each cell; a review workbook of a large organization has
    hundreds of thousands. openpyxl still writes the sheet (columns, header, table,
    validation, print setup) with two sample rows that register each column's styles, plain
    and quote-prefixed; `splice` swaps those for the real rows, reusing the style ids.
    """

    def __init__(self, columns: int) -> None:
        self.columns = columns
        self.rows: list[str] = []

    def add(self, number: int, values: Sequence[str], height: float | None) -> None:
        cells = []
        for index, value in enumerate(values):
            if not value:
                continue
            text = escape(cell_text(value))
            space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
            # Placeholders {p<i>} and {q<i>} become the plain and quote-prefixed style ids.
            style = "q" if _RETYPED.match(value) else "p"
            cells.append(
                f'<c r="{_COLUMN_LETTERS[index]}{number}" s="{{{style}{index}}}" '
                f't="inlineStr"><is><t{space}>{text}</t></is></c>'
            )
        size = f' ht="{height:g}" customHeight="1"' if height else ""
        self.rows.append(f'<row r="{number}"{size}>{"".join(cells)}</row>')

    def splice(self, xml: str) -> str:
        found = _SAMPLE_ROWS.search(xml)
        if found is None:
            raise AssertionError("the sample rows of a streamed sheet are missing")
        plain, quoted = (_STYLE_ID.findall(found.group(n)) for n in (1, 2))
        styles = {f"p{i}": plain[i] for i in range(self.columns)}
        styles |= {f"q{i}": quoted[i] for i in range(self.columns)}
        body = "".join(self.rows)
        for key, value in styles.items():
            body = body.replace(f's="{{{key}}}"', f's="{value}"')
        return xml[: found.start()] + body + xml[found.end() :]


_COLUMN_LETTERS = [get_column_letter(n) for n in range(1, 65)]


LINE_POINTS = 15.0  # the height of a line of 11-point Calibri
BOLD = 1.25  # how much wider bold text runs
MAX_ROW_POINTS = 409.0  # the tallest row Excel allows


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


def _set_height(sheet: Any, row: int, points: float) -> None:
    """Give a row that needs more than one line the height it needs (before it is written)."""
    if points > LINE_POINTS:
        sheet.row_dimensions[row].height = min(points + 3, MAX_ROW_POINTS)


def _print_setup(sheet: Any, title_rows: str, title_columns: str | None = None) -> None:
    """Landscape, as wide as one page, titles repeated on every page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = title_rows
    if title_columns:
        sheet.print_title_cols = title_columns


# ---------------------------------------------------------------------------------------
# Matrix


def _write_matrix(book: _Book, organization: Organization) -> None:
    """Supplier roles down, customers across (roles in the same order, then externals)."""
    roles = organization.roles
    customers: list[Party] = [organization.party(role) for role in roles]
    customers += [
        Party("external", x.id, x.name, EXTERNAL_DEPARTMENT)
        for x in organization.external_customers
    ]
    position = {party.key: index for index, party in enumerate(customers)}
    # A role listing itself does not count as a supplier or a customer here.
    supplied = {
        h.customer.key
        for h in organization.handoffs
        if h.customer.kind == "external" or h.customer.id != h.supplier.id
    }
    bands = _bands(party.department for party in customers)
    offset = MATRIX_FIRST_COLUMN - 1

    sheet = book.sheet("Matrix")
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 18
    if customers:
        grid = sheet.column_dimensions[get_column_letter(MATRIX_FIRST_COLUMN)]
        grid.min, grid.max = MATRIX_FIRST_COLUMN, offset + len(customers)
        grid.width = MATRIX_COLUMN_WIDTH
    sheet.freeze_panes = f"{get_column_letter(MATRIX_FIRST_COLUMN)}{MATRIX_FIRST_ROW}"
    _print_setup(sheet, f"1:{MATRIX_FIRST_ROW - 1}", f"A:{get_column_letter(offset)}")
    sheet.print_options.horizontalCentered = True

    no_supplier, serves_no_one = "  (nobody supplies this)", "  (serves no one)"

    def title(band: int, gap: str, across: bool) -> Any:
        return book.style(
            ("title", band % 2, gap, across),
            font=_BOLD,
            fill=_GAP_FILL if gap else _BAND_FILLS[band % 2],
            alignment=_HEAD if across else _WRAP,
            border=_GRID,
            # The marker is shown after the title without becoming part of its value.
            number_format=f'@"{gap}"' if gap else None,
        )

    def department(band: int, across: bool) -> Any:
        return book.style(
            ("department", band % 2, across),
            font=_NOTE,
            fill=_BAND_FILLS[band % 2],
            alignment=_HEAD if across else _WRAP,
            border=_GRID,
        )

    corner = book.style("corner", font=_BOLD, fill=_BAND_FILLS[1], alignment=_HEAD, border=_GRID)
    legend = book.style("legend", font=_SMALL, fill=_BAND_FILLS[1], alignment=_WRAP, border=_GRID)
    text = book.text

    gaps = ["" if party.key in supplied else no_supplier for party in customers]
    title_lines = [
        _lines(p.title + gap, MATRIX_COLUMN_WIDTH, BOLD)
        for p, gap in zip(customers, gaps, strict=True)
    ]
    _set_height(sheet, 1, max(title_lines, default=1) * LINE_POINTS)
    sheet.append(
        [
            text(sheet, "Supplier ↓   Customer →", corner),
            text(sheet, "Department", corner),
            *(
                text(sheet, party.title, title(bands[i], gaps[i], True))
                for i, party in enumerate(customers)
            ),
        ]
    )

    legend_text = (
        "(n): the number of products handed over. Grey: the role itself. "
        "Yellow: serves no one, or nobody supplies it."
    )
    department_lines = [_lines(p.department, MATRIX_COLUMN_WIDTH) for p in customers]
    _set_height(
        sheet,
        2,
        max(_lines(legend_text, 30, 0.8) * 12.0, max(department_lines, default=1) * LINE_POINTS),
    )
    sheet.append(
        [
            text(sheet, legend_text, legend),
            book.value(sheet, None, department(1, True)),
            *(
                text(sheet, party.department, department(bands[i], True))
                for i, party in enumerate(customers)
            ),
        ]
    )

    diagonal = book.style("diagonal", fill=_DIAGONAL_FILL, border=_GRID)
    for index, role in enumerate(roles):
        products: dict[int, dict[str, None]] = {}
        for handoff in organization.handoffs_from(role.id):
            products.setdefault(position[handoff.customer.key], {})[handoff.product] = None
        gap = "" if any(column != index for column in products) else serves_no_one
        band = bands[index]
        cells: list[Any] = [None] * (offset + len(customers))
        cells[0] = text(sheet, role.title, title(band, gap, False))
        cells[1] = text(sheet, role.department, department(band, False))
        lines = max(_lines(role.title + gap, 30, BOLD), _lines(role.department, 18))
        for column, names in products.items():
            count = len(names)
            listed = _product_list(list(names))
            cells[offset + column] = text(sheet, listed, _count_style(book, count))
            lines = max(lines, _lines(f"({count}) {listed}", MATRIX_COLUMN_WIDTH))
        if index not in products:
            cells[offset + index] = book.value(sheet, None, diagonal)
        _set_height(sheet, MATRIX_FIRST_ROW + index, lines * LINE_POINTS)
        sheet.append(cells)


def _count_style(book: _Book, count: int) -> Any:
    return book.style(
        ("count", count),
        fill=_COUNT_FILLS[min(count, len(_COUNT_FILLS)) - 1],
        alignment=_WRAP,
        border=_GRID,
        # Excel shows the number before the list; the cell's value stays the list itself.
        number_format=f'"({count}) "@',
    )


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


# ---------------------------------------------------------------------------------------
# Hand-offs, Roles, Findings


class _ListSheet:
    """A sheet of rows under a frozen header row, one row per call to `append`.

    Each column has one styled cell that every row reuses: openpyxl writes a row out as soon
    as it is appended, so the cell is free again for the next row.
    """

    def __init__(
        self, book: _Book, title: str, columns: Sequence[Column], streamed: bool = False
    ) -> None:
        self.sheet = sheet = book.sheet(title)
        self.columns = columns
        styles = [book.list_style(column.style) for column in columns]
        for number, (column, style) in enumerate(zip(columns, styles, strict=True), 1):
            letter = get_column_letter(number)
            # The column's style is also what a cell typed in later (a Comment) looks like.
            sheet.column_dimensions[letter] = ColumnDimension(
                sheet, index=letter, width=column.width, style=style
            )
        sheet.freeze_panes = "A2"
        _print_setup(sheet, "1:1")
        header = book.list_style("header")
        lines = max(_lines(column.header, column.width, BOLD) for column in columns)
        _set_height(sheet, 1, lines * LINE_POINTS)
        sheet.append([book.text(sheet, column.header, header) for column in columns])
        self.rows = 1
        self._cells = [Cell(sheet, row=1, column=1, style_array=style) for style in styles]
        self.streamed: _StreamedRows | None = None
        if streamed:
            self.streamed = book.streamed[sheet._jobdefs_part] = _StreamedRows(len(columns))
            sheet.append([book.text(sheet, _SAMPLE, style) for style in styles])
            sheet.append([book.text(sheet, "=" + _SAMPLE, style) for style in styles])

    def append_text(self, values: Sequence[str]) -> None:
        """A row of text only, streamed when the sheet was made with `streamed`."""
        if self.streamed is None:
            self.append(values)
            return
        self.rows += 1
        lines = 1
        for column, value in zip(self.columns, values, strict=True):
            if value and column.style == "prose":
                lines = max(lines, _lines(value, column.width))
        height = min(lines * LINE_POINTS + 3, MAX_ROW_POINTS) if lines > 1 else None
        self.streamed.add(self.rows, values, height)

    def append(self, values: Sequence[str | int | datetime.date | None]) -> None:
        self.rows += 1
        row: list[Any] = []
        lines = 1
        for column, cell, value in zip(self.columns, self._cells, values, strict=True):
            if value is None or value == "":
                row.append(None)
                continue
            if isinstance(value, str):
                cell.value = cell_text(value)
                cell.data_type = "s"  # never a formula or an error value (see _Book.text)
                cell.quotePrefix = _RETYPED.match(value) is not None
                if column.style == "prose":
                    lines = max(lines, _lines(value, column.width))
            else:
                cell.value = value
            row.append(cell)
        _set_height(self.sheet, self.rows, lines * LINE_POINTS)
        self.sheet.append(row)

    def filter(self) -> None:
        """Filter buttons over the header and every row written so far."""
        last = get_column_letter(len(self.columns))
        self.sheet.auto_filter.ref = f"A1:{last}{max(self.rows, 2)}"


def _write_handoffs(
    book: _Book, handoffs: Sequence[HandOff], reviews: CarriedReviews = NO_REVIEWS
) -> None:
    rows = _ListSheet(book, HANDOFFS_SHEET, HANDOFF_COLUMNS, streamed=True)
    for handoff in handoffs:
        rows.append_text(handoff_row(handoff, reviews))
    sheet = rows.sheet

    # A table needs a row below its header, even an empty one.
    last_row = max(len(handoffs), 1) + 1
    ref = f"A1:{get_column_letter(len(HANDOFF_COLUMNS))}{last_row}"
    table = Table(displayName=HANDOFFS_TABLE, ref=ref)
    table.tableColumns = [
        TableColumn(id=number, name=name) for number, name in enumerate(HANDOFF_HEADERS, 1)
    ]
    table.autoFilter = AutoFilter(ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    sheet.tables.add(table)  # add_table() warns in write-only mode; the columns are set

    status = get_column_letter(STATUS_COLUMN)
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


def _write_roles(book: _Book, organization: Organization) -> None:
    rows = _ListSheet(book, "Roles", ROLE_COLUMNS)
    has_externals = bool(organization.external_customers)
    for role in organization.roles:
        boss = role.reports_to
        boss_title = organization.role(boss).title if boss and organization.has_role(boss) else ""
        reaches = [line.external.name for line in organization.lines_of_sight.get(role.id, ())]
        rows.append(
            (
                role.id,
                role.title,
                role.department,
                boss_title,
                boss or "",
                len(role.products),
                len(organization.customers_of(role.id)),
                len(organization.suppliers_of(role.id)),
                ("Yes" if reaches else "No") if has_externals else "n/a",
                ", ".join(reaches),
                datetime.date.fromisoformat(role.reviewed) if role.reviewed else None,
                role.file,
            )
        )
    rows.filter()


def _write_findings(book: _Book, warnings: Sequence[Finding]) -> None:
    rows = _ListSheet(book, "Findings", FINDING_COLUMNS)
    for finding in warnings:
        rows.append(
            (
                finding.severity,
                finding.code,
                finding.file,
                finding.line,
                finding.column,
                finding.message,
            )
        )
    if warnings:
        rows.filter()
    else:
        rows.append(("none", "", "", None, None, NO_WARNINGS))
