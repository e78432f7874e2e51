"""A line of sight drawn as a path: the roles from top to bottom, each hand-off an arrow
named by its product, ending at the external customer. Plain numbers and text for the
template to put in an inline SVG (which escapes them); the same chain is also a list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jobdefs.model import HandOff

WIDTH = 640
BOX_HEIGHT = 34
STEP = 74  # from one box's top to the next: room for the arrow and its product
# SVG text does not wrap: longer names are cut with an ellipsis in the drawing (the list
# below it gives them whole).
BOX_CHARACTERS = 64
LABEL_CHARACTERS = 70


def cut(text: str, most: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= most else text[: most - 1].rstrip() + "\u2026"


def drawing(chain: Sequence[HandOff], customer: str) -> dict[str, Any]:
    """Boxes and arrows for a chain of hand-offs that ends at `customer`."""
    names = [handoff.supplier.title for handoff in chain] + [customer]
    boxes = [
        {
            "y": index * STEP,
            "text_y": index * STEP + BOX_HEIGHT // 2 + 5,
            "text": cut(name, BOX_CHARACTERS),
            "last": index == len(names) - 1,
        }
        for index, name in enumerate(names)
    ]
    arrows = [
        {
            "y1": index * STEP + BOX_HEIGHT,
            "y2": (index + 1) * STEP - 2,
            "label_y": index * STEP + BOX_HEIGHT + (STEP - BOX_HEIGHT) // 2 + 4,
            "text": cut(handoff.product, LABEL_CHARACTERS),
        }
        for index, handoff in enumerate(chain)
    ]
    words = [f"{h.supplier.title} hands {h.product} to" for h in chain]
    return {
        "width": WIDTH,
        "height": (len(names) - 1) * STEP + BOX_HEIGHT + 2,
        "box_height": BOX_HEIGHT,
        "boxes": boxes,
        "arrows": arrows,
        "label": " ".join([*words, customer]),
    }
