"""The bad-input corpus: every file a person could hand us gets a finding, never a crash.

Each folder of tests/data/bad/ is a tiny workbook plus an `expected.json` (its format is in
tests/data/bad/README.md). Files too big to commit, symlinks and permissions are made at
test time from the `generate` recipe in `expected.json`.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from jobdefs.cli import cli
from jobdefs.workbook.load import load_workbook

BAD = Path(__file__).parent / "data" / "bad"
CASES = sorted(p.name for p in BAD.iterdir() if (p / "expected.json").is_file())
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

Snapshot = dict[str, tuple[Any, ...]]


def expected_of(case: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((BAD / case / "expected.json").read_text("utf-8"))
    return document


def generate(root: Path, steps: list[dict[str, Any]]) -> None:
    """Make what is not committed: big files, symlinks, permissions."""
    for step in steps:
        path = root / step["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        recipe = step["recipe"]
        if recipe == "text":
            repeat, count = step.get("repeat", ""), step.get("count", 0)
            if "{i}" in repeat:
                body = "".join(repeat.replace("{i}", str(i)) for i in range(count))
            else:
                body = repeat * count
            tail = step.get("tail", "") * step.get("tail_count", 1)
            data = (step.get("head", "") + body + tail).encode("utf-8")
            if "size" in step:  # pad with one comment line to exactly this many bytes
                data += b"#" + b"x" * (step["size"] - len(data) - 2) + b"\n"
                assert len(data) == step["size"]
            path.write_bytes(data)
        elif recipe == "symlink":
            os.symlink(step["target"], path)
        elif recipe == "chmod":
            path.chmod(int(step["mode"], 8))
        else:  # pragma: no cover - a typo in expected.json
            raise AssertionError(f"unknown recipe {recipe!r}")


def materialize(case: str, tmp_path: Path) -> Path:
    """A private copy of the case's workbook, with its generated files."""
    root = tmp_path / "workbook"
    shutil.copytree(BAD / case, root, symlinks=True, ignore=shutil.ignore_patterns("expected.json"))
    generate(root, expected_of(case).get("generate", []))
    return root


def snapshot(root: Path) -> Snapshot:
    """Every entry under `root`: its kind, mode and bytes (or link target)."""
    entries: Snapshot = {}
    for folder, folders, files in os.walk(root):
        for name in folders + files:
            path = Path(folder) / name
            info = path.lstat()
            relative = path.relative_to(root).as_posix()
            if stat.S_ISLNK(info.st_mode):
                entries[relative] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                entries[relative] = ("folder", stat.S_IMODE(info.st_mode))
            else:
                try:
                    content: bytes | None = path.read_bytes()
                except OSError:
                    content = None  # unreadable to us as well: compare the rest
                entries[relative] = ("file", stat.S_IMODE(info.st_mode), info.st_size, content)
    return entries


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args))
    # CliRunner swallows exceptions (exit code 1): a crash must not pass for an error.
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args} crashed") from result.exception
    assert "Traceback" not in result.output
    return result


def attribute(target: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        target = target[int(part)] if part.isdigit() else getattr(target, part)
    return target


def parameters() -> list[Any]:
    marks_of: list[Any] = []
    for case in CASES:
        expected = expected_of(case)
        marks = []
        if "xfail" in expected:
            marks.append(pytest.mark.xfail(strict=True, reason=expected["xfail"]))
        if expected.get("requires") == "non-root":
            marks.append(pytest.mark.skipif(IS_ROOT, reason="root can read any file"))
        marks_of.append(pytest.param(case, marks=marks, id=case))
    return marks_of


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40
    codes = {expected_of(case)["code"] for case in CASES}
    contract_errors = {
        "yaml-syntax",
        "duplicate-key",
        "unknown-key",
        "wrong-type",
        "missing-key",
        "empty-value",
        "bad-character",
        "text-too-long",
        "too-large",
        "bad-role-id",
        "duplicate-role-id",
        "customer-kind",
        "unknown-role",
        "unknown-external",
        "duplicate-product",
        "reports-to-cycle",
    }
    assert contract_errors <= codes


@pytest.mark.parametrize("case", parameters())
def test_check_answers_every_bad_input_with_a_finding(case: str, tmp_path: Path) -> None:
    expected = expected_of(case)
    root = materialize(case, tmp_path)
    before = snapshot(root)

    result = invoke("check", "--workbook", str(root), "--format", "json")
    assert result.exit_code == expected["exit"], result.output
    if expected["exit"] == 2:  # a usage error: a message, no findings
        assert result.stdout == ""
        assert expected["message_contains"] in result.stderr
        assert snapshot(root) == before
        return
    findings = json.loads(result.stdout)["findings"]
    if expected["code"] is None:
        assert [f for f in findings if f["severity"] == "error"] == []
    else:
        assert findings, "no finding at all"
        finding = findings[0]
        assert finding["code"] == expected["code"], finding
        assert (finding["file"], finding["line"]) == (expected["file"], expected["line"]), finding
        if "column" in expected:
            assert finding["column"] == expected["column"], finding
        assert finding["message"], finding
        if "message_contains" in expected:
            assert expected["message_contains"].casefold() in finding["message"].casefold()
        if "count" in expected:
            assert sum(f["code"] == expected["code"] for f in findings) == expected["count"]

    if not expected.get("heavy"):  # the same findings, as a person reads them
        text = invoke("check", "--workbook", str(root))
        assert text.exit_code == expected["exit"]
        if expected["code"] is not None:
            first_line = text.stderr.splitlines()[0]
            assert first_line.startswith(f"{expected['file']}:{expected['line']}:")
            assert f"error[{findings[0]['code']}]: " in first_line
        for forbidden in expected.get("output_must_not_contain", []):
            assert forbidden not in text.stderr

    assert snapshot(root) == before, "check changed the workbook"

    if expected["code"] is None:
        workbook = load_workbook(root)
        for value in expected.get("values", []):
            role = workbook.organization.role(value["role"])
            assert attribute(role, value["attribute"]) == value["value"]


def build_cases() -> list[str]:
    """Every error case but the heavy ones (the size of the input does not change the path)."""
    return [
        case
        for case in CASES
        if expected_of(case)["exit"] == 1
        and not {"xfail", "heavy", "requires"} & set(expected_of(case))
    ]


@pytest.mark.parametrize("case", build_cases())
def test_build_writes_nothing_when_the_workbook_has_errors(case: str, tmp_path: Path) -> None:
    root = materialize(case, tmp_path)
    before = snapshot(root)
    result = invoke("build", "--workbook", str(root))
    assert result.exit_code == 1
    assert "nothing was written" in result.stderr
    assert snapshot(root) == before
    assert not (root / "build").exists()


def test_an_unreadable_file_is_a_finding_even_for_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `chmod 000` does to a normal user, simulated so that it also runs as root."""
    root = materialize("unreadable-file", tmp_path)
    target = root / "roles" / "nurse.yaml"
    real_open = os.open

    def refusing_open(path: Any, *args: Any, **kwargs: Any) -> Any:
        if Path(path) == target:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    result = invoke("check", "--workbook", str(root), "--format", "json")
    assert result.exit_code == 1
    [finding] = json.loads(result.stdout)["findings"]
    assert (finding["code"], finding["file"], finding["line"]) == (
        "yaml-syntax",
        "roles/nurse.yaml",
        1,
    )
    assert "Permission denied" in finding["message"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
def test_a_named_pipe_in_roles_does_not_hang_check(tmp_path: Path) -> None:
    root = tmp_path / "workbook"
    (root / "roles").mkdir(parents=True)
    (root / "roles" / "nurse.yaml").write_text("title: Nurse\n", encoding="utf-8")
    os.mkfifo(root / "roles" / "pipe.yaml")
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "jobdefs", "check", "--workbook", str(root)],
            capture_output=True,
            text=True,
            timeout=4,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("jobdefs check hangs on a named pipe in roles/")
    assert completed.returncode == 1
    assert "roles/pipe.yaml:1:1: error[" in completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="unix sockets need a POSIX system")
def test_a_socket_in_roles_is_named_for_what_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A socket cannot even be opened; the finding still says what it is."""
    root = tmp_path / "workbook"
    (root / "roles").mkdir(parents=True)
    (root / "roles" / "nurse.yaml").write_text("title: Nurse\n", encoding="utf-8")
    monkeypatch.chdir(root / "roles")  # a socket's path must be short
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind("socket.yaml")
        result = invoke("check", "--workbook", str(root), "--format", "json")
    found = [f for f in json.loads(result.stdout)["findings"] if f["file"] == "roles/socket.yaml"]
    assert [(f["code"], f["line"]) for f in found] == [("yaml-syntax", 1)]
    assert "not a regular file (a pipe, socket or device)" in found[0]["message"]
