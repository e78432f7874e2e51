"""Every import points down: core <- workbook <- documents | reports <- feedback <- build <- faces.

Read from the source with `ast`, imports inside functions included, so that a module cannot
hide an upward import from the test by deferring it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "jobdefs"

CORE = ("model", "errors", "text", "output", "digests", "office_files")
FACES = ("cli", "reference", "__main__")
# A layer may import its own layer and the ones it lists.
ALLOWED = {
    "core": {"core"},
    "workbook": {"core", "workbook"},
    "documents": {"core", "workbook", "documents"},
    "reports": {"core", "workbook", "reports"},
    "feedback": {"core", "workbook", "documents", "reports", "feedback"},
    "build": {"core", "workbook", "documents", "reports", "feedback", "build"},
    "faces": {"core", "workbook", "documents", "reports", "feedback", "build", "faces"},
}


def layer(module: str) -> str:
    """The layer of a jobdefs module named with dots ('jobdefs.documents.excel')."""
    parts = module.split(".")[1:]
    if not parts:
        return "core"  # the package itself, as imported: its version string
    if parts[0] in ALLOWED and parts[0] != "core":
        return parts[0]
    if parts[0] in FACES:
        return "faces"
    assert parts[0] in CORE, f"{module} is in no layer: add it to CORE, FACES or a subpackage"
    return "core"


def module_name(path: Path, package: Path = PACKAGE) -> str:
    relative = path.relative_to(package.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, package: Path = PACKAGE) -> list[tuple[str, int, bool]]:
    """(module imported, line, at the top of the module) for each jobdefs import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    name = module_name(path, package)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from jobdefs.documents import excel` names a module; `known` trims an attribute.
            targets = [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            if target == "jobdefs" or target.startswith("jobdefs."):
                found.append((target, node.lineno, id(node) in top))
    return found


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def known(target: str, modules: dict[str, Path]) -> str:
    """The module a dotted import names (an attribute import names its module)."""
    while target not in modules and "." in target:
        target = target.rpartition(".")[0]
    return target


def test_every_import_points_down() -> None:
    modules = all_modules()
    wrong = []
    for name, path in modules.items():
        here = "faces" if name == "jobdefs" else layer(name)  # the lazy public API
        for target, line, _ in imports(path):
            there = layer(known(target, modules))
            if there not in ALLOWED[here]:
                wrong.append(
                    f"{path.relative_to(PACKAGE)}:{line}: {here} imports {there} ({target})"
                )
    assert wrong == []


def test_documents_and_reports_do_not_know_each_other() -> None:
    # Said by ALLOWED already; kept apart because it is the rule most easily broken.
    assert "reports" not in ALLOWED["documents"] and "documents" not in ALLOWED["reports"]


def test_imports_of_jobdefs_are_at_the_top_except_in_the_faces() -> None:
    late = [
        f"{path.relative_to(PACKAGE)}:{line}: {target}"
        for name, path in all_modules().items()
        if name != "jobdefs" and layer(name) != "faces"
        for target, line, at_top in imports(path)
        if not at_top and not _type_checking_only(path, line)
    ]
    assert late == []


def _type_checking_only(path: Path, line: int) -> bool:
    """An import under `if TYPE_CHECKING:` is for mypy and costs nothing at run time."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Name)
            and node.test.id == "TYPE_CHECKING"
        ):
            return any(child.lineno == line for child in ast.walk(node) if hasattr(child, "lineno"))
    return False


def test_no_module_imports_itself_round_a_loop() -> None:
    modules = all_modules()
    # Modules import the package root only for its version; its own imports are lazy.
    graph = {
        name: {known(target, modules) for target, _, _ in imports(path)} - {name, "jobdefs"}
        for name, path in modules.items()
    }
    loops = []
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph.get(name, ())):
            if state.get(target) == 1:
                loops.append(" -> ".join([*trail[trail.index(target) :], target]))
            elif target not in state:
                visit(target, [*trail, target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert loops == []


def test_click_is_imported_only_by_the_faces() -> None:
    users = []
    for name, path in all_modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if (
                any(n == "click" or n.startswith("click.") for n in names)
                and layer(name) != "faces"
            ):
                users.append(f"{name}:{node.lineno}")
    assert users == []


def test_no_module_is_a_giant() -> None:
    sizes = {
        path.relative_to(PACKAGE).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    assert {name: lines for name, lines in sizes.items() if lines > 800} == {}
    assert len([name for name, lines in sizes.items() if lines > 500]) <= 4, sorted(
        (lines, name) for name, lines in sizes.items() if lines > 500
    )


def test_the_reader_sees_deferred_and_relative_imports(tmp_path: Path) -> None:
    # A deferred or relative upward import must be seen, or the rule means nothing.
    package = tmp_path / "jobdefs"
    (package / "workbook").mkdir(parents=True)
    sample = package / "workbook" / "x.py"
    sample.write_text(
        "from ..model import Role\n"
        "from . import load\n"
        "def f():\n"
        "    from jobdefs.build import run\n"
    )
    assert imports(sample, package) == [
        ("jobdefs.model.Role", 1, True),
        ("jobdefs.workbook.load", 2, True),
        ("jobdefs.build.run", 4, False),
    ]
    assert layer("jobdefs.build.run") not in ALLOWED[layer("jobdefs.workbook.x")]
