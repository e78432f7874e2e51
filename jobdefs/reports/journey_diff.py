"""Two versions of an organization's journeys -> the journeys added, removed and changed.

Journeys are matched by their id (the file's name). A journey changed when its title, its
customer or its steps did; each step is told as its supplier, product and customer, so the
steps added and removed are named with their numbers (the new number for an added step, the
old for a removed one), the way a reader of either version counts them.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from jobdefs.model import Journey, JourneyStep, Organization, fold_name
from jobdefs.text import fold_spaces

JourneyChangeKind = Literal["journey-added", "journey-removed", "journey-changed"]
# The order in which kinds are reported, after the roles' changes, with each group's heading.
JOURNEY_HEADINGS: dict[JourneyChangeKind, str] = {
    "journey-added": "Journeys added",
    "journey-removed": "Journeys removed",
    "journey-changed": "Journeys changed",
}


@dataclass(frozen=True)
class StepText:
    """One step as a reader sees it: its number and the names of its parties."""

    number: int
    supplier: str
    product: str
    customer: str
    handoff_id: str = ""

    def sentence(self, quote: Callable[[str], str], name: Callable[[str], str]) -> str:
        return (
            f"step {self.number}: {name(self.supplier)} hands {quote(self.product)} "
            f"to {name(self.customer)}"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "step": self.number,
            "supplier": self.supplier,
            "product": self.product,
            "customer": self.customer,
            "handoff_id": self.handoff_id or None,
        }


@dataclass(frozen=True)
class JourneyChange:
    """A journey added or removed, or what changed in one: its title, customer and steps."""

    kind: JourneyChangeKind
    id: str
    title: str  # as it is now, or as it was if removed
    customer: str  # the external customer's name (or id, when no such customer exists)
    steps: int
    before_title: str = ""
    before_customer: str = ""
    steps_added: tuple[StepText, ...] = ()
    steps_removed: tuple[StepText, ...] = ()

    def message(
        self, quote: Callable[[str], str] | None = None, name: Callable[[str], str] | None = None
    ) -> str:
        """The change as one sentence; `quote` and `name` render user text (for Markdown)."""
        q = quote or (lambda text: f"'{fold_spaces(text)}'")
        n = name or fold_spaces
        steps = f"{self.steps} step{'' if self.steps == 1 else 's'}"
        if self.kind == "journey-added":
            return (
                f"Added the journey {q(self.title)} ({n(self.id)}) for {n(self.customer)}, {steps}"
            )
        if self.kind == "journey-removed":
            return (
                f"Removed the journey {q(self.title)} ({n(self.id)}) for {n(self.customer)}, "
                f"which had {steps}"
            )
        parts = []
        if self.before_title:
            parts.append(f"title {q(self.before_title)} → {q(self.title)}")
        if self.before_customer:
            parts.append(f"customer {n(self.before_customer)} → {n(self.customer)}")
        parts += [f"added {step.sentence(q, n)}" for step in self.steps_added]
        parts += [f"removed {step.sentence(q, n)}" for step in self.steps_removed]
        return f"Changed the journey {q(self.title)} ({n(self.id)}): " + "; ".join(parts)

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "id": self.id,
            "title": self.title,
            "customer": self.customer,
            "steps": self.steps,
            "before_title": self.before_title or None,
            "before_customer": self.before_customer or None,
            "steps_added": [step.as_dict() for step in self.steps_added],
            "steps_removed": [step.as_dict() for step in self.steps_removed],
            "message": self.message(),
        }


def compare_journeys(old: Organization, new: Organization) -> tuple[JourneyChange, ...]:
    """Every journey change from `old` to `new`: added, then removed, then changed, each
    group in the order of the journeys' ids."""
    before = {journey.id: journey for journey in old.journeys}
    after = {journey.id: journey for journey in new.journeys}
    changes = [
        _whole("journey-added", new, after[id_]) for id_ in sorted(after.keys() - before.keys())
    ]
    changes += [
        _whole("journey-removed", old, before[id_]) for id_ in sorted(before.keys() - after.keys())
    ]
    for id_ in sorted(before.keys() & after.keys()):
        change = _changed(old, before[id_], new, after[id_])
        if change is not None:
            changes.append(change)
    return tuple(changes)


def _customer(organization: Organization, journey: Journey) -> str:
    external = organization.external(journey.customer)
    return external.name if external is not None else journey.customer


def _whole(kind: JourneyChangeKind, organization: Organization, journey: Journey) -> JourneyChange:
    customer = _customer(organization, journey)
    return JourneyChange(kind, journey.id, journey.title, customer, len(journey.steps))


def _step_text(organization: Organization, number: int, step: JourneyStep) -> StepText:
    handoff = step.handoff
    if handoff is None:
        return StepText(number, step.supplier, step.product, step.to)
    return StepText(
        number, handoff.supplier.title, handoff.product, handoff.customer.title, handoff.id
    )


def _step_key(step: JourneyStep) -> tuple[str, str, str]:
    """What makes two steps the same: their parties and the product, as the id folds it."""
    return (step.supplier, fold_name(step.product), step.to)


def _changed(
    old: Organization, was: Journey, new: Organization, now: Journey
) -> JourneyChange | None:
    old_customer, new_customer = _customer(old, was), _customer(new, now)
    matcher = difflib.SequenceMatcher(
        a=[_step_key(s) for s in was.steps], b=[_step_key(s) for s in now.steps], autojunk=False
    )
    added: list[StepText] = []
    removed: list[StepText] = []
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag in ("delete", "replace"):
            removed += [
                _step_text(old, number + 1, was.steps[number])
                for number in range(old_start, old_end)
            ]
        if tag in ("insert", "replace"):
            added += [
                _step_text(new, number + 1, now.steps[number])
                for number in range(new_start, new_end)
            ]
    retitled = was.title != now.title
    moved = was.customer != now.customer
    if not (retitled or moved or added or removed):
        return None
    return JourneyChange(
        "journey-changed",
        now.id,
        now.title,
        new_customer,
        len(now.steps),
        before_title=was.title if retitled else "",
        before_customer=old_customer if moved else "",
        steps_added=tuple(added),
        steps_removed=tuple(removed),
    )
