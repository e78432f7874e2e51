"""What a job aid says: the variables a template can use, each role's render context,
and rendering job aids from a compiled template (word_template).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jobdefs.documents.ooxml import ZIP_EPOCH
from jobdefs.documents.template_files import (
    default_template_path,
    job_aid_template_path,
    load_job_aid_template,
)
from jobdefs.documents.template_variables import FARTHEST_SHOWN
from jobdefs.documents.word_template import JobAidTemplate
from jobdefs.model import EXTERNAL_DEPARTMENT, LineOfSight, Organization, Role, open_gaps

ARROW = " \u2192 "

# -- the render context ---------------------------------------------------------------


def job_aid_context(
    organization: Organization, role: Role, figures: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Everything a job-aid template can show about one role, as plain data.

    `figures` is what `role_figures.role_figures` says about the role, when a scorecard is given.
    """

    def role_title(role_id: str) -> str:
        return organization.role(role_id).title if organization.has_role(role_id) else role_id

    def role_department(role_id: str) -> str:
        return organization.role(role_id).department if organization.has_role(role_id) else ""

    def external_name(external_id: str) -> str:
        external = organization.external(external_id)
        return external.name if external is not None else external_id

    def party_title(key: str) -> str:
        if key.startswith("external:"):
            return external_name(key.removeprefix("external:"))
        return role_title(key)

    products = [
        {
            "name": product.name,
            "description": product.description,
            "customers": [
                {
                    "title": (
                        role_title(customer.role)
                        if customer.role is not None
                        else external_name(customer.ref)
                    ),
                    "kind": customer.kind,
                    "department": (
                        role_department(customer.role)
                        if customer.role is not None
                        else EXTERNAL_DEPARTMENT
                    ),
                    "need": customer.need,
                    "standard": customer.standard,
                }
                for customer in product.customers
            ],
        }
        for product in role.products
    ]

    received = organization.handoffs_to(role.id)
    suppliers = [
        {
            "title": handoff.supplier.title,
            "department": handoff.supplier.department,
            "product": handoff.product,
            "description": handoff.description,
            "need": handoff.need,
            "standard": handoff.standard,
        }
        for handoff in received
    ]

    served: dict[str, dict[str, Any]] = {}
    for handoff in organization.handoffs_from(role.id):
        entry = served.setdefault(
            handoff.customer.key,
            {
                "title": handoff.customer.title,
                "kind": handoff.customer.kind,
                "department": handoff.customer.department,
                "products": [],
            },
        )
        if handoff.product not in entry["products"]:
            entry["products"].append(handoff.product)
    customers = list(served.values())
    for entry in customers:
        entry["products_text"] = "\n".join(entry["products"])

    gaps = [
        {
            "product": expected.product,
            "supplier": role_title(expected.supplier),
            "supplier_department": role_department(expected.supplier),
            "instead": ", ".join(
                dict.fromkeys(h.product for h in received if h.supplier.id == expected.supplier)
            ),
        }
        for expected in open_gaps(role.receives, received)
    ]

    lines = [_line_of_sight(sight) for sight in organization.lines_of_sight.get(role.id, ())]
    lead = lines[0] if lines else _NO_LINE
    others = sorted(lines[1:], key=lambda line: line["handoffs"])  # stable: declared order
    shown = [
        {key: line[key] for key in ("customer", "handoffs", "direct", "distance")}
        for line in others
        if line["handoffs"] <= FARTHEST_SHOWN
    ]

    moments = [{"moment": m.moment, "practice": m.practice} for m in role.moments_of_truth]
    journeys = [
        {
            "title": journey.title,
            "steps": ", ".join(str(n) for n in steps),
            "of": len(journey.steps),
            "label": "step" if len(steps) == 1 else "steps",
        }
        for journey in organization.journeys
        if (steps := journey.steps_of(role.id))
    ]
    questions = [q.text for q in role.feedback_questions]
    feedback = [
        {"question": q.text, "asks": party_title(q.asks) if q.asks else ""}
        for q in role.feedback_questions
    ]
    return {
        "organization": {"name": organization.name, "mission": organization.mission},
        "role": {
            "id": role.id,
            "title": role.title,
            "department": role.department,
            "reports_to": role_title(role.reports_to) if role.reports_to else "",
            "revision": role.revision,
            "reviewed": role.reviewed,
            "file": role.file,
            "purpose": role.purpose,
        },
        "products": products,
        "suppliers": suppliers,
        "customers": customers,
        "gaps": gaps,
        "lines_of_sight": lines,
        "line_of_sight": lead,
        "other_lines_of_sight": shown,
        "no_line_of_sight": "" if lines else _no_line_of_sight(organization),
        "moments_of_truth": moments,
        "journeys": journeys,
        "feedback_questions": questions,
        "feedback": feedback,
        "has_suppliers": bool(suppliers),
        "has_customers": bool(customers),
        "has_gaps": bool(gaps),
        "has_handoffs": bool(suppliers or customers or gaps),
        "has_lines_of_sight": bool(lines),
        "has_other_lines_of_sight": bool(shown),
        "has_moments_of_truth": bool(moments),
        "has_journeys": bool(journeys),
        "has_feedback_questions": bool(questions),
        "scorecard": scorecard_context(figures),
    }


def job_aid_sources(organization: Organization, role: Role) -> tuple[list[str], list[str]]:
    """What `job_aid_context` reads beyond the role itself and the organization's settings.

    The ids of the roles whose files it shows something of (suppliers, customers, the
    expected suppliers of open gaps, the manager, every role on a line of sight), and the
    shape of its lines of sight, which hand-offs far away can change. A build digests
    these instead of every context, so that knowing which job aids are out of date costs
    next to nothing; a test changes workbooks in many ways and checks that whenever a
    context changes, these do too. Keep the two functions in step.
    """
    related = {role.id}
    if role.reports_to:
        related.add(role.reports_to)
    # Every customer it hands something to is named in its own products.
    for product in role.products:
        related.update([c.role for c in product.customers if c.role is not None])
    related.update([expected.supplier for expected in role.receives])
    related.update([h.supplier.id for h in organization.handoffs_to(role.id)])
    shape = []
    for sight in organization.lines_of_sight.get(role.id, ()):
        related.update([h.supplier.id for h in sight.chain])
        # Each hand-off by what its id is made of: quicker than hashing it into the id.
        shape.append(
            "\x1f".join(
                [
                    sight.external.id,
                    *[f"{h.supplier.id}\x1e{h.product}\x1e{h.customer.key}" for h in sight.chain],
                ]
            )
        )
    return sorted(related), shape


def scorecard_context(figures: Mapping[str, Any] | None) -> dict[str, Any]:
    """The `scorecard` a template sees: role_figures() as text, or empty values without one."""
    figures = figures or {}
    found = bool(figures.get("found"))

    def text(key: str) -> str:
        return str(figures.get(key) or "") if found else ""

    handoffs = []
    for item in figures.get("handoffs", []) if found else []:
        share, rating = item["share_met_text"], item["mean_rating_text"]
        answered = f"{item['responses']} of {item['asked']}"
        change = str(item.get("change_points_text") or "")
        line = f"{item['product']}{ARROW}{item['customer']}: {share} met ({answered} answers)"
        if item.get("mean_rating") is not None:
            line += f", mean rating {rating}"
        if change:
            line += f", {change}"
        handoffs.append(
            {
                "product": item["product"],
                "customer": item["customer"],
                "customer_department": item["customer_department"],
                "share_met": share,
                "mean_rating": rating,
                "change": change,
                "answered": answered,
                "responses": int(item["responses"]),
                "changed": bool(item["changed_since_survey"]),
                "text": line,
            }
        )
    return {
        "found": found,
        "round": text("round"),
        "baseline_round": text("baseline_round"),
        "summary": text("summary"),
        "share_met": text("share_met_text"),
        "mean_rating": text("mean_rating_text"),
        "change": text("change_points_text"),
        "responses": int(figures.get("responses") or 0) if found else 0,
        "asked": int(figures.get("asked") or 0) if found else 0,
        "handoffs": handoffs,
    }


def _line_of_sight(sight: LineOfSight) -> dict[str, Any]:
    steps = [{"role": h.supplier.title, "product": h.product} for h in sight.chain]
    words = [word for step in steps for word in (step["role"], step["product"])]
    direct = len(steps) == 1
    return {
        "customer": sight.external.name,
        "chain": ARROW.join([*words, sight.external.name]),
        "steps": steps,
        "handoffs": len(steps),
        "direct": direct,
        "distance": "you hand your work to them yourself"
        if direct
        else f"{len(steps)} hand-offs away",
    }


# What `line_of_sight` holds when no chain reaches anyone outside.
_NO_LINE: dict[str, Any] = {
    "customer": "",
    "chain": "",
    "steps": [],
    "handoffs": 0,
    "direct": False,
    "distance": "",
}


def _no_line_of_sight(organization: Organization) -> str:
    names = [external.name for external in organization.external_customers]
    if not names:
        return (
            f"{organization.name} has not yet named the people it serves from outside (such "
            "as patients), so this job aid cannot show where your work leads. Ask your "
            "manager whom your work is ultimately for."
        )
    whom = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return (
        f"No chain of hand-offs written down so far leads from your work to {whom}. Your "
        "work still matters to them: ask your manager who depends on what you produce, so "
        "the missing hand-off can be added to the role files."
    )


# -- rendering ---------------------------------------------------------------------------


def render_job_aid(
    organization: Organization,
    role: Role,
    template: JobAidTemplate | None = None,
    moment: datetime.datetime = ZIP_EPOCH,
) -> bytes:
    """One role's job aid as .docx bytes (the default template unless one is given)."""
    template = template or load_job_aid_template(default_template_path())
    return template.render(job_aid_context(organization, role), moment, title=role.title)


def render_job_aids(
    organization: Organization,
    templates_dir: Path | None = None,
    only: Sequence[str] | None = None,
    moment: datetime.datetime = ZIP_EPOCH,
    root: Path | None = None,
) -> dict[str, bytes]:
    """Every role's job aid (or the roles in `only`), keyed by the path `job-aids/<id>.docx`.

    The workbook's own template in `templates_dir` overrides the default; `root` is the
    workbook folder, so that error messages name the template relative to it.
    """
    path = job_aid_template_path(templates_dir)
    name = str(path)
    if root is not None and path.is_relative_to(root):
        name = path.relative_to(root).as_posix()
    template = load_job_aid_template(path, name)
    wanted = set(only) if only is not None else None
    return {
        f"job-aids/{role.id}.docx": render_job_aid(organization, role, template, moment)
        for role in organization.roles
        if wanted is None or role.id in wanted
    }
