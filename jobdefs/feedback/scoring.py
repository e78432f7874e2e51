"""The scorecard's figures: answers counted per hand-off, supplier role and department.

Scoring: Met counts 1, Partly met ½ and Not met 0; the share met is their mean. "Don't
receive it" is a gap: counted as a response and reported on its own, outside the share.
A blank answer is no response. Roll-ups (roles, departments, overall) pool the answers of
their hand-offs, so a hand-off with more respondents weighs more. A baseline round is
compared on the same hand-offs only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from jobdefs.feedback.answers import (
    Note,
    Response,
    SurveyFile,
    file_key,
    read_survey,
    survey_paths,
)
from jobdefs.feedback.survey import (
    MET,
    NOT_MET,
    NOT_RECEIVED,
    PARTLY_MET,
    SurveyError,
)
from jobdefs.model import HandOff, Organization
from jobdefs.text import one_line, shorten

SCORES = {MET: 1.0, PARTLY_MET: 0.5, NOT_MET: 0.0}  # NOT_RECEIVED is a gap, not a score
SCORING = (
    f"Share met counts {MET} as 1, {PARTLY_MET} as ½ and {NOT_MET} as 0; "
    f"“{NOT_RECEIVED}” is a gap, counted on its own and outside the share."
)


@dataclass(frozen=True)
class Figures:
    """Counts of answers, from which every figure is derived."""

    asked: int = 0
    met: int = 0
    partly_met: int = 0
    not_met: int = 0
    gaps: int = 0  # "Don't receive it"
    ratings: int = 0
    rating_total: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(a + b for a, b in zip(self._counts(), other._counts(), strict=True)))

    def _counts(self) -> tuple[int, ...]:
        return (
            self.asked,
            self.met,
            self.partly_met,
            self.not_met,
            self.gaps,
            self.ratings,
            self.rating_total,
        )

    @property
    def responses(self) -> int:
        return self.met + self.partly_met + self.not_met + self.gaps

    @property
    def no_response(self) -> int:
        return max(self.asked - self.responses, 0)

    @property
    def share_met(self) -> float | None:
        scored = self.met + self.partly_met + self.not_met
        if not scored:
            return None
        return (self.met * SCORES[MET] + self.partly_met * SCORES[PARTLY_MET]) / scored

    @property
    def mean_rating(self) -> float | None:
        return self.rating_total / self.ratings if self.ratings else None

    def as_dict(self) -> dict[str, object]:
        return {
            "asked": self.asked,
            "responses": self.responses,
            "no_response": self.no_response,
            "met": self.met,
            "partly_met": self.partly_met,
            "not_met": self.not_met,
            "gaps": self.gaps,
            "ratings": self.ratings,
            "share_met": round_half_up(self.share_met, 4),
            "mean_rating": round_half_up(self.mean_rating, 2),
        }


@dataclass(frozen=True)
class Change:
    """How a figure moved since the baseline round; None where either side has no answers."""

    share_met: float | None
    mean_rating: float | None

    @classmethod
    def between(cls, now: Figures, baseline: Figures | None) -> Change | None:
        if baseline is None:
            return None
        return cls(
            _difference(now.share_met, baseline.share_met),
            _difference(now.mean_rating, baseline.mean_rating),
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "share_met": round_half_up(self.share_met, 4),
            "mean_rating": round_half_up(self.mean_rating, 2),
        }


def _difference(now: float | None, then: float | None) -> float | None:
    return None if now is None or then is None else now - then


@dataclass(frozen=True)
class Comment:
    handoff_id: str
    text: str
    answer: str | None
    rating: int | None
    file: str
    row: int

    def as_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "answer": self.answer,
            "rating": self.rating,
            "file": self.file,
            "row": self.row,
        }


@dataclass(frozen=True)
class HandOffScore:
    handoff: HandOff
    figures: Figures
    baseline: Figures | None
    comments: tuple[Comment, ...]
    changed: bool  # the need or standard changed after a survey asked about it

    @property
    def change(self) -> Change | None:
        return Change.between(self.figures, self.baseline)


@dataclass(frozen=True)
class GroupScore:
    """A supplier role's or a department's hand-offs taken together."""

    key: str  # the role id, or the department's name
    title: str
    department: str
    handoffs: int
    figures: Figures
    baseline: Figures | None

    @property
    def change(self) -> Change | None:
        return Change.between(self.figures, self.baseline)


@dataclass(frozen=True)
class Scorecard:
    organization: str
    rounds: tuple[str, ...]
    baseline_rounds: tuple[str, ...]
    files: tuple[str, ...]
    baseline_files: tuple[str, ...]
    handoffs: tuple[HandOffScore, ...]
    roles: tuple[GroupScore, ...]
    departments: tuple[GroupScore, ...]
    overall: GroupScore
    notes: tuple[Note, ...] = field(default=())
    answered_files: tuple[str, ...] = ()  # of `files`, those with an answer on any row
    answered_baseline_files: tuple[str, ...] = ()

    @property
    def has_baseline(self) -> bool:
        return bool(self.baseline_files)

    def below(self, threshold: float) -> tuple[HandOffScore, ...]:
        """Hand-offs whose share met is under `threshold` (those with no answers are not)."""
        return tuple(
            h
            for h in self.handoffs
            if h.figures.share_met is not None and h.figures.share_met < threshold
        )


@dataclass
class _Tally:
    asked: int = 0
    met: int = 0
    partly_met: int = 0
    not_met: int = 0
    gaps: int = 0
    ratings: int = 0
    rating_total: int = 0
    changed: bool = False
    comments: list[Comment] = field(default_factory=list)

    def figures(self) -> Figures:
        return Figures(
            self.asked,
            self.met,
            self.partly_met,
            self.not_met,
            self.gaps,
            self.ratings,
            self.rating_total,
        )

    def add(self, response: Response) -> None:
        self.asked += 1
        if response.answer == MET:
            self.met += 1
        elif response.answer == PARTLY_MET:
            self.partly_met += 1
        elif response.answer == NOT_MET:
            self.not_met += 1
        elif response.answer == NOT_RECEIVED:
            self.gaps += 1
        if response.rating is not None:
            self.ratings += 1
            self.rating_total += response.rating


def _tally(
    organization: Organization, surveys: Sequence[SurveyFile], label: str, notes: list[Note]
) -> dict[str, _Tally]:
    by_id = {h.id: h for h in organization.handoffs}
    tallies: dict[str, _Tally] = {}
    for survey in surveys:
        if (
            survey.organization
            and survey.organization != organization.name
            and survey.responses
            and not any(response.handoff_id in by_id for response in survey.responses)
        ):
            raise SurveyError(
                f"{survey.file}: this survey was written for another organization "
                f"('{one_line(survey.organization)}'), not {organization.name}: none of its "
                "hand-offs is in this workbook. Give the answered surveys of this one"
            )
        notes.extend(survey.notes)
        present = set()
        for response in survey.responses:
            present.add(response.handoff_id)
            handoff = by_id.get(response.handoff_id)
            if handoff is None:
                notes.append(
                    Note(
                        "stale-id",
                        survey.file,
                        response.row,
                        f"{label}hand-off {response.handoff_id} is no longer in the "
                        "workbook (its supplier, product or customer was renamed or "
                        "removed); not counted",
                    )
                )
                continue
            tally = tallies.setdefault(handoff.id, _Tally())
            tally.add(response)
            if response.fingerprint and response.fingerprint != handoff.fingerprint:
                tally.changed = True
                notes.append(
                    Note(
                        "changed",
                        survey.file,
                        response.row,
                        f"{label}the need or standard of '{shorten(handoff.product, 40)}' "
                        f"from {handoff.supplier.title} changed after this survey "
                        "was made; the answer is about the earlier wording",
                    )
                )
            if response.comment:
                tally.comments.append(
                    Comment(
                        handoff.id,
                        response.comment,
                        response.answer,
                        response.rating,
                        survey.file,
                        response.row,
                    )
                )
        for handoff_id in survey.asked:
            if handoff_id in present or handoff_id not in by_id:
                continue
            handoff = by_id[handoff_id]
            tallies.setdefault(handoff_id, _Tally()).asked += 1
            notes.append(
                Note(
                    "missing-row",
                    survey.file,
                    None,
                    f"{label}the row for '{shorten(handoff.product, 40)}' from "
                    f"{handoff.supplier.title} ({handoff_id}) is missing, deleted "
                    "perhaps; counted as no response",
                )
            )
    return tallies


def score(
    organization: Organization,
    surveys: Sequence[SurveyFile],
    baseline: Sequence[SurveyFile] = (),
) -> Scorecard:
    """The scorecard of `surveys`, compared with `baseline` when given."""
    notes: list[Note] = []
    now = _tally(organization, surveys, "", notes)
    then = _tally(organization, baseline, "baseline: ", notes) if baseline else {}
    has_baseline = bool(baseline)

    handoffs = tuple(
        HandOffScore(
            handoff=h,
            figures=now[h.id].figures(),
            baseline=(then[h.id].figures() if h.id in then else Figures())
            if has_baseline
            else None,
            comments=tuple(now[h.id].comments),
            changed=now[h.id].changed,
        )
        for h in organization.handoffs
        if h.id in now
    )

    def group(key: str, title: str, department: str, members: list[HandOffScore]) -> GroupScore:
        figures = sum((m.figures for m in members), Figures())
        base = sum((m.baseline or Figures() for m in members), Figures()) if has_baseline else None
        return GroupScore(key, title, department, len(members), figures, base)

    by_role: dict[str, list[HandOffScore]] = {}
    by_department: dict[str, list[HandOffScore]] = {}
    for item in handoffs:
        by_role.setdefault(item.handoff.supplier.id, []).append(item)
        by_department.setdefault(item.handoff.supplier.department, []).append(item)
    roles = tuple(
        group(role.id, role.title, role.department, by_role[role.id])
        for role in organization.roles
        if role.id in by_role
    )
    departments = tuple(
        group(name, name, name, by_department[name])
        for name in organization.departments()
        if name in by_department
    )
    return Scorecard(
        organization=organization.name,
        rounds=_labels(surveys),
        baseline_rounds=_labels(baseline),
        files=tuple(s.file for s in surveys),
        baseline_files=tuple(s.file for s in baseline),
        handoffs=handoffs,
        roles=roles,
        departments=departments,
        overall=group("", "Overall", "", list(handoffs)),
        notes=tuple(notes),
        answered_files=_answered(surveys),
        answered_baseline_files=_answered(baseline),
    )


def _answered(surveys: Sequence[SurveyFile]) -> tuple[str, ...]:
    return tuple(s.file for s in surveys if any(r.answer or r.rating for r in s.responses))


def _labels(surveys: Sequence[SurveyFile]) -> tuple[str, ...]:
    return tuple(sorted({s.round for s in surveys if s.round}))


def make_scorecard(
    organization: Organization, paths: Sequence[Path], baseline: Sequence[Path] = ()
) -> Scorecard:
    """Read the answered surveys at `paths` (files or folders) and score them."""
    current = survey_paths(paths)
    previous = survey_paths(baseline)
    both = {file_key(p) for p in current} & {file_key(p) for p in previous}
    if both:
        shared = next(p for p in current if file_key(p) in both)
        raise SurveyError(
            f"{shared}: given both as a survey and as a --baseline survey; "
            "the baseline is an earlier round's files"
        )
    return score(
        organization, [read_survey(p) for p in current], [read_survey(p) for p in previous]
    )


# ---------------------------------------------------------------------------------------
# Numbers as people read them


def round_half_up(value: float | None, digits: int) -> float | None:
    """`value` to `digits` places, halves rounded up as a spreadsheet shows them."""
    if value is None:
        return None
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP))


def percent(value: float | None) -> str:
    """0.755 -> '76%' (halves round up, as a spreadsheet shows them); None -> '–'."""
    if value is None:
        return "–"
    return f"{round_half_up(value * 100, 0):.0f}%"


def points(value: float | None) -> str:
    """A change of share met in percentage points: +10 pts, −5 pts, ±0 pts."""
    if value is None:
        return ""
    shown = round_half_up(value * 100, 0) or 0.0
    if shown == 0:
        return "±0 pts"
    return f"{shown:+.0f} pts".replace("-", "−")


def rating(value: float | None) -> str:
    return "–" if value is None else f"{round_half_up(value, 1):.1f}"


def rating_change(value: float | None) -> str:
    if value is None:
        return ""
    shown = round_half_up(value, 1) or 0.0
    return "±0.0" if shown == 0 else f"{shown:+.1f}".replace("-", "−")


def answered(figures: Figures) -> str:
    return f"{figures.responses} of {figures.asked}"
