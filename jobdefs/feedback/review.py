"""Reviewed workbooks back: each answer matched to its hand-off by the stable id.

A department head may sort, filter, delete or add rows; only the `Hand-off id` column ties
an answer to a hand-off. An answer whose hand-off no longer exists is *stale*; one whose
hand-off changed since the workbook was made (its fingerprint differs) is *suspect*: the
reviewer approved something that is no longer what the files say.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobdefs.documents.sheets import (
    COMMENT_HEADER,
    FINGERPRINT_HEADER,
    ID_HEADER,
    REVIEWER_HEADER,
    STATUS_HEADER,
    STATUS_OPTIONS,
)
from jobdefs.errors import JobdefsError
from jobdefs.feedback.returned_workbook import open_workbook, sheet_rows
from jobdefs.model import HandOff, Organization
from jobdefs.office_files import UnsafeFile
from jobdefs.text import cut, markdown_text, one_line

ANSWER_HEADERS = (STATUS_HEADER, REVIEWER_HEADER, COMMENT_HEADER)
HEADER_SEARCH_ROWS = 10  # the header row sits at the top, below at most a title block
# Excel's last row. A review sheet has a row per hand-off (a 2,000-role hospital has about
# 12,000), and rows are read one at a time, so a stray cell at the bottom costs nothing; a
# row number past this one was not written by Excel (and openpyxl yields an empty row for
# every number skipped). The rows actually in a sheet are bounded by MAX_XML_CHILDREN.
MAX_ROWS = 1_048_576
# The Hand-offs sheet has 13 columns; a reviewer may add some. (The Matrix sheet is wider,
# a column per role, but only its first rows are read, to find no header there.)
MAX_COLUMNS = 256


@dataclass(frozen=True)
class Answer:
    """What a reviewer wrote in one row."""

    handoff_id: str
    status: str
    reviewer: str
    comment: str
    fingerprint: str
    file: str
    row: int

    @property
    def is_blank(self) -> bool:
        return not (self.status or self.reviewer or self.comment)


@dataclass
class Review:
    """Every answer of the files read, sorted by what it still means."""

    current: list[tuple[HandOff, Answer]] = field(default_factory=list)
    suspect: list[tuple[HandOff, Answer]] = field(default_factory=list)
    stale: list[Answer] = field(default_factory=list)
    unanswered: list[HandOff] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def needs_change(self) -> list[tuple[HandOff, Answer]]:
        return [(h, a) for h, a in self.current if a.status == "Needs change"]

    def answers_by_id(self) -> dict[str, Answer]:
        """The still-valid answers, for carrying into newly built workbooks."""
        return {h.id: a for h, a in self.current}

    def suspect_ids(self) -> set[str]:
        return {h.id for h, _ in self.suspect}


def _text(value: Any) -> str:
    if value is None:
        return ""
    return " ".join(str(value).split()) if not isinstance(value, str) else value.strip()


def _status(value: str) -> str | None:
    folded = " ".join(value.split()).casefold()
    return next((s for s in STATUS_OPTIONS if s.casefold() == folded), None)


def read_answers(
    path: Path, notes: list[str] | None = None, titles: dict[Path, str] | None = None
) -> list[Answer]:
    """Every answered row of every sheet with a `Hand-off id` column in `path`; `titles`
    gets the title the workbook was written with ("<organization>: ...")."""
    notes = notes if notes is not None else []
    answers: list[Answer] = []
    found_sheet = False
    try:
        book = open_workbook(path)
        if titles is not None:
            titles[path] = _text(book.properties.title) if book.properties else ""
        try:
            for sheet in book.worksheets:
                header: dict[str, int] = {}
                for number, row in enumerate(sheet_rows(sheet, MAX_ROWS, MAX_COLUMNS), 1):
                    if not header:
                        if number > HEADER_SEARCH_ROWS:
                            break
                        cells = [_text(v) for v in row]
                        if ID_HEADER in cells:
                            header = {name: i for i, name in enumerate(cells) if name}
                            found_sheet = True
                        continue
                    answer = _answer(row, header, path, number, notes)
                    if answer is not None:
                        answers.append(answer)
        finally:
            book.close()
    except UnsafeFile as error:
        raise JobdefsError(
            f"{path}: not a readable workbook: {error}. Give the reviewed "
            "internal-customer-matrix.xlsx or departments/*.xlsx that 'jobdefs build' wrote, "
            "as saved by Excel"
        ) from None
    if not found_sheet:
        raise JobdefsError(
            f"{path}: this is not a jobdefs review workbook: no sheet has a '{ID_HEADER}' "
            "column. Review the internal-customer-matrix.xlsx or departments/*.xlsx that "
            "'jobdefs build' writes"
        )
    return answers


def _answer(
    row: Sequence[Any], header: dict[str, int], path: Path, number: int, notes: list[str]
) -> Answer | None:
    def cell(name: str) -> str:
        index = header.get(name)
        return _text(row[index]) if index is not None and index < len(row) else ""

    handoff_id = cell(ID_HEADER)
    typed_status = cell(STATUS_HEADER)
    if not handoff_id:
        if typed_status or cell(COMMENT_HEADER):
            notes.append(
                f"{path.name} row {number}: an answer without a {ID_HEADER}; "
                "it was skipped (was the id column edited?)"
            )
        return None
    status = _status(typed_status) if typed_status else ""
    if status is None:
        notes.append(
            f"{path.name} row {number}: the status '{one_line(typed_status)}' is "
            f"not one of {', '.join(STATUS_OPTIONS)}; it was read as no status"
        )
        status = ""
    answer = Answer(
        handoff_id,
        status,
        cell(REVIEWER_HEADER),
        cell(COMMENT_HEADER),
        cell(FINGERPRINT_HEADER),
        path.name,
        number,
    )
    return None if answer.is_blank else answer


def _refuse_another_organizations(
    path: Path,
    title: str,
    answers: Sequence[Answer],
    handoffs: Mapping[str, HandOff],
    organization: Organization,
) -> None:
    """A workbook written for another organization, none of whose answers is a hand-off
    here, is a mistake to name, not a workbook of stale answers."""
    if not title or title.startswith(f"{organization.name}: "):
        return
    if answers and not any(answer.handoff_id in handoffs for answer in answers):
        raise JobdefsError(
            f"{path}: this workbook was written for another organization ('{one_line(title)}'), "
            f"not {organization.name}: none of its hand-offs is in this workbook. Give the "
            "reviewed workbooks that 'jobdefs build' wrote for this one"
        )


def review(organization: Organization, files: Iterable[Path]) -> Review:
    """Match the answers in `files` against the organization's current hand-offs."""
    result = Review()
    handoffs = {h.id: h for h in organization.handoffs}
    latest: dict[str, Answer] = {}
    titles: dict[Path, str] = {}
    for path in files:
        answers = read_answers(path, result.notes, titles)
        _refuse_another_organizations(path, titles.get(path, ""), answers, handoffs, organization)
        for answer in answers:
            earlier = latest.get(answer.handoff_id)
            if earlier is not None and (earlier.status, earlier.comment) != (
                answer.status,
                answer.comment,
            ):
                result.notes.append(
                    f"{answer.file} row {answer.row} and {earlier.file} row {earlier.row} "
                    f"answer the same hand-off differently; the later file ({answer.file}) "
                    "was used"
                )
            latest[answer.handoff_id] = answer
    for handoff_id, answer in latest.items():
        handoff = handoffs.get(handoff_id)
        if handoff is None:
            result.stale.append(answer)
        elif answer.fingerprint and answer.fingerprint != handoff.fingerprint:
            result.suspect.append((handoff, answer))
        else:
            result.current.append((handoff, answer))
    order = {h.id: i for i, h in enumerate(organization.handoffs)}
    result.current.sort(key=lambda pair: order[pair[0].id])
    result.suspect.sort(key=lambda pair: order[pair[0].id])
    result.stale.sort(key=lambda a: (a.file, a.row))
    result.unanswered = [h for h in organization.handoffs if h.id not in latest]
    return result


def summary_rows(result: Review) -> list[dict[str, Any]]:
    """Counts by status per supplier department and role, in the organization's order."""
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for handoff, answer in result.current:
        counts[(handoff.supplier.department, handoff.supplier.title)][answer.status or "none"] += 1
    for handoff, _ in result.suspect:
        counts[(handoff.supplier.department, handoff.supplier.title)]["suspect"] += 1
    for handoff in result.unanswered:
        counts[(handoff.supplier.department, handoff.supplier.title)]["unanswered"] += 1
    rows = []
    for (department, role), counter in counts.items():
        rows.append(
            {
                "department": department,
                "role": role,
                "agreed": counter["Agreed"],
                "needs_change": counter["Needs change"],
                "not_needed": counter["Not needed"],
                "no_status": counter["none"],
                "suspect": counter["suspect"],
                "unanswered": counter["unanswered"],
            }
        )
    return rows


def _describe(handoff: HandOff) -> str:
    return f"{handoff.supplier.title} → '{handoff.product}' → {handoff.customer.title}"


def as_text(result: Review) -> str:
    lines = [
        f"{len(result.current)} current answers, {len(result.suspect)} suspect, "
        f"{len(result.stale)} stale; {len(result.unanswered)} hand-offs unanswered",
        "",
        f"{'Department':<24} {'Role':<28} {'Agreed':>6} {'Change':>6} {'Not':>4} "
        f"{'Suspect':>7} {'Open':>5}",
    ]
    for row in summary_rows(result):
        lines.append(
            f"{cut(one_line(row['department']), 24):<24} {cut(one_line(row['role']), 28):<28} "
            f"{row['agreed']:>6} {row['needs_change']:>6} {row['not_needed']:>4} "
            f"{row['suspect']:>7} {row['unanswered'] + row['no_status']:>5}"
        )
    if result.needs_change():
        lines += ["", "Needs change:"]
        for handoff, answer in result.needs_change():
            by = f" ({one_line(answer.reviewer)})" if answer.reviewer else ""
            lines.append(
                f"  {one_line(_describe(handoff))}{by}: {one_line(answer.comment) or 'no comment'}"
            )
    if result.suspect:
        lines += ["", "Suspect (the hand-off changed after it was reviewed; review it again):"]
        for handoff, answer in result.suspect:
            lines.append(
                f"  {one_line(_describe(handoff))}: was '{answer.status or 'no status'}'"
                f" in {answer.file} row {answer.row}"
            )
    if result.stale:
        lines += ["", "Stale (the hand-off no longer exists):"]
        for answer in result.stale:
            lines.append(
                f"  {answer.handoff_id} in {answer.file} row {answer.row}: "
                f"'{answer.status or 'no status'}'"
            )
    return "\n".join(lines) + "\n"


def as_markdown(result: Review) -> str:
    lines = [
        "## Hand-off review",
        "",
        f"**{len(result.current)}** current answers, **{len(result.suspect)}** suspect, "
        f"**{len(result.stale)}** stale; **{len(result.unanswered)}** hand-offs unanswered.",
        "",
        "| Department | Role | Agreed | Needs change | Not needed | Suspect | Open |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in summary_rows(result):
        lines.append(
            f"| {markdown_text(row['department'])} | {markdown_text(row['role'])} | "
            f"{row['agreed']} | "
            f"{row['needs_change']} | {row['not_needed']} | {row['suspect']} | "
            f"{row['unanswered'] + row['no_status']} |"
        )
    if result.needs_change():
        lines += ["", "### Needs change", ""]
        for handoff, answer in result.needs_change():
            by = f" ({markdown_text(answer.reviewer)})" if answer.reviewer else ""
            comment = markdown_text(answer.comment) or "no comment"
            lines.append(f"- {markdown_text(_describe(handoff))}{by}: {comment}")
    if result.suspect:
        lines += ["", "### Suspect: changed since reviewed", ""]
        lines += [
            f"- {markdown_text(_describe(h))}: was {markdown_text(a.status or 'no status')}"
            for h, a in result.suspect
        ]
    if result.stale:
        lines += ["", "### Stale: no longer a hand-off", ""]
        lines += [f"- `{a.handoff_id}` ({markdown_text(a.file)} row {a.row})" for a in result.stale]
    return "\n".join(lines) + "\n"


def as_json(result: Review) -> str:
    def answer(a: Answer) -> dict[str, Any]:
        return {
            "id": a.handoff_id,
            "status": a.status,
            "reviewer": a.reviewer,
            "comment": a.comment,
            "file": a.file,
            "row": a.row,
        }

    def pair(h: HandOff, a: Answer) -> dict[str, Any]:
        return {
            **answer(a),
            "supplier": h.supplier.id,
            "product": h.product,
            "customer": h.customer.key,
        }

    document = {
        "summary": summary_rows(result),
        "current": [pair(h, a) for h, a in result.current],
        "suspect": [pair(h, a) for h, a in result.suspect],
        "stale": [answer(a) for a in result.stale],
        "unanswered": [h.id for h in result.unanswered],
        "notes": result.notes,
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
