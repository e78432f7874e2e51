"""Word job aids: reopen what was written and read it the way a person would."""

from __future__ import annotations

import datetime
import io
import runpy
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Inches, Mm
from docx.table import Table
from docx.text.paragraph import Paragraph
from docxtpl import DocxTemplate
from libreoffice import needs_soffice

from jobdefs.documents import pdf as to_pdf
from jobdefs.documents import template_variables
from jobdefs.documents.job_aid import job_aid_context, render_job_aid, render_job_aids
from jobdefs.documents.ooxml import ZIP_EPOCH, read_parts
from jobdefs.documents.template_files import (
    default_template_path,
    job_aid_template_path,
    load_job_aid_template,
)
from jobdefs.documents.template_variables import TEMPLATE_VARIABLES
from jobdefs.documents.word_template import JobAidTemplate
from jobdefs.errors import OutputError, TemplateError
from jobdefs.model import Organization
from jobdefs.workbook.load import Workbook, load_workbook

REPO = Path(__file__).parent.parent
SMALL_CLINIC = Path(__file__).parent / "data" / "small-clinic"


def sample_clinic() -> Path:
    """The tests' small clinic: eight roles, three external customers, one warning."""
    return SMALL_CLINIC


MOMENT = datetime.datetime(2024, 5, 1, 9, 30)

HOSTILE_ORG = """\
organization: 'Ünïcode & "Care" <Clinic>'
mission: "We mean it: {{ 7*7 }} {% raw %}"
external_customers:
  patient:
    name: Patient 🙂
"""
HOSTILE_ROLE = """\
title: "{{ 7*7 }}"
department: '=HYPERLINK("x")'
purpose: "<b>&amp;</b> — café, naïve, 'quoted' and \\"double\\""
revision: "1.10"
products:
  - name: "Plan 🩺 خطة الرعاية"
    description: "{%p if true %} stays text"
    customers:
      - external: patient
        need: "First line\\nSecond line\\twith a tab"
        standard: "مرحبا بكم في العيادة"
moments_of_truth:
  - moment: "}} {{ and {# #}"
    practice: "@SUM(A1) +1 -1"
feedback_questions:
  - "Did we meet your need? 👍"
"""
HOSTILE_TEXTS = [
    'Ünïcode & "Care" <Clinic>',
    "We mean it: {{ 7*7 }} {% raw %}",
    "{{ 7*7 }}",
    '=HYPERLINK("x")',
    "<b>&amp;</b> — café, naïve, 'quoted' and \"double\"",
    "Plan 🩺 خطة الرعاية",
    "{%p if true %} stays text",
    "First line\nSecond line\twith a tab",
    "مرحبا بكم في العيادة",
    "}} {{ and {# #}",
    "@SUM(A1) +1 -1",
    "Did we meet your need? 👍",
    "Patient 🙂",
]


# -- reading a .docx back -------------------------------------------------------------


@dataclass
class Seen:
    """What a person sees in a Word file: body paragraphs and tables, header, footer."""

    paragraphs: list[tuple[str, str]] = field(default_factory=list)  # (style, text)
    tables: list[list[list[str]]] = field(default_factory=list)
    header: str = ""
    footer: str = ""

    def headings(self, level: int = 1) -> list[str]:
        return [text for style, text in self.paragraphs if style == f"Heading {level}"]

    def styled(self, style: str) -> list[str]:
        return [text for s, text in self.paragraphs if s == style]

    @property
    def text(self) -> str:
        cells = ["\n".join(cell for cell in row) for table in self.tables for row in table]
        return "\n".join([self.header, *(t for _, t in self.paragraphs), *cells, self.footer])

    def table_with(self, header: str) -> list[list[str]]:
        return next(table for table in self.tables if table[0][0] == header)


def read_docx(data: bytes) -> Seen:
    document = docx.Document(io.BytesIO(data))
    seen = Seen()
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            seen.paragraphs.append((block.style.name if block.style else "", block.text))
        elif isinstance(block, Table):
            seen.tables.append([[cell.text for cell in row.cells] for row in block.rows])
    section = document.sections[0]
    seen.header = "\n".join(p.text for p in section.header.paragraphs)
    seen.footer = "\n".join(p.text for p in section.footer.paragraphs)
    return seen


def make_template(path: Path, *paragraphs: str) -> Path:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def variable_paths(value: Any, prefix: str = "") -> Iterator[str]:
    """Every variable in a context, named the way TEMPLATE_VARIABLES names it."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from variable_paths(item, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        yield f"{prefix}[]"
        for item in value:
            if isinstance(item, (dict, list)):
                yield from variable_paths(item, f"{prefix}[]")
    else:
        assert type(value) in (str, int, bool), (prefix, value)
        yield prefix


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clinic() -> Organization:
    workbook = load_workbook(sample_clinic())
    assert not workbook.errors
    return workbook.organization


@pytest.fixture(scope="module")
def template() -> JobAidTemplate:
    return load_job_aid_template(default_template_path())


@pytest.fixture
def hostile(make_workbook: Callable[..., Path]) -> Workbook:
    root = make_workbook({"jobdefs.yaml": HOSTILE_ORG, "roles/odd.yaml": HOSTILE_ROLE})
    workbook = load_workbook(root)
    assert not workbook.errors, [f.as_text() for f in workbook.errors]
    return workbook


@pytest.fixture
def bare(make_workbook: Callable[..., Path]) -> Workbook:
    """A role with nothing optional, in an organization without external customers."""
    root = make_workbook(
        {
            "jobdefs.yaml": "organization: Tiny Clinic\n",
            "roles/cleaner.yaml": (
                "title: Cleaner\ndepartment: Housekeeping\npurpose: Clean rooms, fast.\n"
                "products:\n  - name: Clean room\n    customers:\n"
                "      - role: nurse\n        need: A room ready for the next patient.\n"
            ),
            "roles/nurse.yaml": (
                "title: Nurse\ndepartment: Ward\npurpose: Care.\nproducts:\n"
                "  - name: Care plan\n    customers:\n      - role: cleaner\n"
                "        need: To know which rooms come free.\n"
            ),
        }
    )
    workbook = load_workbook(root)
    assert not workbook.errors, [f.as_text() for f in workbook.errors]
    return workbook


# -- the context --------------------------------------------------------------------------


def test_context_variables_are_the_documented_ones(clinic: Organization, hostile: Workbook) -> None:
    organizations = [clinic, hostile.organization]
    found: set[str] = set()
    for organization in organizations:
        for role in organization.roles:
            found |= set(variable_paths(job_aid_context(organization, role)))
    assert found == set(TEMPLATE_VARIABLES)
    assert all(meaning.strip() for meaning in TEMPLATE_VARIABLES.values())


def test_default_template_uses_only_documented_variables(template: JobAidTemplate) -> None:
    assert template.variables <= template_variables.TOP_LEVEL_VARIABLES
    assert {"role", "products", "line_of_sight", "has_gaps"} <= template.variables


def test_context_of_a_role_with_a_gap(clinic: Organization) -> None:
    context = job_aid_context(clinic, clinic.role("lab-technician"))
    assert context["role"]["reports_to"] == "Practice Manager"
    assert context["gaps"] == [
        {
            "product": "Lab requisition",
            "supplier": "Physician",
            "supplier_department": "Clinical",
            "instead": "Lab order",
        }
    ]
    assert context["has_gaps"] and context["has_handoffs"]
    chains = {line["customer"]: line["chain"] for line in context["lines_of_sight"]}
    assert chains["Patient"] == "Laboratory Technician → Labelled blood specimen → Patient"
    assert chains["Family and carers"] == (
        "Laboratory Technician → Test result report → Physician → "
        "Diagnosis and treatment plan → Family and carers"
    )
    assert context["no_line_of_sight"] == ""
    assert not context["has_feedback_questions"]


# -- what a person sees -------------------------------------------------------------------


def test_job_aid_reads_as_a_document(clinic: Organization, template: JobAidTemplate) -> None:
    seen = read_docx(render_job_aid(clinic, clinic.role("lab-technician"), template, MOMENT))

    assert seen.styled("Title") == ["Laboratory Technician"]
    assert seen.headings() == [
        "Why this job exists",
        "What you produce and why it matters",
        "Your hand-offs",
        "Where your work leads",
        "Moments of truth",
        "Sign-off",
    ]
    assert seen.headings(2) == [
        "Labelled blood specimen",
        "Test result report",
        "Who supplies you",
        "Whom you supply",
        "Open gaps",
    ]
    assert seen.header == "Hillcrest Community Clinic\tJob aid: Laboratory Technician"
    assert seen.footer == "Source: roles/lab-technician.yaml\tPage 1 of 1"

    facts = seen.table_with("Organization")
    assert facts == [
        ["Organization", "Hillcrest Community Clinic"],
        ["Department", "Laboratory"],
        ["Reports to", "Practice Manager"],
    ]
    why = seen.table_with("Our mission")
    assert why[1] == [
        "Your part in it",
        "Return results physicians can rely on, fast enough to act on them.",
    ]
    customers = [
        t for t in seen.tables if t[0] == ["Customer", "What they need from it", "Standard"]
    ]
    assert customers[1][1:] == [
        [
            "Physician\nClinical",
            "Correct results to decide on a treatment.",
            "Routine results within a working day; critical results phoned at once.",
        ]
    ]
    assert customers[0][1][2] == "—"  # no standard set
    suppliers = seen.table_with("From")
    assert [
        "Physician\nClinical",
        "Lab order",
        "The tests wanted and why, with the patient identified twice.",
        "Sent electronically with the reason for the test.",
    ] in suppliers
    assert seen.table_with("The moment")[1][0] == "Taking the blood sample"
    assert seen.styled("List Bullet") == [
        "Lab requisition, expected from Physician. What their role file lists for you: Lab order",
        "Family and carers: 2 hand-offs away",
        "Insurer: 4 hand-offs away",
    ]
    # The chain to the patient in full; the other external customers by distance only.
    assert seen.styled("Line Chain") == [
        "Laboratory Technician → Labelled blood specimen → Patient",
    ]
    assert seen.styled("Line Label") == [
        "Patient: you hand your work to them yourself",
        "Your work also reaches",
    ]
    sign_off = next(table for table in seen.tables if table[0] == ["", "", ""])
    assert sign_off == [
        ["", "", ""],
        ["Employee, name and signature", "", "Date"],
        ["", "", ""],
        ["Manager (Practice Manager), name and signature", "", "Date"],
    ]
    assert "{" not in seen.text and "}" not in seen.text


def test_page_numbers_are_fields_and_header_rows_repeat(
    clinic: Organization, template: JobAidTemplate
) -> None:
    parts = read_parts(render_job_aid(clinic, clinic.role("physician"), template))
    footer = next(v.decode() for k, v in parts.items() if k.startswith("word/footer"))
    assert " PAGE " in footer and " NUMPAGES " in footer
    document = docx.Document(io.BytesIO(render_job_aid(clinic, clinic.role("physician"))))
    data_tables = [t for t in document.tables if t.style and t.style.name == "Job Aid Table"]
    assert data_tables
    for table in data_tables:
        first_row = table.rows[0]._tr
        assert first_row.trPr is not None
        assert first_row.trPr.find(qn("w:tblHeader")) is not None
        assert all(
            run.bold for cell in table.rows[0].cells for p in cell.paragraphs for run in p.runs
        )


def test_empty_sections_are_left_out(bare: Workbook, template: JobAidTemplate) -> None:
    organization = bare.organization
    seen = read_docx(render_job_aid(organization, organization.role("cleaner"), template))
    assert seen.headings() == [
        "Why this job exists",
        "What you produce and why it matters",
        "Your hand-offs",
        "Where your work leads",
        "Sign-off",
    ]
    assert seen.headings(2) == ["Clean room", "Who supplies you", "Whom you supply"]
    assert seen.table_with("Organization") == [
        ["Organization", "Tiny Clinic"],
        ["Department", "Housekeeping"],
    ]
    assert [row[0] for row in seen.table_with("Your part in it")] == ["Your part in it"]
    assert seen.footer == "Source: roles/cleaner.yaml\tPage 1 of 1"
    no_sight = job_aid_context(organization, organization.role("cleaner"))["no_line_of_sight"]
    assert no_sight.startswith("Tiny Clinic has not yet named")
    assert no_sight in seen.styled("Normal")
    assert not seen.styled("Line Chain") and not seen.styled("List Bullet")
    assert "{" not in seen.text and "}" not in seen.text


def test_no_line_of_sight_is_said_plainly(
    make_workbook: Callable[..., Path], template: JobAidTemplate
) -> None:
    root = make_workbook(
        {
            "jobdefs.yaml": "organization: Tiny Clinic\nexternal_customers:\n"
            "  patient:\n    name: Patient\n  payer:\n    name: Insurer\n",
            "roles/clerk.yaml": "title: Clerk\ndepartment: Office\npurpose: File.\nproducts:\n"
            "  - name: Filed letter\n    customers:\n      - role: clerk\n        need: Order.\n",
            "roles/nurse.yaml": "title: Nurse\ndepartment: Ward\npurpose: Care.\nproducts:\n"
            "  - name: Care\n    customers:\n      - external: patient\n        need: Care.\n",
        }
    )
    organization = load_workbook(root).organization
    seen = read_docx(render_job_aid(organization, organization.role("clerk"), template))
    sentence = (
        "No chain of hand-offs written down so far leads from your work to Patient or Insurer."
    )
    assert any(text.startswith(sentence) for text in seen.styled("Normal"))
    assert not seen.styled("Line Chain")


def test_role_text_is_data_never_template(hostile: Workbook, template: JobAidTemplate) -> None:
    organization = hostile.organization
    data = render_job_aid(organization, organization.role("odd"), template, MOMENT)
    seen = read_docx(data)
    for text in HOSTILE_TEXTS:
        assert text in seen.text, text
    assert seen.styled("Title") == ["{{ 7*7 }}"]
    assert "49" not in seen.text
    assert seen.header == 'Ünïcode & "Care" <Clinic>\tJob aid: {{ 7*7 }}'
    assert seen.footer == "Source: roles/odd.yaml · revision 1.10\tPage 1 of 1"
    need = seen.table_with("Customer")[1][1]
    assert need == "First line\nSecond line\twith a tab"
    body = read_parts(data)["word/document.xml"].decode()
    assert "First line</w:t><w:br/>" in body and "<w:tab/>" in body
    assert "&lt;b&gt;&amp;amp;&lt;/b&gt;" in body


# -- the fast renderer against docxtpl -----------------------------------------------------


def docxtpl_render(path: Path, context: dict[str, Any]) -> bytes:
    document = DocxTemplate(str(path))
    document.render(context, autoescape=True)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_fast_render_shows_what_docxtpl_shows(
    clinic: Organization, hostile: Workbook, template: JobAidTemplate
) -> None:
    cases = [(clinic, role) for role in clinic.roles[:3]]
    cases.append((hostile.organization, hostile.organization.role("odd")))
    for organization, role in cases:
        context = job_aid_context(organization, role)
        fast = read_docx(template.render(context, MOMENT))
        slow = read_docx(docxtpl_render(default_template_path(), context))
        assert fast == slow, role.id


def test_rendering_is_deterministic(clinic: Organization, template: JobAidTemplate) -> None:
    role = clinic.role("receptionist")
    first = render_job_aid(clinic, role, template, MOMENT)
    again = render_job_aid(clinic, role, JobAidTemplate.from_file(default_template_path()), MOMENT)
    assert first == again
    assert render_job_aid(clinic, role, template, ZIP_EPOCH) != first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert archive.testzip() is None
        assert {info.date_time for info in archive.infolist()} == {(2024, 5, 1, 9, 30, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert "<dc:title>Receptionist</dc:title>" in core
    assert "2024-05-01T09:30:00Z" in core


def test_render_job_aids_names_every_role(clinic: Organization) -> None:
    documents = render_job_aids(clinic, moment=MOMENT)
    assert list(documents) == [f"job-aids/{role.id}.docx" for role in clinic.roles]
    only = render_job_aids(clinic, only=["nurse", "physician"], moment=MOMENT)
    assert list(only) == ["job-aids/nurse.docx", "job-aids/physician.docx"]
    assert only["job-aids/nurse.docx"] == documents["job-aids/nurse.docx"]


def test_the_default_template_is_what_the_script_makes() -> None:
    script = runpy.run_path(str(REPO / "tools" / "make_job_aid_template.py"))
    assert script["build"]() == (REPO / "templates" / "job-aid.docx").read_bytes(), (
        "templates/job-aid.docx is out of date: run python tools/make_job_aid_template.py"
    )


def test_default_template_uses_real_styles() -> None:
    document = docx.Document(str(default_template_path()))
    used = {p.style.name for p in document.paragraphs if p.style is not None}
    assert {"Title", "Heading 1", "Heading 2", "List Bullet"} <= used
    assert {t.style.name for t in document.tables if t.style} >= {"Job Aid Table"}
    section = document.sections[0]
    assert section.left_margin is not None and section.right_margin is not None
    # Letter paper, with a text block that also leaves fair margins on A4 (210 mm wide).
    assert section.page_width == Inches(8.5)
    text_width = Inches(8.5) - section.left_margin - section.right_margin
    assert (Mm(210) - text_width) / 2 >= Mm(17)


# -- templates a workbook brings -----------------------------------------------------------


def test_a_workbook_template_overrides_the_default(
    make_workbook: Callable[..., Path], tmp_path: Path
) -> None:
    root = make_workbook({}, copy_of=sample_clinic())
    make_template(root / "templates" / "job-aid.docx", "Custom aid for {{ role.title }}")
    workbook = load_workbook(root)
    assert job_aid_template_path(workbook.templates_dir) == root / "templates" / "job-aid.docx"
    assert job_aid_template_path(tmp_path / "nothing") == default_template_path()
    documents = render_job_aids(workbook.organization, workbook.templates_dir, ["nurse"], root=root)
    seen = read_docx(documents["job-aids/nurse.docx"])
    assert [text for _, text in seen.paragraphs] == ["Custom aid for Nurse"]


@pytest.mark.parametrize(
    ("paragraphs", "expected"),
    [
        (("Intro", "{%p if has_gaps %}", "Gaps"), ["'{% if has_gaps %}' is never closed"]),
        (("Fine", "{%p endfro %}"), ["'{% endfro %}'", "unknown tag 'endfro'"]),
        (("Name: {{ role.title }",), ["in the paragraph 'Name: {{ role.title }'"]),
    ],
)
def test_a_template_syntax_error_names_file_and_tag(
    make_workbook: Callable[..., Path], paragraphs: tuple[str, ...], expected: list[str]
) -> None:
    root = make_workbook({}, copy_of=sample_clinic())
    make_template(root / "templates" / "job-aid.docx", *paragraphs)
    workbook = load_workbook(root)
    with pytest.raises(TemplateError) as raised:
        render_job_aids(workbook.organization, workbook.templates_dir, root=root)
    message = str(raised.value)
    assert message.startswith("templates/job-aid.docx (word/document.xml)")
    for words in expected:
        assert words in message


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        (
            "{{ rol.title }}",
            "'{{ rol.title }}' uses 'rol', which a job aid does not have; did you mean 'role'?",
        ),
        ("{{ role.titel }}", "'{{ role.titel }}': 'titel' is not defined for a job aid"),
        (
            "{% for p in products %}{{ p.nme }}{% endfor %}",
            "'{{ p.nme }}': 'nme' is not defined for a job aid",
        ),
    ],
)
def test_an_unknown_variable_is_an_error_not_a_blank(
    tmp_path: Path, clinic: Organization, tag: str, expected: str
) -> None:
    path = make_template(tmp_path / "aid.docx", "Before", f"Hello {tag}")
    with pytest.raises(TemplateError) as raised:
        render_job_aid(clinic, clinic.role("nurse"), JobAidTemplate.from_file(path, "aid.docx"))
    assert str(raised.value) == (
        f"aid.docx (word/document.xml), in the paragraph 'Hello': {expected} (the variables "
        "are listed in docs/templates.md)"
    )


def test_an_error_raised_by_template_code_is_a_template_error(
    tmp_path: Path, clinic: Organization
) -> None:
    path = make_template(tmp_path / "aid.docx", "Total: {{ 1 / 0 }}")
    with pytest.raises(TemplateError, match=r"aid\.docx .*'\{\{ 1 / 0 \}\}': ZeroDivisionError"):
        render_job_aid(clinic, clinic.role("nurse"), JobAidTemplate.from_file(path, "aid.docx"))


def test_a_file_that_is_not_a_docx_is_a_template_error(tmp_path: Path) -> None:
    path = tmp_path / "job-aid.docx"
    path.write_text("not a zip")
    with pytest.raises(TemplateError, match=r"job-aid\.docx: not a Word document"):
        JobAidTemplate.from_file(path)


# -- PDF ----------------------------------------------------------------------------------


def test_without_libreoffice_pdf_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(to_pdf, "find_soffice", lambda: None)
    with pytest.raises(OutputError) as raised:
        to_pdf.convert_to_pdf([tmp_path / "a.docx"], tmp_path)
    assert "apt-get install libreoffice-writer" in str(raised.value)
    assert "brew install --cask libreoffice" in str(raised.value)


@needs_soffice
def test_job_aids_convert_to_pdf(clinic: Organization, tmp_path: Path) -> None:
    paths = []
    for name, data in render_job_aids(clinic, moment=MOMENT).items():
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        paths.append(path)
    pdfs = to_pdf.convert_to_pdf(paths, tmp_path / "pdf")
    assert [pdf.name for pdf in pdfs] == [f"{role.id}.pdf" for role in clinic.roles]
    for pdf in pdfs:
        assert pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    ("tag", "refused"),
    [
        ("{{ ''.__class__.__mro__ }}", "unsafe"),
        ("{{ role.title.__class__ }}", "unsafe"),
        ("{% for c in ''.__class__.__mro__[1].__subclasses__() %}{{ c }}{% endfor %}", "unsafe"),
        ("{{ role.title.format(1) }}{{ [].append(1) }}", "unsafe|not safely callable"),
        ("{{ 'A' * 1500000000 }}", "would make more than"),
        ("{{ 2 ** 100000000 }}", "power above"),
        ("{% for i in range(30000) %}{{ 'x' * 2000 }}{% endfor %}", "grew past"),
    ],
)
def test_a_template_that_reaches_for_python_gets_an_error(
    tmp_path: Path, clinic: Organization, tag: str, refused: str
) -> None:
    # Templates come from other people: they render in a sandbox, with a bounded output.
    path = make_template(tmp_path / "aid.docx", f"Title: {tag}")
    with pytest.raises(TemplateError, match=refused):
        render_job_aid(clinic, clinic.role("nurse"), JobAidTemplate.from_file(path, "aid.docx"))


# -- a bound on the work a template makes --------------------------------------------------

CHAIN = Path(__file__).parent / "data" / "chain"
TOO_MUCH_WORK = (
    "the template's loops and filters go over more than 1,000,000 items for one job aid; "
    "loop only over the role's lists (products, customers, suppliers, ...), not over "
    "numbers or repeated text"
)
# Each renders in a child process with its memory and time capped, so that a template
# that escaped the bound fails the test instead of never ending.
_RENDER_CAPPED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_CPU, (30, 30))
resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))
from jobdefs.documents import template_sandbox
from jobdefs.documents.job_aid import render_job_aid
from jobdefs.documents.word_template import JobAidTemplate
from jobdefs.errors import TemplateError
from jobdefs.workbook.load import load_workbook
template_sandbox.RENDER_SECONDS_MAX = float(sys.argv[3])
organization = load_workbook(sys.argv[1]).organization
template = JobAidTemplate.from_file(sys.argv[2], "aid.docx")
try:
    render_job_aid(organization, organization.role("physician"), template)
except TemplateError as error:
    print(error)
"""


def render_capped(tmp_path: Path, tag: str, seconds: float = 10) -> str:
    """The error rendering a job aid with a template of `tag` gives, in a capped child."""
    path = make_template(tmp_path / "aid.docx", f"Title: {tag}")
    done = subprocess.run(
        [sys.executable, "-c", _RENDER_CAPPED, str(CHAIN), str(path), str(seconds)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.stderr == ""
    [message] = done.stdout.splitlines()
    return message


@pytest.mark.parametrize(
    ("tag", "refused"),
    [
        (
            "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
            f"'{{% for b in range(100000) %}}': {TOO_MUCH_WORK}",
        ),
        ("{% for a in 'x' * 100000 %}{% for b in 'x' * 100000 %}{% endfor %}{% endfor %}", ""),
        (
            "{% for a in [1, 2, 3] * 10000 %}{% for b in [1, 2] * 10000 %}{% endfor %}{% endfor %}",
            "",
        ),
        (
            "{% macro m() %}{% for b in range(100000) %}{% endfor %}{% endmacro %}"
            "{% for a in range(100000) %}{{ m() }}{% endfor %}",
            "'{% for b in range(100000) %}'",
        ),
        (
            "{% for a in [[range(100000)] * 100] * 100 recursive %}"
            "{{ loop(a) if a is iterable }}{% endfor %}",
            "",
        ),
        ("{{ ([range(100000)] * 10000)|map('join')|join }}", ""),
        ("{{ ([range(100000)] * 10000)|map('sum')|sum }}", ""),
        ("{{ ('x' * 20000000)|list|unique|join }}", ""),
        ("{% for a in range(100000) %}{% set x = 'x' * 10000000 %}{% endfor %}", ""),
        (
            "{% for a in range(100000) %}{% block b scoped %}{% for c in range(100000) %}"
            "{% endfor %}{% endblock %}{% endfor %}",
            "",
        ),
    ],
)
def test_a_template_that_loops_without_end_stops_with_an_error(
    tmp_path: Path, tag: str, refused: str
) -> None:
    # Counted: every loop's items, nested loops, loops in macros and blocks, recursive
    # loops, the filters that go over items, and the text '*' makes inside loops.
    message = render_capped(tmp_path, tag)
    assert message.startswith("aid.docx (word/document.xml), in the paragraph 'Title:': ")
    assert refused in message
    assert message.endswith(TOO_MUCH_WORK)


def test_a_loop_whose_every_turn_is_slow_stops_after_its_time(tmp_path: Path) -> None:
    # Few turns, each slow: what the body does is not counted, so its time is.
    tag = "{% for a in range(100000) %}{{ loop.cycle(*range(100000)) }}{% endfor %}"
    assert render_capped(tmp_path, tag, seconds=1) == (
        "aid.docx (word/document.xml), in the paragraph 'Title:': '{% for a in range(100000) "
        "%}': '{{ loop.cycle(*range(100000)) }}': '{% endfor %}': the template worked for "
        "more than 1.0 seconds on one job aid; make what a loop does at every turn simpler"
    )


def test_a_template_cannot_bring_in_another_one(tmp_path: Path) -> None:
    # Another template would count its own work; a job aid's template is one document.
    path = make_template(tmp_path / "aid.docx", "Title: {% include 'aid.docx' %}")
    with pytest.raises(TemplateError, match=r"cannot use .{% include %}.: it is one Word doc"):
        JobAidTemplate.from_file(path, "aid.docx")


def test_the_bound_on_work_leaves_a_role_of_ten_thousand_products_alone(
    template: JobAidTemplate,
) -> None:
    organization = load_workbook(CHAIN).organization
    context = job_aid_context(organization, organization.role("physician"))
    products = context["products"]
    context["products"] = [
        {**products[number % len(products)], "name": f"Product {number}"}
        for number in range(10_000)
    ]
    for product in context["products"]:
        product["customers"] = (product["customers"] * 3)[:3]
    body = template.render_xml(context)[template.body_part]
    assert "Product 9999" in body
