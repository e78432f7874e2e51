"""The journey documents of a build: journeys/<journey-id>.docx, each known by what it shows.

A journey document shows its steps' hand-offs as the role files declare them (the parties'
titles and departments, the product, the need and the standard), the lanes of the roles
that take part, and, with a scorecard, each step's share met. Its digest is made of exactly
that, so a role edit that no step shows leaves it alone.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence

from jobdefs import __version__
from jobdefs.digests import code_version
from jobdefs.documents.journey_document import journey_document
from jobdefs.documents.journey_steps import StepFigures
from jobdefs.model import Journey, Organization
from jobdefs.output import JOURNEYS


def journeys_text(journeys: Sequence[Journey]) -> str:
    """The journeys as their files write them, as text to digest: what job aids and site
    pages show of them follows from it, so a journey file's edit changes their digests."""
    return json.dumps(
        [
            [
                j.id,
                j.title,
                j.customer,
                j.description,
                [[s.supplier, s.product, s.to] for s in j.steps],
            ]
            for j in journeys
        ],
        ensure_ascii=False,
    )


def journey_path(journey: Journey) -> str:
    return f"{JOURNEYS}/{journey.id}.docx"


class JourneyPlan:
    """Every journey document with its digest; `render` makes the wanted ones."""

    def __init__(
        self,
        organization: Organization,
        moment: datetime.datetime,
        figures: Mapping[str, StepFigures] | None = None,
    ) -> None:
        self.organization = organization
        self.moment = moment
        self.figures = figures
        self.journeys = {journey_path(j): j for j in organization.journeys}
        self.digests = {path: self._digest(j) for path, j in self.journeys.items()}

    def _digest(self, journey: Journey) -> str:
        organization = self.organization
        shown = [organization.name, journey.id, journey.title, journey.description]
        external = organization.external(journey.customer)
        shown.append(external.name if external is not None else journey.customer)
        steps: list[object] = []
        for step in journey.steps:
            handoff = step.handoff
            if handoff is None:
                steps.append([step.supplier, step.product, step.to])
                continue
            parties = [
                (party.kind, party.id, party.title, party.department)
                for party in (handoff.supplier, handoff.customer)
            ]
            figures = self.figures.get(handoff.id) if self.figures is not None else None
            steps.append([parties, handoff.product, handoff.need, handoff.standard, repr(figures)])
        text = json.dumps([shown, steps, self.figures is not None], ensure_ascii=False)
        hasher = hashlib.sha256(__version__.encode())
        for part in ("journey", code_version(), self.moment.isoformat(), text):
            hasher.update(b"\x1e" + part.encode())
        return hasher.hexdigest()

    def render(self, wanted: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        for path in sorted(set(wanted) & self.journeys.keys()):
            journey = self.journeys[path]
            yield path, journey_document(self.organization, journey, self.moment, self.figures)
