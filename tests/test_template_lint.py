"""Template lint: Word templates broken the ways Word and people break them, built with
python-docx (split runs, tracked changes, links, curly quotes, typos), and the messages HR
reads about them."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from jobdefs import reference
from jobdefs.cli import cli
from jobdefs.documents import template_lint
from jobdefs.documents.job_aid import job_aid_context
from jobdefs.documents.template_files import default_template_path, default_templates
from jobdefs.documents.template_lint import lint_template
from jobdefs.documents.template_variables import all_template_variables
from jobdefs.documents.word_template import JobAidTemplate
from jobdefs.errors import TemplateError
from jobdefs.text import count, shorten
from jobdefs.workbook.load import load_workbook

REPO = Path(__file__).parent.parent
CHAIN = Path(__file__).parent / "data" / "chain"
SEE_DOCS = "(the variables are listed in docs/templates.md)"

# A paragraph is its text, or its runs: each run typed separately, as Word stores a tag
# that was edited, formatted or corrected half-way.
Paragraph = str | Sequence[str]


def docx_bytes(
    *paragraphs: Paragraph, edit: Callable[[docx.document.Document], None] | None = None
) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        if isinstance(paragraph, str):
            document.add_paragraph(paragraph)
        else:
            runs = document.add_paragraph()
            for number, text in enumerate(paragraph):
                runs.add_run(text).bold = number % 2 == 1  # each piece formatted differently
    if edit is not None:
        edit(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def wrapped(texts: Sequence[str], index: int, element: str) -> bytes:
    """One paragraph of runs, the run at `index` moved inside `element` (e.g. a tracked
    insertion or a hyperlink), the way Word stores a piece typed with Track Changes on."""

    def edit(document: docx.document.Document) -> None:
        run = document.paragraphs[-1].runs[index]._r
        wrapper = parse_xml(element)
        run.addprevious(wrapper)
        wrapper.append(run)

    return docx_bytes(list(texts), edit=edit)


INSERTION = f'<w:ins {nsdecls("w")} w:id="1" w:author="HR" w:date="2025-01-06T10:00:00Z"/>'
HYPERLINK = f'<w:hyperlink {nsdecls("w", "r")} w:anchor="top"/>'


def lines(data: bytes) -> list[str]:
    return [finding.as_text() for finding in lint_template(data, "job-aid.docx")]


def render(data: bytes) -> str:
    """The text of the physician's job aid made from this template."""
    workbook = load_workbook(CHAIN)
    organization = workbook.organization
    role = organization.role("physician")
    output = JobAidTemplate(data, "job-aid.docx").render(job_aid_context(organization, role))
    return "\n".join(p.text for p in docx.Document(io.BytesIO(output)).paragraphs)


# -- what the lint finds -----------------------------------------------------------------


def test_the_default_template_has_no_problems() -> None:
    assert lint_template(default_template_path().read_bytes(), "job-aid.docx") == []


@pytest.mark.parametrize(
    ("paragraphs", "expected"),
    [
        (
            ("Intro", "Title: {{ role.titel }}"),
            "in the paragraph 'Title: {{ role.titel }}': error[unknown-variable]: "
            "'{{ role.titel }}' uses 'role.titel', which a job aid does not have; did you "
            f"mean 'role.title'? {SEE_DOCS}",
        ),
        (
            ("{% for p in products %}{{ p.nme }}{% endfor %}",),
            "error[unknown-variable]: '{{ p.nme }}' uses 'p.nme', which a job aid does not "
            f"have; did you mean 'p.name'? {SEE_DOCS}",
        ),
        (
            (
                "{% for p in products %}{% for c in p.customers %}{{ c.nede }}{% endfor %}"
                "{% endfor %}",
            ),
            "'{{ c.nede }}' uses 'c.nede', which a job aid does not have; did you mean 'c.need'?",
        ),
        (
            ("{{ rol.title }}",),
            f"'{{{{ rol.title }}}}' uses 'rol', which a job aid does not have; did you mean "
            f"'role'? {SEE_DOCS}",
        ),
        (
            ("Made: {{ products.name }}",),
            "'{{ products.name }}' uses 'products.name', which a job aid does not have; "
            "'products' is a list: show its items in a loop, e.g. {% for item in products %}"
            "{{ item.name }}{% endfor %}",
        ),
        (
            ("{%p for result in scorecard.handoffs %}", "{{ result.shar_met }}", "{%p endfor %}"),
            "in the paragraph '{{ result.shar_met }}': error[unknown-variable]: "
            "'{{ result.shar_met }}' uses 'result.shar_met', which a job aid does not have; "
            "did you mean 'result.share_met'?",
        ),
        (
            ("Name: {{ role.title | }}",),
            "in the paragraph 'Name: {{ role.title | }}': error[syntax]: '{{ role.title | }}': "
            "expected token 'name', got 'end of print statement'; fix the tag in Word and save "
            "the template again",
        ),
        (
            ("Intro", "{%p if has_gaps %}", "Gaps"),
            "in the paragraph '{%p if has_gaps %}': error[syntax]: '{% if has_gaps %}' is "
            "never closed; add the matching end tag",
        ),
        (
            ("Name: {{ role.title", "}} and more"),
            "in the paragraph 'Name: {{ role.title': error[unclosed-tag]: '{{ role.title' is "
            "not closed in this paragraph; a tag must start and end in one paragraph: add "
            "the missing '}}', or delete the whole tag and type it again in one go",
        ),
        (
            ("Name: {{ role.title\u00a0}}",),
            "error[word-character]: '{{ role.title }}' holds a non-breaking space, which Word "
            "typed for you and a template cannot read",
        ),
        (
            ("Say {{ 'don’t' }}",),
            "in the paragraph 'Say {{ 'don’t' }}': error[syntax]: '{{ 'don’t' }}': expected "
            "token 'end of print statement', got 't' (Word's curly quotes in the tag are read "
            "as straight ones)",
        ),
    ],
)
def test_each_problem_names_its_paragraph_and_how_to_fix_it(
    paragraphs: tuple[str, ...], expected: str
) -> None:
    found = lines(docx_bytes(*paragraphs))
    assert any(expected in line for line in found), found
    assert all(line.startswith("job-aid.docx (word/document.xml)") for line in found)


def test_a_tag_split_across_formatted_runs_is_fine_because_it_joins_back() -> None:
    template = docx_bytes(["Name: {", "{ role.", "title }", "}"])
    assert lines(template) == []
    assert render(template) == "Name: Physician"


@pytest.mark.parametrize(
    ("element", "reason"),
    [(INSERTION, "a tracked change (an insertion)"), (HYPERLINK, "a hyperlink")],
)
def test_a_tag_split_by_a_tracked_change_or_a_link_is_an_error(element: str, reason: str) -> None:
    template = wrapped(["Name: {{ role.", "title }} here"], 1, element)
    assert lines(template) == [
        "job-aid.docx (word/document.xml), in the paragraph 'Name: {{ role.title }} here': "
        "error[split-tag]: Word keeps the pieces of '{{ role.title }}' in different places "
        f"({reason}), so they cannot be joined back and the job aid would be damaged; accept "
        "or reject tracked changes, remove any link or field from the tag, or delete the "
        "whole tag and type it again in one go"
    ]
    # What the lint prevents: without it the first job aid made would be a broken file.
    with pytest.raises(TemplateError, match="cut through Word's structure"):
        render(template)


def test_a_whole_tag_inside_a_tracked_change_is_fine() -> None:
    assert lines(wrapped(["Name: ", "{{ role.title }}", " here"], 1, INSERTION)) == []


def test_curly_quotes_are_a_warning_because_they_are_read_as_straight_ones() -> None:
    template = docx_bytes("Standard: {{ role.revision or “none” }}")
    findings = lint_template(template, "job-aid.docx")
    assert [(f.severity, f.code) for f in findings] == [("warning", "curly-quotes")]
    assert "Turn off AutoCorrect's “smart quotes”" in findings[0].message
    assert template_lint.exit_status(findings) == 0
    assert template_lint.exit_status(findings, strict=True) == 1
    assert render(template) == "Standard: none"


@pytest.mark.parametrize(
    ("paragraph", "code", "words"),
    [
        ("Intro text {%p if has_gaps %}", "text-dropped", "('Intro text') never shows"),
        ("{ { role.title }}", "stray-brace", "'{ {' looks like part of a tag"),
    ],
)
def test_warnings_for_text_that_silently_vanishes_or_prints_as_is(
    paragraph: str, code: str, words: str
) -> None:
    rest = ["{%p endif %}"] if "{%p if" in paragraph else []
    findings = lint_template(docx_bytes(paragraph, *rest), "job-aid.docx")
    assert [(f.severity, f.code) for f in findings] == [("warning", code)]
    assert words in findings[0].message


def test_every_problem_is_reported_at_once_not_only_the_first() -> None:
    template = docx_bytes(
        "Title: {{ role.titel }}",
        "Purpose: {{ role.purpos }}",
        "Broken: {{ role.title | }}",
        "{% for p in products %}{{ p.nme }}{% endfor %}",
    )
    codes = [(f.code, f.paragraph) for f in lint_template(template, "t.docx")]
    assert codes == [
        ("unknown-variable", "Title: {{ role.titel }}"),
        ("unknown-variable", "Purpose: {{ role.purpos }}"),
        ("syntax", "Broken: {{ role.title | }}"),
        ("unknown-variable", "{% for p in products %}{{ p.nme }}{% endfor %}"),
    ]


def test_headers_and_footers_are_checked_too() -> None:
    def header(document: docx.document.Document) -> None:
        document.sections[0].header.paragraphs[0].text = "{{ organisation.name }}"

    assert lines(docx_bytes("Body", edit=header)) == [
        "job-aid.docx (word/header1.xml), in the paragraph '{{ organisation.name }}': "
        "error[unknown-variable]: '{{ organisation.name }}' uses 'organisation', which a job "
        f"aid does not have; did you mean 'organization'? {SEE_DOCS}"
    ]


def test_loop_variables_methods_and_filters_are_understood() -> None:
    template = docx_bytes(
        "{% for c in customers %}{{ loop.index }}. {{ c.title|upper }} "
        "{% for name in c.products %}{{ name.lower() }}{% endfor %}{% endfor %}",
        "{% set first = products|first %}{{ first.name }} {{ role['title'] }}",
        "{% for line in lines_of_sight %}{% for step in line.steps %}{{ step.role }}"
        "{% endfor %}{% endfor %}",
        "{{ scorecard.handoffs[0].text if scorecard.found }}",
    )
    assert lines(template) == []


def test_a_file_that_is_not_a_word_document() -> None:
    assert lines(b"not a zip") == [
        "job-aid.docx: error[not-a-template]: not a Word document (.docx): File is not a zip "
        "file; save the template from Word as .docx"
    ]


def test_a_damaged_list_of_relationships_is_reported_not_raised() -> None:
    """Word keeps which parts are headers and footers in .rels files; one cut short."""
    damaged = replaced_part(
        docx_bytes("{{ role.title }}"), "word/_rels/document.xml.rels", lambda xml: xml[:-20]
    )
    [line] = lines(damaged)
    assert line.startswith(
        "job-aid.docx: error[not-a-template]: its part word/_rels/document"
        ".xml.rels is damaged (unclosed token: line 2, column "
    )
    assert line.endswith("); open the template in Word and save it again as a .docx file")
    with pytest.raises(TemplateError, match=r"^job-aid.docx: its part .* is damaged"):
        JobAidTemplate(damaged, "job-aid.docx")


def replaced_part(data: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    """The package `data` with the part `name` changed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as copy:
        for entry in source.infolist():
            content = source.read(entry.filename)
            copy.writestr(entry, change(content) if entry.filename == name else content)
    return buffer.getvalue()


# -- the command --------------------------------------------------------------------------------


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stderr


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    root = tmp_path / "chain"
    shutil.copytree(CHAIN, root)
    return root


def test_check_a_file_prints_each_problem_and_a_summary(tmp_path: Path) -> None:
    path = tmp_path / "job-aid.docx"
    path.write_bytes(docx_bytes("Title: {{ role.titel }}", "Say {{ role.title or “x” }}"))
    status, message = run("templates", "check", str(path))
    assert status == 1
    assert message == (
        f"{path} (word/document.xml), in the paragraph 'Title: {{{{ role.titel }}}}': "
        "error[unknown-variable]: '{{ role.titel }}' uses 'role.titel', which a job aid "
        f"does not have; did you mean 'role.title'? {SEE_DOCS}\n"
        f"{path} (word/document.xml), in the paragraph 'Say {{{{ role.title or “x” }}}}': "
        "warning[curly-quotes]: '{{ role.title or “x” }}' holds Word's curly quotes; they "
        "are read as straight quotes, but an apostrophe inside quoted text then ends the "
        "text early. Turn off AutoCorrect's “smart quotes” (AutoFormat As You Type) while "
        "you edit tags\n"
        f"{path}: 1 error, 1 warning; a build refuses this template until the errors are "
        "fixed\n"
    )


def test_check_defaults_to_the_workbooks_template_else_the_default(workbook: Path) -> None:
    status, message = run("templates", "check", "-w", str(workbook))
    assert status == 0
    assert message == (
        f"the default template ({default_template_path()}): 0 errors, 0 warnings; the "
        "template is ready to use\n"
    )
    (workbook / "templates").mkdir()
    (workbook / "templates" / "job-aid.docx").write_bytes(docx_bytes("{{ role.titel }}"))
    status, message = run("templates", "check", "-w", str(workbook))
    assert status == 1
    assert message.startswith(
        "templates/job-aid.docx (word/document.xml), in the paragraph '{{ role.titel }}'"
    )
    assert message.endswith(
        "templates/job-aid.docx: 1 error, 0 warnings; a build refuses "
        "this template until the errors are fixed\n"
    )


def test_strict_fails_on_warnings(tmp_path: Path) -> None:
    path = tmp_path / "aid.docx"
    path.write_bytes(docx_bytes("{ { role.title }}"))
    assert run("templates", "check", str(path))[0] == 0
    assert run("templates", "check", str(path), "--strict")[0] == 1


def test_build_refuses_a_broken_template_with_the_same_messages(workbook: Path) -> None:
    assert run("build", "-w", str(workbook), "-q")[0] == 0
    output = workbook / "build"
    before = {p: p.read_bytes() for p in output.rglob("*") if p.is_file()}
    (workbook / "templates").mkdir()
    template = workbook / "templates" / "job-aid.docx"
    template.write_bytes(wrapped(["Name: {{ role.", "title }}"], 1, INSERTION))
    _, checked = run("templates", "check", "-w", str(workbook))
    status, message = run("build", "-w", str(workbook))
    assert status == 1
    finding = checked.splitlines()[0]
    assert message == (
        "Error: the template templates/job-aid.docx has 1 error; fix the template (check it "
        f"with 'jobdefs templates check') and build again:\n{finding}\n"
    )
    assert {p: p.read_bytes() for p in output.rglob("*") if p.is_file()} == before


HOSTILE = [
    # (the paragraph, what `templates check` says of it)
    (
        "Hi {{ ''.__class__.__mro__[1].__subclasses__() }}",
        "error[python-internals]: '{{ ''.__class__.__mro__[1].__subclasses__() }}' reaches "
        "for Python's internals ('__class__'), which a template may not; a template can only "
        f"show the documented variables and their fields {SEE_DOCS}",
    ),
    (
        "Hi {% for c in ''.__class__.__mro__[1].__subclasses__() %}"
        "{{ c.__init__.__globals__['sys'] }}{% endfor %}",
        "reaches for Python's internals ('__class__')",
    ),
    ("Hi {{ cycler.__init__.__globals__ }}", "reaches for Python's internals ('__init__')"),
    (
        "Hi {{ self._TemplateReference__context }}",
        "reaches for Python's internals ('_TemplateReference__context')",
    ),
    ("Hi {{ lipsum.__globals__['os'] }}", "reaches for Python's internals ('__globals__')"),
    ("Hi {{ range.__self__ }}", "reaches for Python's internals ('__self__')"),
    ("Hi {{ role['__class__'] }}", "reaches for Python's internals ('__class__')"),
    ("Hi {{ '{0.__class__}'.format(role) }}", "reaches for Python's internals ('__class__')"),
    (
        "Hi {{ products.append(1) }}",
        "error[changes-a-value]: '{{ products.append(1) }}' tries to change a value with "
        "'append()', which a template may not; make a new value instead, e.g. "
        "{% set names = products|map(attribute='name')|list %}",
    ),
    ("Hi {{ role.update(title='x') }}", "tries to change a value with 'update()'"),
    (
        "Hi {{ role.title.ljust(100000000) }}",
        "error[not-callable]: '{{ role.title.ljust(100000000) }}' calls 'ljust()', which a "
        "template may not; use the documented variables with filters, e.g. "
        "{{ role.title|upper }} " + SEE_DOCS,
    ),
    (
        "Hi {% for a in 'x' * 100000 %}{% for b in [1, 2] * 10000 %}{% endfor %}{% endfor %}",
        "error[loop-work]: '{% for b in [1, 2] * 10000 %}' makes its loops go over "
        "2,000,000,000 items for every job aid, more than the 1,000,000 a template may; loop "
        "over the role's lists instead (products, customers, suppliers, ...), not over "
        "numbers or repeated text",
    ),
    (
        "Hi {% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
        "'{% for b in range(100000) %}' makes its loops go over 10,000,000,000 items",
    ),
    (
        "Hi {% macro m() %}{% for b in range(10000) %}{% endfor %}{% endmacro %}"
        "{% for p in products %}{% for a in range(1000) %}{{ m() }}{% endfor %}{% endfor %}",
        "makes its loops go over 10,000,000 items",
    ),
    (
        "Hi {% for a in range(1000) %}{{ range(100000)|join }}{% endfor %}",
        "makes its loops go over 100,000,000 items",
    ),
    (
        "Hi {{ range(1000000)|sum }}",
        "error[loop-work]: '{{ range(1000000)|sum }}' counts to more than 100,000 with "
        "range(), which a template may not",
    ),
    (
        "Hi {{ 'x' * 100000000 }}",
        "error[too-large]: '{{ 'x' * 100000000 }}' would make more than 50,000,000 characters "
        "with '*', which a template may not",
    ),
    ("Hi {{ 9 ** 99999999 }}", "raises a number to a power above 64"),
]


@pytest.mark.parametrize(("paragraph", "said"), HOSTILE)
def test_check_reports_what_the_sandbox_would_refuse(paragraph: str, said: str) -> None:
    found = lines(docx_bytes("Intro", paragraph))
    where = f"job-aid.docx (word/document.xml), in the paragraph '{shorten(paragraph, 70)}': "
    assert any(line.startswith(where) and said in line for line in found), found


_BUILD_CAPPED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_CPU, (30, 30))
resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))
from jobdefs.cli import main
sys.argv = ["jobdefs", "build", "-w", sys.argv[1]]
main()
"""


def build_capped(workbook: Path) -> subprocess.CompletedProcess[str]:
    """`jobdefs build` in a child process whose memory and time are capped, so that a
    template that escaped the sandbox fails the test instead of never ending."""
    return subprocess.run(
        [sys.executable, "-c", _BUILD_CAPPED, str(workbook)],
        cwd=workbook.parent,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "JOBDEFS_CACHE_DIR": str(workbook.parent / "cache")},
    )


@pytest.mark.parametrize(
    "paragraph", [HOSTILE[1][0], HOSTILE[2][0], HOSTILE[4][0], HOSTILE[11][0], HOSTILE[13][0]]
)
def test_a_template_the_sandbox_would_refuse_never_gets_further_than_an_error(
    workbook: Path, paragraph: str
) -> None:
    assert run("build", "-w", str(workbook), "-q")[0] == 0
    output = workbook / "build"
    before = {p: p.read_bytes() for p in output.rglob("*") if p.is_file()}
    (workbook / "templates").mkdir()
    (workbook / "templates" / "job-aid.docx").write_bytes(docx_bytes("Intro", paragraph))
    status, checked = run("templates", "check", "-w", str(workbook))
    assert status == 1
    findings = checked.splitlines()[:-1]
    assert findings and all("in the paragraph 'Hi " in line for line in findings)
    built = build_capped(workbook)
    assert built.returncode == 1
    assert built.stderr == (
        f"Error: the template templates/job-aid.docx has {count(len(findings), 'error')}; fix "
        "the template (check it with 'jobdefs templates check') and build again:\n"
        + "".join(f"{line}\n" for line in findings)
    )
    assert {p: p.read_bytes() for p in output.rglob("*") if p.is_file()} == before


def test_loops_the_check_cannot_weigh_stop_the_build_with_one_line(workbook: Path) -> None:
    # How long a role's purpose is depends on the role: only the render can count this.
    assert run("build", "-w", str(workbook), "-q")[0] == 0
    output = workbook / "build"
    before = {p: p.read_bytes() for p in output.rglob("*") if p.is_file()}
    (workbook / "templates").mkdir()
    loops = (
        "Hi {% for a in role.purpose * 10000 %}{% for b in role.purpose * 10000 %}"
        "{% endfor %}{% endfor %}"
    )
    (workbook / "templates" / "job-aid.docx").write_bytes(docx_bytes("Intro", loops))
    assert run("templates", "check", "-w", str(workbook))[0] == 0
    built = build_capped(workbook)
    assert built.returncode == 1
    [line] = built.stderr.splitlines()
    assert line.startswith(
        "Error: templates/job-aid.docx (word/document.xml), in the paragraph 'Hi': "
        "'{% for b in role.purpose * 10000 %}': the template's loops and filters go over "
        "more than 1,000,000 items for one job aid"
    )
    assert {p: p.read_bytes() for p in output.rglob("*") if p.is_file()} == before


# -- export ---------------------------------------------------------------------------------------


def test_export_copies_the_default_templates_and_never_replaces_one(workbook: Path) -> None:
    status, message = run("templates", "export", "-w", str(workbook))
    copied = workbook / "templates" / "job-aid.docx"
    assert status == 0
    assert message == (
        f"created {copied}\nnext: edit the template in Word, then run 'jobdefs templates check'\n"
    )
    assert [p.name for p in default_templates()] == ["job-aid.docx"]
    assert copied.read_bytes() == default_template_path().read_bytes()
    copied.write_bytes(b"edited by HR")
    status, message = run("templates", "export", "-w", str(workbook))
    assert (status, message) == (0, f"skipped {copied} (it exists; export never replaces a file)\n")
    assert copied.read_bytes() == b"edited by HR"


def test_export_into_a_folder(tmp_path: Path) -> None:
    status, _ = run("templates", "export", str(tmp_path / "drafts"))
    assert status == 0
    assert (tmp_path / "drafts" / "job-aid.docx").is_file()


# -- docs/templates.md ---------------------------------------------------------------------------


def test_docs_list_every_variable_and_are_up_to_date() -> None:
    committed = (REPO / "docs" / "templates.md").read_text(encoding="utf-8")
    assert committed == reference.templates_markdown(), (
        "docs/templates.md is out of date: run python -m jobdefs.reference to update"
    )
    for name in all_template_variables():
        assert f"| `{name}` |" in committed, name
    for command in ("jobdefs templates export", "jobdefs templates check", "jobdefs build"):
        assert command in committed
