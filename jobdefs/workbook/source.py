"""Read one YAML file into a tree of positioned nodes, safely.

PyYAML's C parser emits events; we build the tree ourselves instead of letting PyYAML
construct Python objects, because construction is where the dangers are: implicit typing
(`no` becomes False, `1.10` becomes 1.1), arbitrary tags (`!!python/object`), aliases that
expand exponentially ("billion laughs") and deep recursion. Every scalar keeps the text the
person typed and its line and column.
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from jobdefs.model import Finding
from jobdefs.workbook import syntax_advice
from jobdefs.workbook.schema import FILE_MAX_BYTES

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML built without LibYAML
    from yaml import SafeLoader as _Loader  # type: ignore[assignment,unused-ignore]

MAX_DEPTH = 32  # far deeper than any role file; stops "[[[[...]]]]" bombs
NULL_WORDS = frozenset({"", "~", "null", "Null", "NULL"})
CORE_TAGS = frozenset(
    "tag:yaml.org,2002:" + name
    for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")
)
# What the YAML reader itself refuses; reported with its position as `bad-character`.
NOT_YAML_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)

# What an error at the end of the file means, told from where the unclosed thing began.
UNCLOSED = {
    "while scanning a quoted scalar": "the quoted text that starts here is never closed; "
    "add the closing quote",
    "while parsing a flow sequence": "the '[' list that starts here is never closed; add "
    "the closing ']'",
    "while parsing a flow mapping": "the '{' mapping that starts here is never closed; add "
    "the closing '}'",
    "while parsing a flow node": "a '[' or '{' above is never closed; close each '[' with "
    "']' and each '{' with '}', or put the value that holds it in quotes",
}

NodeKind = Literal["scalar", "list", "mapping"]


class Node:
    """A scalar (text as typed), a list of nodes or a mapping as (key, value) pairs."""

    __slots__ = ("column", "kind", "line", "plain", "value")

    def __init__(
        self,
        kind: NodeKind,
        value: str | list[Node] | list[tuple[Node, Node]],
        line: int,
        column: int,
        plain: bool = False,
    ) -> None:
        self.kind = kind
        self.value = value
        self.line = line
        self.column = column
        self.plain = plain  # an unquoted scalar, open to YAML's implicit typing

    @property
    def is_null(self) -> bool:
        return self.kind == "scalar" and self.plain and self.value in NULL_WORDS

    @property
    def text(self) -> str:
        assert isinstance(self.value, str)
        return self.value

    @property
    def items(self) -> list[Node]:
        assert self.kind == "list"
        return self.value  # type: ignore[return-value]

    @property
    def pairs(self) -> list[tuple[Node, Node]]:
        assert self.kind == "mapping"
        return self.value  # type: ignore[return-value]


@dataclass(frozen=True)
class Parsed:
    """A file's tree, or the finding that says why there is none."""

    root: Node | None
    finding: Finding | None = None
    content: bytes = b""


def describe(node: Node) -> str:
    if node.kind == "scalar":
        return "empty" if node.is_null else "text"
    return "a list" if node.kind == "list" else "a mapping"


class _Refused(Exception):
    def __init__(self, code: str, message: str, line: int | None, column: int | None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line
        self.column = column


def read_yaml(path: Path, relative: str) -> Parsed:
    """Read and parse `path`; any problem becomes one finding, never an exception."""
    content = read_source(path, relative)
    return content if isinstance(content, Parsed) else parse_source(content, relative)


# Read-only, binary on Windows, and without waiting for a writer when the path is a FIFO.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_NOT_REGULAR = (
    "this is not a regular file (a pipe, socket or device); the files of a workbook are "
    "plain text files"
)


def read_source(path: Path | str, relative: str) -> bytes | Parsed:
    """The bytes of `path`, or the finding that says why they cannot be read.

    One open and one fstat of what was opened, rather than a stat of the path and an open
    of it: a thousand role files are read in a quarter of the time.
    """
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        with contextlib.suppress(OSError):  # a socket cannot be opened: say what it is
            if not stat.S_ISREG(os.stat(path).st_mode):
                return _refused(relative, "yaml-syntax", _NOT_REGULAR)
        return _unreadable(relative, error)
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            return _refused(relative, "yaml-syntax", _NOT_REGULAR)
        size = status.st_size
        if size > FILE_MAX_BYTES:
            return Parsed(None, too_large(relative, size))
        chunks = []
        left, wanted = FILE_MAX_BYTES + 1, size + 1  # all of it at once, and the end
        while left > 0 and (chunk := os.read(descriptor, min(left, wanted))):
            chunks.append(chunk)
            left, wanted = left - len(chunk), 1 << 16  # unless it grows meanwhile
    except OSError as error:
        return _unreadable(relative, error)
    finally:
        os.close(descriptor)
    content = b"".join(chunks)
    if len(content) > FILE_MAX_BYTES:  # grew while we looked
        return _refused(relative, "too-large", f"the file is larger than {FILE_MAX_BYTES:,} bytes")
    return content


def too_large(relative: str, size: int) -> Finding:
    """The finding for a file of `size` bytes, more than a role file may hold."""
    return Finding(
        "error",
        "too-large",
        f"the file is {size:,} bytes; the limit is {FILE_MAX_BYTES:,} bytes (1 MiB). "
        "A role file is a page or two of text: split it or remove what does not "
        "belong in it",
        relative,
        1,
        1,
    )


def _unreadable(relative: str, error: OSError) -> Parsed:
    reason = error.strerror or str(error)
    return _refused(
        relative,
        "yaml-syntax",
        f"cannot read the file ({reason}); check its "
        "permissions, or remove it if it is a broken link",
    )


def parse_source(content: bytes, relative: str) -> Parsed:
    """The node tree of a file's `content`, or the finding that says why there is none."""
    try:
        root = parse_yaml(content)
    except _Refused as refused:
        finding = Finding(
            "error", refused.code, refused.message, relative, refused.line, refused.column
        )
        return Parsed(None, finding, content)
    return Parsed(root, None, content)


def _refused(relative: str, code: str, message: str) -> Parsed:
    return Parsed(None, Finding("error", code, message, relative, 1, 1))


def parse_yaml(content: bytes) -> Node:
    text = _decode(content)
    bad = NOT_YAML_PRINTABLE.search(text)
    if bad:
        line, column = _position(text, bad.start())
        raise _Refused(
            "bad-character",
            f"the character U+{ord(bad.group()):04X} cannot be stored in a document; "
            "delete it (it is often pasted in invisibly from another program)",
            line,
            column,
        )
    try:
        root = _compose(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        if error.context_mark is not None and mark is not None and mark.index >= len(text):
            mark = error.context_mark  # an unclosed quote or bracket: point at its start
        problem = error.problem or "this is not valid YAML"
        where = _mark_position(mark, _Lines(text))[0] if mark is not None else 0
        message = syntax_advice.message(problem, text, where)
        if mark is error.context_mark:
            message = UNCLOSED.get(
                error.context or "", f"{error.context} (started here) is never finished"
            )
        if mark is None:
            raise _Refused("yaml-syntax", message, None, None) from None
        raise _Refused("yaml-syntax", message, *_mark_position(mark, _Lines(text))) from None
    except yaml.YAMLError as error:
        raise _Refused("yaml-syntax", f"this is not valid YAML ({error})", 1, 1) from None
    if root is None:
        raise _Refused(
            "yaml-syntax",
            "the file is empty; it must hold a mapping of keys such as 'title:'",
            1,
            1,
        )
    if root.kind != "mapping":
        raise _Refused(
            "yaml-syntax",
            f"the file holds {describe(root)} at the top; it must be a mapping of keys "
            "such as 'title: ...'",
            root.line,
            root.column,
        )
    return root


def _decode(content: bytes) -> str:
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE)):
        raise _Refused(
            "yaml-syntax",
            "the file is saved as UTF-16 or UTF-32; save it as UTF-8 "
            "(in most editors: Save As, Encoding: UTF-8)",
            1,
            1,
        )
    if b"\x00" in content:
        line = content.count(b"\n", 0, content.index(b"\x00")) + 1
        raise _Refused(
            "yaml-syntax",
            "the file holds NUL bytes, so it is not a text file; the files of a workbook must be "
            "plain UTF-8 text",
            line,
            1,
        )
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        line_start = content.rfind(b"\n", 0, error.start) + 1
        if line_start == 0 and content.startswith(codecs.BOM_UTF8):
            line_start = len(codecs.BOM_UTF8)  # the mark is invisible in an editor
        column = len(content[line_start : error.start].decode("utf-8", "replace")) + 1
        raise _Refused(
            "yaml-syntax",
            f"the byte 0x{content[error.start]:02X} is not UTF-8; save the file as UTF-8 "
            "(in most editors: Save As, Encoding: UTF-8)",
            line,
            column,
        ) from None
    return text.removeprefix("\ufeff")


# Editors break lines at LF, CRLF and CR only; YAML 1.1 also breaks at NEL, LS and PS.
LINE_BREAK = re.compile("\r\n|\r|\n")
YAML_ONLY_BREAKS = re.compile("\r(?!\n)|[\x85\u2028\u2029]")


class _Lines:
    """Line and column of a character index, counted the way an editor counts them."""

    def __init__(self, text: str) -> None:
        self.starts = [0, *(m.end() for m in LINE_BREAK.finditer(text))]

    def position(self, index: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, index)
        return line, index - self.starts[line - 1] + 1


def _position(text: str, index: int) -> tuple[int, int]:
    return _Lines(text).position(index)


def _mark_position(mark: Any, lines: _Lines | None) -> tuple[int, int]:
    if lines is None:  # the parser's own count agrees with an editor's
        return mark.line + 1, mark.column + 1
    return lines.position(mark.index)


def _compose(text: str) -> Node | None:
    """Build the node tree from parser events, iteratively, refusing what we do not read."""
    parser = _Loader(text)
    lines = _Lines(text) if YAML_ONLY_BREAKS.search(text) else None
    stack: list[tuple[Node, list[Node]]] = []  # open collections and their pending keys
    root: Node | None = None
    documents = 0
    try:
        while True:
            event: Any = parser.get_event()  # PyYAML's event classes are untyped
            kind = event.__class__
            if (
                kind is yaml.ScalarEvent
                or kind is yaml.MappingStartEvent
                or (kind is yaml.SequenceStartEvent)
            ):
                mark = event.start_mark
                tag = event.tag
                if tag is not None and tag != "!" and tag not in CORE_TAGS:
                    raise _Refused(
                        "yaml-syntax",
                        f"the tag '{tag}' is not allowed; jobdefs files hold only text, lists "
                        "and mappings",
                        *_mark_position(mark, lines),
                    )
                node: Node
                if kind is yaml.ScalarEvent:
                    plain = not event.style and tag is None  # LibYAML says '', PyYAML None
                    node = Node("scalar", event.value, *_mark_position(mark, lines), plain)
                else:
                    node_kind: NodeKind = "mapping" if kind is yaml.MappingStartEvent else "list"
                    node = Node(node_kind, [], *_mark_position(mark, lines))
                if stack:
                    _attach(stack[-1], node)
                else:
                    root = node
                if node.kind != "scalar":
                    if len(stack) >= MAX_DEPTH:
                        raise _Refused(
                            "yaml-syntax",
                            f"the data is nested more than {MAX_DEPTH} levels deep; a role "
                            "file needs at most five",
                            node.line,
                            node.column,
                        )
                    stack.append((node, []))
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                stack.pop()
            elif kind is yaml.AliasEvent:
                mark = event.start_mark
                raise _Refused(
                    "yaml-syntax",
                    f"aliases ('*{event.anchor}') are not supported in jobdefs files; write "
                    "the value out in full",
                    *_mark_position(mark, lines),
                )
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    mark = event.start_mark
                    raise _Refused(
                        "yaml-syntax",
                        "the file holds more than one YAML document ('---'); keep one role "
                        "per file",
                        *_mark_position(mark, lines),
                    )
            elif kind is yaml.StreamEndEvent:
                return root
    finally:
        parser.dispose()


def _attach(parent: tuple[Node, list[Node]], node: Node) -> None:
    collection, pending = parent
    if collection.kind == "list":
        collection.items.append(node)
    elif pending:
        collection.pairs.append((pending.pop(), node))
    else:
        pending.append(node)
