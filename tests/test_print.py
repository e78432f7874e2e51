"""The workbooks people print are legible on paper: LibreOffice prints them to PDF, and at
most a tenth of their words are smaller than 7 points.

The size of a word is the height of its box in the PDF (`pdftotext -bbox`), at print
scale. A box is taller than the type by a factor that depends on the face LibreOffice
draws with, so the same conversion prints a reference: a line of 7-point text at full
scale, whose box height is the bar. Runs where `soffice` and `pdftotext` are installed.
"""

from __future__ import annotations

import random
import re
import subprocess
from pathlib import Path

import openpyxl
from libreoffice import convert, needs_pdftotext, needs_soffice

from jobdefs.build.run import build
from jobdefs.feedback.scorecard_workbook import scorecard_workbook
from jobdefs.feedback.scoring import make_scorecard
from jobdefs.feedback.survey_round import make_surveys
from jobdefs.workbook.dates import document_moment
from jobdefs.workbook.load import load_workbook

REPO = Path(__file__).parent.parent
SMALLEST = 7.0  # points: the least a printed word may be
SMALL_SHARE = 0.1  # of the words, at most, may be smaller
_WORD = re.compile(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">')

pytestmark = [needs_soffice, needs_pdftotext]


def heights(pdf: Path) -> list[float]:
    """The height in points of every word box of `pdf`, as printed."""
    boxes = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return [float(bottom) - float(top) for top, bottom in _WORD.findall(boxes)]


def reference(path: Path) -> None:
    """A sheet of 7-point text in the house font, printed at full scale."""
    book = openpyxl.Workbook()
    cell = book.active.cell(1, 1, "Seven point text, the least a printed word may be")
    cell.font = openpyxl.styles.Font(name="Calibri", sz=SMALLEST)
    book.save(path)


def answer_all(folder: Path) -> None:
    """Answer every survey of `folder` as its readers might, a comment now and then."""
    choices = random.Random(19)
    for path in sorted(folder.glob("*.xlsx")):
        book = openpyxl.load_workbook(path)
        if "Survey" not in book.sheetnames:
            continue
        sheet = book["Survey"]
        top = next(r for r in range(1, 30) if sheet.cell(r, 9).value == "Hand-off id")
        for row in range(top + 1, sheet.max_row + 1):
            if sheet.cell(row, 9).value:
                sheet.cell(row, 6).value = choices.choice(["Met", "Partly met", "Not met"])
                sheet.cell(row, 7).value = choices.randint(1, 5)
                if choices.random() < 0.3:
                    sheet.cell(row, 8).value = "Late on Mondays; a call when it is ready helps."
        book.save(path)


def test_what_the_hospital_prints_is_seven_points_or_more(tmp_path: Path) -> None:
    """The matrix, a review form, a survey, the scorecard, a job aid, the handbook and a
    journey, printed by LibreOffice: at most a tenth of their words under 7 points."""
    workbook = load_workbook(REPO)
    output = tmp_path / "example"
    build(workbook, output_dir=output, handbook=True)
    surveys = make_surveys(workbook, output_dir=output).folder
    answer_all(surveys)
    card = make_scorecard(workbook.organization, [surveys])
    scorecard = tmp_path / "scorecard.xlsx"
    scorecard.write_bytes(scorecard_workbook(card, document_moment(workbook.organization)))
    printed = {
        "matrix": output / "internal-customer-matrix.xlsx",
        "review form": output / "departments" / "laboratory.xlsx",
        "survey": surveys / "staff-nurse.xlsx",
        "scorecard": scorecard,
        "job aid": output / "job-aids" / "phlebotomist.docx",
        "handbook": output / "handbook.docx",
        "journey": output / "journeys" / "emergency-visit.docx",
    }
    bar = tmp_path / "seven-points.xlsx"
    reference(bar)
    pdfs = tmp_path / "pdf"
    convert([bar, *printed.values()], pdfs, tmp_path / "profile")
    least = min(heights(pdfs / "seven-points.pdf")) * 0.99  # a 7-point word's box
    shares = {}
    for kind, path in printed.items():
        words = heights(pdfs / path.with_suffix(".pdf").name)
        assert len(words) > 100, kind  # it printed its text, not an empty page
        shares[kind] = round(sum(height < least for height in words) / len(words), 3)
    assert all(share <= SMALL_SHARE for share in shares.values()), shares
