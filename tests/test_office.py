"""Every output opens in a real office suite: LibreOffice converts each one to PDF.

Runs where `soffice` is installed (CI installs LibreOffice); a failed conversion fails.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from libreoffice import convert, needs_pdftotext, needs_soffice, pdf_text

from jobdefs.build.run import build
from jobdefs.workbook.load import load_workbook

REPO = Path(__file__).parent.parent
CHAIN = Path(__file__).parent / "data" / "chain"
HOSTILE = (
    '=HYPERLINK("http://example.invalid","click") {{ 7*7 }} {%p if x %} <b>&amp;</b> '
    "\"quotes\" 'single' café 😀 مرحبا\nsecond line\twith a tab"
)

pytestmark = needs_soffice


def convert_all(folder: Path, profile: Path) -> list[Path]:
    """Convert every .docx and .xlsx below `folder`; return those without a PDF."""
    documents = sorted(p for p in folder.rglob("*") if p.suffix in (".docx", ".xlsx"))
    assert documents
    out = folder.parent / f"{folder.name}-pdf"
    for suffix in (".docx", ".xlsx"):
        convert([p for p in documents if p.suffix == suffix], out, profile)
    # Department workbooks share names with nothing else, so one folder holds every PDF.
    return [
        p
        for p in documents
        if not (out / p.with_suffix(".pdf").name).is_file()
        or (out / p.with_suffix(".pdf").name).stat().st_size < 1000
    ]


def test_every_output_of_the_example_hospital_converts(tmp_path: Path) -> None:
    output = tmp_path / "example"
    build(load_workbook(REPO), output_dir=output)
    assert convert_all(output, tmp_path / "profile") == []


@needs_pdftotext
def test_the_example_matrix_prints_without_a_blank_page(tmp_path: Path) -> None:
    output = tmp_path / "example"
    build(load_workbook(REPO), output_dir=output)
    convert([output / "internal-customer-matrix.xlsx"], tmp_path, tmp_path / "profile")
    text = pdf_text(tmp_path / "internal-customer-matrix.pdf")
    pages = text.split("\f")[:-1]  # every page ends with a form feed
    assert all(page.strip() for page in pages), [n for n, p in enumerate(pages, 1) if not p.strip()]
    # Every page is numbered and says whose it is; the Matrix sheet runs across pages, the
    # suppliers' titles repeated down the left of each, the customers' across the top.
    assert all(f"Page {n} of {len(pages)}" in page for n, page in enumerate(pages, 1))
    assert all(page.lstrip().startswith("Riverbend Community Hospital") for page in pages)
    matrix_pages = [page for page in pages if page.rstrip().split("\n")[0].endswith("Matrix")]
    assert len(matrix_pages) > 2
    assert all("Chief Medical Officer" in page for page in matrix_pages[:2])


def test_every_output_of_a_hostile_workbook_converts(tmp_path: Path) -> None:
    root = tmp_path / "hostile"
    shutil.copytree(CHAIN, root)
    quoted = HOSTILE.replace("\\", "\\\\").replace('"', '\\"')
    quoted = quoted.replace("\n", "\\n").replace("\t", "\\t")
    for path in (root / "roles").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        # The rest of the original line becomes a YAML comment.
        text = text.replace("purpose: ", f'purpose: "{quoted}" # was: ', 1)
        if path.stem == "coder":
            first_line = quoted.split("\\n")[0]
            text = text.replace("title: Medical Coder", f'title: "{first_line}"')
        path.write_text(text, encoding="utf-8")
    workbook = load_workbook(root)
    assert not workbook.errors, workbook.errors
    output = tmp_path / "out"
    build(workbook, output_dir=output)
    assert convert_all(output, tmp_path / "profile") == []


def test_a_template_saved_by_libreoffice_still_builds(tmp_path: Path) -> None:
    """LibreOffice writes the quotes inside tags as &apos;: the template must still work."""
    from jobdefs.documents.template_files import default_template_path
    from jobdefs.documents.template_lint import lint_template_file

    source = tmp_path / "job-aid.docx"
    shutil.copy(default_template_path(), source)
    saved = tmp_path / "saved"
    convert([source], saved, tmp_path / "profile", to="docx:MS Word 2007 XML")
    template = saved / "job-aid.docx"
    assert b"&apos;" in _part(template, "word/document.xml")  # what made it fail
    assert lint_template_file(template) == []
    workbook = tmp_path / "workbook"
    shutil.copytree(CHAIN, workbook)
    (workbook / "templates").mkdir(exist_ok=True)
    shutil.copy(template, workbook / "templates" / "job-aid.docx")
    report = build(load_workbook(workbook))
    aid = workbook / "build" / "job-aids" / "phlebotomist.docx"
    assert aid.is_file() and "job-aids/phlebotomist.docx" in report.written
    text = _part(aid, "word/document.xml").decode()
    assert "&apos;" not in text and "{{" not in text


def _part(docx_file: Path, name: str) -> bytes:
    import zipfile

    with zipfile.ZipFile(docx_file) as archive:
        return archive.read(name)
