"""A journey drawn as a swimlane: plain numbers and text for the journey page's inline SVG.

The lanes are the journey document's (journey_steps.lanes_of): the customer's own lane on
top, then a dashed line of visibility, then one lane per role grouped by department, then
any other outside party. Steps run left to right, one column each: the box in the
supplier's lane holds the step's number and product (and, with a scorecard, its share
met), an arrow runs from it to a circle with the same number in the receiving lane.

The template puts these into SVG and escapes every text. SVG text does not wrap, so long
texts are wrapped here onto a few lines and cut with an ellipsis; the element's <title>
keeps the whole text, and the steps table under the drawing gives every step as text.
The drawing grows wider with the steps rather than shrinking its text: the page scrolls
it sideways. Paper cannot scroll, so a journey of more steps than a page holds at a
legible size prints in parts (`printed_parts`): a few steps each, with only the lanes those
steps touch below the customer's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jobdefs.documents.journey_steps import Lane, RolledStep, share_text

DEPARTMENT_WIDTH = 120
ROLE_WIDTH = 150
LABELS_WIDTH = DEPARTMENT_WIDTH + ROLE_WIDTH
STEP_WIDTH = 140
HEADER_HEIGHT = 28
VISIBILITY_HEIGHT = 26  # the band between the customer's lane and the lanes behind it
VISIBILITY_LABEL_WIDTH = 136  # where the dashes start: after the words "line of visibility"
LINE_HEIGHT = 15  # of 12-pixel text
PAD = 6
BOX_INSET = 8  # between a step's box and its column's edges
MARKER_RADIUS = 12
# Characters of 12-pixel text that fit a line, less the padding: up to 7.2 pixels each in
# DejaVu Sans, the widest of the fonts the style sheet names.
CHARS_PER_PIXEL = 1 / 7.2
PRODUCT_LINES = 3
# Steps per printed part: 6 make 1,111 pixels, which a landscape Letter or A4 page (980
# pixels inside its margins) prints at 88 %, the drawing's 12-pixel text at 8 points.
PRINTED_STEPS = 6


def _chars(width: int) -> int:
    return max(int((width - 2 * PAD) * CHARS_PER_PIXEL), 4)


def wrap(text: str, width: int, most: int) -> list[str]:
    """`text` on at most `most` lines of at most `width` characters; a word longer than a
    line breaks inside it, and what does not fit ends the last line with an ellipsis."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        while len(word) > width:  # a word longer than a line: as much as fits, then on
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:width])
            word = word[width:]
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    if len(lines) > most:
        last = lines[most - 1]
        lines = [*lines[: most - 1], last[: width - 1].rstrip() + "\u2026"]
    return lines or [""]


def drawing(
    lanes: Sequence[Lane],
    steps: Sequence[RolledStep],
    hrefs: Mapping[str, str],
    customer: str,
    scored: bool,
) -> dict[str, Any]:
    """Lanes, steps and arrows of a journey. `lanes[0]` is the customer's own lane;
    `hrefs` gives each hand-off's link (by id), from the page that shows the drawing."""
    lines_per_box = PRODUCT_LINES + (1 if scored else 0)
    lane_height = lines_per_box * LINE_HEIGHT + 2 * PAD + 2 * BOX_INSET
    tops: dict[str, int] = {}
    y = HEADER_HEIGHT
    for index, lane in enumerate(lanes):
        tops[lane.key] = y
        y += lane_height + (VISIBILITY_HEIGHT if index == 0 else 0)
    height = y + 1
    width = LABELS_WIDTH + STEP_WIDTH * max(len(steps), 1) + 1
    role_chars, department_chars = _chars(ROLE_WIDTH), _chars(DEPARTMENT_WIDTH)
    most_lines = (lane_height - 2 * PAD) // LINE_HEIGHT

    drawn_lanes = []
    for index, lane in enumerate(lanes):
        top = tops[lane.key]
        drawn_lanes.append(
            {
                "y": top,
                "height": lane_height,
                "customer": index == 0,
                "title": lane.title,
                "lines": _lines_at(wrap(lane.title, role_chars, most_lines), top, lane_height),
            }
        )

    departments = []
    for department, group in _runs(lanes[1:]):
        top = tops[group[0].key]
        span = lane_height * len(group)
        most = (span - 2 * PAD) // LINE_HEIGHT
        departments.append(
            {
                "y": top,
                "height": span,
                "title": department,
                "lines": _lines_at(wrap(department, department_chars, most), top, span),
            }
        )

    box_width = STEP_WIDTH - 2 * BOX_INSET
    box_height = lane_height - 2 * BOX_INSET
    product_chars = _chars(box_width)
    drawn_steps = []
    words = []  # the steps as the drawing's description says them
    for column, step in enumerate(steps):
        left = LABELS_WIDTH + column * STEP_WIDTH
        middle = left + STEP_WIDTH // 2
        handoff = step.handoff
        if handoff is None:
            top = tops[lanes[0].key]
            drawn_steps.append(
                {
                    "number": step.number,
                    "x": left + BOX_INSET,
                    "y": top + BOX_INSET,
                    "middle": middle,
                    "declared": False,
                    "title": f"Step {step.number}: not a declared hand-off",
                    "lines": _lines_at(
                        [str(step.number), "not a declared", "hand-off"], top, lane_height
                    ),
                }
            )
            continue
        supplier_top = tops[handoff.supplier.key]
        receiver_top = tops[handoff.customer.key]
        # The number goes before the first line: it takes room of that line.
        indent = len(str(step.number)) + 2
        product = wrap(" " * indent + handoff.product, product_chars, PRODUCT_LINES)
        product[0] = product[0].strip()
        share = ""
        if scored and step.internal:
            share = (
                f"{share_text(step.figures.share_met)} met"
                if step.answered and step.figures
                else "no answers"
            )
        text_lines = [*product, share] if share else product
        down = receiver_top > supplier_top
        marker_y = receiver_top + lane_height // 2
        start = supplier_top + (lane_height - BOX_INSET if down else BOX_INSET)
        end = marker_y - MARKER_RADIUS if down else marker_y + MARKER_RADIUS
        head = end - 8 if down else end + 8
        said = f"{handoff.supplier.title} hands {handoff.product} to {handoff.customer.title}"
        if share:
            said += f" ({share})"
        words.append(f"step {step.number}, {said}")
        drawn_steps.append(
            {
                "number": step.number,
                "x": left + BOX_INSET,
                "y": supplier_top + BOX_INSET,
                "middle": middle,
                "declared": True,
                "href": hrefs.get(handoff.id, ""),
                "title": f"Step {step.number}: {said}",
                "lines": _lines_at(text_lines, supplier_top, lane_height, bool(share)),
                "arrow": (
                    {
                        "y1": start,
                        "y2": end,
                        "head": f"{middle - 6},{head} {middle + 6},{head} {middle},{end}",
                    }
                    if receiver_top != supplier_top
                    else None
                ),
                "marker_y": marker_y,
            }
        )

    visibility_y = tops[lanes[0].key] + lane_height + VISIBILITY_HEIGHT // 2 if lanes else 0
    return {
        "width": width,
        "height": height,
        "labels_width": LABELS_WIDTH,
        "department_width": DEPARTMENT_WIDTH,
        "step_width": STEP_WIDTH,
        "header_height": HEADER_HEIGHT,
        "box_width": box_width,
        "box_height": box_height,
        "marker_radius": MARKER_RADIUS,
        "columns": [
            {
                "number": step.number,
                "x": LABELS_WIDTH + n * STEP_WIDTH,
                "middle": LABELS_WIDTH + n * STEP_WIDTH + STEP_WIDTH // 2,
            }
            for n, step in enumerate(steps)
        ],
        "lanes": drawn_lanes,
        "departments": departments,
        "steps": drawn_steps,
        "visibility": {
            "y": visibility_y,
            "text_y": visibility_y + 4,
            "top": visibility_y - VISIBILITY_HEIGHT // 2,
            "height": VISIBILITY_HEIGHT,
            "label_width": VISIBILITY_LABEL_WIDTH,
        },
        "description": (
            f"{len(lanes)} lanes: the {customer.lower()}'s own lane on top, above the line "
            "of visibility; below it the roles' lanes, grouped by department. Steps run left "
            "to right: " + "; ".join(words) + "."
        ),
    }


def printed_parts(
    lanes: Sequence[Lane],
    steps: Sequence[RolledStep],
    hrefs: Mapping[str, str],
    customer: str,
    scored: bool,
) -> list[dict[str, Any]]:
    """The drawing in parts of PRINTED_STEPS steps for paper, or none when it fits whole.

    Each part keeps the customer's lane and the lanes its own steps hand from or to, in
    their order, so that it is no taller than it needs to be.
    """
    if len(steps) <= PRINTED_STEPS:
        return []
    parts = []
    for start in range(0, len(steps), PRINTED_STEPS):
        part = steps[start : start + PRINTED_STEPS]
        touched = {lanes[0].key}
        for step in part:
            if step.handoff is not None:
                touched |= {step.handoff.supplier.key, step.handoff.customer.key}
        kept = [lane for lane in lanes if lane.key in touched]
        made = drawing(kept, part, hrefs, customer, scored)
        made["first"], made["last"] = part[0].number, part[-1].number
        parts.append(made)
    return parts


def _lines_at(
    lines: Sequence[str], top: int, height: int, strong_last: bool = False
) -> list[dict[str, Any]]:
    """Lines of text centred down a box of `height` from `top`, each with its baseline."""
    first = top + (height - len(lines) * LINE_HEIGHT) // 2 + LINE_HEIGHT - 3
    return [
        {
            "text": line,
            "y": first + n * LINE_HEIGHT,
            "strong": strong_last and n == len(lines) - 1,
        }
        for n, line in enumerate(lines)
    ]


def _runs(lanes: Sequence[Lane]) -> list[tuple[str, list[Lane]]]:
    """The lanes in runs of one department each, in their order."""
    runs: list[tuple[str, list[Lane]]] = []
    for lane in lanes:
        if runs and runs[-1][0] == lane.department:
            runs[-1][1].append(lane)
        else:
            runs.append((lane.department, [lane]))
    return runs
