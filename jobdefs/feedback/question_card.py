"""The question card: a printable page for each of the people outside whom a role serves
(patients, families), asking them only the questions meant for them: the role's feedback
questions that ask them and its plain ones, or, without feedback questions, questions made
from their own needs."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from typing import Any

from jobdefs.documents import ooxml, table_cells
from jobdefs.feedback.survey import CARD_SCALE, round_name, served_outside
from jobdefs.model import Organization, Role, fold_name
from jobdefs.workbook.questions import questions_for

# ---------------------------------------------------------------------------------------
# What each card asks


@dataclass(frozen=True)
class CardPage:
    """One page of a role's card: the external customer it is for and what it asks them."""

    customer: str  # the external customer's name
    questions: tuple[str, ...]


def card_pages(organization: Organization, role: Role) -> tuple[CardPage, ...]:
    """A page for each external customer the role serves that has questions to answer, in
    the order of their first hand-off."""
    needs: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for handoff in served_outside(organization, role.id):
        needs.setdefault(handoff.customer.key, []).append(handoff.need)
        names[handoff.customer.key] = handoff.customer.title
    pages = []
    for key, customer_needs in needs.items():
        if role.feedback_questions:
            questions = questions_for(role.feedback_questions, key)
        else:
            made = {fold_name(q): q for q in map(question_from_need, customer_needs)}
            questions = tuple(made.values())
        if questions:
            pages.append(CardPage(names[key], questions))
    return tuple(pages)


def question_from_need(need: str) -> str:
    """'To know what to do at home.' -> 'Did we help you know what to do at home?'"""
    text = " ".join(need.split()).rstrip(" .;:!?")
    if text[:3].casefold() == "to " and len(text) > 3:
        return f"Did we help you {text[3:]}?"
    return f"Did we meet this need: “{text}”?"


# ---------------------------------------------------------------------------------------
# The card as a Word file


def question_card(
    organization: Organization, role: Role, round_label: str, moment: datetime.datetime
) -> bytes:
    """surveys/<round>/<role-id>-patient-questions.docx: a card to hand out, one page for
    each external customer (see card_pages)."""
    from docx import Document
    from docx.enum.text import WD_BREAK
    from docx.shared import Cm

    document = Document()
    section = document.sections[0]
    section.left_margin = section.right_margin = Cm(2)
    section.top_margin = section.bottom_margin = Cm(1.8)
    for name, size in (("Normal", 12), ("Heading 1", 16)):
        table_cells.named_font(document.styles[name], size)

    for number, page in enumerate(card_pages(organization, role)):
        if number:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        _page(document, organization, role, page, round_label)

    buffer = io.BytesIO()
    document.save(buffer)
    core = ooxml.core_properties(
        f"{organization.name}: questions for the people {role.title} serves", moment
    )
    return ooxml.repack(buffer.getvalue(), moment, replace={"docProps/core.xml": core})


def _page(
    document: Any, organization: Organization, role: Role, page: CardPage, label: str
) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    heading = document.add_heading("How did we do today?", level=1)
    heading.alignment = WD_ALIGN_PARAGRAPH.LEFT
    document.add_paragraph(f"{organization.name} · {role.title} · {role.department}")
    document.add_paragraph(f"For: {page.customer}")
    document.add_paragraph(
        "Please tick one box for each question. There are no wrong answers: "
        "what you tell us helps us do better."
    )

    table = document.add_table(rows=1, cols=1 + len(CARD_SCALE))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = [Cm(10.4)] + [Cm(2.2)] * len(CARD_SCALE)
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for cell, text in zip(table.rows[0].cells, ("Question", *CARD_SCALE), strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    for question in page.questions:
        cells = table.add_row().cells
        cells[0].text = question
        for cell in cells[1:]:
            cell.text = "☐"
            cell.paragraphs[0].runs[0].font.size = Pt(18)
    for row in table.rows:  # Word reads the cells' widths, LibreOffice the columns'
        for index, (cell, width) in enumerate(zip(row.cells, widths, strict=True)):
            cell.width = width
            if index:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER

    document.add_paragraph()
    document.add_paragraph("Anything else you would like to tell us?")
    for _ in range(3):
        document.add_paragraph("_" * 70)  # a writing line: 70 fit the width in Arial
    footer = document.add_paragraph(f"Thank you. (Survey {round_name(label)} · {role.title})")
    footer.runs[0].font.size = Pt(9)
