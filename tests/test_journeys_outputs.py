"""Journeys in the existing outputs: the matrix's Journeys sheet and handoffs.md's charts."""

from __future__ import annotations

import dataclasses
import datetime
import html
import io
import re
import shutil
from pathlib import Path

import openpyxl

from jobdefs.build.plan import Plan
from jobdefs.documents.handoff_map import mermaid_markdown
from jobdefs.documents.handoffs_sheet import ID_HEADER
from jobdefs.documents.matrix import SHEETS, matrix_workbook
from jobdefs.model import Organization
from jobdefs.output import MATRIX
from jobdefs.workbook.load import load_workbook

REPO = Path(__file__).parent.parent
MOMENT = datetime.datetime(2026, 3, 1, 9, 30)


def example() -> Organization:
    workbook = load_workbook(REPO)
    assert not workbook.findings
    return workbook.organization


def matrix_of(organization: Organization) -> bytes:
    return matrix_workbook(organization, (), MOMENT)


def copy_of_example(tmp_path: Path) -> Path:
    root = tmp_path / "hospital"
    for folder in ("roles", "journeys"):
        shutil.copytree(REPO / folder, root / folder)
    shutil.copy(REPO / "jobdefs.yaml", root)
    return root


def test_the_journeys_sheet_lists_every_step_in_order_with_its_handoff_id() -> None:
    organization = example()
    book = openpyxl.load_workbook(io.BytesIO(matrix_of(organization)))
    assert book.sheetnames == [
        "Matrix",
        "Hand-offs",
        "Roles",
        "Findings",
        "Journeys",
        "Matrix counts",
    ]
    rows = list(book["Journeys"].iter_rows(values_only=True))
    assert rows[0] == ("Journey", "Step", "Supplier", "Product", "Customer", "Hand-off id")
    expected = []
    for journey in organization.journeys:
        for number, step in enumerate(journey.steps, 1):
            handoff = step.handoff
            assert handoff is not None
            expected.append(
                (
                    journey.title,
                    number,
                    handoff.supplier.title,
                    handoff.product,
                    handoff.customer.title,
                    handoff.id,
                )
            )
    assert rows[1:] == expected
    assert len(organization.journeys) == 3
    # The id leads to the same hand-off on the Hand-offs sheet.
    listed = list(book["Hand-offs"].iter_rows(values_only=True))
    header = next(row for row in listed if ID_HEADER in row)
    column = header.index(ID_HEADER)
    handoff_ids = {row[column] for row in listed}
    assert {row[-1] for row in rows[1:]} <= handoff_ids
    first = rows[1]
    assert first[:2] == ("Emergency visit, from arrival to home", 1)
    assert first[2:5] == ("Registration Clerk", "Patient identification wristband", "Patient")


def test_a_workbook_without_journeys_has_no_journeys_sheet_and_the_same_bytes_each_time() -> None:
    organization = dataclasses.replace(example(), journeys=())
    data = matrix_of(organization)
    assert openpyxl.load_workbook(io.BytesIO(data)).sheetnames == [*SHEETS, "Matrix counts"]
    assert matrix_of(organization) == data
    with_journeys = matrix_of(example())
    assert matrix_of(example()) == with_journeys != data


def matrix_digest(root: Path) -> str:
    loaded = load_workbook(root)
    assert not loaded.errors, loaded.errors
    plan = Plan(loaded, root / "build")
    return next(t.digest for t in plan.targets if t.path == MATRIX)


def map_sources_of(root: Path) -> dict[str, str]:
    loaded = load_workbook(root)
    assert not loaded.errors, loaded.errors
    plan = Plan(loaded, root / "build")
    return {path: inputs for path, (inputs, _) in plan.remembered.items() if "handoffs." in path}


def test_an_edited_journey_file_remakes_the_matrix_and_the_map(tmp_path: Path) -> None:
    root = copy_of_example(tmp_path)
    matrix_before, map_before = matrix_digest(root), map_sources_of(root)
    path = root / "journeys" / "emergency-visit.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("title: Emergency visit, from arrival to home", "title: An ED visit"),
        encoding="utf-8",
    )
    assert matrix_digest(root) != matrix_before
    assert map_sources_of(root)["handoffs.md"] != map_before["handoffs.md"]
    path.unlink()  # a journey removed
    assert matrix_digest(root) != matrix_before


def mermaid_decoded(label: str) -> str:
    return html.unescape(re.sub(r"#(\d+);", r"&#\1;", label))


def journey_charts(markdown: str) -> dict[str, str]:
    """Each journey's chart by the heading above it."""
    return dict(re.findall(r"## Journey: ([^\n]*)\n\n```mermaid\n(.*?)```", markdown, re.DOTALL))


def test_handoffs_md_draws_each_journey_step_by_step() -> None:
    organization = example()
    charts = journey_charts(mermaid_markdown(organization))
    assert list(charts) == [journey.title for journey in organization.journeys]
    for journey in organization.journeys:
        chart = charts[journey.title]
        assert chart.startswith("flowchart LR\n")
        labels = re.findall(r'-->\|"([^"]*)"\|', chart)
        assert [mermaid_decoded(label) for label in labels] == [
            f"{number}. {step.product}" for number, step in enumerate(journey.steps, 1)
        ]
    visit = charts["Emergency visit, from arrival to home"]
    assert '  r_registration_clerk -->|"1. Patient identification wristband"| x1\n' in visit
    assert '  x1(["Patient"])\n' in visit


def test_journey_charts_escape_role_text(tmp_path: Path) -> None:
    root = copy_of_example(tmp_path)
    hostile = 'Clerk"] --> evil["x"] %% <b>&amp;'
    path = root / "roles" / "patient-access" / "registration-clerk.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("title: Registration Clerk\n")
    path.write_text(text.replace("title: Registration Clerk\n", f"title: '{hostile}'\n"))
    journey_file = root / "journeys" / "emergency-visit.yaml"
    title = "Emergency visit, from arrival to home"
    journey_file.write_text(journey_file.read_text().replace(title, "A & B <i>visit</i> `x`"))
    loaded = load_workbook(root)
    assert not loaded.errors, loaded.errors
    markdown = mermaid_markdown(loaded.organization)
    charts = journey_charts(markdown)
    heading = next(name for name in charts if "visit" in name)
    assert "<i>" not in heading
    chart = charts[heading]
    node = re.search(r'  r_registration_clerk\["([^"]*)"\]', chart)
    assert node is not None and mermaid_decoded(node.group(1)) == hostile
    # Every line of the chart is a node or an arrow: nothing was added by the title.
    for line in chart.splitlines()[1:]:
        assert re.fullmatch(r'  \w+(\["[^"]*"\]|\(\["[^"]*"\]\)| -->\|"[^"]*"\| \w+)', line)
