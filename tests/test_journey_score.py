"""The journey score: the rolled share met is the product of the answered steps' shares."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from jobdefs.documents.journey_steps import StepFigures, roll
from jobdefs.feedback.answers import Response, SurveyFile
from jobdefs.feedback.journey_score import journey_lines, journey_markdown, journey_scores
from jobdefs.feedback.scoring import score
from jobdefs.model import HandOff, Journey, Organization
from jobdefs.workbook.load import load_workbook

REPO = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def hospital() -> Organization:
    return load_workbook(REPO).organization


def visit(organization: Organization) -> Journey:
    return next(j for j in organization.journeys if j.id == "emergency-visit")


def internal(journey: Journey) -> list[HandOff]:
    return [s.handoff for s in journey.steps if s.handoff and s.handoff.customer.kind == "role"]


def survey(answers: dict[HandOff, list[str]], label: str = "round-2") -> SurveyFile:
    responses = [
        Response(h.id, h.fingerprint, answer, None, "", "s.xlsx", row)
        for row, (h, answer) in enumerate(((h, a) for h, many in answers.items() for a in many), 10)
    ]
    return SurveyFile("s.xlsx", label, "", tuple(responses), (), ())


def test_the_rolled_share_is_the_product_of_the_answered_internal_steps(
    hospital: Organization,
) -> None:
    journey = visit(hospital)
    steps = internal(journey)
    shares = [0.9, 0.75, 0.5, 1.0, 0.8]
    figures = {h.id: StepFigures(share, 3) for h, share in zip(steps, shares, strict=False)}
    rolled = roll(journey, figures)
    assert rolled.share_met == pytest.approx(math.prod(shares))
    assert [s.number for s in rolled.unanswered] == [8, 9, 10]
    assert rolled.weakest is not None and rolled.weakest.handoff is steps[2]
    # A share for a step to the patient is not the internal surveys' to give.
    outside = journey.steps[0].handoff
    assert outside is not None
    assert roll(journey, {outside.id: StepFigures(0.0, 5)}).share_met is None


def test_the_scores_as_the_contract_shapes_them(hospital: Organization) -> None:
    journey = visit(hospital)
    steps = internal(journey)
    card = score(
        hospital,
        [
            survey(
                {steps[0]: ["Met", "Met"], steps[1]: ["Met", "Not met"], steps[2]: ["Partly met"]}
            )
        ],
        [survey({steps[0]: ["Met"], steps[1]: ["Met"], steps[2]: ["Met"]}, "round-1")],
    )
    [item] = [s for s in journey_scores(hospital.journeys, card) if s["id"] == journey.id]
    # 1.0 × 0.5 × 0.5; the baseline's was 1.0 × 1.0 × 1.0.
    assert (item["share_met"], item["share_met_text"]) == (0.25, "25%")
    assert (item["baseline_share_met"], item["change_share_met"]) == (1.0, -0.75)
    assert (item["answered_steps"], item["internal_steps"]) == (3, 8)
    assert item["unanswered_steps"] == [6, 7, 8, 9, 10]
    assert item["weakest_step"] == 4  # the first of the two at 50%
    first = item["steps"][1]
    assert first == {
        "number": 2,
        "handoff_id": steps[0].id,
        "supplier": "Registration Clerk",
        "supplier_department": "Patient Access",
        "product": "Registered patient account",
        "customer": "Emergency Department Triage Nurse",
        "customer_department": "Emergency Department",
        "internal": True,
        "answered": True,
        "share_met": 1.0,
        "responses": 2,
    }
    assert item["steps"][0]["internal"] is False
    lines = journey_lines([item])
    assert lines[0] == (
        "Emergency visit, from arrival to home: 25% rolled share met (3 of 8 steps to "
        "colleagues answered), −75 pts since the baseline"
    )
    assert lines[1] == (
        "  weakest: step 4, Triage assessment (Emergency Department Triage Nurse → "
        "Emergency Physician) (50% met)"
    )
    assert lines[2].startswith("  no answers: step 6, Labelled blood specimen")
    markdown = journey_markdown([item])
    assert markdown[4].startswith("| Emergency visit, from arrival to home | 25% | 3 of 8 |")


def test_a_journey_no_one_answered_for_has_no_rolled_share(hospital: Organization) -> None:
    card = score(hospital, [survey({})])
    items = journey_scores(hospital.journeys, card)
    assert [i["share_met"] for i in items] == [None, None, None]
    assert journey_lines(items)[0].startswith(
        "Emergency visit, from arrival to home: – rolled share met (0 of 8"
    )


def test_markdown_escapes_role_text(hospital: Organization) -> None:
    item = {
        "title": "<b>*bold*</b> | pipe",
        "share_met_text": "–",
        "answered_steps": 0,
        "internal_steps": 0,
        "weakest_step": None,
        "steps": [],
    }
    row = journey_markdown([item])[4]
    assert row.startswith("| \\<b\\>\\*bold\\*\\</b\\> \\| pipe |")
