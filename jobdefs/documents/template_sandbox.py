"""The Jinja environment templates from other people run in: sandboxed, with a bounded
output, so that a template can make a wrong document but never run code or fill the memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

# A job aid's part is a few hundred kilobytes at most; a template that makes more than
# this is a mistake or an attack, and stops with an error instead of filling the memory.
PART_OUTPUT_MAX = 20_000_000  # characters of one rendered part
_POWER_MAX = 64  # the largest exponent `**` may take


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja for templates from other people: no attribute that starts with `_`, no call
    of an unsafe method, no change to a value, and no text or list multiplied past what a
    part may hold. A template that tries gets an error, never further."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > _POWER_MAX:
            raise SecurityError(f"a power above {_POWER_MAX} is not allowed in a template")
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if (
                    isinstance(sequence, str | list | tuple)
                    and isinstance(times, int)
                    and len(sequence) * times > PART_OUTPUT_MAX
                ):
                    raise SecurityError(
                        f"'* {times}' would make more than {PART_OUTPUT_MAX:,} characters"
                    )
        return super().call_binop(context, operator, left, right)


def bounded(chunks: Iterable[str]) -> str:
    """The rendered text, or an error once it grows past PART_OUTPUT_MAX characters."""
    kept: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > PART_OUTPUT_MAX:
            raise SecurityError(f"the part grew past {PART_OUTPUT_MAX:,} characters")
        kept.append(chunk)
    return "".join(kept)


def template_environment(**options: Any) -> jinja2.Environment:
    """The Jinja environment job-aid templates are compiled in (`options`: e.g. a loader):
    sandboxed, because a template is a file from someone else."""
    return _Sandbox(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        **options,
    )
