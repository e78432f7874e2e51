"""The model as people read it in a terminal: one role in full, or every role in a table.

Pure functions that return text or plain data; the CLI prints them.
"""

from __future__ import annotations

import difflib
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import PurePath

from jobdefs.errors import JobdefsError
from jobdefs.model import Finding, HandOff, Organization, Party, Role
from jobdefs.text import ROLE_IDS_HINT, did_you_mean, fold_spaces
from jobdefs.workbook.load import ROLE_SUFFIXES, Workbook

WIDTH = 88
INDENT = "  "
TABLE_COLUMNS = (
    ("department", "Department"),
    ("title", "Title"),
    ("id", "Id"),
    ("products", "Products"),
    ("customers", "Customers"),
    ("suppliers", "Suppliers"),
)


class UnknownRole(JobdefsError):
    """The role id named on the command line is not in the workbook."""


def find_role(workbook: Workbook, role_id: str) -> Role:
    """The role with this id (or role file path), or UnknownRole saying what was meant."""
    organization = workbook.organization
    wanted = role_id
    if PurePath(role_id).suffix in ROLE_SUFFIXES:
        wanted = PurePath(role_id).stem
    if organization.has_role(wanted):
        return organization.role(wanted)
    unreadable = [
        f
        for f in workbook.errors
        if PurePath(f.file).stem == wanted and f.file.startswith(_roles_prefix(workbook))
    ]
    if unreadable:
        raise JobdefsError(
            f"the role file {unreadable[0].file} could not be read; fix it first:\n"
            + "".join(f"  {f.as_text()}\n" for f in unreadable).rstrip("\n")
        )
    ids = [role.id for role in organization.roles]
    hint = did_you_mean(wanted, ids)
    if not hint:
        # People often type the job title rather than the file name.
        by_title = {fold_spaces(role.title).casefold(): role.id for role in organization.roles}
        close = difflib.get_close_matches(fold_spaces(wanted).casefold(), list(by_title), n=1)
        if close:
            hint = f"; did you mean '{by_title[close[0]]}'?"
    if not hint:
        hint = ROLE_IDS_HINT if ids else "; it has no roles yet"
    raise UnknownRole(f"there is no role '{role_id}' in {organization.name}{hint}")


def _roles_prefix(workbook: Workbook) -> str:
    try:
        return workbook.roles_dir.relative_to(workbook.root).as_posix() + "/"
    except ValueError:
        return ""


def describe_role(workbook: Workbook, role_id: str) -> str:
    """One role in full: products with customers, needs and standards, suppliers, line of
    sight and its findings."""
    role = find_role(workbook, role_id)
    organization = workbook.organization
    heading = f"{fold_spaces(role.title)} ({role.id})"
    lines = [heading, "=" * len(heading)]
    details = (
        ("Department", fold_spaces(role.department)),
        ("Reports to", _role_name(organization, role.reports_to) if role.reports_to else ""),
        ("File", role.file),
        ("Revision", fold_spaces(role.revision)),
    )
    lines += [f"{label + ':':<12}{value}" for label, value in details if value]
    lines += ["", "Purpose", *_wrap(role.purpose, INDENT)]
    lines += ["", "Products", *_products(organization, role)]
    lines += ["", "Suppliers", *_suppliers(organization, role)]
    lines += ["", "Line of sight", *_line_of_sight(organization, role)]
    journeys = _journeys(organization, role)
    if journeys:
        lines += ["", "Journeys", *journeys]
    lines += ["", "Findings", *_findings(workbook.findings, role)]
    return "\n".join(lines) + "\n"


def _role_name(organization: Organization, role_id: str) -> str:
    if organization.has_role(role_id):
        return f"{fold_spaces(organization.role(role_id).title)} ({role_id})"
    return f"{role_id} (no such role)"


def _party(party: Party) -> str:
    where = "external" if party.kind == "external" else fold_spaces(party.department)
    return f"{fold_spaces(party.title)} ({where})"


def _wrap(text: str, indent: str, more: str | None = None) -> list[str]:
    """`text` on lines of at most WIDTH, the first indented by `indent`, the rest by `more`."""
    return textwrap.wrap(
        fold_spaces(text),
        WIDTH,
        initial_indent=indent,
        subsequent_indent=indent if more is None else more,
        break_on_hyphens=False,
    ) or [indent.rstrip()]


def _labelled(label: str, text: str, indent: str) -> list[str]:
    """`label: text`, wrapped with the continuation lines under the text."""
    first = f"{indent}{label}: "
    wrapped = textwrap.wrap(
        fold_spaces(text),
        WIDTH,
        initial_indent=first,
        subsequent_indent=" " * len(first),
        break_on_hyphens=False,
    )
    return wrapped or [first.rstrip()]


def _products(organization: Organization, role: Role) -> list[str]:
    by_product: dict[str, list[HandOff]] = {}
    for handoff in organization.handoffs_from(role.id):
        by_product.setdefault(handoff.product, []).append(handoff)
    lines: list[str] = []
    for product in role.products:
        lines.append(f"{INDENT}{fold_spaces(product.name)}")
        if product.description:
            lines += _wrap(product.description, INDENT * 2)
        handoffs = by_product.get(product.name, [])
        for handoff in handoffs:
            lines.append(f"{INDENT * 2}→ {_party(handoff.customer)}")
            lines += _labelled("need", handoff.need, INDENT * 4)
            lines += _labelled("standard", handoff.standard or "none set", INDENT * 4)
        if not handoffs:
            lines.append(f"{INDENT * 2}→ no customer (see the findings)")
    return lines or [f"{INDENT}none"]


def _suppliers(organization: Organization, role: Role) -> list[str]:
    by_supplier: dict[str, list[HandOff]] = {}
    for handoff in organization.handoffs_to(role.id):
        by_supplier.setdefault(handoff.supplier.id, []).append(handoff)
    lines = []
    for supplier in organization.suppliers_of(role.id):
        products = ", ".join(f"'{fold_spaces(h.product)}'" for h in by_supplier[supplier.id])
        lines += _wrap(f"{_party(organization.party(supplier))}: {products}", INDENT, INDENT * 3)
    return lines or [f"{INDENT}none: no role lists {role.id} as a customer"]


def _line_of_sight(organization: Organization, role: Role) -> list[str]:
    if not organization.external_customers:
        return [f"{INDENT}no external customers are declared in jobdefs.yaml"]
    lines = []
    for sight in organization.lines_of_sight.get(role.id, ()):
        steps = len(sight.chain)
        lines.append(
            f"{INDENT}to {fold_spaces(sight.external.name)} "
            f"({steps} hand-off{'' if steps == 1 else 's'}):"
        )
        for handoff in sight.chain:
            step = (
                f"{fold_spaces(handoff.supplier.title)} → '{fold_spaces(handoff.product)}' → "
                f"{fold_spaces(handoff.customer.title)}"
            )
            lines += _wrap(step, INDENT * 2, INDENT * 4)
    return lines or [f"{INDENT}none: no chain of hand-offs reaches an external customer"]


def _journeys(organization: Organization, role: Role) -> list[str]:
    """Each journey the role takes part in, with the steps it takes part in."""
    lines = []
    for journey in organization.journeys:
        steps = journey.steps_of(role.id)
        if steps:
            numbers = ", ".join(str(n) for n in steps)
            label = "step" if len(steps) == 1 else "steps"
            lines += _wrap(
                f"{journey.title} ({journey.id}): {label} {numbers} of {len(journey.steps)}",
                INDENT,
            )
    return lines


def _findings(findings: Iterable[Finding], role: Role) -> list[str]:
    mine = [f"{INDENT}{f.as_text()}" for f in findings if f.file == role.file]
    return mine or [f"{INDENT}none"]


def errors_note(workbook: Workbook) -> str:
    """A one-line note when the workbook has errors, else ""."""
    errors = len(workbook.errors)
    if not errors:
        return ""
    return (
        f"note: the workbook has {errors} error{'' if errors == 1 else 's'}, so some "
        "roles or hand-offs may be missing; run 'jobdefs check' to see them"
    )


def role_table(organization: Organization) -> list[dict[str, str | int]]:
    """One row per role, in the organization's order, with its numbers of products,
    customers and suppliers."""
    return [
        {
            "id": role.id,
            "title": role.title,
            "department": role.department,
            "file": role.file,
            "products": len(role.products),
            "customers": len(organization.customers_of(role.id)),
            "suppliers": len(organization.suppliers_of(role.id)),
        }
        for role in organization.roles
    ]


def format_role_table(rows: Sequence[dict[str, str | int]]) -> str:
    """The rows as an aligned text table: text left, numbers right, and a total line."""
    if not rows:
        return "no roles\n"
    cells = [[header for _, header in TABLE_COLUMNS]]
    cells += [[fold_spaces(str(row[key])) for key, _ in TABLE_COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(TABLE_COLUMNS))]
    numeric = [isinstance(rows[0][key], int) for key, _ in TABLE_COLUMNS]
    lines = []
    for line in cells:
        padded = [
            cell.rjust(width) if is_number else cell.ljust(width)
            for cell, width, is_number in zip(line, widths, numeric, strict=True)
        ]
        lines.append("  ".join(padded).rstrip())
    departments = len({row["department"] for row in rows})
    lines.append("")
    lines.append(
        f"{len(rows)} role{'' if len(rows) == 1 else 's'} in {departments} "
        f"department{'' if departments == 1 else 's'}"
    )
    return "\n".join(lines) + "\n"
