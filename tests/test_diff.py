"""`jobdefs diff`: hand-off-level changes between two folders or two git revisions."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from jobdefs.cli import cli
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


def git(repo: Path, *args: str, input: str | None = None) -> str:
    done = subprocess.run(
        [*GIT, *args], cwd=repo, input=input, capture_output=True, text=True, check=True
    )
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
    assert list(document) == ["old", "new", "counts", "changes", "affected", "notes", "journeys"]
    assert document["old"] == {
        "spec": str(old),
        "revision": None,
        "organization": "Chain Test Hospital",
        "roles": 4,
        "handoffs": 6,
        "errors": 0,
    }
    assert document["counts"] == {
        "role-unreadable": 0,
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
    # A file that cannot be read says so; it is not a role removed.
    assert "Removed the role" not in out
    assert (
        "Could not read Medical Coder (coder) on the new side: roles/coder.yaml has errors" in out
    )
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


# Each side stays inside itself ------------------------------------------------------------

SECRET = "Host Secret Keeper"  # the title of a role file outside every workbook
OUTSIDE_ROLE = f"""\
title: {SECRET}
department: Host
purpose: Should never reach a report.
products:
  - name: Host password
    customers:
      - external: payer
        need: Not to see this.
"""


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder of YAML files beside the repository, which no report may show."""
    folder = tmp_path / "outside"
    (folder / "roles").mkdir(parents=True)
    (folder / "secret.yaml").write_text(OUTSIDE_ROLE, encoding="utf-8")
    (folder / "roles" / "secret.yaml").write_text(OUTSIDE_ROLE, encoding="utf-8")
    (folder / "jobdefs.yaml").write_text(f"organization: {SECRET}\n", encoding="utf-8")
    return folder


def commit_all(repo: Path, message: str = "Hostile") -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "--short=7", "HEAD")


def set_config(workbook: Path, line: str) -> None:
    config = workbook / "jobdefs.yaml"
    config.write_text(line + "\n" + config.read_text(encoding="utf-8"), encoding="utf-8")


@needs_git
@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("roles: {outside}/roles", "an absolute path outside the workbook"),
        ("roles: ../../outside/roles", "which leads out of the workbook with '..'"),
        ("roles: roles/../../../outside", "which leads out of the workbook with '..'"),
        ("journeys: {outside}", "an absolute path outside the workbook"),
        ("journeys: ../../outside", "which leads out of the workbook with '..'"),
    ],
)
def test_a_revision_cannot_name_a_folder_outside_itself(
    repository: Path,
    outside: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    line: str,
    why: str,
) -> None:
    # The revision is written out beside 'outside', so '../..' from it reaches that folder.
    exports = tmp_path / "exports"
    exports.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(exports))
    line = line.format(outside=outside)
    set_config(repository / "hr", line)
    after = commit_all(repository)
    status, out, err = run(
        "diff", "HEAD~1", "HEAD", "-w", str(repository / "hr"), "--format", "markdown"
    )
    key, default = (
        line.split(":")[0],
        {"roles": "roles", "journeys": "journeys"},
    )
    assert (status, out) == (1, "")
    assert err == (
        f"Error: the new workbook (HEAD ({after})): jobdefs.yaml says '{line}', {why}; only "
        "what is inside a compared workbook is read: name a folder inside it, such as "
        f"'{key}: {default[key]}'\n"
    )
    assert SECRET not in out + err


@needs_git
def test_links_in_a_revision_are_never_followed(repository: Path, outside: Path) -> None:
    roles = repository / "hr" / "roles"
    (roles / "secret.yaml").symlink_to(outside / "secret.yaml")
    (roles / "nearby.yaml").symlink_to("../../../outside/secret.yaml")
    (roles / "team").symlink_to(outside / "roles")
    (roles / "notes.txt").symlink_to("/etc/passwd")  # not a role file: not worth a note
    after = commit_all(repository)
    status, out, err = run(
        "diff", "HEAD~1", "HEAD", "-w", str(repository / "hr"), "--format", "markdown"
    )
    assert status == 0
    assert "no changes to roles, products or hand-offs" in out
    assert err == (
        f"note: the new workbook (HEAD ({after})) has 2 errors in roles/nearby.yaml, "
        "roles/secret.yaml; what those files say is missing or partial on that side, so the "
        "changes there may be wrong. Run 'jobdefs check' to see them.\n"
    )
    assert SECRET not in out + err
    side = diff.load_side("HEAD", repository / "hr")
    assert {(f.file, f.message) for f in side.workbook.errors} == {
        (
            name,
            f"this is a link in revision HEAD ({after}), and a comparison reads only the files "
            "a revision holds, never what a link points to: commit the files themselves",
        )
        for name in ("roles/nearby.yaml", "roles/secret.yaml")
    }


@needs_git
def test_a_roles_folder_or_workbook_that_is_a_link_in_a_revision(
    repository: Path, outside: Path
) -> None:
    workbook = repository / "hr"
    shutil.rmtree(workbook / "roles")
    (workbook / "roles").symlink_to(outside / "roles")
    commit_all(repository)
    side = diff.load_side("HEAD", workbook)
    assert [(f.file, f.code) for f in side.workbook.errors] == [
        ("jobdefs.yaml", "missing-key"),  # the roles folder 'roles' does not exist
        ("roles", "yaml-syntax"),  # ... because it is a link, which is not followed
    ]
    assert side.workbook.organization.roles == ()
    # The workbook's own folder is a link in the next revision (and a folder on disk).
    target = git(repository, "hash-object", "-w", "--stdin", input=str(outside))
    after = commit_entries(repository, ("120000", target, "hr"))
    status, out, err = run("diff", "HEAD", "-w", str(workbook))
    assert (status, out) == (2, "")
    assert err == (
        f"Error: revision HEAD ({after}) holds a link or a file at 'hr', not the "
        "workbook's folder; a link in a revision is never followed\n"
    )
    assert SECRET not in err


def test_a_folder_cannot_lead_outside_itself(tmp_path: Path, outside: Path) -> None:
    old = copy_of_chain(tmp_path / "old")
    new = copy_of_chain(tmp_path / "new")
    shutil.rmtree(new / "roles")
    (new / "roles").symlink_to(outside / "roles")
    status, out, err = run("diff", str(old), str(new), "--format", "markdown")
    assert (status, out) == (1, "")
    assert err == (
        f"Error: the new workbook ({new}): a link takes the roles folder 'roles' outside the "
        "workbook; only what is inside a compared workbook is read: put the folder itself in "
        "place of the link\n"
    )
    (new / "roles").unlink()
    (new / "roles").mkdir()
    set_config(new, f"roles: {outside}")
    status, out, err = run("diff", str(old), "-w", str(new))
    assert (status, out) == (1, "")
    assert err == (
        f"Error: the new workbook (the current workbook ({new})): jobdefs.yaml says "
        f"'roles: {outside}', an absolute path outside the workbook; only what is inside a "
        "compared workbook is read: name a folder inside it, such as 'roles: roles'\n"
    )
    (new / "jobdefs.yaml").unlink()
    (new / "jobdefs.yaml").symlink_to(outside / "jobdefs.yaml")
    status, out, err = run("diff", str(new), str(old))
    assert (status, out) == (1, "")
    assert err == (
        f"Error: the old workbook ({new}): jobdefs.yaml is a link to a file outside the "
        "workbook, and only what is inside a compared workbook is read: put the file itself "
        "in place of the link\n"
    )
    assert SECRET not in out + err


def test_a_role_file_linked_from_outside_is_refused_and_one_inside_is_read(
    tmp_path: Path, outside: Path
) -> None:
    old = copy_of_chain(tmp_path / "old")
    new = copy_of_chain(tmp_path / "new")
    (new / "roles" / "secret.yaml").symlink_to(outside / "secret.yaml")
    (new / "shared").mkdir()
    (new / "roles" / "coder.yaml").rename(new / "shared" / "coder.yaml")
    (new / "roles" / "coder.yaml").symlink_to("../shared/coder.yaml")
    status, out, err = run("diff", str(old), str(new), "--format", "json")
    assert status == 0
    assert json.loads(out)["changes"] == []  # the coder, read through a link inside, is there
    assert err == (
        f"note: the new workbook ({new}) has 1 error in roles/secret.yaml; what those files "
        "say is missing or partial on that side, so the changes there may be wrong. Run "
        "'jobdefs check' to see them.\n"
    )
    assert SECRET not in out + err
    [finding] = diff.load_side(str(new), tmp_path).workbook.errors
    assert finding.message == (
        "this file is a link to a file outside the workbook, and only what is inside a "
        "compared workbook is read: put the file itself in place of the link"
    )


# Bounded: sizes and counts are known before anything is read ------------------------------

CAPPED = """\
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
resource.setrlimit(resource.RLIMIT_CPU, (60, 60))
from jobdefs.cli import cli
cli(sys.argv[1:], prog_name="jobdefs")
"""


def run_capped(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """jobdefs in a child of at most 1 GiB and a minute of CPU, so a regression fails."""
    return subprocess.run(
        [sys.executable, "-c", CAPPED, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def zeros_blob(repo: Path, size: int) -> str:
    """A blob of `size` zero bytes written as git writes one, costing a few MB on disk."""
    header = f"blob {size}\0".encode()
    digest, packer = hashlib.sha1(header), zlib.compressobj(1)
    chunk = bytes(1 << 22)
    temporary = repo / ".git" / "objects" / "zeros.tmp"
    with temporary.open("wb") as stream:
        stream.write(packer.compress(header))
        left = size
        while left:
            piece = chunk[: min(left, len(chunk))]
            digest.update(piece)
            stream.write(packer.compress(piece))
            left -= len(piece)
        stream.write(packer.flush())
    oid = digest.hexdigest()
    (repo / ".git" / "objects" / oid[:2]).mkdir(exist_ok=True)
    temporary.rename(repo / ".git" / "objects" / oid[:2] / oid[2:])
    assert git(repo, "cat-file", "-s", oid) == str(size)
    return oid


def commit_entries(repo: Path, *entries: tuple[str, str, str]) -> str:
    """Commit HEAD's tree with (mode, object id, path) entries put in, as git plumbing can."""
    tree = git(repo, "rev-parse", "HEAD^{tree}")
    for mode, oid, path in entries:
        tree = graft(repo, tree, path.split("/"), f"{mode} {object_kind(mode)} {oid}")
    commit = git(repo, "commit-tree", tree, "-p", "HEAD", "-m", "Hostile")
    git(repo, "update-ref", "HEAD", commit)
    return commit[:7]


def object_kind(mode: str) -> str:
    return {"040000": "tree", "160000": "commit"}.get(mode, "blob")


def graft(repo: Path, tree: str | None, parts: list[str], entry: str) -> str:
    """The id of `tree` with `entry` (mode, kind, id) at the path `parts`, folders made."""
    lines = git(repo, "ls-tree", tree).splitlines() if tree else []
    entries = {line.split("\t", 1)[1]: line for line in lines}
    name = parts[0]
    if len(parts) == 1:
        entries[name] = f"{entry}\t{name}"
    else:
        below = entries[name].split()[2] if name in entries else None
        entries[name] = f"040000 tree {graft(repo, below, parts[1:], entry)}\t{name}"
    return tree_of(repo, [line + "\n" for line in entries.values()])


def tree_of(repo: Path, entries: list[str]) -> str:
    done = subprocess.run(
        [*GIT, "mktree"], cwd=repo, input="".join(entries), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@needs_git
def test_a_huge_file_in_a_revision_is_refused_unread(repository: Path, tmp_path: Path) -> None:
    huge = zeros_blob(repository, 1_100_000_000)
    after = commit_entries(repository, ("100644", huge, "hr/roles/huge.yaml"))
    done = run_capped(tmp_path, "diff", "HEAD~1", "HEAD", "-w", str(repository / "hr"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("no changes to roles, products or hand-offs\n")
    assert done.stderr == (
        f"note: the new workbook (HEAD ({after})) has 1 error in roles/huge.yaml; what those "
        "files say is missing or partial on that side, so the changes there may be wrong. "
        "Run 'jobdefs check' to see them.\n"
    )
    [finding] = diff.load_side("HEAD", repository / "hr").workbook.errors
    assert (finding.code, finding.file) == ("too-large", "roles/huge.yaml")
    assert finding.message.startswith(
        "the file is 1,100,000,000 bytes; the limit is 1,048,576 bytes (1 MiB)."
    )


@needs_git
def test_a_revision_of_too_many_bytes_of_yaml_is_refused(repository: Path) -> None:
    # 34 role files of a million bytes each: each within the limit, together over 32 MiB.
    blob = git(repository, "hash-object", "-w", "--stdin", input="#" * 1_000_000)
    after = commit_entries(
        repository, *(("100644", blob, f"hr/roles/big-{n}.yaml") for n in range(34))
    )
    total = 34_000_000 + sum(path.stat().st_size for path in (repository / "hr").rglob("*.yaml"))
    status, out, err = run("diff", "HEAD~1", "HEAD", "-w", str(repository / "hr"))
    assert (status, out) == (1, "")
    assert err == (
        f"Error: revision HEAD ({after}) holds {total:,} bytes of YAML files in 'hr'; the "
        "limit is 33,554,432 bytes (32 MiB), several times what a large organization needs: "
        "compare two folders instead (git worktree add)\n"
    )


@needs_git
def test_a_revision_of_too_many_files_is_refused(repository: Path) -> None:
    blob = git(repository, "hash-object", "-w", "--stdin", input="title: x\n")
    many = tree_of(repository, [f"100644 blob {blob}\tr{n}.yaml\n" for n in range(20_001)])
    after = commit_entries(repository, ("040000", many, "hr/roles/many"))
    status, out, err = run("diff", "HEAD~1", "HEAD", "-w", str(repository / "hr"))
    assert (status, out) == (1, "")
    assert err.startswith(f"Error: revision HEAD ({after}) holds 20,0")
    assert err.endswith(
        " folders and YAML files in 'hr'; the limit is 20,000, ten times what a large "
        "organization needs: compare two folders instead (git worktree add)\n"
    )


@needs_git
def test_a_tree_that_repeats_itself_is_cut_off(repository: Path, tmp_path: Path) -> None:
    # Four levels of a hundred entries naming the level below: 100,000,000 files listed
    # from objects of a few kilobytes.
    level = git(repository, "hash-object", "-w", "--stdin", input="not a role\n")
    kind = "blob"
    for _ in range(4):
        mode = "100644" if kind == "blob" else "040000"
        level = tree_of(repository, [f"{mode} {kind} {level}\tn{n}\n" for n in range(100)])
        kind = "tree"
    after = commit_entries(repository, ("040000", level, "hr/archive"))
    done = run_capped(tmp_path, "diff", "HEAD~1", "HEAD", "-w", str(repository / "hr"))
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"Error: revision HEAD ({after}) lists more than 200,000 files and folders in 'hr', "
        "far more than a workbook holds: compare two folders instead (git worktree add)\n"
    )


@needs_git
@pytest.mark.parametrize("name", ["..", ".", "a\\b"])
def test_a_tree_entry_that_would_leave_the_folder_is_refused(
    repository: Path, tmp_path: Path, name: str
) -> None:
    blob = git(repository, "hash-object", "-w", "--stdin", input=OUTSIDE_ROLE)
    inner = tree_of(repository, [f"100644 blob {blob}\tescape.yaml\n"])
    hostile = tree_of(
        repository, [f"100644 blob {blob}\tx.yaml\n", f"040000 tree {inner}\t{name}\n"]
    )
    after = commit_entries(repository, ("040000", hostile, "hr/roles/deep"))
    status, out, err = run("diff", "HEAD~1", "HEAD", "-w", str(repository / "hr"))
    assert (status, out) == (1, "")
    assert err.startswith(f"Error: revision HEAD ({after}) holds an unsafe path, ")
    assert not list(tmp_path.rglob("escape.yaml"))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_named_pipes_in_a_folder_do_not_hang_diff(tmp_path: Path) -> None:
    old = copy_of_chain(tmp_path / "old")
    new = copy_of_chain(tmp_path / "new")
    (new / "jobdefs.yaml").unlink()
    os.mkfifo(new / "jobdefs.yaml")
    os.mkfifo(new / "roles" / "pipe.yaml")
    done = run_capped(tmp_path, "diff", str(old), str(new))
    assert done.returncode == 0, done.stderr
    assert "roles/pipe.yaml" in done.stderr


@pytest.mark.parametrize("broken", ["old", "new"])
def test_a_role_whose_file_is_broken_on_one_side_is_unreadable_not_removed(
    tmp_path: Path, broken: str
) -> None:
    sides = {}
    for which in ("old", "new"):
        run("init", str(tmp_path / which))
        sides[which] = tmp_path / which
    nurse = sides[broken] / "roles" / "nurse.yaml"
    nurse.write_text(nurse.read_text(encoding="utf-8") + "oops: [\n", encoding="utf-8")
    status, out, _ = run("diff", str(sides["old"]), str(sides["new"]))
    assert status == 0
    assert "Roles that could not be read (1)" in out
    assert (
        f"Could not read Clinic Nurse (nurse) on the {broken} side: roles/nurse.yaml has "
        "errors, so what changed in it is not shown" in out
    )
    # Neither the role nor its hand-offs are reported as added or removed.
    assert "Removed the role" not in out and "Added the role" not in out
    assert "Clinic Nurse" not in out.replace("Could not read Clinic Nurse", "")
