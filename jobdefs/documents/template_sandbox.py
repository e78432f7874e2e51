"""The Jinja environment templates from other people run in: sandboxed, with a bounded
output and a bounded amount of work, so that a template can make a wrong document but
never run code, fill the memory or keep a build from ending.

The work a render does is counted as it goes: every item a loop goes over (loops inside
macros and recursive loops too), every item a filter goes over (`join`, `map`, `sum`, ...)
and the characters `*` makes. Loops are counted by rewriting each parsed template before
it is compiled, so that each loop's items pass a counting filter first; the count lives
in the render's context under a name no template can write.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg

# A job aid's part is a few hundred kilobytes; a role of 10,000 products with three
# customers each makes 35 million characters. A template that makes more than this is a
# mistake or an attack, and stops with an error instead of filling the memory.
PART_OUTPUT_MAX = 50_000_000  # characters of one rendered part
POWER_MAX = 64  # the largest exponent `**` may take
# A job aid loops over the role's products, their customers and standards: the default
# template goes over some 40,000 items for a role of 10,000 products with three customers
# each, and a few dozen for a real role. Twenty-five times the largest job aid, this stops
# a runaway template within a few seconds (an item costs a microsecond or two).
LOOP_WORK_MAX = 1_000_000  # items that the loops and filters of one job aid go over
# Making characters with `*` is work too: copying this many costs less than one loop
# item does, so that a loop that makes long text at every turn is stopped as well.
_CHARACTERS_PER_ITEM = 1_000
# What a loop's body does at each turn is not counted (a body can be slow on long text):
# a job aid renders in milliseconds, a 10,000-product role's in about a second, so
# a render still at work after this many seconds of processor time is stopped.
RENDER_SECONDS_MAX = 10
_TURNS_PER_CLOCK = 256  # loop turns between two looks at the clock (each costs ~0.5 µs)
# Filters that go over every item of what they are given.
_ITERATING_FILTERS = frozenset(
    (
        "batch", "dictsort", "groupby", "items", "join", "last", "list", "map", "max",
        "min", "reject", "rejectattr", "reverse", "select", "selectattr", "slice", "sort",
        "sum", "tojson", "unique",
    )
)  # fmt: skip
_WORK = "jobdefs work"  # the context's entry for the count: not a name a template can write
_COUNT = "jobdefs count"  # the counting filter: not a name a template can write


class _Work:
    """The items one job aid's render has gone over so far, and when it must have ended."""

    __slots__ = ("deadline", "spent", "turns")

    def __init__(self) -> None:
        self.spent = 0
        self.turns = 0
        self.deadline = time.process_time() + RENDER_SECONDS_MAX

    def spend(self, items: int) -> None:
        self.spent += items
        if self.spent > LOOP_WORK_MAX:
            raise SecurityError(
                f"the template's loops and filters go over more than {LOOP_WORK_MAX:,} "
                "items for one job aid; loop only over the role's lists (products, "
                "customers, suppliers, ...), not over numbers or repeated text"
            )

    def turn(self) -> None:
        """One turn of a loop: what a loop's body does is not counted, so its time is."""
        self.turns += 1
        if self.turns % _TURNS_PER_CLOCK == 0 and time.process_time() > self.deadline:
            raise SecurityError(
                f"the template worked for more than {RENDER_SECONDS_MAX} seconds on one job "
                "aid; make what a loop does at every turn simpler"
            )


def new_work() -> _Work:
    """A fresh count, to share between the parts of one job aid (see `with_work`)."""
    return _Work()


def with_work(context: Mapping[str, Any], work: _Work) -> dict[str, Any]:
    """`context` with the count its render spends from: several renders can share one."""
    return {**context, _WORK: work}


def _work(context: jinja2.runtime.Context) -> _Work:
    work = context.get(_WORK)
    if not isinstance(work, _Work):  # a context made without one: never unbounded
        raise SecurityError("the template was rendered without a bound on its work")
    return work


class _Turns:
    """A loop's items, spent from the render's work: all at once when their number is
    known (so that `loop.length` still works), else one by one."""

    __slots__ = ("items", "work")

    def __init__(self, work: _Work, items: Any) -> None:
        self.work = work
        self.items = items
        if hasattr(items, "__len__"):
            work.spend(len(items))

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Any]:
        work = self.work
        known = hasattr(self.items, "__len__")
        for item in self.items:
            if not known:
                work.spend(1)
            work.turn()
            yield item


def _counted(work: _Work, items: Any) -> Any:
    """`items` for a filter, spent from `work`: all at once when it knows its length."""
    if hasattr(items, "__len__"):
        work.spend(len(items))
        work.turn()
        return items
    return _Turns(work, items)


@jinja2.pass_context
def _count_filter(context: jinja2.runtime.Context, items: Any) -> _Turns:
    return _Turns(_work(context), items)


def _counting_filter(original: Any) -> Any:
    """`original`, a filter, spending an item of the render's work for each item it is given."""
    passes = _PassArg.from_obj(original)

    @jinja2.pass_context
    def counting(context: jinja2.runtime.Context, items: Any, *args: Any, **kwargs: Any) -> Any:
        items = _counted(_work(context), items)
        if passes is _PassArg.context:
            return original(context, items, *args, **kwargs)
        if passes is _PassArg.eval_context:
            return original(context.eval_ctx, items, *args, **kwargs)
        if passes is _PassArg.environment:
            return original(context.environment, items, *args, **kwargs)
        return original(items, *args, **kwargs)

    return counting


class _CountLoops(jinja2.visitor.NodeTransformer):
    """Each loop's items, and those a recursive loop's `loop(...)` goes into, pass the
    counting filter first."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = _count(node.iter)
        if node.recursive:
            for call in node.find_all(nodes.Call):
                if isinstance(call.node, nodes.Name) and call.node.name == "loop" and call.args:
                    call.args[0] = _count(call.args[0])
        return node

    def visit_Include(self, node: nodes.Include) -> nodes.Node:
        return _refuse(node, "include")

    def visit_Import(self, node: nodes.Import) -> nodes.Node:
        return _refuse(node, "import")

    def visit_FromImport(self, node: nodes.FromImport) -> nodes.Node:
        return _refuse(node, "import")

    def visit_Extends(self, node: nodes.Extends) -> nodes.Node:
        return _refuse(node, "extends")


def _count(items: nodes.Node) -> nodes.Expr:
    return nodes.Filter(items, _COUNT, [], [], None, None, lineno=items.lineno)


def _refuse(node: nodes.Node, tag: str) -> nodes.Node:
    # A job aid's template is one document: another template would start a count of its own.
    raise jinja2.TemplateSyntaxError(
        f"a job-aid template cannot use '{{% {tag} %}}': it is one Word document", node.lineno
    )


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja for templates from other people: no attribute that starts with `_`, no call
    of an unsafe method, no change to a value, no text or list multiplied past what a
    part may hold, and no more than LOOP_WORK_MAX items gone over by loops and filters.
    A template that tries gets an error, never further."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.template_class = _Template
        # lipsum(n) makes n paragraphs in a loop of Python's own, which nothing counts.
        self.globals.pop("lipsum", None)
        for name in _ITERATING_FILTERS:
            self.filters[name] = _counting_filter(self.filters[name])
        self.filters[_COUNT] = _count_filter

    def _generate(
        self,
        source: nodes.Template,
        name: str | None,
        filename: str | None,
        defer_init: bool = False,
    ) -> str:
        _CountLoops().visit(source)
        return super()._generate(source, name, filename, defer_init)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > POWER_MAX:
            raise SecurityError(f"a power above {POWER_MAX} is not allowed in a template")
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if isinstance(sequence, str | list | tuple) and isinstance(times, int):
                    size = len(sequence) * times
                    if size > PART_OUTPUT_MAX:
                        raise SecurityError(
                            f"'* {times}' would make more than {PART_OUTPUT_MAX:,} characters"
                        )
                    _work(context).spend(size // _CHARACTERS_PER_ITEM)
        return super().call_binop(context, operator, left, right)


class _Template(jinja2.Template):
    """A template whose every render spends from a count of work: its own, unless the
    context brings one to share (`with_work`)."""

    def new_context(
        self,
        vars: dict[str, Any] | None = None,
        shared: bool = False,
        locals: Any = None,
    ) -> jinja2.runtime.Context:
        if vars is None or _WORK not in vars:
            vars = {**(vars or {}), _WORK: _Work()}
        return super().new_context(vars, shared, locals)


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
