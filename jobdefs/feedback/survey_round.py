"""A survey round on disk: surveys/<round>/ holds one workbook per customer role and one
question card per role that serves someone outside; files already there are kept."""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from jobdefs.errors import OutputError
from jobdefs.feedback.patient_voice import conversation_workbook
from jobdefs.feedback.question_card import card_pages, question_card
from jobdefs.feedback.survey import (
    CARD_SUFFIX,
    DEFAULT_ROUND,
    SurveyError,
    SurveyReport,
    received,
    select_roles,
    survey_workbook,
    validate_round,
)
from jobdefs.model import Organization, Role
from jobdefs.output import CONVERSATIONS_FILE, SURVEYS, describe, inside, replace_files
from jobdefs.workbook.dates import document_moment
from jobdefs.workbook.load import Workbook

# ---------------------------------------------------------------------------------------
# A round on disk


def round_files(
    organization: Organization,
    roles: Iterable[Role],
    round_label: str,
    moment: datetime.datetime,
) -> tuple[dict[str, bytes], list[str]]:
    """Every file of a round, by name, and the ids of roles with nothing to ask."""
    files: dict[str, bytes] = {}
    skipped: list[str] = []
    for role in roles:
        made = False
        if received(organization, role.id):
            files[f"{role.id}.xlsx"] = survey_workbook(organization, role, round_label, moment)
            made = True
        if card_pages(organization, role):
            files[f"{role.id}{CARD_SUFFIX}"] = question_card(
                organization, role, round_label, moment
            )
            made = True
        if not made:
            skipped.append(role.id)
    if organization.discharge_questions:
        files[CONVERSATIONS_FILE] = conversation_workbook(organization, round_label, moment)
    return files, skipped


def make_surveys(
    workbook: Workbook,
    *,
    output_dir: Path | None = None,
    round_label: str = DEFAULT_ROUND,
    roles: Sequence[str] = (),
    departments: Sequence[str] = (),
    force: bool = False,
    moment: datetime.datetime | None = None,
) -> SurveyReport:
    """Write a round of surveys to <output>/surveys/<round>/; all of them or none."""

    validate_round(round_label)
    organization = workbook.organization
    chosen = select_roles(organization, roles, departments)
    moment = moment or document_moment(workbook.organization)
    root = Path(os.path.realpath(output_dir or workbook.output_dir))
    folder = root / SURVEYS / round_label
    files, skipped = round_files(organization, chosen, round_label, moment)
    for name in files:  # no link on the way below the output folder is followed
        inside(root, f"{SURVEYS}/{round_label}/{name}")
    write_round(folder, files, force=force, round_label=round_label)
    return SurveyReport(
        folder=folder,
        surveys=sorted(n for n in files if n.endswith(".xlsx") and n != CONVERSATIONS_FILE),
        cards=sorted(name for name in files if name.endswith(".docx")),
        skipped=skipped,
        conversations=CONVERSATIONS_FILE if CONVERSATIONS_FILE in files else "",
    )


def write_round(
    folder: Path, files: Mapping[str, bytes], *, force: bool = False, round_label: str = ""
) -> None:
    """Write `files` into `folder`: each to a temporary name first, then renamed into place.

    Refuses, writing nothing, when any of them exists already, unless `force`.
    """
    existing = sorted(
        (name for name in files if (folder / name).exists()),
        key=lambda name: (not name.endswith(".xlsx"), name),
    )
    if existing and not force:
        more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
        label = round_label or folder.name
        raise SurveyError(
            f"round '{label}' already has surveys in {folder} ({existing[0]}{more}), and "
            "they may hold answers already. Start a new round with --round "
            f"{next_round(folder.parent, label)}, or pass --force to replace them"
        )
    try:
        replace_files(folder, files)
    except OSError as error:
        raise OutputError(f"could not write the surveys: {describe(error)}") from None


def next_round(surveys_dir: Path, label: str) -> str:
    """A label after `label` whose folder does not exist yet: round-1 -> round-2."""
    match = re.match(r"^(.*?)(\d+)$", label)
    stem, number = (match.group(1), int(match.group(2))) if match else (f"{label}-", 1)
    while True:
        number += 1
        candidate = f"{stem}{number}"
        if not (surveys_dir / candidate).exists():
            return candidate
