"""The scorecard printed: text for a terminal, JSON for programs, Markdown for a report."""

from __future__ import annotations

import json
from collections.abc import Sequence

from jobdefs.feedback.journey_score import journey_lines, journey_markdown
from jobdefs.feedback.patient_voice_score import PatientVoice, voice_lines, voice_markdown
from jobdefs.feedback.scoring import (
    SCORES,
    SCORING,
    Change,
    Figures,
    GroupScore,
    HandOffScore,
    Scorecard,
    answered,
    percent,
    points,
    rating,
    rating_change,
)
from jobdefs.feedback.survey import MET, NOT_MET, NOT_RECEIVED, PARTLY_MET, RATING_MAX
from jobdefs.model import HandOff
from jobdefs.text import count, cut, markdown_text

FORMATS = ("text", "json", "markdown")
MARKDOWN_MAX = 60_000  # GitHub refuses comments over 65,536 characters


def figure_cells(figures: Figures, change: Change | None, with_change: bool) -> list[str]:
    """One table row of figures, with the change columns when there is a baseline."""
    values = [answered(figures), percent(figures.share_met)]
    if with_change:
        values.append(points(change.share_met if change else None))
    values.append(rating(figures.mean_rating))
    if with_change:
        values.append(rating_change(change.mean_rating if change else None))
    values.append(str(figures.gaps))
    return values


def handoff_name(handoff: HandOff) -> str:
    return f"{handoff.product} ({handoff.supplier.title} → {handoff.customer.title})"


def as_text(card: Scorecard, threshold: float | None = None) -> str:
    """The scorecard for a terminal."""
    lines = [f"Service scorecard: {_plain(card.organization)}", rounds_line(card), SCORING, ""]
    lines.append("Overall: " + figures_line(card.overall.figures, card.overall.change))
    base = card.has_baseline
    headings = [
        "Answered",
        "Met",
        *(["Change"] if base else []),
        "Rating",
        *(["Change"] if base else []),
        "Gaps",
    ]

    sections: list[tuple[str, str, list[list[str]]]] = [
        (
            "By department (as supplier)",
            "Department",
            [[d.title, *figure_cells(d.figures, d.change, base)] for d in card.departments],
        ),
        (
            "By supplier role",
            "Role",
            [[r.title, *figure_cells(r.figures, r.change, base)] for r in card.roles],
        ),
    ]
    for title, first, rows in sections:
        lines += ["", title, *_columns([first, *headings], rows)]
    shown = _answered_handoffs(card)
    lines += ["", f"By hand-off ({_unanswered_note(card, shown)})"]
    lines += _columns(
        ["Supplier", "Product", "Customer", *headings],
        [
            [
                cut(_plain(h.handoff.supplier.title), 28),
                cut(_plain(h.handoff.product), 32) + (" *" if h.changed else ""),
                cut(_plain(h.handoff.customer.title), 28),
                *figure_cells(h.figures, h.change, base),
            ]
            for h in shown
        ],
    )
    if any(h.changed for h in card.handoffs):
        lines.append("* changed after the survey was made")
    comments = [(h, c) for h in card.handoffs for c in h.comments]
    if comments:
        lines += ["", "Comments"]
        for item, comment in comments:
            lines.append(
                f"- {_plain(handoff_name(item.handoff))}, "
                f"{comment.answer or 'no answer'}: “{_plain(comment.text)}”"
            )
    if threshold is not None:
        lines += ["", _below_line(card, threshold)]
    return "\n".join(lines) + "\n"


def _answered_handoffs(card: Scorecard) -> list[HandOffScore]:
    """The hand-offs text and Markdown list: those with an answer in either round."""
    return [
        h
        for h in card.handoffs
        if h.figures.responses or (h.baseline is not None and h.baseline.responses)
    ]


def _unanswered_note(card: Scorecard, shown: Sequence[HandOffScore]) -> str:
    left_out = len(card.handoffs) - len(shown)
    text = f"{len(shown)} answered"
    if left_out:
        text += f"; {left_out} without any answer are in the JSON and scorecard.xlsx"
    return text


def rounds_line(card: Scorecard) -> str:
    """Which rounds were read, from how many surveys, and the baseline's."""
    line = f"This round: {', '.join(card.rounds) or '(unnamed)'} "
    line += _surveys(card.files, card.answered_files)
    if card.has_baseline:
        line += f"; baseline: {', '.join(card.baseline_rounds) or '(unnamed)'} "
        line += _surveys(card.baseline_files, card.answered_baseline_files)
    return line


def _surveys(files: Sequence[str], answered: Sequence[str]) -> str:
    """'(3 surveys)' when each was answered, '(30 surveys, 3 answered)' otherwise."""
    read = count(len(files), "survey")
    return f"({read})" if len(answered) == len(files) else f"({read}, {len(answered)} answered)"


def figures_line(figures: Figures, change: Change | None) -> str:
    """Figures in one line: answered, share met, mean rating and gaps, with the change."""
    share = (
        "nothing to score yet" if figures.share_met is None else percent(figures.share_met) + " met"
    )
    if change and change.share_met is not None:
        share += f" ({points(change.share_met)})"
    line = f"{answered(figures)} answered · {share}"
    if figures.mean_rating is not None:
        line += f" · mean rating {rating(figures.mean_rating)} of {RATING_MAX}"
        if change and change.mean_rating is not None:
            line += f" ({rating_change(change.mean_rating)})"
    return line + f" · {count(figures.gaps, 'gap')} (“{NOT_RECEIVED}”)"


def _below_line(card: Scorecard, threshold: float) -> str:
    below = card.below(threshold)
    if not below:
        return f"Every answered hand-off is at or above {percent(threshold)} met."
    names = "; ".join(
        f"{_plain(handoff_name(h.handoff))} {percent(h.figures.share_met)}" for h in below
    )
    return f"{count(len(below), 'hand-off')} below {percent(threshold)} met: {names}"


def _plain(text: str) -> str:
    """One line of text with nothing a terminal would act on."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def _columns(headings: list[str], rows: list[list[str]], first_max: int = 56) -> list[str]:
    if not rows:
        return ["(none)"]
    rows = [[cut(_plain(row[0]), first_max), *(_plain(cell) for cell in row[1:])] for row in rows]
    widths = [max(len(r[i]) for r in [headings, *rows]) for i in range(len(headings))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [headings, *rows]
    ]


def as_json(
    card: Scorecard,
    threshold: float | None = None,
    voice: PatientVoice | None = None,
    journeys: Sequence[dict[str, object]] = (),
) -> str:
    """The scorecard for programs: one JSON object (with `patient_voice` and `journeys`
    when the workbook has journeys or the patients' answers were given)."""

    def group(item: GroupScore, key: str) -> dict[str, object]:
        entry: dict[str, object] = {key: item.key} if key else {}
        if key == "role":
            entry.update(title=item.title, department=item.department)
        entry.update(handoffs=item.handoffs, **item.figures.as_dict())
        entry["baseline"] = item.baseline.as_dict() if item.baseline else None
        entry["change"] = item.change.as_dict() if item.change else None
        return entry

    handoffs = []
    for item in card.handoffs:
        h = item.handoff
        entry: dict[str, object] = {
            "id": h.id,
            "fingerprint": h.fingerprint,
            "supplier": {
                "role": h.supplier.id,
                "title": h.supplier.title,
                "department": h.supplier.department,
            },
            "product": h.product,
            "customer": {
                "kind": h.customer.kind,
                "id": h.customer.id,
                "title": h.customer.title,
                "department": h.customer.department,
            },
            "need": h.need,
            "standard": h.standard,
            **item.figures.as_dict(),
            "baseline": item.baseline.as_dict() if item.baseline else None,
            "change": item.change.as_dict() if item.change else None,
            "changed_since_survey": item.changed,
            "comments": [c.as_dict() for c in item.comments],
        }
        handoffs.append(entry)
    document: dict[str, object] = {
        "organization": card.organization,
        "rounds": list(card.rounds),
        "baseline_rounds": list(card.baseline_rounds),
        "files": list(card.files),
        "baseline_files": list(card.baseline_files),
        "scoring": {
            MET: SCORES[MET],
            PARTLY_MET: SCORES[PARTLY_MET],
            NOT_MET: SCORES[NOT_MET],
            NOT_RECEIVED: "gap",
        },
        "overall": group(card.overall, ""),
        "departments": [group(d, "department") for d in card.departments],
        "roles": [group(r, "role") for r in card.roles],
        "handoffs": handoffs,
        "notes": [n.as_dict() for n in card.notes],
    }
    if threshold is not None:
        document["fail_below"] = threshold
        document["below"] = [h.handoff.id for h in card.below(threshold)]
    if voice is not None:
        document["patient_voice"] = voice.as_json()
    if journeys:
        document["journeys"] = list(journeys)
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def md(text: str) -> str:
    """Text that Markdown shows as typed, on one line: no markup, HTML or @mention."""
    return markdown_text(_plain(text))


def as_markdown(card: Scorecard, threshold: float | None = None) -> str:
    """The scorecard for a report or a pull-request comment (GitHub-flavoured Markdown)."""
    base = card.has_baseline
    out = [f"### Service scorecard: {md(card.organization)}", "", md(rounds_line(card)), ""]
    out += [f"**Overall:** {md(figures_line(card.overall.figures, card.overall.change))}", ""]
    if threshold is not None:
        below = card.below(threshold)
        if below:
            out += [f"**{count(len(below), 'hand-off')} below {percent(threshold)} met**", ""]
            out += _md_table(
                ["Hand-off", "Answered", "Share met"],
                [
                    [md(handoff_name(h.handoff)), answered(h.figures), percent(h.figures.share_met)]
                    for h in below
                ],
            )
            out.append("")
        else:
            out += [f"Every answered hand-off is at or above {percent(threshold)} met.", ""]

    headings = [
        "Answered",
        "Share met",
        *(["Change"] if base else []),
        "Mean rating",
        *(["Change"] if base else []),
        "Gaps",
    ]
    out += _md_table(
        ["Department", *headings],
        [[md(d.title), *figure_cells(d.figures, d.change, base)] for d in card.departments],
    )
    out += ["", f"<details><summary>By supplier role ({len(card.roles)})</summary>", ""]
    out += _md_table(
        ["Role", "Department", *headings],
        [
            [md(r.title), md(r.department), *figure_cells(r.figures, r.change, base)]
            for r in card.roles
        ],
    )
    shown = _answered_handoffs(card)
    out += [
        "",
        "</details>",
        "",
        f"<details><summary>By hand-off ({md(_unanswered_note(card, shown))})</summary>",
        "",
    ]
    out += _md_table(
        ["Supplier", "Product", "Customer", *headings],
        [
            [
                md(h.handoff.supplier.title),
                md(h.handoff.product) + (" (changed since asked)" if h.changed else ""),
                md(h.handoff.customer.title),
                *figure_cells(h.figures, h.change, base),
            ]
            for h in shown
        ],
    )
    out += ["", "</details>"]
    comments = [(h, c) for h in card.handoffs for c in h.comments]
    if comments:
        out += ["", f"<details><summary>Comments ({len(comments)})</summary>", ""]
        out += [
            f"- **{md(h.handoff.product)}** ({md(h.handoff.supplier.title)} → "
            f"{md(h.handoff.customer.title)}), {md(c.answer or 'no answer')}: "
            f"{md(cut(c.text, 400))}"
            for h, c in comments
        ]
        out += ["", "</details>"]
    if card.notes:
        out += ["", f"<details><summary>Notes ({len(card.notes)})</summary>", ""]
        out += [f"- {md(n.as_text())}" for n in card.notes]
        out += ["", "</details>"]
    out += ["", f"_{md(SCORING)}_"]
    text = "\n".join(out) + "\n"
    if len(text) > MARKDOWN_MAX:
        text = text[:MARKDOWN_MAX].rsplit("\n", 1)[0] + (
            "\n\n_… cut to fit one comment: see the JSON or scorecard.xlsx for the rest._\n"
        )
    return text


def _md_table(headings: list[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return ["_None._"]
    align = ["---"] + [
        "---:"
        if h not in ("Role", "Department", "Supplier", "Product", "Customer", "Hand-off")
        else "---"
        for h in headings[1:]
    ]
    return [
        "| " + " | ".join(headings) + " |",
        "| " + " | ".join(align) + " |",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def render(
    card: Scorecard,
    output_format: str,
    threshold: float | None = None,
    voice: PatientVoice | None = None,
    journeys: Sequence[dict[str, object]] = (),
) -> str:
    """The scorecard as text, json or markdown, with the patients' answers (`voice`) and
    the journeys' scores after the hand-offs."""
    if output_format == "json":
        return as_json(card, threshold, voice, journeys)
    if output_format == "markdown":
        extra = (voice_markdown(voice) if voice else []) + journey_markdown(journeys)
        report = as_markdown(card, threshold)
    else:
        extra = (voice_lines(voice) if voice else []) + journey_lines(journeys)
        report = as_text(card, threshold)
    return report + ("\n" + "\n".join(extra) + "\n" if extra else "")
