"""The seam for patient journeys (contract v1.1, journeys/<journey-id>.yaml).

The site does not read journeys itself: once the workbook loads them, whatever object
holds one with these fields gets a page, `site/journeys/<journey-id>.html`, that draws
its swimlane (the journey document's lanes, documents/site/swimlane.py) and lists its
steps in order, each linked to the hand-off it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from jobdefs.documents.journey_steps import StepFigures, lanes_of, roll, roll_summary, share_text
from jobdefs.documents.site import swimlane
from jobdefs.model import HandOff, Organization


class JourneyStep(Protocol):
    """One step of a journey as contract v1.1 declares it: a declared hand-off."""

    @property
    def handoff(self) -> HandOff | None: ...  # None only in a workbook with errors


class Journey(Protocol):
    """A patient journey (journeys/<id>.yaml): the site shows one once journeys exist."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def customer(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def steps(self) -> Sequence[JourneyStep]: ...


def context(
    organization: Organization,
    journey: Journey,
    handoffs: Mapping[str, dict[str, Any]],
    customer_href: str,
    figures: Mapping[str, StepFigures] | None,
) -> dict[str, Any]:
    """What a journey's page shows: its swimlane, then its steps as a table, and with a
    scorecard (`figures`, by hand-off id) each step's share met and the rolled share met.
    `handoffs` are the page's hand-offs as the site shows them (SitePages._handoff_out)."""
    rolled = roll(journey, figures or {})
    lanes = lanes_of(organization, journey)
    customer = lanes[0].title
    scored = figures is not None
    steps = []
    for step in rolled.steps:
        shown: dict[str, Any] = {"number": step.number, "declared": step.handoff is not None}
        if step.handoff is not None:
            shown.update(handoffs[step.handoff.id])
        if not step.internal:
            shown.update(share_met="outside" if step.handoff else "", responses="")
        elif step.figures is None:
            shown.update(share_met="none yet", responses="0")
        else:
            shown.update(
                share_met=share_text(step.figures.share_met),
                responses=str(step.figures.responses),
            )
        steps.append(shown)
    hrefs = {h["id"]: h["href"] for h in handoffs.values()}
    return {
        "title": journey.title,
        "journey": {
            "title": journey.title,
            "description": journey.description,
            "customer": customer,
            "customer_href": customer_href,
        },
        "drawing": swimlane.drawing(lanes, rolled.steps, hrefs, customer, scored),
        "printed_parts": swimlane.printed_parts(lanes, rolled.steps, hrefs, customer, scored),
        "steps": steps,
        "scored": scored,
        "score": roll_summary(rolled, customer) if scored else [],
    }
