"""The typed model of an organization: roles, their products, customers and hand-offs.

Everything here is frozen. `load` builds roles from the files, `analyze` derives the
hand-offs, suppliers and lines of sight; the generators only ever read these objects.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, NamedTuple, TypeVar, overload

from jobdefs.text import one_line

T = TypeVar("T")

Severity = Literal["error", "warning"]
PartyKind = Literal["role", "external"]

EXTERNAL_DEPARTMENT = "External"


class Location(NamedTuple):
    """Where a value was written: a workbook-relative file, 1-based line and column.

    A named tuple rather than a dataclass: a large organization holds tens of thousands,
    and a tuple is made in half the time.
    """

    file: str
    line: int | None = None
    column: int | None = None
    key_path: str = ""


_new_object = object.__new__


def filled(kind: type[T], fields: dict[str, Any]) -> T:
    """An instance of the frozen dataclass `kind` with these fields: every one of them.

    For code that makes thousands at a time from checked values (the build cache, the
    hand-offs): a frozen dataclass's __init__ sets each field through object.__setattr__,
    three times as slow as filling the instance's dictionary at once. Tests check that
    such instances hold exactly their fields.
    """
    made = _new_object(kind)
    made.__dict__.update(fields)
    return made


@dataclass(frozen=True)
class Finding:
    """One problem found in the workbook, with where it is and how to fix it."""

    severity: Severity
    code: str
    message: str
    file: str
    line: int | None = None
    column: int | None = None
    key_path: str = ""

    @classmethod
    def at(cls, where: Location, severity: Severity, code: str, message: str) -> Finding:
        return cls(severity, code, message, where.file, where.line, where.column, where.key_path)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def sort_key(self) -> tuple[int, str, int, int, str, str]:
        """Errors first, then by file, line and column."""
        return (
            0 if self.is_error else 1,
            self.file,
            self.line or 0,
            self.column or 0,
            self.code,
            self.message,
        )

    def as_text(self) -> str:
        place = self.file
        if self.line is not None:
            place += f":{self.line}"
            if self.column is not None:
                place += f":{self.column}"
        return f"{place}: {self.severity}[{self.code}]: {one_line(self.message)}"

    def as_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "code": self.code,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "key_path": self.key_path,
            "message": self.message,
        }


@dataclass(frozen=True)
class ExternalCustomer:
    id: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class Customer:
    """One customer of a product, as the supplier's file names it."""

    need: str
    standard: str = ""
    role: str | None = None
    external: str | None = None
    where: Location = field(default=Location(""), compare=False)
    # Where `standard:` was written, for the findings about the standard itself.
    standard_where: Location | None = field(default=None, compare=False)

    @property
    def kind(self) -> PartyKind:
        return "role" if self.role is not None else "external"

    @property
    def ref(self) -> str:
        return self.role if self.role is not None else self.external or ""


@dataclass(frozen=True)
class Product:
    name: str
    customers: tuple[Customer, ...]
    description: str = ""
    where: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class ReceivedProduct:
    """A `receives` entry: a product this role expects, by the supplier's name for it."""

    product: str
    supplier: str
    where: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class MomentOfTruth:
    moment: str
    practice: str


@dataclass(frozen=True)
class FeedbackQuestion:
    """A question to ask customers whether their need was met, and whom it asks: the key
    of one of the role's customers (a role id, or `external:<id>`), or None for all."""

    text: str
    asks: str | None = None


@dataclass(frozen=True)
class Role:
    id: str
    file: str
    title: str
    department: str
    purpose: str
    products: tuple[Product, ...]
    reports_to: str | None = None
    revision: str = ""
    reviewed: str = ""
    receives: tuple[ReceivedProduct, ...] = ()
    moments_of_truth: tuple[MomentOfTruth, ...] = ()
    feedback_questions: tuple[FeedbackQuestion, ...] = ()
    where: Location = field(default=Location(""), compare=False)
    at: Mapping[str, Location] = field(default_factory=dict, compare=False, repr=False)

    def location(self, key: str) -> Location:
        """Where a top-level key was written, or the file's start."""
        return self.at.get(key, self.where)


class _Once(Generic[T]):
    """functools.cached_property without the lock Python 3.10 and 3.11 take on every first
    access, which costs more than the hashing it guards when there are thousands of
    hand-offs. A frozen instance gives the same value to every thread anyway."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _Once[T]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> T | _Once[T]:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.compute(instance)
        return value


@dataclass(frozen=True)
class Party:
    """One end of a hand-off: a role or an external customer."""

    kind: PartyKind
    id: str
    title: str
    department: str

    @_Once  # asked for on every hand-off, while a role is one party to all of its own
    def key(self) -> str:
        """A key that tells a role and an external customer of the same id apart."""
        return self.id if self.kind == "role" else f"external:{self.id}"


@dataclass(frozen=True)
class HandOff:
    """One (supplier role, product, customer) triple."""

    supplier: Party
    product: str
    customer: Party
    need: str
    standard: str = ""
    description: str = ""
    where: Location = field(default=Location(""), compare=False)

    # Both are hashes that every sheet, survey and review asks for again; a hand-off is
    # frozen, so each is worked out once.
    @_Once
    def id(self) -> str:
        """Stable across sorting and re-ordering: derived from the triple, not a row number."""
        return handoff_id(self.supplier.id, self.product, self.customer.key)

    @_Once
    def fingerprint(self) -> str:
        """Changes whenever what a reviewer saw of this hand-off changes."""
        seen = "\x1f".join(
            (
                self.supplier.title,
                self.supplier.department,
                self.product,
                self.customer.title,
                self.customer.department,
                self.need,
                self.standard,
            )
        )
        return hashlib.sha256(seen.encode()).hexdigest()[:12]


def fold_name(name: str) -> str:
    """Product names are compared case-insensitively with runs of white space folded."""
    return " ".join(name.split()).casefold()


def open_gaps(
    expected: Iterable[ReceivedProduct], received: Iterable[HandOff]
) -> list[ReceivedProduct]:
    """The products a role expects (`receives`) that no supplier lists for it: its open gaps.

    The one rule for both the receives-mismatch finding and the gaps a job aid shows.
    """
    supplied = {(handoff.supplier.id, fold_name(handoff.product)) for handoff in received}
    return [e for e in expected if (e.supplier, fold_name(e.product)) not in supplied]


def handoff_id(supplier: str, product: str, customer_key: str) -> str:
    digest = hashlib.sha256(f"{supplier}\x1f{fold_name(product)}\x1f{customer_key}".encode())
    return "H-" + digest.hexdigest()[:10]


@dataclass(frozen=True)
class LineOfSight:
    """The shortest chain of hand-offs from a role to one external customer."""

    external: ExternalCustomer
    chain: tuple[HandOff, ...]


@dataclass(frozen=True)
class Settings:
    """Optional organization-wide settings (documented extensions of the contract)."""

    review_every_months: int | None = None
    warnings: Mapping[str, bool] = field(default_factory=dict)

    def warns(self, code: str) -> bool:
        return self.warnings.get(code, True)


@dataclass(frozen=True)
class JourneyStep:
    """One step of a journey: the hand-off its file names, once it is found."""

    supplier: str  # the `from` role id
    product: str
    to: str  # a role id or an external customer's id
    where: Location = field(default=Location(""), compare=False)
    handoff: HandOff | None = None  # None when the step names no declared hand-off


@dataclass(frozen=True)
class Journey:
    """The path one external customer lives through the organization, step by step."""

    id: str
    title: str
    customer: str  # an external customer's id
    steps: tuple[JourneyStep, ...]
    description: str = ""
    where: Location = field(default=Location(""), compare=False)

    @property
    def file(self) -> str:
        return self.where.file

    def steps_of(self, role_id: str) -> tuple[int, ...]:
        """The numbers (from 1) of the steps in which the role hands over or receives."""
        return tuple(
            number
            for number, step in enumerate(self.steps, 1)
            if step.handoff is not None
            and any(
                party.kind == "role" and party.id == role_id
                for party in (step.handoff.supplier, step.handoff.customer)
            )
        )

    def roles(self) -> tuple[str, ...]:
        """The ids of the roles that take part, in the order they first appear."""
        seen: dict[str, None] = {}
        for step in self.steps:
            if step.handoff is not None:
                for party in (step.handoff.supplier, step.handoff.customer):
                    if party.kind == "role":
                        seen.setdefault(party.id)
        return tuple(seen)


@dataclass(frozen=True)
class Organization:
    """The whole organization, with every derived relation precomputed."""

    name: str
    mission: str
    external_customers: tuple[ExternalCustomer, ...]
    roles: tuple[Role, ...]
    handoffs: tuple[HandOff, ...]
    lines_of_sight: Mapping[str, tuple[LineOfSight, ...]]
    settings: Settings = field(default_factory=Settings)
    journeys: tuple[Journey, ...] = ()
    discharge_questions: tuple[str, ...] = ()
    _roles_by_id: Mapping[str, Role] = field(default_factory=dict, repr=False, compare=False)
    _handoffs_from: Mapping[str, tuple[HandOff, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _handoffs_to: Mapping[str, tuple[HandOff, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def role(self, role_id: str) -> Role:
        return self._roles_by_id[role_id]

    def has_role(self, role_id: str) -> bool:
        return role_id in self._roles_by_id

    def external(self, external_id: str) -> ExternalCustomer | None:
        return next((x for x in self.external_customers if x.id == external_id), None)

    def handoffs_from(self, role_id: str) -> tuple[HandOff, ...]:
        """What a role hands to its customers."""
        return self._handoffs_from.get(role_id, ())

    def handoffs_to(self, party_key: str) -> tuple[HandOff, ...]:
        """What a role (or `external:<id>`) receives from its suppliers."""
        return self._handoffs_to.get(party_key, ())

    def suppliers_of(self, role_id: str) -> tuple[Role, ...]:
        ids = sorted({h.supplier.id for h in self.handoffs_to(role_id)})
        return tuple(self._roles_by_id[i] for i in ids)

    def customers_of(self, role_id: str) -> tuple[Party, ...]:
        seen: dict[str, Party] = {}
        for handoff in self.handoffs_from(role_id):
            seen.setdefault(handoff.customer.key, handoff.customer)
        return tuple(seen.values())

    def departments(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(role.department for role in self.roles))

    def roles_by_department(self) -> list[tuple[str, list[Role]]]:
        """Each department in the organization's order, with its roles in the roles' order."""
        grouped: dict[str, list[Role]] = {}
        for role in self.roles:
            grouped.setdefault(role.department, []).append(role)
        return list(grouped.items())

    def party(self, role: Role) -> Party:
        return Party("role", role.id, role.title, role.department)
