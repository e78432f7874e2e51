"""Journeys and the patient's voice through the commands: build, survey and scorecard."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import docx
import openpyxl
from click.testing import CliRunner
from test_patient_voice import fill

from jobdefs.cli import cli
from jobdefs.output import CONVERSATIONS_FILE
from jobdefs.workbook.load import load_workbook

REPO = Path(__file__).parent.parent


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def hospital(tmp_path: Path) -> Path:
    root = tmp_path / "hospital"
    root.mkdir()
    for name in ("jobdefs.yaml", "roles", "journeys"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name)
        else:
            shutil.copy(source, root / name)
    return root


def test_build_writes_a_journey_document_per_journey_and_keeps_it_while_unchanged(
    tmp_path: Path,
) -> None:
    root = hospital(tmp_path)
    status, _, err = run("build", "-w", str(root), "-q", "--no-site")
    assert status == 0, err
    journeys = load_workbook(root).organization.journeys
    made = sorted(p.name for p in (root / "build" / "journeys").glob("*.docx"))
    assert made == sorted(f"{j.id}.docx" for j in journeys)
    visit = next(j for j in journeys if j.id == "emergency-visit")
    text = "\n".join(
        cell.text
        for table in docx.Document(str(root / "build/journeys/emergency-visit.docx")).tables
        for row in table.rows
        for cell in row.cells
    )
    for step in visit.steps:
        assert step.handoff is not None and step.handoff.product in text
    # Unchanged, it is kept; its journey file edited, it is rewritten, with the two files
    # that show every journey: the matrix (its Journeys sheet) and handoffs.md (its charts).
    before = run("build", "-w", str(root), "--no-site")[2]
    assert "wrote 0" in before
    path = root / "journeys" / "emergency-visit.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(visit.title, "An ER visit"), "utf-8")
    document = root / "build" / "journeys" / "emergency-visit.docx"
    other = root / "build" / "journeys" / "hospital-stay.docx"
    outputs = ("journeys/emergency-visit.docx", "internal-customer-matrix.xlsx", "handoffs.md")
    kept = {p: (root / "build" / p).read_bytes() for p in outputs}
    before_bytes = other.read_bytes()
    _, _, err = run("build", "-w", str(root), "--no-site")
    assert "An ER visit" in "\n".join(p.text for p in docx.Document(str(document)).paragraphs)
    # The journey's document, the matrix and the map show it; so do the job aids of its
    # roles (their part in it). The other journeys are kept as they are.
    assert all((root / "build" / p).read_bytes() != data for p, data in kept.items())
    assert other.read_bytes() == before_bytes


def test_the_patients_answers_reach_the_scorecard_with_the_journeys(tmp_path: Path) -> None:
    root = hospital(tmp_path)
    status, _, err = run("survey", "-w", str(root))
    assert status == 0, err
    assert err.splitlines()[0].endswith(f", and {CONVERSATIONS_FILE}")
    folder = root / "build" / "surveys" / "round-1"
    organization = load_workbook(root).organization
    journey = organization.journeys[0]
    questions = organization.discharge_questions
    fill(
        folder / CONVERSATIONS_FILE,
        [
            ["2026-03-02", journey.title, "Ward 3", *(["Yes"] * len(questions)), ""],
            ["2026-03-02", journey.title, "Ward 3", "No", *(["Yes"] * (len(questions) - 1)), ""],
        ],
    )
    status, out, err = run("scorecard", str(folder), "-w", str(root), "--format", "json")
    assert status == 0, err
    document = json.loads(out)
    first = document["patient_voice"][0]
    assert (first["question"], first["responses"], first["share_yes"]) == (questions[0], 2, 0.5)
    assert [j["id"] for j in document["journeys"]] == [j.id for j in organization.journeys]
    assert {"title", "share_met", "steps"} <= document["journeys"][0].keys()
    names = {c.id: c.name for c in organization.external_customers}
    assert document["journeys"][0]["customer_name"] == names[journey.customer]
    # Folders of surveys hold the patients' sheet too: it is not read as a survey.
    assert "not a jobdefs survey" not in err
    status, out, _ = run("scorecard", str(folder), "-w", str(root))
    assert status == 0 and questions[0] in out
    # --output adds a sheet for the journeys and one for the patient's voice.
    book = tmp_path / "scorecard.xlsx"
    status, _, err = run("scorecard", str(folder), "-w", str(root), "-o", str(book))
    assert status == 0, err
    workbook = openpyxl.load_workbook(book)
    assert {"Journeys", "Patient's voice"} <= set(workbook.sheetnames)
    journeys = [row for row in workbook["Journeys"].iter_rows(min_row=2, values_only=True)]
    assert [row[0] for row in journeys] == [j.title for j in organization.journeys]
    assert [row[1] for row in journeys] == [names[j.customer] for j in organization.journeys]
    voice = list(workbook["Patient's voice"].iter_rows(min_row=2, values_only=True))
    assert voice[0][:3] == (questions[0], 2, 0.5)


def test_a_job_aid_says_which_journeys_its_role_is_part_of(tmp_path: Path) -> None:
    root = hospital(tmp_path)
    assert run("build", "-w", str(root), "-q", "--no-site")[0] == 0
    organization = load_workbook(root).organization
    paragraphs = [
        p.text for p in docx.Document(str(root / "build/job-aids/triage-nurse.docx")).paragraphs
    ]
    expected = [
        f"{j.title}: {'step' if len(n) == 1 else 'steps'} {', '.join(map(str, n))} "
        f"of {len(j.steps)}"
        for j in organization.journeys
        if (n := j.steps_of("triage-nurse"))
    ]
    assert expected and all(line in paragraphs for line in expected)
    assert "Your part in the patient's journey" in paragraphs
    # A role on no journey gets no such section; a journey edited rewrites the job aids.
    billing = docx.Document(str(root / "build/job-aids/it-service-desk-analyst.docx"))
    assert "Your part in the patient's journey" not in [p.text for p in billing.paragraphs]
    path = root / "journeys" / "emergency-visit.yaml"
    title = next(j.title for j in organization.journeys if j.id == "emergency-visit")
    path.write_text(path.read_text(encoding="utf-8").replace(title, "An ER visit"), "utf-8")
    assert run("build", "-w", str(root), "-q", "--no-site")[0] == 0
    paragraphs = [
        p.text for p in docx.Document(str(root / "build/job-aids/triage-nurse.docx")).paragraphs
    ]
    assert any(text.startswith("An ER visit: steps") for text in paragraphs)
