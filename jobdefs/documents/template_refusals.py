"""What the template sandbox would refuse, found in a template's syntax tree before a
build renders it: Python's internals, calls a template cannot make, changes to values,
and loops or text that would make more work than a job aid may.

The sandbox (template_sandbox) stops all of these at render time; finding them here lets
`jobdefs templates check` name the paragraph before a build is tried. Loops are weighed
from their constant bounds only (`range(100000)`, `'x' * 1000`, a literal list): loops over
the role's own lists depend on the role and are bounded at render time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from jinja2 import nodes
from jinja2.sandbox import MAX_RANGE

from jobdefs.documents.template_sandbox import LOOP_WORK_MAX, PART_OUTPUT_MAX, POWER_MAX

_SEE_DOCS = "(the variables are listed in docs/templates.md)"
# Methods a template may call: text's own that return text of about the same size, a
# field list's (items, keys, values, get), and the loop's helpers.
_METHODS = frozenset(
    (
        "capitalize", "casefold", "count", "endswith", "find", "format", "index", "isalnum",
        "isalpha", "isdecimal", "isdigit", "islower", "isnumeric", "isspace", "istitle",
        "isupper", "join", "lower", "lstrip", "partition", "removeprefix", "removesuffix",
        "replace", "rfind", "rindex", "rpartition", "rsplit", "rstrip", "split",
        "splitlines", "startswith", "strip", "swapcase", "title", "upper",
        "items", "keys", "values", "get", "cycle", "changed",
    )
)  # fmt: skip
# Methods that change the value they belong to, which the sandbox never allows.
_CHANGES = frozenset(
    ("append", "extend", "insert", "pop", "popitem", "remove", "clear", "update",
     "setdefault", "add", "discard", "sort", "reverse", "difference_update",
     "intersection_update", "symmetric_difference_update")
)  # fmt: skip
_FORMAT_INTERNALS = re.compile(r"\{[^{}]*?[.\[](_\w*)")  # e.g. '{0.__class__}'
_ITERATING_FILTERS = frozenset(("join", "list", "map", "sum", "sort", "unique", "reverse"))


@dataclass(frozen=True)
class Refusal:
    """Something the sandbox would refuse: where (the line and a word of the tag), and why."""

    line: int
    word: str  # a word of the tag, to find it in the line
    code: str
    message: str  # follows the tag as the lint shows it


def refusals(tree: nodes.Template) -> list[Refusal]:
    """Everything in the parsed template that the sandbox would refuse, in template order."""
    found = dict.fromkeys([*_reaches(tree), *_loops(tree)])
    return sorted(found, key=lambda refusal: refusal.line)


def _reaches(tree: nodes.Template) -> Iterator[Refusal]:
    """Python's internals, calls a template cannot make, and changes to values."""
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Call, nodes.Mul, nodes.Pow)):
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            yield _internals(node.lineno, node.attr)
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str)
            and node.arg.value.startswith("_")
        ):
            yield _internals(node.lineno, node.arg.value)
        elif isinstance(node, nodes.Call):
            yield from _call(node)
        elif isinstance(node, nodes.Mul):
            size = _size(node)
            if size is not None and size > PART_OUTPUT_MAX:
                yield Refusal(
                    node.lineno,
                    "*",
                    "too-large",
                    f"would make more than {PART_OUTPUT_MAX:,} characters with '*', which a "
                    "template may not; show the documented variables instead "
                    f"{_SEE_DOCS}",
                )
        elif (
            isinstance(node, nodes.Pow)
            and isinstance(node.right, nodes.Const)
            and isinstance(node.right.value, int | float)
            and abs(node.right.value) > POWER_MAX
        ):
            yield Refusal(
                node.lineno,
                "**",
                "too-large",
                f"raises a number to a power above {POWER_MAX}, which a template may not",
            )


def _internals(line: int, name: str, word: str = "") -> Refusal:
    return Refusal(
        line,
        word or name,
        "python-internals",
        f"reaches for Python's internals ('{name}'), which a template may not; a template "
        f"can only show the documented variables and their fields {_SEE_DOCS}",
    )


def _call(node: nodes.Call) -> Iterator[Refusal]:
    called = node.node
    if isinstance(called, nodes.Name):
        return  # a macro, caller() or loop(): unknown names are reported as variables
    name = called.attr if isinstance(called, nodes.Getattr) else ""
    if name.startswith("_") or name in _METHODS:
        if name == "format":
            for text in node.find_all(nodes.Const):
                field = (
                    _FORMAT_INTERNALS.search(text.value) if isinstance(text.value, str) else None
                )
                if field is not None:
                    yield _internals(node.lineno, field.group(1), word="format")
        return
    if name in _CHANGES:
        yield Refusal(
            node.lineno,
            name,
            "changes-a-value",
            f"tries to change a value with '{name}()', which a template may not; make a new "
            "value instead, e.g. {% set names = products|map(attribute='name')|list %}",
        )
        return
    shown = f"'{name}()'" if name else "something that is not a method of text"
    yield Refusal(
        node.lineno,
        name or "(",
        "not-callable",
        f"calls {shown}, which a template may not; use the documented variables with "
        "filters, e.g. {{ role.title|upper }} " + _SEE_DOCS,
    )


# -- loops: constant bounds that multiply ----------------------------------------------


def _loops(tree: nodes.Template) -> Iterator[Refusal]:
    macros = {macro.name: macro for macro in tree.find_all(nodes.Macro)}
    cost: dict[str, int] = {}

    def macro_work(name: str, seen: frozenset[str]) -> int:
        if name not in macros or name in seen:  # unknown, or calls itself: not weighed
            return 0
        if name not in cost:
            cost[name] = max([0, *weigh(macros[name].body, 1, seen | {name}, [], False)])
        return cost[name]

    def weigh(
        body: list[nodes.Node], factor: int, seen: frozenset[str], out: list[Refusal], report: bool
    ) -> list[int]:
        """The work of each statement in `body` run `factor` times; refusals go to `out`."""
        works: list[int] = []
        for statement in body:
            works.append(visit(statement, factor, seen, out, report))
        return works

    def visit(
        node: nodes.Node, factor: int, seen: frozenset[str], out: list[Refusal], report: bool
    ) -> int:
        work = 0
        if isinstance(node, nodes.Macro):
            return 0  # weighed where it is called
        if isinstance(node, nodes.For):
            items = _length(node.iter)
            if items is not None and items > MAX_RANGE and _is_range(node.iter):
                if report:
                    out.append(_range_refusal(node.lineno))
                return 0
            inner = factor * (items if items is not None else 1)
            work = inner if items is not None else 0
            if work > LOOP_WORK_MAX and report:
                out.append(_work_refusal(node.lineno, work))
                return work
            for child in [*node.body, *node.else_]:
                work = max(work, visit(child, inner, seen, out, report))
            return work
        for used in _direct_uses(node):
            if isinstance(used, nodes.Call) and isinstance(used.node, nodes.Name):
                called = factor * macro_work(used.node.name, seen)
            elif isinstance(used, nodes.Filter) and used.name in _ITERATING_FILTERS:
                called = factor * (_length(used) or 0)
            else:
                continue
            if called > LOOP_WORK_MAX and report:
                out.append(_work_refusal(used.lineno, called))
            work = max(work, called)
        for child in node.iter_child_nodes():
            if isinstance(child, nodes.Stmt):
                work = max(work, visit(child, factor, seen, out, report))
        return work

    refused: list[Refusal] = []
    weigh(tree.body, 1, frozenset(), refused, True)
    for macro in macros.values():  # loops inside a macro, even one never called
        weigh(macro.body, 1, frozenset({macro.name}), refused, True)
    yield from refused
    for node in tree.find_all(nodes.Call):
        if _is_range(node) and (_length(node) or 0) > MAX_RANGE:
            yield _range_refusal(node.lineno)


def _direct_uses(node: nodes.Node) -> Iterator[nodes.Call | nodes.Filter]:
    """The calls and filters in `node`'s own expressions (not in statements inside it)."""
    for child in node.iter_child_nodes():
        if isinstance(child, nodes.Call | nodes.Filter):
            yield child
        if isinstance(child, nodes.Expr | nodes.Helper):
            yield from _direct_uses(child)


def _work_refusal(line: int, work: int) -> Refusal:
    return Refusal(
        line,
        "for",
        "loop-work",
        f"makes its loops go over {work:,} items for every job aid, more than the "
        f"{LOOP_WORK_MAX:,} a template may; loop over the role's lists instead (products, "
        "customers, suppliers, ...), not over numbers or repeated text",
    )


def _range_refusal(line: int) -> Refusal:
    return Refusal(
        line,
        "range",
        "loop-work",
        f"counts to more than {MAX_RANGE:,} with range(), which a template may not; loop "
        "over the role's lists instead (products, customers, suppliers, ...)",
    )


def _is_range(node: nodes.Node) -> bool:
    return (
        isinstance(node, nodes.Call)
        and isinstance(node.node, nodes.Name)
        and node.node.name == "range"
    )


def _length(node: nodes.Node) -> int | None:
    """How many items a loop over `node` goes over, when the template fixes it."""
    if _is_range(node):
        assert isinstance(node, nodes.Call)
        bounds = [_number(argument) for argument in node.args]
        if node.kwargs or not 1 <= len(bounds) <= 3 or None in bounds:
            return None
        try:
            return len(range(*(bound for bound in bounds if bound is not None)))
        except ValueError:  # a step of 0
            return None
        except OverflowError:  # more than Python can count
            return LOOP_WORK_MAX * LOOP_WORK_MAX
    if isinstance(node, nodes.Filter) and node.name in _ITERATING_FILTERS:
        return _length(node.node) if node.node is not None else None
    return _size(node)


def _size(node: nodes.Node) -> int | None:
    """The length of a literal list or text, or of one multiplied by a number."""
    if isinstance(node, nodes.Const) and isinstance(node.value, str | list | tuple):
        return len(node.value)
    if isinstance(node, nodes.List | nodes.Tuple):
        return len(node.items)
    if isinstance(node, nodes.Mul):
        for sequence, times in ((node.left, node.right), (node.right, node.left)):
            length, count = _length(sequence), _number(times)
            if length is not None and count is not None:
                return length * max(count, 0)
    return None


def _number(node: nodes.Node) -> int | None:
    if isinstance(node, nodes.Const) and type(node.value) is int:
        return node.value
    if isinstance(node, nodes.Neg):
        inner = _number(node.node)
        return -inner if inner is not None else None
    return None
