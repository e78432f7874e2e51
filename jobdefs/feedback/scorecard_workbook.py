"""scorecard.xlsx: Summary (with a chart by department), Roles, Hand-offs, Comments and Notes."""

from __future__ import annotations

import datetime
import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jobdefs.documents.sheets import (
    COMMENT_HEADER,
    FONT,
    ID_HEADER,
    LINE_POINTS,
    QUIET_TEXT,
    SUBTITLE_TEXT,
    Column,
    font,
    grid_border,
    header_cell,
    header_height,
    pages_across,
    print_setup,
    row_height,
    save_workbook,
    set_text,
)
from jobdefs.errors import OutputError
from jobdefs.feedback.journey_score import journey_table, voice_table
from jobdefs.feedback.scorecard_text import figures_line, rounds_line
from jobdefs.feedback.scoring import SCORING, Change, Figures, Scorecard, round_half_up
from jobdefs.feedback.survey import (
    MET,
    NOT_MET,
    NOT_RECEIVED,
    PARTLY_MET,
    RATING_MAX,
    RATING_MIN,
)
from jobdefs.output import describe, replace_files

CODE_WIDEST = 48  # a file name longer than this is cut on paper, not the page widened
_NUMBER_FORMATS = {
    "count": "0",
    "share": "0%",
    "points": '+0" pts";-0" pts";"±0 pts"',
    "rating": "0.0",
    "rating-change": '+0.0;-0.0;"±0.0"',
}
# Below the table, the chart starts a page of its own unless both fit on one: the height of
# a landscape Letter page inside its margins, in points at full scale.
PAGE_HEIGHT_POINTS = 612 - 2 * 0.7 * 72 - 30
CHART_FONT_SIZE = 1000  # 10 pt, in the hundredths DrawingML counts in
# Red, amber, green behind the number (which is always printed): 0 → ½ → 1, 1 → 3 → 5.
_SCALES = {"share": (0, 0.5, 1), "rating": (RATING_MIN, 3, RATING_MAX)}
_SCALE_COLOURS = ("FFF8696B", "FFFFEB84", "FF63BE7B")


def scorecard_workbook(
    card: Scorecard,
    moment: datetime.datetime,
    journeys: Sequence[Mapping[str, Any]] = (),
    voice: Sequence[Mapping[str, Any]] = (),
) -> bytes:
    """scorecard.xlsx: Summary (with a chart by department), Roles, Hand-offs, Comments and
    Notes, and with them `journeys` (journey_score.journey_scores) and the patients' `voice`
    (PatientVoice.as_json) on sheets of their own. Every number is a value, never a
    formula; the same scorecard gives the same bytes."""
    from openpyxl import Workbook as XlsxWorkbook

    book = XlsxWorkbook()
    _summary_sheet(book.active, card)
    _roles_sheet(book.create_sheet("Roles"), card)
    _handoffs_sheet(book.create_sheet("Hand-offs"), card)
    if journeys:
        _listed_sheet(book.create_sheet(JOURNEYS_SHEET), card, journey_table(journeys))
    if voice:
        _listed_sheet(book.create_sheet(VOICE_SHEET), card, voice_table(voice))
    _comments_sheet(book.create_sheet("Comments"), card)
    _notes_sheet(book.create_sheet("Notes"), card)
    return save_workbook(book, f"{card.organization}: service scorecard", moment)


def _figure_columns(base: bool, *, counts: bool) -> list[Column]:
    columns = [
        Column("Hand-offs", 10, "count"),
        Column("Asked", 8, "count"),
        Column("Answered", 10, "count"),
    ]
    if counts:
        columns += [
            Column(MET, 7, "count"),
            Column(PARTLY_MET, 8, "count"),
            Column(NOT_MET, 8, "count"),
        ]
    columns.append(Column("Share met", 10, "share"))
    if base:
        columns += [Column("Baseline share met", 11, "share"), Column("Change", 10, "points")]
    columns.append(Column("Mean rating", 9, "rating"))
    if base:
        columns.append(Column("Rating change", 9, "rating-change"))
    columns.append(Column(NOT_RECEIVED, 10, "count"))
    return columns


def _figure_values(
    figures: Figures,
    baseline: Figures | None,
    change: Change | None,
    handoffs: int | None,
    *,
    base: bool,
    counts: bool,
) -> list[object]:
    values: list[object] = [] if handoffs is None else [handoffs]
    values += [figures.asked, figures.responses]
    if counts:
        values += [figures.met, figures.partly_met, figures.not_met]
    values.append(figures.share_met)
    if base:
        values.append(baseline.share_met if baseline else None)
        moved = change.share_met if change else None
        values.append(None if moved is None else round_half_up(moved * 100, 0))
    values.append(round_half_up(figures.mean_rating, 2))
    if base:
        values.append(round_half_up(change.mean_rating, 1) if change else None)
    values.append(figures.gaps)
    return values


def _summary_sheet(sheet: Any, card: Scorecard) -> None:
    from openpyxl.chart import BarChart, Reference, Series
    from openpyxl.chart.label import DataLabelList
    from openpyxl.worksheet.pagebreak import Break

    sheet.title = "Summary"
    base = card.has_baseline
    columns = [Column("Department", 32), *_figure_columns(base, counts=False)]
    # Each line no wider than the table, so that none runs off the printed page.
    room = int(sum(column.width for column in columns) * 1.1)
    lines = [
        (f"Service scorecard: {card.organization}", font(bold=True, size=14)),
        *_wrapped(rounds_line(card), room, font(color=SUBTITLE_TEXT)),
        *_wrapped(
            "Overall: " + figures_line(card.overall.figures, card.overall.change),
            room,
            font(bold=True),
        ),
        *_wrapped(SCORING, room, font(color=SUBTITLE_TEXT)),
        *_wrapped(
            "Departments are scored as suppliers: by the answers of the colleagues they "
            "serve. The colours repeat the number printed in each cell.",
            room,
            font(color=SUBTITLE_TEXT),
        ),
    ]
    for number, (line, line_font) in enumerate(lines, 1):
        cell = sheet.cell(row=number, column=1)
        set_text(cell, line)
        cell.font = line_font
    top = len(lines) + 2
    rows = [
        [
            d.title,
            *_figure_values(d.figures, d.baseline, d.change, d.handoffs, base=base, counts=False),
        ]
        for d in card.departments
    ]
    last = _table(sheet, top, columns, rows)
    if not card.departments:
        _page(sheet, top, columns, card.organization, landscape=True)
        return

    chart = BarChart()
    chart.type = "bar"  # horizontal bars: department names stay readable
    chart.style = 10
    chart.title = "Share met by department"
    chart.y_axis.title = "Share met"
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = 1
    chart.y_axis.majorUnit = 0.25
    chart.y_axis.number_format = "0%"
    chart.x_axis.scaling.orientation = "maxMin"  # the table's order, top to bottom
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    share = next(i for i, c in enumerate(columns, 1) if c.header == "Share met")
    series_columns = [(share, ", ".join(card.rounds) or "This round")]
    if base:
        series_columns.insert(0, (share + 1, ", ".join(card.baseline_rounds) or "Baseline"))
    for column, title in series_columns:
        values = Reference(sheet, min_col=column, min_row=top + 1, max_row=last)
        series = Series(values, title=f"Share met, {title}")
        colour = "FFA6A6A6" if base and column != share else "FF2E75B6"
        series.graphicalProperties.solidFill = colour[2:]
        series.graphicalProperties.line.solidFill = colour[2:]
        series.dLbls = DataLabelList(
            numFmt="0%",
            showVal=True,
            showSerName=False,
            showCatName=False,
            showLegendKey=False,
            showPercent=False,
        )
        chart.series.append(series)
    chart.set_categories(Reference(sheet, min_col=1, min_row=top + 1, max_row=last))
    chart.legend.position = "b"
    bars = len(card.departments) * len(series_columns)
    chart.height = max(7.5, 4.0 + 0.55 * bars)
    chart.width = 24
    chart.gapWidth = 60
    _house_font(chart)
    sheet.add_chart(chart, f"A{last + 3}")
    chart_points = chart.height / 2.54 * 72
    table_points = (last + 2) * LINE_POINTS + header_height(columns)
    if table_points + chart_points > PAGE_HEIGHT_POINTS:
        sheet.row_breaks.append(Break(id=last + 1))  # the chart on a page of its own
    # The print area reaches down past the chart's rows: outside it, the chart never prints.
    # A table on one page repeats no header row, which would stand above the chart.
    chart_rows = math.ceil(chart_points / LINE_POINTS) + 1
    _page(
        sheet,
        top,
        columns,
        card.organization,
        landscape=True,
        down_to=last + 3 + chart_rows,
        repeat_header=table_points > PAGE_HEIGHT_POINTS,
    )


def _wrapped(text: str, width: int, line_font: Any) -> list[tuple[str, Any]]:
    return [(line, line_font) for line in textwrap.wrap(text, width)]


def _house_font(chart: Any) -> None:
    """Every text of `chart` in the house font, as the cells are: one family on the page.
    (A chart's own default would be the reader's.)"""
    from openpyxl.chart.text import RichText
    from openpyxl.drawing.text import CharacterProperties, Font, Paragraph, ParagraphProperties

    def properties(bold: bool = False) -> Any:
        return CharacterProperties(latin=Font(typeface=FONT), sz=CHART_FONT_SIZE, b=bold)

    def text() -> Any:
        return RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=properties()))])

    for axis in (chart.x_axis, chart.y_axis):
        axis.txPr = text()
    chart.legend.txPr = text()
    for series in chart.series:
        series.dLbls.txPr = text()
    titles = [chart.title, chart.x_axis.title, chart.y_axis.title]
    for title in (t for t in titles if t is not None and t.tx is not None and t.tx.rich):
        for paragraph in title.tx.rich.p:
            paragraph.pPr = ParagraphProperties(defRPr=properties(bold=True))
            for run in paragraph.r or ():
                run.rPr = properties(bold=True)


JOURNEYS_SHEET = "Journeys"
VOICE_SHEET = "Patient's voice"


def _listed_sheet(sheet: Any, card: Scorecard, table: tuple[list[Column], list[list[Any]]]) -> None:
    columns, rows = table
    _table(sheet, 1, columns, rows)
    _page(sheet, 1, columns, card.organization, landscape=True)


def _roles_sheet(sheet: Any, card: Scorecard) -> None:
    base = card.has_baseline
    columns = [
        Column("Supplier role", 30, "prose"),
        Column("Department", 22, "prose"),
        *_figure_columns(base, counts=True),
        Column("Role id", 24, "code"),
    ]
    rows = [
        [
            r.title,
            r.department,
            *_figure_values(r.figures, r.baseline, r.change, r.handoffs, base=base, counts=True),
            r.key,
        ]
        for r in card.roles
    ]
    _table(sheet, 1, columns, rows)
    _page(sheet, 1, columns, card.organization, landscape=True, keys=2)


def _handoffs_sheet(sheet: Any, card: Scorecard) -> None:
    base = card.has_baseline
    columns = [
        Column("Supplier", 22, "prose"),
        Column("Supplier department", 16, "prose"),
        Column("Product", 24, "prose"),
        Column("Customer", 22, "prose"),
        *_figure_columns(base, counts=True)[1:],
        Column("Comments", 28, "prose"),
        Column("Changed since asked", 9),
        Column(ID_HEADER, 14, "code"),
    ]
    rows = []
    for item in card.handoffs:
        h = item.handoff
        comments = "\n".join(f"• {c.text}" for c in item.comments)
        rows.append(
            [
                h.supplier.title,
                h.supplier.department,
                h.product,
                h.customer.title,
                *_figure_values(
                    item.figures, item.baseline, item.change, None, base=base, counts=True
                ),
                comments,
                "yes" if item.changed else "",
                h.id,
            ]
        )
    _table(sheet, 1, columns, rows)
    _page(sheet, 1, columns, card.organization, landscape=True, keys=4)


def _comments_sheet(sheet: Any, card: Scorecard) -> None:
    columns = [
        Column("Supplier", 22, "prose"),
        Column("Product", 24, "prose"),
        Column("Customer", 22, "prose"),
        Column("Answer", 14),
        Column("Rating", 8, "count"),
        Column(COMMENT_HEADER, 44, "prose"),
        Column("Survey file", 24, "code"),
        Column("Row", 6, "count"),
        Column(ID_HEADER, 14, "code"),
    ]
    rows: list[list[object]] = [
        [
            h.handoff.supplier.title,
            h.handoff.product,
            h.handoff.customer.title,
            c.answer or "",
            c.rating,
            c.text,
            c.file,
            c.row,
            h.handoff.id,
        ]
        for h in card.handoffs
        for c in h.comments
    ]
    if not rows:
        rows = [["No comments were written.", *[None] * (len(columns) - 1)]]
    _table(sheet, 1, columns, rows)
    _page(sheet, 1, columns, card.organization, landscape=True, keys=3)


def _notes_sheet(sheet: Any, card: Scorecard) -> None:
    columns = [
        Column("Note", 16, "code"),
        Column("File", 40, "code"),
        Column("Row", 6, "count"),
        Column("What it means", 90, "prose"),
    ]
    rows: list[list[object]] = [[n.code, n.file, n.row, n.message] for n in card.notes]
    if not rows:
        rows = [["none", None, None, "Every answered row matched a hand-off of the workbook."]]
    _table(sheet, 1, columns, rows)
    _page(sheet, 1, columns, card.organization, landscape=True)


def _table(
    sheet: Any, top: int, columns: Sequence[Column], rows: Sequence[Sequence[object]]
) -> int:
    """A header row at `top` and `rows` below it; returns the last row's number."""
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    grid = grid_border()
    # An indent of one on every side that holds text: LibreOffice draws a cell's text up
    # to its border, so without it neighbouring columns read as one ("NurseEmergency").
    wrap = Alignment(horizontal="left", vertical="top", wrap_text=True, indent=1)
    plain = Alignment(horizontal="left", vertical="top", indent=1)
    number = Alignment(horizontal="right", vertical="top", indent=1)
    quiet, plain_font = font(color=QUIET_TEXT), font()
    columns = _fitted(columns, rows)
    for index, column in enumerate(columns, 1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
        header_cell(sheet.cell(row=top, column=index), column.header)
    sheet.row_dimensions[top].height = header_height(columns)
    for row_number, values in enumerate(rows, top + 1):
        texts: list[str] = []
        for index, (column, value) in enumerate(zip(columns, values, strict=True), 1):
            cell = sheet.cell(row=row_number, column=index)
            cell.border = grid
            cell.font = plain_font
            if isinstance(value, str):
                if value:
                    set_text(cell, value)
                cell.alignment = wrap if column.style == "prose" else plain
                if column.style == "code":
                    cell.font = quiet
            elif value is not None:
                cell.value = value
                cell.number_format = _NUMBER_FORMATS.get(column.style, "General")
                cell.alignment = number
            texts.append(value if isinstance(value, str) else "")
        height = row_height(texts, columns)
        if height > 15:
            sheet.row_dimensions[row_number].height = height
    last = top + max(len(rows), 1)
    for index, column in enumerate(columns, 1):
        scale = _SCALES.get(column.style)
        if scale is None or not rows:
            continue
        letter = get_column_letter(index)
        low, mid, high = scale
        sheet.conditional_formatting.add(
            f"{letter}{top + 1}:{letter}{last}",
            ColorScaleRule(
                start_type="num",
                start_value=low,
                start_color=_SCALE_COLOURS[0],
                mid_type="num",
                mid_value=mid,
                mid_color=_SCALE_COLOURS[1],
                end_type="num",
                end_value=high,
                end_color=_SCALE_COLOURS[2],
            ),
        )
    sheet.freeze_panes = f"A{top + 1}"
    if rows:
        sheet.auto_filter.ref = f"A{top}:{get_column_letter(len(columns))}{last}"
    return last


def _page(
    sheet: Any,
    header_row: int,
    columns: Sequence[Column],
    organization: str,
    *,
    landscape: bool,
    keys: int = 1,
    down_to: int | None = None,
    repeat_header: bool = True,
) -> None:
    """Print set-up: a trailing id column stays off paper; a sheet wider than a page
    repeats its first `keys` columns, what tells its rows apart, on every page. The print
    area ends with the last row, or at `down_to` (a chart below the cells)."""
    from openpyxl.utils import get_column_letter

    printed = list(columns)
    while len(printed) > 1 and printed[-1].style == "code":
        printed.pop()
    # As _table made them: a code column is as wide as its longest value.
    widths = [
        sheet.column_dimensions[get_column_letter(number)].width
        for number in range(1, len(printed) + 1)
    ]
    wide = pages_across(widths, landscape=landscape) > 1
    print_setup(
        sheet,
        f"{header_row}:{header_row}" if repeat_header else None,
        widths=widths[keys:] if wide else widths,
        header=(organization, f"Service scorecard: {sheet.title}"),
        landscape=landscape,
        title_columns=f"A:{get_column_letter(keys)}" if wide else None,
        repeated=widths[:keys] if wide else (),
    )
    bottom = down_to or max(sheet.max_row, header_row + 1)
    sheet.print_area = f"A1:{get_column_letter(len(printed))}{bottom}"


def _fitted(columns: Sequence[Column], rows: Sequence[Sequence[object]]) -> list[Column]:
    """`columns`, each code column (an id, a file name: text that does not wrap) widened
    to its longest value, up to CODE_WIDEST characters."""
    fitted = []
    for index, column in enumerate(columns):
        if column.style == "code":
            longest = max(
                (len(str(r[index])) for r in rows if isinstance(r[index], str)), default=0
            )
            width = max(column.width, min(longest + 3, CODE_WIDEST))
            column = column._replace(width=width)
        fitted.append(column)
    return fitted


def write_scorecard(path: Path, data: bytes) -> None:
    """Write `path` through a temporary file beside it, so it is whole or untouched."""
    try:
        replace_files(path.parent, {path.name: data})
    except OSError as error:
        raise OutputError(f"could not write {path}: {describe(error)}") from None
