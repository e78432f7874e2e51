"""What a role's job aid (and its page of the explorer) can say of how its customers rate
it: the scorecard's figures for one supplier role, as JSON-safe values and ready text."""

from __future__ import annotations

from typing import Any

from jobdefs.feedback.scoring import (
    Change,
    Figures,
    Scorecard,
    answered,
    percent,
    points,
    rating,
    round_half_up,
)
from jobdefs.feedback.survey import NOT_RECEIVED, RATING_MAX


def role_figures(card: Scorecard, role_id: str) -> dict[str, Any]:
    """What a role's job aid can say about how its customers rate it (JSON-safe values).

    `found` is False when none of the role's hand-offs was in the surveys.
    """
    group = next((r for r in card.roles if r.key == role_id), None)
    items = [h for h in card.handoffs if h.handoff.supplier.id == role_id]
    figures = group.figures if group else Figures()
    change = group.change if group else None
    since = ", ".join(card.baseline_rounds) or "the baseline"
    result: dict[str, Any] = {
        "found": group is not None,
        "role": role_id,
        "round": ", ".join(card.rounds),
        "baseline_round": ", ".join(card.baseline_rounds),
        **_figure_fields(figures, change, since),
        "handoffs": [
            {
                "id": h.handoff.id,
                "product": h.handoff.product,
                "customer": h.handoff.customer.title,
                "customer_department": h.handoff.customer.department,
                **_figure_fields(h.figures, h.change, since),
                "changed_since_survey": h.changed,
                "comments": [c.text for c in h.comments],
            }
            for h in items
        ],
    }
    summary = f"{percent(figures.share_met)} met in {answered(figures)} answers"
    if change and change.share_met is not None:
        summary += f" ({points(change.share_met)} since {since})"
    if figures.mean_rating is not None:
        summary += f"; mean rating {rating(figures.mean_rating)} of {RATING_MAX}"
    if figures.gaps:
        summary += f"; {figures.gaps} “{NOT_RECEIVED}”"
    result["summary"] = summary if group else ""
    return result


def _figure_fields(figures: Figures, change: Change | None, since: str) -> dict[str, Any]:
    share_change = change.share_met if change else None
    rating_moved = change.mean_rating if change else None
    return {
        **figures.as_dict(),
        "share_met_text": percent(figures.share_met),
        "mean_rating_text": rating(figures.mean_rating),
        "change_share_met": round_half_up(share_change, 4),
        "change_mean_rating": round_half_up(rating_moved, 2),
        "change_text": f"{points(share_change)} since {since}" if share_change is not None else "",
        # The same change without the baseline's name, for a line that names it elsewhere.
        "change_points_text": points(share_change) if share_change is not None else "",
    }
