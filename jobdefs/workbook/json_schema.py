"""jobdefs/schema.py's shapes -> JSON Schema, for editors and other tools.

The schema declares draft 2020-12 but uses only keywords that mean the same in draft-07
(no `$ref`, `$defs` or `prefixItems`): editors built on yaml-language-server implement
draft-07 best, and every key is written out in place so nothing depends on resolving
references.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from jobdefs.workbook.schema import (
    CUSTOMER,
    JOURNEY,
    ORGANIZATION,
    ROLE,
    ROLE_ID_MAX,
    ROLE_ID_PATTERN,
    TEXT_MAX,
    Key,
    KeyType,
    Shape,
)

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SchemaName = Literal["role", "organization", "journey"]
SCHEMAS: dict[SchemaName, Shape] = {"role": ROLE, "organization": ORGANIZATION, "journey": JOURNEY}
# The file each schema is committed as (schema/) and written as by `jobdefs init` (.jobdefs/).
FILE_NAMES: dict[SchemaName, str] = {
    "role": "role.schema.json",
    "organization": "jobdefs.schema.json",
    "journey": "journey.schema.json",
}
TITLES: dict[SchemaName, tuple[str, str]] = {
    "role": (
        "jobdefs role file",
        "One role of the organization: what it produces and whom each product serves. "
        "The role's id is the file's name without .yaml.",
    ),
    "organization": (
        "jobdefs.yaml",
        "The organization: its name, mission, external customers and folders.",
    ),
    "journey": (
        "jobdefs journey file",
        "The path one external customer lives through the organization, as the hand-offs "
        "of the role files in the order lived. The journey's id is the file's name without "
        ".yaml.",
    ),
}

# The characters the loader reports as `bad-character`, written as \uXXXX escapes that
# Python's re and JavaScript's RegExp read alike. Surrogates are left out: a UTF-8 file
# cannot hold them, and in JavaScript they would match half of every emoji.
CONTROL_CHARACTERS = r"\u0000-\u0008\u000b-\u001f\u007f-\u0084\u0086-\u009f\ufffe\uffff"
TEXT_PATTERN = f"^[^{CONTROL_CHARACTERS}]*$"
BLANK_PATTERN = r"^\s*$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
INTEGER_MIN, INTEGER_MAX = 1, 1200  # what the loader accepts: up to a century of months
EXTENSION_NOTE = "Extension to contract v1 (optional)."
EXACTLY_ONE_OF = {CUSTOMER.name: ("role", "external")}


def json_schema(name: SchemaName) -> dict[str, Any]:
    """The JSON Schema of a role file ("role"), of jobdefs.yaml ("organization") or of a
    journey file ("journey")."""
    shape = SCHEMAS[name]
    title, description = TITLES[name]
    return {"$schema": DRAFT, "title": title, "description": description, **_object(shape)}


def as_json(name: SchemaName) -> str:
    """The schema as the committed files hold it: two-space indents, a final newline."""
    return json.dumps(json_schema(name), indent=2, ensure_ascii=False) + "\n"


def _object(shape: Shape) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object"}
    if shape.doc:
        schema["description"] = shape.doc
    required = [key.name for key in shape.keys if key.required]
    if required:
        schema["required"] = required
    schema["properties"] = {key.name: _key(key) for key in shape.keys}
    schema["additionalProperties"] = False
    one_of = EXACTLY_ONE_OF.get(shape.name)
    if one_of:
        schema["oneOf"] = [{"required": [name]} for name in one_of]
    return schema


def _key(key: Key) -> dict[str, Any]:
    description = key.doc
    if key.extension:
        description = f"{description} {EXTENSION_NOTE}"
    schema: dict[str, Any] = {"description": description}
    if key.type == "list":
        items = key.items or "text"
        schema["type"] = "array"
        if key.required:
            schema["minItems"] = 1
        schema["items"] = _object(items) if isinstance(items, Shape) else _scalar(items)
        if isinstance(items, Shape) and items.shorthand:
            schema["items"] = {"anyOf": [_scalar("text"), schema["items"]]}
    elif key.type == "mapping":
        values = key.values or "text"
        schema["type"] = "object"
        schema["additionalProperties"] = (
            _object(values) if isinstance(values, Shape) else _scalar(values)
        )
    else:
        schema.update(_scalar(key.type))
    if key.example:
        schema["examples"] = [_example(key.type, key.example)]
    return schema


def _scalar(type_: KeyType) -> dict[str, Any]:
    if type_ == "role-id":
        return {"type": "string", "maxLength": ROLE_ID_MAX, "pattern": ROLE_ID_PATTERN}
    if type_ == "integer":
        return {"type": "integer", "minimum": INTEGER_MIN, "maximum": INTEGER_MAX}
    if type_ == "boolean":
        return {"type": "boolean"}
    if type_ == "date":
        return {"type": "string", "format": "date", "pattern": DATE_PATTERN}
    if type_ == "text":
        return {
            "type": "string",
            "minLength": 1,
            "maxLength": TEXT_MAX,
            "pattern": TEXT_PATTERN,
            "not": {"type": "string", "pattern": BLANK_PATTERN},
        }
    raise ValueError(f"no JSON Schema for a {type_} value")


def _example(type_: KeyType, example: str) -> Any:
    if type_ == "integer":
        return int(example)
    if type_ == "boolean":
        return example.lower() == "true"
    return example
