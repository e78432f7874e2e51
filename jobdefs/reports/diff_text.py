"""A comparison of two workbooks as text: for a terminal, a pull request (Markdown) or a
program (JSON)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from jobdefs.model import Party
from jobdefs.reports.diff import HEADINGS, Change, Comparison, Side, party_dict
from jobdefs.reports.journey_diff import JOURNEY_HEADINGS, JourneyChange
from jobdefs.text import count, fold_spaces, markdown_text


def _groups(changes: Sequence[Change]) -> list[tuple[str, list[Change]]]:
    return [
        (heading, [c for c in changes if c.kind == kind])
        for kind, heading in HEADINGS.items()
        if any(c.kind == kind for c in changes)
    ]


def _journey_groups(changes: Sequence[JourneyChange]) -> list[tuple[str, list[JourneyChange]]]:
    return [
        (heading, [c for c in changes if c.kind == kind])
        for kind, heading in JOURNEY_HEADINGS.items()
        if any(c.kind == kind for c in changes)
    ]


def _journey_summary(comparison: Comparison) -> str:
    """After the summary of the roles' changes: how many journeys changed, when any did."""
    changed = len(comparison.journeys)
    return f"; {count(changed, 'journey change')}" if changed else ""


def as_text(comparison: Comparison) -> str:
    """For a terminal: a summary line, then the changes grouped by kind."""
    changes = comparison.changes
    lines = [
        f"Comparing {comparison.old.label} with {comparison.new.label}: "
        f"{count(len(changes), 'change') if changes else 'no changes'} to roles, "
        f"products or hand-offs{_journey_summary(comparison)}"
    ]
    for heading, group in _groups(changes):
        lines += ["", f"{heading} ({len(group)})"]
        lines += [f"  - {change.message()}" for change in group]
    for heading, journey_group in _journey_groups(comparison.journeys):
        lines += ["", f"{heading} ({len(journey_group)})"]
        lines += [f"  - {change.message()}" for change in journey_group]
    affected = comparison.affected
    if affected:
        lines += ["", "Customers affected: " + ", ".join(fold_spaces(p.title) for p in affected)]
    return "\n".join(lines) + "\n"


def as_markdown(comparison: Comparison) -> str:
    """For a pull-request comment: headings per kind of change, one bullet per change.

    All text from the workbook is escaped, so a role file cannot add markup, links, HTML
    or @-mentions to the comment.
    """

    def quote(text: str) -> str:
        return f"'{markdown_text(text)}'"

    changes = comparison.changes
    old, new = _markdown_label(comparison.old), _markdown_label(comparison.new)
    lines = ["## Hand-off changes", ""]
    if changes:
        lines.append(
            f"Comparing {old} with {new}: **{count(len(changes), 'change')}** to "
            f"roles, products or hand-offs{_journey_summary(comparison)}."
        )
    else:
        lines.append(
            f"Comparing {old} with {new}: no changes to roles, products or hand-offs"
            f"{_journey_summary(comparison)}."
        )
    for note in comparison.notes():
        lines += ["", f"> **Note:** {markdown_text(note.removeprefix('note: '))}"]
    for heading, group in _groups(changes):
        lines += ["", f"### {heading} ({len(group)})", ""]
        lines += [f"- {change.message(quote, markdown_text)}" for change in group]
    for heading, journey_group in _journey_groups(comparison.journeys):
        lines += ["", f"### {heading} ({len(journey_group)})", ""]
        lines += [f"- {change.message(quote, markdown_text)}" for change in journey_group]
    affected = comparison.affected
    if affected:
        lines += ["", "### Customers affected", ""]
        lines += [f"- {markdown_text(p.title)} ({markdown_text(_where(p))})" for p in affected]
    return "\n".join(lines) + "\n"


def _markdown_label(side: Side) -> str:
    spec = markdown_code(side.spec)
    if side.revision:
        return f"{spec} ({side.revision[:7]})"
    return f"the current workbook ({spec})" if side.current else spec


def markdown_code(text: str) -> str:
    """A code span holding `text` as typed, whatever backticks it holds."""
    text = fold_spaces(text)
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    return f"{fence}{padded}{fence}"


def _where(party: Party) -> str:
    return "external" if party.kind == "external" else party.department


def as_json(comparison: Comparison) -> str:
    """One JSON object whose keys are always present, in a fixed order."""

    def side(s: Side) -> dict[str, object]:
        return {
            "spec": s.spec,
            "revision": s.revision or None,
            "organization": s.workbook.organization.name,
            "roles": len(s.workbook.organization.roles),
            "handoffs": len(s.workbook.organization.handoffs),
            "errors": len(s.workbook.errors),
        }

    counts = {kind: sum(c.kind == kind for c in comparison.changes) for kind in HEADINGS}
    document = {
        "old": side(comparison.old),
        "new": side(comparison.new),
        "counts": counts,
        "changes": [change.as_dict() for change in comparison.changes],
        "affected": [party_dict(p) for p in comparison.affected],
        "notes": comparison.notes(),
        "journeys": {
            "counts": {
                kind: sum(c.kind == kind for c in comparison.journeys) for kind in JOURNEY_HEADINGS
            },
            "changes": [change.as_dict() for change in comparison.journeys],
        },
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def render(comparison: Comparison, output_format: str) -> str:
    """The comparison in one of FORMATS."""
    if output_format == "markdown":
        return as_markdown(comparison)
    if output_format == "json":
        return as_json(comparison)
    return as_text(comparison)
