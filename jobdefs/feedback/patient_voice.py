"""The patient's voice: surveys/<round>/patient-conversations.xlsx, written and read back.

Someone stationed where patients leave asks every patient the organization's
`discharge_questions` (do you know what is wrong, the treatment you had, what to do at
home?) and writes one row per conversation: the date, the journey (from a drop-down), the
unit, Yes / Partly / No per question and a comment. A second sheet is the same list blank,
for a clipboard. Only the answer cells can be changed; protection has no password, so it
guards against slips, not against people.

Reading back finds the header by its words, so a sheet that was sorted, extended, or had
columns moved is read as far as it makes sense; what cannot be counted is a note, and a
file that is not such a workbook at all is a ConversationError that names it.
"""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobdefs import __version__
from jobdefs.documents.sheets import (
    ANSWER_FILL,
    BOLD,
    COMMENT_HEADER,
    LINE_POINTS,
    SUBTITLE_TEXT,
    TITLE_POINTS,
    drop_down,
    font,
    grid_border,
    header_cell,
    print_setup,
    save_workbook,
    set_text,
    solid_fill,
    wrapped_lines,
)
from jobdefs.feedback.answers import Note, fold_header
from jobdefs.feedback.returned_workbook import first_with_header, open_workbook, sheet_rows
from jobdefs.feedback.survey import SurveyError, round_name
from jobdefs.model import Organization, fold_name
from jobdefs.office_files import UnsafeFile
from jobdefs.output import CONVERSATIONS_FILE
from jobdefs.text import shorten

CONVERSATIONS_SHEET = "Conversations"
PAPER_SHEET = "On paper"
JOURNEYS_SHEET = "Journeys"
ABOUT_SHEET = "About"
KIND = "jobdefs patient conversations"
FORMAT = "1"

YES, PARTLY, NO = "Yes", "Partly", "No"
ANSWERS = (YES, PARTLY, NO)
DATE_HEADER, JOURNEY_HEADER, UNIT_HEADER = "Date", "Journey", "Unit"

ANSWER_ROWS = 1_000  # rows made ready with drop-downs: a year of a busy exit, more by hand
PAPER_ROWS = 16  # one printed landscape page of conversations
MAX_ROWS = 100_000  # rows read: a conversation a minute, round the clock, for two months
MAX_COLUMNS = 64  # columns read: four fixed ones, the questions and a comment
HEADER_SCAN_ROWS = 60
PAPER_MIN_SCALE = 73  # printed at 11 points, 73 % is 8 points: never smaller than that
PAPER_QUESTION_WIDTH = 20  # characters: a question in four lines, and the three answers
PAGE_CHARACTERS = 100  # what a landscape Letter or A4 page holds across at 100 %, in the
# widest stand-in for Calibri (DejaVu Sans) an office suite without it picks

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class ConversationError(SurveyError):
    """A conversation workbook cannot be read; the message says which file and why."""


@dataclass(frozen=True)
class Conversation:
    """One row: one patient asked on the way out."""

    row: int
    date: str
    journey: str | None  # a journey's id; None when the cell is empty or names none
    unit: str
    answers: Mapping[str, str]  # question as its header says it -> Yes, Partly or No
    comment: str


@dataclass(frozen=True)
class ConversationFile:
    file: str
    round: str
    questions: tuple[str, ...]  # as the headers say them, in the sheet's order
    conversations: tuple[Conversation, ...]
    notes: tuple[Note, ...] = field(default=())


# ---------------------------------------------------------------------------------------
# Writing


def conversation_workbook(
    organization: Organization, round_label: str, moment: datetime.datetime
) -> bytes:
    """surveys/<round>/patient-conversations.xlsx: a row per conversation, and a paper copy."""
    from openpyxl import Workbook as XlsxWorkbook

    questions = organization.discharge_questions
    if not questions:
        raise ConversationError(
            "jobdefs.yaml has no discharge_questions: add the questions to ask every "
            "patient on the way out (e.g. 'Do you know what to do at home?')"
        )
    book = XlsxWorkbook()
    sheet = book.active
    sheet.title = CONVERSATIONS_SHEET
    lines = (
        f"Patient conversations · {organization.name} · {round_name(round_label)}",
        "One row per patient asked on the way out. Choose the journey, write the unit, and "
        f"for each question choose {YES}, {PARTLY} or {NO}. Leave a question blank if it was "
        "not asked. Only the yellow cells can be changed; no password is needed. For "
        f"blank forms to fill in by hand, print the '{PAPER_SHEET}' sheet.",
    )
    headers = _headers(questions)
    header_row = _heading(sheet, lines, _widths(len(headers), 22))
    _columns(sheet, headers)
    first, last = header_row + 1, header_row + ANSWER_ROWS
    for number, text in enumerate(headers, 1):
        header_cell(sheet.cell(row=header_row, column=number), text)
    sheet.row_dimensions[header_row].height = _header_height(headers, 22)
    _answer_cells(sheet, first, last, len(headers))
    _validations(book, sheet, organization, first, last, len(questions))
    sheet.freeze_panes = f"B{first}"
    print_setup(
        sheet,
        f"{header_row}:{header_row}",
        widths=_widths(len(headers), 22),
        header=(organization.name, f"Patient conversations, {round_name(round_label)}"),
    )
    _protect(sheet)

    _paper(book, organization, round_label, headers)
    _about(book, organization, round_label)
    title = f"{organization.name}: patient conversations, {round_name(round_label)}"
    return save_workbook(book, title, moment)


def _headers(questions: Sequence[str]) -> list[str]:
    return [DATE_HEADER, JOURNEY_HEADER, UNIT_HEADER, *questions, COMMENT_HEADER]


def _heading(sheet: Any, lines: Sequence[str], widths: Sequence[float]) -> int:
    """The title and the instructions, each across the table's `widths` and wrapped
    inside it (text running past the table would make the page print smaller); returns
    the header's row."""
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    last = get_column_letter(len(widths))
    wrap = Alignment(vertical="top", wrap_text=True)
    for number, line in enumerate(lines, 1):
        cell = sheet.cell(row=number, column=1)
        set_text(cell, line)
        cell.font = font(bold=number == 1, size=14 if number == 1 else 11, color=SUBTITLE_TEXT)
        cell.alignment = wrap
        sheet.merge_cells(f"A{number}:{last}{number}")
        if number == 1:  # bold and 14 points: wider than the 11 points wrapped_lines plans
            height = wrapped_lines(line, sum(widths), BOLD * 14 / 11) * TITLE_POINTS
        else:
            height = wrapped_lines(line, sum(widths)) * LINE_POINTS
        sheet.row_dimensions[number].height = height
    return len(lines) + 2


def _widths(columns: int, question_width: float) -> list[float]:
    return [11, 22, 13, *([question_width] * (columns - 4)), 26]


def _columns(sheet: Any, headers: Sequence[str], question_width: float = 22) -> None:
    from openpyxl.utils import get_column_letter

    for number, width in enumerate(_widths(len(headers), question_width), 1):
        sheet.column_dimensions[get_column_letter(number)].width = width


def _header_height(headers: Sequence[str], question_width: float) -> float:
    """Points enough for the longest wrapped header (spreadsheets do not grow the row)."""
    lines = 1
    for header, width in zip(headers, _widths(len(headers), question_width), strict=True):
        per_line = max(int(width * 0.9), 1)  # bold header text runs a little wide
        lines = max(lines, sum(-(-max(len(part), 1) // per_line) for part in header.split("\n")))
    return LINE_POINTS * lines


def _answer_cells(sheet: Any, first: int, last: int, columns: int) -> None:
    from openpyxl.styles import Alignment, Protection

    fill, grid, unlocked = solid_fill(ANSWER_FILL), grid_border(), Protection(locked=False)
    wrap = Alignment(vertical="top", wrap_text=True)
    for row in range(first, last + 1):
        for column in range(1, columns + 1):
            cell = sheet.cell(row=row, column=column)
            cell.fill, cell.border, cell.protection, cell.alignment = fill, grid, unlocked, wrap
            if column == 1:
                cell.number_format = "yyyy-mm-dd"


def _validations(
    book: Any, sheet: Any, organization: Organization, first: int, last: int, questions: int
) -> None:
    from openpyxl.utils import get_column_letter

    answers = drop_down("Answer", ANSWERS, "What did the patient say? ")
    answers.add(f"D{first}:{get_column_letter(3 + questions)}{last}")
    sheet.add_data_validation(answers)
    if not organization.journeys:
        return
    # The titles sit on a hidden sheet: a list written in the rule itself holds at most
    # 255 characters and no commas, and journey titles may have both.
    listed = book.create_sheet(JOURNEYS_SHEET)
    listed.sheet_state = "hidden"
    for number, journey in enumerate(organization.journeys, 1):
        set_text(listed.cell(row=number, column=1), journey.title)
        set_text(listed.cell(row=number, column=2), journey.id)
    listed.protection.sheet = True
    journeys = drop_down(JOURNEY_HEADER, ("a", "b"), "")
    journeys.formula1 = f"'{JOURNEYS_SHEET}'!$A$1:$A${len(organization.journeys)}"
    journeys.error = "Choose the patient's journey from the list."
    journeys.prompt = "Which journey did the patient live? Choose from the list."
    journeys.add(f"B{first}:B{last}")
    sheet.add_data_validation(journeys)


def _protect(sheet: Any) -> None:
    # No password: the protection keeps slips out of the headers, not people.
    sheet.protection.sheet = True
    sheet.protection.autoFilter = False
    sheet.protection.sort = False
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False


def _paper(book: Any, organization: Organization, round_label: str, headers: list[str]) -> None:
    """The same list, blank, for a clipboard: landscape, the header on every page."""
    from openpyxl.styles import Alignment

    sheet = book.create_sheet(PAPER_SHEET)
    _columns(sheet, headers, PAPER_QUESTION_WIDTH)
    lines = (
        f"Patient conversations · {organization.name} · {round_name(round_label)}",
        f"Circle {YES}, {PARTLY} or {NO} for each question; one line per patient.",
    )
    header_row = _heading(sheet, lines, _widths(len(headers), PAPER_QUESTION_WIDTH))
    shown = [*headers[:3], *(f"{q}\n{YES} / {PARTLY} / {NO}" for q in headers[3:-1]), headers[-1]]
    for number, text in enumerate(shown, 1):
        header_cell(sheet.cell(row=header_row, column=number), text)
    sheet.row_dimensions[header_row].height = _header_height(shown, PAPER_QUESTION_WIDTH)
    grid, middle = grid_border(), Alignment(horizontal="center", vertical="center")
    for row in range(header_row + 1, header_row + 1 + PAPER_ROWS):
        sheet.row_dimensions[row].height = 30  # room to write by hand
        for column in range(1, len(headers) + 1):
            cell = sheet.cell(row=row, column=column)
            cell.border = grid
            if 3 < column < len(headers):
                set_text(cell, f"{YES} · {PARTLY} · {NO}")
                cell.font, cell.alignment = font(color=SUBTITLE_TEXT), middle
    print_setup(
        sheet,
        f"{header_row}:{header_row}",
        widths=_widths(len(headers), PAPER_QUESTION_WIDTH),
        header=(organization.name, f"Patient conversations on paper, {round_name(round_label)}"),
        title_columns="A:C",
        repeated=_widths(len(headers), PAPER_QUESTION_WIDTH)[:3],
    )
    # Printed at a scale, not fitted to the page: fitting many questions onto one page
    # would shrink the text past reading. Past the floor, columns run onto more pages.
    total = sum(_widths(len(headers), PAPER_QUESTION_WIDTH))
    sheet.sheet_properties.pageSetUpPr.fitToPage = False
    sheet.page_margins.left = sheet.page_margins.right = 0.5  # inches
    sheet.page_setup.scale = max(min(100, int(100 * PAGE_CHARACTERS / total)), PAPER_MIN_SCALE)
    last = sheet.cell(row=header_row, column=len(headers)).column_letter
    sheet.print_area = f"A1:{last}{header_row + PAPER_ROWS}"
    sheet.protection.sheet = True


def _about(book: Any, organization: Organization, round_label: str) -> None:
    sheet = book.create_sheet(ABOUT_SHEET)
    sheet.sheet_state = "hidden"
    rows = [
        ("Kind", KIND),
        ("Format", FORMAT),
        ("Organization", organization.name),
        ("Round", round_label),
        ("Generator", f"jobdefs {__version__}"),
    ]
    for number, (key, value) in enumerate(rows, 1):
        set_text(sheet.cell(row=number, column=1), key)
        set_text(sheet.cell(row=number, column=2), value)
    sheet.protection.sheet = True


# ---------------------------------------------------------------------------------------
# Reading


def read_conversations(path: Path, organization: Organization) -> ConversationFile:
    """Read a conversation workbook; ConversationError when the file is not one."""
    name = str(path)
    sheets, facts, truncated = _read_sheets(path, name)
    found = first_with_header(sheets, _find_header)
    if found is None:
        raise ConversationError(
            f"{name}: not a patient conversation workbook: no sheet has the columns "
            f"'{DATE_HEADER}', '{JOURNEY_HEADER}' and a question. Give the "
            f"{CONVERSATIONS_FILE} written by 'jobdefs survey'"
        )
    title, rows, (header_index, columns, questions) = found
    notes: list[Note] = []
    if title in truncated:
        notes.append(
            Note(
                "too-long",
                name,
                MAX_ROWS,
                f"only the first {MAX_ROWS:,} rows and {MAX_COLUMNS} columns are read; "
                "split the conversations into rounds",
            )
        )
    journeys = _journey_names(organization)
    conversations = []
    for index in range(header_index + 1, len(rows)):
        row, number = rows[index], index + 1

        def get(column: int | None, row: tuple[Any, ...] = row) -> Any:
            return row[column] if column is not None and column < len(row) else None

        date, journey_text = _date(get(columns.get("date"))), _text(get(columns.get("journey")))
        unit, comment = _text(get(columns.get("unit"))), _text(get(columns.get("comment")))
        raw = {question: _text(get(column)) for question, column in questions}
        if not (date or journey_text or unit or comment or any(raw.values())):
            continue  # an empty row, or one made ready and never used
        answers = {}
        for question, text in raw.items():
            answer = _ANSWERS.get(fold_name(text))
            if answer is not None:
                answers[question] = answer
            elif text:
                notes.append(
                    Note(
                        "unknown-answer",
                        name,
                        number,
                        f"the answer '{shorten(text, 40)}' to '{shorten(question, 40)}' is not "
                        f"{YES}, {PARTLY} or {NO}; not counted",
                    )
                )
        journey = journeys.get(fold_name(journey_text)) if journey_text else None
        if journey_text and journey is None:
            notes.append(
                Note(
                    "unknown-journey",
                    name,
                    number,
                    f"no journey is called '{shorten(journey_text, 40)}'; the answers count "
                    "for their questions, not for a journey",
                )
            )
        conversations.append(Conversation(number, date, journey, unit, answers, comment))
    return ConversationFile(
        file=name,
        round=facts.get("round", "") or path.parent.name,
        questions=tuple(q for q, _ in questions),
        conversations=tuple(conversations),
        notes=tuple(notes),
    )


_ANSWERS = {fold_name(answer): answer for answer in ANSWERS}
_FIXED = {
    fold_header(DATE_HEADER): "date",
    fold_header(JOURNEY_HEADER): "journey",
    fold_header(UNIT_HEADER): "unit",
    fold_header(COMMENT_HEADER): "comment",
}


def _journey_names(organization: Organization) -> dict[str, str]:
    """A journey's title or id, folded, -> its id."""
    names = {fold_name(j.id): j.id for j in organization.journeys}
    names.update({fold_name(j.title): j.id for j in organization.journeys})
    return names


def _find_header(
    rows: Sequence[tuple[Any, ...]],
) -> tuple[int, dict[str, int], list[tuple[str, int]]] | None:
    """The header's row, its fixed columns and its question columns (text, column)."""
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        columns: dict[str, int] = {}
        questions: list[tuple[str, int]] = []
        for column, value in enumerate(row):
            text = " ".join(_text(value).split())
            key = _FIXED.get(fold_header(text))
            if key is not None:
                columns.setdefault(key, column)
            elif text and text not in dict(questions):
                questions.append((text, column))
        if "date" in columns and "journey" in columns and questions:
            return index, columns, questions
    return None


def _text(value: Any) -> str:
    """A cell as the text a person sees, minus control characters (a terminal's escapes)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (datetime.date, datetime.time)):
        value = value.isoformat()
    return _CONTROL.sub("\ufffd", str(value)).strip()


def _date(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    return _text(value)


def _read_sheets(
    path: Path, name: str
) -> tuple[list[tuple[str, list[tuple[Any, ...]]]], dict[str, str], set[str]]:
    """Every sheet's values (bounded), the About sheet's facts, and the sheets cut short.

    Read as every workbook handed back is (feedback.returned_workbook): the file once, its
    package and XML checked before openpyxl sees them, no more rows and columns than needed.
    """
    sheets: list[tuple[str, list[tuple[Any, ...]]]] = []
    facts: dict[str, str] = {}
    truncated: set[str] = set()
    try:
        book = open_workbook(path)
        try:
            for sheet in book.worksheets:
                # One row and one column more than are kept tell a sheet that was cut short.
                wider = sheet_rows(sheet, MAX_ROWS + 1, MAX_COLUMNS + 1)
                rows = list(itertools.islice(wider, MAX_ROWS + 1))
                if len(rows) > MAX_ROWS or any(len(r) > MAX_COLUMNS and r[-1] for r in rows):
                    truncated.add(sheet.title)
                rows = [r[:MAX_COLUMNS] for r in rows[:MAX_ROWS]]
                if sheet.title == ABOUT_SHEET:
                    facts = {fold_header(_text(r[0])): _text(r[1]) for r in rows if len(r) > 1}
                elif sheet.title not in (JOURNEYS_SHEET, PAPER_SHEET):
                    sheets.append((sheet.title, rows))
        finally:
            book.close()
    except UnsafeFile as error:
        raise ConversationError(
            f"{name}: cannot be read as an Excel workbook (not an .xlsx package: {error}); "
            f"give the {CONVERSATIONS_FILE} written by 'jobdefs survey'"
        ) from None
    if facts.get("kind") != KIND:
        facts = {}  # someone else's About sheet says nothing about these conversations
    return sheets, facts, truncated
