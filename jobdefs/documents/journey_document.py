"""Model -> journeys/<journey-id>.docx: a journey drawn as a swimlane, then its steps.

The swimlane is a table laid out as lanes, so that it prints and reads the same in Word and
LibreOffice and a screen reader reads it as text: one lane per role, grouped by department,
the customer's own lane on top and a line of visibility under it, between what the customer
sees and what happens behind it. Steps run left to right, numbered; the supplier's lane
holds the product, the customer's lane an arrow to it. A long journey wraps onto several
bands of columns rather than shrinking its text.

Then the steps as a table (supplier, product, customer, need, standard) and, given the
surveys' figures, each step's share met and the journey's rolled share met.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Mapping, Sequence
from typing import Any

from jobdefs.documents import ooxml, table_cells
from jobdefs.documents.journey_steps import (
    JourneyRoll,
    Lane,
    RolledStep,
    StepFigures,
    customer_lane,
    lanes_of,
    roll,
    roll_summary,
    share_text,
)
from jobdefs.model import Journey, Organization
from jobdefs.text import count

LANE_TEXT_POINTS = 8.5  # the swimlane's text: small enough for seven steps a band, still read
TABLE_TEXT_POINTS = 9.0
STEPS_PER_BAND = 7  # columns of 2.7 cm on a landscape page; more wrap to another band
PAGE_WIDTH_CM, PAGE_HEIGHT_CM = 27.94, 21.59  # US Letter, landscape
MARGIN_CM = 1.5
DEPARTMENT_CM, ROLE_CM = 3.0, 3.3
STEP_CM_MAX = 4.5
LANE_LINE_CM = 0.35  # a line of 8.5-point text in a table cell
LINE_CM = 0.45  # a line of 10-point text

SUPPLIER_FILL = "DDEBF7"  # the product, in the lane of the role that hands it on
SEEN_FILL = "FFF2CC"  # what the customer receives, above the line of visibility
HEADER_FILL = "1F4E78"
LINE_COLOR = "1F4E78"


def journey_document(
    organization: Organization,
    journey: Journey,
    moment: datetime.datetime,
    figures: Mapping[str, StepFigures] | None = None,
) -> bytes:
    """journeys/<journey-id>.docx; with `figures` (by hand-off id) each step's share met."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    rolled = roll(journey, figures or {})
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(PAGE_WIDTH_CM), Cm(PAGE_HEIGHT_CM)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(MARGIN_CM))
    # The job aids' look: one named face, headings in black.
    table_cells.named_font(document.styles["Normal"], 10)
    for name, size in (("Title", 20), ("Heading 1", 16), ("Heading 2", 13)):
        table_cells.named_font(document.styles[name], size, color="000000")
    table_cells.page_lines(section, organization.name, journey.title)

    _title_block(document, organization, journey, rolled, figures is not None)
    lanes = lanes_of(organization, journey)
    customer = _customer_title(organization, journey)
    document.add_heading("The journey, lane by lane", level=2)
    table_cells.paragraph(
        document,
        f"Each column is a step, in the order the {customer.lower()} lives it. The shaded box "
        "is what a role hands on, in that role's lane; ▼ or ▲ marks the lane that receives "
        "it, and a thin │ the lanes it passes on the way. Above the line of visibility is "
        f"what the {customer.lower()} sees; below it, the work behind it.",
        size=TABLE_TEXT_POINTS,
    )
    used = _text_height_cm(document)
    for band in bands(rolled.steps):
        height = band_height_cm(lanes, band, figures is not None)
        if used > 0 and used + height > PAGE_HEIGHT_CM - 2 * MARGIN_CM:
            _page_break(document)  # a band on one page, where it fits on one
            used = 0.0
        _swimlane(document, lanes, band, journey.customer, customer, figures is not None)
        document.add_paragraph()
        used += height + LINE_CM
    document.add_heading("The steps", level=2)
    _steps_table(document, journey, rolled, figures is not None)

    buffer = io.BytesIO()
    document.save(buffer)
    core = ooxml.core_properties(
        table_cells.safe(f"{organization.name}: {journey.title}"), moment, subject="Journey"
    )
    return ooxml.repack(buffer.getvalue(), moment, replace={"docProps/core.xml": core})


# ---------------------------------------------------------------------------------------
# What goes where


def bands(steps: Sequence[RolledStep]) -> list[tuple[RolledStep, ...]]:
    """The steps cut into bands of at most STEPS_PER_BAND columns, as even as they go."""
    if not steps:
        return []
    number = -(-len(steps) // STEPS_PER_BAND)
    size = -(-len(steps) // number)
    return [tuple(steps[start : start + size]) for start in range(0, len(steps), size)]


def band_height_cm(lanes: Sequence[Lane], band: Sequence[RolledStep], scored: bool) -> float:
    """About how tall a band's table prints (on the safe side): each lane as tall as its
    longest wrapped cell. Word and LibreOffice keep no table rows together reliably, so
    the document breaks the page before a band that would not fit below what precedes it."""
    texts: dict[str, list[str]] = {lane.key: [lane.title] for lane in lanes}
    for step in band:
        if step.handoff is not None:
            product = f"{step.number}  {step.handoff.product}"
            texts[step.handoff.supplier.key].append(product + (" 100% met" if scored else ""))
    step_chars = _chars_per_line(STEP_CM_MAX if len(band) == 1 else 2.6)
    role_chars = _chars_per_line(ROLE_CM)
    height = 2 * LANE_LINE_CM + 0.2  # the header and the line of visibility
    for lane in lanes:
        title, *products = texts[lane.key]
        lines = max([_lines(title, role_chars), *(_lines(p, step_chars) for p in products)])
        height += lines * LANE_LINE_CM + 0.05
    return height


def _chars_per_line(width_cm: float) -> int:
    # 8.5-point bold text runs about 0.16 cm a character; less the cell's padding.
    return max(int((width_cm - 0.2) / 0.16), 1)


def _lines(text: str, per_line: int) -> int:
    lines, length = 1, 0
    for word in text.split():
        if length and length + 1 + len(word) > per_line:
            lines, length = lines + 1, 0
        length += (1 if length else 0) + len(word)
        while length > per_line:  # a word longer than the cell breaks inside it
            lines, length = lines + 1, length - per_line
    return lines


def _text_height_cm(document: Any) -> float:
    """About how much of the first page the paragraphs so far take."""
    height = 0.0
    for paragraph in document.paragraphs:
        if paragraph.style.name.startswith("Heading"):
            height += 1.2
        else:
            height += _lines(paragraph.text, 140) * LINE_CM + 0.28
    return height


def _page_break(document: Any) -> None:
    from docx.shared import Pt

    spacer = document.add_paragraph()
    spacer.paragraph_format.page_break_before = True
    spacer.paragraph_format.space_after = Pt(0)


def _customer_title(organization: Organization, journey: Journey) -> str:
    return customer_lane(organization, journey).title


# ---------------------------------------------------------------------------------------
# The title block


def _title_block(
    document: Any,
    organization: Organization,
    journey: Journey,
    rolled: JourneyRoll,
    scored: bool,
) -> None:
    document.add_heading(table_cells.safe(journey.title), level=1)
    customer = _customer_title(organization, journey)
    table_cells.paragraph(document, f"{organization.name} · for the {customer.lower()}", bold=True)
    if journey.description:
        table_cells.paragraph(document, journey.description)
    roles = journey.roles()
    departments = {organization.role(r).department for r in roles if organization.has_role(r)}
    table_cells.paragraph(
        document,
        f"{count(len(journey.steps), 'step')} through {count(len(roles), 'role')} in "
        f"{count(len(departments), 'department')}, from {journey.file or journey.id}.",
        size=TABLE_TEXT_POINTS,
        color=table_cells.QUIET_COLOR,
    )
    if scored:
        for line in roll_summary(rolled, customer):
            table_cells.paragraph(document, table_cells.safe(line))


# ---------------------------------------------------------------------------------------
# The swimlane


def _swimlane(
    document: Any,
    lanes: Sequence[Lane],
    band: Sequence[RolledStep],
    customer_key: str,
    customer: str,
    scored: bool,
) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    step_width = min(
        (PAGE_WIDTH_CM - 2 * MARGIN_CM - DEPARTMENT_CM - ROLE_CM) / STEPS_PER_BAND, STEP_CM_MAX
    )
    widths = [Cm(DEPARTMENT_CM), Cm(ROLE_CM)] + [Cm(step_width)] * len(band)
    top_key = f"external:{customer_key}"
    rows = 2 + len(lanes)  # the header, the lanes and the line of visibility
    table = document.add_table(rows=rows, cols=len(widths))
    table.style = "Table Grid"
    table.autofit = False
    table_cells.fixed_layout(table)

    header = table.rows[0].cells
    for cell, text in zip(
        header, ["Department", "Role", *(f"Step {s.number}" for s in band)], strict=True
    ):
        table_cells.cell(cell, text, bold=True, color="FFFFFF", fill=HEADER_FILL)
    table_cells.repeat_header(table.rows[0])

    # Row 0 is the header, row 1 the customer's lane, row 2 the line of visibility.
    row_of = {lane.key: 1 if lane.key == top_key else n + 2 for n, lane in enumerate(lanes)}
    for lane in lanes:
        cells = table.rows[row_of[lane.key]].cells
        if lane.key == top_key:
            table_cells.cell(cells[0].merge(cells[1]), lane.title, bold=True, fill=SEEN_FILL)
            continue
        table_cells.cell(cells[0], lane.department, bold=True, size=LANE_TEXT_POINTS)
        table_cells.cell(cells[1], lane.title, size=LANE_TEXT_POINTS)
    visibility = table.rows[2].cells
    line = visibility[0].merge(visibility[-1])
    table_cells.cell(
        line,
        f"line of visibility · above: what the {customer.lower()} sees · below: the work behind it",
        size=LANE_TEXT_POINTS,
        color=LINE_COLOR,
        italic=True,
    )
    table_cells.border(line, ("top", "bottom"), "dashed", 12, LINE_COLOR)

    for column, step in enumerate(band, 2):
        if step.handoff is None:
            cell = table.rows[1].cells[column]
            table_cells.cell(cell, f"{step.number}: not a declared hand-off", size=LANE_TEXT_POINTS)
            continue
        supplier = row_of[step.handoff.supplier.key]
        receiver = row_of[step.handoff.customer.key]
        lines = [f"{step.number}  {step.handoff.product}"]
        if scored and step.internal:
            lines.append(
                f"{share_text(step.figures.share_met)} met"
                if step.answered and step.figures
                else "no answers"
            )
        table_cells.cell(
            table.rows[supplier].cells[column],
            lines[0],
            bold=True,
            size=LANE_TEXT_POINTS,
            fill=SUPPLIER_FILL,
            extra=lines[1:],
        )
        arrow = "▼" if receiver > supplier else "▲"
        table_cells.cell(
            table.rows[receiver].cells[column],
            f"{arrow} {step.number}",
            bold=True,
            size=LANE_TEXT_POINTS,
            fill=SEEN_FILL if receiver == 1 else None,
            align=WD_ALIGN_PARAGRAPH.CENTER,
        )
        for between in range(min(supplier, receiver) + 1, max(supplier, receiver)):
            if between == 2:
                continue  # the line of visibility is one merged cell
            table_cells.cell(
                table.rows[between].cells[column],
                "│",
                size=LANE_TEXT_POINTS,
                color=table_cells.QUIET_COLOR,
                align=WD_ALIGN_PARAGRAPH.CENTER,
            )
    table_cells.widths(table, widths)
    _merge_departments(table, lanes, row_of, top_key)
    table_cells.keep_together(table)


def _merge_departments(
    table: Any, lanes: Sequence[Lane], row_of: Mapping[str, int], top_key: str
) -> None:
    """One department cell down the lanes of its roles."""
    runs: list[list[int]] = []
    last = None
    for lane in lanes:
        if lane.key == top_key:
            continue
        if lane.department != last:
            runs.append([])
            last = lane.department
        runs[-1].append(row_of[lane.key])
    for rows in runs:
        if len(rows) > 1:
            first = table.rows[rows[0]].cells[0]
            for row in rows[1:]:
                table.rows[row].cells[0].text = ""
            first.merge(table.rows[rows[-1]].cells[0])
            table_cells.trim(first)


# ---------------------------------------------------------------------------------------
# The steps table


def _steps_table(document: Any, journey: Journey, rolled: JourneyRoll, scored: bool) -> None:
    from docx.shared import Cm

    headers = ["Step", "Supplier", "Product", "Customer", "Need", "Standard"]
    widths = [1.3, 3.6, 3.6, 3.6, 7.2, 5.6]
    if scored:
        headers += ["Share met", "Answers"]
        widths = [1.3, 3.3, 3.3, 3.3, 5.6, 4.2, 1.9, 1.9]
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.autofit = False
    table_cells.fixed_layout(table)
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        table_cells.cell(
            cell, text, bold=True, color="FFFFFF", fill=HEADER_FILL, size=TABLE_TEXT_POINTS
        )
    table_cells.repeat_header(table.rows[0])
    for step in rolled.steps:
        cells = table.add_row().cells
        h = step.handoff
        if h is None:
            journey_step = journey.steps[step.number - 1]
            values = [
                str(step.number),
                journey_step.supplier,
                journey_step.product,
                journey_step.to,
                "not a declared hand-off: see 'jobdefs check'",
                "",
            ]
        else:
            values = [
                str(step.number),
                f"{h.supplier.title}\n{h.supplier.department}",
                h.product,
                f"{h.customer.title}\n{h.customer.department}",
                h.need,
                h.standard,
            ]
        if scored:
            if not step.internal:
                values += ["outside", ""]
            elif step.figures is None:
                values += ["none yet", "0"]
            else:
                values += [share_text(step.figures.share_met), str(step.figures.responses)]
        for cell, value in zip(cells, values, strict=True):
            first, *rest = value.split("\n")
            table_cells.cell(cell, first, size=TABLE_TEXT_POINTS, extra=rest, quiet_extra=True)
    table_cells.widths(table, [Cm(w) for w in widths])
    for row in table.rows:
        table_cells.cant_split(row)
