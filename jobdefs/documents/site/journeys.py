"""The seam for patient journeys (contract v1.1, journeys/<journey-id>.yaml).

The site does not read journeys itself: once the workbook loads them, whatever object
holds one with these fields gets a page, `site/journeys/<journey-id>.html`, that lists
its steps in order, each linked to the hand-off it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from jobdefs.model import HandOff


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
