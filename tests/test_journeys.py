"""Journey files: read like role files, each step resolved to a declared hand-off."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from jobdefs.cli import cli
from jobdefs.workbook.load import load_workbook

DATA = Path(__file__).parent / "data" / "findings"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_each_step_is_the_hand_off_its_role_file_declares() -> None:
    workbook = load_workbook(DATA / "journey-end")
    [journey] = workbook.organization.journeys
    assert (journey.id, journey.title, journey.customer) == ("visit", "A visit", "patient")
    assert [
        (s.handoff.supplier.title, s.handoff.product, s.handoff.customer.title)
        for s in journey.steps
        if s.handoff
    ] == [
        ("Clerk", "Registered visit", "Nurse"),
        ("Nurse", "Care plan", "Clerk"),
    ]
    assert journey.roles() == ("clerk", "nurse")
    # The step's need is the customer's, as the supplier's file says it.
    assert journey.steps[0].handoff is not None
    assert journey.steps[0].handoff.need == "To know who is here and why."


def test_names_in_a_step_are_matched_as_products_are(make_workbook: Callable[..., Path]) -> None:
    root = make_workbook({}, copy_of=DATA / "journey-end")
    (root / "journeys" / "visit.yaml").write_text(
        "title: A visit\ncustomer: patient\nsteps:\n"
        "  - from: clerk\n    product: registered   VISIT\n    to: patient\n",
        encoding="utf-8",
    )
    workbook = load_workbook(root)
    assert workbook.findings == ()
    assert workbook.organization.journeys[0].steps[0].handoff is not None


def test_a_step_that_names_nobody_gets_a_suggestion(make_workbook: Callable[..., Path]) -> None:
    root = make_workbook({}, copy_of=DATA / "journey-end")
    (root / "journeys" / "visit.yaml").write_text(
        "title: A visit\ncustomer: patinet\nsteps:\n"
        "  - from: clrek\n    product: Registered visit\n    to: nurse\n"
        "  - from: clerk\n    product: Registered visit\n    to: nusre\n",
        encoding="utf-8",
    )
    messages = [f.as_text() for f in load_workbook(root).findings]
    assert messages == [
        "journeys/visit.yaml:2:1: error[unknown-external]: the journey's customer 'patinet' is "
        "not an external customer; did you mean 'patient'?",
        "journeys/visit.yaml:4:5: error[unknown-role]: from role 'clrek' does not exist; did "
        "you mean 'clerk'?",
        "journeys/visit.yaml:9:5: error[unknown-role]: to 'nusre' is neither a role nor an "
        "external customer; did you mean 'nurse'?",
    ]


def test_a_product_sent_elsewhere_names_its_customers(make_workbook: Callable[..., Path]) -> None:
    root = make_workbook({}, copy_of=DATA / "journey-end")
    (root / "journeys" / "visit.yaml").write_text(
        "title: A visit\ncustomer: patient\nsteps:\n"
        "  - from: nurse\n    product: Care plan\n    to: patient\n",
        encoding="utf-8",
    )
    [finding] = [f for f in load_workbook(root).findings if f.is_error]
    assert finding.message == (
        "nurse declares no hand-off of 'Care plan' to patient: it hands patient 'Discharge "
        "instructions'; name one of those, or add patient as a customer of 'Care plan' in "
        "roles/nurse.yaml"
    )


def test_a_malformed_journey_is_findings_never_a_traceback(
    make_workbook: Callable[..., Path],
) -> None:
    root = make_workbook({}, copy_of=DATA / "journey-end")
    journeys = root / "journeys"
    (journeys / "visit.yaml").write_text("title: [a\n", encoding="utf-8")
    (journeys / "list.yaml").write_text("- from: clerk\n", encoding="utf-8")
    (journeys / "Bad Name.yaml").write_text("title: x\n", encoding="utf-8")
    (journeys / "types.yaml").write_text(
        "title: {a: b}\ncustomer: patient\nsteps: many\nextra: 1\n", encoding="utf-8"
    )
    (journeys / "binary.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    status, out, err = run("check", "-w", str(root), "--format", "json")
    assert status == 1 and "Traceback" not in err
    found = {(f["file"], f["code"]) for f in json.loads(out)["findings"]}
    assert found >= {
        ("journeys/visit.yaml", "yaml-syntax"),
        ("journeys/list.yaml", "yaml-syntax"),
        ("journeys/Bad Name.yaml", "bad-role-id"),
        ("journeys/types.yaml", "wrong-type"),
        ("journeys/types.yaml", "unknown-key"),
        ("journeys/binary.yaml", "yaml-syntax"),
    }
    assert all(f["line"] for f in json.loads(out)["findings"])


def test_new_journey_writes_a_skeleton_that_check_points_into(tmp_path: Path) -> None:
    run("init", str(tmp_path))
    status, _, err = run(
        "new", "er-visit", "--journey", "--title", "An emergency visit", "-w", str(tmp_path)
    )
    assert status == 0, err
    assert "created journeys/er-visit.yaml" in err
    status, out, _ = run("check", "-w", str(tmp_path), "--format", "json")
    assert status == 1
    assert [(f["code"], f["line"]) for f in json.loads(out)["findings"]] == [
        ("empty-value", 25),
        ("empty-value", 26),
        ("empty-value", 27),
    ]
    text = (tmp_path / "journeys" / "er-visit.yaml").read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../.jobdefs/journey.schema.json\n")
    assert "title: An emergency visit\n" in text
    assert run("new", "er-visit", "--journey", "--title", "x", "-w", str(tmp_path))[0] == 1


def test_a_role_still_needs_its_department(tmp_path: Path) -> None:
    run("init", str(tmp_path))
    status, _, err = run("new", "porter", "--title", "Porter", "-w", str(tmp_path))
    assert status == 2
    assert "Missing option '--department'" in err


def test_init_walks_a_patient_through_its_example_roles(tmp_path: Path) -> None:
    run("init", str(tmp_path))
    workbook = load_workbook(tmp_path)
    assert workbook.findings == ()
    [journey] = workbook.organization.journeys
    assert journey.roles() == ("scheduler", "nurse")
    assert all(step.handoff is not None for step in journey.steps)
    assert journey.steps[-1].to == journey.customer == "patient"


def test_show_lists_the_journeys_a_role_takes_part_in(tmp_path: Path) -> None:
    run("init", str(tmp_path))
    status, out, _ = run("show", "nurse", "-w", str(tmp_path))
    assert status == 0
    assert "\nJourneys\n  A visit to the clinic (clinic-visit): steps 2, 3 of 3\n" in out
    status, out, _ = run("show", "billing-clerk", "-w", str(tmp_path))
    assert "Journeys" not in out  # a role on no journey shows no empty heading


def test_init_asks_patients_three_questions_on_the_way_out(tmp_path: Path) -> None:
    run("init", str(tmp_path))
    questions = load_workbook(tmp_path).organization.discharge_questions
    assert len(questions) == 3
    assert "what the problem was" in questions[0] and "at home" in questions[2]
