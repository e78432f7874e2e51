"""Model -> the hand-off map: Mermaid flowcharts in Markdown, and a Graphviz DOT graph.

Nodes are roles (grouped by department) and external customers; an arrow runs from a
supplier to a customer, labelled with the products handed over. Role text reaches a diagram
only through the escaping functions here, so no title or product name can end a label,
add a node or change the diagram. The same organization always gives the same text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from jobdefs.model import HandOff, Journey, Organization, Party, Role
from jobdefs.output import JOURNEYS
from jobdefs.text import fold_spaces, markdown_text

MARKDOWN_FILE = "handoffs.md"
DOT_FILE = "handoffs.dot"
# Mermaid refuses to draw a chart with more edges than this (its default maxEdges).
MERMAID_MAX_EDGES = 500
# Characters Mermaid shows as typed inside a quoted label; everything else is encoded.
_MERMAID_PLAIN = frozenset(" ,.-'/?!+=_~^$@*")
# What is neither one of those nor alphanumeric: \w is exactly str.isalnum() or "_".
_MERMAID_ENCODED = re.compile(rf"[^\w{re.escape(''.join(sorted(_MERMAID_PLAIN)))}]")


@dataclass(frozen=True)
class _Edge:
    """Every product one supplier hands one customer, in the order they were written."""

    supplier: Party
    customer: Party
    products: tuple[str, ...]


def map_sources(organization: Organization) -> str:
    """Everything the maps are drawn from, as text: the same text, the same maps.

    A build compares a digest of this with the last build's instead of drawing both maps
    to compare their bytes. A test changes workbooks at random and checks that whenever a
    map changes, this does too: keep it in step with what the maps show. Each party's
    title and department are listed once, with the roles and external customers; a
    hand-off names its parties by id. The separators cannot be in any text a file holds
    (the loader refuses control characters), so the text tells every change apart.
    """
    parts = [
        organization.name,
        "\x1d".join(f"{x.id}\x1f{x.name}" for x in organization.external_customers),
        "\x1d".join(f"{r.id}\x1f{r.title}\x1f{r.department}" for r in organization.roles),
    ]
    parts += [f"{h.supplier.id}\x1f{h.product}\x1f{h.customer.key}" for h in organization.handoffs]
    # Each journey's title and steps as its file wrote them (none: the text as before).
    parts += [
        "\x1c".join(
            [
                journey.id,
                journey.title,
                *(f"{s.supplier}\x1f{s.product}\x1f{s.to}" for s in journey.steps),
            ]
        )
        for journey in organization.journeys
    ]
    return "\x1e".join(parts)


def maps(organization: Organization) -> dict[str, bytes]:
    """Both maps by file name: handoffs.md (Mermaid) and handoffs.dot (Graphviz)."""
    return {
        MARKDOWN_FILE: mermaid_markdown(organization).encode(),
        DOT_FILE: graphviz_dot(organization).encode(),
    }


def _edges(handoffs: Iterable[HandOff]) -> list[_Edge]:
    products: dict[tuple[str, str], dict[str, None]] = {}
    ends: dict[tuple[str, str], tuple[Party, Party]] = {}
    for handoff in handoffs:
        key = (handoff.supplier.key, handoff.customer.key)
        ends.setdefault(key, (handoff.supplier, handoff.customer))
        products.setdefault(key, {})[fold_spaces(handoff.product)] = None
    return [_Edge(*ends[key], tuple(names)) for key, names in products.items()]


# Mermaid ----------------------------------------------------------------------------------


def mermaid_label(text: str) -> str:
    """Text for inside a Mermaid "quoted label": letters, digits and plain punctuation as
    they are, every other character as an entity code (#34; for a quote)."""
    return _MERMAID_ENCODED.sub(lambda m: f"#{ord(m.group())};", fold_spaces(text))


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
        self.number = {d: n for n, d in enumerate(organization.departments(), start=1)}
        self.position = {role.id: index for index, role in enumerate(organization.roles)}
        # A title or product name is drawn in several charts: encode it once.
        self._labels: dict[str, str] = {}

    def label(self, text: str) -> str:
        label = self._labels.get(text)
        if label is None:
            label = self._labels[text] = mermaid_label(text)
        return label


def _mermaid_chart(
    organization: Organization,
    roles: Sequence[Role],
    edges: Sequence[_Edge],
    focus: str | None = None,
    layout: _Layout | None = None,
) -> list[str]:
    """One flowchart: `roles` and every party at the other end of `edges`. With a
    `focus` department, roles from other departments are drawn dashed."""
    layout = layout or _Layout(organization)
    ids = layout.ids
    label = layout.label
    shown = {role.id for role in roles}
    shown.update(end.key for edge in edges for end in (edge.supplier, edge.customer))
    lines = ["flowchart LR"]
    shown_roles = sorted(
        (organization.role(key) for key in shown if key in layout.position),
        key=lambda role: layout.position[role.id],
    )
    shown_by_department: dict[str, list[Role]] = {}
    for role in shown_roles:
        shown_by_department.setdefault(role.department, []).append(role)
    # The department a chart is about comes first, so it is drawn on the left.
    for department in sorted(shown_by_department, key=lambda d: (d != focus, layout.number[d])):
        lines.append(f'  subgraph d{layout.number[department]}["{label(department)}"]')
        lines += [f'    {ids[r.id]}["{label(r.title)}"]' for r in shown_by_department[department]]
        lines.append("  end")
    for external in organization.external_customers:
        key = f"external:{external.id}"
        if key in shown:
            lines.append(f'  {ids[key]}(["{label(external.name)}"])')
    for edge in edges:
        products = "<br>".join(label(name) for name in edge.products)
        lines.append(f'  {ids[edge.supplier.key]} -->|"{products}"| {ids[edge.customer.key]}')
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
    with the hand-offs that enter or leave it, then one per journey, step by step."""
    lines = [
        f"# Hand-off map: {markdown_text(organization.name)}",
        "",
        "Each arrow runs from a supplier to a customer and is labelled with the products "
        "handed over. Generated by jobdefs from the role files: change those, not this file.",
        "",
        "## The whole organization",
        "",
    ]
    edges = _edges(organization.handoffs)
    layout = _Layout(organization)
    if not organization.roles:
        lines.append("No roles yet.")
    elif len(edges) > MERMAID_MAX_EDGES:
        lines += [
            "Too many hand-offs for one chart of roles, so this one shows departments; "
            "each department's own chart below shows its roles.",
            "",
            *_fenced(_mermaid_departments(organization)),
        ]
    else:
        lines += _fenced(_mermaid_chart(organization, organization.roles, edges, layout=layout))
    members: dict[str, list[Role]] = {}
    departments_of: dict[str, dict[str, None]] = {}
    for role in organization.roles:
        members.setdefault(role.department, []).append(role)
        departments_of.setdefault(role.id, {})[role.department] = None
    # An edge belongs to the charts of the departments at either end. It holds every
    # hand-off between its two parties, so it enters a chart whole and in its first
    # hand-off's place, as if the chart's hand-offs had been grouped on their own.
    touching: dict[str, list[_Edge]] = {department: [] for department in members}
    for edge in edges:
        ends = {
            **departments_of.get(edge.supplier.key, {}),
            **departments_of.get(edge.customer.key, {}),
        }
        for department in ends:
            touching[department].append(edge)
    for department, roles in members.items():
        lines += ["", f"## {markdown_text(department)}", ""]
        lines += _fenced(
            _mermaid_chart(
                organization, roles, touching[department], focus=department, layout=layout
            )
        )
    for journey in organization.journeys:
        lines += ["", f"## Journey: {markdown_text(journey.title)}", ""]
        if len(journey.steps) > MERMAID_MAX_EDGES:
            lines.append(f"Too many steps for one chart: see {JOURNEYS}/{journey.id}.docx.")
        else:
            lines += _fenced(_mermaid_journey(organization, journey, layout))
    return "\n".join(lines) + "\n"


def _mermaid_journey(organization: Organization, journey: Journey, layout: _Layout) -> list[str]:
    """One journey's flowchart: its parties, and an arrow per step labelled with the step's
    number and product, in the order of the steps."""
    nodes: dict[str, str] = {}  # node id -> its line, in the order the parties appear
    unknown: dict[str, str] = {}  # an id the file names that no role or customer has

    def node(party_id: str) -> str:
        for key in (party_id, f"external:{party_id}"):
            node_id = layout.ids.get(key)
            if node_id is not None:
                if node_id not in nodes:
                    if key in layout.position:
                        title = organization.role(key).title
                        nodes[node_id] = f'  {node_id}["{layout.label(title)}"]'
                    else:
                        external = organization.external(party_id)
                        name = external.name if external is not None else party_id
                        nodes[node_id] = f'  {node_id}(["{layout.label(name)}"])'
                return node_id
        node_id = unknown.setdefault(party_id, f"u{len(unknown) + 1}")
        nodes.setdefault(node_id, f'  {node_id}["{layout.label(party_id)}"]')
        return node_id

    edges = [
        f'  {node(step.supplier)} -->|"{number}. {layout.label(step.product)}"| {node(step.to)}'
        for number, step in enumerate(journey.steps, 1)
    ]
    return ["flowchart LR", *nodes.values(), *edges]


# Graphviz ---------------------------------------------------------------------------------


def dot_string(text: str) -> str:
    """A DOT double-quoted string showing `text` as typed: backslashes and quotes escaped,
    `&` as an entity (Graphviz reads entities in every label), white space folded."""
    escaped = fold_spaces(text).replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")
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
    members: dict[str, list[Role]] = {}
    for role in organization.roles:
        members.setdefault(role.department, []).append(role)
    for number, (department, roles) in enumerate(members.items(), start=1):
        lines.append(f"  subgraph cluster_{number} {{")
        lines.append(f"    label={dot_string(department)};")
        for role in roles:
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
