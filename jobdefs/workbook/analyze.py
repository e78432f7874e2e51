"""The hand-off graph: references, reciprocity, reporting lines and line of sight.

Pure functions over roles that `load` has already validated one file at a time. Everything
that needs the whole organization to judge is found here.
"""

from __future__ import annotations

import datetime
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence

from jobdefs.model import (
    EXTERNAL_DEPARTMENT,
    ExternalCustomer,
    Finding,
    HandOff,
    LineOfSight,
    Location,
    Organization,
    Party,
    Role,
    Settings,
    filled,
    fold_name,
    open_gaps,
)
from jobdefs.text import did_you_mean
from jobdefs.workbook import dates, departments, upkeep


def role_order(role: Role) -> tuple[str, str, str]:
    """Roles are grouped by department, then ordered by title."""
    return (role.department.casefold(), role.title.casefold(), role.id)


def organize(
    *,
    name: str,
    mission: str,
    external_customers: Sequence[ExternalCustomer],
    roles: Sequence[Role],
    settings: Settings,
    findings: list[Finding],
    external_locations: Mapping[str, Location],
    review_date: datetime.date | None = None,
    broken_ids: frozenset[str] = frozenset(),
) -> Organization:
    """Resolve every reference, derive the hand-offs and lines of sight, report problems.

    `broken_ids` are roles whose files exist but could not be read: their own finding says
    so, and references to them are not reported again.
    """
    ordered = tuple(sorted(roles, key=role_order))
    by_id = {role.id: role for role in ordered}
    externals = {x.id: x for x in external_customers}
    role_ids = sorted(set(by_id) | broken_ids)  # a broken file's id is still a suggestion

    handoffs, handoffs_from, handoffs_to = _handoffs(
        ordered, by_id, role_ids, externals, findings, broken_ids
    )

    known = set(by_id) | broken_ids
    for role in ordered:
        if role.reports_to is not None and role.reports_to not in known:
            findings.append(
                unknown_role(role.location("reports_to"), "reports_to", role.reports_to, role_ids)
            )
        _check_receives(role, by_id, role_ids, handoffs_to, findings, broken_ids)
    findings.extend(_reporting_cycles(ordered, by_id))

    sight = lines_of_sight(ordered, external_customers, handoffs_to)
    # Judging the whole graph while some files are broken would only add noise.
    if external_customers and not any(f.is_error for f in findings):
        names = ", ".join(x.name for x in external_customers)
        for role in ordered:
            if not sight[role.id]:
                findings.append(
                    Finding.at(
                        role.location("products"),
                        "warning",
                        "no-line-of-sight",
                        f"no chain of hand-offs leads from {role.title} to an external customer "
                        f"({names}); give one of its products a customer whose work reaches "
                        "one, or an external customer directly",
                    )
                )
        for external in external_customers:
            if not handoffs_to.get(f"external:{external.id}"):
                where = external_locations.get(external.id, Location("jobdefs.yaml", 1, 1))
                findings.append(
                    Finding.at(
                        where,
                        "warning",
                        "unserved-external",
                        f"no role serves the external customer '{external.id}' ({external.name}); "
                        f"add 'external: {external.id}' as a customer of the products that reach "
                        "them, or remove the declaration",
                    )
                )

    if settings.review_every_months:
        findings.extend(
            upkeep.review_due(ordered, settings.review_every_months, review_date or dates.today())
        )
    findings.extend(upkeep.vague_standards(ordered))
    findings.extend(departments.spelling_findings(ordered))
    findings[:] = [f for f in findings if f.is_error or settings.warns(f.code)]

    return Organization(
        name=name,
        mission=mission,
        external_customers=tuple(external_customers),
        roles=ordered,
        handoffs=tuple(handoffs),
        lines_of_sight=sight,
        settings=settings,
        _roles_by_id=by_id,
        _handoffs_from={k: tuple(v) for k, v in handoffs_from.items()},
        _handoffs_to={k: tuple(v) for k, v in handoffs_to.items()},
    )


# Role ids are short and share words ("medical-assistant", "medical-director"): only a close
# match is worth suggesting.
ROLE_ID_CUTOFF = 0.7


def unknown_role(where: Location, key: str, role_id: str, role_ids: list[str]) -> Finding:
    hint = did_you_mean(role_id, role_ids, cutoff=ROLE_ID_CUTOFF)
    if not hint:
        hint = (
            f"; role ids are role file names without .yaml. If it is a new role, add its "
            f"file (jobdefs new {role_id} --title ... --department ...)"
        )
    return Finding.at(
        where, "error", "unknown-role", f"{key} role '{role_id}' does not exist{hint}"
    )


def _handoffs(
    roles: Sequence[Role],
    by_id: Mapping[str, Role],
    role_ids: list[str],
    externals: Mapping[str, ExternalCustomer],
    findings: list[Finding],
    broken_ids: frozenset[str],
) -> tuple[list[HandOff], dict[str, list[HandOff]], dict[str, list[HandOff]]]:
    """Every hand-off, role by role and product by product, then the same hand-offs by
    supplier id and by customer key."""
    # One party per customer, shared by all the hand-offs that name it: a role is the
    # customer of many products, and parties are equal by value anyway.
    roles_as_parties = {
        role.id: Party("role", role.id, role.title, role.department) for role in by_id.values()
    }
    externals_as_parties = {
        x.id: Party("external", x.id, x.name, EXTERNAL_DEPARTMENT) for x in externals.values()
    }
    handoffs: list[HandOff] = []
    handoffs_from: dict[str, list[HandOff]] = defaultdict(list)
    handoffs_to: dict[str, list[HandOff]] = defaultdict(list)
    for role in roles:
        supplier = Party("role", role.id, role.title, role.department)
        for product in role.products:
            for customer in product.customers:
                party: Party | None
                if customer.role is not None:
                    party = roles_as_parties.get(customer.role)
                    if party is None:
                        if customer.role not in broken_ids:
                            findings.append(
                                unknown_role(customer.where, "customer", customer.role, role_ids)
                            )
                        continue
                    if party.id == role.id:
                        findings.append(
                            Finding.at(
                                customer.where,
                                "warning",
                                "self-customer",
                                f"{role.title} lists itself as a customer of '{product.name}'; "
                                "name the role that receives it, or remove this customer",
                            )
                        )
                else:
                    external_id = customer.external or ""
                    if external_id not in externals_as_parties:
                        declared = sorted(externals)
                        hint = did_you_mean(external_id, declared) or (
                            f"; declared: {', '.join(declared)}"
                            if declared
                            else "; declare it under 'external_customers:' in jobdefs.yaml"
                        )
                        findings.append(
                            Finding.at(
                                customer.where,
                                "error",
                                "unknown-external",
                                f"external customer '{external_id}' is not declared in "
                                f"jobdefs.yaml{hint}",
                            )
                        )
                        continue
                    party = externals_as_parties[external_id]
                handoff = filled(
                    HandOff,
                    {  # as HandOff(...) would, thrice as fast
                        "supplier": supplier,
                        "product": product.name,
                        "customer": party,
                        "need": customer.need,
                        "standard": customer.standard,
                        "description": product.description,
                        "where": customer.where,
                    },
                )
                handoffs.append(handoff)
                handoffs_from[role.id].append(handoff)
                handoffs_to[party.key].append(handoff)
    return handoffs, handoffs_from, handoffs_to


def _check_receives(
    role: Role,
    by_id: Mapping[str, Role],
    role_ids: list[str],
    handoffs_to: Mapping[str, list[HandOff]],
    findings: list[Finding],
    broken_ids: frozenset[str],
) -> None:
    received = handoffs_to.get(role.id, ())
    for expected in open_gaps(role.receives, received):
        supplier = by_id.get(expected.supplier)
        if supplier is None:
            if expected.supplier in broken_ids:
                continue
            findings.append(
                unknown_role(expected.where, "receives.from", expected.supplier, role_ids)
            )
            continue
        offered = [h.product for h in received if h.supplier.id == supplier.id]
        wanted = fold_name(expected.product)
        if any(
            fold_name(product.name) == wanted
            and any(
                c.role is not None and c.role not in by_id and c.role not in broken_ids
                for c in product.customers
            )
            for product in supplier.products
        ):
            continue  # the product names a customer that does not exist: one typo, one finding
        problem = f"{supplier.id} lists no product '{expected.product}' for {role.id}"
        if any(fold_name(p.name) == wanted for p in supplier.products):
            fix = (
                f"add '- role: {role.id}' with its need to the customers of "
                f"'{expected.product}' in {supplier.file}"
            )
        elif offered:
            names = ", ".join(f"'{name}'" for name in offered)
            fix = (
                f"it hands {role.id} {names}{did_you_mean(expected.product, offered) or '.'} "
                f"Use the supplier's name for the product, or add the product to "
                f"{supplier.file}"
            )
        else:
            fix = f"add {role.id} as a customer in {supplier.file}, or remove this entry"
        findings.append(
            Finding.at(expected.where, "warning", "receives-mismatch", f"{problem}; {fix}")
        )


def _reporting_cycles(roles: Sequence[Role], by_id: Mapping[str, Role]) -> list[Finding]:
    """One finding per circle in the reporting lines, at the circle's first role by id."""
    findings = []
    state: dict[str, int] = {}  # 1: on the current walk, 2: done
    for start in sorted(by_id):
        walk: list[str] = []
        current: str | None = start
        while current is not None and current in by_id and state.get(current) is None:
            state[current] = 1
            walk.append(current)
            current = by_id[current].reports_to
        if current is not None and state.get(current) == 1:
            circle = walk[walk.index(current) :]
            first = min(circle)
            at = circle.index(first)
            path = [*circle[at:], *circle[:at], first]
            role = by_id[first]
            findings.append(
                Finding.at(
                    role.location("reports_to"),
                    "error",
                    "reports-to-cycle",
                    f"reports_to goes round in a circle: {' → '.join(path)}; one of these roles "
                    "must report to someone outside the circle, or to no one",
                )
            )
        for role_id in walk:
            state[role_id] = 2
    return findings


def lines_of_sight(
    roles: Sequence[Role],
    external_customers: Sequence[ExternalCustomer],
    handoffs_to: Mapping[str, Sequence[HandOff]],
) -> dict[str, tuple[LineOfSight, ...]]:
    """For every role, the shortest chain of hand-offs to each external customer it reaches.

    One breadth-first search per external customer, walking hand-offs backwards, so the
    whole organization costs O(externals × hand-offs) rather than a search per role.
    """
    sight: dict[str, list[LineOfSight]] = {role.id: [] for role in roles}
    for external in external_customers:
        first_step: dict[str, HandOff] = {}
        queue: deque[str] = deque()
        for handoff in handoffs_to.get(f"external:{external.id}", ()):
            if handoff.supplier.id not in first_step:
                first_step[handoff.supplier.id] = handoff
                queue.append(handoff.supplier.id)
        while queue:
            role_id = queue.popleft()
            for handoff in handoffs_to.get(role_id, ()):
                if handoff.supplier.id not in first_step:
                    first_step[handoff.supplier.id] = handoff
                    queue.append(handoff.supplier.id)
        # Roles were reached in order of distance, so each customer's chain is already
        # there when its supplier's is made: one step on, not a walk to the end per role.
        chains: dict[str, tuple[HandOff, ...]] = {}
        for role_id, handoff in first_step.items():
            if handoff.customer.kind == "role":
                chains[role_id] = (handoff, *chains[handoff.customer.id])
            else:
                chains[role_id] = (handoff,)
        for role_id, lines in sight.items():
            chain = chains.get(role_id)
            if chain is not None:
                lines.append(filled(LineOfSight, {"external": external, "chain": chain}))
    return {role_id: tuple(lines) for role_id, lines in sight.items()}
