"""Findings as text, JSON or GitHub Actions workflow commands."""

from __future__ import annotations

import json
from collections.abc import Sequence

from jobdefs.model import Finding
from jobdefs.text import count, one_line

FORMATS = ("text", "json", "github")


def exit_status(findings: Sequence[Finding], *, strict: bool) -> int:
    """0 when the workbook may be built, 1 for errors (or warnings under --strict)."""
    if any(f.is_error for f in findings):
        return 1
    return 1 if strict and findings else 0


def summary(findings: Sequence[Finding], roles: int, journeys: int = 0) -> str:
    errors = sum(f.is_error for f in findings)
    warnings = len(findings) - errors
    checked = count(roles, "role") + (f" and {count(journeys, 'journey')}" if journeys else "")
    return f"{count(errors, 'error')}, {count(warnings, 'warning')} in {checked}"


def as_text(findings: Sequence[Finding]) -> str:
    return "".join(f.as_text() + "\n" for f in findings)


def as_json(findings: Sequence[Finding]) -> str:
    errors = sum(f.is_error for f in findings)
    document = {
        "errors": errors,
        "warnings": len(findings) - errors,
        "findings": [f.as_dict() for f in findings],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def as_github(findings: Sequence[Finding]) -> str:
    """GitHub Actions annotations; the runner needs %, CR, LF and property commas escaped."""
    lines = []
    for f in findings:
        properties = [f"file={_property(f.file)}"]
        if f.line is not None:
            properties.append(f"line={f.line}")
        if f.column is not None:
            properties.append(f"col={f.column}")
        properties.append(f"title={_property(f.code)}")
        lines.append(f"::{f.severity} {','.join(properties)}::{_data(f.message)}\n")
    return "".join(lines)


def _data(text: str) -> str:
    return one_line(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
