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
    ANSWER_FILL,
    BOLD,
    CELL_MAX,
    HEADER_FILL,
    HEADER_TEXT,
    LINE_POINTS,
    QUIET_TEXT,
    RETYPED,
    STATUS_HEADER,
    STATUS_OPTIONS,
    SUBTITLE_TEXT,
    TEXT_COLOR,
    TITLE_POINTS,
    Column,
    cell_text,
    drop_down,
    pages_across,
    print_setup,
    wrapped_lines,
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


MAX_ROW_POINTS = 409.0  # the tallest row Excel allows


def _row(number: int, cells: Iterable[str], points: float) -> str:
    """A row, with the height it needs when that is more than one line."""
    height = ""
    if points > LINE_POINTS:
        height = f' ht="{min(points + 3, MAX_ROW_POINTS):g}" customHeight="1"'
    return f'<row r="{number}"{height}>{"".join(cells)}</row>'


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
    unlocked: bool = False  # may be changed when the sheet is protected: a cell to fill in


_ALIGNMENTS: dict[str, dict[str, Any]] = {
    "plain": {"horizontal": "left", "vertical": "top"},
    "wrap": {"horizontal": "left", "vertical": "top", "wrap_text": True},
    "head": {"horizontal": "left", "vertical": "bottom", "wrap_text": True},
    "number": {"horizontal": "center", "vertical": "top"},
}


_LIST_LOOKS = {
    "header": _Look(bold=True, color=HEADER_TEXT, fill=HEADER_FILL, align="head"),
    "text": _Look(align="plain"),
    "prose": _Look(align="wrap"),
    # The cells a person fills in, as on the surveys: yellow, framed, open under protection.
    "answer": _Look(align="wrap", fill=ANSWER_FILL, grid=True, unlocked=True),
    "code": _Look(color=QUIET_TEXT, align="plain"),
    "number": _Look(align="plain"),
    "date": _Look(align="plain", number_format="yyyy-mm-dd"),
    # A title block above a list (the review form's).
    "title": _Look(bold=True, size=14, align="plain"),
    "subtitle": _Look(color=SUBTITLE_TEXT, align="wrap"),
    "lead": _Look(bold=True, align="wrap"),
}
# What a cell typed in later looks like, by column style: an answer column is not yellow
# below the list, nor open under protection.
_COLUMN_LOOKS = {"answer": "prose"}


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
    page_header: tuple[str, str] = ("", "")  # printed at the top of each page, left and right
    printed: int = 0  # how many columns print, from the first (0: all of them)
    heading: tuple[tuple[str, str], ...] = ()  # (look, text) rows of a title block above it
    form: bool = False  # protected, without a password: only its answer cells can change
    keys: int = 0  # leading columns that tell rows apart, repeated on each page across

    @property
    def header_row(self) -> int:
        """The header's row number: 1, or below the title block and a blank row."""
        return len(self.heading) + 2 if self.heading else 1

    @property
    def printed_columns(self) -> tuple[Column, ...]:
        return self.columns[: self.printed or None]

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
        look = _LIST_LOOKS[_COLUMN_LOOKS.get(column.style, column.style)]
        sheet.column_dimensions[letter] = ColumnDimension(
            sheet, index=letter, width=column.width, style=styles[look]
        )
    top = shape.header_row
    sheet.freeze_panes = f"A{top + 1}"
    printed = shape.printed_columns
    widths = [column.width for column in printed]
    keys = shape.keys if pages_across(widths) > 1 else 0
    print_setup(
        sheet,
        f"{top}:{top}",
        widths=widths[keys:],
        header=shape.page_header,
        title_columns=f"A:{_column_letter(keys)}" if keys else None,
        repeated=widths[:keys],
    )
    last_printed = _column_letter(len(printed))
    sheet.print_area = f"A1:{last_printed}{top + max(shape.rows, 1)}"
    for number in range(1, len(shape.heading) + 1):  # each line of the title block
        sheet.merged_cells.add(f"A{number}:{last_printed}{number}")
    last = _column_letter(len(shape.columns))
    if shape.filtered:
        sheet.auto_filter.ref = f"A{top}:{last}{top + max(shape.rows, 1)}"
    if shape.table:
        _table(sheet, shape)
    if shape.form:
        # No password: the protection keeps slips out of the hand-offs, not people.
        protection = sheet.protection
        protection.sheet = True
        protection.autoFilter = protection.sort = False
        protection.formatColumns = protection.formatRows = False


def _table(sheet: Any, shape: _ListShape) -> None:
    """The Hand-offs table, and the Status drop-down in each of its rows."""
    from openpyxl.worksheet.filters import AutoFilter
    from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

    # A table needs a row below its header, even an empty one.
    top = shape.header_row
    last_row = top + max(shape.rows, 1)
    ref = f"A{top}:{_column_letter(len(shape.columns))}{last_row}"
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
    validation.add(f"{status}{top + 1}:{status}{last_row}")
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
        shape = self.shape
        columns = shape.columns
        starts = _blocks(shape.rows)
        room = sum(column.width for column in shape.printed_columns)
        blocks = [_Block(_list_header, (columns, shape.heading, room))]
        named = repr(columns)  # the columns in each block's key, as text made once
        first = shape.header_row + 1
        least = 2 if shape.form else 1  # room to write by hand on a printed form
        for start in starts:
            end = start + starts.step
            told = self.sources(start, end)
            at = (start + first, least)
            if told is None:
                rows = self.rows(start, end)
                blocks.append(
                    _Block(_list_rows, (*at, columns, rows), (*at, named, _rows_key(rows)))
                )
            else:
                made = functools.partial(
                    lambda s, e, at: (*at, columns, self.rows(s, e)), start, end, at
                )
                blocks.append(_Block(_list_rows, made, (*at, named, "files", told)))
        return blocks


def _list_sheet(
    title: str,
    columns: tuple[Column, ...],
    rows: Iterable[tuple[_Value, ...]],
    *,
    page_header: tuple[str, str],
    filtered: bool = False,
    table: bool = False,
) -> _ListSheet:
    values = tuple(rows)
    shape = _ListShape(title, columns, len(values), filtered, table, page_header)
    return _ListSheet(shape, lambda start, end: values[start:end])


def _list_header(
    columns: tuple[Column, ...],
    heading: tuple[tuple[str, str], ...],
    room: float,
    ids: Mapping[_Look, int],
) -> str:
    """The title block, if any (each line across the `room` printed characters), and the
    header row under it."""
    rows = []
    for number, (look, text) in enumerate(heading, 1):
        points = TITLE_POINTS if look == "title" else wrapped_lines(text, room) * LINE_POINTS
        rows.append(
            _row(number, [_text_cell(f"A{number}", text, _styles(ids, _LIST_LOOKS[look]))], points)
        )
    top = len(heading) + 2 if heading else 1
    letters = _column_letters(len(columns))[: len(columns)]
    header = _styles(ids, _LIST_LOOKS["header"])
    lines = max(wrapped_lines(column.header, column.width, BOLD) for column in columns)
    cells = [
        _text_cell(f"{letter}{top}", column.header, header)
        for letter, column in zip(letters, columns, strict=True)
    ]
    rows.append(_row(top, cells, lines * LINE_POINTS))
    return "".join(rows)


def _list_rows(
    first: int,
    least: int,
    columns: tuple[Column, ...],
    rows: tuple[tuple[_Value, ...], ...],
    ids: Mapping[_Look, int],
) -> str:
    """Rows from row number `first` on, each at least `least` lines high: text as text,
    numbers and dates as numbers."""
    letters = _column_letters(len(columns))[: len(columns)]
    styles = [_styles(ids, _LIST_LOOKS[column.style]) for column in columns]
    # Only prose wraps, so only prose makes a row taller.
    widths = [column.width if column.style == "prose" else 0 for column in columns]
    # An answer cell is written even empty: it shows where to write.
    blanks = [column.style == "answer" for column in columns]
    xml = []
    for number, values in enumerate(rows, first):
        cells = []
        lines = least
        for letter, style, width, blank, value in zip(
            letters, styles, widths, blanks, values, strict=True
        ):
            if value is None or value == "":
                if blank:
                    cells.append(_empty_cell(f"{letter}{number}", style[0]))
                continue
            if isinstance(value, str):
                cells.append(_text_cell(f"{letter}{number}", value, style))
                if width:
                    lines = max(lines, wrapped_lines(value, width))
            else:
                stored = _serial(value) if isinstance(value, datetime.date) else value
                cells.append(f'<c r="{letter}{number}" s="{style[0]}" t="n"><v>{stored}</v></c>')
        xml.append(_row(number, cells, lines * LINE_POINTS))
    return "".join(xml)
