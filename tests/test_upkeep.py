"""Review due dates and vague standards, judged on real workbooks."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path

import pytest

from jobdefs.workbook.load import load_workbook
from jobdefs.workbook.upkeep import add_months, is_vague

ORG = "organization: Tiny Clinic\nexternal_customers:\n  patient:\n    name: Patient\n"


def nurse(standard: str = "Given before the patient leaves.", reviewed: str = "") -> str:
    return (
        "title: Nurse\ndepartment: Nursing\npurpose: Patients go home able to cope.\n"
        + (f"reviewed: {reviewed}\n" if reviewed else "")
        + "products:\n  - name: Discharge instructions\n    customers:\n"
        "      - external: patient\n        need: Plain steps.\n"
        f"        standard: {standard}\n"
    )


@pytest.mark.parametrize(
    ("standard", "vague"),
    [
        ("Promptly", True),
        ("As soon as possible", True),
        ("High quality", True),
        ("In a timely manner", True),
        ("Accurate and professional", True),
        ("Within 30 minutes of the order", False),
        ("Promptly, within 15 minutes", False),
        ("100% labelled with two identifiers", False),
        ("Every shift", False),
        ("Daily by 08:00", False),
        ("Same day", False),
        ("Good quality, checked twice", False),
        ("Ordered electronically with a diagnosis code", False),
        ("Recorded before the physician enters the room", False),
    ],
)
def test_vague_standards_name_nothing_to_measure(standard: str, vague: bool) -> None:
    assert is_vague(standard) is vague


def test_a_vague_standard_is_a_warning_with_a_rewrite_pattern(
    make_workbook: Callable[..., Path],
) -> None:
    root = make_workbook({"jobdefs.yaml": ORG, "roles/nurse.yaml": nurse("Promptly")})
    [finding] = load_workbook(root).findings
    # It points at the standard itself, not at the customer it belongs to.
    assert (finding.code, finding.severity, finding.line, finding.column) == (
        "vague-standard",
        "warning",
        9,
        9,
    )
    assert finding.key_path == "products[0].customers[0].standard"
    assert "'Within 30 minutes of the order'" in finding.message


def test_the_vague_standard_warning_can_be_switched_off(
    make_workbook: Callable[..., Path],
) -> None:
    config = ORG + "warnings:\n  vague-standard: false\n"
    root = make_workbook({"jobdefs.yaml": config, "roles/nurse.yaml": nurse("Promptly")})
    assert load_workbook(root).findings == ()


def test_an_unknown_warning_code_is_an_unknown_key(make_workbook: Callable[..., Path]) -> None:
    config = ORG + "warnings:\n  vague-standards: false\n"
    root = make_workbook({"jobdefs.yaml": config, "roles/nurse.yaml": nurse()})
    [finding] = load_workbook(root).findings
    assert (finding.code, finding.file, finding.line) == ("unknown-key", "jobdefs.yaml", 6)
    assert "did you mean 'vague-standard'?" in finding.message


@pytest.mark.parametrize(
    ("reviewed", "today", "due"),
    [
        ("2025-11-23", "2026-11-22", False),
        ("2025-11-23", "2026-11-23", True),
        ("2024-02-29", "2025-02-27", False),
        ("2024-02-29", "2025-02-28", True),
        ("", "2026-01-01", True),
    ],
)
def test_review_due_on_both_sides_of_the_line(
    make_workbook: Callable[..., Path], reviewed: str, today: str, due: bool
) -> None:
    config = ORG + "review_every_months: 12\n"
    root = make_workbook({"jobdefs.yaml": config, "roles/nurse.yaml": nurse(reviewed=reviewed)})
    findings = load_workbook(root, review_date=datetime.date.fromisoformat(today)).findings
    assert [f.code for f in findings] == (["review-due"] if due else [])


def test_review_dates_follow_source_date_epoch(
    make_workbook: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = ORG + "review_every_months: 12\n"
    root = make_workbook({"jobdefs.yaml": config, "roles/nurse.yaml": nurse(reviewed="2020-01-01")})
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1588291200")  # 2020-05-01
    assert load_workbook(root).findings == ()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1609459200")  # 2021-01-01
    [finding] = load_workbook(root).findings
    assert finding.message == (
        "Nurse was last reviewed on 2020-01-01 and was due again on 2021-01-01 (every 12 "
        "months): review it and update 'reviewed:'"
    )


def test_without_a_review_cycle_no_role_is_due(make_workbook: Callable[..., Path]) -> None:
    root = make_workbook({"jobdefs.yaml": ORG, "roles/nurse.yaml": nurse()})
    assert load_workbook(root, review_date=datetime.date(2099, 1, 1)).findings == ()


@pytest.mark.parametrize("typed", ["2026-02-30", "2026-2-3", "03/02/2026", "yesterday"])
def test_an_invalid_review_date_names_the_expected_form(
    make_workbook: Callable[..., Path], typed: str
) -> None:
    root = make_workbook({"jobdefs.yaml": ORG, "roles/nurse.yaml": nurse(reviewed=typed)})
    [finding] = load_workbook(root).findings
    assert (finding.code, finding.line) == ("wrong-type", 4)
    assert "YYYY-MM-DD" in finding.message


def test_add_months_clamps_to_the_end_of_the_month() -> None:
    assert add_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert add_months(datetime.date(2026, 11, 30), 14) == datetime.date(2028, 1, 30)


def test_the_job_aid_footer_shows_the_last_review(make_workbook: Callable[..., Path]) -> None:
    import io

    from docx import Document

    from jobdefs.documents.job_aid import render_job_aid

    root = make_workbook({"jobdefs.yaml": ORG, "roles/nurse.yaml": nurse(reviewed="2026-03-01")})
    organization = load_workbook(root).organization
    document = Document(io.BytesIO(render_job_aid(organization, organization.role("nurse"))))
    footer = document.sections[0].footer.paragraphs[0].text
    assert footer.startswith("Source: roles/nurse.yaml · reviewed 2026-03-01\tPage ")
