"""Reviewed workbooks read back: sorted, filtered, deleted rows, stale and suspect answers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook as open_xlsx

from jobdefs.build.run import build
from jobdefs.cli import cli
from jobdefs.feedback.review import read_answers, review
from jobdefs.workbook.load import load_workbook

CHAIN = Path(__file__).parent / "data" / "chain"


@pytest.fixture
def built(tmp_path: Path) -> Path:
    root = tmp_path / "chain"
    shutil.copytree(CHAIN, root)
    build(load_workbook(root), jobs=1)
    return root


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def header_row(sheet: Any) -> tuple[int, list[Any]]:
    """The number and cells of the header row: row 1, or below a review form's title."""
    for number in range(1, 11):
        cells = [c.value for c in sheet[number]]
        if "Hand-off id" in cells:
            return number, cells
    raise AssertionError("no header row")


def answer(
    path: Path,
    answers: dict[str, tuple[str, str, str]],
    *,
    reverse: bool = False,
    delete_product: str = "",
) -> None:
    """Fill in Status/Reviewer/Comment by product name, as a department head would."""
    book = open_xlsx(path)
    sheet = book["Hand-offs"]
    top, header = header_row(sheet)
    product, status = header.index("Product"), header.index("Status")
    rows = [list(r) for r in sheet.iter_rows(min_row=top + 1, values_only=True)]
    if reverse:
        rows.reverse()
    rows = [r for r in rows if r[product] != delete_product]
    for row in rows:
        if row[product] in answers:
            row[status : status + 3] = answers[row[product]]
    sheet.delete_rows(top + 1, sheet.max_row)
    for row in rows:
        sheet.append(row)
    book.save(path)


def test_answers_are_matched_by_id_whatever_the_row_order(built: Path) -> None:
    matrix = built / "build" / "internal-customer-matrix.xlsx"
    answer(
        matrix,
        {
            "Verified result": ("agreed", "Dr Ames", ""),
            "Lab order": ("Needs change", "Kim", "Add the clinical question"),
        },
        reverse=True,
        delete_product="Coded claim",
    )
    result = review(load_workbook(built).organization, [matrix])
    assert [(h.product, a.status, a.reviewer) for h, a in result.current] == [
        ("Verified result", "Agreed", "Dr Ames"),
        ("Lab order", "Needs change", "Kim"),
    ]
    assert result.stale == [] and result.suspect == []
    assert {h.product for h in result.unanswered} == {
        "Coded claim",
        "Labelled specimen",
        "Treatment plan",
    }


def test_a_changed_hand_off_makes_its_answer_suspect_and_a_removed_one_stale(
    built: Path,
) -> None:
    matrix = built / "build" / "internal-customer-matrix.xlsx"
    answer(
        matrix,
        {
            "Verified result": ("Agreed", "Dr Ames", ""),
            "Coded claim": ("Agreed", "Lee", ""),
            "Labelled specimen": ("Not needed", "Kim", ""),
        },
    )
    lab = built / "roles" / "lab-tech.yaml"
    lab.write_text(lab.read_text().replace("Within 60 minutes.", "Within 45 minutes."))
    coder = built / "roles" / "coder.yaml"
    coder.write_text(coder.read_text().replace("Coded claim", "Coded insurance claim"))
    result = review(load_workbook(built).organization, [matrix])
    assert [(h.product, a.status) for h, a in result.suspect] == [("Verified result", "Agreed")]
    assert [(a.status, a.reviewer) for a in result.stale] == [("Agreed", "Lee")]
    assert [(h.product, a.status) for h, a in result.current] == [
        ("Labelled specimen", "Not needed")
    ]


def test_cli_summary_lists_every_needs_change_and_fails_on_request(built: Path) -> None:
    department = built / "build" / "departments" / "laboratory.xlsx"
    answer(
        department,
        {"Verified result": ("Needs change", "Dr Ames", '=HYPERLINK("http://x","faster please")')},
    )
    status, out, _ = run("review", "-w", str(built), str(department))
    assert status == 0
    assert (
        "Needs change:\n  Laboratory Technologist → 'Verified result' → Physician "
        '(Dr Ames): =HYPERLINK("http://x","faster please")\n' in out
    )
    assert run("review", "-w", str(built), str(department), "--fail-on", "needs-change")[0] == 1
    status, out, _ = run("review", "-w", str(built), str(department), "--format", "json")
    document = json.loads(out)
    assert [(a["product"], a["status"]) for a in document["current"]] == [
        ("Verified result", "Needs change")
    ]
    status, out, _ = run("review", "-w", str(built), str(department), "--format", "markdown")
    assert "### Needs change" in out


def test_an_unknown_status_is_a_note_not_an_answer(built: Path) -> None:
    matrix = built / "build" / "internal-customer-matrix.xlsx"
    answer(matrix, {"Verified result": ("Maybe", "", "")})
    notes: list[str] = []
    assert read_answers(matrix, notes) == []
    assert "the status 'Maybe' is not one of Agreed, Needs change, Not needed" in notes[0]


def test_a_foreign_or_corrupt_file_is_a_clear_error(built: Path, tmp_path: Path) -> None:
    from openpyxl import Workbook

    foreign = tmp_path / "budget.xlsx"
    book = Workbook()
    book.active.append(["Item", "Cost"])
    book.save(foreign)
    status, _, err = run("review", "-w", str(built), str(foreign))
    assert status == 1
    assert "is not a jobdefs review workbook" in err and "Traceback" not in err
    corrupt = tmp_path / "corrupt.xlsx"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    status, _, err = run("review", "-w", str(built), str(corrupt))
    assert status == 1
    assert f"Error: {corrupt}: not a readable workbook: it is not a zip package" in err


def test_build_with_reviews_carries_answers_and_blanks_suspect_ones(built: Path) -> None:
    reviewed = built / "reviewed.xlsx"
    shutil.copy(built / "build" / "internal-customer-matrix.xlsx", reviewed)
    answer(
        reviewed,
        {
            "Verified result": ("Agreed", "Dr Ames", "Fine"),
            "Lab order": ("Needs change", "Kim", "Add the question"),
        },
        reverse=True,
    )
    physician = built / "roles" / "physician.yaml"
    physician.write_text(
        physician.read_text().replace(
            "The right test for the right patient.", "The right test, ordered once."
        )
    )
    status, _, err = run("build", "-w", str(built), "--reviews", str(reviewed))
    assert status == 0, err
    for path in (
        built / "build" / "internal-customer-matrix.xlsx",
        built / "build" / "departments" / "laboratory.xlsx",
    ):
        sheet = open_xlsx(path)["Hand-offs"]
        top, header = header_row(sheet)
        rows = {
            row[header.index("Product")]: row
            for row in sheet.iter_rows(min_row=top + 1, values_only=True)
        }
        status_at, note_at = header.index("Status"), header.index("Review note")
        assert rows["Verified result"][status_at : status_at + 3] == ("Agreed", "Dr Ames", "Fine")
        assert rows["Verified result"][note_at] is None
        assert rows["Lab order"][status_at : status_at + 3] == (None, None, None)
        # The reviewer's comment is kept in the note: what they asked for is not lost.
        assert rows["Lab order"][note_at] == (
            "Changed since it was reviewed (then: Needs change, Kim, comment: Add the "
            "question): review it again"
        )
        assert rows["Labelled specimen"][status_at] is None
    # Only answers to the same hand-off are carried: ids in the new file match the old.
    again = review(
        load_workbook(built).organization, [built / "build" / "internal-customer-matrix.xlsx"]
    )
    assert [(h.product, a.status) for h, a in again.current] == [("Verified result", "Agreed")]


def test_a_build_without_reviews_after_one_with_them_drops_the_answers(
    built: Path, tmp_path: Path
) -> None:
    """As builds run, with the build cache: the answers a build carried are not kept by the
    next build, which is given none."""
    reviewed = built / "reviewed.xlsx"
    shutil.copy(built / "build" / "internal-customer-matrix.xlsx", reviewed)
    answer(reviewed, {"Verified result": ("Agreed", "Dr Ames", "Fine")})
    assert run("build", "-w", str(built), "-q", "--reviews", str(reviewed))[0] == 0
    # A build given no reviews says which workbooks lose the answers carried into them.
    status, _, err = run("build", "-w", str(built), "-q")
    assert status == 0
    lost = (
        " carried 1 review answer from a build given --reviews; this build was given none, "
        "so the new one has none: to keep them, build with --reviews and the answered "
        "workbooks\n"
    )
    # The hand-off goes from the laboratory to medicine: both departments' workbooks had it.
    assert err == f"departments/laboratory.xlsx{lost}departments/medicine.xlsx{lost}"
    assert run("build", "-w", str(built), "-q") == (0, "", "")  # said once
    build(load_workbook(built), output_dir=tmp_path / "plain")
    for path in [
        "internal-customer-matrix.xlsx",
        *(f"departments/{p.name}" for p in (built / "build" / "departments").iterdir()),
    ]:
        assert (built / "build" / path).read_bytes() == (tmp_path / "plain" / path).read_bytes()


def test_another_organizations_review_is_named_as_such(built: Path, tmp_path: Path) -> None:
    matrix = built / "build" / "internal-customer-matrix.xlsx"
    answer(matrix, {"Lab order": ("Agreed", "Dana", "")})
    other = tmp_path / "other"
    run("init", str(other), "--organization", "Elsewhere Clinic")
    status, out, err = run("review", str(matrix), "-w", str(other))
    name = load_workbook(built).organization.name
    assert (status, out) == (1, "")
    assert err == (
        f"Error: {matrix}: this workbook was written for another organization ('{name}: "
        "internal-customer matrix'), not Elsewhere Clinic: none of its hand-offs is in this "
        "workbook. Give the reviewed workbooks that 'jobdefs build' wrote for this one\n"
    )


def test_the_summary_table_marks_a_name_it_cuts(tmp_path: Path) -> None:
    run("init", str(tmp_path))  # the billing clerk is in Patient Financial Services
    run("build", "-q", "-w", str(tmp_path))
    matrix = tmp_path / "build" / "internal-customer-matrix.xlsx"
    status, out, _ = run("review", str(matrix), "-w", str(tmp_path))
    assert status == 0
    assert "\nPatient Financial Servi… Billing Clerk " in out


def test_a_department_form_reads_back_as_the_matrix_does(built: Path) -> None:
    """Below its title block, protected, the review form gives the same answers, ids,
    order, stale and suspect answers as the organization's workbook answered alike."""
    answers = {
        "Verified result": ("Agreed", "Dr Ames", ""),
        "Labelled specimen": ("Not needed", "Kim", "We draw our own"),
        "Lab order": ("Needs change", "Lee", "Add the clinical question"),
    }
    matrix = built / "build" / "internal-customer-matrix.xlsx"
    form = built / "build" / "departments" / "laboratory.xlsx"
    assert header_row(open_xlsx(form)["Hand-offs"])[0] > 1  # below the title block
    for path in (matrix, form):
        answer(path, answers, reverse=True)
    lab = built / "roles" / "lab-tech.yaml"
    lab.write_text(lab.read_text().replace("Within 60 minutes.", "Within 45 minutes."))
    phlebotomist = built / "roles" / "phlebotomist.yaml"
    phlebotomist.write_text(phlebotomist.read_text().replace("Labelled specimen", "Tube"))
    organization = load_workbook(built).organization

    def seen(path: Path) -> tuple[list[Any], ...]:
        result = review(organization, [path])
        return (
            [(h.id, h.product, a.status, a.reviewer, a.comment) for h, a in result.current],
            [(h.id, h.product, a.status, a.reviewer) for h, a in result.suspect],
            [(a.handoff_id, a.status, a.reviewer, a.comment) for a in result.stale],
        )

    current, suspect, stale = seen(form)
    assert [row[1:] for row in current] == [
        ("Lab order", "Needs change", "Lee", "Add the clinical question")
    ]
    assert [row[1:] for row in suspect] == [("Verified result", "Agreed", "Dr Ames")]
    assert [row[1:] for row in stale] == [("Not needed", "Kim", "We draw our own")]
    assert seen(matrix) == (current, suspect, stale)
