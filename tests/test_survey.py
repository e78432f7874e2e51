"""Customer surveys: the workbook and card a person fills in, read back as written."""

from __future__ import annotations

import datetime
from pathlib import Path

import docx
import openpyxl
import pytest
from click.testing import CliRunner

from jobdefs.cli import cli
from jobdefs.feedback import survey, survey_round
from jobdefs.feedback.survey import SurveyError
from jobdefs.workbook.load import load_workbook

CLINIC = Path(__file__).parent / "data" / "survey-clinic"
MOMENT = datetime.datetime(2025, 3, 1)
HEADERS = [
    "Supplier",
    "Supplier department",
    "Product",
    "Need (as the supplier wrote it)",
    "Standard",
    "Answer",
    "Rating",
    "Comment",
    "Hand-off id",
    "Fingerprint",
]


def make(output: Path, **options: object) -> survey.SurveyReport:
    return survey_round.make_surveys(
        load_workbook(CLINIC), output_dir=output, moment=MOMENT, **options
    )  # type: ignore[arg-type]


def header_row(sheet: object) -> int:
    for row in range(1, 30):
        if sheet.cell(row, 9).value == "Hand-off id":  # type: ignore[attr-defined]
            return row
    raise AssertionError("no header row")


def test_a_round_has_a_survey_per_customer_role_and_a_card_per_role_serving_outside(
    tmp_path: Path,
) -> None:
    report = make(tmp_path)
    folder = tmp_path / "surveys" / "round-1"
    assert report.folder == folder
    assert report.surveys == ["lab-tech.xlsx", "phlebotomist.xlsx", "physician.xlsx"]
    assert report.cards == [
        "coder-patient-questions.docx",
        "phlebotomist-patient-questions.docx",
        "physician-patient-questions.docx",
    ]
    assert report.skipped == []
    assert sorted(p.name for p in folder.iterdir()) == sorted(report.surveys + report.cards)


def test_a_survey_lists_what_the_role_receives_with_need_standard_and_id(tmp_path: Path) -> None:
    make(tmp_path)
    organization = load_workbook(CLINIC).organization
    book = openpyxl.load_workbook(tmp_path / "surveys" / "round-1" / "phlebotomist.xlsx")
    sheet = book["Survey"]
    top = header_row(sheet)
    assert [c.value for c in sheet[top]] == HEADERS
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=top + 1)]
    lab_order = next(
        h for h in organization.handoffs_to("phlebotomist") if h.product == "Lab order"
    )
    notice = next(
        h
        for h in organization.handoffs_to("phlebotomist")
        if h.product == "Specimen rejection notice"
    )
    assert rows == [
        [
            "Laboratory Technologist",
            "Laboratory",
            "Specimen rejection notice",
            "Know at once when a tube is rejected, and why.",
            None,
            None,
            None,
            None,
            notice.id,
            notice.fingerprint,
        ],
        [
            "Physician",
            "Medicine",
            "Lab order",
            "The right test for the right patient.",
            "Signed before 6 a.m.",
            None,
            None,
            None,
            lab_order.id,
            lab_order.fingerprint,
        ],
    ]
    # The plain-words block above the table says what to do.
    above = " ".join(str(sheet.cell(r, 1).value) for r in range(1, top))
    assert "Is your need met? Phlebotomist" in above
    assert "Met, Partly met, Not met, or Don't receive it" in above
    assert "from 1 (poor) to 5 (excellent)" in above
    assert "no password is needed" in above


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    make(tmp_path)
    book = openpyxl.load_workbook(tmp_path / "surveys" / "round-1" / "lab-tech.xlsx")
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    need = next(c for c in cells if str(c.value).startswith("=SUM"))
    assert need.value == "=SUM(1,2) stays text: two identifiers on every tube."
    assert need.data_type == "s"
    assert need.quotePrefix


def test_only_the_answer_cells_can_be_changed_and_no_password_is_needed(tmp_path: Path) -> None:
    make(tmp_path)
    book = openpyxl.load_workbook(tmp_path / "surveys" / "round-1" / "lab-tech.xlsx")
    sheet = book["Survey"]
    assert sheet.protection.sheet is True
    assert not sheet.protection.password
    top = header_row(sheet)
    for row in (top + 1, top + 2):
        unlocked = [c.column_letter for c in sheet[row] if not c.protection.locked]
        assert unlocked == ["F", "G", "H"]
    assert sheet.cell(1, 1).protection.locked

    validations = {v.type: v for v in sheet.data_validations.dataValidation}
    answers, ratings = validations["list"], validations["whole"]
    assert answers.formula1 == '"Met,Partly met,Not met,Don\'t receive it"'
    assert str(answers.sqref) == f"F{top + 1}:F{top + 2}"
    assert (ratings.operator, ratings.formula1, ratings.formula2) == ("between", "1", "5")
    assert str(ratings.sqref) == f"G{top + 1}:G{top + 2}"
    assert answers.showErrorMessage and ratings.showErrorMessage


def test_a_survey_prints_on_one_page_width_with_the_ids_trailing(tmp_path: Path) -> None:
    make(tmp_path)
    book = openpyxl.load_workbook(tmp_path / "surveys" / "round-1" / "lab-tech.xlsx")
    sheet = book["Survey"]
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.column_dimensions["J"].hidden  # the fingerprint: for the tool, not people
    # The id and fingerprint stay off paper; the page says whose survey it is.
    top = header_row(sheet)
    last = max(r for r in range(top + 1, sheet.max_row + 1) if sheet.cell(r, 9).value)
    assert sheet.print_area == f"'Survey'!$A$1:$H${last}"
    assert sheet.print_title_rows == f"${top}:${top}"
    assert sheet.oddHeader.right.text == "Survey: Laboratory Technologist"
    assert sheet.oddFooter.center.text == "Page &P of &N"
    # Every cell names its font, and the header row is tall enough for its wrapped words.
    fonts = {c.font.name for row in sheet.iter_rows() for c in row if c.value is not None}
    assert fonts == {"Calibri"}
    assert sheet.row_dimensions[top].height >= 2 * 15  # "Supplier department" on two lines
    assert book["About"].sheet_state == "hidden"
    about = {
        r[0].value: r[1].value for r in book["About"].iter_rows() if r[0].value != "Hand-off id"
    }
    assert about["Round"] == "round-1"
    assert about["Role id"] == "lab-tech"


def test_the_same_inputs_give_the_same_bytes(tmp_path: Path) -> None:
    make(tmp_path / "a")
    make(tmp_path / "b")
    first = tmp_path / "a" / "surveys" / "round-1"
    second = tmp_path / "b" / "surveys" / "round-1"
    for path in first.iterdir():
        assert path.read_bytes() == (second / path.name).read_bytes(), path.name


def test_an_answered_round_is_never_replaced_without_force(tmp_path: Path) -> None:
    make(tmp_path)
    answered = tmp_path / "surveys" / "round-1" / "physician.xlsx"
    book = openpyxl.load_workbook(answered)
    book["Survey"].cell(header_row(book["Survey"]) + 1, 6).value = "Met"
    book.save(answered)
    kept = answered.read_bytes()

    with pytest.raises(SurveyError) as raised:
        make(tmp_path)
    assert str(raised.value) == (
        f"round 'round-1' already has surveys in {tmp_path / 'surveys' / 'round-1'} "
        "(lab-tech.xlsx and 5 more), and they may hold answers already. Start a new round "
        "with --round round-2, or pass --force to replace them"
    )
    assert answered.read_bytes() == kept

    make(tmp_path, round_label="round-2")  # a new round sits beside the old one
    assert answered.read_bytes() == kept
    make(tmp_path, force=True)
    assert answered.read_bytes() != kept
    assert not [p for p in answered.parent.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    "label",
    [
        "",
        "../x",
        "a/b",
        "a\\b",
        ".hidden",
        "x.",
        "a..b",
        "con",
        "LPT1.txt",
        "x" * 65,
        "round 1",
        "-x",
    ],
)
def test_a_round_label_must_be_a_safe_folder_name(label: str) -> None:
    with pytest.raises(SurveyError, match="cannot be a folder name"):
        survey.validate_round(label)


@pytest.mark.parametrize("label", ["round-1", "2025-q1", "2025.03", "R_2", "x" * 64])
def test_good_round_labels(label: str) -> None:
    assert survey.validate_round(label) == label


def test_roles_and_departments_select_who_is_surveyed(tmp_path: Path) -> None:
    report = make(tmp_path, roles=["physician", "coder"], departments=["  laboratory "])
    assert report.surveys == ["lab-tech.xlsx", "phlebotomist.xlsx", "physician.xlsx"]
    report = make(tmp_path, round_label="r2", roles=["coder"])
    assert (report.surveys, report.cards) == ([], ["coder-patient-questions.docx"])

    with pytest.raises(
        SurveyError, match="no role 'phlebotomst' in this workbook; did you mean 'phlebotomist'"
    ):
        make(tmp_path, round_label="r3", roles=["phlebotomst"])
    with pytest.raises(SurveyError, match=r"no department 'Laboratry'.*did you mean 'Laboratory'"):
        make(tmp_path, round_label="r3", departments=["Laboratry"])
    assert not (tmp_path / "surveys" / "r3").exists()


def card_rows(path: Path) -> list[list[str]]:
    [table] = docx.Document(str(path)).tables
    return [[cell.text for cell in row.cells] for row in table.rows]


def test_a_card_asks_the_roles_feedback_questions_with_an_answer_scale(tmp_path: Path) -> None:
    make(tmp_path)
    folder = tmp_path / "surveys" / "round-1"
    assert card_rows(folder / "physician-patient-questions.docx") == [
        ["Question", "Yes", "Partly", "No"],
        ["Do you understand your diagnosis?", "☐", "☐", "☐"],
        ["Do you know what to do at home?", "☐", "☐", "☐"],
    ]
    text = "\n".join(
        p.text for p in docx.Document(str(folder / "physician-patient-questions.docx")).paragraphs
    )
    assert "Survey Test Clinic · Physician · Medicine" in text
    assert "For: Patient" in text
    assert "Anything else you would like to tell us?" in text


def test_without_questions_a_card_asks_about_the_external_customers_needs(tmp_path: Path) -> None:
    make(tmp_path)
    folder = tmp_path / "surveys" / "round-1"
    assert card_rows(folder / "phlebotomist-patient-questions.docx")[1:] == [
        ["Did we help you know why blood is taken?", "☐", "☐", "☐"],
    ]
    assert card_rows(folder / "coder-patient-questions.docx")[1:] == [
        ["Did we meet this need: “Codes that match the record”?", "☐", "☐", "☐"],
    ]


def test_cli_survey_writes_a_round_and_refuses_to_overwrite_it(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["survey", "--workbook", str(CLINIC), "--output", str(tmp_path), "--round", "2025-q1"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"{tmp_path / 'surveys' / '2025-q1'}: wrote 3 surveys and 3 question cards\n"
    )
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: round '2025-q1' already has surveys in ")
    assert "--round 2025-q2" in result.stderr
    result = runner.invoke(cli, [*args, "--force"])
    assert result.exit_code == 0

    result = runner.invoke(
        cli, ["survey", "-w", str(CLINIC), "-o", str(tmp_path), "--round", "../up"]
    )
    assert result.exit_code == 1
    assert "cannot be a folder name" in result.stderr
    assert not (tmp_path / "up").exists()


@pytest.mark.parametrize(
    ("label", "said"),
    [("round-1", "round 1"), ("Round_7", "round 7"), ("2025-q2", "round 2025-q2")],
)
def test_a_round_is_named_once_on_what_people_read(tmp_path: Path, label: str, said: str) -> None:
    make(tmp_path, round_label=label)
    folder = tmp_path / "surveys" / label
    sheet = openpyxl.load_workbook(folder / "lab-tech.xlsx")["Survey"]
    assert f"· survey {said} ·" in sheet["A2"].value
    card = docx.Document(str(folder / "phlebotomist-patient-questions.docx"))
    footers = [p.text for p in card.paragraphs if p.text.startswith("Thank you.")]
    assert footers and all(f"(Survey {said} · Phlebotomist)" in text for text in footers)
    everything = sheet["A2"].value + " ".join(footers)
    assert "round round" not in everything.lower() and "phlebotomist)" not in everything
