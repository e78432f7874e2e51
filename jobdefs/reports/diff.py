"""Two versions of a workbook -> what changed for the people on each side of a hand-off.

Either side is a workbook folder or a git revision of the repository that holds the current
workbook. Hand-offs are matched by their stable id (supplier, product name folded, customer),
so re-ordering a file or re-wording nothing shows no change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from jobdefs.model import HandOff, Organization, Party, Role, fold_name
from jobdefs.reports.journey_diff import JourneyChange, compare_journeys
from jobdefs.text import fold_spaces
from jobdefs.workbook.analyze import role_order
from jobdefs.workbook.confined import OutsideTheWorkbook
from jobdefs.workbook.load import Workbook, load_workbook
from jobdefs.workbook.revision import find_revision, load_revision

ChangeKind = Literal[
    "role-unreadable",
    "role-added",
    "role-removed",
    "role-retitled",
    "role-moved",
    "product-added",
    "product-removed",
    "handoff-added",
    "handoff-removed",
    "need-changed",
    "standard-changed",
]
# The order in which kinds are reported, with the heading of each group.
HEADINGS: dict[ChangeKind, str] = {
    "role-unreadable": "Roles that could not be read",
    "role-added": "Roles added",
    "role-removed": "Roles removed",
    "role-retitled": "Roles retitled",
    "role-moved": "Roles moved to another department",
    "product-added": "Products added",
    "product-removed": "Products removed",
    "handoff-added": "Hand-offs added",
    "handoff-removed": "Hand-offs removed",
    "need-changed": "Needs changed",
    "standard-changed": "Standards changed",
}
FORMATS = ("text", "markdown", "json")


@dataclass(frozen=True)
class Side:
    """One loaded version: what the person typed, what it resolved to, and the workbook."""

    spec: str
    workbook: Workbook
    revision: str = ""  # the full commit id when the side is a git revision
    current: bool = False  # the workbook as it is on disk now, given by default

    @property
    def label(self) -> str:
        return _label(self.spec, self.revision, self.current)

    @property
    def error_files(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.file for f in self.workbook.errors))

    @property
    def unreadable(self) -> dict[str, str]:
        """The role files with errors that gave no role on this side: role id -> file."""
        roles = self.workbook.roles_dir.relative_to(self.workbook.root).as_posix() + "/"
        read = {role.id for role in self.workbook.organization.roles}
        files = {
            Path(file).stem: file
            for file in self.error_files
            if file.startswith(roles) and file.endswith((".yaml", ".yml"))
        }
        return {role_id: file for role_id, file in files.items() if role_id not in read}


def _label(spec: str, revision: str = "", current: bool = False) -> str:
    if revision:
        return f"{spec} ({revision[:7]})"
    return f"the current workbook ({spec})" if current else spec


@dataclass(frozen=True)
class Change:
    """One change a reviewer should see, with the customers it affects.

    `role` is the supplier role that changed (as it is now, or as it was if removed).
    `before` and `after` hold the old and new text of a title, department, need or standard.
    """

    kind: ChangeKind
    role: Party
    product: str = ""
    customer: Party | None = None
    before: str = ""
    after: str = ""
    affects: tuple[Party, ...] = ()
    handoff: HandOff | None = field(default=None, compare=False)

    def message(
        self, quote: Callable[[str], str] | None = None, name: Callable[[str], str] | None = None
    ) -> str:
        """The change as one sentence; `quote` and `name` render user text (for Markdown)."""
        q = quote or (lambda text: f"'{fold_spaces(text)}'")
        n = name or fold_spaces
        who = n(self.role.title)
        customers = ", ".join(n(p.title) for p in self.affects)
        customer = n(self.customer.title) if self.customer else ""
        product = q(self.product)
        if self.kind == "role-unreadable":
            return (
                f"Could not read {who} ({n(self.role.id)}) on the {self.after} side: "
                f"{n(self.before)} has errors, so what changed in it is not shown; run "
                "'jobdefs check' there"
            )
        if self.kind == "role-added":
            serving = f"serving {customers}" if customers else "serving no one yet"
            return f"Added the role {who} ({n(self.role.id)}, {n(self.role.department)}), {serving}"
        if self.kind == "role-removed":
            served = f"which served {customers}" if customers else "which served no one"
            return (
                f"Removed the role {who} ({n(self.role.id)}, {n(self.role.department)}), {served}"
            )
        if self.kind == "role-retitled":
            return f"Retitled the role {n(self.role.id)}: {q(self.before)} → {q(self.after)}" + (
                f" (seen by {customers})" if customers else ""
            )
        if self.kind == "role-moved":
            return f"Moved {who} from {n(self.before)} to {n(self.after)}" + (
                f" (seen by {customers})" if customers else ""
            )
        if self.kind == "product-added":
            return f"{who} added the product {product} for {customers or 'no customer'}"
        if self.kind == "product-removed":
            return f"{who} removed the product {product}, which went to {customers or 'no one'}"
        if self.kind == "handoff-added":
            return f"{who} now hands {product} to {customer}"
        if self.kind == "handoff-removed":
            return f"{who} no longer hands {product} to {customer}"
        what = "need" if self.kind == "need-changed" else "standard"
        if not self.before:
            return f"{who} set the {what} of {product} for {customer}: {q(self.after)}"
        if not self.after:
            return f"{who} removed the {what} of {product} for {customer} (was {q(self.before)})"
        return (
            f"{who} changed the {what} of {product} for {customer}: {q(self.before)} → "
            f"{q(self.after)}"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "role": party_dict(self.role),
            "product": self.product or None,
            "customer": party_dict(self.customer) if self.customer else None,
            "handoff_id": self.handoff.id if self.handoff else None,
            "before": self.before or None,
            "after": self.after or None,
            "need": self.handoff.need if self.handoff else None,
            "standard": (self.handoff.standard or None) if self.handoff else None,
            "affects": [party_dict(p) for p in self.affects],
            "message": self.message(),
        }


def party_dict(party: Party) -> dict[str, str]:
    return {
        "kind": party.kind,
        "id": party.id,
        "title": party.title,
        "department": party.department,
    }


@dataclass(frozen=True)
class Comparison:
    old: Side
    new: Side
    changes: tuple[Change, ...]
    journeys: tuple[JourneyChange, ...] = ()  # the journeys added, removed and changed

    @property
    def affected(self) -> tuple[Party, ...]:
        """Every customer some change affects, roles first, each once."""
        seen: dict[str, Party] = {}
        for change in self.changes:
            for party in change.affects:
                seen.setdefault(party.key, party)
        return tuple(sorted(seen.values(), key=_party_order))

    def notes(self) -> list[str]:
        """One line per side whose workbook has errors: the comparison may be incomplete."""
        notes = []
        for which, side in (("old", self.old), ("new", self.new)):
            files = side.error_files
            if files:
                count = len(side.workbook.errors)
                notes.append(
                    f"note: the {which} workbook ({side.label}) has {count} "
                    f"error{'' if count == 1 else 's'} in {', '.join(files)}; what those "
                    "files say is missing or partial on that side, so the changes there may "
                    "be wrong. Run 'jobdefs check' to see them."
                )
        return notes


def _party_order(party: Party) -> tuple[int, str, str, str]:
    return (
        0 if party.kind == "role" else 1,
        party.department.casefold(),
        party.title.casefold(),
        party.id,
    )


# Loading either side ----------------------------------------------------------------------


def diff_workbooks(old: str, new: str | None = None, *, workbook: Path = Path(".")) -> Comparison:
    """Compare two versions given as folders or git revisions of `workbook`'s repository.

    Without `new`, the other side is `workbook` itself, as it is now. Each side is read only
    inside its own folder or revision (see jobdefs.workbook.confined).
    """
    old_side = load_side(old, workbook, "old")
    if new is None:
        label = _label(str(workbook), current=True)
        loaded = _contained("new", label, lambda: load_workbook(workbook, contained=True))
        new_side = Side(str(workbook), loaded, current=True)
    else:
        new_side = load_side(new, workbook, "new")
    changes = compare(
        old_side.workbook.organization,
        new_side.workbook.organization,
        unreadable={"old": old_side.unreadable, "new": new_side.unreadable},
    )
    journeys = compare_journeys(old_side.workbook.organization, new_side.workbook.organization)
    return Comparison(old_side, new_side, changes, journeys)


def load_side(spec: str, workbook: Path, which: str = "old") -> Side:
    """A folder if `spec` names one, else a revision of the git repository around `workbook`."""
    if Path(spec).is_dir():
        loaded = _contained(which, spec, lambda: load_workbook(Path(spec), contained=True))
        return Side(spec, loaded)
    revision = find_revision(spec, workbook)
    label = _label(spec, revision.commit)
    return Side(spec, _contained(which, label, lambda: load_revision(revision)), revision.commit)


def _contained(which: str, label: str, load: Callable[[], Workbook]) -> Workbook:
    """What `load` loads; a path that leads out of the side is an error that names the side."""
    try:
        return load()
    except OutsideTheWorkbook as error:
        raise OutsideTheWorkbook(f"the {which} workbook ({label}): {error}") from None


# Comparing -------------------------------------------------------------------------------


def compare(
    old: Organization,
    new: Organization,
    unreadable: dict[str, dict[str, str]] | None = None,
) -> tuple[Change, ...]:
    """Every change from `old` to `new`, grouped by kind, then in the organization's order.

    `unreadable` holds, for the "old" and the "new" side, the role files that have errors
    there and gave no role (role id -> file): such a role is said to be unreadable, not
    added or removed, and hand-offs to or from it are left out, since that side cannot say.
    """
    changes: list[tuple[tuple[str, ...], Change]] = []
    broken = unreadable or {}
    old_broken, new_broken = broken.get("old", {}), broken.get("new", {})
    unknown = old_broken.keys() | new_broken.keys()

    def add(change: Change, role: Role, *rest: str) -> None:
        if change.customer is not None and change.customer.id in unknown:
            return
        kind_rank = f"{list(HEADINGS).index(change.kind):02d}"
        changes.append(((kind_rank, *role_order(role), *rest), change))

    old_ids = {role.id for role in old.roles}
    new_ids = {role.id for role in new.roles}
    for role in new.roles:
        if role.id in old_broken:
            file = old_broken[role.id]
            add(Change("role-unreadable", new.party(role), before=file, after="old"), role)
        elif role.id not in old_ids:
            add(Change("role-added", new.party(role), affects=_customers(new, role.id)), role)
    for role in old.roles:
        if role.id in new_broken:
            file = new_broken[role.id]
            add(Change("role-unreadable", old.party(role), before=file, after="new"), role)
        elif role.id not in new_ids:
            add(Change("role-removed", old.party(role), affects=_customers(old, role.id)), role)
    for role in new.roles:
        if role.id in old_ids:
            for change, rest in _role_changes(old, new, old.role(role.id), role):
                add(change, role, *rest)
    return tuple(change for _, change in sorted(changes, key=lambda pair: pair[0]))


def _customers(
    organization: Organization, role_id: str, handoffs: Iterable[HandOff] | None = None
) -> tuple[Party, ...]:
    chosen = organization.handoffs_from(role_id) if handoffs is None else handoffs
    seen: dict[str, Party] = {}
    for handoff in chosen:
        seen.setdefault(handoff.customer.key, handoff.customer)
    return tuple(sorted(seen.values(), key=_party_order))


def _role_changes(
    old: Organization, new: Organization, before: Role, after: Role
) -> Iterable[tuple[Change, tuple[str, ...]]]:
    party = new.party(after)
    role_edits: tuple[tuple[ChangeKind, str, str], ...] = (
        ("role-retitled", before.title, after.title),
        ("role-moved", before.department, after.department),
    )
    for kind, old_text, new_text in role_edits:
        if old_text != new_text:
            change = Change(
                kind, party, before=old_text, after=new_text, affects=_customers(new, after.id)
            )
            yield change, ()

    old_handoffs = {h.id: h for h in old.handoffs_from(before.id)}
    new_handoffs = {h.id: h for h in new.handoffs_from(after.id)}
    old_products = {fold_name(p.name): p.name for p in before.products}
    new_products = {fold_name(p.name): p.name for p in after.products}
    for folded, name in new_products.items():
        if folded not in old_products:
            going = [h for h in new_handoffs.values() if fold_name(h.product) == folded]
            yield (
                Change(
                    "product-added", party, product=name, affects=_customers(new, after.id, going)
                ),
                (folded,),
            )
    for folded, name in old_products.items():
        if folded not in new_products:
            gone = [h for h in old_handoffs.values() if fold_name(h.product) == folded]
            yield (
                Change(
                    "product-removed", party, product=name, affects=_customers(old, before.id, gone)
                ),
                (folded,),
            )

    shared = old_products.keys() & new_products.keys()
    for id_, handoff in new_handoffs.items():
        if fold_name(handoff.product) not in shared:
            continue  # reported with its product
        rest = (fold_name(handoff.product), *map(str, _party_order(handoff.customer)))
        customer = (handoff.customer,)
        was = old_handoffs.get(id_)
        if was is None:
            yield (
                Change(
                    "handoff-added",
                    party,
                    handoff.product,
                    handoff.customer,
                    affects=customer,
                    handoff=handoff,
                ),
                rest,
            )
            continue
        edits: tuple[tuple[ChangeKind, str, str], ...] = (
            ("need-changed", was.need, handoff.need),
            ("standard-changed", was.standard, handoff.standard),
        )
        for kind, old_text, new_text in edits:
            if old_text != new_text:
                change = Change(
                    kind,
                    party,
                    handoff.product,
                    handoff.customer,
                    before=old_text,
                    after=new_text,
                    affects=customer,
                    handoff=handoff,
                )
                yield change, rest
    for id_, handoff in old_handoffs.items():
        if id_ not in new_handoffs and fold_name(handoff.product) in shared:
            rest = (fold_name(handoff.product), *map(str, _party_order(handoff.customer)))
            yield (
                Change(
                    "handoff-removed",
                    party,
                    handoff.product,
                    handoff.customer,
                    affects=(handoff.customer,),
                    handoff=handoff,
                ),
                rest,
            )


# Reporting -------------------------------------------------------------------------------
