"""`jobdefs diff`: hand-off-level changes between two folders or two git revisions."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from jobdefs.cli import cli
from jobdefs.errors import JobdefsError
from jobdefs.reports import diff, diff_text

DATA = Path(__file__).parent / "data"
CHAIN = DATA / "chain"
GIT = [
    "git",
    "-c",
    "user.name=Test",
    "-c",
    "user.email=test@example.org",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "init.defaultBranch=main",
]
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

CODER = """\
title: Medical Coder
department: Health Information
purpose: Claims paid the first time.
products:
  - name: Coded claim
    customers:
      - external: payer
        need: Codes that match the record.
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="jobdefs")
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def copy_of_chain(where: Path) -> Path:
    shutil.copytree(CHAIN, where)
    return where


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def git(repo: Path, *args: str) -> str:
    done = subprocess.run([*GIT, *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def changed(tmp_path: Path) -> tuple[Path, Path]:
    """The chain workbook, and a copy with one change of every kind."""
    old = copy_of_chain(tmp_path / "old")
    new = copy_of_chain(tmp_path / "new")
    roles = new / "roles"
    edit(roles / "lab-tech.yaml", "title: Laboratory Technologist", "title: Lab Scientist")
    edit(roles / "lab-tech.yaml", "Within 60 minutes.", "Within 45 minutes.")
    edit(roles / "phlebotomist.yaml", "department: Laboratory", "department: Phlebotomy")
    edit(
        roles / "physician.yaml",
        "need: The right test for the right patient.",
        "need: The right test, once.",
    )
    edit(roles / "physician.yaml", "        standard: Explained before discharge.\n", "")
    edit(
        roles / "physician.yaml",
        "      - role: coder\n        need: Documented diagnoses to code.\n",
        "      - role: nurse\n        need: Orders to carry out.\n",
    )
    edit(
        roles / "physician.yaml",
        "  - name: Lab order\n",
        "  - name: Referral letter\n"
        "    customers:\n      - external: patient\n        need: Where to go next.\n"
        "  - name: Lab order\n",
    )
    (roles / "coder.yaml").unlink()
    (roles / "nurse.yaml").write_text(
        "title: Nurse\ndepartment: Nursing\npurpose: Care.\nproducts:\n"
        "  - name: Discharge teaching\n    customers:\n      - external: patient\n"
        "        need: To know what to do at home.\n",
        encoding="utf-8",
    )
    return old, new


def test_every_kind_of_change_with_the_customers_it_affects(
    changed: tuple[Path, Path],
) -> None:
    old, new = changed
    status, out, err = run("diff", str(old), str(new))
    assert (status, err) == (0, "")
    assert (
        out
        == f"""\
Comparing {old} with {new}: 10 changes to roles, products or hand-offs

Roles added (1)
  - Added the role Nurse (nurse, Nursing), serving Patient

Roles removed (1)
  - Removed the role Medical Coder (coder, Health Information), which served Insurer

Roles retitled (1)
  - Retitled the role lab-tech: 'Laboratory Technologist' → 'Lab Scientist' (seen by \
Physician)

Roles moved to another department (1)
  - Moved Phlebotomist from Laboratory to Phlebotomy (seen by Lab Scientist)

Products added (1)
  - Physician added the product 'Referral letter' for Patient

Hand-offs added (1)
  - Physician now hands 'Treatment plan' to Nurse

Hand-offs removed (1)
  - Physician no longer hands 'Treatment plan' to Medical Coder

Needs changed (1)
  - Physician changed the need of 'Lab order' for Phlebotomist: 'The right test for the \
right patient.' → 'The right test, once.'

Standards changed (2)
  - Lab Scientist changed the standard of 'Verified result' for Physician: 'Within 60 \
minutes.' → 'Within 45 minutes.'
  - Physician removed the standard of 'Treatment plan' for Patient (was 'Explained before \
discharge.')

Customers affected: Medical Coder, Lab Scientist, Physician, Nurse, Phlebotomist, Insurer, \
Patient
"""
    )


def test_a_removed_product_names_the_customers_who_lose_it(tmp_path: Path) -> None:
    old = copy_of_chain(tmp_path / "old")
    new = copy_of_chain(tmp_path / "new")
    edit(
        new / "roles" / "physician.yaml",
        "  - name: Lab order\n    customers:\n"
        "      - role: phlebotomist\n        need: The right test for the right patient.\n",
        "",
    )
    edit(
        new / "roles" / "lab-tech.yaml",
        "  - name: Verified result\n",
        "  - name: Verified result\n    customers:\n      - external: patient\n"
        "        need: Results explained.\n  - name: Critical value call\n",
    )
    comparison = diff.diff_workbooks(str(old), str(new))
    assert [change.message() for change in comparison.changes] == [
        "Laboratory Technologist added the product 'Critical value call' for Physician",
        "Physician removed the product 'Lab order', which went to Phlebotomist",
        "Laboratory Technologist now hands 'Verified result' to Patient",
        "Laboratory Technologist no longer hands 'Verified result' to Physician",
    ]
    assert comparison.notes() == []


def test_reordering_and_recasing_are_not_changes(tmp_path: Path) -> None:
    old = copy_of_chain(tmp_path / "old")
    new = copy_of_chain(tmp_path / "new")
    physician = new / "roles" / "physician.yaml"
    text = physician.read_text(encoding="utf-8")
    lab_order, treatment = (
        text.split("products:\n")[1].split("receives:")[0].split("  - name: Treatment plan\n")
    )
    physician.write_text(
        text.replace(
            lab_order + "  - name: Treatment plan\n" + treatment,
            "  - name: treatment  PLAN\n" + treatment + lab_order,
        ),
        encoding="utf-8",
    )
    assert diff.diff_workbooks(str(old), str(new)).changes == ()
    status, out, _ = run("diff", str(old), str(new))
    assert (status, out) == (
        0,
        f"Comparing {old} with {new}: no changes to roles, products or hand-offs\n",
    )


def test_markdown_for_a_pull_request_comment(tmp_path: Path) -> None:
    old = copy_of_chain(tmp_path / "old")
    new = copy_of_chain(tmp_path / "new")
    edit(new / "roles" / "lab-tech.yaml", "Within 60 minutes.", "Within 45 minutes.")
    status, out, err = run("diff", str(old), str(new), "--format", "markdown")
    assert (status, err) == (0, "")
    assert (
        out
        == f"""\
## Hand-off changes

Comparing `{old}` with `{new}`: **1 change** to roles, products or hand-offs.

### Standards changed (1)

- Laboratory Technologist changed the standard of 'Verified result' for Physician: 'Within \
60 minutes.' → 'Within 45 minutes.'

### Customers affected

- Physician (Medicine)
"""
    )


def test_markdown_escapes_role_text(tmp_path: Path) -> None:
    old = copy_of_chain(tmp_path / "old")
    new = copy_of_chain(tmp_path / "new")
    edit(
        new / "roles" / "lab-tech.yaml",
        "title: Laboratory Technologist",
        "title: '<b>Lab</b> [x](http://e.org) @team'",
    )
    edit(new / "roles" / "lab-tech.yaml", "Within 60 minutes.", "'**Within** 45 | `min`'")
    out = run("diff", str(old), str(new), "--format", "markdown")[1]
    title = r"\<b\>Lab\</b\> \[x\](http://e.org) @&#8203;team"
    assert (
        f"- Retitled the role lab-tech: 'Laboratory Technologist' → '{title}' (seen by "
        "Physician)\n" in out
    )
    assert (
        f"- {title} changed the standard of 'Verified result' for Physician: 'Within 60 "
        r"minutes.' → '\*\*Within\*\* 45 \| \`min\`'" + "\n"
    ) in out
    assert "<b>" not in out and "**Within" not in out


def test_json_is_a_stable_structure(changed: tuple[Path, Path]) -> None:
    old, new = changed
    status, out, err = run("diff", str(old), str(new), "--format", "json")
    assert (status, err) == (0, "")
    document = json.loads(out)
    assert list(document) == ["old", "new", "counts", "changes", "affected", "notes"]
    assert document["old"] == {
        "spec": str(old),
        "revision": None,
        "organization": "Chain Test Hospital",
        "roles": 4,
        "handoffs": 6,
        "errors": 0,
    }
    assert document["counts"] == {
        "role-added": 1,
        "role-removed": 1,
        "role-retitled": 1,
        "role-moved": 1,
        "product-added": 1,
        "product-removed": 0,
        "handoff-added": 1,
        "handoff-removed": 1,
        "need-changed": 1,
        "standard-changed": 2,
    }
    standard = document["changes"][-2]
    assert standard == {
        "kind": "standard-changed",
        "role": {
            "kind": "role",
            "id": "lab-tech",
            "title": "Lab Scientist",
            "department": "Laboratory",
        },
        "product": "Verified result",
        "customer": {
            "kind": "role",
            "id": "physician",
            "title": "Physician",
            "department": "Medicine",
        },
        "handoff_id": "H-211e049851",
        "before": "Within 60 minutes.",
        "after": "Within 45 minutes.",
        "need": "An accurate result.",
        "standard": "Within 45 minutes.",
        "affects": [
            {"kind": "role", "id": "physician", "title": "Physician", "department": "Medicine"}
        ],
        "message": "Lab Scientist changed the standard of 'Verified result' for Physician: "
        "'Within 60 minutes.' → 'Within 45 minutes.'",
    }
    assert {tuple(sorted(change)) for change in document["changes"]} == {tuple(sorted(standard))}
    assert document["notes"] == []


def test_a_side_with_errors_is_still_compared_with_a_note(tmp_path: Path) -> None:
    old = copy_of_chain(tmp_path / "old")
    new = copy_of_chain(tmp_path / "new")
    edit(new / "roles" / "lab-tech.yaml", "Within 60 minutes.", "Within 45 minutes.")
    (new / "roles" / "coder.yaml").write_text("title: [broken\n", encoding="utf-8")
    status, out, err = run("diff", str(old), str(new))
    assert status == 0
    assert "Removed the role Medical Coder (coder, Health Information)" in out
    assert "Laboratory Technologist changed the standard of 'Verified result'" in out
    assert err.startswith(f"note: the new workbook ({new}) has ")
    assert err.endswith(
        " in roles/coder.yaml; what those files say is "
        "missing or partial on that side, so the changes there may be wrong. "
        "Run 'jobdefs check' to see them.\n"
    )
    markdown = run("diff", str(old), str(new), "--format", "markdown")[1]
    assert "\n> **Note:** the new workbook" in markdown


def test_a_folder_that_is_not_a_workbook_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    status, out, err = run("diff", str(tmp_path / "empty"), str(CHAIN))
    assert (status, out) == (2, "")
    assert err.startswith("Error: ")
    assert "is not a jobdefs workbook" in err


# Git revisions -----------------------------------------------------------------------------


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A git repository holding the chain workbook in hr/, with two commits: the second
    changes a standard."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    copy_of_chain(repo / "hr")
    (repo / "README.md").write_text("Not part of the workbook.\n", encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "Roles as agreed")
    edit(repo / "hr" / "roles" / "lab-tech.yaml", "Within 60 minutes.", "Within 45 minutes.")
    git(repo, "commit", "-q", "-a", "-m", "Faster results")
    return repo


@needs_git
def test_two_commits_of_a_repository(
    repository: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(repository / "hr")
    before = git(repository, "rev-parse", "--short=7", "HEAD~1")
    after = git(repository, "rev-parse", "--short=7", "HEAD")
    status, out, err = run("diff", "HEAD~1", "HEAD")
    assert (status, err) == (0, "")
    assert (
        out
        == f"""\
Comparing HEAD~1 ({before}) with HEAD ({after}): 1 change to roles, products or hand-offs

Standards changed (1)
  - Laboratory Technologist changed the standard of 'Verified result' for Physician: \
'Within 60 minutes.' → 'Within 45 minutes.'

Customers affected: Physician
"""
    )


@needs_git
def test_a_revision_against_the_workbook_as_it_is_now(repository: Path) -> None:
    workbook = repository / "hr"
    edit(
        workbook / "roles" / "coder.yaml",
        "need: Codes that match the record.",
        "need: Codes that match the record, first time.",
    )
    status, out, _ = run("diff", "main", "-w", str(workbook), "--format", "json")
    assert status == 0
    document = json.loads(out)
    assert document["old"]["revision"] == git(repository, "rev-parse", "main")
    assert document["new"]["spec"] == str(workbook)
    assert [c["message"] for c in document["changes"]] == [
        "Medical Coder changed the need of 'Coded claim' for Insurer: 'Codes that match the "
        "record.' → 'Codes that match the record, first time.'"
    ]


@needs_git
def test_a_revision_and_a_folder_can_be_mixed(repository: Path, tmp_path: Path) -> None:
    elsewhere = copy_of_chain(tmp_path / "elsewhere")
    status, out, _ = run("diff", "HEAD~1", str(elsewhere), "-w", str(repository / "hr"))
    assert status == 0
    assert out.endswith(f"with {elsewhere}: no changes to roles, products or hand-offs\n")


@needs_git
def test_an_unknown_revision_is_a_clear_error(repository: Path) -> None:
    status, out, err = run("diff", "no-such-branch", "HEAD", "-w", str(repository / "hr"))
    assert (status, out) == (2, "")
    assert err == (
        "Error: 'no-such-branch' is neither a workbook folder nor a git revision of the "
        f"repository at {repository.resolve()}; give a folder, a branch, a tag or a commit "
        "such as HEAD~1\n"
    )


@needs_git
def test_a_revision_that_looks_like_an_option_never_reaches_git(repository: Path) -> None:
    status, _, err = run("diff", "-w", str(repository / "hr"), "--", "--output=/tmp/x", "HEAD")
    assert status == 2
    assert err.startswith(
        "Error: '--output=/tmp/x' is neither a workbook folder nor a git revision"
    )


@needs_git
def test_a_revision_from_before_the_workbook_existed(repository: Path) -> None:
    (repository / "other").mkdir()
    (repository / "other" / "jobdefs.yaml").write_text("organization: Other\n", encoding="utf-8")
    git(repository, "add", ".")
    git(repository, "commit", "-q", "-m", "Another workbook")
    status, _, err = run("diff", "HEAD~1", "HEAD", "-w", str(repository / "other"))
    assert status == 2
    assert err == (
        f"Error: revision HEAD~1 ({git(repository, 'rev-parse', '--short=7', 'HEAD~1')}) has "
        "no folder 'other': the workbook did not exist there yet\n"
    )


@needs_git
def test_revisions_outside_a_repository(tmp_path: Path) -> None:
    workbook = copy_of_chain(tmp_path / "plain")
    status, _, err = run("diff", "HEAD~1", "HEAD", "-w", str(workbook))
    assert status == 2
    assert err == (
        f"Error: 'HEAD~1' is neither a workbook folder nor a git revision: the workbook "
        f"{workbook.resolve()} is not in a git repository\n"
    )


def test_a_code_span_holds_any_backticks() -> None:
    assert diff_text.markdown_code("HEAD~1") == "`HEAD~1`"
    assert diff_text.markdown_code("a`b") == "``a`b``"
    assert diff_text.markdown_code("`x``") == "``` `x`` ```"


def _tar(*members: tarfile.TarInfo, data: bytes = b"x") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for member in members:
            if member.isfile():
                member.size = len(data)
                tar.addfile(member, io.BytesIO(data))
            else:
                tar.addfile(member)
    return buffer.getvalue()


@pytest.mark.parametrize("name", ["../escape.yaml", "/etc/escape.yaml", "roles/../../x.yaml"])
def test_an_archive_cannot_write_outside_its_folder(tmp_path: Path, name: str) -> None:
    inside = tmp_path / "inside"
    inside.mkdir()
    with pytest.raises(JobdefsError, match="unsafe path"):
        diff._extract(_tar(tarfile.TarInfo(name)), inside)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["inside"]


def test_links_in_an_archive_are_skipped(tmp_path: Path) -> None:
    link = tarfile.TarInfo("roles/link.yaml")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    plain = tarfile.TarInfo("roles/plain.yaml")
    diff._extract(_tar(link, plain), tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "roles",
        "roles/plain.yaml",
    ]
