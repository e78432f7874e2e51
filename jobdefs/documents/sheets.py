"""What every workbook shares: the Column type, the words of its headers, the house style
(font, colours, print set-up), text a cell can hold, and the openpyxl helpers of the small
workbooks written cell by cell (surveys, scorecards).

The large workbooks (matrix, departments) are written as XML by `xlsx`, from the same
colours and font.
"""

from __future__ import annotations

import datetime
import io
import math
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from jobdefs.documents import ooxml

CELL_MAX = 32_767  # the most characters one spreadsheet cell holds
LINE_POINTS = 15.0  # the height of a line of 11-point Calibri
TITLE_POINTS = 20.0  # a line of the 14-point title

# The words a person reads in a header, and that a returned workbook is read back by.
ID_HEADER = "Hand-off id"
FINGERPRINT_HEADER = "Fingerprint"
STATUS_HEADER = "Status"
REVIEWER_HEADER = "Reviewer"
COMMENT_HEADER = "Comment"
STATUS_OPTIONS = ("Agreed", "Needs change", "Not needed")

FONT = "Calibri"
FONT_FAMILY = 2  # swiss: what an application without Calibri should fall back to
TEXT_COLOR = "FF000000"
HEADER_FILL = "FF1F4E78"
HEADER_TEXT = "FFFFFFFF"
QUIET_TEXT = "FF595959"  # ids and fingerprints: there to be read back, not to be read
SUBTITLE_TEXT = "FF404040"
ANSWER_FILL = "FFFFF2CC"  # the cells a person is asked to fill in
GRID_COLOR = "FFBFBFBF"


class Column(NamedTuple):
    """A column of a list: header, width in characters and how its cells look.

    `style` is text, prose (wrapped), answer, code, number, date, or one of the
    scorecard's number styles (count, share, points, rating, rating-change).
    """

    header: str
    width: float
    style: str = "text"


# What XML 1.0 cannot hold. The loader reports these as errors; this only guards API callers.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Text that a spreadsheet would turn into a formula, a number or an error if retyped.
RETYPED = re.compile(r"[=+\-@#]")


def cell_text(text: str) -> str:
    """Text a cell can hold: XML-safe, at most CELL_MAX characters, and never cut silently."""
    text = _NOT_XML.sub("\ufffd", text)
    if len(text) <= CELL_MAX:
        return text
    note = " … (cut: longer than a spreadsheet cell holds)"
    return text[: CELL_MAX - len(note)] + note


def font(
    *, bold: bool = False, italic: bool = False, size: float = 11, color: str = TEXT_COLOR
) -> Any:
    """The house font, named: a font without a name is drawn in whatever the reader picks."""
    from openpyxl.styles import Font

    return Font(name=FONT, family=FONT_FAMILY, sz=size, b=bold, i=italic, color=color)


def solid_fill(color: str) -> Any:
    from openpyxl.styles import PatternFill

    return PatternFill(fill_type="solid", start_color=color, end_color=color)


def grid_border() -> Any:
    """Thin grey lines all round a cell."""
    from openpyxl.styles import Border, Side

    side = Side(style="thin", color=GRID_COLOR)
    return Border(left=side, right=side, top=side, bottom=side)


def set_text(cell: Any, text: str) -> None:
    """Put `text` in an openpyxl cell as text, whatever it starts with (never a formula)."""
    cell.value = cell_text(text)
    cell.data_type = "s"  # openpyxl would read '=...' as a formula
    if RETYPED.match(text):
        cell.quotePrefix = True  # and a spreadsheet keeps it text when someone edits it


def header_cell(cell: Any, text: str) -> None:
    """A header: white bold text on the house blue, wrapped, at the bottom of its row."""
    from openpyxl.styles import Alignment

    set_text(cell, text)
    cell.font = font(bold=True, color=HEADER_TEXT)
    cell.fill = solid_fill(HEADER_FILL)
    cell.alignment = Alignment(horizontal="left", vertical="bottom", wrap_text=True)
    cell.border = grid_border()


def drop_down(title: str, options: Sequence[str], prompt: str) -> Any:
    """A list of choices for the cells it is added to, refusing anything else."""
    from openpyxl.worksheet.datavalidation import DataValidation

    return DataValidation(
        type="list",
        formula1='"' + ",".join(options) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=title,
        error=f"Choose {', '.join(options[:-1])} or {options[-1]}.",
        showInputMessage=True,
        promptTitle=title,
        prompt=prompt + " / ".join(options),
    )


BOLD = 1.25  # how much wider bold text runs


def wrapped_lines(text: str, width: float, per_character: float = 1.0) -> int:
    """How many lines `text` wraps to in a column `width` characters wide (an estimate).

    Applications do not size rows to wrapped text on opening a file (LibreOffice never
    does), so rows get a height from this, written out like any other attribute.
    """
    # Characters a line holds: 1.2 a unit of width in Calibri, 1.1 in the wider faces an
    # application falls back to without it (LibreOffice's DejaVu Sans): planned for those.
    room = max(int(width * 1.1 / per_character), 1)
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


def header_height(columns: Sequence[Column]) -> float:
    """Points enough for the tallest wrapped header of `columns` (bold text)."""
    return LINE_POINTS * max(wrapped_lines(c.header, c.width, BOLD) for c in columns)


def row_height(values: Sequence[str], columns: Sequence[Column], *, answer_lines: int = 1) -> float:
    """Points enough for the longest wrapped cell of a row (an estimate, on the safe side).

    Spreadsheets do not grow a row for wrapped text they did not type themselves.
    """
    lines = answer_lines
    for value, column in zip(values, columns, strict=False):
        if column.style == "prose" and value:
            lines = max(lines, wrapped_lines(value, column.width))
    return LINE_POINTS * lines


# Print: every sheet prints its 11-point text at 7 points or more, across as many pages as
# it takes, rather than shrunk onto one page (a 40-column sheet on one page prints at 2 pt).
# The least scale planned for: 11-pt text at 7.5 pt, so that where an application finds
# the columns a little wider than planned, it still prints at 7 pt or more.
PRINT_SCALE = 0.68
PAGE_POINTS = {True: 792.0, False: 612.0}  # across Letter, landscape and portrait: A4 is wider
SIDE_MARGIN = 0.25  # inches left and right
# A column one character wide, in points: 5.25 in Excel, 7 in LibreOffice without Calibri
# or Carlito (it measures the font it falls back to): planned for the wider.
POINTS_PER_CHARACTER = 7.0
HEADER_POINTS = 11  # the page header and footer, which shrink with the sheet


def pages_across(
    widths: Sequence[float], repeated: Sequence[float] = (), *, landscape: bool = True
) -> int:
    """How many pages wide a sheet prints at PRINT_SCALE: its columns `widths` (in
    characters) cut at page edges, the `repeated` title columns on every page."""
    room = (PAGE_POINTS[landscape] - 2 * 72 * SIDE_MARGIN) / PRINT_SCALE / POINTS_PER_CHARACTER
    room -= sum(repeated)
    pages, used = 1, 0.0
    for width in widths:
        if used and used + width > room:
            pages, used = pages + 1, 0.0
        used += width
    return pages


def page_text(text: str) -> str:
    """Text for a page header or footer: its '&' codes escaped, short enough for Excel."""
    text = " ".join(text.split())
    if len(text) > 80:
        text = text[:79] + "…"
    return text.replace("&", "&&")


def print_setup(
    sheet: Any,
    title_rows: str | None,
    *,
    widths: Sequence[float],
    header: tuple[str, str],
    landscape: bool = True,
    title_columns: str | None = None,
    repeated: Sequence[float] = (),
) -> None:
    """Print `sheet` legibly: as many pages wide as `pages_across` says, as long as it
    takes, its title rows (and `title_columns`, `repeated` wide) on every page, `header`
    (left and right) at the top of each page and "Page N of M" at the foot."""
    from openpyxl.worksheet.properties import PageSetupProperties

    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.fitToWidth = pages_across(widths, repeated, landscape=landscape)
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    if title_rows:
        sheet.print_title_rows = title_rows
    if title_columns:
        sheet.print_title_cols = title_columns
    margins = sheet.page_margins
    margins.left = margins.right = SIDE_MARGIN
    margins.top = margins.bottom = 0.7
    margins.header = margins.footer = 0.3
    parts = (
        (sheet.oddHeader.left, page_text(header[0])),
        (sheet.oddHeader.right, page_text(header[1])),
        (sheet.oddFooter.center, "Page &P of &N"),
    )
    for part, text in parts:
        part.text, part.font, part.size = text, f"{FONT},Regular", HEADER_POINTS


def save_workbook(book: Any, title: str, moment: datetime.datetime) -> bytes:
    """An openpyxl workbook's bytes, the same for the same content: fixed dates and times."""
    buffer = io.BytesIO()
    book.save(buffer)
    core = ooxml.core_properties(cell_text(title), moment)
    return ooxml.repack(buffer.getvalue(), moment, replace={"docProps/core.xml": core})
