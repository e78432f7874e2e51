"""Text helpers every layer shares.

Plurals, shortening, one-line and Markdown-safe text, and did-you-mean suggestions.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

# What to add to "no role 'x'" when no role id is close to what was typed.
ROLE_IDS_HINT = "; run 'jobdefs roles' to list the role ids"


def did_you_mean(word: str, candidates: Sequence[str], cutoff: float = 0.6) -> str:
    """ "; did you mean 'x'?" when one candidate is close (or equal but for case), else ""."""
    by_case = {c.casefold(): c for c in candidates}
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    if word.casefold() in by_case:
        close = [by_case[word.casefold()]]
    return f"; did you mean '{close[0]}'?" if close else ""


_LINE_BREAKS = str.maketrans(dict.fromkeys("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029", " "))


_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f]")


def one_line(text: str) -> str:
    """A finding is one line of plain text, whatever a file quoted in it.

    Line breaks become spaces; other control characters are shown escaped (\\x1b), so that
    a key holding terminal escape sequences cannot rewrite the terminal it is printed on.
    """
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text.translate(_LINE_BREAKS)


# What could start markup inside a line (user text never starts one): emphasis, code,
# links, HTML and entities, a heading's closing #s, table cells, strike-through, math.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#!|~&$])")


def fold_spaces(text: str) -> str:
    """Runs of white space, newlines included, folded into single spaces."""
    return " ".join(text.split())


def markdown_text(text: str) -> str:
    """User text that Markdown shows as typed: no markup, no links, no HTML, no @-mentions."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", fold_spaces(text))
    # A backslash does not stop GitHub from notifying @someone; a zero-width space does.
    return escaped.replace("@", "@&#8203;")


def count(number: int, noun: str) -> str:
    """'1 role', '3 roles': a number and its noun, plural when it is not one."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def cut(text: str, limit: int) -> str:
    """`text` at most `limit` characters long, an ellipsis marking what was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shorten(text: str, limit: int) -> str:
    """`text` on one line (white space folded), cut to at most `limit` characters."""
    return cut(fold_spaces(text), limit)
