"""Departments: the file name each one's review workbook gets, and the hand-offs it holds.

A department's review workbook holds the hand-offs in which one of its roles is the
supplier, or the customer (`involves`). These are rules of the organization, not of a file
format: documents.review_workbooks writes the workbooks, and a build groups the hand-offs
with them to tell which workbooks are out of date.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from jobdefs.model import Finding, HandOff, Organization, Role, fold_name
from jobdefs.output import WINDOWS_RESERVED

SLUG_MAX = 60


def department_slugs(departments: Iterable[str]) -> dict[str, str]:
    """A file name stem for each department: unique, lower-case and safe on every system.

    A slug holds only letters, digits and single hyphens: never a dot, a separator or `..`,
    so `departments/<slug>.xlsx` always stays inside the output folder. Of names that clean
    to the same slug, the shortest (then the first alphabetically) keeps it and the others
    get -2, -3, ...: decided by the names alone, never by the order they come in.
    """
    names = list(dict.fromkeys(departments))
    base = {name: _slug(name) for name in names}
    taken = set(base.values())
    slugs: dict[str, str] = {}
    claimed: set[str] = set()
    for name in sorted(names, key=lambda n: (base[n], len(n), n)):
        slug = base[name]
        if slug in claimed:
            number = 2
            while f"{slug}-{number}" in taken or f"{slug}-{number}" in claimed:
                number += 1
            slug = f"{slug}-{number}"
        claimed.add(slug)
        slugs[name] = slug
    return {name: slugs[name] for name in names}


def _slug(name: str) -> str:
    letters = "".join(
        ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch)
    )
    slug = re.sub(r"[\W_]+", "-", unicodedata.normalize("NFC", letters).casefold()).strip("-")
    if len(slug) > SLUG_MAX:
        slug = slug[:SLUG_MAX].rstrip("-")
        if slug.rfind("-") > SLUG_MAX // 2:  # end on a whole word when one is near
            slug = slug[: slug.rfind("-")]
    if not slug:
        return "department"
    return f"{slug}-department" if slug in WINDOWS_RESERVED else slug


def handoffs_by_department(
    organization: Organization, departments: Iterable[str] | None = None
) -> dict[str, list[HandOff]]:
    """The hand-offs each department's review workbook holds, in the organization's order.

    `departments` limits them to these: then only their own roles' hand-offs are looked at.
    """
    if departments is not None:
        return _handoffs_of_departments(organization, set(departments))
    grouped: dict[str, list[HandOff]] = {d: [] for d in organization.departments()}
    for handoff in organization.handoffs:
        for department in dict.fromkeys((handoff.supplier.department, handoff.customer.department)):
            if department in grouped and involves(handoff, department):
                grouped[department].append(handoff)
    return grouped


def _handoffs_of_departments(
    organization: Organization, departments: set[str]
) -> dict[str, list[HandOff]]:
    found: dict[str, dict[int, HandOff]] = {d: {} for d in departments}
    for role in organization.roles:
        if role.department in found:
            # Its department's workbook holds what it hands over and what it receives.
            held = found[role.department]
            for handoff in organization.handoffs_from(role.id):
                held[id(handoff)] = handoff
            for handoff in organization.handoffs_to(role.id):
                held[id(handoff)] = handoff
    if not any(found.values()):
        return {department: [] for department in found}
    order = {id(handoff): number for number, handoff in enumerate(organization.handoffs)}
    return {
        department: sorted(held.values(), key=lambda handoff: order[id(handoff)])
        for department, held in found.items()
    }


def involves(handoff: HandOff, department: str) -> bool:
    """Whether a department's review workbook holds this hand-off."""
    return handoff.supplier.department == department or (
        handoff.customer.kind == "role" and handoff.customer.department == department
    )


def department_members(
    organization: Organization, departments: Sequence[str]
) -> dict[str, set[str]]:
    """The roles at either end of each department's hand-offs (`involves`): the roles
    of the department that hand something over or receive something, and their partners."""
    members: dict[str, set[str]] = {department: set() for department in departments}
    for role in organization.roles:
        found = members.get(role.department)
        if found is None:
            continue
        for handoff in organization.handoffs_from(role.id):
            found.add(role.id)
            if handoff.customer.kind == "role":
                found.add(handoff.customer.id)
        for handoff in organization.handoffs_to(role.id):
            found.update((handoff.supplier.id, role.id))
    return members


def spelling_findings(roles: Sequence[Role]) -> list[Finding]:
    """A warning for each role whose department is another's but for case or spaces.

    "Nursing" and "nursing" are two departments to every output (two review workbooks, two
    columns of counts), which is almost never what was meant. The spelling most roles use
    (the first one written, on a tie) is taken as the right one.
    """
    spellings: dict[str, dict[str, list[Role]]] = {}
    for role in roles:
        spellings.setdefault(fold_name(role.department), {}).setdefault(role.department, []).append(
            role
        )
    findings = []
    for variants in spellings.values():
        if len(variants) < 2:
            continue
        usual = max(variants, key=lambda name: len(variants[name]))  # the first on a tie
        others = variants[usual]
        files = ", ".join(sorted(role.where.file for role in others)[:3])
        files += f" and {len(others) - 3} more" if len(others) > 3 else ""
        for name, spelled in variants.items():
            if name == usual:
                continue
            for role in spelled:
                findings.append(
                    Finding.at(
                        role.location("department"),
                        "warning",
                        "department-spelling",
                        f"the department '{name}' is written '{usual}' in {files}; as spelled "
                        f"they are two departments, with two review workbooks. Write "
                        f"'{usual}', or give the two departments names that differ in more "
                        "than case and spaces",
                    )
                )
    return findings
