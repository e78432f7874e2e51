"""Builds with a handbook and with scorecard figures in the job aids."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path
from typing import Any

import docx
import pytest
from answering import fill
from click.testing import CliRunner
from docx.table import Table
from docx.text.paragraph import Paragraph
from libreoffice import needs_soffice

from jobdefs.build.run import build, check
from jobdefs.cli import cli
from jobdefs.documents.job_aid import job_aid_context
from jobdefs.documents.template_variables import all_template_variables
from jobdefs.feedback import survey_round
from jobdefs.output import CACHE_FOLDER, HANDBOOK, HANDBOOK_PDF, MANIFEST
from jobdefs.workbook.load import load_workbook

CHAIN = Path(__file__).parent / "data" / "chain"
CLINIC = Path(__file__).parent / "data" / "survey-clinic"
TITLES = ["Medical Coder", "Laboratory Technologist", "Phlebotomist", "Physician"]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stderr


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and CACHE_FOLDER not in p.relative_to(folder).parts  # machine-local
    }


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    root = tmp_path / "chain"
    shutil.copytree(CHAIN, root)
    return root


def titles(path: Path) -> list[str]:
    document = docx.Document(str(path))
    return [p.text for p in document.paragraphs if p.style is not None and p.style.name == "Title"]


def change_coder(root: Path) -> None:
    coder = root / "roles" / "coder.yaml"
    coder.write_text(coder.read_text().replace("title: Medical Coder", "title: Clinical Coder"))


# -- the handbook ------------------------------------------------------------------------


def test_handbook_is_written_and_kept_while_nothing_changes(workbook: Path) -> None:
    status, message = run("build", "-w", str(workbook), "--handbook")
    assert status == 0
    assert message.endswith("wrote 25, kept 0, removed 0\n")
    handbook = workbook / "build" / HANDBOOK
    assert titles(handbook) == TITLES
    before = snapshot(workbook / "build")
    status, message = run("build", "-w", str(workbook), "--handbook")
    assert message.endswith("wrote 0, kept 25, removed 0\n")
    assert snapshot(workbook / "build") == before
    assert check(load_workbook(workbook), handbook=True).up_to_date


def test_handbook_follows_any_change_to_a_job_aid(workbook: Path) -> None:
    build(load_workbook(workbook), handbook=True)
    change_coder(workbook)
    report = build(load_workbook(workbook), handbook=True)
    assert HANDBOOK in report.written
    assert titles(workbook / "build" / HANDBOOK) == ["Clinical Coder", *TITLES[1:]]


def test_a_build_without_handbook_keeps_it_and_check_says_when_it_is_stale(
    workbook: Path,
) -> None:
    output = workbook / "build"
    build(load_workbook(workbook), handbook=True)
    handbook = (output / HANDBOOK).read_bytes()

    report = build(load_workbook(workbook))
    assert (report.written, report.removed) == ([], [])
    assert (output / HANDBOOK).read_bytes() == handbook
    assert run("build", "-w", str(workbook), "--check") == (
        0,
        f"all 25 outputs in {output} are up to date\n",
    )

    change_coder(workbook)
    report = build(load_workbook(workbook))
    assert HANDBOOK not in report.written and report.removed == []
    assert (output / HANDBOOK).read_bytes() == handbook  # kept as it was ...
    status, message = run("build", "-w", str(workbook), "--check")
    assert status == 1  # ... and reported until it is rebuilt
    assert message == (
        f"stale: {output / HANDBOOK}\noutputs are out of date: run 'jobdefs build --handbook'\n"
    )
    assert run("build", "-w", str(workbook), "--handbook", "-q")[0] == 0
    assert run("build", "-w", str(workbook), "--check")[0] == 0


def test_check_with_handbook_reports_it_missing(workbook: Path) -> None:
    build(load_workbook(workbook))
    status, message = run("build", "-w", str(workbook), "--check", "--handbook")
    assert status == 1
    assert f"missing: {workbook / 'build' / HANDBOOK}\n" in message


def test_handbook_with_only_is_a_clear_error(workbook: Path) -> None:
    status, message = run("build", "-w", str(workbook), "--handbook", "--only", "coder")
    assert status == 2
    assert message == (
        "Error: --handbook binds every role's job aid, so it cannot be combined with --only\n"
    )
    assert not (workbook / "build").exists()


def test_a_handbook_of_no_roles_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "roles").mkdir()
    (tmp_path / "jobdefs.yaml").write_text("organization: New Clinic\n")
    status, message = run("build", "-w", str(tmp_path), "--handbook")
    assert (status, message) == (
        1,
        "Error: --handbook: there is no role to bind yet; add role files to the roles "
        "folder first (e.g. with 'jobdefs new')\n",
    )


@needs_soffice
def test_handbook_pdf(workbook: Path) -> None:
    report = build(load_workbook(workbook), handbook=True, pdf=True)
    assert {HANDBOOK, HANDBOOK_PDF} <= set(report.written)
    pdf = workbook / "build" / HANDBOOK_PDF
    assert pdf.read_bytes().startswith(b"%PDF")
    again = build(load_workbook(workbook), handbook=True, pdf=True)
    assert again.written == [] and HANDBOOK_PDF not in again.removed
    assert check(load_workbook(workbook), handbook=True).up_to_date


# -- scorecard figures in the job aids ---------------------------------------------------------


@pytest.fixture
def clinic(tmp_path: Path) -> Path:
    """The survey clinic with two answered rounds in answers/surveys/round-{1,2}."""
    root = tmp_path / "clinic"
    shutil.copytree(CLINIC, root)
    loaded = load_workbook(root)
    for label in ("round-1", "round-2"):
        survey_round.make_surveys(
            loaded,
            output_dir=root / "answers",
            round_label=label,
            moment=datetime.datetime(2025, 3, 1),
        )
    one, two = root / "answers" / "surveys" / "round-1", root / "answers" / "surveys" / "round-2"
    fill(
        one / "lab-tech.xlsx",
        {
            ("Physician", "Lab order"): ("Partly met", 3, None),
            ("Phlebotomist", "Labelled specimen"): ("Not met", 2, None),
        },
    )
    fill(one / "phlebotomist.xlsx", {("Physician", "Lab order"): ("Not met", 2, None)})
    fill(
        two / "lab-tech.xlsx",
        {
            ("Physician", "Lab order"): ("Met", 4, None),
            ("Phlebotomist", "Labelled specimen"): ("Met", 5, "=SUM(A1)"),
        },
    )
    fill(two / "phlebotomist.xlsx", {("Physician", "Lab order"): ("Met", 5, None)})
    return root


def section(path: Path, heading: str) -> list[str]:
    """The paragraphs and table rows from a Heading 1 to the next, as a reader sees them."""
    document = docx.Document(str(path))
    seen: list[str] = []
    inside = False
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph) and block.style and block.style.name == "Heading 1":
            inside = block.text == heading
        if not inside:
            continue
        if isinstance(block, Table):
            seen += [" | ".join(c.text for c in row.cells) for row in block.rows]
        elif block.text:
            seen.append(block.text)
    return seen


def test_job_aids_show_the_latest_figures_and_the_change(clinic: Path) -> None:
    answers = clinic / "answers" / "surveys"
    status, _ = run(
        "build",
        "-w",
        str(clinic),
        "--scorecard",
        str(answers / "round-2"),
        "--scorecard-baseline",
        str(answers / "round-1"),
    )
    assert status == 0
    assert section(
        clinic / "build" / "job-aids" / "physician.docx", "How to know you are doing well"
    ) == [
        "How to know you are doing well",
        "Ask the people you serve, now and then, and listen to the answer:",
        "Do you understand your diagnosis?",
        "Do you know what to do at home?",
        "What your customers said",
        "Customer survey round-2: 100% met in 2 of 2 answers (+75 pts since round-1); mean "
        "rating 4.5 of 5.",
        "What you hand over | Answers | Need met | Rating | Since round-1",
        "Lab order\nto Phlebotomist | 1 of 1 | 100% | 5.0 | +100 pts",
        "Lab order\nto Laboratory Technologist | 1 of 1 | 100% | 4.0 | +50 pts",
        "Need met counts Met as 1, Partly met as ½ and Not met as 0. Ratings run from 1 "
        "(poor) to 5 (excellent).",
    ]
    # A role with no feedback questions still shows its figures, under the same heading.
    assert section(
        clinic / "build" / "job-aids" / "phlebotomist.docx", "How to know you are doing well"
    )[1:3] == [
        "What your customers said",
        "Customer survey round-2: 100% met in 1 of 1 answers (+100 pts since round-1); mean "
        "rating 5.0 of 5.",
    ]


def test_without_a_scorecard_the_section_is_the_questions_alone(clinic: Path) -> None:
    assert run("build", "-w", str(clinic), "-q")[0] == 0
    assert section(
        clinic / "build" / "job-aids" / "physician.docx", "How to know you are doing well"
    ) == [
        "How to know you are doing well",
        "Ask the people you serve, now and then, and listen to the answer:",
        "Do you understand your diagnosis?",
        "Do you know what to do at home?",
    ]
    assert (
        section(
            clinic / "build" / "job-aids" / "phlebotomist.docx", "How to know you are doing well"
        )
        == []
    )


def test_a_role_nobody_answered_about_is_written_exactly_as_without_a_scorecard(
    clinic: Path, tmp_path: Path
) -> None:
    plain, scored = tmp_path / "plain", tmp_path / "scored"
    build(load_workbook(clinic), output_dir=plain)
    build(
        load_workbook(clinic),
        output_dir=scored,
        scorecard=[clinic / "answers" / "surveys" / "round-2"],
    )
    assert (plain / "job-aids" / "coder.docx").read_bytes() == (
        scored / "job-aids" / "coder.docx"
    ).read_bytes()
    assert (plain / "job-aids" / "physician.docx").read_bytes() != (
        scored / "job-aids" / "physician.docx"
    ).read_bytes()


def test_scorecard_figures_change_the_job_aids_digest(clinic: Path) -> None:
    answers = [clinic / "answers" / "surveys" / "round-2"]
    build(load_workbook(clinic), scorecard=answers)
    assert check(load_workbook(clinic), scorecard=answers).up_to_date
    stale = check(load_workbook(clinic)).stale
    assert "job-aids/physician.docx" in stale and "job-aids/coder.docx" not in stale


def test_a_build_without_the_scorecard_after_one_with_it_drops_the_figures(
    clinic: Path, tmp_path: Path
) -> None:
    """As builds run, with the build cache: what the scored build remembered must not keep
    the figures in the job aids of the next build, which has none."""
    answers = clinic / "answers" / "surveys" / "round-2"
    assert run("build", "-w", str(clinic), "-q", "--scorecard", str(answers))[0] == 0
    assert run("build", "-w", str(clinic), "-q")[0] == 0
    build(load_workbook(clinic), output_dir=tmp_path / "plain")
    for name in ("physician", "lab-tech", "coder"):
        assert (clinic / "build" / "job-aids" / f"{name}.docx").read_bytes() == (
            tmp_path / "plain" / "job-aids" / f"{name}.docx"
        ).read_bytes(), name


def test_the_documented_variables_are_what_a_scored_context_holds(clinic: Path) -> None:
    from jobdefs.build.run import scorecard_figures

    loaded = load_workbook(clinic)
    figures, _, _ = scorecard_figures(
        loaded,
        [clinic / "answers" / "surveys" / "round-2"],
        [clinic / "answers" / "surveys" / "round-1"],
    )
    assert figures is not None

    def paths(value: Any, prefix: str = "") -> set[str]:
        if isinstance(value, dict):
            return set().union(
                *(paths(v, f"{prefix}.{k}" if prefix else k) for k, v in value.items())
            )
        if isinstance(value, list):
            return {f"{prefix}[]"}.union(
                *(paths(v, f"{prefix}[]") for v in value if isinstance(v, dict | list))
            )
        return {prefix}

    organization = loaded.organization
    found = set().union(
        *(
            paths(job_aid_context(organization, role, figures[role.id]))
            for role in organization.roles
        )
    )
    assert {name for name in found if name.startswith("scorecard")} == {
        name for name in all_template_variables() if name.startswith("scorecard")
    }


def test_a_baseline_without_a_scorecard_is_an_error(clinic: Path) -> None:
    status, message = run(
        "build",
        "-w",
        str(clinic),
        "--scorecard-baseline",
        str(clinic / "answers" / "surveys" / "round-1"),
    )
    assert status == 2
    assert message == (
        "Error: --scorecard-baseline needs --scorecard: the answered surveys "
        "of the latest round, to compare with the baseline\n"
    )
    assert not (clinic / "build" / MANIFEST).exists()


def test_a_handbook_a_plain_build_leaves_stale_says_how_to_mend_it(workbook: Path) -> None:
    assert run("build", "-w", str(workbook), "--handbook", "-q")[0] == 0
    coder = workbook / "roles" / "coder.yaml"
    coder.write_text(coder.read_text().replace("title: Medical Coder", "title: Clinical Coder"))
    status, message = run("build", "-w", str(workbook), "-q")
    assert status == 0
    assert message == (
        "handbook.docx was made by an earlier build and is now out of date: run 'jobdefs "
        "build --handbook' to bring it up to date\n"
    )
    status, message = run("build", "-w", str(workbook), "--check")
    assert status == 1
    assert message.endswith(
        "stale: " + str(workbook / "build" / HANDBOOK) + "\n"
        "outputs are out of date: run 'jobdefs build --handbook'\n"
    )
    assert run("build", "-w", str(workbook), "--handbook", "-q") == (0, "")
    assert run("build", "-w", str(workbook), "--check", "-q")[0] == 0
