"""Answered surveys read back: finding the files, opening them safely, the typed answers.

Answers are matched to hand-offs by the `Hand-off id` in each row, never by position, so a
survey may come back sorted, filtered, with rows deleted or added. What cannot be counted
(an id no longer in the workbook, an answer that is not one of the choices) becomes a note,
not a failure; a file that is not a survey at all is a SurveyError that names it.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobdefs.documents.sheets import COMMENT_HEADER, FINGERPRINT_HEADER, ID_HEADER
from jobdefs.feedback.returned_workbook import first_with_header, open_workbook, sheet_rows
from jobdefs.feedback.survey import (
    ABOUT_SHEET,
    ANSWER_HEADER,
    ANSWERS,
    RATING_HEADER,
    RATING_MAX,
    RATING_MIN,
    SURVEY_KIND,
    SurveyError,
)
from jobdefs.model import fold_name
from jobdefs.office_files import UnsafeFile
from jobdefs.output import CONVERSATIONS_FILE
from jobdefs.text import shorten

# All sheets together: a survey asks one role about what it receives, tens of rows.
MAX_ROWS = 50_000
MAX_COLUMNS = 60  # a survey has 9 columns; whoever answers may add a few
HEADER_SCAN_ROWS = 60

_HANDOFF_ID = re.compile(r"^h-[0-9a-f]{10}$", re.IGNORECASE)
_APOSTROPHES = str.maketrans({"’": "", "‘": "", "`": "", "'": ""})


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
    organization: str = ""  # as its About sheet names it


def survey_paths(paths: Iterable[Path]) -> list[Path]:
    """The files given, a folder standing for the .xlsx files in it; each file once."""
    found: list[Path] = []
    seen: set[Path] = set()
    for path in paths:
        if path.name == CONVERSATIONS_FILE and not path.is_dir():
            continue  # the patients' answers: read by the patient's voice, not a survey
        members = sorted(path.glob("*.xlsx")) if path.is_dir() else [path]
        if path.is_dir() and not members:
            raise SurveyError(f"{path}: this folder holds no .xlsx survey")
        for member in members:
            if path.is_dir() and (
                member.name.startswith(("~$", ".")) or member.name == CONVERSATIONS_FILE
            ):
                continue  # Excel's lock files, our own temporary files, patients' answers
            key = file_key(member)
            if key not in seen:
                seen.add(key)
                found.append(member)
    return found


def file_key(path: Path) -> Path:
    """What tells two paths to one file apart; a link to itself is left for the reader."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a loop of links (RuntimeError before Python 3.13)
        return path.absolute()


def read_survey(path: Path) -> SurveyFile:
    """Read an answered survey; SurveyError when the file is not one."""
    name = str(path)
    sheets, about = _read_sheets(path, name)
    found = first_with_header(sheets, _find_header)
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
        organization=facts.get("organization", ""),
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
    sheets: list[tuple[str, list[tuple[Any, ...]]]] = []
    about: list[tuple[str, str]] = []
    rows_left = MAX_ROWS  # for all sheets together: every row read is kept
    try:
        book = open_workbook(path)
        try:
            for sheet in book.worksheets:
                rows = list(sheet_rows(sheet, rows_left, MAX_COLUMNS))
                rows_left -= len(rows)
                if sheet.title == ABOUT_SHEET:
                    about = [(fold_header(_text(r[0])), _text(r[1])) for r in rows if len(r) >= 2]
                else:
                    sheets.append((sheet.title, rows))
        finally:
            book.close()
    except UnsafeFile as error:
        raise SurveyError(
            f"{name}: not a readable workbook ({error}); give the answered .xlsx files "
            "written by 'jobdefs survey'"
        ) from None
    facts = dict(about)
    if about and facts.get("kind") != SURVEY_KIND:
        about = []  # someone else's About sheet says nothing about our survey
    return sheets, about
