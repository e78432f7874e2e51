"""Answered surveys -> a service scorecard: per hand-off, per supplier role, per department.

Answers are matched to hand-offs by the `Hand-off id` in each row, never by position, so a
survey may come back sorted, filtered, with rows deleted or added. What cannot be counted
(an id no longer in the workbook, an answer that is not one of the choices) becomes a note,
not a failure; a file that is not a survey at all is a SurveyError that names it.

Scoring: Met counts 1, Partly met ½ and Not met 0; the share met is their mean. "Don't
receive it" is a gap: counted as a response and reported on its own, outside the share.
A blank answer is no response. Roll-ups (roles, departments, overall) pool the answers of
their hand-offs, so a hand-off with more respondents weighs more. A baseline round is
compared on the same hand-offs only.
"""

from __future__ import annotations

import datetime
import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from jobdefs.errors import OutputError
from jobdefs.feedback.survey import (
    ABOUT_SHEET,
    ANSWER_HEADER,
    ANSWERS,
    COMMENT_HEADER,
    FINGERPRINT_HEADER,
    ID_HEADER,
    MET,
    NOT_MET,
    NOT_RECEIVED,
    PARTLY_MET,
    RATING_HEADER,
    RATING_MAX,
    RATING_MIN,
    SURVEY_KIND,
    SurveyError,
)
from jobdefs.model import HandOff, Organization, fold_name
from jobdefs.output import describe, replace_files
from jobdefs.text import count, cut, markdown_text, shorten

SCORES = {MET: 1.0, PARTLY_MET: 0.5, NOT_MET: 0.0}  # NOT_RECEIVED is a gap, not a score
SCORING = (
    f"Share met counts {MET} as 1, {PARTLY_MET} as ½ and {NOT_MET} as 0; "
    f"“{NOT_RECEIVED}” is a gap, counted on its own and outside the share."
)
FORMATS = ("text", "json", "markdown")
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # a zip bomb is refused before it is opened
MAX_ROWS = 50_000
MAX_COLUMNS = 60
HEADER_SCAN_ROWS = 60
MARKDOWN_MAX = 60_000  # GitHub refuses comments over 65,536 characters

_HANDOFF_ID = re.compile(r"^h-[0-9a-f]{10}$", re.IGNORECASE)
_APOSTROPHES = str.maketrans({"’": "", "‘": "", "`": "", "'": ""})


# ---------------------------------------------------------------------------------------
# Reading answered surveys


@dataclass(frozen=True)
class Note:
    """Something in a survey that could not be counted as it stands."""

    code: str
    file: str
    row: int | None
    message: str

    def as_text(self) -> str:
        place = self.file if self.row is None else f"{self.file}:{self.row}"
        return f"{place}: note[{self.code}]: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "file": self.file, "row": self.row, "message": self.message}


@dataclass(frozen=True)
class Response:
    """One row of an answered survey."""

    handoff_id: str
    fingerprint: str
    answer: str | None  # one of ANSWERS, or None: no response
    rating: int | None
    comment: str
    file: str
    row: int


@dataclass(frozen=True)
class SurveyFile:
    """What one answered survey holds."""

    file: str
    round: str
    role_id: str
    responses: tuple[Response, ...]
    asked: tuple[str, ...]  # the hand-off ids the survey was made with
    notes: tuple[Note, ...]


def survey_paths(paths: Iterable[Path]) -> list[Path]:
    """The files given, a folder standing for the .xlsx files in it; each file once."""
    found: list[Path] = []
    seen: set[Path] = set()
    for path in paths:
        members = sorted(path.glob("*.xlsx")) if path.is_dir() else [path]
        if path.is_dir() and not members:
            raise SurveyError(f"{path}: this folder holds no .xlsx survey")
        for member in members:
            if member.name.startswith(("~$", ".")) and path.is_dir():
                continue  # Excel's lock files and our own temporary files
            key = member.resolve()
            if key not in seen:
                seen.add(key)
                found.append(member)
    return found


def read_survey(path: Path) -> SurveyFile:
    """Read an answered survey; SurveyError when the file is not one."""
    name = str(path)
    sheets, about = _read_sheets(path, name)
    found = None
    for title, rows in sheets:
        header = _find_header(rows)
        if header is not None:
            found = (title, rows, header)
            break
    if found is None:
        raise SurveyError(
            f"{name}: not a jobdefs survey: no sheet has the columns '{ID_HEADER}' and "
            f"'{ANSWER_HEADER}'. Give the answered .xlsx files written by 'jobdefs survey'"
        )
    _, rows, (header_index, columns) = found
    notes: list[Note] = []
    responses: list[Response] = []
    first_row: dict[str, int] = {}

    def note(code: str, row: int, message: str) -> None:
        notes.append(Note(code, name, row, message))

    for index in range(header_index + 1, len(rows)):
        row_number = index + 1
        row = rows[index]

        def get(key: str, row: tuple[Any, ...] = row) -> Any:
            column = columns.get(key)
            return row[column] if column is not None and column < len(row) else None

        raw_id, raw_answer, raw_rating = _text(get("id")), get("answer"), get("rating")
        answer_text, comment = _text(raw_answer), _text(get("comment"))
        rating_text = _text(raw_rating)
        if not (raw_id or answer_text or rating_text or comment):
            continue
        if not raw_id:
            note(
                "no-id",
                row_number,
                f"this row has an answer but no {ID_HEADER} (a row "
                "added by hand?); it is not counted",
            )
            continue
        if not _HANDOFF_ID.match(raw_id):
            if answer_text or rating_text or comment:
                note(
                    "bad-id",
                    row_number,
                    f"'{shorten(raw_id, 40)}' is not a hand-off id; the row is not counted",
                )
            continue
        handoff_id = "H-" + raw_id[2:].lower()
        if handoff_id in first_row:
            note(
                "duplicate-id",
                row_number,
                f"this row repeats hand-off {handoff_id} from row "
                f"{first_row[handoff_id]}; only that row is counted",
            )
            continue
        first_row[handoff_id] = row_number
        answer = parse_answer(answer_text)
        if answer_text and answer is None:
            note(
                "unknown-answer",
                row_number,
                f"the answer '{shorten(answer_text, 40)}' is not "
                f"one of {', '.join(ANSWERS)}; counted as no response",
            )
        rating = parse_rating(raw_rating)
        if rating_text and rating is None:
            note(
                "bad-rating",
                row_number,
                f"the rating '{shorten(rating_text, 40)}' is not a whole "
                f"number from {RATING_MIN} to {RATING_MAX}; not counted",
            )
        responses.append(
            Response(
                handoff_id, _text(get("fingerprint")), answer, rating, comment, name, row_number
            )
        )
    asked = tuple(
        "H-" + value[2:].lower()
        for key, value in about
        if key == fold_header(ID_HEADER) and _HANDOFF_ID.match(value)
    )
    facts = {key: value for key, value in about}
    return SurveyFile(
        file=name,
        round=facts.get("round", ""),
        role_id=facts.get("roleid", ""),
        responses=tuple(responses),
        asked=asked,
        notes=tuple(notes),
    )


def fold_header(text: str) -> str:
    """Headers are compared without case, spaces or punctuation: 'Hand-off id' = 'handoffid'."""
    return re.sub(r"[\W_]+", "", text.casefold())


_HEADERS = {
    fold_header(ID_HEADER): "id",
    fold_header(ANSWER_HEADER): "answer",
    fold_header(RATING_HEADER): "rating",
    fold_header(COMMENT_HEADER): "comment",
    fold_header(FINGERPRINT_HEADER): "fingerprint",
}
_ANSWERS = {fold_name(answer.translate(_APOSTROPHES)): answer for answer in ANSWERS}


def parse_answer(text: str) -> str | None:
    """One of ANSWERS, matched without case, extra spaces or apostrophes; else None."""
    return _ANSWERS.get(fold_name(text.translate(_APOSTROPHES)))


def parse_rating(value: Any) -> int | None:
    """A whole number from RATING_MIN to RATING_MAX, as a number or as text; else None."""
    number: float
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = value
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            return None
    if number != number or not float(number).is_integer():  # NaN or a fraction
        return None
    whole = int(number)
    return whole if RATING_MIN <= whole <= RATING_MAX else None


def _text(value: Any) -> str:
    """A cell's value as the text a person sees (a formula as the formula they typed)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(getattr(value, "text", value)).strip()  # e.g. an array formula


def _find_header(rows: Sequence[tuple[Any, ...]]) -> tuple[int, dict[str, int]] | None:
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        columns: dict[str, int] = {}
        for column, value in enumerate(row):
            key = _HEADERS.get(fold_header(_text(value)))
            if key is not None:
                columns.setdefault(key, column)
        if "id" in columns and "answer" in columns:
            return index, columns
    return None


def _read_sheets(
    path: Path, name: str
) -> tuple[list[tuple[str, list[tuple[Any, ...]]]], list[tuple[str, str]]]:
    """Every sheet's cell values, in the workbook's order, and the facts of its About sheet."""
    from openpyxl import load_workbook

    def unreadable(reason: str) -> SurveyError:
        return SurveyError(
            f"{name}: cannot be read as an Excel workbook ({reason}); give the answered "
            ".xlsx files written by 'jobdefs survey'"
        )

    try:
        size = path.stat().st_size
    except OSError as error:
        raise SurveyError(f"{name}: {describe(error)}") from None
    if not path.is_file():
        raise SurveyError(f"{name}: not a file")
    if size > MAX_FILE_BYTES:
        raise SurveyError(
            f"{name}: {size:,} bytes is larger than a survey can be ({MAX_FILE_BYTES:,} bytes)"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise unreadable(f"not an .xlsx package: {error}") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise unreadable("it unpacks to more than a survey can hold")

    sheets: list[tuple[str, list[tuple[Any, ...]]]] = []
    about: list[tuple[str, str]] = []
    try:
        with path.open("rb") as stream:  # a stream: openpyxl then ignores the file's suffix
            book = load_workbook(stream, read_only=True, data_only=False)
            try:
                for sheet in book.worksheets:
                    rows = [
                        tuple(row)
                        for row in sheet.iter_rows(
                            max_row=MAX_ROWS, max_col=MAX_COLUMNS, values_only=True
                        )
                    ]
                    if sheet.title == ABOUT_SHEET:
                        about = [
                            (fold_header(_text(r[0])), _text(r[1])) for r in rows if len(r) >= 2
                        ]
                    else:
                        sheets.append((sheet.title, rows))
            finally:
                book.close()
    except OSError as error:
        raise SurveyError(f"{name}: {describe(error)}") from None
    except Exception as error:  # a broken package can fail anywhere inside openpyxl
        reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        raise unreadable(shorten(reason, 120)) from None
    facts = dict(about)
    if about and facts.get("kind") != SURVEY_KIND:
        about = []  # someone else's About sheet says nothing about our survey
    return sheets, about


# ---------------------------------------------------------------------------------------
# Scoring


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
            "share_met": _round(self.share_met, 4),
            "mean_rating": _round(self.mean_rating, 2),
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
        return {"share_met": _round(self.share_met, 4), "mean_rating": _round(self.mean_rating, 2)}


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
    )


def _labels(surveys: Sequence[SurveyFile]) -> tuple[str, ...]:
    return tuple(sorted({s.round for s in surveys if s.round}))


def make_scorecard(
    organization: Organization, paths: Sequence[Path], baseline: Sequence[Path] = ()
) -> Scorecard:
    """Read the answered surveys at `paths` (files or folders) and score them."""
    current = survey_paths(paths)
    previous = survey_paths(baseline)
    both = {p.resolve() for p in current} & {p.resolve() for p in previous}
    if both:
        shared = next(p for p in current if p.resolve() in both)
        raise SurveyError(
            f"{shared}: given both as a survey and as a --baseline survey; "
            "the baseline is an earlier round's files"
        )
    return score(
        organization, [read_survey(p) for p in current], [read_survey(p) for p in previous]
    )


# ---------------------------------------------------------------------------------------
# Numbers as people read them


def _round(value: float | None, digits: int) -> float | None:
    if value is None:
        return None
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP))


def percent(value: float | None) -> str:
    """0.755 -> '76%' (halves round up, as a spreadsheet shows them); None -> '–'."""
    if value is None:
        return "–"
    return f"{_round(value * 100, 0):.0f}%"


def points(value: float | None) -> str:
    """A change of share met in percentage points: +10 pts, −5 pts, ±0 pts."""
    if value is None:
        return ""
    shown = _round(value * 100, 0) or 0.0
    if shown == 0:
        return "±0 pts"
    return f"{shown:+.0f} pts".replace("-", "−")


def rating(value: float | None) -> str:
    return "–" if value is None else f"{_round(value, 1):.1f}"


def rating_change(value: float | None) -> str:
    if value is None:
        return ""
    shown = _round(value, 1) or 0.0
    return "±0.0" if shown == 0 else f"{shown:+.1f}".replace("-", "−")


def answered(figures: Figures) -> str:
    return f"{figures.responses} of {figures.asked}"


def figure_cells(figures: Figures, change: Change | None, with_change: bool) -> list[str]:
    """One table row of figures, with the change columns when there is a baseline."""
    values = [answered(figures), percent(figures.share_met)]
    if with_change:
        values.append(points(change.share_met if change else None))
    values.append(rating(figures.mean_rating))
    if with_change:
        values.append(rating_change(change.mean_rating if change else None))
    values.append(str(figures.gaps))
    return values


def handoff_name(handoff: HandOff) -> str:
    return f"{handoff.product} ({handoff.supplier.title} → {handoff.customer.title})"


# ---------------------------------------------------------------------------------------
# Text, JSON, Markdown


def as_text(card: Scorecard, threshold: float | None = None) -> str:
    """The scorecard for a terminal."""
    lines = [f"Service scorecard: {_plain(card.organization)}", _rounds_line(card), SCORING, ""]
    lines.append("Overall: " + _figures_line(card.overall.figures, card.overall.change))
    base = card.has_baseline
    headings = [
        "Answered",
        "Met",
        *(["Change"] if base else []),
        "Rating",
        *(["Change"] if base else []),
        "Gaps",
    ]

    sections: list[tuple[str, str, list[list[str]]]] = [
        (
            "By department (as supplier)",
            "Department",
            [[d.title, *figure_cells(d.figures, d.change, base)] for d in card.departments],
        ),
        (
            "By supplier role",
            "Role",
            [[r.title, *figure_cells(r.figures, r.change, base)] for r in card.roles],
        ),
    ]
    for title, first, rows in sections:
        lines += ["", title, *_columns([first, *headings], rows)]
    shown = _answered_handoffs(card)
    lines += ["", f"By hand-off ({_unanswered_note(card, shown)})"]
    lines += _columns(
        ["Supplier", "Product", "Customer", *headings],
        [
            [
                cut(_plain(h.handoff.supplier.title), 28),
                cut(_plain(h.handoff.product), 32) + (" *" if h.changed else ""),
                cut(_plain(h.handoff.customer.title), 28),
                *figure_cells(h.figures, h.change, base),
            ]
            for h in shown
        ],
    )
    if any(h.changed for h in card.handoffs):
        lines.append("* changed after the survey was made")
    comments = [(h, c) for h in card.handoffs for c in h.comments]
    if comments:
        lines += ["", "Comments"]
        for item, comment in comments:
            lines.append(
                f"- {_plain(handoff_name(item.handoff))}, "
                f"{comment.answer or 'no answer'}: “{_plain(comment.text)}”"
            )
    if threshold is not None:
        lines += ["", _below_line(card, threshold)]
    return "\n".join(lines) + "\n"


def _answered_handoffs(card: Scorecard) -> list[HandOffScore]:
    """The hand-offs text and Markdown list: those with an answer in either round."""
    return [
        h
        for h in card.handoffs
        if h.figures.responses or (h.baseline is not None and h.baseline.responses)
    ]


def _unanswered_note(card: Scorecard, shown: Sequence[HandOffScore]) -> str:
    left_out = len(card.handoffs) - len(shown)
    text = f"{len(shown)} answered"
    if left_out:
        text += f"; {left_out} without any answer are in the JSON and scorecard.xlsx"
    return text


def _rounds_line(card: Scorecard) -> str:
    line = (
        f"This round: {', '.join(card.rounds) or '(unnamed)'} ({count(len(card.files), 'survey')})"
    )
    if card.has_baseline:
        line += (
            f"; baseline: {', '.join(card.baseline_rounds) or '(unnamed)'} "
            f"({count(len(card.baseline_files), 'survey')})"
        )
    return line


def _figures_line(figures: Figures, change: Change | None) -> str:
    share = (
        "nothing to score yet" if figures.share_met is None else percent(figures.share_met) + " met"
    )
    if change and change.share_met is not None:
        share += f" ({points(change.share_met)})"
    line = f"{answered(figures)} answered · {share}"
    if figures.mean_rating is not None:
        line += f" · mean rating {rating(figures.mean_rating)} of {RATING_MAX}"
        if change and change.mean_rating is not None:
            line += f" ({rating_change(change.mean_rating)})"
    return line + f" · {count(figures.gaps, 'gap')} (“{NOT_RECEIVED}”)"


def _below_line(card: Scorecard, threshold: float) -> str:
    below = card.below(threshold)
    if not below:
        return f"Every answered hand-off is at or above {percent(threshold)} met."
    names = "; ".join(
        f"{_plain(handoff_name(h.handoff))} {percent(h.figures.share_met)}" for h in below
    )
    return f"{count(len(below), 'hand-off')} below {percent(threshold)} met: {names}"


def _plain(text: str) -> str:
    """One line of text with nothing a terminal would act on."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def _columns(headings: list[str], rows: list[list[str]], first_max: int = 56) -> list[str]:
    if not rows:
        return ["(none)"]
    rows = [[cut(_plain(row[0]), first_max), *(_plain(cell) for cell in row[1:])] for row in rows]
    widths = [max(len(r[i]) for r in [headings, *rows]) for i in range(len(headings))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [headings, *rows]
    ]


def as_json(card: Scorecard, threshold: float | None = None) -> str:
    """The scorecard for programs: one JSON object."""

    def group(item: GroupScore, key: str) -> dict[str, object]:
        entry: dict[str, object] = {key: item.key} if key else {}
        if key == "role":
            entry.update(title=item.title, department=item.department)
        entry.update(handoffs=item.handoffs, **item.figures.as_dict())
        entry["baseline"] = item.baseline.as_dict() if item.baseline else None
        entry["change"] = item.change.as_dict() if item.change else None
        return entry

    handoffs = []
    for item in card.handoffs:
        h = item.handoff
        entry: dict[str, object] = {
            "id": h.id,
            "fingerprint": h.fingerprint,
            "supplier": {
                "role": h.supplier.id,
                "title": h.supplier.title,
                "department": h.supplier.department,
            },
            "product": h.product,
            "customer": {
                "kind": h.customer.kind,
                "id": h.customer.id,
                "title": h.customer.title,
                "department": h.customer.department,
            },
            "need": h.need,
            "standard": h.standard,
            **item.figures.as_dict(),
            "baseline": item.baseline.as_dict() if item.baseline else None,
            "change": item.change.as_dict() if item.change else None,
            "changed_since_survey": item.changed,
            "comments": [c.as_dict() for c in item.comments],
        }
        handoffs.append(entry)
    document: dict[str, object] = {
        "organization": card.organization,
        "rounds": list(card.rounds),
        "baseline_rounds": list(card.baseline_rounds),
        "files": list(card.files),
        "baseline_files": list(card.baseline_files),
        "scoring": {
            MET: SCORES[MET],
            PARTLY_MET: SCORES[PARTLY_MET],
            NOT_MET: SCORES[NOT_MET],
            NOT_RECEIVED: "gap",
        },
        "overall": group(card.overall, ""),
        "departments": [group(d, "department") for d in card.departments],
        "roles": [group(r, "role") for r in card.roles],
        "handoffs": handoffs,
        "notes": [n.as_dict() for n in card.notes],
    }
    if threshold is not None:
        document["fail_below"] = threshold
        document["below"] = [h.handoff.id for h in card.below(threshold)]
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def md(text: str) -> str:
    """Text that Markdown shows as typed, on one line: no markup, HTML or @mention."""
    return markdown_text(_plain(text))


def as_markdown(card: Scorecard, threshold: float | None = None) -> str:
    """The scorecard for a report or a pull-request comment (GitHub-flavoured Markdown)."""
    base = card.has_baseline
    out = [f"### Service scorecard: {md(card.organization)}", "", md(_rounds_line(card)), ""]
    out += [f"**Overall:** {md(_figures_line(card.overall.figures, card.overall.change))}", ""]
    if threshold is not None:
        below = card.below(threshold)
        if below:
            out += [f"**{count(len(below), 'hand-off')} below {percent(threshold)} met**", ""]
            out += _md_table(
                ["Hand-off", "Answered", "Share met"],
                [
                    [md(handoff_name(h.handoff)), answered(h.figures), percent(h.figures.share_met)]
                    for h in below
                ],
            )
            out.append("")
        else:
            out += [f"Every answered hand-off is at or above {percent(threshold)} met.", ""]

    headings = [
        "Answered",
        "Share met",
        *(["Change"] if base else []),
        "Mean rating",
        *(["Change"] if base else []),
        "Gaps",
    ]
    out += _md_table(
        ["Department", *headings],
        [[md(d.title), *figure_cells(d.figures, d.change, base)] for d in card.departments],
    )
    out += ["", f"<details><summary>By supplier role ({len(card.roles)})</summary>", ""]
    out += _md_table(
        ["Role", "Department", *headings],
        [
            [md(r.title), md(r.department), *figure_cells(r.figures, r.change, base)]
            for r in card.roles
        ],
    )
    shown = _answered_handoffs(card)
    out += [
        "",
        "</details>",
        "",
        f"<details><summary>By hand-off ({md(_unanswered_note(card, shown))})</summary>",
        "",
    ]
    out += _md_table(
        ["Supplier", "Product", "Customer", *headings],
        [
            [
                md(h.handoff.supplier.title),
                md(h.handoff.product) + (" (changed since asked)" if h.changed else ""),
                md(h.handoff.customer.title),
                *figure_cells(h.figures, h.change, base),
            ]
            for h in shown
        ],
    )
    out += ["", "</details>"]
    comments = [(h, c) for h in card.handoffs for c in h.comments]
    if comments:
        out += ["", f"<details><summary>Comments ({len(comments)})</summary>", ""]
        out += [
            f"- **{md(h.handoff.product)}** ({md(h.handoff.supplier.title)} → "
            f"{md(h.handoff.customer.title)}), {md(c.answer or 'no answer')}: "
            f"{md(cut(c.text, 400))}"
            for h, c in comments
        ]
        out += ["", "</details>"]
    if card.notes:
        out += ["", f"<details><summary>Notes ({len(card.notes)})</summary>", ""]
        out += [f"- {md(n.as_text())}" for n in card.notes]
        out += ["", "</details>"]
    out += ["", f"_{md(SCORING)}_"]
    text = "\n".join(out) + "\n"
    if len(text) > MARKDOWN_MAX:
        text = text[:MARKDOWN_MAX].rsplit("\n", 1)[0] + (
            "\n\n_… cut to fit one comment: see the JSON or scorecard.xlsx for the rest._\n"
        )
    return text


def _md_table(headings: list[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return ["_None._"]
    align = ["---"] + [
        "---:"
        if h not in ("Role", "Department", "Supplier", "Product", "Customer", "Hand-off")
        else "---"
        for h in headings[1:]
    ]
    return [
        "| " + " | ".join(headings) + " |",
        "| " + " | ".join(align) + " |",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def render(card: Scorecard, output_format: str, threshold: float | None = None) -> str:
    """The scorecard as text, json or markdown."""
    renderers = {"text": as_text, "json": as_json, "markdown": as_markdown}
    return renderers[output_format](card, threshold)


# ---------------------------------------------------------------------------------------
# For the job aid


def role_figures(card: Scorecard, role_id: str) -> dict[str, Any]:
    """What a role's job aid can say about how its customers rate it (JSON-safe values).

    `found` is False when none of the role's hand-offs was in the surveys.
    """
    group = next((r for r in card.roles if r.key == role_id), None)
    items = [h for h in card.handoffs if h.handoff.supplier.id == role_id]
    figures = group.figures if group else Figures()
    change = group.change if group else None
    since = ", ".join(card.baseline_rounds) or "the baseline"
    result: dict[str, Any] = {
        "found": group is not None,
        "role": role_id,
        "round": ", ".join(card.rounds),
        "baseline_round": ", ".join(card.baseline_rounds),
        **_figure_fields(figures, change, since),
        "handoffs": [
            {
                "id": h.handoff.id,
                "product": h.handoff.product,
                "customer": h.handoff.customer.title,
                "customer_department": h.handoff.customer.department,
                **_figure_fields(h.figures, h.change, since),
                "changed_since_survey": h.changed,
                "comments": [c.text for c in h.comments],
            }
            for h in items
        ],
    }
    summary = f"{percent(figures.share_met)} met in {answered(figures)} answers"
    if change and change.share_met is not None:
        summary += f" ({points(change.share_met)} since {since})"
    if figures.mean_rating is not None:
        summary += f"; mean rating {rating(figures.mean_rating)} of {RATING_MAX}"
    if figures.gaps:
        summary += f"; {figures.gaps} “{NOT_RECEIVED}”"
    result["summary"] = summary if group else ""
    return result


def _figure_fields(figures: Figures, change: Change | None, since: str) -> dict[str, Any]:
    share_change = change.share_met if change else None
    rating_moved = change.mean_rating if change else None
    return {
        **figures.as_dict(),
        "share_met_text": percent(figures.share_met),
        "mean_rating_text": rating(figures.mean_rating),
        "change_share_met": _round(share_change, 4),
        "change_mean_rating": _round(rating_moved, 2),
        "change_text": f"{points(share_change)} since {since}" if share_change is not None else "",
    }


# ---------------------------------------------------------------------------------------
# scorecard.xlsx


@dataclass(frozen=True)
class _Column:
    header: str
    width: float
    kind: str = "text"  # text, prose, count, share, points, rating, rating-change, code


_NUMBER_FORMATS = {
    "count": "0",
    "share": "0%",
    "points": '+0" pts";-0" pts";"±0 pts"',
    "rating": "0.0",
    "rating-change": '+0.0;-0.0;"±0.0"',
}
SUMMARY_ON_ONE_PAGE = 24  # departments; with more, the chart starts a page of its own
# Red, amber, green behind the number (which is always printed): 0 → ½ → 1, 1 → 3 → 5.
_SCALES = {"share": (0, 0.5, 1), "rating": (RATING_MIN, 3, RATING_MAX)}
_SCALE_COLOURS = ("FFF8696B", "FFFFEB84", "FF63BE7B")


def scorecard_workbook(card: Scorecard, moment: datetime.datetime) -> bytes:
    """scorecard.xlsx: Summary (with a chart by department), Roles, Hand-offs, Comments and
    Notes. Every number is a value, never a formula; the same scorecard gives the same bytes."""
    from openpyxl import Workbook as XlsxWorkbook

    from jobdefs.feedback.survey import save_workbook

    book = XlsxWorkbook()
    _summary_sheet(book.active, card)
    _roles_sheet(book.create_sheet("Roles"), card)
    _handoffs_sheet(book.create_sheet("Hand-offs"), card)
    _comments_sheet(book.create_sheet("Comments"), card)
    _notes_sheet(book.create_sheet("Notes"), card)
    return save_workbook(book, f"{card.organization}: service scorecard", moment)


def _figure_columns(base: bool, *, counts: bool) -> list[_Column]:
    columns = [
        _Column("Hand-offs", 10, "count"),
        _Column("Asked", 8, "count"),
        _Column("Answered", 10, "count"),
    ]
    if counts:
        columns += [
            _Column(MET, 7, "count"),
            _Column(PARTLY_MET, 8, "count"),
            _Column(NOT_MET, 8, "count"),
        ]
    columns.append(_Column("Share met", 10, "share"))
    if base:
        columns += [_Column("Baseline share met", 11, "share"), _Column("Change", 10, "points")]
    columns.append(_Column("Mean rating", 9, "rating"))
    if base:
        columns.append(_Column("Rating change", 9, "rating-change"))
    columns.append(_Column(NOT_RECEIVED, 10, "count"))
    return columns


def _figure_values(
    figures: Figures,
    baseline: Figures | None,
    change: Change | None,
    handoffs: int | None,
    *,
    base: bool,
    counts: bool,
) -> list[object]:
    values: list[object] = [] if handoffs is None else [handoffs]
    values += [figures.asked, figures.responses]
    if counts:
        values += [figures.met, figures.partly_met, figures.not_met]
    values.append(figures.share_met)
    if base:
        values.append(baseline.share_met if baseline else None)
        moved = change.share_met if change else None
        values.append(None if moved is None else _round(moved * 100, 0))
    values.append(_round(figures.mean_rating, 2))
    if base:
        values.append(_round(change.mean_rating, 1) if change else None)
    values.append(figures.gaps)
    return values


def _summary_sheet(sheet: Any, card: Scorecard) -> None:
    from openpyxl.chart import BarChart, Reference, Series
    from openpyxl.chart.label import DataLabelList
    from openpyxl.styles import Font
    from openpyxl.worksheet.pagebreak import Break

    from jobdefs.feedback.survey import set_text

    sheet.title = "Summary"
    lines = (
        f"Service scorecard: {card.organization}",
        _rounds_line(card),
        "Overall: " + _figures_line(card.overall.figures, card.overall.change),
        SCORING,
        "Departments are scored as suppliers: by the answers of the colleagues they serve. "
        "The colours repeat the number printed in each cell.",
    )
    for number, line in enumerate(lines, 1):
        cell = sheet.cell(row=number, column=1)
        set_text(cell, line)
        cell.font = (
            Font(bold=True, size=14)
            if number == 1
            else Font(bold=number == 3, color=None if number == 3 else "FF404040")
        )
    top = len(lines) + 2
    base = card.has_baseline
    columns = [_Column("Department", 32), *_figure_columns(base, counts=False)]
    rows = [
        [
            d.title,
            *_figure_values(d.figures, d.baseline, d.change, d.handoffs, base=base, counts=False),
        ]
        for d in card.departments
    ]
    last = _table(sheet, top, columns, rows)
    _page(sheet, top, landscape=True)
    if not card.departments:
        return
    if len(card.departments) <= SUMMARY_ON_ONE_PAGE:
        sheet.page_setup.fitToHeight = 1  # the table and its chart on one sheet of paper
    else:
        sheet.row_breaks.append(Break(id=last + 1))

    chart = BarChart()
    chart.type = "bar"  # horizontal bars: department names stay readable
    chart.style = 10
    chart.title = "Share met by department"
    chart.y_axis.title = "Share met"
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = 1
    chart.y_axis.majorUnit = 0.25
    chart.y_axis.number_format = "0%"
    chart.x_axis.scaling.orientation = "maxMin"  # the table's order, top to bottom
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    share = next(i for i, c in enumerate(columns, 1) if c.header == "Share met")
    series_columns = [(share, ", ".join(card.rounds) or "This round")]
    if base:
        series_columns.insert(0, (share + 1, ", ".join(card.baseline_rounds) or "Baseline"))
    for column, title in series_columns:
        values = Reference(sheet, min_col=column, min_row=top + 1, max_row=last)
        series = Series(values, title=f"Share met, {title}")
        colour = "FFA6A6A6" if base and column != share else "FF2E75B6"
        series.graphicalProperties.solidFill = colour[2:]
        series.graphicalProperties.line.solidFill = colour[2:]
        series.dLbls = DataLabelList(
            numFmt="0%",
            showVal=True,
            showSerName=False,
            showCatName=False,
            showLegendKey=False,
            showPercent=False,
        )
        chart.series.append(series)
    chart.set_categories(Reference(sheet, min_col=1, min_row=top + 1, max_row=last))
    chart.legend.position = "b"
    bars = len(card.departments) * len(series_columns)
    chart.height = max(7.5, 4.0 + 0.55 * bars)
    chart.width = 24
    chart.gapWidth = 60
    sheet.add_chart(chart, f"A{last + 3}")


def _roles_sheet(sheet: Any, card: Scorecard) -> None:
    base = card.has_baseline
    columns = [
        _Column("Supplier role", 30, "prose"),
        _Column("Department", 22, "prose"),
        *_figure_columns(base, counts=True),
        _Column("Role id", 24, "code"),
    ]
    rows = [
        [
            r.title,
            r.department,
            *_figure_values(r.figures, r.baseline, r.change, r.handoffs, base=base, counts=True),
            r.key,
        ]
        for r in card.roles
    ]
    _table(sheet, 1, columns, rows)
    _page(sheet, 1, landscape=True)


def _handoffs_sheet(sheet: Any, card: Scorecard) -> None:
    base = card.has_baseline
    columns = [
        _Column("Supplier", 22, "prose"),
        _Column("Supplier department", 16, "prose"),
        _Column("Product", 24, "prose"),
        _Column("Customer", 22, "prose"),
        *_figure_columns(base, counts=True)[1:],
        _Column("Comments", 36, "prose"),
        _Column("Changed since asked", 9),
        _Column("Hand-off id", 14, "code"),
    ]
    rows = []
    for item in card.handoffs:
        h = item.handoff
        comments = "\n".join(f"• {c.text}" for c in item.comments)
        rows.append(
            [
                h.supplier.title,
                h.supplier.department,
                h.product,
                h.customer.title,
                *_figure_values(
                    item.figures, item.baseline, item.change, None, base=base, counts=True
                ),
                comments,
                "yes" if item.changed else "",
                h.id,
            ]
        )
    _table(sheet, 1, columns, rows)
    _page(sheet, 1, landscape=True)


def _comments_sheet(sheet: Any, card: Scorecard) -> None:
    columns = [
        _Column("Supplier", 22, "prose"),
        _Column("Product", 24, "prose"),
        _Column("Customer", 22, "prose"),
        _Column("Answer", 14),
        _Column("Rating", 8, "count"),
        _Column("Comment", 60, "prose"),
        _Column("Survey file", 30, "code"),
        _Column("Row", 6, "count"),
        _Column("Hand-off id", 14, "code"),
    ]
    rows: list[list[object]] = [
        [
            h.handoff.supplier.title,
            h.handoff.product,
            h.handoff.customer.title,
            c.answer or "",
            c.rating,
            c.text,
            c.file,
            c.row,
            h.handoff.id,
        ]
        for h in card.handoffs
        for c in h.comments
    ]
    if not rows:
        rows = [["No comments were written.", *[None] * (len(columns) - 1)]]
    _table(sheet, 1, columns, rows)
    _page(sheet, 1, landscape=True)


def _notes_sheet(sheet: Any, card: Scorecard) -> None:
    columns = [
        _Column("Note", 16, "code"),
        _Column("File", 40, "code"),
        _Column("Row", 6, "count"),
        _Column("What it means", 90, "prose"),
    ]
    rows: list[list[object]] = [[n.code, n.file, n.row, n.message] for n in card.notes]
    if not rows:
        rows = [["none", None, None, "Every answered row matched a hand-off of the workbook."]]
    _table(sheet, 1, columns, rows)
    _page(sheet, 1, landscape=False)


def _table(
    sheet: Any, top: int, columns: Sequence[_Column], rows: Sequence[Sequence[object]]
) -> int:
    """A header row at `top` and `rows` below it; returns the last row's number."""
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    from jobdefs.feedback.survey import row_height, set_text

    thin = Side(style="thin", color="FFB4B4B4")
    grid = Border(left=thin, right=thin, top=thin, bottom=thin)
    header_fill = PatternFill(fill_type="solid", start_color="FF1F4E78", end_color="FF1F4E78")
    wrap = Alignment(horizontal="left", vertical="top", wrap_text=True)
    plain = Alignment(horizontal="left", vertical="top")
    code = Alignment(horizontal="left", vertical="top", indent=1)
    number = Alignment(horizontal="right", vertical="top")
    grey = Font(color="FF595959")
    for index, column in enumerate(columns, 1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
        cell = sheet.cell(row=top, column=index)
        set_text(cell, column.header)
        cell.font = Font(bold=True, color="FFFFFFFF")
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="left", vertical="bottom", wrap_text=True)
        cell.border = grid
    sheet.row_dimensions[top].height = 30
    for row_number, values in enumerate(rows, top + 1):
        texts: list[str] = []
        for index, (column, value) in enumerate(zip(columns, values, strict=True), 1):
            cell = sheet.cell(row=row_number, column=index)
            cell.border = grid
            if isinstance(value, str):
                if value:
                    set_text(cell, value)
                cell.alignment = wrap if column.kind == "prose" else plain
                if column.kind == "code":
                    cell.font = grey
                    cell.alignment = code
            elif value is not None:
                cell.value = value
                cell.number_format = _NUMBER_FORMATS.get(column.kind, "General")
                cell.alignment = number
            texts.append(value if isinstance(value, str) else "")
        height = row_height(texts, _as_survey_columns(columns))
        if height > 15:
            sheet.row_dimensions[row_number].height = height
    last = top + max(len(rows), 1)
    for index, column in enumerate(columns, 1):
        scale = _SCALES.get(column.kind)
        if scale is None or not rows:
            continue
        letter = get_column_letter(index)
        low, mid, high = scale
        sheet.conditional_formatting.add(
            f"{letter}{top + 1}:{letter}{last}",
            ColorScaleRule(
                start_type="num",
                start_value=low,
                start_color=_SCALE_COLOURS[0],
                mid_type="num",
                mid_value=mid,
                mid_color=_SCALE_COLOURS[1],
                end_type="num",
                end_value=high,
                end_color=_SCALE_COLOURS[2],
            ),
        )
    sheet.freeze_panes = f"A{top + 1}"
    if rows:
        sheet.auto_filter.ref = f"A{top}:{get_column_letter(len(columns))}{last}"
    return last


def _as_survey_columns(columns: Sequence[_Column]) -> list[Any]:
    from jobdefs.feedback.survey import Column

    return [Column(c.header, c.width, "prose" if c.kind == "prose" else "text") for c in columns]


def _page(sheet: Any, header_row: int, *, landscape: bool) -> None:
    from openpyxl.worksheet.properties import PageSetupProperties

    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.oddFooter.center.text = "&A · &P / &N"


def write_scorecard(path: Path, data: bytes) -> None:
    """Write `path` through a temporary file beside it, so it is whole or untouched."""
    try:
        replace_files(path.parent, {path.name: data})
    except OSError as error:
        raise OutputError(f"could not write {path}: {describe(error)}") from None
