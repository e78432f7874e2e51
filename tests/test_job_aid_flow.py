"""What the example hospital's job aids show of where the work leads and whom each
question asks, and how their pages flow once LibreOffice lays them out."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import docx
import pytest

from jobdefs.documents import pdf as to_pdf
from jobdefs.documents.job_aid import job_aid_context, render_job_aid
from jobdefs.documents.page_flow import keep_sign_off_with_what_precedes
from jobdefs.model import Organization
from jobdefs.workbook.load import load_workbook

REPO = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def hospital() -> Organization:
    return load_workbook(REPO).organization


def styled(data: bytes, style: str) -> list[str]:
    document = docx.Document(io.BytesIO(data))
    return [p.text for p in document.paragraphs if p.style is not None and p.style.name == style]


def test_the_line_of_sight_leads_with_the_patient_and_names_the_others_shortly(
    hospital: Organization,
) -> None:
    data = render_job_aid(hospital, hospital.role("phlebotomist"))
    assert "Where your work leads" in styled(data, "Heading 1")
    assert styled(data, "Line Label") == [
        "Patient: you hand your work to them yourself",
        "Your work also reaches",
    ]
    assert styled(data, "Line Chain") == ["Phlebotomist → Labelled blood specimen → Patient"]
    # Nearest first, without brackets inside brackets; regulators, 8 hand-offs away through
    # a denial trend report, are left out.
    assert styled(data, "List Bullet")[:3] == [
        "Family and carers: 3 hand-offs away",
        "Referring physician: 3 hand-offs away",
        "Payer (health insurer): 4 hand-offs away",
    ]
    context = job_aid_context(hospital, hospital.role("phlebotomist"))
    assert [line["customer"] for line in context["lines_of_sight"]][-2] == (
        "Regulators and accreditors"
    )


def test_a_role_that_does_not_reach_the_patient_leads_with_whom_it_reaches(
    make_workbook: Callable[..., Path],
) -> None:
    root = make_workbook(
        {
            "jobdefs.yaml": "organization: Clinic\nexternal_customers:\n"
            "  patient:\n    name: Patient\n  payer:\n    name: Insurer\n",
            "roles/coder.yaml": "title: Coder\ndepartment: Billing\npurpose: Paid claims.\n"
            "products:\n  - name: Claim\n    customers:\n"
            "      - external: payer\n        need: Codes that match.\n",
        }
    )
    organization = load_workbook(root).organization
    context = job_aid_context(organization, organization.role("coder"))
    assert context["line_of_sight"]["chain"] == "Coder → Claim → Insurer"
    assert context["other_lines_of_sight"] == []
    data = render_job_aid(organization, organization.role("coder"))
    assert styled(data, "Line Label") == ["Insurer: you hand your work to them yourself"]


def test_each_question_names_whom_it_asks_and_the_last_keeps_with_the_sign_off(
    hospital: Organization,
) -> None:
    data = render_job_aid(hospital, hospital.role("hospital-president"))
    document = docx.Document(io.BytesIO(data))
    questions = [p for p in document.paragraphs if p.style.name in ("List Bullet", "Last Question")]
    assert [(p.style.name, p.text) for p in questions[-2:]] == [
        (
            "List Bullet",
            "Chief Operating Officer: Did the operating plan give your department targets you "
            "could act on?",
        ),
        (
            "Last Question",
            "Patient: Which of our community's needs do you think we are still missing?",
        ),
    ]
    assert document.styles["Last Question"].paragraph_format.keep_with_next
    assert document.styles["Last Question"].base_style.name == "List Bullet"


# -- LibreOffice -------------------------------------------------------------------------


@pytest.mark.skipif(
    to_pdf.find_soffice() is None or shutil.which("pdftotext") is None,
    reason="LibreOffice or pdftotext is not installed",
)
def test_libreoffice_keeps_the_sign_off_with_what_precedes_it_and_fills_every_page(
    hospital: Organization, tmp_path: Path
) -> None:
    # The registration clerk's sign-off used to stand alone on a fourth page.
    source = tmp_path / "registration-clerk.docx"
    source.write_bytes(render_job_aid(hospital, hospital.role("registration-clerk")))
    [pdf] = to_pdf.convert_to_pdf([source], tmp_path / "pdf")
    boxes = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = boxes.split("<page ")[1:]
    words = [
        [(float(y), word) for y, word in re.findall(r'yMax="([\d.]+)">([^<]*)</word>', page)]
        for page in pages
    ]
    last = " ".join(word for _, word in words[-1])
    assert "Sign-off" in last and "Did you understand why we checked" in last
    # The text block runs from 61 pt to 738 pt down a Letter page; the footer is below it.
    top, bottom = 61.2, 738.0
    for number, page in enumerate(words[:-1], start=1):
        lowest = max(y for y, _ in page if y < bottom + 3)
        assert (bottom - lowest) / (bottom - top) < 1 / 3, f"page {number} is a third blank"


def with_moments(folder: Path, count: int) -> Organization:
    """The small clinic, its laboratory technician (no feedback questions) with `count`
    moments of truth: the moments table is the last thing before the sign-off."""
    shutil.copytree(DATA / "small-clinic", folder)
    path = folder / "roles" / "lab-technician.yaml"
    moments = "".join(
        f"  - moment: Moment {number} of the day\n"
        f"    practice: Greet the patient by name and say what happens next ({number}).\n"
        for number in range(1, count + 1)
    )
    path.write_text(
        path.read_text().split("moments_of_truth:")[0] + "moments_of_truth:\n" + moments
    )
    return load_workbook(folder).organization


def test_the_row_before_the_sign_off_keeps_with_it_when_no_question_precedes_it(
    tmp_path: Path,
) -> None:
    organization = with_moments(tmp_path / "clinic", 3)
    role = organization.role("lab-technician")
    assert role.feedback_questions == ()
    document = docx.Document(io.BytesIO(render_job_aid(organization, role)))
    moments = next(t for t in document.tables if t.rows[0].cells[0].text == "The moment")
    assert [row.cells[0].text for row in moments.rows[1:]] == [
        "Moment 1 of the day",
        "Moment 2 of the day",
        "Moment 3 of the day",
    ]
    kept = [
        all(p.paragraph_format.keep_with_next for c in row.cells for p in c.paragraphs)
        for row in moments.rows[1:]
    ]
    assert kept == [False, False, True]


def test_a_template_without_a_sign_off_is_left_as_it_is() -> None:
    body = (
        '<w:body xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:p><w:r><w:t>Only text</w:t></w:r></w:p></w:body>"
    )
    assert keep_sign_off_with_what_precedes(body) == body


@pytest.mark.skipif(
    to_pdf.find_soffice() is None or shutil.which("pdftotext") is None,
    reason="LibreOffice or pdftotext is not installed",
)
def test_libreoffice_never_leaves_the_sign_off_alone_after_a_table(tmp_path: Path) -> None:
    # With 4 to 10 moments and no question after them, the sign-off used to move to the
    # next page alone.
    sources = []
    for count in range(3, 12):
        organization = with_moments(tmp_path / f"clinic-{count}", count)
        source = tmp_path / f"moments-{count:02}.docx"
        source.write_bytes(render_job_aid(organization, organization.role("lab-technician")))
        sources.append(source)
    for source, pdf in zip(sources, to_pdf.convert_to_pdf(sources, tmp_path / "pdf"), strict=True):
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        last = [page for page in text.split("\f") if page.strip()][-1]
        assert "Sign-off" in last and "of the day" in last, source.name
