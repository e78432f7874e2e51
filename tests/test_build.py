"""Builds: deterministic, incremental, atomic, checkable, and careful with others' files."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook as load_xlsx
from synthetic import write_organization

from jobdefs.build.run import build, check
from jobdefs.cli import cli
from jobdefs.errors import JobdefsError
from jobdefs.output import CACHE_FOLDER, MANIFEST
from jobdefs.workbook.load import load_workbook

CHAIN = Path(__file__).parent / "data" / "chain"


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    root = tmp_path / "chain"
    shutil.copytree(CHAIN, root)
    return root


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every output and the manifest; not the build cache, which is this machine's own."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and CACHE_FOLDER not in p.relative_to(folder).parts
    }


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stderr


def test_build_writes_every_output(workbook: Path) -> None:
    status, message = run("build", "-w", str(workbook))
    assert status == 0
    files = set(snapshot(workbook / "build"))
    assert {
        "job-aids/coder.docx",
        "job-aids/lab-tech.docx",
        "job-aids/phlebotomist.docx",
        "job-aids/physician.docx",
        "internal-customer-matrix.xlsx",
        "departments/health-information.xlsx",
        "departments/laboratory.xlsx",
        "departments/medicine.xlsx",
        "handoffs.md",
        "handoffs.dot",
        "site/index.html",
        "site/matrix.html",
        "site/roles/coder.html",
        "site/departments/laboratory.html",
        "site/customers/payer.html",
        "site/search-index.js",
        "site/assets/site.css",
        "site/assets/site.js",
        MANIFEST,
    } <= files
    assert message.endswith("wrote 24, kept 0, removed 0\n")


def test_two_builds_give_identical_bytes(workbook: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    build(load_workbook(workbook), output_dir=first)
    build(load_workbook(workbook), output_dir=second)
    assert snapshot(first) == snapshot(second)


def test_parallel_and_serial_builds_give_identical_bytes(tmp_path: Path) -> None:
    root = tmp_path / "many"
    write_organization(root, 60)
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    build(load_workbook(root), output_dir=serial, jobs=1)
    build(load_workbook(root), output_dir=parallel, jobs=2)
    assert snapshot(serial) == snapshot(parallel)


def test_source_date_epoch_dates_the_documents(
    workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import zipfile

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01
    build(load_workbook(workbook), output_dir=tmp_path / "out")
    with zipfile.ZipFile(tmp_path / "out" / "job-aids" / "coder.docx") as archive:
        assert {info.date_time for info in archive.infolist()} == {(2026, 1, 1, 0, 0, 0)}
        assert b"2026-01-01T00:00:00Z" in archive.read("docProps/core.xml")


def test_changing_one_role_rewrites_it_its_neighbours_and_the_workbooks(workbook: Path) -> None:
    build(load_workbook(workbook))
    role = workbook / "roles" / "coder.yaml"
    role.write_text(role.read_text().replace("Codes that match", "Codes that always match"))
    report = build(load_workbook(workbook))
    # The coder's department holds the hand-off; the maps show no needs. Of the site, the
    # pages that show the need: the coder's, its customer's, the search.
    assert report.written == [
        "departments/health-information.xlsx",
        "internal-customer-matrix.xlsx",
        "job-aids/coder.docx",
        "site/customers/payer.html",
        "site/roles/coder.html",
        "site/search-index.js",
    ]
    assert [p for p in report.kept if not p.startswith("site/")] == [
        "departments/laboratory.xlsx",
        "departments/medicine.xlsx",
        "handoffs.dot",
        "handoffs.md",
        "job-aids/lab-tech.docx",
        "job-aids/phlebotomist.docx",
        "job-aids/physician.docx",
    ]


def test_a_changed_hand_off_rewrites_the_job_aids_at_both_ends(workbook: Path) -> None:
    build(load_workbook(workbook))
    role = workbook / "roles" / "physician.yaml"
    role.write_text(role.read_text().replace("Documented diagnoses", "Signed diagnoses"))
    written = [p for p in build(load_workbook(workbook)).written if p.endswith(".docx")]
    assert written == ["job-aids/coder.docx", "job-aids/physician.docx"]


def test_a_retitled_role_rewrites_every_job_aid_that_names_it(workbook: Path) -> None:
    build(load_workbook(workbook))
    role = workbook / "roles" / "coder.yaml"
    role.write_text(role.read_text().replace("title: Medical Coder", "title: Clinical Coder"))
    written = [p for p in build(load_workbook(workbook)).written if p.endswith(".docx")]
    # Every job aid that shows the coder's title is rewritten; the others name the insurer
    # by distance only, so they come out the same and are kept as they are.
    shown = {
        path.relative_to(workbook / "build").as_posix()
        for path in (workbook / "build" / "job-aids").glob("*.docx")
        if "Clinical Coder" in read_docx_text(path)
    }
    assert written == sorted(shown) == ["job-aids/coder.docx", "job-aids/physician.docx"]
    assert "Medical Coder" not in read_docx_text(workbook / "build/job-aids/lab-tech.docx")


def read_docx_text(path: Path) -> str:
    import docx

    document = docx.Document(str(path))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_an_unchanged_workbook_writes_nothing(workbook: Path) -> None:
    build(load_workbook(workbook))
    before = snapshot(workbook / "build")
    report = build(load_workbook(workbook))
    assert report.written == [] and report.removed == []
    assert snapshot(workbook / "build") == before


def test_a_review_falling_due_makes_the_matrix_stale(workbook: Path) -> None:
    """The matrix lists warnings, and review-due ones change with the day, not the files."""
    config = workbook / "jobdefs.yaml"
    config.write_text(config.read_text() + "review_every_months: 12\n")
    coder = workbook / "roles" / "coder.yaml"
    coder.write_text(coder.read_text() + "reviewed: 2026-03-01\n")
    for role in ("lab-tech", "phlebotomist", "physician"):
        path = workbook / "roles" / f"{role}.yaml"
        path.write_text(path.read_text() + "reviewed: 2026-09-01\n")
    before = load_workbook(workbook, review_date=datetime.date(2027, 2, 1))
    assert not [f for f in before.warnings if f.code == "review-due"]
    build(before, output_dir=workbook / "build")
    later = load_workbook(workbook, review_date=datetime.date(2027, 4, 1))
    assert [f.file for f in later.warnings if f.code == "review-due"] == ["roles/coder.yaml"]
    report = check(later, output_dir=workbook / "build")
    # The site shows the finding on the index and the coder's page, and its department's
    # page says the review is due.
    assert sorted(report.stale) == [
        "internal-customer-matrix.xlsx",
        "site/departments/health-information.html",
        "site/index.html",
        "site/roles/coder.html",
    ]
    build(later, output_dir=workbook / "build")
    findings = load_xlsx(workbook / "build" / "internal-customer-matrix.xlsx")["Findings"]
    assert any("coder.yaml" in str(row) for row in findings.iter_rows(values_only=True))


def test_a_role_file_moved_to_another_folder_makes_the_matrix_stale(workbook: Path) -> None:
    """The Roles sheet shows the file each role is read from, so the same bytes elsewhere
    are a change."""
    build(load_workbook(workbook))
    (workbook / "roles" / "lab").mkdir()
    (workbook / "roles" / "lab-tech.yaml").rename(workbook / "roles" / "lab" / "lab-tech.yaml")
    moved = load_workbook(workbook)
    assert "internal-customer-matrix.xlsx" in check(moved).stale
    build(moved)
    roles = load_xlsx(workbook / "build" / "internal-customer-matrix.xlsx")["Roles"]
    assert ("lab-tech", "roles/lab/lab-tech.yaml") in {
        (row[0], row[-1]) for row in roles.iter_rows(values_only=True)
    }


def test_outputs_deleted_by_hand_are_written_again_as_they_were(workbook: Path) -> None:
    """Their sources did not change, while another department's did: the build must still
    make them in full."""
    coder = workbook / "roles" / "coder.yaml"
    original = coder.read_text()
    coder.write_text(original.replace("purpose: ", "purpose: Today, ", 1))
    assert run("build", "-w", str(workbook), "-q")[0] == 0  # as builds run: with the cache
    coder.write_text(original)  # Health Information's sources change, not Laboratory's
    fresh = workbook.parent / "fresh"
    build(load_workbook(workbook), output_dir=fresh)
    for path in (
        "departments/laboratory.xlsx",
        "job-aids/lab-tech.docx",
        "handoffs.md",
        "site/roles/lab-tech.html",
    ):
        (workbook / "build" / path).unlink()
    status, message = run("build", "-w", str(workbook))
    # The four deleted, and what shows the coder's purpose, which changed back.
    assert status == 0 and message.endswith("wrote 8, kept 16, removed 0\n"), message
    assert snapshot(workbook / "build") == snapshot(fresh)


def test_force_rewrites_everything_with_the_same_bytes(workbook: Path) -> None:
    build(load_workbook(workbook))
    before = snapshot(workbook / "build")
    report = build(load_workbook(workbook), force=True)
    assert len(report.written) == 24
    assert snapshot(workbook / "build") == before


def test_check_states(workbook: Path) -> None:
    output = workbook / "build"
    status, message = run("build", "-w", str(workbook), "--check")
    assert status == 1
    assert f"missing: {output / 'job-aids' / 'coder.docx'}\n" in message
    assert not output.exists()

    assert run("build", "-w", str(workbook))[0] == 0
    status, message = run("build", "-w", str(workbook), "--check")
    assert (status, message) == (0, f"all 24 outputs in {output} are up to date\n")

    (output / "job-aids" / "coder.docx").write_bytes(b"edited by hand")
    status, message = run("build", "-w", str(workbook), "--check")
    assert status == 1
    assert f"stale: {output / 'job-aids' / 'coder.docx'}\n" in message

    run("build", "-w", str(workbook))
    (workbook / "roles" / "coder.yaml").unlink()
    physician = workbook / "roles" / "physician.yaml"
    physician.write_text(
        physician.read_text().replace(
            "      - role: coder\n        need: Documented diagnoses to code.\n", ""
        )
    )
    before = snapshot(output)
    status, message = run("build", "-w", str(workbook), "--check")
    assert status == 1
    assert f"orphaned: {output / 'job-aids' / 'coder.docx'}\n" in message
    assert snapshot(output) == before  # --check writes nothing


def test_deleting_a_role_removes_only_its_own_outputs(workbook: Path) -> None:
    build(load_workbook(workbook))
    output = workbook / "build"
    stranger = output / "job-aids" / "notes.docx"
    stranger.write_bytes(b"someone else's file")
    (output / "README.txt").write_text("kept by hand")
    (workbook / "roles" / "coder.yaml").unlink()
    physician = workbook / "roles" / "physician.yaml"
    physician.write_text(
        physician.read_text().replace(
            "      - role: coder\n        need: Documented diagnoses to code.\n", ""
        )
    )
    report = build(load_workbook(workbook))
    assert report.removed == [
        "departments/health-information.xlsx",
        "job-aids/coder.docx",
        "site/departments/health-information.html",
        "site/roles/coder.html",
    ]
    assert not (output / "job-aids" / "coder.docx").exists()
    assert stranger.read_bytes() == b"someone else's file"
    assert (output / "README.txt").read_text() == "kept by hand"


def test_a_workbook_with_errors_writes_nothing(workbook: Path) -> None:
    run("build", "-w", str(workbook))
    before = snapshot(workbook / "build")
    (workbook / "roles" / "coder.yaml").write_text("title: [")
    status, message = run("build", "-w", str(workbook))
    assert status == 1
    assert message.endswith("1 error, 0 warnings in 3 roles; nothing was written\n")
    assert snapshot(workbook / "build") == before


def test_only_writes_the_listed_job_aids(workbook: Path) -> None:
    status, _ = run("build", "-w", str(workbook), "--only", "coder")
    assert status == 0
    assert set(snapshot(workbook / "build")) == {"job-aids/coder.docx", MANIFEST}
    status, message = run("build", "-w", str(workbook), "--only", "codr")
    assert status == 2  # a usage error, as for `show codr`
    assert "Error: --only: no role 'codr' in this workbook; did you mean 'coder'?" in message


def test_output_option_and_check_agree(workbook: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    assert run("build", "-w", str(workbook), "-o", str(target), "-q")[0] == 0
    assert check(load_workbook(workbook), output_dir=target).up_to_date
    assert not (workbook / "build").exists()


def test_no_staging_folder_is_left_behind(workbook: Path) -> None:
    build(load_workbook(workbook))
    assert not list((workbook / "build").glob(".jobdefs-staging-*"))


def test_the_library_names_the_role_and_the_command_line_names_its_option(
    workbook: Path,
) -> None:
    with pytest.raises(JobdefsError) as raised:
        build(load_workbook(workbook), only=["nobody"])
    assert str(raised.value) == (
        "no role 'nobody' in this workbook; run 'jobdefs roles' to list the role ids"
    )
    assert raised.value.option == "only"
    status, output = run("build", "-w", str(workbook), "--only", "nobody")
    assert status == 2
    assert "Error: --only: no role 'nobody' in this workbook; run 'jobdefs roles'" in output
