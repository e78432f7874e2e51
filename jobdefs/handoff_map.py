"""Model -> the hand-off map: Mermaid flowcharts in Markdown, and a Graphviz DOT graph.

Nodes are roles (grouped by department) and external customers; an arrow runs from a
supplier to a customer, labelled with the products handed over. Role text reaches a diagram
only through the escaping functions here, so no title or product name can end a label,
add a node or change the diagram. The same organization always gives the same text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from jobdefs.model import HandOff, Organization, Party, Role
from jobdefs.present import markdown_text, one_line

MARKDOWN_FILE = "handoffs.md"
DOT_FILE = "handoffs.dot"
# Mermaid refuses to draw a chart with more edges than this (its default maxEdges).
MERMAID_MAX_EDGES = 500
# Characters Mermaid shows as typed inside a quoted label; everything else is encoded.
_MERMAID_PLAIN = frozenset(" ,.-'/?!+=_~^$@*")


@dataclass(frozen=True)
class _Edge:
    """Every product one supplier hands one customer, in the order they were written."""

    supplier: Party
    customer: Party
    products: tuple[str, ...]


def _edges(handoffs: Iterable[HandOff]) -> list[_Edge]:
    products: dict[tuple[str, str], dict[str, None]] = {}
    ends: dict[tuple[str, str], tuple[Party, Party]] = {}
    for handoff in handoffs:
        key = (handoff.supplier.key, handoff.customer.key)
        ends.setdefault(key, (handoff.supplier, handoff.customer))
        products.setdefault(key, {})[one_line(handoff.product)] = None
    return [_Edge(*ends[key], tuple(names)) for key, names in products.items()]


# Mermaid ----------------------------------------------------------------------------------


def mermaid_label(text: str) -> str:
    """Text for inside a Mermaid "quoted label": letters, digits and plain punctuation as
    they are, every other character as an entity code (#34; for a quote)."""
    return "".join(
        c if c.isalnum() or c in _MERMAID_PLAIN else f"#{ord(c)};" for c in one_line(text)
    )


def _mermaid_ids(organization: Organization) -> dict[str, str]:
    """Node ids by party key: role ids are already safe once their hyphens are gone;
    external customer ids can be any text, so they are numbered."""
    ids = {role.id: "r_" + role.id.replace("-", "_") for role in organization.roles}
    for number, external in enumerate(organization.external_customers, start=1):
        ids[f"external:{external.id}"] = f"x{number}"
    return ids


class _Layout:
    """What every chart of one organization shares, worked out once."""

    def __init__(self, organization: Organization) -> None:
        self.ids = _mermaid_ids(organization)
        self.departments = list(enumerate(organization.departments(), start=1))
        self.position = {role.id: index for index, role in enumerate(organization.roles)}


def _mermaid_chart(
    organization: Organization,
    roles: Sequence[Role],
    handoffs: Sequence[HandOff],
    focus: str | None = None,
    layout: _Layout | None = None,
) -> list[str]:
    """One flowchart: `roles` and every party at the other end of `handoffs`. With a
    `focus` department, roles from other departments are drawn dashed."""
    layout = layout or _Layout(organization)
    ids = layout.ids
    shown = {role.id for role in roles}
    shown.update(end.key for h in handoffs for end in (h.supplier, h.customer))
    lines = ["flowchart LR"]
    # The department a chart is about comes first, so it is drawn on the left.
    numbered = sorted(layout.departments, key=lambda pair: pair[1] != focus)
    shown_roles = sorted((organization.role(key) for key in shown if key in layout.position),
                         key=lambda role: layout.position[role.id])
    shown_by_department: dict[str, list[Role]] = {}
    for role in shown_roles:
        shown_by_department.setdefault(role.department, []).append(role)
    for number, department in numbered:
        members = shown_by_department.get(department, [])
        if not members:
            continue
        lines.append(f'  subgraph d{number}["{mermaid_label(department)}"]')
        lines += [f'    {ids[r.id]}["{mermaid_label(r.title)}"]' for r in members]
        lines.append("  end")
    for external in organization.external_customers:
        key = f"external:{external.id}"
        if key in shown:
            lines.append(f'  {ids[key]}(["{mermaid_label(external.name)}"])')
    for edge in _edges(handoffs):
        label = "<br>".join(mermaid_label(name) for name in edge.products)
        lines.append(f'  {ids[edge.supplier.key]} -->|"{label}"| {ids[edge.customer.key]}')
    if focus is not None:
        others = [ids[r.id] for r in shown_roles if r.department != focus]
        if others:
            lines.append("  classDef other stroke-dasharray: 5 5")
            lines.append(f"  class {','.join(others)} other")
    return lines


def _mermaid_departments(organization: Organization) -> list[str]:
    """A chart of departments instead of roles, for organizations too large for one chart."""
    departments = organization.departments()
    number = {department: f"d{i}" for i, department in enumerate(departments, start=1)}
    ids = _mermaid_ids(organization)
    lines = ["flowchart LR"]
    lines += [f'  {number[d]}["{mermaid_label(d)}"]' for d in departments]
    lines += [
        f'  {ids[f"external:{x.id}"]}(["{mermaid_label(x.name)}"])'
        for x in organization.external_customers
    ]
    # Edges in the order of the node lines: departments first, then external customers.
    rank = {
        node: i
        for i, node in enumerate(
            [*number.values(), *(ids[f"external:{x.id}"] for x in organization.external_customers)]
        )
    }
    counts: dict[tuple[str, str], int] = {}
    for handoff in organization.handoffs:
        source = number[handoff.supplier.department]
        target = (
            ids[handoff.customer.key]
            if handoff.customer.kind == "external"
            else number[handoff.customer.department]
        )
        counts[(source, target)] = counts.get((source, target), 0) + 1
    for (source, target), count in sorted(
        counts.items(), key=lambda item: (rank[item[0][0]], rank[item[0][1]])
    ):
        lines.append(f'  {source} -->|"{count} hand-off{"" if count == 1 else "s"}"| {target}')
    return lines


def _fenced(chart: list[str]) -> list[str]:
    return ["```mermaid", *chart, "```"]


def mermaid_markdown(organization: Organization) -> str:
    """handoffs.md: a Mermaid flowchart of the whole organization, then one per department
    with the hand-offs that enter or leave it."""
    lines = [
        f"# Hand-off map: {markdown_text(organization.name)}",
        "",
        "Each arrow runs from a supplier to a customer and is labelled with the products "
        "handed over. Generated by jobdefs from the role files: change those, not this file.",
        "",
        "## The whole organization",
        "",
    ]
    if not organization.roles:
        lines.append("No roles yet.")
    elif len(_edges(organization.handoffs)) > MERMAID_MAX_EDGES:
        lines += [
            "Too many hand-offs for one chart of roles, so this one shows departments; "
            "each department's own chart below shows its roles.",
            "",
            *_fenced(_mermaid_departments(organization)),
        ]
    else:
        lines += _fenced(_mermaid_chart(organization, organization.roles, organization.handoffs))
    layout = _Layout(organization)
    by_department: dict[str, list[Role]] = {}
    for role in organization.roles:
        by_department.setdefault(role.department, []).append(role)
    order = {id(h): i for i, h in enumerate(organization.handoffs)}
    for department in organization.departments():
        members = by_department[department]
        touching_by_id = {
            id(h): h
            for r in members
            for h in (*organization.handoffs_from(r.id), *organization.handoffs_to(r.id))
        }
        touching = sorted(touching_by_id.values(), key=lambda h: order[id(h)])
        lines += ["", f"## {markdown_text(department)}", ""]
        lines += _fenced(
            _mermaid_chart(organization, members, touching, focus=department, layout=layout)
        )
    return "\n".join(lines) + "\n"


# Graphviz ---------------------------------------------------------------------------------


def dot_string(text: str) -> str:
    """A DOT double-quoted string showing `text` as typed: backslashes and quotes escaped,
    `&` as an entity (Graphviz reads entities in every label), white space folded."""
    escaped = one_line(text).replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")
    return f'"{escaped}"'


def graphviz_dot(organization: Organization) -> str:
    """handoffs.dot: one directed graph, each department a cluster of its roles, external
    customers outside the clusters, one edge per supplier and customer."""
    lines = [
        "digraph handoffs {",
        f"  graph [label={dot_string(organization.name)}, labelloc=t, rankdir=LR, "
        'fontname="Helvetica"];',
        '  node [shape=box, style=rounded, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for number, department in enumerate(organization.departments(), start=1):
        lines.append(f"  subgraph cluster_{number} {{")
        lines.append(f"    label={dot_string(department)};")
        for role in organization.roles:
            if role.department == department:
                lines.append(f"    {dot_string(role.id)} [label={dot_string(role.title)}];")
        lines.append("  }")
    for external in organization.external_customers:
        lines.append(
            f"  {dot_string('external:' + external.id)} "
            f"[label={dot_string(external.name)}, shape=ellipse, style=solid];"
        )
    for edge in _edges(organization.handoffs):
        # Each name is escaped on its own, so the \n between them stays a line break.
        label = "\\n".join(dot_string(name)[1:-1] for name in edge.products)
        lines.append(
            f"  {dot_string(edge.supplier.key)} -> {dot_string(edge.customer.key)} "
            f'[label="{label}"];'
        )
    lines.append("}")
    return "\n".join(lines) + "\n"
