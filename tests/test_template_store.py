"""Compiled templates kept per user: the same documents, without docxtpl or Jinja's compiler.

A template compiled once is taken from the user's cache folder the next time its bytes
are seen; a damaged, foreign or unwritable store only costs the time it would save, and
nothing of it is ever kept in an output folder.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from jobdefs.cli import cli
from jobdefs.documents import job_aid, template_files, word_template
from jobdefs.documents.template_store import TemplateStore
from jobdefs.errors import TemplateError
from jobdefs.output import CACHE_FOLDER
from jobdefs.workbook.load import load_workbook

HERE = Path(__file__).parent
CHAIN = HERE / "data" / "chain"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "user-cache"
    monkeypatch.setenv("JOBDEFS_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def context() -> dict[str, object]:
    organization = load_workbook(CHAIN).organization
    return job_aid.job_aid_context(organization, organization.roles[0])


def template_bytes() -> bytes:
    return template_files.default_template_path().read_bytes()


def no_clean_up(xml: str) -> tuple[str, str]:
    raise AssertionError("the template was cleaned up again instead of taken from the store")


def test_a_template_compiled_before_comes_from_the_store(
    store: Path, context: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled = word_template.JobAidTemplate(template_bytes(), "job-aid.docx")
    first = compiled.render(context)
    assert list((store / "templates").glob("*.json")), "nothing was kept"
    assert list((store / "jinja").iterdir()), "no compiled code was kept"
    monkeypatch.setattr(word_template, "template_source", no_clean_up)
    again = word_template.JobAidTemplate(template_bytes(), "job-aid.docx")
    assert again.render(context) == first
    assert again.variables == compiled.variables


def test_other_template_bytes_are_compiled_afresh(store: Path, context: dict[str, object]) -> None:
    word_template.JobAidTemplate(template_bytes(), "job-aid.docx")
    edited = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(template_bytes())) as source,
        zipfile.ZipFile(edited, "w") as target,
    ):
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "word/document.xml":
                data = data.replace(b"{{ role.title }}", b"{{ role.title }} (edited)", 1)
            target.writestr(item, data)
    rendered = word_template.JobAidTemplate(edited.getvalue(), "job-aid.docx").render(context)
    text = zipfile.ZipFile(io.BytesIO(rendered)).read("word/document.xml")
    assert b"(edited)" in text
    assert len(list((store / "templates").glob("*.json"))) == 2


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00\xff not json",
        b"[]",
        b'{"word/document.xml": 7}',
        b'{"word/document.xml": ["", "{{ 7*7 }}", "no", []]}',
    ],
)
def test_a_damaged_store_entry_is_compiled_afresh(
    store: Path, context: dict[str, object], content: bytes
) -> None:
    first = word_template.JobAidTemplate(template_bytes(), "job-aid.docx").render(context)
    [entry] = (store / "templates").glob("*.json")
    entry.write_bytes(content)
    assert word_template.JobAidTemplate(template_bytes(), "job-aid.docx").render(context) == first
    assert json.loads(entry.read_bytes())  # and replaced by a sound one


def test_damaged_compiled_code_is_compiled_afresh(store: Path, context: dict[str, object]) -> None:
    first = word_template.JobAidTemplate(template_bytes(), "job-aid.docx").render(context)
    for entry in (store / "jinja").iterdir():
        entry.write_bytes(entry.read_bytes()[:20])
    assert word_template.JobAidTemplate(template_bytes(), "job-aid.docx").render(context) == first


def test_a_store_that_cannot_be_written_costs_only_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, context: dict[str, object]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("JOBDEFS_CACHE_DIR", str(blocker / "jobdefs"))
    first = word_template.JobAidTemplate(template_bytes(), "job-aid.docx").render(context)
    assert word_template.JobAidTemplate(template_bytes(), "job-aid.docx").render(context) == first


def test_the_store_is_off_with_the_cache(
    store: Path, monkeypatch: pytest.MonkeyPatch, context: dict[str, object]
) -> None:
    monkeypatch.setenv("JOBDEFS_NO_CACHE", "1")
    assert TemplateStore.open(template_bytes()) is None
    word_template.JobAidTemplate(template_bytes(), "job-aid.docx").render(context)
    assert not store.exists()


def test_a_stored_template_still_answers_for_its_variables(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    word_template.JobAidTemplate(template_bytes(), "job-aid.docx")
    monkeypatch.setattr(word_template, "template_source", no_clean_up)
    with pytest.raises(TemplateError, match=r"uses '[a-z_]+', which a job aid does not have"):
        word_template.JobAidTemplate(template_bytes(), "job-aid.docx", variables={"organization"})


def test_a_build_keeps_no_compiled_template_in_the_output_folder(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(template_files, "_compiled", {})  # as in a new process
    output = tmp_path / "out"
    for _ in range(2):  # once to fill the store, once to use it
        result = CliRunner().invoke(cli, ["build", "-w", str(CHAIN), "-o", str(output), "-q"])
        assert result.exit_code == 0, result.output
    kept = sorted(p.name for p in (output / CACHE_FOLDER).iterdir())
    assert kept[:2] == [".gitignore", "outputs.json"]
    assert kept[2:] and all(re.fullmatch(r"roles-[0-9a-f]\.json", name) for name in kept[2:])
    assert list((store / "templates").glob("*.json"))
