"""The handbook: every job aid in one document, reopened with python-docx and LibreOffice."""

from __future__ import annotations

import io
import re
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Inches
from docx.text.paragraph import Paragraph
from libreoffice import needs_soffice

from jobdefs.documents import job_aid, template_files
from jobdefs.documents import pdf as to_pdf
from jobdefs.documents.handbook import Handbook, render_handbook
from jobdefs.documents.job_aid import job_aid_context
from jobdefs.documents.template_files import default_template_path
from jobdefs.documents.word_template import JobAidTemplate
from jobdefs.model import Organization
from jobdefs.workbook.load import load_workbook

CHAIN = Path(__file__).parent / "data" / "chain"
TITLES = ["Medical Coder", "Laboratory Technologist", "Phlebotomist", "Physician"]
DEPARTMENTS = ["Health Information", "Laboratory", "Medicine"]
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="module")
def chain() -> Organization:
    return load_workbook(CHAIN).organization


@pytest.fixture(scope="module")
def template() -> JobAidTemplate:
    return template_files.load_job_aid_template(default_template_path())


def make(organization: Organization, template: JobAidTemplate, printable: bool = False) -> Handbook:
    contexts = {role.id: job_aid_context(organization, role) for role in organization.roles}
    return render_handbook(organization, template, contexts, printable=printable)


def paragraphs(data: bytes) -> list[tuple[str, str]]:
    """(style id, text) of every body paragraph, outside tables, as a reader meets them."""
    document = docx.Document(io.BytesIO(data))
    return [
        (block.style.style_id if block.style else "", block.text)
        for block in document.iter_inner_content()
        if isinstance(block, Paragraph)
    ]


def body(data: bytes) -> Any:
    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return etree.fromstring(archive.read("word/document.xml"))


def instructions(data: bytes) -> list[str]:
    return [" ".join((t.text or "").split()) for t in body(data).iter(f"{W}instrText")]


# -- what a reader sees ------------------------------------------------------------------


def test_every_job_aid_in_department_order(chain: Organization, template: JobAidTemplate) -> None:
    seen = paragraphs(make(chain, template).docx)
    assert [text for style, text in seen if style == "Title"] == TITLES
    assert [text for style, text in seen if style == "JobdefsHandbookDepartment"] == DEPARTMENTS
    assert [(d, [r.title for r in roles]) for d, roles in chain.roles_by_department()] == [
        ("Health Information", ["Medical Coder"]),
        ("Laboratory", ["Laboratory Technologist", "Phlebotomist"]),
        ("Medicine", ["Physician"]),
    ]


def test_the_cover_names_the_organization_and_its_mission(
    chain: Organization, template: JobAidTemplate
) -> None:
    seen = paragraphs(make(chain, template).docx)
    assert seen[:4] == [
        ("JobdefsHandbookTitle", "Chain Test Hospital"),
        ("JobdefsHandbookSubtitle", "Job aids for every role"),
        ("JobdefsHandbookMission", "Every patient leaves knowing what to do next."),
        (
            "JobdefsHandbookNote",
            "4 roles in 3 departments: what each one makes, for whom, and what they need from it.",
        ),
    ]


def test_the_contents_list_every_role_with_a_page_reference_and_say_how_to_fill_them(
    chain: Organization, template: JobAidTemplate
) -> None:
    data = make(chain, template).docx
    contents = [(style, text) for style, text in paragraphs(data) if style in ("TOC1", "TOC2")]
    # Each line ends in a tab to its page number, a field that Word and LibreOffice fill in.
    assert contents == [
        ("TOC1", "Health Information\t"),
        ("TOC2", "Medical Coder\t"),
        ("TOC1", "Laboratory\t"),
        ("TOC2", "Laboratory Technologist\t"),
        ("TOC2", "Phlebotomist\t"),
        ("TOC1", "Medicine\t"),
        ("TOC2", "Physician\t"),
    ]
    fields = instructions(data)
    assert not any(f.startswith(("TOC", "TC ")) for f in fields)
    assert [f for f in fields if f.startswith("PAGEREF")] == [
        f"PAGEREF jobdefs_{kind}_{n} \\h"
        for kind, n in [
            ("department", 0),
            ("role", 0),
            ("department", 1),
            ("role", 1),
            ("role", 2),
            ("department", 2),
            ("role", 3),
        ]
    ]
    # Word fills them in on opening; where it updates no fields, the document says what to do.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert b'<w:updateFields w:val="true"/>' in archive.read("word/settings.xml")
    after = [text for style, text in paragraphs(data) if style == "JobdefsHandbookContentsNote"]
    assert after == [
        "Page numbers missing? Word fills them in when the document is opened for editing: in "
        "Protected View, choose Enable Editing, then press Ctrl+A and F9."
    ]


def test_the_printable_handbook_leaves_out_how_to_fill_in_the_page_numbers(
    chain: Organization, template: JobAidTemplate
) -> None:
    made = make(chain, template, printable=True)
    assert made.printable is not None
    assert instructions(made.printable) == instructions(made.docx)
    assert paragraphs(made.printable) == [
        (style, text)
        for style, text in paragraphs(made.docx)
        if style != "JobdefsHandbookContentsNote"
    ]


def test_each_job_aid_reads_as_it_does_on_its_own(
    chain: Organization, template: JobAidTemplate
) -> None:
    bound = paragraphs(make(chain, template).docx)
    for role in chain.roles:
        alone = paragraphs(job_aid.render_job_aid(chain, role, template))
        starts = [i for i in range(len(bound)) if bound[i : i + len(alone)] == alone]
        assert len(starts) == 1, role.id


def test_each_job_aid_keeps_its_own_header_and_footer(
    chain: Organization, template: JobAidTemplate
) -> None:
    document = docx.Document(io.BytesIO(make(chain, template).docx))
    sections = document.sections
    assert len(sections) == 1 + len(TITLES)
    assert sections[0].header.is_linked_to_previous  # the cover has none
    headers = [" ".join(p.text for p in s.header.paragraphs) for s in sections[1:]]
    footers = [" ".join(p.text for p in s.footer.paragraphs) for s in sections[1:]]
    assert headers == [f"Chain Test Hospital\tJob aid: {title}" for title in TITLES]
    assert [f.split()[1] for f in footers] == [
        "roles/coder.yaml",
        "roles/lab-tech.yaml",
        "roles/phlebotomist.yaml",
        "roles/physician.yaml",
    ]


def test_rendering_twice_gives_the_same_bytes(
    chain: Organization, template: JobAidTemplate
) -> None:
    assert make(chain, template).docx == make(chain, template).docx


# -- ids that must stay unique in one document ---------------------------------------------


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00"))
        + chunk(b"IEND", b"")
    )


def test_bookmarks_links_and_pictures_of_a_custom_template_stay_unique(
    chain: Organization, tmp_path: Path
) -> None:
    document = docx.Document()
    picture = tmp_path / "logo.png"
    picture.write_bytes(tiny_png())
    document.add_picture(str(picture), width=Inches(0.5))
    purpose = document.add_paragraph("Purpose: ")
    purpose._p.append(parse_xml(f'<w:bookmarkStart {nsdecls("w")} w:id="0" w:name="why"/>'))
    purpose.add_run("{{ role.purpose }}")
    purpose._p.append(parse_xml(f'<w:bookmarkEnd {nsdecls("w")} w:id="0"/>'))
    link = document.add_paragraph()
    link._p.append(
        parse_xml(
            f'<w:hyperlink {nsdecls("w")} w:anchor="why">'
            "<w:r><w:t>See why</w:t></w:r></w:hyperlink>"
        )
    )
    document.add_paragraph("{{ role.title }}", "Title")
    buffer = io.BytesIO()
    document.save(buffer)

    data = make(chain, JobAidTemplate(buffer.getvalue(), "custom.docx")).docx
    root = body(data)
    starts = list(root.iter(f"{W}bookmarkStart"))
    names = [b.get(f"{W}name") for b in starts]
    ids = [b.get(f"{W}id") for b in starts]
    assert len(set(names)) == len(names) and len(set(ids)) == len(ids)
    assert sorted(b.get(f"{W}id") for b in root.iter(f"{W}bookmarkEnd")) == sorted(ids)
    assert sum(1 for name in names if name.startswith("why")) == len(TITLES)
    anchors = [link.get(f"{W}anchor") for link in root.iter(f"{W}hyperlink")]
    assert set(anchors) <= set(names)
    assert sum(1 for a in anchors if a.startswith("why")) == len(TITLES)  # each to its own
    drawing = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"
    pictures = [d.get("id") for d in root.iter(drawing)]
    assert len(pictures) == len(TITLES) == len(set(pictures))
    assert [text for style, text in paragraphs(data) if style == "Title"] == TITLES


# -- LibreOffice -----------------------------------------------------------------------


@needs_soffice
def test_libreoffice_shows_the_contents_of_the_docx_with_page_numbers(
    chain: Organization, template: JobAidTemplate, tmp_path: Path
) -> None:
    source = tmp_path / "handbook.docx"
    source.write_bytes(make(chain, template).docx)  # as a person opens it, fields unupdated
    [pdf] = to_pdf.convert_to_pdf([source], tmp_path / "pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed")
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = {
        title: int(number)
        for title, number in re.findall(r"^(.+?)\.{4,}\s*(\d+)$", text, re.MULTILINE)
    }
    assert list(pages) == [
        "Health Information",
        "Medical Coder",
        "Laboratory",
        "Laboratory Technologist",
        "Phlebotomist",
        "Medicine",
        "Physician",
    ]
    assert pages["Medical Coder"] == 3  # after the cover and the contents
    assert pages["Medical Coder"] < pages["Laboratory Technologist"] < pages["Phlebotomist"]
    assert pages["Phlebotomist"] < pages["Physician"]
    assert re.findall(r"^JOB AID\s+(.+)$", text, re.MULTILINE) == TITLES
