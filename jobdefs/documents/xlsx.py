"""The xlsx engine: cells, rows and their heights, looks, list sheets and blocks of rows.

Every row is written here as XML: openpyxl spends some 30 µs on each cell, and a large
organization's workbooks have hundreds of thousands. openpyxl writes only what a workbook
is built of (see xlsx_package): its sheets' columns, frozen panes, print setup, filters,
table and drop-down, and the styles. A sheet's shape says all of that (`structure`); each
look its rows may use becomes a style of the workbook, whose id the rows are written with.

A sheet's rows come in blocks of BLOCK_ROWS (`_Block`), each known by what it is made from,
so that a changed need remakes one block, not the 5,000 rows around it. A build may also
say which file each role was read from (`RowSources`): a block of rows made only from
unchanged files is then known unchanged without its rows being made.

Role text never becomes a formula or an error value: every text cell is stored as a string
whatever it starts with (`=`, `+`, `-`, `@`, `#N/A`).
"""

from __future__ import annotations

import datetime
import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from jobdefs.documents.sheets import (
    CELL_MAX,
    HEADER_FILL,
    HEADER_TEXT,
    LINE_POINTS,
    QUIET_TEXT,
    RETYPED,
    STATUS_HEADER,
    STATUS_OPTIONS,
    TEXT_COLOR,
    Column,
    cell_text,
    drop_down,
    print_setup,
)

HANDOFFS_TABLE = "HandOffs"

# ---------------------------------------------------------------------------------------
# Cells, rows and row heights

# What a text cell's XML cannot hold as it is: characters to escape or replace.
_SPECIAL = re.compile("[&<>\r\n\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text_cell(ref: str, text: str, styles: tuple[int, int]) -> str:
    """A cell that holds `text` as text, whatever it starts with: never a formula or error."""
    if not text:
        return _empty_cell(ref, styles[0])  # an empty string cell is not valid XML
    # Quote-prefixed, so that Excel keeps it text when someone edits the cell.
    style = styles[1] if RETYPED.match(text) else styles[0]
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
# Looks: the styles cells are written with


class _Look(NamedTuple):
    """How a cell looks, as plain data; openpyxl makes a style of the workbook of each."""

    bold: bool = False
    italic: bool = False
    color: str = TEXT_COLOR
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


_LIST_LOOKS = {
    "header": _Look(bold=True, color=HEADER_TEXT, fill=HEADER_FILL, align="head"),
    "text": _Look(align="plain"),
    "prose": _Look(align="wrap"),
    "answer": _Look(align="wrap"),
    "code": _Look(color=QUIET_TEXT, align="plain"),
    "number": _Look(align="plain"),
    "date": _Look(align="plain", number_format="yyyy-mm-dd"),
}


def _styles(ids: Mapping[_Look, int], look: _Look) -> tuple[int, int]:
    """The style ids of a look, plain and quote-prefixed."""
    return ids[look], ids[look._replace(quoted=True)]


# ---------------------------------------------------------------------------------------
# Shapes: all that openpyxl writes of a sheet


class _SheetShape(Protocol):
    """What openpyxl writes of a sheet: everything but its rows (_ListShape, _MatrixShape)."""

    @property
    def title(self) -> str: ...

    @property
    def looks(self) -> list[_Look]:
        """The looks its rows may use: each becomes a style of the workbook."""
        ...

    def structure(self, sheet: Any, styles: Mapping[_Look, Any]) -> None:
        """Set up openpyxl's write-only `sheet`; `styles` holds each look's openpyxl style."""
        ...


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

    def structure(self, sheet: Any, styles: Mapping[_Look, Any]) -> None:
        _list_structure(sheet, self, styles)


def _list_structure(sheet: Any, shape: _ListShape, styles: Mapping[_Look, Any]) -> None:
    from openpyxl.worksheet.dimensions import ColumnDimension

    for number, column in enumerate(shape.columns, 1):
        letter = _column_letter(number)
        # The column's style is also what a cell typed in later (a Comment) looks like.
        sheet.column_dimensions[letter] = ColumnDimension(
            sheet, index=letter, width=column.width, style=styles[_LIST_LOOKS[column.style]]
        )
    sheet.freeze_panes = "A2"
    print_setup(sheet, "1:1")
    last = _column_letter(len(shape.columns))
    if shape.filtered:
        sheet.auto_filter.ref = f"A1:{last}{max(shape.rows + 1, 2)}"
    if shape.table:
        _table(sheet, shape)


def _table(sheet: Any, shape: _ListShape) -> None:
    """The Hand-offs table, and the Status drop-down in each of its rows."""
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

    status = _column_letter([column.header for column in shape.columns].index(STATUS_HEADER) + 1)
    prompt = "Is this hand-off right as written? Choose "
    validation = drop_down(STATUS_HEADER, STATUS_OPTIONS, prompt)
    validation.add(f"{status}2:{status}{last_row}")
    sheet.data_validations.append(validation)


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


class _Sheet(Protocol):
    """A sheet to write: its shape, and its rows in blocks (_ListSheet, _MatrixSheet)."""

    @property
    def shape(self) -> _SheetShape: ...

    def blocks(self) -> list[_Block]: ...


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


_Value = str | int | datetime.date | None


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
