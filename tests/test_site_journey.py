"""The explorer's journey page: the journey's swimlane as an inline SVG, then its steps.

The drawing is read back as XML, the way a browser builds it: the lanes from top to bottom
(the customer's own lane, the line of visibility, then the roles by department), the steps
from left to right, what each says and where it links, and the parts it prints in. The
page in a browser (console, axe-core) is in test_site_browser.py, on paper in
test_site_print.py.
"""

from __future__ import annotations

import datetime
import html
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from answering import fill

from jobdefs.build.run import build
from jobdefs.documents.journey_steps import RolledStep, lanes_of, roll
from jobdefs.documents.site import swimlane
from jobdefs.feedback import survey_round
from jobdefs.workbook.load import load_workbook

DATA = Path(__file__).parent / "data"
SVG = "{http://www.w3.org/2000/svg}"
PAGE = "journeys/clinic-visit.html"
HOSTILE_TITLE = '<script>alert(1)</script> {{ 7*7 }} & "visit"'
HOSTILE_PRODUCT = (
    "Vital <b>signs</b> {{ 7*7 }} & a name far too long for its box, cut with an ellipsis"
)


def built(root: Path, **options: object) -> Path:
    build(load_workbook(root), **options)  # type: ignore[arg-type]
    return root / "build" / "site"


@pytest.fixture
def clinic(tmp_path: Path) -> Path:
    root = tmp_path / "clinic"
    shutil.copytree(DATA / "small-clinic", root)
    return root


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """The small clinic, its journey and one of its products named to do harm."""
    root = tmp_path / "hostile"
    shutil.copytree(DATA / "small-clinic", root)
    journey = root / "journeys" / "clinic-visit.yaml"
    text = journey.read_text().replace("A visit to the clinic", json.dumps(HOSTILE_TITLE))
    journey.write_text(text.replace("Vital signs", json.dumps(HOSTILE_PRODUCT)))
    for path in ("care/medical-assistant.yaml", "care/physician.yaml"):
        role = root / "roles" / path
        role.write_text(role.read_text().replace("Vital signs", json.dumps(HOSTILE_PRODUCT)))
    return root


def svg_of(page: str) -> ET.Element:
    """The page's swimlane, parsed as XML: so it is well formed, too."""
    found = re.search(r"<svg class=\"swimlane\".*?</svg>", page, re.S)
    assert found is not None, page
    return ET.fromstring(found.group(0))


def texts(element: ET.Element) -> str:
    return "".join(element.itertext())


def box_text(step: ET.Element) -> str:
    """A step's box as read: its lines, one after the other."""
    lines = [texts(t) for t in step.iter(f"{SVG}tspan") if t.get("x")]
    return " ".join(" ".join(lines).split())


def title(element: ET.Element) -> str:
    found = element.find(f"{SVG}title")
    assert found is not None
    return found.text or ""


def lanes(svg: ET.Element) -> list[tuple[str, float]]:
    return [
        (title(g), float(g.find(f"{SVG}rect").get("y")))
        for g in svg.iter(f"{SVG}g")  # type: ignore[union-attr]
        if g.get("class") == "lane"
    ]


def steps(svg: ET.Element) -> list[ET.Element]:
    return [a for a in svg.iter(f"{SVG}a") if a.get("class") == "step"]


def test_the_swimlane_has_the_customer_on_top_then_the_roles_by_department(
    clinic: Path,
) -> None:
    page = (built(clinic) / PAGE).read_text()
    svg = svg_of(page)
    # The drawing is an image, named and described; the steps' links stand beside it.
    [image] = [g for g in svg.iter(f"{SVG}g") if g.get("role") == "img"]
    assert image.get("aria-labelledby") == "swimlane-title"
    assert image.get("aria-describedby") == "swimlane-caption swimlane-desc"
    assert title(image) == "Swimlane of A visit to the clinic"
    desc = image.find(f"{SVG}desc")
    assert desc is not None and (desc.text or "").startswith("4 lanes: the patient's own lane")
    assert not list(image.iter(f"{SVG}a"))
    # The visible caption says the table below is the drawing's text alternative.
    caption = re.search(r'<figcaption id="swimlane-caption">(.*?)</figcaption>', page, re.S)
    assert caption is not None
    assert "The table of steps below gives the same steps as text." in caption.group(1)
    # Top to bottom: the patient's own lane, then Front Desk's role, then Clinical's two.
    shown = lanes(svg)
    assert [name for name, _ in shown] == [
        "Customer: Patient",
        "Receptionist",
        "Medical Assistant",
        "Physician",
    ]
    assert [y for _, y in shown] == sorted(y for _, y in shown)
    departments = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "department"]
    assert [title(g) for g in departments] == ["Front Desk", "Clinical"]
    assert [texts(g.find(f"{SVG}text")) for g in departments] == ["Front Desk", "Clinical"]  # type: ignore[arg-type]
    # Clinical spans the two lanes of its roles.
    clinical = departments[1].find(f"{SVG}rect")
    assert clinical is not None
    assert float(clinical.get("y") or 0) == shown[2][1]
    assert float(clinical.get("height") or 0) == 2 * (shown[3][1] - shown[2][1])
    # The line of visibility: a dashed line, named, between the patient's lane and the rest.
    [visibility] = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "visibility"]
    assert "line of visibility" in texts(visibility)
    [line] = visibility.iter(f"{SVG}line")
    assert line.get("stroke-dasharray")
    assert shown[0][1] < float(line.get("y1") or 0) < shown[1][1]


def test_the_steps_run_left_to_right_and_link_to_their_hand_offs(clinic: Path) -> None:
    site = built(clinic)
    svg = svg_of((site / PAGE).read_text())
    drawn = steps(svg)
    assert [title(a) for a in drawn] == [
        "Step 1: Receptionist hands Appointment booking to Patient",
        "Step 2: Receptionist hands Checked-in patient record to Medical Assistant",
        "Step 3: Medical Assistant hands Vital signs to Physician",
        "Step 4: Physician hands Diagnosis and treatment plan to Patient",
    ]
    # What a person reads in each box: its number, then its product (wrapped, whole).
    boxes = [box_text(a) for a in drawn]
    assert boxes == [
        "1 Appointment booking",
        "2 Checked-in patient record",
        "3 Vital signs",
        "4 Diagnosis and treatment plan",
    ]
    xs = [float(a.find(f"{SVG}rect").get("x")) for a in drawn]  # type: ignore[union-attr,arg-type]
    assert xs == sorted(xs) and len(set(xs)) == 4
    # Each box links to its hand-off where the supplier's page shows it, as the table does.
    organization = load_workbook(clinic).organization
    [journey] = organization.journeys
    for a, step in zip(drawn, journey.steps, strict=True):
        assert step.handoff is not None
        href = a.get("href") or ""
        assert href == f"../roles/{step.handoff.supplier.id}.html#{step.handoff.id}"
        target, anchor = href.split("#")
        assert f'<tr id="{anchor}">' in (site / "journeys" / target).read_text()
    # The steps table follows, in the same order, with each step's standard.
    page = (site / PAGE).read_text()
    table = page[page.index("</svg>") :]
    rows = re.findall(r"<tr><td>(\d+)</td>", table)
    assert rows == ["1", "2", "3", "4"]
    assert "Confirmation sent the same day." in table


def test_hostile_text_is_shown_literally_and_long_text_is_cut_with_its_whole_in_title(
    hostile: Path,
) -> None:
    page = (built(hostile) / PAGE).read_text()
    assert "<script>alert" not in page and "<b>signs" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }} &amp; &#34;visit&#34;" in page
    svg = svg_of(page)  # parsed: so nothing in it broke the markup
    [image] = [g for g in svg.iter(f"{SVG}g") if g.get("role") == "img"]
    assert title(image) == f"Swimlane of {HOSTILE_TITLE}"
    [step] = [a for a in steps(svg) if title(a).startswith("Step 3:")]
    assert title(step) == f"Step 3: Medical Assistant hands {HOSTILE_PRODUCT} to Physician"
    shown = [texts(t) for t in step.iter(f"{SVG}tspan") if t.get("x")]
    assert len(shown) == swimlane.PRODUCT_LINES
    assert " ".join(shown).startswith("3\u2002Vital <b>signs</b> {{ 7*7 }}")
    assert shown[-1].endswith("\u2026")
    assert "{{ 7*7 }}" in " ".join(shown) and "49" not in " ".join(shown)


def test_two_builds_make_the_same_bytes(tmp_path: Path) -> None:
    made = []
    for name in ("one", "two"):
        root = tmp_path / name
        shutil.copytree(DATA / "small-clinic", root)
        made.append((built(root) / PAGE).read_bytes())
    assert made[0] == made[1]
    assert b'<svg class="swimlane"' in made[0]


def test_a_long_journey_grows_wider_with_readable_text() -> None:
    """Twelve steps at the scale of a thousand roles: the drawing widens, the page
    scrolls it; its text keeps its size and each box its width."""
    organization = load_workbook(DATA / "small-clinic").organization
    [journey] = organization.journeys
    step = roll(journey, {}).steps[1]
    twelve = [RolledStep(n, step.handoff, None) for n in range(1, 13)]
    drawing = swimlane.drawing(lanes_of(organization, journey), twelve, {}, "Patient", False)
    assert drawing["width"] == swimlane.LABELS_WIDTH + 12 * swimlane.STEP_WIDTH + 1
    assert drawing["box_width"] == swimlane.STEP_WIDTH - 2 * swimlane.BOX_INSET
    assert [s["number"] for s in drawing["steps"]] == list(range(1, 13))
    xs = [s["x"] for s in drawing["steps"]]
    assert xs == sorted(xs)


def test_a_long_journey_prints_in_parts_of_a_few_steps_with_only_their_lanes() -> None:
    organization = load_workbook(DATA / "small-clinic").organization
    [journey] = organization.journeys
    lanes = lanes_of(organization, journey)
    steps = roll(journey, {}).steps
    assert swimlane.printed_parts(lanes, steps, {}, "Patient", False) == []  # fits whole
    sixteen = [RolledStep(n, steps[(n - 1) % len(steps)].handoff, None) for n in range(1, 17)]
    parts = swimlane.printed_parts(lanes, sixteen, {}, "Patient", False)
    assert [(p["first"], p["last"]) for p in parts] == [(1, 6), (7, 12), (13, 16)]
    for part in parts:
        numbers = [c["number"] for c in part["columns"]]
        assert numbers == list(range(part["first"], part["last"] + 1))
        assert (
            part["width"]
            <= swimlane.LABELS_WIDTH + swimlane.PRINTED_STEPS * swimlane.STEP_WIDTH + 1
        )
        shown = [lane["title"] for lane in part["lanes"]]
        assert shown[0] == "Patient"
        touched = {
            party.title
            for step in sixteen[part["first"] - 1 : part["last"]]
            if step.handoff is not None
            for party in (step.handoff.supplier, step.handoff.customer)
        }
        assert set(shown[1:]) == touched - {"Patient"}


def test_the_scroll_region_can_be_reached_and_is_named(clinic: Path) -> None:
    page = (built(clinic) / PAGE).read_text()
    wrapper = re.search(r'<div class="scroll swimlane-wrap"[^>]*>', page)
    assert wrapper is not None
    assert 'tabindex="0"' in wrapper.group(0) and 'role="region"' in wrapper.group(0)
    assert 'aria-label="Swimlane of A visit to the clinic (scrolls sideways)"' in wrapper.group(0)


def test_with_a_scorecard_each_step_shows_its_share_met_and_the_journey_its_rolled_share(
    clinic: Path,
) -> None:
    loaded = load_workbook(clinic)
    survey_round.make_surveys(
        loaded,
        output_dir=clinic / "answers",
        round_label="round-1",
        moment=datetime.datetime(2025, 3, 1),
    )
    answers = clinic / "answers" / "surveys" / "round-1"
    fill(
        answers / "medical-assistant.xlsx",
        {("Receptionist", "Checked-in patient record"): ("Partly met", 3, None)},
    )
    page = (built(clinic, scorecard=[answers]) / PAGE).read_text()
    svg = svg_of(page)
    boxes = [box_text(a) for a in steps(svg)]
    # Steps to the patient are not the internal surveys' to score; the physician's is
    # unanswered, and said so, not guessed.
    assert boxes == [
        "1 Appointment booking",
        "2 Checked-in patient record 50% met",
        "3 Vital signs no answers",
        "4 Diagnosis and treatment plan",
    ]
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "Rolled share met: 50%, the product of the shares met of 1 of the 2 steps" in text
    assert "No answers yet, not counted: step 3, Vital signs (Medical Assistant → Physician)." in (
        text
    )
    rows = re.findall(r"<tr><td>(\d)</td>.*?</tr>", page, re.S)
    assert rows == ["1", "2", "3", "4"]
    row = re.search(r"<tr><td>2</td>.*?</tr>", page, re.S)
    assert row is not None and "<td>50%</td><td>1</td>" in row.group(0)
    # Without a scorecard the page says nothing of shares.
    plain = (built(clinic) / PAGE).read_text()
    assert "Rolled share met" not in plain and "% met" not in plain
