"""The command line: exit statuses and the whole message a person reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from jobdefs.cli import cli

DATA = Path(__file__).parent / "data"
SMALL_CLINIC = Path(__file__).parent / "data" / "small-clinic"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_check_reports_an_error_with_file_line_column_and_fix() -> None:
    status, out, err = run("check", "--workbook", str(DATA / "findings" / "unknown-role"))
    assert status == 1
    assert out == ""
    assert err == (
        "roles/clerk.yaml:7:9: error[unknown-role]: customer role 'nurs' does not exist; "
        "did you mean 'nurse'?\n"
        "1 error, 0 warnings in 2 roles\n"
    )


def test_the_workbook_may_be_given_as_the_argument(tmp_path: Path) -> None:
    """`jobdefs check DIR` is `jobdefs check --workbook DIR`; two different folders are a
    usage error, the same one twice is not."""
    broken = str(DATA / "findings" / "unknown-role")
    assert run("check", broken) == run("check", "--workbook", broken)
    assert run("check", broken)[0] == 1
    status, _, err = run("check", "-w", str(SMALL_CLINIC), broken)
    assert status == 2 and f"two workbooks: --workbook {SMALL_CLINIC} and {broken}" in err
    assert run("check", "-w", broken, broken)[0] == 1
    output = tmp_path / "out"
    status, _, err = run("build", str(SMALL_CLINIC), "-o", str(output), "--no-site")
    assert status == 0, err
    assert (output / "internal-customer-matrix.xlsx").is_file()
    assert run("build", str(SMALL_CLINIC), "-o", str(output), "--no-site", "--check")[0] == 0
    status, out, _ = run("roles", str(SMALL_CLINIC))
    assert status == 0 and "practice-manager" in out


def test_warnings_pass_unless_strict() -> None:
    workbook = str(DATA / "findings" / "self-customer")
    assert run("check", "-w", workbook)[0] == 0
    status, _, err = run("check", "-w", workbook, "--strict")
    assert status == 1
    assert err.endswith("0 errors, 1 warning in 1 role\n")


def test_errors_come_before_warnings_sorted_by_file_and_line(tmp_path: Path) -> None:
    status, _, err = run("check", "-w", str(DATA / "findings" / "reports-to-cycle"))
    assert status == 1
    assert err.splitlines()[0].startswith("roles/clerk.yaml:3:1: error[reports-to-cycle]: ")


def test_json_format_is_one_object_on_stdout() -> None:
    status, out, err = run(
        "check", "-w", str(DATA / "findings" / "receives-mismatch"), "--format", "json"
    )
    assert status == 0
    assert err == ""
    document = json.loads(out)
    assert (document["errors"], document["warnings"]) == (0, 1)
    [finding] = document["findings"]
    assert finding == {
        "severity": "warning",
        "code": "receives-mismatch",
        "file": "roles/nurse.yaml",
        "line": 10,
        "column": 5,
        "key_path": "receives[0]",
        "message": "clerk lists no product 'Patient registration' for nurse; it hands nurse "
        "'Registered patient record'. Use the supplier's name for the product, or add the "
        "product to roles/clerk.yaml",
    }


def test_github_format_annotates_the_file() -> None:
    status, out, _ = run(
        "check", "-w", str(DATA / "findings" / "duplicate-key"), "--format", "github"
    )
    assert status == 1
    assert out == (
        "::error file=roles/nurse.yaml,line=3,col=1,title=duplicate-key::the key 'department' "
        "appears twice in this mapping (first on line 2); keep one of them\n"
    )


def test_a_folder_that_is_not_a_workbook_is_a_usage_error(tmp_path: Path) -> None:
    status, _, err = run("check", "-w", str(tmp_path))
    assert status == 2
    assert "is not a jobdefs workbook" in err
    assert "Traceback" not in err


def test_an_unknown_option_is_a_usage_error() -> None:
    assert run("check", "--strcit")[0] == 2


def test_small_clinic_gives_exactly_one_receives_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(SMALL_CLINIC)
    status, out, _ = run("check", "--format", "json")
    document = json.loads(out)
    assert status == 0
    assert [(f["code"], f["file"]) for f in document["findings"]] == [
        ("receives-mismatch", "roles/lab-technician.yaml")
    ]
    assert run("check", "--strict")[0] == 1


def test_every_command_has_help_with_an_example() -> None:
    for name, command in cli.commands.items():
        assert command.help and "Example:" in command.help, name
        assert command.short_help or command.help.splitlines()[0], name


@pytest.mark.parametrize("command", ["check", "build"])
def test_a_bad_source_date_epoch_is_the_same_error_for_check_and_build(
    command: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    workbook = Path(__file__).parent.parent  # the example hospital reviews its roles
    args = ["-w", str(workbook)] + (["-o", str(tmp_path / "out")] if command == "build" else [])
    status, _out, err = run(command, *args)
    assert status == 1
    assert err == (
        "Error: SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, not "
        "'yesterday': set it to a number such as $(git log -1 --format=%ct), or unset it\n"
    )
    assert not (tmp_path / "out").exists()


def test_a_role_the_workbook_lacks_is_a_usage_error_for_every_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("init", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    for command in (["show"], ["build", "--only"], ["survey", "--role"]):
        status, _, err = run(*command, "nurze")
        assert status == 2, (command, err)
        assert "'nurze'" in err and "did you mean 'nurse'?" in err, (command, err)
        assert "Traceback" not in err
    assert not (tmp_path / "build").exists() and not (tmp_path / "surveys").exists()


def test_every_command_finds_the_workbook_from_a_folder_inside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("init", str(tmp_path))
    monkeypatch.chdir(tmp_path / "roles")
    status, out, _ = run("check", "--format", "json")
    assert (status, json.loads(out)["errors"]) == (0, 0)
    assert run("show", "nurse")[0] == 0
    status, _, err = run("build", "-q")
    assert status == 0, err
    assert (tmp_path / "build" / "job-aids" / "nurse.docx").is_file()
    assert not (tmp_path / "roles" / "build").exists()
