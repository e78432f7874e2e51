"""The patient's voice: the conversation workbook written, filled, mangled and read back."""

from __future__ import annotations

import datetime
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from jobdefs.feedback.patient_voice import (
    CONVERSATIONS_SHEET,
    PAPER_SHEET,
    ConversationError,
    conversation_workbook,
    read_conversations,
)
from jobdefs.feedback.patient_voice_score import make_voice, voice_lines, voice_markdown
from jobdefs.model import Organization
from jobdefs.output import CONVERSATIONS_FILE
from jobdefs.workbook.load import load_workbook

REPO = Path(__file__).parent.parent
MOMENT = datetime.datetime(2026, 3, 1)


@pytest.fixture(scope="module")
def hospital() -> Organization:
    return load_workbook(REPO).organization


def written(tmp_path: Path, organization: Organization, round_label: str = "round-1") -> Path:
    folder = tmp_path / round_label
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONVERSATIONS_FILE
    path.write_bytes(conversation_workbook(organization, round_label, MOMENT))
    return path


def header_row(sheet: openpyxl.worksheet.worksheet.Worksheet) -> int:
    return next(r for r in range(1, 20) if sheet.cell(row=r, column=1).value == "Date")


def fill(path: Path, rows: list[list[object]]) -> None:
    """Type rows under the header, as someone at the exit would."""
    book = openpyxl.load_workbook(path)
    sheet = book[CONVERSATIONS_SHEET]
    first = header_row(sheet) + 1
    for offset, values in enumerate(rows):
        for column, value in enumerate(values, 1):
            sheet.cell(row=first + offset, column=column).value = value
    book.save(path)


def test_the_sheet_asks_each_discharge_question_with_yes_partly_no(
    tmp_path: Path, hospital: Organization
) -> None:
    path = written(tmp_path, hospital)
    book = openpyxl.load_workbook(path)
    sheet = book[CONVERSATIONS_SHEET]
    row = header_row(sheet)
    headers = [sheet.cell(row=row, column=c).value for c in range(1, 8)]
    assert headers == ["Date", "Journey", "Unit", *hospital.discharge_questions, "Comment"]
    assert sheet.protection.sheet and not sheet.protection.password
    assert sheet.cell(row=row, column=4).protection.locked
    assert not sheet.cell(row=row + 1, column=4).protection.locked
    rules = {str(v.sqref).split(":")[0]: v for v in sheet.data_validations.dataValidation}
    assert rules[f"D{row + 1}"].formula1 == '"Yes,Partly,No"'
    assert rules[f"B{row + 1}"].formula1 == "'Journeys'!$A$1:$A$3"
    titles = [c.value for c in book["Journeys"]["A"]]
    assert titles == [j.title for j in hospital.journeys]
    paper = book[PAPER_SHEET]
    assert paper.page_setup.orientation == "landscape"
    assert paper.print_title_rows == f"${header_row(paper)}:${header_row(paper)}"
    assert paper.page_setup.scale >= 73  # 11-point text never prints under 8 points
    # The instructions wrap inside the table's width (text running past it would make the
    # page print smaller) and say which sheet to print for paper.
    for page in (sheet, paper):
        merged = {str(r) for r in page.merged_cells.ranges}
        assert {"A1:G1", "A2:G2"} <= merged
        assert page["A2"].alignment.wrap_text
    assert f"print the '{PAPER_SHEET}' sheet" in sheet["A2"].value
    assert sheet.row_dimensions[2].height >= 2 * 15  # two lines or more


def test_answers_read_back_to_exact_shares_per_question_and_journey(
    tmp_path: Path, hospital: Organization
) -> None:
    path = written(tmp_path, hospital)
    emergency = "Emergency visit, from arrival to home"
    fill(
        path,
        [
            [datetime.datetime(2026, 3, 2), emergency, "ED", "Yes", "Yes", "No", "Kind staff"],
            [datetime.datetime(2026, 3, 2), emergency, "ED", "Partly", "Yes", "Yes", None],
            [None, None, None, None, None, None, None],  # an empty row in between
            ["2026-03-03", "outpatient-imaging", "Imaging", "Yes", None, "yes ", None],
        ],
    )
    read = read_conversations(path, hospital)
    assert read.round == "round-1"
    assert [c.row for c in read.conversations] == [5, 6, 8]
    assert read.conversations[0].date == "2026-03-02"
    assert read.conversations[2].journey == "outpatient-imaging"  # an id does as well
    assert read.notes == ()
    result = make_voice(hospital, [path.parent])
    first, second, third = result.as_json()
    assert (first["responses"], first["yes"], first["share_yes"]) == (3, 2, 0.6667)
    assert (second["responses"], second["share_yes"]) == (2, 1.0)
    assert (third["responses"], third["share_yes"]) == (3, 0.6667)
    assert first["journeys"] == [
        {
            "id": "emergency-visit",
            "title": emergency,
            "responses": 2,
            "yes": 1,
            "partly": 1,
            "no": 0,
            "share_yes": 0.5,
        },
        {
            "id": "outpatient-imaging",
            "title": "Scheduled outpatient imaging test",
            "responses": 1,
            "yes": 1,
            "partly": 0,
            "no": 0,
            "share_yes": 1.0,
        },
    ]
    assert first["rounds"] == [
        {"round": "round-1", "responses": 3, "yes": 2, "partly": 1, "no": 0, "share_yes": 0.6667}
    ]
    assert voice_lines(result)[0] == "The patient's voice (3 conversations)"
    assert voice_lines(result)[1].startswith("  67% Yes  Do you know what is wrong")
    assert voice_lines(result)[1].endswith("(3 answers)")


def test_a_sheet_no_one_has_filled_in_says_so_in_one_line(
    tmp_path: Path, hospital: Organization
) -> None:
    path = written(tmp_path, hospital)
    assert voice_lines(make_voice(hospital, [path.parent])) == [
        f"The patient's voice: no conversations recorded yet in {CONVERSATIONS_FILE}"
    ]


def test_against_a_baseline_round(tmp_path: Path, hospital: Organization) -> None:
    before = written(tmp_path, hospital, "round-1")
    fill(before, [[None, None, None, "No", None, None, None], [None, None, "W", "Yes"]])
    after = written(tmp_path, hospital, "round-2")
    fill(after, [[None, None, "W", "Yes"], [None, None, "W", "Yes"]])
    result = make_voice(hospital, [after], [before])
    first = result.as_json()[0]
    assert (first["share_yes"], first["baseline_share_yes"], first["change_share_yes"]) == (
        1.0,
        0.5,
        0.5,
    )
    assert "+50 pts since round-1" in voice_lines(result)[1]
    assert voice_markdown(result)[4].endswith("| 2 | 100% | +50 pts |")


def test_a_sorted_extended_edited_sheet_is_read_as_far_as_it_makes_sense(
    tmp_path: Path, hospital: Organization
) -> None:
    path = written(tmp_path, hospital)
    questions = hospital.discharge_questions
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sorted by hand"
    sheet.append(["Notes from the exit desk"])
    # Columns moved around, a question retyped in capitals, a column of its own added.
    sheet.append(["Comment", questions[1].upper(), "unit", "JOURNEY", "date", questions[0], "Who"])
    sheet.append(["ok", "Yes", "ED", "Emergency visit, from arrival to home", "", "Maybe", "A"])
    sheet.append(["", "", "", "A walk in the park", "2026-03-04", "No", ""])
    sheet.append(['=HYPERLINK("http://x.invalid","x")', "", "", "", "", "Yes", ""])
    for _ in range(3):
        sheet.append([])
    sheet.append(["", "", "", "", "", "Yes", ""])  # a row added far below
    path.unlink()
    book.save(path)
    read = read_conversations(path, hospital)
    assert len(read.conversations) == 4
    codes = [(n.code, n.row) for n in read.notes]
    assert codes == [("unknown-answer", 3), ("unknown-answer", 3), ("unknown-journey", 4)]
    assert "the answer 'Maybe'" in read.notes[0].message
    assert "the answer 'A'" in read.notes[1].message  # 'Who' is read as a question too
    assert read.conversations[2].comment == '=HYPERLINK("http://x.invalid","x")'
    result = make_voice(hospital, [path])
    shares = {q["question"].casefold(): q["share_yes"] for q in result.as_json()}
    assert shares[questions[0].casefold()] == 0.6667  # No, Yes, Yes; Maybe not counted
    assert shares[questions[1].casefold()] == 1.0


def test_control_characters_in_a_cell_do_not_reach_the_reader(
    tmp_path: Path, hospital: Organization
) -> None:
    path = written(tmp_path, hospital)
    fill(path, [[None, None, "PLACEHOLDER", "Yes", None, None, "COMMENT-HERE"]])
    parts = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            parts[name] = archive.read(name)
    for name, data in parts.items():
        parts[name] = data.replace(b"COMMENT-HERE", "\u009b31mred\u007f".encode())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    [conversation] = read_conversations(path, hospital).conversations
    # An 8-bit CSI is valid XML and would start a terminal escape sequence if printed.
    assert conversation.comment == "\ufffd31mred\ufffd"


def test_a_foreign_workbook_is_a_clear_error(tmp_path: Path, hospital: Organization) -> None:
    path = tmp_path / "budget.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["Cost centre", "Budget"])
    book.save(path)
    with pytest.raises(ConversationError) as error:
        read_conversations(path, hospital)
    assert str(error.value) == (
        f"{path}: not a patient conversation workbook: no sheet has the columns 'Date', "
        "'Journey' and a question. Give the patient-conversations.xlsx written by "
        "'jobdefs survey'"
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"this is not a zip", "not an .xlsx package"),
        (b"PK\x03\x04" + bytes(200), "not an .xlsx package"),
    ],
)
def test_a_corrupt_file_is_a_clear_error(
    tmp_path: Path, hospital: Organization, content: bytes, reason: str
) -> None:
    path = tmp_path / CONVERSATIONS_FILE
    path.write_bytes(content)
    with pytest.raises(ConversationError) as error:
        read_conversations(path, hospital)
    assert str(error.value).startswith(f"{path}: cannot be read as an Excel workbook ({reason}")


def test_a_cut_short_workbook_is_a_clear_error(tmp_path: Path, hospital: Organization) -> None:
    path = written(tmp_path, hospital)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ConversationError, match="cannot be read as an Excel workbook"):
        read_conversations(path, hospital)


def test_without_discharge_questions_there_is_nothing_to_ask(hospital: Organization) -> None:
    import dataclasses

    silent = dataclasses.replace(hospital, discharge_questions=())
    with pytest.raises(ConversationError, match=r"jobdefs\.yaml has no discharge_questions"):
        conversation_workbook(silent, "round-1", MOMENT)


def test_the_same_round_gives_the_same_bytes(hospital: Organization) -> None:
    assert conversation_workbook(hospital, "r", MOMENT) == conversation_workbook(
        hospital, "r", MOMENT
    )


def test_rows_past_the_limit_are_named_not_read(
    tmp_path: Path, hospital: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobdefs.feedback import patient_voice

    monkeypatch.setattr(patient_voice, "MAX_ROWS", 8)
    path = written(tmp_path, hospital)
    fill(path, [[None, None, "W", "Yes"]] * 6)  # the header is row 4: rows 5 to 10
    read = read_conversations(path, hospital)
    assert len(read.conversations) == 4  # rows 5 to 8
    assert [(n.code, n.message) for n in read.notes] == [
        (
            "too-long",
            "only the first 8 rows and 64 columns are read; split the conversations into rounds",
        )
    ]
