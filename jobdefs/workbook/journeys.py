"""Journeys: the path an external customer lives through the organization.

A journey file (`journeys/<id>.yaml`) lists the steps a patient lives, from arrival to
discharge, each one a hand-off that a role file already declares: the supplier (`from`),
the product and the customer (`to`). The journey adds no hand-off of its own; it puts the
organization's hand-offs in the order someone lives them, so that a break in the chain, or
a path that never reaches the customer it is for, shows.

Journey files are read with the same reader as role files (every mistake a finding with
its place and a fix), once the roles are known, because every step refers to them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from jobdefs.model import Finding, HandOff, Journey, JourneyStep, Location, Organization, fold_name
from jobdefs.text import did_you_mean
from jobdefs.workbook.analyze import ROLE_ID_CUTOFF, unknown_role
from jobdefs.workbook.confined import Inside
from jobdefs.workbook.records import FileReader, Record
from jobdefs.workbook.schema import JOURNEY, ROLE_ID_PATTERN
from jobdefs.workbook.source import read_yaml

JOURNEY_SUFFIXES = (".yaml", ".yml")
DEFAULT_FOLDER = "journeys"
_JOURNEY_ID = re.compile(ROLE_ID_PATTERN)


def journey_files(folder: Path) -> list[Path]:
    """The journey files of `folder`, by name (journeys sit in one folder, not a tree)."""
    if not folder.is_dir():
        return []
    return sorted(
        (path for path in folder.iterdir() if path.suffix in JOURNEY_SUFFIXES),
        key=lambda path: path.name,
    )


def read_journeys(
    root: Path,
    folder: Path,
    organization: Organization,
    findings: list[Finding],
    inside: Inside | None = None,
) -> tuple[Journey, ...]:
    """Every journey of `folder`, its steps resolved against `organization`'s hand-offs;
    each problem is added to `findings`. With `inside`, a file that is a link out of the
    workbook is a finding, not read."""
    journeys: list[Journey] = []
    seen: dict[str, str] = {}
    for path in journey_files(folder):
        relative = _relative(path, root)
        journey_id = path.stem
        if not _JOURNEY_ID.match(journey_id):
            findings.append(
                Finding(
                    "error",
                    "bad-role-id",
                    f"the journey id '{journey_id}' (the file's name) may hold only lower-case "
                    "letters, digits and single hyphens; rename the file, e.g. "
                    "emergency-admission.yaml",
                    relative,
                    1,
                    1,
                )
            )
            continue
        if journey_id in seen:
            findings.append(
                Finding(
                    "error",
                    "duplicate-role-id",
                    f"the journey id '{journey_id}' is already used by {seen[journey_id]}; "
                    "keep one of the two files",
                    relative,
                    1,
                    1,
                )
            )
            continue
        seen[journey_id] = relative
        outside = inside.refused(str(path), relative) if inside is not None else None
        if outside is not None:
            findings.append(outside)
            continue
        parsed = read_yaml(path, relative)
        if parsed.root is None:
            assert parsed.finding is not None
            findings.append(parsed.finding)
            continue
        record = FileReader(relative, findings, parsed.content).mapping(parsed.root, JOURNEY, "")
        if record is None or "title" not in record or "customer" not in record:
            continue  # already reported
        journeys.append(_journey(journey_id, record, organization, findings))
    return tuple(journeys)


def _journey(
    journey_id: str, record: Record, organization: Organization, findings: list[Finding]
) -> Journey:
    customer = record["customer"]
    external_ids = [x.id for x in organization.external_customers]
    if customer not in external_ids:
        hint = did_you_mean(customer, external_ids)
        if not hint:
            declared = ", ".join(external_ids) or "none are declared yet"
            hint = f"; the external customers of jobdefs.yaml are: {declared}"
        findings.append(
            Finding.at(
                record.location("customer"),
                "error",
                "unknown-external",
                f"the journey's customer '{customer}' is not an external customer{hint}",
            )
        )
    steps = tuple(
        _step(step, organization, findings)
        for step in record.get("steps", [])
        if "from" in step and "product" in step and "to" in step
    )
    journey = Journey(
        id=journey_id,
        title=record["title"],
        customer=customer,
        steps=steps,
        description=record.get("description", ""),
        where=record.where,
    )
    # Like the organization's lines of sight, the chain is judged only once every step
    # and the customer are known: a break found past a typo would only add noise.
    resolved = len(steps) == len(record.get("steps", [])) and all(s.handoff for s in steps)
    if resolved and organization.external(customer) is not None:
        findings.extend(_chain_findings(journey, record, organization))
    return journey


def _step(record: Record, organization: Organization, findings: list[Finding]) -> JourneyStep:
    supplier, product, to = record["from"], record["product"], record["to"]
    step = JourneyStep(supplier, product, to, record.where)
    role_ids = [role.id for role in organization.roles]
    if not organization.has_role(supplier):
        findings.append(unknown_role(record.location("from"), "from", supplier, role_ids))
        return step
    customer_key = _customer_key(to, organization)
    if customer_key is None:
        findings.append(_unknown_customer(record.location("to"), to, organization))
        return step
    handoffs = organization.handoffs_from(supplier)
    wanted = fold_name(product)
    for handoff in handoffs:
        if handoff.customer.key == customer_key and fold_name(handoff.product) == wanted:
            return JourneyStep(supplier, product, to, record.where, handoff)
    findings.append(
        _unknown_handoff(record, handoffs, customer_key, organization.role(supplier).file)
    )
    return step


def _customer_key(to: str, organization: Organization) -> str | None:
    """The party key of a step's `to`: a role first, else an external customer."""
    if organization.has_role(to):
        return to
    if organization.external(to) is not None:
        return f"external:{to}"
    return None


def _unknown_customer(where: Location, to: str, organization: Organization) -> Finding:
    role_ids = [role.id for role in organization.roles]
    external_ids = [x.id for x in organization.external_customers]
    hint = did_you_mean(to, role_ids + external_ids, cutoff=ROLE_ID_CUTOFF)
    close = hint.split("'")[1] if hint else ""
    code = "unknown-external" if close in external_ids else "unknown-role"
    return Finding.at(
        where,
        "error",
        code,
        f"to '{to}' is neither a role nor an external customer{hint or ''}"
        + ("" if hint else "; write a role's id (its file's name) or an id from jobdefs.yaml"),
    )


def _unknown_handoff(
    record: Record, handoffs: Sequence[HandOff], customer_key: str, supplier_file: str
) -> Finding:
    supplier, product, to = record["from"], record["product"], record["to"]
    to_them = [h.product for h in handoffs if h.customer.key == customer_key]
    wanted = fold_name(product)
    of_product = [h.customer.id for h in handoffs if fold_name(h.product) == wanted]
    if to_them:
        names = ", ".join(f"'{name}'" for name in to_them)
        fix = (
            f"it hands {to} {names}{did_you_mean(product, to_them) or ''}; name one of "
            f"those, or add {to} as a customer of '{product}' in {supplier_file}"
        )
    elif of_product:
        fix = (
            f"its '{product}' goes to {', '.join(of_product)}; change 'to:', or add {to} "
            f"as a customer of '{product}' in {supplier_file}"
        )
    else:
        products = sorted({h.product for h in handoffs})
        listed = ", ".join(f"'{name}'" for name in products) or "nothing yet"
        fix = f"it hands nothing to {to}; its products are {listed}"
    return Finding.at(
        record.where,
        "error",
        "unknown-handoff",
        f"{supplier} declares no hand-off of '{product}' to {to}: {fix}",
    )


def _chain_findings(journey: Journey, record: Record, organization: Organization) -> list[Finding]:
    """journey-break for a step whose supplier took no part before it; journey-end when
    no step reaches the journey's customer."""
    findings = []
    present: set[str] = set()
    for number, step in enumerate(journey.steps):
        if number and step.supplier not in present:
            findings.append(
                Finding.at(
                    step.where,
                    "warning",
                    "journey-break",
                    f"step {number + 1} starts at {step.supplier}, who takes no part in the "
                    "steps before it, so the journey jumps: add the step that hands "
                    f"something to {step.supplier}, or put the steps in the order they are "
                    "lived",
                )
            )
        present.update((step.supplier, step.to))
    if journey.steps and all(step.to != journey.customer for step in journey.steps):
        external = organization.external(journey.customer)
        name = f"{journey.customer} ({external.name})" if external else journey.customer
        findings.append(
            Finding.at(
                record.location("steps"),
                "warning",
                "journey-end",
                f"no step hands anything to {name}, the customer this journey is for: end "
                "it with the hand-off that reaches them",
            )
        )
    return findings


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
