"""Template lint: what is wrong with a Word template HR edited, before a build uses it.

Word breaks the tags people type in ways that are hard to see: it stores a tag's pieces in
different places (a tracked change, a hyperlink, a field), swaps in non-breaking spaces and
curly quotes, or ends a paragraph in the middle of a tag. Jinja cannot say which
paragraph is at fault. This module reads the template twice: the raw XML, to find the
tags as Word stores them, and the Jinja source as it will be compiled, for syntax errors
and variables a job aid does not have (attribute paths too, e.g. `role.titel`). Every
finding names the paragraph's text so that HR can find it in Word.

`jobdefs templates check` prints the findings; `jobdefs build` runs the same check first
and refuses to write anything while the template has errors.
"""

from __future__ import annotations

import html
import itertools
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jinja2
from jinja2 import nodes

from jobdefs.documents.ooxml import read_parts
from jobdefs.documents.template_files import job_aid_template_path
from jobdefs.documents.template_refusals import refusals
from jobdefs.documents.template_sandbox import template_environment
from jobdefs.documents.template_variables import all_template_variables
from jobdefs.documents.word_template import (
    template_source,
    templated_parts,
    unclosed_block,
    where,
)
from jobdefs.errors import TemplateError
from jobdefs.office_files import UnsafeFile, read_regular_file
from jobdefs.text import count, did_you_mean, shorten
from jobdefs.workbook.load import load_workbook

Severity = Literal["error", "warning"]

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_SEE_DOCS = "(the variables are listed in docs/templates.md)"
_RETYPE = "delete the whole tag and type it again in one go"
_CLOSERS = {"{{": "}}", "{%": "%}", "{#": "#}"}
_OPENER = re.compile(r"\{[{%#]")
_NEAR_MISS = re.compile(r"\{\s+[{%]|[%}]\s+\}")
_STRAY_CLOSER = re.compile(r"}}|%}")
_ROW_TAG = re.compile(r"^\{[{%#](p|tr|tc)\s")
_CURLY_QUOTES = "“”‘’"
# Characters Word types for you that Jinja cannot read inside a tag (docxtpl itself turns
# the curly quotes above into straight ones, but not these).
_UNREADABLE = {
    "\u00a0": "a non-breaking space",
    "\u202f": "a narrow non-breaking space",
    "„": "a low quotation mark („)",
    "‚": "a low quotation mark (‚)",
    "«": "a guillemet («)",
    "»": "a guillemet (»)",
}
# Where Word can put a run; a tag whose pieces sit in different ones of these cannot be
# joined back by docxtpl without cutting through the document's structure.
_CONTAINERS = {
    "ins": "a tracked change (an insertion)",
    "del": "a tracked change (a deletion)",
    "moveTo": "a tracked move",
    "moveFrom": "a tracked move",
    "hyperlink": "a hyperlink",
    "fldSimple": "a field",
    "sdt": "a content control",
    "sdtContent": "a content control",
    "smartTag": "a smart tag",
    "customXml": "a custom XML element",
    "dir": "a text-direction mark",
    "bdo": "a text-direction mark",
}
_DICT_METHODS = frozenset(("items", "keys", "values", "get"))
_SAME_LIST_FILTERS = frozenset(("sort", "reverse", "list", "unique", "selectattr", "rejectattr"))
_ITEM_FILTERS = frozenset(("first", "last", "random"))
_PARAGRAPH_SHOWN = 70


@dataclass(frozen=True)
class TemplateFinding:
    """One problem in a template, with the paragraph it is in."""

    severity: Severity
    code: str
    template: str  # how the user knows the file, e.g. templates/job-aid.docx
    part: str  # word/document.xml, word/header1.xml, ...
    paragraph: str  # the paragraph's text as Word shows it (tags included), shortened
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def as_text(self) -> str:
        place = where(self.template, self.part, self.paragraph) if self.part else self.template
        return f"{place}: {self.severity}[{self.code}]: {self.message}"


def lint_template(data: bytes, name: str) -> list[TemplateFinding]:
    """Every problem in the Word template `data`; `name` is how messages refer to it."""
    try:
        parts = read_parts(data)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        problem = f"not a Word document (.docx): {error}; save the template from Word as .docx"
        return [_file_finding(name, problem)]
    try:
        templated = templated_parts(parts)
    except ValueError as error:
        return [_file_finding(name, str(error))]
    if not templated:
        return [_file_finding(name, "not a Word document: it has no word/document.xml")]
    findings: list[TemplateFinding] = []
    for part in templated:
        findings += _lint_part(name, part, parts[part])
    return findings


def lint_template_file(path: Path, name: str | None = None) -> list[TemplateFinding]:
    """`lint_template` for the file at `path`; `name` defaults to the path."""
    try:
        data = read_regular_file(path)  # a pipe given by mistake is refused, not waited on
    except UnsafeFile as error:
        return [_file_finding(name or str(path), f"cannot read the template: {error}")]
    return lint_template(data, name or str(path))


def workbook_template(root: Path) -> tuple[Path, str]:
    """The job-aid template a build of the workbook at `root` uses, and its name for people:
    the workbook's own templates/job-aid.docx, else the default template."""

    workbook = load_workbook(root)
    path = job_aid_template_path(workbook.templates_dir)
    try:
        return path, path.relative_to(workbook.root).as_posix()
    except ValueError:
        return path, f"the default template ({path})"


def summary(name: str, findings: Sequence[TemplateFinding]) -> str:
    """One line: how many errors and warnings the template has, and what to do."""
    errors = sum(1 for finding in findings if finding.is_error)
    warnings = len(findings) - errors
    counted = f"{count(errors, 'error')}, {count(warnings, 'warning')}"
    if errors:
        return f"{name}: {counted}; a build refuses this template until the errors are fixed"
    return f"{name}: {counted}" + ("; the template is ready to use" if not warnings else "")


def exit_status(findings: Sequence[TemplateFinding], *, strict: bool = False) -> int:
    """1 when the template has errors, or warnings under `strict`; else 0."""
    if any(f.is_error for f in findings) or (strict and findings):
        return 1
    return 0


def check_template(data: bytes, name: str) -> None:
    """Raise TemplateError listing every error in the template (what `build` refuses)."""
    errors = [finding for finding in lint_template(data, name) if finding.is_error]
    if errors:
        lines = [finding.as_text() for finding in errors]
        raise TemplateError(
            f"the template {name} has {count(len(errors), 'error')}; fix the template (check "
            "it with 'jobdefs templates check') and build again:\n" + "\n".join(lines)
        )


def _file_finding(name: str, message: str) -> TemplateFinding:
    return TemplateFinding("error", "not-a-template", name, "", "", message)


# -- one part: the raw XML, then the Jinja source --------------------------------------


def _lint_part(name: str, part: str, data: bytes) -> list[TemplateFinding]:
    from lxml import etree

    def finding(severity: Severity, code: str, paragraph: str, message: str) -> TemplateFinding:
        return TemplateFinding(
            severity, code, name, part, shorten(paragraph, _PARAGRAPH_SHOWN), message
        )

    try:
        xml = data.decode("utf-8")
        root = etree.fromstring(data)
    except (UnicodeDecodeError, etree.XMLSyntaxError) as error:
        return [finding("error", "not-a-template", "", f"not readable XML: {error}")]

    findings: list[TemplateFinding] = []
    broken: set[str] = set()  # tags already reported, so Jinja's view does not repeat them
    structural = False  # a tag Word cut apart: Jinja then sees the XML around it as code
    typed: dict[str, tuple[str, str]] = {}  # a tag as docxtpl leaves it -> as typed, where
    for paragraph in _paragraphs(root):
        for match in _TAG.finditer(paragraph.text):
            typed.setdefault(_normal(match.group(0)), (match.group(0), paragraph.text))
        for severity, code, tag, message in _raw_problems(paragraph):
            findings.append(finding(severity, code, paragraph.text, message))
            if severity == "error":
                broken.add(_normal(tag))
                structural |= code in ("unclosed-tag", "split-tag")

    _, source = template_source(xml)
    lines = source.split("\n")

    def paragraph_of(number: int, tag: str = "") -> str:
        """The paragraph as Word shows it: the one the tag was typed in, if it is known."""
        line = lines[number - 1] if 0 < number <= len(lines) else ""
        for candidate in [tag] if tag else _TAG.findall(line):
            if _normal(candidate) in typed:
                return typed[_normal(candidate)][1]
        return _paragraph_of(lines, number - 1)

    def as_typed(tag: str) -> str:
        return typed.get(_normal(tag), (tag, ""))[0]

    environment = template_environment()
    # Text in {% raw %} blocks is printed as typed, so it is never read as tags.
    unraw = _RAW_BLOCK.sub(lambda m: "\n" * m.group(0).count("\n"), source)
    for number, line in enumerate(unraw.split("\n"), 1):
        for tag in _TAG.findall(line):
            if not tag.startswith("{{") or _normal(tag) in broken:
                continue
            try:
                environment.parse(tag)
            except jinja2.TemplateSyntaxError as error:
                problem = (error.message or "a syntax error").rstrip(".")
                message = (
                    f"{_shown(as_typed(tag))}: {problem}{_quote_hint(as_typed(tag))}; fix the "
                    "tag in Word and save the template again"
                )
                findings.append(finding("error", "syntax", paragraph_of(number, tag), message))
                broken.add(_normal(tag))
    # Tags already reported stand aside, so that the rest of the part is still checked.
    readable = _TAG.sub(
        lambda m: (
            "{{ '' }}"
            if m.group(0).startswith("{{") and _normal(m.group(0)) in broken
            else m.group(0)
        ),
        source,
    )
    try:
        tree = environment.parse(readable)
    except jinja2.TemplateSyntaxError as error:
        line = lines[error.lineno - 1] if 0 < error.lineno <= len(lines) else ""
        if not structural and not any(_normal(tag) in broken for tag in _TAG.findall(line)):
            number, problem = _syntax_problem(source, error)
            findings.append(finding("error", "syntax", paragraph_of(number), problem))
    else:
        refused: dict[tuple[int, str], tuple[int, TemplateFinding]] = {}
        for refusal in refusals(tree):  # each tag once, for what comes first in it
            line = lines[refusal.line - 1] if 0 < refusal.line <= len(lines) else ""
            word = re.escape(refusal.word)
            word = rf"\b{word}\b" if refusal.word.isidentifier() else word
            tag = next((t for t in _TAG.findall(line) if re.search(word, t)), "")
            at = tag.find(refusal.word)
            message = f"{_shown(as_typed(tag)) if tag else 'the template'} {refusal.message}"
            found = finding("error", refusal.code, paragraph_of(refusal.line, tag), message)
            kept = refused.get((refusal.line, tag))
            if kept is None or at < kept[0]:
                refused[refusal.line, tag] = (at, found)
        findings += [found for _, found in refused.values()]
        for number, tag, message in _unknown_variables(tree, lines):
            if (number, tag) not in refused:
                findings.append(
                    finding("error", "unknown-variable", paragraph_of(number, tag), message)
                )
    # In the order HR reads the document: paragraph by paragraph.
    order: dict[str, int] = {}
    for position, paragraph in enumerate(_paragraphs(root)):
        order.setdefault(shorten(paragraph.text, _PARAGRAPH_SHOWN), position)
    return sorted(findings, key=lambda f: order.get(f.paragraph, len(order)))


def _syntax_problem(source: str, error: jinja2.TemplateSyntaxError) -> tuple[int, str]:
    """The line and message for a syntax error the whole part has (e.g. a block never closed)."""
    lines = source.split("\n")
    line = lines[error.lineno - 1] if 0 < error.lineno <= len(lines) else ""
    problem = (error.message or "a syntax error").rstrip(".")
    tags = _TAG.findall(line)
    if error.lineno >= len(lines) or not tags:
        unclosed = unclosed_block(source)
        if unclosed is not None:
            number, tag = unclosed
            return number, f"{tag} is never closed; add the matching end tag ({problem})"
    shown = "".join(_shown(tag) + ": " for tag in tags)
    hint = "".join(dict.fromkeys(_quote_hint(tag) for tag in tags))
    return error.lineno, (
        f"{shown}{problem}{hint}; fix the tag in Word and save the template again"
    )


def _quote_hint(tag: str) -> str:
    if any(quote in tag for quote in _CURLY_QUOTES):
        return " (Word's curly quotes in the tag are read as straight ones)"
    return ""


# -- the raw XML: tags as Word stores them -----------------------------------------------


@dataclass
class _Paragraph:
    element: Any
    text: str = ""
    pieces: list[tuple[int, Any]] = field(default_factory=list)  # (offset in text, w:t)


def _paragraphs(root: Any) -> Iterator[_Paragraph]:
    """Each paragraph with its text, built from its own w:t elements (not a text box's)."""
    for element in root.iter(f"{_W}p"):
        paragraph = _Paragraph(element)
        texts = []
        offset = 0
        for text in element.iter(f"{_W}t"):
            if next(text.iterancestors(f"{_W}p"), None) is not element:
                continue
            value = text.text or ""
            paragraph.pieces.append((offset, text))
            texts.append(value)
            offset += len(value)
        paragraph.text = "".join(texts)
        yield paragraph


def _raw_problems(paragraph: _Paragraph) -> Iterator[tuple[Severity, str, str, str]]:
    """(severity, code, tag, message) for each tag Word broke in this paragraph."""
    text = paragraph.text
    outside: list[str] = []
    position = 0
    while True:
        match = _OPENER.search(text, position)
        if match is None:
            outside.append(text[position:])
            break
        outside.append(text[position : match.start()])
        opener = match.group(0)
        end = text.find(_CLOSERS[opener], match.end())
        if end < 0:
            if opener != "{#":  # a comment may run over several paragraphs
                tag = text[match.start() :]
                yield (
                    "error",
                    "unclosed-tag",
                    tag,
                    f"{_shown(tag)} is not closed in this paragraph; a tag must start and "
                    f"end in one paragraph: add the missing '{_CLOSERS[opener]}', or "
                    f"{_RETYPE}",
                )
            break
        start, position = match.start(), end + 2
        tag = text[start:position]
        yield from _tag_problems(paragraph, tag, start, position)
    rest = " ".join(outside)
    near = _NEAR_MISS.search(rest) or _STRAY_CLOSER.search(rest)
    if near is not None:
        yield (
            "warning",
            "stray-brace",
            near.group(0),
            f"'{near.group(0)}' looks like part of a tag that Word or a typo broke, and it "
            "will be printed as it is; a tag is written {{ name }} or {% ... %} with no "
            "space inside the braces",
        )


def _tag_problems(
    paragraph: _Paragraph, tag: str, start: int, end: int
) -> Iterator[tuple[Severity, str, str, str]]:
    split = _split_by(paragraph, start, end)
    if split:
        yield (
            "error",
            "split-tag",
            tag,
            f"Word keeps the pieces of {_shown(tag)} in different places ({split}), so "
            "they cannot be joined back and the job aid would be damaged; accept or reject "
            f"tracked changes, remove any link or field from the tag, or {_RETYPE}",
        )
    unreadable = [label for char, label in _UNREADABLE.items() if char in tag]
    if unreadable:
        yield (
            "error",
            "word-character",
            tag,
            f"{_shown(tag)} holds {' and '.join(unreadable)}, which Word typed for you and "
            f"a template cannot read; {_RETYPE} (type spaces and quotes from the keyboard)",
        )
    if any(quote in tag for quote in _CURLY_QUOTES) and not tag.startswith("{#"):
        yield (
            "warning",
            "curly-quotes",
            tag,
            f"{_shown(tag)} holds Word's curly quotes; they are read as straight quotes, "
            "but an apostrophe inside quoted text then ends the text early. Turn off "
            "AutoCorrect's “smart quotes” (AutoFormat As You Type) while you edit tags",
        )
    kind = _ROW_TAG.match(tag)
    if kind is not None:
        dropped = _dropped_text(paragraph, kind.group(1), tag)
        if dropped:
            what = {"p": "paragraph", "tr": "table row", "tc": "table cell"}[kind.group(1)]
            yield (
                "warning",
                "text-dropped",
                tag,
                f"{_shown(tag)} stands for its whole {what}, so the {what}'s other text "
                f"('{shorten(dropped, 40)}') never shows in a job aid; put the tag in a "
                f"{what} of its own",
            )


def _split_by(paragraph: _Paragraph, start: int, end: int) -> str:
    """What keeps a tag's pieces apart, when docxtpl cannot join them; else empty text."""
    pieces = [
        element
        for offset, element in paragraph.pieces
        if offset < end and offset + len(element.text or "") > start
    ]
    reasons: list[str] = []
    for first, second in itertools.pairwise(pieces):
        chain1 = [*reversed(list(first.iterancestors())), first]
        chain2 = [*reversed(list(second.iterancestors())), second]
        common = 0
        while common < min(len(chain1), len(chain2)) and chain1[common] is chain2[common]:
            common += 1
        names1 = [_local(e) for e in chain1[common:]]
        names2 = [_local(e) for e in chain2[common:]]
        if names1 != names2:
            for name in names1 + names2:
                if name in _CONTAINERS:
                    reasons.append(_CONTAINERS[name])
                    break
            else:
                reasons.append("different parts of the paragraph")
        if _field_between(paragraph.element, first, second):
            reasons.append("a field")
    return ", ".join(dict.fromkeys(reasons))


def _field_between(paragraph: Any, first: Any, second: Any) -> bool:
    inside = False
    for element in paragraph.iter():
        if element is first:
            inside = True
        elif element is second:
            return False
        elif inside and _local(element) in ("fldChar", "instrText"):
            return True
    return False


def _dropped_text(paragraph: _Paragraph, kind: str, tag: str) -> str:
    if kind == "p":
        return paragraph.text.replace(tag, " ").strip()
    container = next(paragraph.element.iterancestors(f"{_W}{kind}"), None)
    if container is None:
        return ""
    texts = ["".join(t.text or "" for t in p.iter(f"{_W}t")) for p in container.iter(f"{_W}p")]
    return " ".join(" ".join(texts).replace(tag, " ").split())


def _local(element: Any) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


# -- the Jinja source: variables a job aid does not have -----------------------------------


_TAG = re.compile(r"{%.*?%}|{{.*?}}", re.DOTALL)
_RAW_BLOCK = re.compile(r"{%-?\s*raw\s*-?%}.*?{%-?\s*endraw\s*-?%}", re.DOTALL)
_XML_TAG = re.compile(r"<[^>]+>")


class _Shape:
    """What the documented variables say a value is: fields, a list of items, or plain."""

    def __init__(self) -> None:
        self.fields: dict[str, _Shape] = {}
        self.item: _Shape | None = None


def _shapes(names: Sequence[str]) -> _Shape:
    root = _Shape()
    for name in names:
        shape = root
        for segment in name.split("."):
            key = segment.removesuffix("[]")
            shape = shape.fields.setdefault(key, _Shape())
            if segment.endswith("[]"):
                shape.item = shape.item or _Shape()
                shape = shape.item
    return root


@dataclass(frozen=True)
class _Value:
    shape: _Shape
    shown: str  # how the template wrote it, e.g. product.customers


_Scope = Mapping[str, "_Value | None"]


class _VariableWalker:
    """Walks a template's syntax tree, following each name through loops to its fields."""

    def __init__(self, root: _Shape, lines: Sequence[str]) -> None:
        self.root = root
        self.lines = lines
        self.found: dict[tuple[int, str], tuple[str, str]] = {}  # -> (tag, message)

    def report(self, node: nodes.Node, used: str, word: str, hint: str) -> None:
        number = node.lineno
        key = (number, used)
        if key in self.found:
            return
        line = self.lines[number - 1] if 0 < number <= len(self.lines) else ""
        pattern = re.compile(rf"\b{re.escape(word)}\b")
        tags = [tag for tag in _TAG.findall(line) if pattern.search(tag)]
        shown = " ".join(_shown(tag) for tag in tags) or f"'{used}'"
        self.found[key] = (
            tags[0] if tags else "",
            f"{shown} uses '{used}', which a job aid does not have{hint} {_SEE_DOCS}",
        )

    # statements

    def body(self, statements: Sequence[nodes.Node], scope: dict[str, _Value | None]) -> None:
        for statement in statements:
            self.statement(statement, scope)

    def statement(self, node: nodes.Node, scope: dict[str, _Value | None]) -> None:
        if isinstance(node, nodes.For):
            items = self.expression(node.iter, scope)
            inner = dict(scope)
            inner["loop"] = None
            item = items.shape.item if items else None
            for target in _names(node.target):
                single = isinstance(node.target, nodes.Name)
                inner[target] = _Value(item, target) if item and single else None
            if node.test is not None:
                self.expression(node.test, inner)
            self.body(node.body, inner)
            self.body(node.else_, scope)
        elif isinstance(node, nodes.Assign):
            value = self.expression(node.node, scope)
            for target in _names(node.target):
                scope[target] = (
                    _Value(value.shape, target)
                    if value and isinstance(node.target, nodes.Name)
                    else None
                )
        elif isinstance(node, nodes.AssignBlock):
            for target in _names(node.target):
                scope[target] = None
            self.body(node.body, scope)
        elif isinstance(node, nodes.With):
            inner = dict(scope)
            for bound, expression in zip(node.targets, node.values, strict=False):
                found = self.expression(expression, scope)
                for name in _names(bound):
                    inner[name] = _Value(found.shape, name) if found else None
            self.body(node.body, inner)
        elif isinstance(node, (nodes.Macro, nodes.CallBlock)):
            if isinstance(node, nodes.Macro):
                scope[node.name] = None
            else:
                self.expression(node.call, scope)
            inner = dict(scope)
            for name in ("caller", "varargs", "kwargs"):
                inner[name] = None
            for argument in node.args:
                inner[argument.name] = None
            for default in node.defaults:
                self.expression(default, scope)
            self.body(node.body, inner)
        else:
            for child in node.iter_child_nodes():
                if isinstance(child, nodes.Stmt):
                    self.statement(child, scope)
                elif isinstance(child, nodes.Expr):
                    self.expression(child, scope)
                elif isinstance(child, nodes.Helper):
                    for grandchild in child.iter_child_nodes():
                        if isinstance(grandchild, nodes.Expr):
                            self.expression(grandchild, scope)

    # expressions

    def expression(self, node: nodes.Node, scope: _Scope) -> _Value | None:
        if isinstance(node, nodes.Name):
            if node.name in scope:
                return scope[node.name]
            if node.name in self.root.fields:
                return _Value(self.root.fields[node.name], node.name)
            known = sorted({*self.root.fields, *scope})
            self.report(node, node.name, node.name, did_you_mean(node.name, known))
            return None
        if isinstance(node, nodes.Getattr):
            return self.attribute(node, self.expression(node.node, scope), node.attr)
        if isinstance(node, nodes.Getitem):
            base = self.expression(node.node, scope)
            if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                return self.attribute(node, base, node.arg.value)
            if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, int):
                if base and base.shape.item:
                    return _Value(base.shape.item, f"{base.shown}[{node.arg.value}]")
                return None
            self.expression(node.arg, scope)
            return None
        if isinstance(node, nodes.Filter):
            base = self.expression(node.node, scope) if node.node is not None else None
            self.arguments(node, scope)
            if node.name in _SAME_LIST_FILTERS:
                return base
            if node.name in _ITEM_FILTERS and base and base.shape.item:
                return _Value(base.shape.item, f"{base.shown}|{node.name}")
            return None
        if isinstance(node, nodes.Call):
            if isinstance(node.node, nodes.Getattr):  # a method, e.g. role.title.upper()
                base = self.expression(node.node.node, scope)
                if base and base.shape.fields and node.node.attr not in _DICT_METHODS:
                    self.attribute(node.node, base, node.node.attr)
            else:
                self.expression(node.node, scope)
            self.arguments(node, scope)
            return None
        for child in node.iter_child_nodes():
            if isinstance(child, nodes.Expr):
                self.expression(child, scope)
            elif isinstance(child, nodes.Helper):
                for grandchild in child.iter_child_nodes():
                    if isinstance(grandchild, nodes.Expr):
                        self.expression(grandchild, scope)
        return None

    def arguments(self, node: nodes.Filter | nodes.Call | nodes.Test, scope: _Scope) -> None:
        for argument in node.args:
            self.expression(argument, scope)
        for keyword in node.kwargs:
            self.expression(keyword.value, scope)
        for extra in (node.dyn_args, node.dyn_kwargs):
            if extra is not None:
                self.expression(extra, scope)

    def attribute(self, node: nodes.Node, base: _Value | None, name: str) -> _Value | None:
        if base is None:
            return None
        used = f"{base.shown}.{name}"
        if name in base.shape.fields:
            return _Value(base.shape.fields[name], used)
        if base.shape.item is not None:
            self.report(
                node,
                used,
                name,
                f"; '{base.shown}' is a list: show its items in a loop, e.g. "
                f"{{% for item in {base.shown} %}}{{{{ item.{name} }}}}{{% endfor %}}",
            )
            return None
        if not base.shape.fields:  # text, a number or a flag: its own methods are fine
            return None
        if name in _DICT_METHODS:
            return None
        hint = did_you_mean(name, sorted(base.shape.fields))
        if hint:
            hint = hint.replace("'", f"'{base.shown}.", 1)
        self.report(node, used, name, hint)
        return None


def _names(target: nodes.Node) -> list[str]:
    if isinstance(target, nodes.Name):
        return [target.name]
    return [n.name for n in target.find_all(nodes.Name)]


def _unknown_variables(tree: nodes.Template, lines: Sequence[str]) -> list[tuple[int, str, str]]:
    """(line, tag, message) for each name or field a job aid does not have."""
    walker = _VariableWalker(_shapes(list(all_template_variables())), lines)
    walker.body(tree.body, {})
    return [(number, tag, message) for (number, _), (tag, message) in walker.found.items()]


# -- text for people ------------------------------------------------------------------------


def _paragraph_of(lines: Sequence[str], index: int) -> str:
    """The text of the paragraph that the compiled source's line `index` belongs to."""
    if not 0 <= index < len(lines):
        return ""

    def starts_paragraph(line: str) -> bool:
        return line.removeprefix("#}").startswith("<w:p")

    first = index
    while first > 0 and not starts_paragraph(lines[first]) and "</w:p>" not in lines[first - 1]:
        first -= 1
    if not starts_paragraph(lines[first]):
        first = index
    last = index
    while (
        "</w:p>" not in lines[last]
        and last + 1 < len(lines)
        and not starts_paragraph(lines[last + 1])
        and starts_paragraph(lines[first])
    ):
        last += 1
    text = "".join(line.removeprefix("#}").removesuffix("{#") for line in lines[first : last + 1])
    return " ".join(html.unescape(_XML_TAG.sub("", text)).split())


def _shown(tag: str) -> str:
    return "'" + " ".join(tag.split()) + "'"


def _normal(tag: str) -> str:
    """A tag as docxtpl leaves it, to recognise one tag seen in the XML and in Jinja."""
    for curly, straight in (("“", '"'), ("”", '"'), ("‘", "'"), ("’", "'")):
        tag = tag.replace(curly, straight)
    tag = re.sub(r"^(\{[{%#])(?:p|tr|tc|r)\s", r"\1 ", tag)
    return "".join(tag.split())


# -- docs/templates.md -----------------------------------------------------------------------
