"""The shape of `jobdefs.yaml` and of a role file, declared once.

The loader validates against these shapes, `jobdefs schema` turns them into JSON Schema and
the role-file reference in the docs is generated from them, so the three cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

KeyType = Literal["text", "role-id", "integer", "date", "boolean", "list", "mapping"]

ROLE_ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
ROLE_ID_MAX = 64
TEXT_MAX = 32_767  # what one spreadsheet cell holds
FILE_MAX_BYTES = 1024 * 1024  # 1 MiB: a role file is a page or two of text


@dataclass(frozen=True)
class Key:
    """One key of a mapping: its type, whether it is required, and what it means."""

    name: str
    type: KeyType
    doc: str
    required: bool = False
    items: Shape | KeyType | None = None  # for lists: a mapping shape or a scalar type
    values: Shape | KeyType | None = None  # for mappings keyed by free ids
    extension: bool = False  # an optional addition to contract v1
    example: str = ""


@dataclass(frozen=True)
class Shape:
    """A mapping with a fixed set of keys."""

    name: str
    keys: tuple[Key, ...]
    doc: str = ""
    shorthand: str = ""  # a list item written as plain text stands for this key alone

    def key(self, name: str) -> Key | None:
        return self._by_name.get(name)

    @cached_property
    def _by_name(self) -> dict[str, Key]:
        return {k.name: k for k in self.keys}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.keys)


EXTERNAL_CUSTOMER = Shape(
    "external customer",
    (
        Key("name", "text", "The name shown in the documents, e.g. Patient.", required=True),
        Key("description", "text", "Who this customer is."),
    ),
)

ORGANIZATION = Shape(
    "jobdefs.yaml",
    (
        Key("organization", "text", "The organization's name.", required=True),
        Key("mission", "text", "The mission every job serves; shown in each job aid."),
        Key(
            "external_customers",
            "mapping",
            "Customers outside the organization, by id (e.g. patient, family, payer).",
            values=EXTERNAL_CUSTOMER,
        ),
        Key("roles", "text", "Folder of role files, relative to the workbook.", example="roles"),
        Key("templates", "text", "Folder of template overrides.", example="templates"),
        Key("output", "text", "Output folder.", example="build"),
        Key(
            "site",
            "boolean",
            "Whether `jobdefs build` writes the explorer, `site/` (default: true).",
            extension=True,
            example="false",
        ),
        Key(
            "site_single_file",
            "boolean",
            "Whether `jobdefs build` also writes `site.html`, the whole explorer in one file "
            "to e-mail (default: false; as `--site-single-file` does).",
            extension=True,
            example="true",
        ),
        Key(
            "review_every_months",
            "integer",
            "How often each role must be reviewed; roles past due get a `review-due` warning.",
            extension=True,
            example="12",
        ),
        Key(
            "warnings",
            "mapping",
            "Switch individual warning codes off, e.g. `vague-standard: false`.",
            values="boolean",
            extension=True,
        ),
        Key(
            "journeys",
            "text",
            "Folder of journey files, relative to the workbook.",
            extension=True,
            example="journeys",
        ),
        Key(
            "discharge_questions",
            "list",
            "What to ask every patient as they leave; `jobdefs survey` writes a sheet to "
            "record the answers.",
            items="text",
            extension=True,
        ),
    ),
)

CUSTOMER = Shape(
    "customer",
    (
        Key("role", "role-id", "An internal customer: another role's id."),
        Key("external", "text", "An external customer's id from jobdefs.yaml."),
        Key(
            "need",
            "text",
            "What this customer needs from the product: the why, from their side.",
            required=True,
        ),
        Key("standard", "text", "A measurable standard for this hand-off (time, accuracy)."),
    ),
    doc="Exactly one of `role` and `external`.",
)

PRODUCT = Shape(
    "product",
    (
        Key("name", "text", "A tangible output, named as a thing.", required=True),
        Key("description", "text", "What the product is."),
        Key("customers", "list", "Who receives it.", required=True, items=CUSTOMER),
    ),
)

RECEIVED = Shape(
    "received product",
    (
        Key("product", "text", "The product's name as its supplier names it.", required=True),
        Key("from", "role-id", "The supplier's role id.", required=True),
    ),
)

# Entries written under the wrong key, whose keys give away what they are meant to be: one
# finding that says where they belong, instead of one for each key.
WRITTEN_UNDER_THE_WRONG_KEY = {
    RECEIVED.name: (
        PRODUCT,
        "products go under 'products:'; under 'receives:' write what this role gets from "
        "another role, as 'product:' (its name as the supplier gives it) and 'from:' (the "
        "supplier's role id)",
    ),
}

MOMENT = Shape(
    "moment of truth",
    (
        Key("moment", "text", "A point of contact with a customer.", required=True),
        Key("practice", "text", "What to do or say there.", required=True),
    ),
)

FEEDBACK_QUESTION = Shape(
    "feedback question",
    (
        Key("question", "text", "The question, as you would ask it.", required=True),
        Key(
            "asks",
            "text",
            "Whom it asks: the id of one of this role's customers, a role id or an external "
            "customer's id as its `customers` name them. Without it, the question is for "
            "every customer.",
            extension=True,
            example="patient",
        ),
    ),
    doc=(
        "A feedback question is plain text, for every customer of the role, or a mapping "
        "with the question and whom it `asks`. A patient question card asks an external "
        "customer the questions that ask them, and the plain ones."
    ),
    shorthand="question",
)

ROLE = Shape(
    "role file",
    (
        Key("title", "text", "The job title.", required=True),
        Key("department", "text", "The department the role belongs to.", required=True),
        Key("reports_to", "role-id", "The manager's role id."),
        Key("purpose", "text", "The job in its customers' terms.", required=True),
        Key("revision", "text", 'Shown in the job aid\'s footer; quote numbers: "1.10".'),
        Key(
            "reviewed",
            "date",
            "When the role was last reviewed (YYYY-MM-DD).",
            extension=True,
            example="2026-03-01",
        ),
        Key("products", "list", "What the role produces.", required=True, items=PRODUCT),
        Key("receives", "list", "What the role expects from its suppliers.", items=RECEIVED),
        Key("moments_of_truth", "list", "Points of contact with customers.", items=MOMENT),
        Key(
            "feedback_questions",
            "list",
            "How to ask customers about the need.",
            items=FEEDBACK_QUESTION,
        ),
    ),
)

JOURNEY_STEP = Shape(
    "journey step",
    (
        Key("from", "role-id", "The supplier's role id.", required=True),
        Key(
            "product",
            "text",
            "One of that role's products, named as its role file names it.",
            required=True,
        ),
        Key(
            "to",
            "text",
            "Whom the product goes to: a role's id, or an external customer's id.",
            required=True,
        ),
    ),
    doc="A hand-off declared in the `from` role's file.",
)

JOURNEY = Shape(
    "journey file",
    (
        Key("title", "text", "The journey, as the customer would name it.", required=True),
        Key(
            "customer",
            "text",
            "The external customer who lives it: an id from jobdefs.yaml.",
            required=True,
        ),
        Key("description", "text", "Where it starts and where it ends."),
        Key(
            "steps",
            "list",
            "The hand-offs, in the order the customer lives them.",
            required=True,
            items=JOURNEY_STEP,
        ),
    ),
)
