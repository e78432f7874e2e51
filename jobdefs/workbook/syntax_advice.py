"""Plain words for the YAML mistakes people make most: tabs, keys out of line, stray ': '.

The parser describes what it expected ("did not find expected '-' indicator"), which means
nothing to the person who typed the file. Most of these errors are one of three slips, and
the lines around the error tell which: a tab in the indentation, a key indented to no
level of the keys above it, or a value that holds ': ' without quotes.
"""

from __future__ import annotations

import re

# A line's key, after its indentation and any '- ' list markers: `name:` or `name: value`.
_KEY = re.compile(r"([^\s#'\"\-\[{][^:#]*?):(?:\s|$)")
_LEVELS_SHOWN = 3

GENERIC = (
    "check the indentation and quoting near here (quote text that contains ': ' or starts "
    "with a special character)"
)


def message(problem: str, text: str, line: int) -> str:
    """The finding's message for the parser's `problem`, found on `line` (from 1) of `text`:
    what the slip was and how to mend it when the lines tell, else the parser's words."""
    return _advice(problem, text, line) or f"{problem}; {GENERIC}"


def _advice(problem: str, text: str, line: int) -> str | None:
    lines = text.splitlines()
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    if "tab" in problem or "\t" in here[: len(here) - len(here.lstrip())]:
        return (
            "a tab is used to indent this line; replace the tab with spaces (YAML indents "
            "with spaces only; most editors can be set to insert spaces for the Tab key)"
        )
    if problem.startswith("mapping values are not allowed") and here.count(": ") >= 2:
        key, _, value = here.strip().partition(": ")
        return (
            f"the value of '{key.lstrip('- ')}' holds ': ', which YAML reads as another key; "
            f'put the value in quotes: {key}: "{value}"'
        )
    if problem.startswith(("did not find expected", "expected <block end>", "mapping values")):
        found = _key(here)
        if found is not None:
            return _out_of_line(found, lines[: line - 1], line)
    return None


def _key(line: str) -> tuple[int, str] | None:
    """The column (from 1) and name of the key a line starts, if it starts one."""
    column = len(line) - len(line.lstrip(" ")) + 1
    rest = line.lstrip(" ")
    while rest.startswith("- "):
        column, rest = column + 2, rest[2:].lstrip(" ")
        column = len(line) - len(rest) + 1
    match = _KEY.match(rest)
    return (column, match.group(1).strip()) if match else None


def _out_of_line(found: tuple[int, str], above: list[str], line: int) -> str | None:
    """Advice for a key whose column matches none of the open levels above it."""
    column, name = found
    levels: list[tuple[int, str, int]] = []  # (column, key, line), deepest first
    for number in range(len(above), 0, -1):
        key = _key(above[number - 1])
        if key is not None and (not levels or key[0] < levels[-1][0]):
            levels.append((key[0], key[1], number))
            if key[0] == 1 or len(levels) == _LEVELS_SHOWN:
                break
    if not levels or any(level == column for level, _, _ in levels):
        return None
    listed = "; ".join(
        f"column {level} like '{key}:' on line {number}" for level, key, number in levels
    )
    return (
        f"'{name}:' on line {line} starts at column {column}, which lines up with none of the "
        f"keys above it ({listed}); keys of one mapping must start in the same column, so "
        f"move '{name}:' to the column of the key it belongs beside"
    )
