"""The journey score: each journey's steps with their share met, and the rolled share met.

A journey's rolled share met is the product of the shares met of its steps to internal
customers that were answered (documents/journey_steps.py, which the journey document uses
too). Steps with no answers are named, not guessed; the weakest step is named; the
patient's own answers for that journey stand beside it when there are any.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jobdefs.documents.journey_steps import JourneyRoll, RolledStep, StepFigures, roll, share_text
from jobdefs.documents.sheets import Column
from jobdefs.feedback.patient_voice_score import PatientVoice
from jobdefs.feedback.scoring import Scorecard, percent, points, round_half_up
from jobdefs.model import Journey
from jobdefs.text import count, markdown_text


def step_figures(card: Scorecard) -> dict[str, StepFigures]:
    """The scorecard's share met and answers per hand-off id."""
    return {
        h.handoff.id: StepFigures(h.figures.share_met, h.figures.responses) for h in card.handoffs
    }


def baseline_figures(card: Scorecard) -> dict[str, StepFigures] | None:
    """The baseline round's share met per hand-off id; None without a baseline."""
    if not card.has_baseline:
        return None
    return {
        h.handoff.id: StepFigures(h.baseline.share_met, h.baseline.responses)
        for h in card.handoffs
        if h.baseline is not None
    }


def journey_rolls(
    journeys: Sequence[Journey], figures: dict[str, StepFigures]
) -> list[JourneyRoll]:
    return [roll(journey, figures) for journey in journeys]


def journey_scores(
    journeys: Sequence[Journey],
    card: Scorecard,
    patient: PatientVoice | None = None,
    customer_names: Mapping[str, str] | None = None,
) -> list[dict[str, object]]:
    """The contract's `journeys`: [{"id", "title", "share_met", "steps": [...]}, ...]."""
    now = step_figures(card)
    then = baseline_figures(card)
    result: list[dict[str, object]] = []
    for journey in journeys:
        rolled = roll(journey, now)
        before = roll(journey, then).share_met if then is not None else None
        weakest = rolled.weakest
        change = (
            rolled.share_met - before
            if rolled.share_met is not None and before is not None
            else None
        )
        result.append(
            {
                "id": journey.id,
                "title": journey.title,
                "customer": journey.customer,
                "customer_name": (customer_names or {}).get(journey.customer, journey.customer),
                "share_met": round_half_up(rolled.share_met, 4),
                "share_met_text": share_text(rolled.share_met),
                "baseline_share_met": round_half_up(before, 4),
                "change_share_met": round_half_up(change, 4),
                "internal_steps": len(rolled.internal),
                "answered_steps": len(rolled.answered),
                "unanswered_steps": [step.number for step in rolled.unanswered],
                "weakest_step": weakest.number if weakest else None,
                "steps": [_step(step) for step in rolled.steps],
                "patient_voice": patient.for_journey(journey.id) if patient else [],
            }
        )
    return result


def _step(step: RolledStep) -> dict[str, object]:
    h = step.handoff
    figures = step.figures
    return {
        "number": step.number,
        "handoff_id": h.id if h else None,
        "supplier": h.supplier.title if h else None,
        "supplier_department": h.supplier.department if h else None,
        "product": h.product if h else None,
        "customer": h.customer.title if h else None,
        "customer_department": h.customer.department if h else None,
        "internal": step.internal,
        "answered": step.answered,
        "share_met": round_half_up(figures.share_met, 4) if figures else None,
        "responses": figures.responses if figures else 0,
    }


# ---------------------------------------------------------------------------------------
# As people read it


def journey_lines(scores: Sequence[dict[str, object]]) -> list[str]:
    """The journey score for a terminal: a paragraph per journey."""
    lines: list[str] = []
    for item in scores:
        steps = _steps(item)
        answered, internal = item["answered_steps"], item["internal_steps"]
        head = f"{item['title']}: {item['share_met_text']} rolled share met"
        head += f" ({answered} of {internal} steps to colleagues answered)"
        change = item["change_share_met"]
        if isinstance(change, float):
            head += f", {points(change)} since the baseline"
        lines.append(head)
        weakest = item["weakest_step"]
        if weakest is not None:
            step = steps[int(str(weakest)) - 1]
            lines.append(f"  weakest: {_name(step)} ({percent(_share(step))} met)")
        for step in steps:
            if step["internal"] and not step["answered"]:
                lines.append(f"  no answers: {_name(step)}")
        for answer in _voice(item):
            lines.append(
                f"  patients: {percent(_float(answer.get('share_yes')))} Yes to "
                f"'{answer['question']}' ({count(int(str(answer['responses'])), 'answer')})"
            )
    return lines


def journey_markdown(scores: Sequence[dict[str, object]]) -> list[str]:
    """The journey score as Markdown: a table of journeys, every cell escaped."""
    if not scores:
        return []
    lines = [
        "## Journeys",
        "",
        "| Journey | Rolled share met | Steps answered | Weakest step | No answers |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for item in scores:
        steps = _steps(item)
        weakest = item["weakest_step"]
        weak = _name(steps[int(str(weakest)) - 1]) if weakest is not None else ""
        missing = "; ".join(_name(s) for s in steps if s["internal"] and not s["answered"])
        lines.append(
            f"| {markdown_text(str(item['title']))} | {item['share_met_text']} | "
            f"{item['answered_steps']} of {item['internal_steps']} | {markdown_text(weak)} | "
            f"{markdown_text(missing)} |"
        )
    return lines


def _steps(item: dict[str, object]) -> list[dict[str, object]]:
    steps = item["steps"]
    assert isinstance(steps, list)
    return steps


def _voice(item: dict[str, object]) -> list[dict[str, object]]:
    answers = item.get("patient_voice") or []
    assert isinstance(answers, list)
    return answers


def _name(step: dict[str, object]) -> str:
    if step["product"] is None:
        return f"step {step['number']}"
    return f"step {step['number']}, {step['product']} ({step['supplier']} → {step['customer']})"


def _share(step: dict[str, object]) -> float | None:
    return _float(step.get("share_met"))


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


# ---------------------------------------------------------------------------------------
# As a sheet of the scorecard workbook


def _change_points(change: object) -> float | None:
    """A change of share (-0.75) in points (-75), rounded as the other sheets round it."""
    return round_half_up(float(change) * 100, 0) if isinstance(change, int | float) else None


def journey_table(journeys: Sequence[Mapping[str, Any]]) -> tuple[list[Column], list[list[Any]]]:
    """The journeys' scores as a scorecard workbook's sheet: its columns and rows."""
    columns = [
        Column("Journey", 34, "prose"),
        Column("Customer", 16, "prose"),
        Column("Rolled share met", 12, "share"),
        Column("Baseline", 11, "share"),
        Column("Change", 11, "points"),
        Column("Steps to colleagues", 12, "count"),
        Column("Answered", 11, "count"),
        Column("Weakest step", 11, "count"),
        Column("Steps with no answers", 22, "prose"),
        Column("Journey id", 22, "code"),
    ]
    rows = [
        [
            str(j.get("title", "")),
            str(j.get("customer_name") or j.get("customer", "")),
            j.get("share_met"),
            j.get("baseline_share_met"),
            _change_points(j.get("change_share_met")),
            j.get("internal_steps"),
            j.get("answered_steps"),
            j.get("weakest_step"),
            ", ".join(str(n) for n in j.get("unanswered_steps") or ()),
            str(j.get("id", "")),
        ]
        for j in journeys
    ]
    return columns, rows


def voice_table(voice: Sequence[Mapping[str, Any]]) -> tuple[list[Column], list[list[Any]]]:
    """The patients' answers as a scorecard workbook's sheet: its columns and rows."""
    columns = [
        Column("Question asked on the way out", 50, "prose"),
        Column("Answers", 10, "count"),
        Column("Share yes", 10, "share"),
        Column("Baseline", 10, "share"),
        Column("Change", 10, "points"),
    ]
    rows = [
        [
            str(q.get("question", "")),
            q.get("responses"),
            q.get("share_yes"),
            q.get("baseline_share_yes"),
            _change_points(q.get("change_share_yes")),
        ]
        for q in voice
    ]
    return columns, rows
