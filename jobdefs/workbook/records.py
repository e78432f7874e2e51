"""A YAML tree checked against a shape: the values of a role file or jobdefs.yaml, each
with the place it was written, and a finding for each mistake.

`FileReader` walks the positioned tree `source` made, key by key, against the shapes of
`schema`; whatever does not fit becomes a finding with file, line, column and a fix, and
is left out of the `Record` it returns. Nothing here knows what a role is: `load` turns
records into the model.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from jobdefs.model import Finding, Location
from jobdefs.text import did_you_mean
from jobdefs.workbook.questions import written_as_text
from jobdefs.workbook.schema import TEXT_MAX, WRITTEN_UNDER_THE_WRONG_KEY, Key, KeyType, Shape
from jobdefs.workbook.source import Node, describe
from jobdefs.workbook.upkeep import WARNING_CODES

# Control characters (other than tab and newline) and the code points XML cannot hold.
BAD_CHARACTER = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Record(dict[str, Any]):
    """A validated mapping: its values plus where the mapping and each key were written."""

    def __init__(self, where: Location) -> None:
        super().__init__()
        self.where = where
        self.at: dict[str, Location] = {}

    def location(self, key: str) -> Location:
        return self.at.get(key, self.where)


class FileReader:
    """Checks one file's node tree against a shape, collecting findings."""

    def __init__(self, file: str, findings: list[Finding], content: bytes = b"\\") -> None:
        self.file = file
        self.findings = findings
        # The reader already refused raw control characters, so only an escape sequence
        # in double quotes ("\v") can put one into a value: without a backslash in the
        # file, no value needs checking.
        self.may_hold_escapes = b"\\" in content

    def where(self, node: Node, path: str) -> Location:
        return Location(self.file, node.line, node.column, path)

    def error(self, node: Node, path: str, code: str, message: str) -> None:
        self.findings.append(Finding.at(self.where(node, path), "error", code, message))

    def mapping(self, node: Node, shape: Shape, path: str) -> Record | None:
        if node.kind != "mapping":
            self.wrong_type(node, path, f"a mapping ({shape.name})")
            return None
        if self._written_under_the_wrong_key(node, shape, path):
            return None
        record = Record(self.where(node, path))
        first_seen: dict[str, Node] = {}
        misspelt: set[str] = set()  # required keys already suggested for an unknown key
        for key_node, value_node in node.pairs:
            if key_node.kind != "scalar":
                self.wrong_type(
                    key_node,
                    path or "key",
                    "a key written as text",
                    found=f"{describe(key_node)} used as a key",
                )
                continue
            name = key_node.text
            key_path = f"{path}.{name}" if path else name
            if name in first_seen:
                self.error(
                    key_node,
                    key_path,
                    "duplicate-key",
                    f"the key '{name}' appears twice in this mapping (first on line "
                    f"{first_seen[name].line}); keep one of them",
                )
                continue
            first_seen[name] = key_node
            key = shape.key(name)
            if key is None:
                allowed = ", ".join(shape.names)
                hint = did_you_mean(name, shape.names)
                misspelt.add(hint.split("'")[1] if hint else "")
                self.error(
                    key_node,
                    key_path,
                    "unknown-key",
                    f"'{name}' is not a key of a {shape.name}{hint} (allowed: {allowed})",
                )
                continue
            record.at[name] = self.where(key_node, key_path)
            value = self.value(value_node, key, key_path)
            if value is not None:
                record[name] = value
        for key in shape.keys:
            if key.required and key.name not in first_seen and key.name not in misspelt:
                self.error(
                    node,
                    f"{path}.{key.name}" if path else key.name,
                    "missing-key",
                    f"this {shape.name} has no '{key.name}'; add '{key.name}:' "
                    f"({key.doc.rstrip('.')})",
                )
        return record

    def _written_under_the_wrong_key(self, node: Node, shape: Shape, path: str) -> bool:
        meant, advice = WRITTEN_UNDER_THE_WRONG_KEY.get(shape.name, (None, ""))
        names = {key.text for key, _ in node.pairs if key.kind == "scalar"}
        if meant is None or not names or names & set(shape.names) or names - set(meant.names):
            return False
        keys = ", ".join(f"'{name}'" for name in meant.names if name in names)
        message = f"this looks like a {meant.name} (it has {keys}), not a {shape.name}: {advice}"
        self.error(node, path, "unknown-key", message)
        return True

    def value(self, node: Node, key: Key, path: str) -> Any:
        if node.is_null:
            advice = "write it" if key.required else "write it or remove the key"
            self.error(
                node,
                path,
                "empty-value",
                f"'{key.name}' is empty; {advice} ({key.doc.rstrip('.')})",
            )
            return None
        if key.type == "list":
            return self.list(node, key, path)
        if key.type == "mapping":
            return self.keyed(node, key, path)
        return self.scalar(node, key.type, key.name, path, key.required)

    def list(self, node: Node, key: Key, path: str) -> list[Any] | None:
        if node.kind != "list":
            self.wrong_type(node, path, "a list (one item per line, starting with '- ')")
            return None
        if not node.items and key.required:
            self.error(node, path, "empty-value", f"'{key.name}' needs at least one item")
            return None
        values = []
        for index, item in enumerate(node.items):
            item_path = f"{path}[{index}]"
            if isinstance(key.items, Shape) and not written_as_text(key.items, item):
                value: Any = self.mapping(item, key.items, item_path)
            elif item.is_null:
                self.error(
                    item,
                    item_path,
                    "empty-value",
                    "this item is empty; write it or remove the line",
                )
                value = None
            else:
                kind = key.items if isinstance(key.items, str) else "text"
                value = self.scalar(item, kind, key.name, item_path)
            if value is not None:
                values.append(value)
        return values

    def keyed(self, node: Node, key: Key, path: str) -> Record | None:
        """A mapping whose keys are free ids (external customers, warning codes)."""
        if node.kind != "mapping":
            self.wrong_type(node, path, "a mapping")
            return None
        record = Record(self.where(node, path))
        for key_node, value_node in node.pairs:
            if key_node.kind != "scalar":
                self.wrong_type(
                    key_node,
                    path,
                    "an id written as text",
                    found=f"{describe(key_node)} used as an id",
                )
                continue
            name = key_node.text
            entry_path = f"{path}.{name}"
            if name in record.at:
                self.error(
                    key_node,
                    entry_path,
                    "duplicate-key",
                    f"'{name}' appears twice in '{key.name}'; keep one of them",
                )
                continue
            if key.name == "warnings" and name not in WARNING_CODES:
                self.error(
                    key_node,
                    entry_path,
                    "unknown-key",
                    f"'{name}' is not a warning code{did_you_mean(name, WARNING_CODES)}"
                    f" (warning codes: {', '.join(WARNING_CODES)})",
                )
                continue
            record.at[name] = self.where(key_node, entry_path)
            if value_node.is_null:
                self.error(value_node, entry_path, "empty-value", f"'{name}' is empty")
                continue
            if isinstance(key.values, Shape):
                value: Any = self.mapping(value_node, key.values, entry_path)
            else:
                value = self.scalar(value_node, key.values or "text", name, entry_path)
            if value is not None:
                record[name] = value
        return record

    def scalar(
        self, node: Node, type_: KeyType, name: str, path: str, required: bool = True
    ) -> Any:
        if node.kind != "scalar":
            expected = {
                "integer": "a whole number",
                "boolean": "true or false",
                "date": "a date (YYYY-MM-DD)",
            }.get(type_, "text")
            self.wrong_type(node, path, expected)
            return None
        text = node.text
        if type_ == "integer":
            if not text.isascii() or not text.isdigit() or not 0 < int(text) <= 1200:
                self.wrong_type(node, path, "a whole number from 1 to 1200", found=f"'{text}'")
                return None
            return int(text)
        if type_ == "boolean":
            if text.lower() not in ("true", "false"):
                self.wrong_type(node, path, "true or false", found=f"'{text}'")
                return None
            return text.lower() == "true"
        if type_ == "date":
            return self.date(node, path, text)
        return self.text(node, name, path, required)

    def date(self, node: Node, path: str, text: str) -> str | None:
        try:
            if not DATE.match(text):
                raise ValueError
            datetime.date.fromisoformat(text)
        except ValueError:
            self.wrong_type(
                node, path, "a date written YYYY-MM-DD, e.g. 2026-03-01", found=f"'{text}'"
            )
            return None
        return text

    def text(self, node: Node, name: str, path: str, required: bool = True) -> str | None:
        text = node.text.strip()
        if not text:
            advice = "write the text" if required else "write the text or remove the key"
            self.error(node, path, "empty-value", f"'{name}' is empty; {advice}")
            return None
        bad = BAD_CHARACTER.search(text) if self.may_hold_escapes else None
        if bad:
            self.error(
                node,
                path,
                "bad-character",
                f"'{name}' holds the control character U+{ord(bad.group()):04X} (character "
                f"{bad.start() + 1} of the text), which a Word or Excel file cannot hold; "
                "remove it (look for an escape such as \\v or \\f in double quotes)",
            )
            return None
        if len(text) > TEXT_MAX:
            self.error(
                node,
                path,
                "text-too-long",
                f"'{name}' is {len(text):,} characters long; the limit is {TEXT_MAX:,} "
                "(what one spreadsheet cell holds): shorten it",
            )
            return None
        return text

    def wrong_type(self, node: Node, path: str, expected: str, found: str = "") -> None:
        name = path.rsplit(".", 1)[-1]
        self.error(
            node,
            path,
            "wrong-type",
            f"'{name}' must be {expected}, not {found or describe(node)}",
        )
