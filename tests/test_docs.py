"""Documentation generated from the code, the JSON Schemas, and what the docs promise."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from jobdefs import reference
from jobdefs.cli import cli
from jobdefs.workbook.json_schema import TEXT_PATTERN, json_schema
from jobdefs.workbook.records import BAD_CHARACTER

REPO = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data"
SMALL_CLINIC = DATA / "small-clinic"


@pytest.mark.parametrize("relative", sorted(reference.generated_files()))
def test_generated_files_are_up_to_date(relative: str) -> None:
    committed = REPO / relative
    expected = reference.generated_files()[relative]
    assert committed.is_file(), f"{relative} is missing: {reference.UPDATE_HINT}"
    assert committed.read_text(encoding="utf-8") == expected, (
        f"{relative} is out of date: {reference.UPDATE_HINT}"
    )


def test_the_cli_reference_holds_every_command() -> None:
    text = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    for path, _, _ in reference.command_helps():
        assert f"\n## {path}\n" in text, f"{path} is missing: {reference.UPDATE_HINT}"


HELP_TEXTS = {path: text for path, _, text in reference.command_helps()}


@pytest.mark.parametrize("path", sorted(HELP_TEXTS))
def test_every_command_has_an_example(path: str) -> None:
    assert re.search(r"\n  Example:\n      jobdefs", HELP_TEXTS[path]), (
        f"'{path} --help' has no example: add a '\\b' line, 'Example:' and an indented "
        "command line at the end of its docstring"
    )


def test_the_reference_module_rewrites_what_drifted(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "cli.md").write_text("stale\n", encoding="utf-8")
    assert sorted(reference.write(tmp_path)) == sorted(reference.generated_files())
    assert reference.write(tmp_path) == []
    assert (tmp_path / "docs" / "cli.md").read_text(encoding="utf-8") == (reference.cli_markdown())


# ---------------------------------------------------------------------------------------
# The JSON Schemas against the files and the loader


def validator(name: str) -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json_schema(name)  # type: ignore[arg-type]
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def as_typed(value: Any) -> Any:
    """YAML 1.1 reads 2026-03-01 as a date; editors (YAML 1.2) and jobdefs read text."""
    if isinstance(value, dict):
        return {k: as_typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_typed(v) for v in value]
    return value.isoformat() if isinstance(value, datetime.date) else value


def problems(name: str, path: Path) -> list[str]:
    document = as_typed(yaml.safe_load(path.read_text(encoding="utf-8")))
    return [f"{path}: {error.message}" for error in validator(name).iter_errors(document)]


@pytest.mark.parametrize("root", [REPO, SMALL_CLINIC], ids=["example", "small-clinic"])
def test_workbook_files_validate_against_the_schemas(root: Path) -> None:
    role_files = sorted(root.glob("roles/**/*.yaml"))
    assert role_files
    found = [p for path in role_files for p in problems("role", path)]
    found += [p for path in sorted(root.glob("journeys/*.yaml")) for p in problems("journey", path)]
    found += problems("organization", root / "jobdefs.yaml")
    assert found == []


def test_init_files_validate_and_the_new_skeleton_does_not(tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["init", str(tmp_path)])
    runner.invoke(
        cli, ["new", "clerk", "--title", "Clerk", "--department", "Desk", "-w", str(tmp_path)]
    )
    for role in ("scheduler", "nurse", "billing-clerk"):
        assert problems("role", tmp_path / "roles" / f"{role}.yaml") == []
    assert problems("organization", tmp_path / "jobdefs.yaml") == []
    assert problems("journey", tmp_path / "journeys" / "clinic-visit.yaml") == []
    # The skeleton's empty keys are what `jobdefs check` reports; an editor flags them too.
    assert len(problems("role", tmp_path / "roles" / "clerk.yaml")) == 4
    runner.invoke(cli, ["new", "visit", "--journey", "--title", "Visit", "-w", str(tmp_path)])
    assert len(problems("journey", tmp_path / "journeys" / "visit.yaml")) == 3


@pytest.mark.parametrize(
    "case",
    [
        "unknown-key",
        "missing-key",
        "wrong-type",
        "customer-kind",
        "bad-character",
        "empty-value",
        "text-too-long",
    ],
)
def test_the_schema_rejects_what_the_loader_reports(case: str) -> None:
    [path] = (DATA / "findings" / case / "roles").glob("*.yaml")
    assert problems("role", path), f"the schema accepts the {case} example"


def test_the_schema_accepts_what_the_loader_accepts() -> None:
    found = [
        p
        for path in sorted((DATA / "chain").glob("roles/**/*.yaml"))
        for p in problems("role", path)
    ]
    assert found == []


@pytest.mark.parametrize(
    ("key", "value", "valid"),
    [
        ("review_every_months", 12, True),
        ("review_every_months", 0, False),
        ("review_every_months", 1201, False),
        ("review_every_months", "12", False),
        ("warnings", {"vague-standard": False}, True),
        ("warnings", {"vague-standard": "off"}, False),
        ("organization", "   ", False),
        ("roles", "staff", True),
        ("output", None, False),
    ],
)
def test_the_organization_schema_checks_types(key: str, value: object, valid: bool) -> None:
    document = {"organization": "Riverbend", key: value}
    assert validator("organization").is_valid(document) is valid


@pytest.mark.parametrize(
    ("change", "valid"),
    [
        ({"reports_to": "lab-manager"}, True),
        ({"reports_to": "Lab Manager"}, False),
        ({"reviewed": "2026-03-01"}, True),
        ({"reviewed": "1 March 2026"}, False),
        ({"revision": "1.10"}, True),
        ({"revision": 1.1}, False),
        ({"products": []}, False),
        ({"receives": []}, True),
        ({"feedback_questions": ["Was it clear?"]}, True),
        ({"nickname": "Doc"}, False),
    ],
)
def test_the_role_schema_checks_types(change: dict[str, object], valid: bool) -> None:
    role: dict[str, object] = {
        "title": "Nurse",
        "department": "Nursing",
        "purpose": "Patients go home able to care for themselves.",
        "products": [{"name": "Plan", "customers": [{"external": "patient", "need": "To know"}]}],
    }
    assert validator("role").is_valid({**role, **change}) is valid


def test_the_text_pattern_refuses_what_the_loader_refuses() -> None:
    pattern = re.compile(TEXT_PATTERN)
    disagree = [
        f"U+{code:04X}"
        for code in range(0x10000)
        if not 0xD800 <= code <= 0xDFFF  # no UTF-8 file holds a surrogate
        and bool(pattern.match(chr(code))) == bool(BAD_CHARACTER.search(chr(code)))
    ]
    assert disagree == []


# ---------------------------------------------------------------------------------------
# What the hand-written docs promise


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_documented_shell_completion_works(shell: str) -> None:
    text = (REPO / "docs" / "shell-completion.md").read_text(encoding="utf-8")
    assert f"_JOBDEFS_COMPLETE={shell}_source jobdefs" in text
    result = CliRunner().invoke(
        cli, [], prog_name="jobdefs", env={"_JOBDEFS_COMPLETE": f"{shell}_source"}
    )
    assert result.exit_code == 0
    assert "_jobdefs_completion" in result.stdout


def test_the_ci_example_is_the_workflow_init_writes(tmp_path: Path) -> None:
    CliRunner().invoke(cli, ["init", str(tmp_path)])
    written = (tmp_path / ".github" / "workflows" / "jobdefs.yml").read_text(encoding="utf-8")
    assert (REPO / "docs" / "examples" / "jobdefs.yml").read_text(encoding="utf-8") == written


def test_the_ci_guide_names_hooks_that_exist() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    guide = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
    named = set(re.findall(r"id: (jobdefs-[\w-]+)", guide))
    assert named == {hook["id"] for hook in hooks}


def test_the_review_guide_names_the_sheets_and_choices_the_workbook_has() -> None:
    from jobdefs.documents import handoffs_sheet, sheets

    guide = (REPO / "docs" / "reviewing-the-matrix.md").read_text(encoding="utf-8")
    for word in (
        *sheets.STATUS_OPTIONS,
        handoffs_sheet.HANDOFFS_SHEET,
        "Matrix",
        "Roles",
        "Findings",
        "Hand-off id",
        "Reviewer",
        "Comment",
    ):
        assert word in guide, word


def test_the_docs_link_to_files_that_exist() -> None:
    broken = []
    for page in sorted((REPO / "docs").glob("*.md")):
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text("utf-8")):
            if not (page.parent / target).exists():
                broken.append(f"{page.name}: {target}")
    assert broken == []


def test_the_reliability_table_names_tests_that_exist() -> None:
    """Each `file.py::test` of docs/reliability.md is a test (`::test` alone: of the file
    before it), so a renamed or moved test cannot leave the table vouching for nothing."""
    table = (REPO / "docs" / "reliability.md").read_text(encoding="utf-8")
    missing, file = [], ""
    for reference_ in re.findall(r"`((?:test_\w+\.py)?(?:::\w+)?)`", table):
        named, _, test = reference_.partition("::")
        file = named or file
        source = (REPO / "tests" / file).read_text(encoding="utf-8")
        if test and not re.search(rf"^def {test}\(", source, re.M):
            missing.append(f"{file}::{test}")
    assert missing == []
