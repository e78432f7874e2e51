"""The patient's voice counted: per question, per journey and per round, the number of
answers and the share of Yes, against a baseline round.

Share of Yes is Yes answers over all answers to that question (Partly and No count as not
Yes); a question left blank is no answer. Questions are matched by their text, folded, so
a header retyped with other capitals or spaces still counts as the same question.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jobdefs.feedback.answers import Note
from jobdefs.feedback.patient_voice import (
    NO,
    PARTLY,
    YES,
    ConversationError,
    ConversationFile,
    read_conversations,
)
from jobdefs.feedback.scoring import percent, points, round_half_up
from jobdefs.model import Organization, fold_name
from jobdefs.output import CONVERSATIONS_FILE
from jobdefs.text import count, markdown_text


@dataclass(frozen=True)
class Tally:
    yes: int = 0
    partly: int = 0
    no: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.yes + other.yes, self.partly + other.partly, self.no + other.no)

    @property
    def responses(self) -> int:
        return self.yes + self.partly + self.no

    @property
    def share_yes(self) -> float | None:
        return self.yes / self.responses if self.responses else None

    def as_dict(self) -> dict[str, object]:
        return {
            "responses": self.responses,
            "yes": self.yes,
            "partly": self.partly,
            "no": self.no,
            "share_yes": round_half_up(self.share_yes, 4),
        }


_ONE = {YES: Tally(1, 0, 0), PARTLY: Tally(0, 1, 0), NO: Tally(0, 0, 1)}


@dataclass(frozen=True)
class QuestionVoice:
    question: str
    figures: Tally
    baseline: Tally | None  # None when no baseline round was given
    journeys: tuple[tuple[str, Tally], ...]  # journey id -> its answers, where it has any
    rounds: tuple[tuple[str, Tally], ...]

    @property
    def change(self) -> float | None:
        if self.baseline is None or self.figures.share_yes is None:
            return None
        then = self.baseline.share_yes
        return None if then is None else self.figures.share_yes - then

    def as_dict(self, titles: dict[str, str]) -> dict[str, object]:
        return {
            "question": self.question,
            **self.figures.as_dict(),
            "baseline_responses": self.baseline.responses if self.baseline else None,
            "baseline_share_yes": round_half_up(self.baseline.share_yes, 4)
            if self.baseline
            else None,
            "change_share_yes": round_half_up(self.change, 4),
            "journeys": [
                {"id": key, "title": titles.get(key, key), **tally.as_dict()}
                for key, tally in self.journeys
            ],
            "rounds": [{"round": label, **tally.as_dict()} for label, tally in self.rounds],
        }


@dataclass(frozen=True)
class PatientVoice:
    questions: tuple[QuestionVoice, ...]
    conversations: int
    rounds: tuple[str, ...]
    baseline_rounds: tuple[str, ...]
    files: tuple[str, ...]
    notes: tuple[Note, ...] = field(default=())
    titles: dict[str, str] = field(default_factory=dict)  # journey id -> title

    def for_journey(self, journey_id: str) -> list[dict[str, object]]:
        """Each question's answers from the patients of one journey (for the journey score)."""
        found = []
        for question in self.questions:
            tally = dict(question.journeys).get(journey_id)
            if tally is not None:
                found.append({"question": question.question, **tally.as_dict()})
        return found

    def as_json(self) -> list[dict[str, object]]:
        """The contract's `patient_voice`: [{"question", "responses", "share_yes", ...}]."""
        return [question.as_dict(self.titles) for question in self.questions]


def voice(
    organization: Organization,
    files: Sequence[ConversationFile],
    baseline: Sequence[ConversationFile] = (),
) -> PatientVoice:
    """The figures of `files`, each question compared with `baseline` when given."""
    texts: dict[str, str] = {fold_name(q): q for q in organization.discharge_questions}
    for file in (*files, *baseline):
        for question in file.questions:
            texts.setdefault(fold_name(question), question)
    now, by_journey, by_round = _count(files)
    then, _, _ = _count(baseline)
    questions = tuple(
        QuestionVoice(
            question=text,
            figures=now.get(key, Tally()),
            baseline=then.get(key, Tally()) if baseline else None,
            journeys=tuple(
                (j.id, by_journey[key, j.id])
                for j in organization.journeys
                if (key, j.id) in by_journey
            ),
            rounds=tuple(
                (label, tally)
                for (folded, label), tally in sorted(by_round.items())
                if folded == key
            ),
        )
        for key, text in texts.items()
        if key in now or key in then or text in organization.discharge_questions
    )
    return PatientVoice(
        questions=questions,
        conversations=sum(len(f.conversations) for f in files),
        rounds=_labels(files),
        baseline_rounds=_labels(baseline),
        files=tuple(f.file for f in files),
        notes=tuple(n for f in (*files, *baseline) for n in f.notes),
        titles={j.id: j.title for j in organization.journeys},
    )


def _count(
    files: Iterable[ConversationFile],
) -> tuple[dict[str, Tally], dict[tuple[str, str], Tally], dict[tuple[str, str], Tally]]:
    overall: dict[str, Tally] = {}
    by_journey: dict[tuple[str, str], Tally] = {}
    by_round: dict[tuple[str, str], Tally] = {}
    for file in files:
        for conversation in file.conversations:
            for question, answer in conversation.answers.items():
                key, one = fold_name(question), _ONE[answer]
                overall[key] = overall.get(key, Tally()) + one
                by_round[key, file.round] = by_round.get((key, file.round), Tally()) + one
                if conversation.journey is not None:
                    slot = (key, conversation.journey)
                    by_journey[slot] = by_journey.get(slot, Tally()) + one
    return overall, by_journey, by_round


def _labels(files: Sequence[ConversationFile]) -> tuple[str, ...]:
    return tuple(sorted({f.round for f in files if f.round}))


def conversation_paths(paths: Iterable[Path]) -> list[Path]:
    """The conversation workbooks among `paths`: a folder stands for its
    patient-conversations.xlsx, a file of that name for itself (other files are surveys)."""
    found: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            if (path / CONVERSATIONS_FILE).is_file():
                found.setdefault(path / CONVERSATIONS_FILE)
        elif path.name == CONVERSATIONS_FILE:
            found.setdefault(path)
    return list(found)


def make_voice(
    organization: Organization, paths: Sequence[Path], baseline: Sequence[Path] = ()
) -> PatientVoice:
    """Read the conversation workbooks at `paths` (and `baseline`) and count them."""
    current, previous = conversation_paths(paths), conversation_paths(baseline)
    both = {p.resolve() for p in current} & {p.resolve() for p in previous}
    if both:
        raise ConversationError(
            f"{sorted(both)[0]}: given both as this round and as the baseline round"
        )
    return voice(
        organization,
        [read_conversations(p, organization) for p in current],
        [read_conversations(p, organization) for p in previous],
    )


# ---------------------------------------------------------------------------------------
# As people read it


def voice_lines(result: PatientVoice) -> list[str]:
    """The patient's voice for a terminal: a line per question, then per journey."""
    if not result.questions:
        return []
    if not result.conversations:
        return [f"The patient's voice: no conversations recorded yet in {CONVERSATIONS_FILE}"]
    since = ", ".join(result.baseline_rounds) or "the baseline"
    lines = [f"The patient's voice ({count(result.conversations, 'conversation')})"]
    for question in result.questions:
        line = (
            f"  {percent(question.figures.share_yes)} Yes  {question.question} "
            f"({count(question.figures.responses, 'answer')})"
        )
        if question.change is not None:
            line += f", {points(question.change)} since {since}"
        lines.append(line)
        for journey_id, tally in question.journeys:
            title = result.titles.get(journey_id, journey_id)
            lines.append(f"      {percent(tally.share_yes)} Yes  {title} ({tally.responses})")
    return lines


def voice_markdown(result: PatientVoice) -> list[str]:
    """The patient's voice as a Markdown table, every cell escaped."""
    if not result.questions:
        return []
    lines = [
        "## The patient's voice",
        "",
        "| Question | Answers | Yes | Change |",
        "| --- | ---: | ---: | ---: |",
    ]
    for question in result.questions:
        change = points(question.change) if question.change is not None else ""
        lines.append(
            f"| {markdown_text(question.question)} | {question.figures.responses} | "
            f"{percent(question.figures.share_yes)} | {change} |"
        )
    return lines
