"""A journey's steps with their survey figures, and the journey's rolled share met.

A journey is only as good as all its hand-offs together: if three steps each meet their
customer's need 90 % of the time, the patient gets a clean path about 73 % of the time.
The rolled share met is the product of the shares met of the journey's steps to internal
customers (roles) that were answered. A step to an outside customer (the patient, a payer)
is not asked about in the internal surveys; a step with no answers is named, never guessed.

And a journey's lanes: the customer's own lane on top, then one lane per role, grouped by
department, then any other outside party.

Here, below the documents and the scorecard, because the journey document, the explorer's
journey page and the journey score all show these and must agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple, Protocol

from jobdefs.model import EXTERNAL_DEPARTMENT, HandOff, Journey, Organization
from jobdefs.text import count


class WalkedStep(Protocol):
    """What lanes and shares read of a journey's step: the hand-off it is, if declared."""

    @property
    def handoff(self) -> HandOff | None: ...


class Walked(Protocol):
    """What lanes and shares read of a journey: a model.Journey, or the explorer's seam
    (documents/site/journeys.py), which has no more than these fields."""

    @property
    def customer(self) -> str: ...
    @property
    def steps(self) -> Sequence[WalkedStep]: ...


class StepFigures(NamedTuple):
    """What the internal surveys said of one hand-off: its share met and how many answered.

    `share_met` is None when no answer scored it (none came back, or only "Don't receive it").
    """

    share_met: float | None
    responses: int = 0


@dataclass(frozen=True)
class RolledStep:
    """One step of a journey as lived, numbered from 1, with its figures when it has any."""

    number: int
    handoff: HandOff | None  # None: the journey file names no declared hand-off here
    figures: StepFigures | None  # None: not asked about (outside customer) or no answers

    @property
    def internal(self) -> bool:
        """The step hands something to a role, so the internal surveys ask about it."""
        return self.handoff is not None and self.handoff.customer.kind == "role"

    @property
    def answered(self) -> bool:
        return self.figures is not None and self.figures.share_met is not None


@dataclass(frozen=True)
class JourneyRoll:
    """A journey's steps with their figures, the rolled share met, the gaps and the weakest."""

    journey: Walked
    steps: tuple[RolledStep, ...]

    @property
    def internal(self) -> tuple[RolledStep, ...]:
        return tuple(step for step in self.steps if step.internal)

    @property
    def answered(self) -> tuple[RolledStep, ...]:
        return tuple(step for step in self.internal if step.answered)

    @property
    def unanswered(self) -> tuple[RolledStep, ...]:
        """Internal steps the surveys gave no share met for: named, never guessed."""
        return tuple(step for step in self.internal if not step.answered)

    @property
    def share_met(self) -> float | None:
        """The product of the answered internal steps' shares met; None when none was."""
        shares = [step.figures.share_met for step in self.answered if step.figures]
        if not shares:
            return None
        product = 1.0
        for share in shares:
            product *= share or 0.0
        return product

    @property
    def weakest(self) -> RolledStep | None:
        """The answered internal step with the lowest share met (the first, on a tie)."""
        answered = self.answered
        if not answered:
            return None
        return min(answered, key=lambda step: (_share(step), step.number))


def _share(step: RolledStep) -> float:
    if step.figures is None or step.figures.share_met is None:
        return 0.0
    return step.figures.share_met


def share_text(value: float | None) -> str:
    """0.755 -> '76%', halves rounded up as a spreadsheet shows them; None -> '–'.

    The scorecard's own rule (feedback.scoring.percent), here for the documents below it.
    """
    if value is None:
        return "–"
    shown = Decimal(repr(value * 100)).quantize(Decimal(1), ROUND_HALF_UP)
    return f"{shown:.0f}%"


def roll(journey: Walked, figures: Mapping[str, StepFigures]) -> JourneyRoll:
    """`journey`'s steps with the figures of their hand-offs (by hand-off id)."""
    steps = []
    for number, step in enumerate(journey.steps, 1):
        handoff = step.handoff
        found = figures.get(handoff.id) if handoff is not None else None
        internal = handoff is not None and handoff.customer.kind == "role"
        steps.append(RolledStep(number, handoff, found if internal else None))
    return JourneyRoll(journey, tuple(steps))


class Lane(NamedTuple):
    key: str  # a party's key: a role id, or external:<id>
    department: str
    title: str


def customer_lane(organization: Organization, journey: Walked) -> Lane:
    """The lane of the journey's own customer, named as the organization names it."""
    customer = organization.external(journey.customer)
    title = customer.name if customer else journey.customer
    return Lane(f"external:{journey.customer}", "", title)


def lanes_of(organization: Organization, journey: Walked) -> list[Lane]:
    """The customer's lane, then the roles' lanes by department (each department and role
    where it first appears in the journey), then any other outside party's lane."""
    top = customer_lane(organization, journey)
    roles: dict[str, dict[str, Lane]] = {}
    outside: dict[str, Lane] = {}
    for step in journey.steps:
        if step.handoff is None:
            continue
        for party in (step.handoff.supplier, step.handoff.customer):
            if party.key == top.key:
                continue
            if party.kind == "role":
                department = roles.setdefault(party.department, {})
                department.setdefault(party.key, Lane(party.key, party.department, party.title))
            else:
                outside.setdefault(party.key, Lane(party.key, EXTERNAL_DEPARTMENT, party.title))
    return [top, *(lane for group in roles.values() for lane in group.values()), *outside.values()]


def roll_summary(rolled: JourneyRoll, customer: str) -> list[str]:
    """The sentences that say how the journey scores: the rolled share, the weakest step,
    the steps without answers and the steps to outside customers (the journey document's
    and the explorer's journey page's)."""
    lines = []
    answered, internal = rolled.answered, rolled.internal
    if rolled.share_met is None:
        lines.append(
            "Rolled share met: no step to a colleague has answers yet, so there is nothing "
            "to multiply."
        )
    else:
        shown = share_text(rolled.share_met)
        lines.append(
            f"Rolled share met: {shown}, the product of the shares met of "
            f"{len(answered)} of the {count(len(internal), 'step')} to colleagues. If each "
            f"step keeps its share, about {shown.rstrip('%')} in 100 patients pass every one "
            "of them with their need met."
        )
    weakest = rolled.weakest
    if weakest is not None and weakest.figures is not None:
        lines.append(
            f"Weakest step: {_step_name(weakest)} ({share_text(weakest.figures.share_met)} met)."
        )
    if rolled.unanswered:
        lines.append(
            "No answers yet, not counted: "
            + "; ".join(_step_name(step) for step in rolled.unanswered)
            + "."
        )
    outside = [step for step in rolled.steps if step.handoff and not step.internal]
    if outside:
        numbers = ", ".join(str(step.number) for step in outside)
        lines.append(
            f"{'Step' if len(outside) == 1 else 'Steps'} {numbers} hand something to someone "
            f"outside; the internal surveys do not ask about them: the {customer.lower()}'s "
            "own answers do."
        )
    return lines


def _step_name(step: RolledStep) -> str:
    if step.handoff is None:
        return f"step {step.number}"
    h = step.handoff
    return f"step {step.number}, {h.product} ({h.supplier.title} → {h.customer.title})"


def role_steps(journeys: Sequence[Journey], role_id: str) -> list[tuple[Journey, tuple[int, ...]]]:
    """The journeys a role takes part in, each with the numbers of its steps there (as
    supplier or as customer): what a role's job aid and page say about journeys."""
    found = []
    for journey in journeys:
        numbers = tuple(
            number
            for number, step in enumerate(journey.steps, 1)
            if step.handoff is not None
            and role_id in (step.handoff.supplier.id, step.handoff.customer.key)
        )
        if numbers:
            found.append((journey, numbers))
    return found
