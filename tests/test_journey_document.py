"""The journey document: a swimlane a person can read and print, then the steps as a table."""

from __future__ import annotations

import datetime
import io
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from libreoffice import convert, needs_soffice, pdf_text

from jobdefs.documents.journey_document import band_height_cm, bands, journey_document, lanes_of
from jobdefs.documents.journey_steps import StepFigures, roll, share_text
from jobdefs.feedback.scoring import percent
from jobdefs.model import Journey, Organization
from jobdefs.workbook.load import load_workbook

REPO = Path(__file__).parent.parent
MOMENT = datetime.datetime(2026, 3, 1, 9, 30)
HOSTILE = '=HYPERLINK("http://x.invalid") {{ 7*7 }} <b>&amp;</b> café'


def example() -> Organization:
    workbook = load_workbook(REPO)
    assert not workbook.findings
    return workbook.organization


def journey(organization: Organization, journey_id: str) -> Journey:
    return next(j for j in organization.journeys if j.id == journey_id)


def opened(data: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(data))


def lane_tables(document: docx.document.Document) -> list[docx.table.Table]:
    return [t for t in document.tables if t.rows[0].cells[0].text == "Department"]


def grid(table: docx.table.Table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def test_the_swimlane_has_the_customer_on_top_then_a_lane_per_role_by_department() -> None:
    organization = example()
    visit = journey(organization, "emergency-visit")
    document = opened(journey_document(organization, visit, MOMENT))
    first = grid(lane_tables(document)[0])
    assert first[0][:3] == ["Department", "Role", "Step 1"]
    assert first[1][:2] == ["Patient", "Patient"]  # the customer's lane, its label merged
    assert first[2][0].startswith("line of visibility · above: what the patient sees")
    assert [(row[0], row[1]) for row in first[3:]] == [
        ("Patient Access", "Registration Clerk"),
        ("Emergency Department", "Emergency Department Triage Nurse"),
        ("Emergency Department", "Emergency Physician"),  # one department cell down both
        ("Laboratory", "Phlebotomist"),
        ("Laboratory", "Medical Laboratory Technologist"),
        ("Medical Imaging", "Radiologic Technologist"),
        ("Medical Imaging", "Radiologist"),
    ]
    # Step 1: the clerk hands the wristband up to the patient; step 2 down to triage.
    assert first[3][2] == "1  Patient identification wristband"
    assert first[1][2] == "▲ 1"
    assert first[3][3] == "2  Registered patient account"
    assert first[4][3] == "▼ 2"


def test_every_step_appears_once_in_order_across_bands_that_wrap() -> None:
    organization = example()
    stay = journey(organization, "hospital-stay")
    assert len(stay.steps) == 16
    assert [len(band) for band in bands(roll(stay, {}).steps)] == [6, 6, 4]
    document = opened(journey_document(organization, stay, MOMENT))
    tables = lane_tables(document)
    assert len(tables) == 3
    headers = [text for table in tables for text in grid(table)[0][2:]]
    assert headers == [f"Step {n}" for n in range(1, 17)]
    products = [
        text.split("  ", 1)[1]
        for table in tables
        for row in grid(table)[3:]
        for text in row[2:]
        if text[:1].isdigit()
    ]
    # A cell holds a step's product where its supplier's lane meets its column: read in
    # order of columns, not lanes, every product shows up, each in its own column.
    assert sorted(products) == sorted(s.product for s in stay.steps)


def test_the_steps_table_reads_supplier_product_customer_need_and_standard() -> None:
    organization = example()
    visit = journey(organization, "emergency-visit")
    document = opened(journey_document(organization, visit, MOMENT))
    steps = document.tables[-1]
    rows = grid(steps)
    assert rows[0] == ["Step", "Supplier", "Product", "Customer", "Need", "Standard"]
    assert len(rows) == 1 + len(visit.steps)
    for row, step in zip(rows[1:], visit.steps, strict=True):
        assert step.handoff is not None
        assert row[1] == f"{step.handoff.supplier.title}\n{step.handoff.supplier.department}"
        assert row[2] == step.handoff.product
        assert row[4] == step.handoff.need
        assert row[5] == step.handoff.standard
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Emergency visit, from arrival to home" in text
    assert "Riverbend Community Hospital · for the patient" in text
    assert "Rolled share met" not in text  # no figures, no scores


def test_landscape_and_no_text_below_eight_points() -> None:
    organization = example()
    document = opened(
        journey_document(organization, journey(organization, "hospital-stay"), MOMENT)
    )
    section = document.sections[0]
    assert section.page_width > section.page_height
    sizes = {
        run.font.size.pt
        for table in document.tables
        for row in table.rows
        for cell in row.cells
        for paragraph in cell.paragraphs
        for run in paragraph.runs
        if run.font.size is not None
    }
    assert sizes and min(sizes) >= 8


def test_it_looks_like_a_job_aid_with_its_pages_numbered() -> None:
    """One named face for every style (not the theme's, which LibreOffice prints in a
    serif), black headings, whose it is at the top of each page and its number below."""
    organization = example()
    visit = journey(organization, "emergency-visit")
    document = opened(journey_document(organization, visit, MOMENT))
    for name in ("Normal", "Title", "Heading 1", "Heading 2"):
        fonts = document.styles[name].element.rPr.rFonts
        assert dict(fonts.attrib) == {
            f"{{http://schemas.openxmlformats.org/wordprocessingml/2006/main}}{script}": "Arial"
            for script in ("ascii", "hAnsi", "eastAsia", "cs")
        }, name
    assert str(document.styles["Heading 2"].font.color.rgb) == "000000"
    section = document.sections[0]
    assert section.header.paragraphs[0].text == f"{organization.name}\t{visit.title}"
    footer = section.footer.paragraphs[0]._p.xml
    assert footer.count("<w:instrText") == 2
    assert " PAGE " in footer and " NUMPAGES " in footer
    assert section.footer.paragraphs[0].text == "Page 1 of 1"  # until a reader fills them
    legend = next(p.text for p in document.paragraphs if p.text.startswith("Each column"))
    assert "a thin │ the lanes it passes on the way" in legend


def test_the_same_journey_gives_the_same_bytes() -> None:
    organization = example()
    visit = journey(organization, "outpatient-imaging")
    assert journey_document(organization, visit, MOMENT) == journey_document(
        organization, visit, MOMENT
    )


def test_figures_give_each_step_its_share_and_the_journey_its_rolled_share() -> None:
    organization = example()
    visit = journey(organization, "emergency-visit")
    shares = [0.9, 0.8, 0.5, 1.0]
    internal = [s.handoff for s in visit.steps if s.handoff and s.handoff.customer.kind == "role"]
    figures = {h.id: StepFigures(share, 4) for h, share in zip(internal, shares, strict=False)}
    document = opened(journey_document(organization, visit, MOMENT, figures))
    text = "\n".join(p.text for p in document.paragraphs)
    # 0.9 × 0.8 × 0.5 × 1.0 = 0.36, over the 4 of the 8 internal steps that have answers.
    assert "Rolled share met: 36%, the product of the shares met of 4 of the 8 steps" in text
    assert f"Weakest step: step {visit.steps.index(_step_of(visit, internal[2])) + 1}, " in text
    assert "No answers yet, not counted: step " in text
    assert "Steps 1, 3, 11 hand something to someone outside" in text
    rows = grid(document.tables[-1])
    assert rows[0][-2:] == ["Share met", "Answers"]
    assert [row[-2] for row in rows[1:5]] == ["outside", "90%", "outside", "80%"]


def _step_of(journey: Journey, handoff: object) -> object:
    return next(s for s in journey.steps if s.handoff is handoff)


def test_role_text_is_shown_as_written(make_workbook: Callable[..., Path]) -> None:
    root = make_workbook(
        {
            "jobdefs.yaml": "organization: Tiny <Clinic> & Co\n"
            "external_customers:\n  patient:\n    name: Patient\n",
            "roles/clerk.yaml": "title: 'Clerk {{ 7*7 }}'\ndepartment: 'Front & <Desk>'\n"
            "purpose: Register.\nproducts:\n  - name: Registered visit\n    customers:\n"
            f"      - role: nurse\n        need: '{HOSTILE}'\n"
            "      - external: patient\n        need: A wristband.\n",
            "roles/nurse.yaml": "title: Nurse\ndepartment: Ward\npurpose: Care.\n"
            "products:\n  - name: Discharge instructions\n    customers:\n"
            "      - external: patient\n        need: To know what to do at home.\n",
            "journeys/visit.yaml": "title: '{% if x %}A visit{% endif %}'\ncustomer: patient\n"
            "steps:\n  - from: clerk\n    product: Registered visit\n    to: nurse\n"
            "  - from: nurse\n    product: Discharge instructions\n    to: patient\n",
        }
    )
    workbook = load_workbook(root)
    assert not [f for f in workbook.findings if f.is_error]
    organization = workbook.organization
    document = opened(journey_document(organization, organization.journeys[0], MOMENT))
    assert document.paragraphs[0].text == "{% if x %}A visit{% endif %}"
    assert document.core_properties.title == "Tiny <Clinic> & Co: {% if x %}A visit{% endif %}"
    lanes = grid(lane_tables(document)[0])
    assert lanes[3][:2] == ["Front & <Desk>", "Clerk {{ 7*7 }}"]
    assert grid(document.tables[-1])[1][4] == HOSTILE


def test_a_long_band_is_taller_than_a_short_one() -> None:
    organization = example()
    stay = journey(organization, "hospital-stay")
    lanes = lanes_of(organization, stay)
    first, *_ = bands(roll(stay, {}).steps)
    assert band_height_cm(lanes, first, True) > band_height_cm(lanes[:3], first[:1], False)


@pytest.mark.parametrize("value", [0.0, 0.005, 0.125, 0.355, 0.735, 0.995, 1.0, None])
def test_shares_read_as_the_scorecard_shows_them(value: float | None) -> None:
    assert share_text(value) == percent(value)


@needs_soffice
def test_libreoffice_prints_the_journey_in_landscape(tmp_path: Path) -> None:
    organization = example()
    path = tmp_path / "emergency-visit.docx"
    path.write_bytes(
        journey_document(organization, journey(organization, "emergency-visit"), MOMENT)
    )
    convert([path], tmp_path, tmp_path / "profile", timeout=300)
    pdf = tmp_path / "emergency-visit.pdf"
    assert pdf.stat().st_size > 1000
    if shutil.which("pdftotext"):
        text = pdf_text(pdf)
        assert "line of visibility" in text
        assert "Phlebotomist" in text
        pages = text.count("\f")
        assert pages > 1 and f"Page {pages} of {pages}" in text  # numbered as laid out
    if shutil.which("pdfinfo"):
        info = subprocess.run(
            ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True
        ).stdout
        assert "Page size:       792 x 612 pts" in info  # US Letter, landscape


def test_a_role_knows_the_journeys_and_steps_it_takes_part_in() -> None:
    from jobdefs.documents.journey_steps import role_steps

    organization = example()
    found = [(j.id, steps) for j, steps in role_steps(organization.journeys, "ed-physician")]
    assert found == [("emergency-visit", (4, 5, 7, 8, 10, 11)), ("hospital-stay", (2, 3))]
    assert role_steps(organization.journeys, "patient") == []  # an external id is no role
