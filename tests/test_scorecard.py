"""The scorecard: answered surveys read back by hand-off id, and the numbers a person reads."""

from __future__ import annotations

import datetime
import io
import json
import os
import random
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from answering import fill
from click.testing import CliRunner
from libreoffice import convert, needs_soffice

from jobdefs.cli import cli
from jobdefs.feedback import (
    answers,
    role_figures,
    scorecard_text,
    scorecard_workbook,
    scoring,
    survey_round,
)
from jobdefs.feedback.survey import SurveyError
from jobdefs.workbook.load import load_workbook

CLINIC = Path(__file__).parent / "data" / "survey-clinic"
MOMENT = datetime.datetime(2025, 3, 1)
HOSTILE = '=HYPERLINK("http://x","y")'
MARKUP = "Fine | <b>bold</b> @team"
STALE_ID = "H-0000000000"


def sort_descending(sheet: Any, top: int) -> None:
    """Reverse the answer rows, the way sorting Z to A would."""
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=top + 1)]
    for offset, values in enumerate(reversed(rows)):
        for column, value in enumerate(values, 1):
            sheet.cell(top + 1 + offset, column).value = value


@pytest.fixture(scope="module")
def rounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two answered rounds of the clinic's surveys, the second one messy."""
    out = tmp_path_factory.mktemp("rounds")
    workbook = load_workbook(CLINIC)
    for label in ("round-1", "round-2"):
        survey_round.make_surveys(workbook, output_dir=out, round_label=label, moment=MOMENT)
    one, two = out / "surveys" / "round-1", out / "surveys" / "round-2"

    fill(
        one / "phlebotomist.xlsx",
        {
            ("Physician", "Lab order"): ("Not met", 2, "Orders arrive after the round"),
            ("Laboratory Technologist", "Specimen rejection notice"): ("met", 4, None),
        },
    )
    fill(
        one / "lab-tech.xlsx",
        {
            ("Physician", "Lab order"): ("Partly met", 3, None),
            ("Phlebotomist", "Labelled specimen"): ("Met", 5, "Great"),
        },
    )
    fill(
        one / "physician.xlsx",
        {
            ("Laboratory Technologist", "Verified result"): ("Don't receive it", None, None),
        },
    )

    def add_rows(sheet: Any, top: int) -> None:
        sort_descending(sheet, top)
        last = sheet.max_row
        sheet.cell(last + 1, 1).value = "Someone new"  # a row added by hand, without an id
        sheet.cell(last + 1, 6).value = "Met"
        sheet.cell(last + 2, 6).value = "Met"  # an id that no longer exists
        sheet.cell(last + 2, 9).value = STALE_ID

    fill(
        two / "phlebotomist.xlsx",
        {
            ("Physician", "Lab order"): ("  MET ", 4, HOSTILE),
            ("Laboratory Technologist", "Specimen rejection notice"): ("Partly met", "6", None),
        },
        add_rows,
    )

    def delete_specimen_row(sheet: Any, top: int) -> None:
        sheet.delete_rows(
            next(
                r
                for r in range(top + 1, sheet.max_row + 1)
                if sheet.cell(r, 3).value == "Labelled specimen"
            )
        )

    fill(
        two / "lab-tech.xlsx", {("Physician", "Lab order"): ("Met", 5, MARKUP)}, delete_specimen_row
    )
    return out  # physician.xlsx of round 2 is left blank


def surveys_of(rounds: Path, label: str) -> list[Path]:
    folder = rounds / "surveys" / label
    return [folder / name for name in ("phlebotomist.xlsx", "lab-tech.xlsx", "physician.xlsx")]


@pytest.fixture(scope="module")
def card(rounds: Path) -> scoring.Scorecard:
    organization = load_workbook(CLINIC).organization
    return scoring.make_scorecard(
        organization, surveys_of(rounds, "round-2"), surveys_of(rounds, "round-1")
    )


def by_product(card: scoring.Scorecard, supplier: str, product: str) -> scoring.HandOffScore:
    return next(
        h
        for h in card.handoffs
        if (h.handoff.supplier.id, h.handoff.product) == (supplier, product)
    )


def test_answers_are_matched_by_id_however_the_rows_were_edited(card: scoring.Scorecard) -> None:
    orders = {
        h.handoff.customer.id: h.figures for h in card.handoffs if h.handoff.product == "Lab order"
    }
    assert (orders["phlebotomist"].met, orders["phlebotomist"].rating_total) == (1, 4)
    assert (orders["lab-tech"].met, orders["lab-tech"].rating_total) == (1, 5)

    notice = by_product(card, "lab-tech", "Specimen rejection notice").figures
    assert (notice.partly_met, notice.ratings) == (1, 0)  # "6" is not a rating
    specimen = by_product(card, "phlebotomist", "Labelled specimen").figures
    assert (specimen.asked, specimen.responses) == (1, 0)  # its row was deleted
    result = by_product(card, "lab-tech", "Verified result").figures
    assert (result.asked, result.responses, result.no_response) == (1, 0, 1)  # left blank

    notes = [(n.code, Path(n.file).name, n.row) for n in card.notes]
    assert notes == [
        ("bad-rating", "phlebotomist.xlsx", 13),  # the row after sorting
        ("no-id", "phlebotomist.xlsx", 14),
        ("stale-id", "phlebotomist.xlsx", 15),
        ("missing-row", "lab-tech.xlsx", None),
    ]
    stale = next(n for n in card.notes if n.code == "stale-id")
    assert stale.message.startswith(f"hand-off {STALE_ID} is no longer in the workbook")


def test_figures_per_department_and_overall_with_the_change(card: scoring.Scorecard) -> None:
    medicine, laboratory = card.departments[1], card.departments[0]
    assert (laboratory.key, medicine.key) == ("Laboratory", "Medicine")
    assert medicine.figures.share_met == 1.0
    assert medicine.figures.mean_rating == 4.5
    assert medicine.baseline is not None and medicine.baseline.share_met == 0.25
    assert medicine.change == scoring.Change(0.75, 2.0)
    assert laboratory.figures.share_met == 0.5
    assert laboratory.figures.mean_rating is None
    assert laboratory.baseline is not None
    assert (laboratory.baseline.share_met, laboratory.baseline.gaps) == (1.0, 1)

    overall = card.overall.figures
    assert (overall.asked, overall.responses) == (5, 3)
    assert overall.share_met == pytest.approx(2.5 / 3)
    assert card.overall.baseline is not None
    assert card.overall.baseline.share_met == 0.625
    assert scoring.percent(card.overall.baseline.share_met) == "63%"  # halves round up


def test_text_report(card: scoring.Scorecard) -> None:
    text = scorecard_text.as_text(card, 0.8)
    # physician.xlsx of round 2 came back blank: read, and not counted as answered.
    assert "This round: round-2 (3 surveys, 2 answered); baseline: round-1 (3 surveys)" in text
    assert (
        "Overall: 3 of 5 answered · 83% met (+21 pts) · mean rating 4.5 of 5 (+1.0) · 0 gaps"
    ) in text
    lines = text.splitlines()
    assert lines[lines.index("By department (as supplier)") + 2].split() == [
        "Laboratory",
        "1",
        "of",
        "3",
        "50%",
        "−50",
        "pts",
        "–",
        "0",
    ]
    assert f"Physician → Phlebotomist), Met: “{HOSTILE}”" in text
    assert text.rstrip().endswith(
        "1 hand-off below 80% met: Specimen rejection notice "
        "(Laboratory Technologist → Phlebotomist) 50%"
    )


def test_json_report(card: scoring.Scorecard) -> None:
    document = json.loads(scorecard_text.as_json(card, 0.8))
    assert document["rounds"] == ["round-2"]
    assert document["baseline_rounds"] == ["round-1"]
    assert document["scoring"] == {
        "Met": 1.0,
        "Partly met": 0.5,
        "Not met": 0.0,
        "Don't receive it": "gap",
    }
    overall = document["overall"]
    assert (overall["share_met"], overall["mean_rating"], overall["responses"]) == (0.8333, 4.5, 3)
    assert overall["change"] == {"share_met": 0.2083, "mean_rating": 1.0}
    medicine = next(d for d in document["departments"] if d["department"] == "Medicine")
    assert (medicine["share_met"], medicine["baseline"]["share_met"]) == (1.0, 0.25)
    [below] = document["below"]
    notice = next(h for h in document["handoffs"] if h["id"] == below)
    assert notice["product"] == "Specimen rejection notice"
    assert notice["supplier"]["role"] == "lab-tech"
    order = next(
        h for h in document["handoffs"] if h["comments"] and h["comments"][0]["text"] == HOSTILE
    )
    assert order["comments"][0]["answer"] == "Met"
    assert {n["code"] for n in document["notes"]} == {
        "bad-rating",
        "no-id",
        "stale-id",
        "missing-row",
    }


def test_markdown_report_keeps_comments_as_text(card: scoring.Scorecard) -> None:
    text = scorecard_text.as_markdown(card, 0.8)
    assert "| Department | Answered | Share met | Change | Mean rating | Change | Gaps |" in text
    assert "| Medicine | 2 of 2 | 100% | +75 pts | 4.5 | +2.0 | 0 |" in text
    assert "| Laboratory | 1 of 3 | 50% | −50 pts | – |  | 0 |" in text
    assert "**1 hand-off below 80% met**" in text
    assert HOSTILE in text  # plain text in Markdown: nothing to escape, nothing runs
    assert r"Fine \| \<b\>bold\</b\> @&#8203;team" in text
    assert "<b>" not in text


def test_scorecard_workbook_shows_the_numbers_and_never_a_formula(
    card: scoring.Scorecard, tmp_path: Path
) -> None:
    data = scorecard_workbook.scorecard_workbook(card, MOMENT)
    assert data == scorecard_workbook.scorecard_workbook(card, MOMENT)  # the same bytes every time
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Summary", "Roles", "Hand-offs", "Comments", "Notes"]
    for sheet in book.worksheets:
        formulas = [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
        assert formulas == [], sheet.title

    summary = book["Summary"]
    top = next(r for r in range(1, 20) if summary.cell(r, 1).value == "Department")
    headers = [c.value for c in summary[top]]
    assert headers == [
        "Department",
        "Hand-offs",
        "Asked",
        "Answered",
        "Share met",
        "Baseline share met",
        "Change",
        "Mean rating",
        "Rating change",
        "Don't receive it",
    ]
    medicine = [c for c in summary[top + 2]]
    assert [c.value for c in medicine] == ["Medicine", 2, 2, 2, 1.0, 0.25, 75, 4.5, 2.0, 0]
    assert medicine[4].number_format == "0%"  # the number is printed, not colour alone
    assert medicine[6].number_format == '+0" pts";-0" pts";"±0 pts"'
    scales = {str(rule.sqref): rule.rules[0].type for rule in summary.conditional_formatting}
    assert scales[f"E{top + 1}:E{top + 2}"] == "colorScale"
    assert scales[f"H{top + 1}:H{top + 2}"] == "colorScale"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        chart = archive.read("xl/charts/chart1.xml").decode()
    assert "<barChart>" in chart and 'formatCode="0%"' in chart
    # The chart prints: the print area reaches past its last row (it sits below the table).
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        drawing = archive.read("xl/drawings/drawing1.xml").decode()
    start = int(re.search(r"<from>.*?<row>(\d+)</row>", drawing).group(1)) + 1
    tall = int(re.search(r'<ext cx="\d+" cy="(\d+)"', drawing).group(1)) / 12700
    chart_end = start + tall / 15  # rows of 15 points
    printed_to = int(str(summary.print_area).rsplit("$", 1)[1])
    assert printed_to >= chart_end > top + 2
    assert summary.print_title_rows is None  # a table on one page: no header over the chart
    assert book["Hand-offs"].print_title_rows == "$1:$1"  # a long list still does

    handoffs = book["Hand-offs"]
    rows = {row[-1].value: row for row in handoffs.iter_rows(min_row=2)}
    order = rows[by_product(card, "physician", "Lab order").handoff.id]
    assert [c.value for c in order[:4]] == ["Physician", "Medicine", "Lab order", "Phlebotomist"]
    comments = next(c for c in order if c.value and str(c.value).startswith("•"))
    assert comments.value == f"• {HOSTILE}"
    hostile = next(c for row in book["Comments"].iter_rows() for c in row if c.value == HOSTILE)
    assert hostile.data_type == "s"
    notes = [r[0].value for r in book["Notes"].iter_rows(min_row=2)]
    assert notes == ["bad-rating", "no-id", "stale-id", "missing-row"]

    # One family: every cell and the chart name the house font; headers fit their words.
    for sheet in book.worksheets:
        fonts = {c.font.name for row in sheet.iter_rows() for c in row if c.value is not None}
        assert fonts == {"Calibri"}, sheet.title
        assert sheet.oddHeader.left.text == card.organization
        assert sheet.oddFooter.center.text == "Page &P of &N"
    assert 'typeface="Calibri"' in chart
    changed = next(c for c in handoffs[1] if c.value == "Changed since asked")
    assert handoffs.row_dimensions[1].height >= 3 * 15  # three lines in a narrow column
    assert handoffs.column_dimensions[changed.column_letter].width < 10
    # Wider than a landscape page: each page across repeats who hands what to whom.
    assert handoffs.page_setup.fitToWidth > 1
    assert handoffs.print_title_cols == "$A:$D"
    assert [c.value for c in handoffs[1][:4]] == [
        "Supplier",
        "Supplier department",
        "Product",
        "Customer",
    ]
    # Text stands off the cell's border, so neighbouring columns never run together.
    assert order[0].alignment.indent == 1 and order[2].alignment.indent == 1
    # An id column is as wide as its longest id, so it is never cut.
    last = handoffs.cell(1, handoffs.max_column).column_letter
    longest = max(len(str(row[-1].value)) for row in handoffs.iter_rows(min_row=2))
    assert handoffs.column_dimensions[last].width >= longest


@needs_soffice
def test_libreoffice_renders_the_scorecard(card: scoring.Scorecard, tmp_path: Path) -> None:
    source = tmp_path / "scorecard.xlsx"
    source.write_bytes(scorecard_workbook.scorecard_workbook(card, MOMENT))
    convert([source], tmp_path, tmp_path / "lo-profile", timeout=240)
    pdf = tmp_path / "scorecard.pdf"
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5_000


def test_role_figures_for_the_job_aid(card: scoring.Scorecard) -> None:
    figures = role_figures.role_figures(card, "physician")
    json.dumps(figures)  # plain data, ready for a template's context
    assert figures["found"] is True
    assert (figures["round"], figures["baseline_round"]) == ("round-2", "round-1")
    assert (figures["share_met"], figures["share_met_text"]) == (1.0, "100%")
    assert (figures["mean_rating"], figures["mean_rating_text"]) == (4.5, "4.5")
    assert figures["change_text"] == "+75 pts since round-1"
    assert figures["change_points_text"] == "+75 pts"  # what a job aid shows
    assert figures["summary"] == (
        "100% met in 2 of 2 answers (+75 pts since round-1); mean rating 4.5 of 5"
    )
    assert [(h["product"], h["customer"], h["share_met_text"]) for h in figures["handoffs"]] == [
        ("Lab order", "Phlebotomist", "100%"),
        ("Lab order", "Laboratory Technologist", "100%"),
    ]
    assert figures["handoffs"][0]["comments"] == [HOSTILE]
    assert role_figures.role_figures(card, "coder")["found"] is False


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("Met", "Met"),
        (" partly   MET ", "Partly met"),
        ("NOT MET", "Not met"),
        ("Don’t receive it", "Don't receive it"),
        ("dont receive it", "Don't receive it"),
        ("yes", None),
        ("", None),
    ],
)
def test_answers_match_without_case_spaces_or_apostrophes(typed: str, answer: str | None) -> None:
    assert answers.parse_answer(typed) == answer


@pytest.mark.parametrize(
    ("typed", "rating"),
    [
        (3, 3),
        (5.0, 5),
        ("4", 4),
        (" 2 ", 2),
        (0, None),
        (6, None),
        (3.5, None),
        ("good", None),
        (True, None),
        (None, None),
    ],
)
def test_ratings_are_whole_numbers_from_1_to_5(typed: object, rating: int | None) -> None:
    assert answers.parse_rating(typed) == rating


def test_a_changed_need_is_reported_and_still_counted(rounds: Path, make_workbook: Any) -> None:
    root = make_workbook({}, copy_of=CLINIC)
    role = root / "roles" / "physician.yaml"
    role.write_text(
        role.read_text().replace(
            "The right test for the right patient.", "The right test, ordered before 5 a.m."
        )
    )
    organization = load_workbook(root).organization
    card = scoring.make_scorecard(organization, surveys_of(rounds, "round-2")[:1])
    order = by_product(card, "physician", "Lab order")
    assert order.changed and order.figures.met == 1
    [changed] = [n for n in card.notes if n.code == "changed"]
    assert changed.message == (
        "the need or standard of 'Lab order' from Physician changed "
        "after this survey was made; the answer is about the earlier "
        "wording"
    )


def test_a_folder_stands_for_its_surveys(rounds: Path) -> None:
    folder = rounds / "surveys" / "round-1"
    paths = answers.survey_paths([folder, folder / "lab-tech.xlsx"])
    assert [p.name for p in paths] == ["lab-tech.xlsx", "phlebotomist.xlsx", "physician.xlsx"]
    organization = load_workbook(CLINIC).organization
    with pytest.raises(SurveyError, match="given both as a survey and as a --baseline"):
        scoring.make_scorecard(organization, [folder], [folder / "lab-tech.xlsx"])


def write_foreign(path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["Supplier", "Status", "Hand-off id"])
    book.active.append(["Physician", "Agreed", "H-0123456789"])
    book.save(path)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_a_foreign_workbook_is_a_clear_error(tmp_path: Path) -> None:
    foreign = tmp_path / "matrix.xlsx"
    write_foreign(foreign)
    status, out, err = run("scorecard", "-w", str(CLINIC), str(foreign))
    assert (status, out) == (1, "")
    assert err == (
        f"Error: {foreign}: not a jobdefs survey: no sheet has the columns "
        "'Hand-off id' and 'Answer'. Give the answered .xlsx files written by "
        "'jobdefs survey'\n"
    )


@pytest.mark.parametrize(
    "content",
    [
        bytes(random.Random(11).randrange(256) for _ in range(4096)),
        b"",
        b"PK\x03\x04 a zip that stops here",
    ],
)
def test_a_corrupt_file_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    broken = tmp_path / "answers.xlsx"
    broken.write_bytes(content)
    status, out, err = run("scorecard", "-w", str(CLINIC), str(broken))
    assert (status, out) == (1, "")
    assert err.startswith(f"Error: {broken}: not a readable workbook (")
    assert "Traceback" not in err


def test_a_zip_that_is_not_a_workbook_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "answers.xlsx"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("[Content_Types].xml", "<not-closed")
    status, _, err = run("scorecard", "-w", str(CLINIC), str(broken))
    assert status == 1
    assert err.startswith(f"Error: {broken}: not a readable workbook (")


def test_cli_scorecard_formats_output_and_fail_below(rounds: Path, tmp_path: Path) -> None:
    now = [str(p) for p in surveys_of(rounds, "round-2")]
    then = [arg for p in surveys_of(rounds, "round-1") for arg in ("--baseline", str(p))]
    output = tmp_path / "out" / "scorecard.xlsx"
    status, out, err = run(
        "scorecard",
        "-w",
        str(CLINIC),
        *now,
        *then,
        "--format",
        "json",
        "--output",
        str(output),
        "--fail-below",
        "0.8",
    )
    assert status == 1
    assert json.loads(out)["overall"]["share_met"] == 0.8333
    assert err.splitlines()[-2:] == [f"wrote {output}", "1 hand-off(s) below 80% met"]
    assert "note[stale-id]" in err
    assert openpyxl.load_workbook(output).sheetnames[0] == "Summary"
    assert not [p for p in output.parent.iterdir() if p.name != "scorecard.xlsx"]

    status, out, _ = run(
        "scorecard", "-w", str(CLINIC), *now, "--format", "markdown", "--fail-below", "0.5"
    )
    assert status == 0
    assert out.startswith("### Service scorecard: Survey Test Clinic\n")

    status, _, err = run("scorecard", "-w", str(CLINIC), *now, "--fail-below", "80")
    assert status == 2
    assert "80" in err


def test_cli_scorecard_reads_a_missing_file_as_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.xlsx"
    status, _, err = run("scorecard", "-w", str(CLINIC), str(missing))
    assert status == 1
    assert err.startswith(f"Error: {missing}: ")
    assert os.fspath(missing) in err


def test_another_organizations_surveys_are_named_as_such(rounds: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    CliRunner().invoke(cli, ["init", str(other), "--organization", "Elsewhere Clinic"])
    survey = surveys_of(rounds, "round-1")[0]
    result = CliRunner().invoke(cli, ["scorecard", str(survey), "-w", str(other)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {survey}: this survey was written for another organization "
        f"('{load_workbook(CLINIC).organization.name}'), not Elsewhere Clinic: none of its "
        "hand-offs is in this workbook. Give the answered surveys of this one\n"
    )
