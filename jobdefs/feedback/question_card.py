"""The question card: a printable page of questions for the people outside whom a role
serves (patients, families), made from its feedback questions or its customers' needs."""

from __future__ import annotations

import datetime
import io

from jobdefs.documents import ooxml
from jobdefs.feedback.survey import CARD_SCALE, served_outside
from jobdefs.model import Organization, Role, fold_name

# ---------------------------------------------------------------------------------------
# The question card


def card_questions(organization: Organization, role: Role) -> tuple[str, ...]:
    """The role's feedback questions or, without any, questions made from its external
    customers' needs."""
    if role.feedback_questions:
        return role.feedback_questions
    questions: dict[str, str] = {}
    for handoff in served_outside(organization, role.id):
        question = question_from_need(handoff.need)
        questions.setdefault(fold_name(question), question)
    return tuple(questions.values())


def question_from_need(need: str) -> str:
    """'To know what to do at home.' -> 'Did we help you know what to do at home?'"""
    text = " ".join(need.split()).rstrip(" .;:!?")
    if text[:3].casefold() == "to " and len(text) > 3:
        return f"Did we help you {text[3:]}?"
    return f"Did we meet this need: “{text}”?"


def question_card(
    organization: Organization, role: Role, round_label: str, moment: datetime.datetime
) -> bytes:
    """surveys/<round>/<role-id>-patient-questions.docx: a printable card to hand out."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    served = list(dict.fromkeys(h.customer.title for h in served_outside(organization, role.id)))
    document = Document()
    section = document.sections[0]
    section.left_margin = section.right_margin = Cm(2)
    section.top_margin = section.bottom_margin = Cm(1.8)
    normal = document.styles["Normal"]
    normal.font.size = Pt(12)

    heading = document.add_heading("How did we do today?", level=1)
    heading.alignment = WD_ALIGN_PARAGRAPH.LEFT
    document.add_paragraph(f"{organization.name} · {role.title} · {role.department}")
    if served:
        document.add_paragraph("For: " + ", ".join(served))
    document.add_paragraph(
        "Please tick one box for each question. There are no wrong answers: "
        "what you tell us helps us do better."
    )

    questions = card_questions(organization, role)
    table = document.add_table(rows=1, cols=1 + len(CARD_SCALE))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = [Cm(10.4)] + [Cm(2.2)] * len(CARD_SCALE)
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for cell, text in zip(table.rows[0].cells, ("Question", *CARD_SCALE), strict=True):
        cell.text = text
        run = cell.paragraphs[0].runs[0]
        run.bold = True
    for question in questions:
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
        document.add_paragraph("_" * 76)
    footer = document.add_paragraph(f"Thank you. (Survey round {round_label} · {role.id})")
    footer.runs[0].font.size = Pt(9)

    buffer = io.BytesIO()
    document.save(buffer)
    core = ooxml.core_properties(
        f"{organization.name}: questions for the people {role.title} serves", moment
    )
    return ooxml.repack(buffer.getvalue(), moment, replace={"docProps/core.xml": core})
