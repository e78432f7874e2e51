"""jobdefs init, new and schema: the files a person gets, and that nothing is replaced."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from jobdefs import __version__
from jobdefs.cli import cli
from jobdefs.workbook import scaffold, starter_files
from jobdefs.workbook.json_schema import as_json
from jobdefs.workbook.load import load_workbook

REPO = Path(__file__).parent.parent
INIT_FILES = [
    "jobdefs.yaml",
    "roles/scheduler.yaml",
    "roles/nurse.yaml",
    "roles/billing-clerk.yaml",
    ".jobdefs/role.schema.json",
    ".jobdefs/jobdefs.schema.json",
    ".jobdefs/journey.schema.json",
    "journeys/clinic-visit.yaml",
    ".gitignore",
    ".pre-commit-config.yaml",
    ".github/workflows/jobdefs.yml",
]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def modeline_target(path: Path) -> Path:
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert match, f"{path} does not start with a schema modeline: {first!r}"
    return (path.parent / match.group(1)).resolve()


# ---------------------------------------------------------------------------------------
# init


def test_init_creates_a_workbook_that_passes_check_strict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scaffold, "installed_requirement", lambda: "jobdefs==1.0")  # a release
    root = tmp_path / "riverside-clinic"
    status, out, err = run("init", str(root))
    assert status == 0
    assert out == ""
    assert err.splitlines() == [f"created {path}" for path in INIT_FILES] + [
        f"11 files created in {root}; next: edit the roles, then run 'jobdefs check' and "
        "'jobdefs build' there"
    ]
    assert sorted(snapshot(root)) == sorted(INIT_FILES)

    status, _, err = run("check", "--strict", "--workbook", str(root))
    assert (status, err) == (0, "0 errors, 0 warnings in 3 roles and 1 journey\n")

    workbook = load_workbook(root)
    organization = workbook.organization
    assert organization.name == "Riverside Clinic"
    assert [x.id for x in organization.external_customers] == ["patient", "family", "payer"]
    # The examples hand off to each other: scheduler -> nurse -> billing clerk.
    handoffs = {(h.supplier.id, h.customer.key) for h in organization.handoffs}
    assert ("scheduler", "nurse") in handoffs
    assert ("nurse", "billing-clerk") in handoffs
    assert ("nurse", "external:patient") in handoffs


def test_init_writes_schemas_the_modelines_point_to(tmp_path: Path) -> None:
    run("init", str(tmp_path))
    assert (
        modeline_target(tmp_path / "jobdefs.yaml")
        == (tmp_path / ".jobdefs" / "jobdefs.schema.json").resolve()
    )
    for role in ("scheduler", "nurse", "billing-clerk"):
        target = modeline_target(tmp_path / "roles" / f"{role}.yaml")
        assert target == (tmp_path / ".jobdefs" / "role.schema.json").resolve()
        assert target.read_text(encoding="utf-8") == as_json("role")
    schema = tmp_path / ".jobdefs" / "jobdefs.schema.json"
    assert schema.read_text(encoding="utf-8") == as_json("organization")


def test_init_twice_changes_nothing_and_says_so(tmp_path: Path) -> None:
    run("init", str(tmp_path))
    before = snapshot(tmp_path)
    status, _, err = run("init", str(tmp_path))
    assert status == 0
    assert snapshot(tmp_path) == before
    lines = err.splitlines()
    assert "skipped jobdefs.yaml (already exists)" in lines
    assert "skipped roles/nurse.yaml (roles/ already holds role files)" in lines
    assert lines[-1] == (
        f"nothing created: {tmp_path} already holds these files (init never replaces a file)"
    )


def test_init_never_replaces_an_existing_file(tmp_path: Path) -> None:
    mine = {
        "jobdefs.yaml": "organization: St Anne's\n",
        ".gitignore": "*.tmp\n",
        ".github/workflows/jobdefs.yml": "name: ours\n",
    }
    for relative, text in mine.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")

    status, _, err = run("init", str(tmp_path))
    assert status == 0
    for relative, text in mine.items():
        assert (tmp_path / relative).read_text(encoding="utf-8") == text
        assert f"skipped {relative} (already exists)" in err.splitlines()
    assert "created roles/nurse.yaml" in err.splitlines()
    assert "8 files created" in err


def test_init_adds_no_examples_to_roles_already_there(tmp_path: Path) -> None:
    own = tmp_path / "roles" / "lab" / "nurse.yaml"
    own.parent.mkdir(parents=True)
    own.write_text("title: Our nurse\n", encoding="utf-8")
    status, _, err = run("init", str(tmp_path))
    assert status == 0
    assert sorted(p.name for p in (tmp_path / "roles").rglob("*.yaml")) == ["nurse.yaml"]
    assert own.read_text(encoding="utf-8") == "title: Our nurse\n"
    assert "skipped roles/scheduler.yaml (roles/ already holds role files)" in err


def test_init_takes_the_organization_name_as_typed(tmp_path: Path) -> None:
    status, _, _ = run("init", str(tmp_path), "--organization", "St. Mary's: North #2")
    assert status == 0
    assert load_workbook(tmp_path).organization.name == "St. Mary's: North #2"


def test_init_refuses_a_file_as_the_folder(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("keep me", encoding="utf-8")
    status, _, err = run("init", str(path))
    assert status == 2
    assert "is a file" in err
    assert path.read_text(encoding="utf-8") == "keep me"


def test_init_ci_files_run_check_and_build(tmp_path: Path) -> None:
    run("init", str(tmp_path))
    workflow = yaml.safe_load((tmp_path / ".github/workflows/jobdefs.yml").read_text("utf-8"))
    steps = workflow["jobs"]["documents"]["steps"]
    commands = [step.get("run") for step in steps]
    assert "jobdefs check --format github" in commands
    assert "jobdefs build" in commands
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-art"))
    assert upload["with"]["path"] == "build/"
    assert "roles/**" in workflow[True]["push"]["paths"]  # YAML 1.1 reads `on` as True

    config = yaml.safe_load((tmp_path / ".pre-commit-config.yaml").read_text("utf-8"))
    [hook] = config["repos"][0]["hooks"]
    assert hook["id"] == "jobdefs-check"
    assert hook["entry"] == "jobdefs check"
    assert hook["pass_filenames"] is False
    assert re.search(hook["files"], "roles/lab/nurse.yaml")
    assert re.search(hook["files"], "jobdefs.yaml")
    assert not re.search(hook["files"], "build/job-aids/nurse.docx")
    assert (tmp_path / ".gitignore").read_text("utf-8").splitlines()[-1] == "/build/"


def test_the_repository_offers_the_pre_commit_hooks() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    by_id = {hook["id"]: hook for hook in hooks}
    assert by_id["jobdefs-check"]["entry"] == "jobdefs check"
    assert by_id["jobdefs-build-check"]["entry"] == "jobdefs build --check"
    for hook in hooks:
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is False
        assert hook["files"] == r"^(roles/|jobdefs\.yaml)"


# ---------------------------------------------------------------------------------------
# new


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    run("init", str(tmp_path))
    return tmp_path


def test_new_writes_a_skeleton_that_check_reports_until_filled(workbook: Path) -> None:
    status, _, err = run(
        "new",
        "registration-clerk",
        "--title",
        "Registration Clerk",
        "--department",
        "Patient Access",
        "-w",
        str(workbook),
    )
    assert status == 0
    assert err == (
        "created roles/registration-clerk.yaml\n"
        "next: fill in the keys marked TODO in roles/registration-clerk.yaml, then run "
        "'jobdefs check'\n"
    )
    path = workbook / "roles" / "registration-clerk.yaml"
    text = path.read_text(encoding="utf-8")
    assert "\ntitle: Registration Clerk\n" in text
    assert "\ndepartment: Patient Access\n" in text
    todo_lines = [n for n, line in enumerate(text.split("\n"), 1) if "# TODO" in line]

    status, _, err = run("check", "-w", str(workbook))
    assert status == 1
    finding = re.compile(r"roles/registration-clerk\.yaml:(\d+):\d+: error\[empty-value\]: '(\w+)'")
    assert finding.findall(err) == [
        (str(todo_lines[0]), "purpose"),
        (str(todo_lines[1]), "name"),
        (str(todo_lines[2]), "role"),
        (str(todo_lines[3]), "need"),
    ]

    filled = (
        text.replace("purpose:  # TODO", "purpose: Register every patient correctly.")
        .replace("name:  # TODO e.g. Registered patient record", "name: Patient record")
        .replace(
            "role:  # TODO a role id, or replace the line with external: patient", "role: nurse"
        )
        .replace("need:  # TODO", "need: Correct identity before the visit.")
    )
    path.write_text(filled, encoding="utf-8")
    status, _, err = run("check", "-w", str(workbook))
    assert (status, err) == (0, "0 errors, 0 warnings in 4 roles and 1 journey\n")
    role = load_workbook(workbook).organization.role("registration-clerk")
    assert (role.title, role.department) == ("Registration Clerk", "Patient Access")


def test_new_explains_every_key_of_a_role_file(workbook: Path) -> None:
    from jobdefs.workbook.schema import ROLE, Shape

    run("new", "clerk", "--title", "Clerk", "--department", "Front Desk", "-w", str(workbook))
    text = (workbook / "roles" / "clerk.yaml").read_text(encoding="utf-8")

    def names(shape: Shape) -> set[str]:
        found = set()
        for key in shape.keys:
            found.add(key.name)
            if isinstance(key.items, Shape):
                found |= names(key.items)
        return found

    explained = re.compile(r"^ *# +(\w+): \S", re.MULTILINE)
    missing = sorted(names(ROLE) - set(explained.findall(text)))
    assert missing == [], "keys the skeleton does not explain"


def test_new_in_a_subfolder_points_its_modeline_at_the_schema(workbook: Path) -> None:
    status, _, _ = run(
        "new",
        "phlebotomist",
        "--title",
        "Phlebotomist",
        "--department",
        "Laboratory",
        "--folder",
        "laboratory/blood",
        "-w",
        str(workbook),
    )
    assert status == 0
    path = workbook / "roles" / "laboratory" / "blood" / "phlebotomist.yaml"
    assert modeline_target(path) == (workbook / ".jobdefs" / "role.schema.json").resolve()


def test_new_writes_the_schema_when_the_workbook_has_none(tmp_path: Path) -> None:
    (tmp_path / "roles").mkdir()
    status, _, err = run(
        "new", "clerk", "--title", "Clerk", "--department", "Desk", "-w", str(tmp_path)
    )
    assert status == 0
    assert "created .jobdefs/role.schema.json" in err.splitlines()
    assert modeline_target(tmp_path / "roles" / "clerk.yaml").is_file()


@pytest.mark.parametrize(
    "title", ["Yes", "Nurse: nights", "#1 Clerk", "'Quoted'", "1.10", "Ärztin – Notaufnahme"]
)
def test_new_keeps_the_title_exactly_as_typed(workbook: Path, title: str) -> None:
    status, _, _ = run(
        "new", "clerk", "--title", title, "--department", "- Desk", "-w", str(workbook)
    )
    assert status == 0
    findings = load_workbook(workbook).findings
    assert not [f for f in findings if f.code != "empty-value"], findings
    text = (workbook / "roles" / "clerk.yaml").read_text(encoding="utf-8")
    document = yaml.safe_load(text)  # any YAML reader sees the same text
    assert (document["title"], document["department"]) == (title, "- Desk")


def test_new_refuses_a_bad_role_id(workbook: Path) -> None:
    status, _, err = run(
        "new", "Lab Tech", "--title", "Lab Tech", "--department", "Lab", "-w", str(workbook)
    )
    assert status == 2
    assert err.endswith(
        "Error: Invalid value for 'ID': 'Lab Tech' is not a valid role id: use "
        "lower-case letters, digits and single hyphens, 1 to 64 characters, e.g. "
        "'lab-tech'\n"
    )
    assert not list((workbook / "roles").glob("Lab*"))


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--title", "  ", "it is empty; write the text"),
        ("--title", "Nurse\x0b", "it holds the control character U+000B"),
        ("--department", "Lab\nNights", "it holds a line break; write it on one line"),
        ("--folder", "_drafts", "jobdefs skips folders whose names start with '.' or '_'"),
        ("--folder", "../elsewhere", "give a folder inside roles/; '..' leads out of it"),
    ],
)
def test_new_refuses_bad_text(workbook: Path, option: str, value: str, message: str) -> None:
    before = snapshot(workbook)
    args = {"--title": "Clerk", "--department": "Desk", option: value}
    status, _, err = run(
        "new", "clerk", *[x for pair in args.items() for x in pair], "-w", str(workbook)
    )
    assert status == 2
    assert f"Error: Invalid value for '{option}': {message}" in err
    assert snapshot(workbook) == before


def test_new_never_replaces_a_role_file(workbook: Path) -> None:
    path = workbook / "roles" / "nurse.yaml"
    before = path.read_bytes()
    status, _, err = run(
        "new", "nurse", "--title", "Nurse", "--department", "Nursing", "-w", str(workbook)
    )
    assert status == 1
    assert err == "Error: roles/nurse.yaml already exists; edit it, or choose another role id\n"
    assert path.read_bytes() == before


def test_new_refuses_an_id_used_in_another_folder(workbook: Path) -> None:
    status, _, err = run(
        "new",
        "nurse",
        "--title",
        "Nurse",
        "--department",
        "Nursing",
        "--folder",
        "wards",
        "-w",
        str(workbook),
    )
    assert status == 1
    assert err == (
        "Error: the role id 'nurse' is already used by roles/nurse.yaml; role ids are "
        "unique across all sub-folders: choose another id\n"
    )
    assert not (workbook / "roles" / "wards").exists()


def test_new_outside_a_workbook_is_a_usage_error(tmp_path: Path) -> None:
    status, _, err = run(
        "new", "clerk", "--title", "Clerk", "--department", "Desk", "-w", str(tmp_path)
    )
    assert status == 2
    assert "is not a jobdefs workbook" in err
    assert "jobdefs init" in err
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------
# schema


@pytest.mark.parametrize(
    ("kind", "title"), [("role", "jobdefs role file"), ("organization", "jobdefs.yaml")]
)
def test_schema_prints_json_schema(kind: str, title: str) -> None:
    status, out, err = run("schema", kind)
    assert (status, err) == (0, "")
    document = json.loads(out)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["title"] == title
    assert document["additionalProperties"] is False


def test_schema_defaults_to_the_role_file_and_writes_a_file(tmp_path: Path) -> None:
    assert run("schema")[1] == as_json("role")
    target = tmp_path / "editor" / "role.json"
    status, out, err = run("schema", "--output", str(target))
    assert (status, out, err) == (0, "", f"wrote {target}\n")
    assert target.read_text(encoding="utf-8") == as_json("role")


def test_schema_refuses_an_unknown_kind() -> None:
    status, _, err = run("schema", "department")
    assert status == 2
    assert "'department' is not one of 'role', 'organization'" in err


@pytest.mark.parametrize(
    ("direct_url", "expected"),
    [
        (None, f"jobdefs=={__version__}"),  # from a package index, which holds this release
        (
            {
                "url": "https://example.org/team/jobdefs.git",
                "vcs_info": {"vcs": "git", "commit_id": "0123abcd"},
            },
            "jobdefs @ git+https://example.org/team/jobdefs.git@0123abcd",
        ),
        (
            {"url": "https://example.org/jobdefs-1.0.tar.gz", "archive_info": {}},
            "jobdefs @ https://example.org/jobdefs-1.0.tar.gz",
        ),
        ({"url": "file:///home/me/jobdefs", "dir_info": {"editable": True}}, None),
        ({"url": "file:///home/me/jobdefs-1.0.tar.gz", "archive_info": {}}, None),
        ({"url": "https://example.org/x", "vcs_info": {"vcs": "hg", "commit_id": "1"}}, None),
    ],
)
def test_the_workflow_installs_jobdefs_from_where_it_came(
    direct_url: dict[str, Any] | None, expected: str | None
) -> None:
    assert starter_files.requirement_for(direct_url) == expected


def test_init_from_a_local_copy_writes_a_line_to_edit_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scaffold, "installed_requirement", lambda: None)
    status, _, err = run("init", str(tmp_path))
    assert status == 0
    assert "note: .github/workflows/jobdefs.yml cannot tell where CI gets this jobdefs" in err
    workflow = yaml.safe_load((tmp_path / ".github/workflows/jobdefs.yml").read_text("utf-8"))
    assert workflow["env"]["JOBDEFS"] == starter_files.EDIT_ME
    install = next(
        s["run"]
        for s in workflow["jobs"]["documents"]["steps"]
        if s.get("name") == "Install jobdefs"
    )
    # The first run stops with what to do, before pip tries to install a line meant for a person.
    script = f'JOBDEFS="{starter_files.EDIT_ME}"\n' + install.replace("python -m pip", "echo pip")
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "::error file=.github/workflows/jobdefs.yml::set JOBDEFS" in done.stdout
    assert "pip install" not in done.stdout


def test_init_from_a_git_install_pins_its_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        scaffold, "installed_requirement", lambda: "jobdefs @ git+https://example.org/j.git@abc"
    )
    status, _, err = run("init", str(tmp_path))
    assert status == 0 and "note:" not in err
    workflow = yaml.safe_load((tmp_path / ".github/workflows/jobdefs.yml").read_text("utf-8"))
    assert workflow["env"]["JOBDEFS"] == "jobdefs @ git+https://example.org/j.git@abc"
