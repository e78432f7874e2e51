"""Model -> customer surveys: one workbook per customer role, one question card per role
that serves someone outside.

A survey asks a role about every product its colleagues hand it: is the need met? Each row
carries the hand-off's stable id and fingerprint, so `scorecard` can read the answers back
however the rows were sorted, and can tell when a hand-off changed after it was asked about.
Only the answer cells can be changed; protection has no password, so it guards against
slips, not against people.

A round is a folder, `surveys/<round>/`. Files already in it are never replaced unless the
caller forces it: a department head may already have answered them.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobdefs import __version__
from jobdefs.documents.sheets import (
    ANSWER_FILL,
    COMMENT_HEADER,
    FINGERPRINT_HEADER,
    ID_HEADER,
    QUIET_TEXT,
    SUBTITLE_TEXT,
    Column,
    drop_down,
    font,
    grid_border,
    header_cell,
    header_height,
    print_setup,
    row_height,
    save_workbook,
    set_text,
    solid_fill,
)
from jobdefs.errors import JobdefsError
from jobdefs.model import HandOff, Organization, Role, fold_name
from jobdefs.output import WINDOWS_RESERVED
from jobdefs.text import ROLE_IDS_HINT, did_you_mean

DEFAULT_ROUND = "round-1"
SURVEY_SHEET = "Survey"
ABOUT_SHEET = "About"
SURVEY_KIND = "jobdefs customer survey"
SURVEY_FORMAT = "1"
CARD_SUFFIX = "-patient-questions.docx"

MET, PARTLY_MET, NOT_MET, NOT_RECEIVED = "Met", "Partly met", "Not met", "Don't receive it"
ANSWERS = (MET, PARTLY_MET, NOT_MET, NOT_RECEIVED)
RATING_MIN, RATING_MAX = 1, 5
CARD_SCALE = ("Yes", "Partly", "No")

# Headers the scorecard looks for (compared without case, spaces or hyphens).
ANSWER_HEADER = "Answer"
RATING_HEADER = "Rating"

ROUND_MAX = 64
_ROUND = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]|\.(?!\.))*$")


class SurveyError(JobdefsError):
    """A survey cannot be made or read as asked; the message says what to do instead."""


# Narrow enough that the columns up to Comment print on one page across at 7 points or
# more (sheets.pages_across); the id and fingerprint, there to be read back, do not print.
SURVEY_COLUMNS = (
    Column("Supplier", 18, "prose"),
    Column("Supplier department", 13, "prose"),
    Column("Product", 18, "prose"),
    Column("Need (as the supplier wrote it)", 31, "prose"),
    Column("Standard", 24, "prose"),
    Column(ANSWER_HEADER, 14, "answer"),
    Column(RATING_HEADER, 8, "answer"),
    Column(COMMENT_HEADER, 30, "answer"),
    Column(ID_HEADER, 13, "code"),
    Column(FINGERPRINT_HEADER, 14, "code"),
)
ANSWER_COLUMN = 6
RATING_COLUMN = 7
COMMENT_COLUMN = 8
FINGERPRINT_COLUMN = 10


@dataclass
class SurveyReport:
    """What `survey_round.make_surveys` wrote, and which selected roles got nothing and why."""

    folder: Path
    surveys: list[str] = field(default_factory=list)
    cards: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # role ids with nothing to ask
    conversations: str = ""  # the patients' sheet, when jobdefs.yaml has discharge questions


# ---------------------------------------------------------------------------------------
# Choosing what to ask


def round_name(label: str) -> str:
    """A round as a sentence says it: "round-1" is "round 1", "2025-q2" is "round 2025-q2"
    (never "round round-1")."""
    named = re.fullmatch(r"round[-_ ]?(.+)", label, re.IGNORECASE)
    return f"round {named.group(1)}" if named else f"round {label}"


def validate_round(label: str) -> str:
    """The round label, if it is safe as a folder name on every system; else SurveyError."""
    shown = label if len(label) <= ROUND_MAX else label[:ROUND_MAX] + "…"
    if (
        not label
        or len(label) > ROUND_MAX
        or not _ROUND.match(label)
        or label.endswith(".")
        or label.split(".")[0].casefold() in WINDOWS_RESERVED
    ):
        raise SurveyError(
            f"the round '{shown}' cannot be a folder name; use letters, digits, '-', '_' "
            f"and single dots, starting with a letter or digit, at most {ROUND_MAX} "
            "characters (e.g. round-2 or 2025-q1)",
            option="round",
        )
    return label


def select_roles(
    organization: Organization, roles: Sequence[str] = (), departments: Sequence[str] = ()
) -> tuple[Role, ...]:
    """The roles named, plus every role of the departments named; all roles when neither.

    Departments are matched without case and with spaces folded.
    """
    role_ids = [role.id for role in organization.roles]
    for role_id in roles:
        if not organization.has_role(role_id):
            hint = did_you_mean(role_id, role_ids) or ROLE_IDS_HINT
            raise SurveyError(
                f"no role '{role_id}' in this workbook{hint}", option="role", usage=True
            )
    known = {fold_name(name): name for name in organization.departments()}
    wanted_departments = set()
    for name in departments:
        if fold_name(name) not in known:
            hint = did_you_mean(name, list(known.values()))
            raise SurveyError(
                f"no department '{name}' in this workbook{hint}", option="department", usage=True
            )
        wanted_departments.add(known[fold_name(name)])
    if not roles and not departments:
        return organization.roles
    wanted_roles = set(roles)
    return tuple(
        role
        for role in organization.roles
        if role.id in wanted_roles or role.department in wanted_departments
    )


def received(organization: Organization, role_id: str) -> tuple[HandOff, ...]:
    """What a role receives from its colleagues (not from itself), in a stable order."""
    handoffs = [h for h in organization.handoffs_to(role_id) if h.supplier.id != role_id]
    return tuple(
        sorted(
            handoffs,
            key=lambda h: (
                h.supplier.department.casefold(),
                h.supplier.title.casefold(),
                fold_name(h.product),
                h.id,
            ),
        )
    )


def served_outside(organization: Organization, role_id: str) -> tuple[HandOff, ...]:
    """The hand-offs from a role to external customers."""
    return tuple(h for h in organization.handoffs_from(role_id) if h.customer.kind == "external")


# ---------------------------------------------------------------------------------------
# The survey workbook


def instructions() -> tuple[str, ...]:
    """The plain-words block at the top of a survey, one line per row."""
    return (
        "How to fill this in",
        "• Each row is something a colleague hands you. 'Need' is what they believe you need "
        "from it, in their words; 'Standard' is what they promise.",
        f"• {ANSWER_HEADER}: choose {MET}, {PARTLY_MET}, {NOT_MET}, or {NOT_RECEIVED} "
        "(you never get this from them).",
        f"• {RATING_HEADER}: a whole number from {RATING_MIN} (poor) to {RATING_MAX} "
        f"(excellent). {COMMENT_HEADER}: what would make it better for you.",
        "• Only the yellow cells can be changed, and no password is needed. Leave a row blank "
        "if you cannot judge it.",
        "• Save the file under the same name and send it back. Leave the "
        f"'{ID_HEADER}' column, at the far right on screen and not printed, as it is: "
        "it matches your answers to the right colleague.",
    )


def survey_workbook(
    organization: Organization, role: Role, round_label: str, moment: datetime.datetime
) -> bytes:
    """surveys/<round>/<role-id>.xlsx: one row per product the role receives."""
    # openpyxl here: a build reads the survey's vocabulary, and need not pay for openpyxl.
    from openpyxl import Workbook as XlsxWorkbook
    from openpyxl.styles import Alignment, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    grid, answer_fill = grid_border(), solid_fill(ANSWER_FILL)
    top = Alignment(horizontal="left", vertical="top")
    wrap = Alignment(horizontal="left", vertical="top", wrap_text=True)
    center = Alignment(horizontal="center", vertical="top")
    locked, unlocked = Protection(locked=True), Protection(locked=False)
    plain, quiet = font(), font(color=QUIET_TEXT)
    handoffs = received(organization, role.id)
    book = XlsxWorkbook()
    sheet = book.active
    sheet.title = SURVEY_SHEET
    for number, column in enumerate(SURVEY_COLUMNS, 1):
        sheet.column_dimensions[get_column_letter(number)].width = column.width
    sheet.column_dimensions[get_column_letter(FINGERPRINT_COLUMN)].hidden = True

    title = sheet.cell(row=1, column=1)
    set_text(title, f"Is your need met? {role.title}")
    title.font = font(bold=True, size=14)
    subtitle = sheet.cell(row=2, column=1)
    set_text(
        subtitle,
        f"{organization.name} · {role.department} · survey {round_name(round_label)} · "
        f"{len(handoffs)} product{'s' if len(handoffs) != 1 else ''} you receive",
    )
    subtitle.font = font(color=SUBTITLE_TEXT)
    lines = instructions()
    for offset, line in enumerate(lines):
        cell = sheet.cell(row=4 + offset, column=1)
        set_text(cell, line)
        cell.font = font(bold=offset == 0)
    header_row = 4 + len(lines) + 1
    first = header_row + 1
    last = header_row + max(len(handoffs), 1)

    for number, column in enumerate(SURVEY_COLUMNS, 1):
        header_cell(sheet.cell(row=header_row, column=number), column.header)
    sheet.row_dimensions[header_row].height = header_height(SURVEY_COLUMNS)
    for row, handoff in enumerate(handoffs, first):
        values = (
            handoff.supplier.title,
            handoff.supplier.department,
            handoff.product,
            handoff.need,
            handoff.standard,
            "",
            "",
            "",
            handoff.id,
            handoff.fingerprint,
        )
        for number, (column, value) in enumerate(zip(SURVEY_COLUMNS, values, strict=True), 1):
            cell = sheet.cell(row=row, column=number)
            if value:
                set_text(cell, value)
            cell.border = grid
            cell.font = quiet if column.style == "code" else plain
            if column.style == "answer":
                cell.fill = answer_fill
                cell.protection = unlocked
                cell.alignment = center if number == RATING_COLUMN else wrap
            else:
                cell.protection = locked
                cell.alignment = wrap if column.style == "prose" else top
        # Spreadsheets do not grow a row for wrapped text they did not type themselves.
        sheet.row_dimensions[row].height = row_height(values, SURVEY_COLUMNS, answer_lines=2)
    if not handoffs:
        nothing = "Nothing to ask: no colleague hands you a product."
        set_text(sheet.cell(row=first, column=1), nothing)
        sheet.cell(row=first, column=1).font = plain

    answer = get_column_letter(ANSWER_COLUMN)
    answers = drop_down(ANSWER_HEADER, ANSWERS, "Is your need met? ")
    answers.add(f"{answer}{first}:{answer}{last}")
    rating = get_column_letter(RATING_COLUMN)
    ratings = DataValidation(
        type="whole",
        operator="between",
        formula1=str(RATING_MIN),
        formula2=str(RATING_MAX),
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=RATING_HEADER,
        error=f"A whole number from {RATING_MIN} (poor) to {RATING_MAX} (excellent).",
        showInputMessage=True,
        promptTitle=RATING_HEADER,
        prompt=f"{RATING_MIN} = poor … {RATING_MAX} = excellent",
    )
    ratings.add(f"{rating}{first}:{rating}{last}")
    sheet.add_data_validation(answers)
    sheet.add_data_validation(ratings)

    sheet.freeze_panes = f"A{first}"
    sheet.auto_filter.ref = f"A{header_row}:{get_column_letter(len(SURVEY_COLUMNS))}{last}"
    printed = SURVEY_COLUMNS[:COMMENT_COLUMN]
    print_setup(
        sheet,
        f"{header_row}:{header_row}",
        widths=[column.width for column in printed],
        header=(organization.name, f"Survey: {role.title}"),
    )
    sheet.print_area = f"A1:{get_column_letter(COMMENT_COLUMN)}{last}"
    # No password: the protection keeps slips out of the questions, not people.
    sheet.protection.sheet = True
    sheet.protection.autoFilter = False
    sheet.protection.sort = False
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False

    _about(book, organization, role, round_label, handoffs)
    return save_workbook(
        book, f"{organization.name}: survey {round_name(round_label)}, {role.title}", moment
    )


def _about(
    book: Any,
    organization: Organization,
    role: Role,
    round_label: str,
    handoffs: Sequence[HandOff],
) -> None:
    """A hidden sheet that says what the file is, for reading the answers back."""
    sheet = book.create_sheet(ABOUT_SHEET)
    sheet.sheet_state = "hidden"
    rows = [
        ("Kind", SURVEY_KIND),
        ("Format", SURVEY_FORMAT),
        ("Organization", organization.name),
        ("Round", round_label),
        ("Role id", role.id),
        ("Role", role.title),
        ("Department", role.department),
        ("Generator", f"jobdefs {__version__}"),
        *((ID_HEADER, handoff.id) for handoff in handoffs),
    ]
    for number, (key, value) in enumerate(rows, 1):
        set_text(sheet.cell(row=number, column=1), key)
        set_text(sheet.cell(row=number, column=2), value)
    sheet.column_dimensions["A"].width = 16
    sheet.column_dimensions["B"].width = 40
    sheet.protection.sheet = True
