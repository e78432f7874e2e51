"""Office files from other people: bombs, hostile XML, special files, within bounds.

The hostile files are made here from real jobdefs workbooks and templates. The bombs are
made without being unpacked on disk: a piece of deflate ended by a full flush refers to
nothing before it, so one compressed piece repeated N times unpacks to N copies of the
piece. The commands that read them run in a child process with memory and CPU capped, so
that a regression fails the test instead of taking the machine down.
"""

from __future__ import annotations

import datetime
import os
import re
import resource
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from jobdefs.build.run import build
from jobdefs.cli import cli
from jobdefs.documents.matrix import matrix_workbook
from jobdefs.feedback import survey_round
from jobdefs.feedback.returned_workbook import open_workbook, sheet_rows
from jobdefs.feedback.review import MAX_COLUMNS, MAX_ROWS, read_answers
from jobdefs.office_files import MAX_PARTS, MAX_XML_CHILDREN, check_workbook
from jobdefs.workbook.load import load_workbook

DATA = Path(__file__).parent / "data"
TEMPLATE = Path(__file__).parent.parent / "templates" / "job-aid.docx"
MEMORY = 1536 * 1024 * 1024  # a kill switch, far above what any of these reads needs
CPU_SECONDS = 30
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SHEET = "xl/worksheets/sheet2.xml"  # the matrix's Hand-offs sheet, the one a review reads


# -- zip archives made by hand ------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One zip entry as stored: its bytes already compressed (or not, for method 0)."""

    name: str
    stored: bytes
    crc: int
    size: int
    method: int = zipfile.ZIP_DEFLATED
    flags: int = 0

    @classmethod
    def of(cls, name: str, data: bytes, flags: int = 0) -> Entry:
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        stored = compressor.compress(data) + compressor.flush()
        return cls(name, stored, zlib.crc32(data), len(data), flags=flags)

    @classmethod
    def repeated(cls, name: str, head: bytes, piece: bytes, times: int, tail: bytes) -> Entry:
        """head + piece * times + tail, compressed without ever being whole in memory.

        Its CRC is left at 0: nothing may read that far.
        """

        def flushed(data: bytes) -> bytes:
            compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
            return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)

        last = zlib.compressobj(9, zlib.DEFLATED, -15)
        stored = flushed(head) + flushed(piece) * times + last.compress(tail) + last.flush()
        return cls(name, stored, 0, len(head) + len(piece) * times + len(tail))


def parts_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def write_zip(path: Path, entries: list[Entry]) -> Path:
    """A zip of `entries` as given: repeated names, flags, no zip64 whatever the count."""
    chunks, directory, offset = [], [], 0
    for entry in entries:
        name = entry.name.encode()
        fields = (20, entry.flags, entry.method, 0, 33, entry.crc, len(entry.stored), entry.size)
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields, len(name), 0) + name
        directory.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, len(name), 0, 0, 0, 0, 0, offset
            )
            + name
        )
        chunks += (header, entry.stored)
        offset += len(header) + len(entry.stored)
    central = b"".join(directory)
    count = len(entries) & 0xFFFF
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), offset, 0)
    path.write_bytes(b"".join(chunks) + central + end)
    return path


def rewrite(source: Path, target: Path, changes: dict[str, bytes | Entry | None]) -> Path:
    """`source` with some parts replaced (by bytes or a ready entry) or left out (None)."""
    entries = []
    for name, data in parts_of(source).items():
        change = changes.get(name, data)
        if change is not None:
            entries.append(change if isinstance(change, Entry) else Entry.of(name, change))
    return write_zip(target, entries)


# -- a real review workbook, survey and template, and the commands that read them ---------


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The chain workbook, built, with a round of surveys."""
    root = tmp_path_factory.mktemp("real") / "chain"
    shutil.copytree(DATA / "chain", root)
    build(load_workbook(root), jobs=1)
    survey_round.make_surveys(load_workbook(root))
    return root


def matrix_of(root: Path) -> Path:
    return root / "build" / "internal-customer-matrix.xlsx"


def survey_of(root: Path) -> Path:
    return sorted((root / "build" / "surveys" / "round-1").glob("*.xlsx"))[0]


def capped(cwd: Path, *args: str) -> tuple[int, str]:
    """Run jobdefs in a child process under the memory and CPU caps: its status and stderr."""

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
        resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))

    try:
        done = subprocess.run(
            [sys.executable, "-m", "jobdefs", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            preexec_fn=limits,
            stdin=subprocess.DEVNULL,
            timeout=4 * CPU_SECONDS,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"jobdefs {' '.join(args)} waits for ever")
    return done.returncode, done.stderr


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def assert_refused(status: int, err: str, path: Path, reason: str) -> None:
    """One line, exit status 1, the file's name, 'not a readable ...' and the reason."""
    assert "Traceback" not in err and "MemoryError" not in err, err[-2000:]
    assert status == 1, err[-2000:]
    assert err.startswith(f"Error: {path}: not a readable ") and err.count("\n") == 1, err
    assert reason in err, err


def review_sheet(root: Path) -> str:
    return parts_of(matrix_of(root))[SHEET].decode()


# -- bombs: refused before they are unpacked ------------------------------------------------


def test_a_review_sheet_that_unpacks_to_4_gb_is_refused_unread(chain: Path, tmp_path: Path) -> None:
    xml = review_sheet(chain)
    header_end = xml.index("</row>") + len("</row>")
    row = re.sub(r' r="[A-Z]*\d+"', "", xml[header_end : xml.index("</row>", header_end) + 6])
    piece = (row * (2**20 // len(row) + 1)).encode()[: 2**20]
    piece = piece[: piece.rindex(b"</row>") + 6]
    bomb = Entry.repeated(
        SHEET, xml[:header_end].encode(), piece, 4096, xml[xml.index("</sheetData>") :].encode()
    )
    hostile = rewrite(matrix_of(chain), tmp_path / "reviewed.xlsx", {SHEET: bomb})
    assert hostile.stat().st_size < 32 * 2**20 and bomb.size > 4 * 10**9
    for command in (["review", str(hostile)], ["build", "--reviews", str(hostile)]):
        status, err = capped(tmp_path, *command, "--workbook", str(chain))
        assert_refused(status, err, hostile, f"the part {SHEET} unpacks to {bomb.size:,} bytes")


def test_a_survey_of_300_sheets_sharing_one_part_is_refused(chain: Path, tmp_path: Path) -> None:
    survey = survey_of(chain)
    parts = parts_of(survey)
    rows = "".join(
        f'<row r="{r}">'
        + "".join(f'<c r="{c}{r}"><v>{r * 7 + i}</v></c>' for i, c in enumerate("ABCDEFGHIJ"))
        + "</row>"
        for r in range(1, 20_001)
    )
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    sheet = re.sub(
        r"<sheetData>.*</sheetData>|<sheetData/>",
        f"<sheetData>{rows}</sheetData>",
        sheet,
        flags=re.S,
    )
    book = (
        parts["xl/workbook.xml"]
        .decode()
        .replace(
            "</sheets>",
            "".join(
                f'<sheet xmlns:r="{RELATIONSHIPS}" name="S{i}" sheetId="{100 + i}" r:id="rIdS{i}"/>'
                for i in range(300)
            )
            + "</sheets>",
        )
    )
    relations = (
        parts["xl/_rels/workbook.xml.rels"]
        .decode()
        .replace(
            "</Relationships>",
            "".join(
                f'<Relationship Id="rIdS{i}" Target="worksheets/sheet1.xml" Type="http://schemas.'
                'openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
                for i in range(300)
            )
            + "</Relationships>",
        )
    )
    hostile = rewrite(
        survey,
        tmp_path / "answered.xlsx",
        {
            "xl/worksheets/sheet1.xml": sheet.encode(),
            "xl/workbook.xml": book.encode(),
            "xl/_rels/workbook.xml.rels": relations.encode(),
        },
    )
    status, err = capped(tmp_path, "scorecard", str(hostile), "--workbook", str(chain))
    assert_refused(status, err, hostile, "are all one part (xl/worksheets/sheet1.xml)")


def hostile_template(chain: Path, tmp_path: Path, entries: list[Entry]) -> Path:
    """A copy of the chain workbook whose templates/job-aid.docx is `entries`."""
    root = tmp_path / "chain"
    shutil.copytree(chain, root, ignore=shutil.ignore_patterns("build"))
    (root / "templates").mkdir()
    write_zip(root / "templates" / "job-aid.docx", entries)
    return root


def template_entries() -> list[Entry]:
    return [Entry.of(name, data) for name, data in parts_of(TEMPLATE).items()]


def test_a_template_part_that_unpacks_to_1_5_gb_is_refused(chain: Path, tmp_path: Path) -> None:
    bomb = Entry.repeated("customXml/item1.xml", b"<a>", b"<b/>" * 2**18, 1536, b"</a>")
    root = hostile_template(chain, tmp_path, [*template_entries(), bomb])
    for command in ("build", "templates check"):
        status, err = capped(tmp_path, *command.split(), "--workbook", str(root))
        assert "Traceback" not in err and "MemoryError" not in err, err[-2000:]
        assert status == 1
        assert "templates/job-aid.docx" in err and "not a Word document (.docx)" in err
        assert f"the part customXml/item1.xml unpacks to {bomb.size:,} bytes" in err


def test_a_template_of_150000_entries_is_refused(chain: Path, tmp_path: Path) -> None:
    many = [Entry.of(f"word/media/note{i}.txt", b"x") for i in range(150_000)]
    root = hostile_template(chain, tmp_path, [*template_entries(), *many])
    status, err = capped(tmp_path, "build", "--workbook", str(root))
    assert "Traceback" not in err, err[-2000:]
    assert status == 1 and f"it has {150_000 + len(template_entries()):,} parts" in err
    assert MAX_PARTS < 150_000


# -- sheets bounded by the rows and columns read, not by what they claim --------------------


def test_a_review_sheet_of_a_million_rows_is_refused(chain: Path, tmp_path: Path) -> None:
    xml = review_sheet(chain)
    header_end = xml.index("</row>") + len("</row>")
    rows = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>x</t></is></c></row>'
        for r in range(2, 1_000_002)
    )
    sheet = xml[:header_end] + rows + xml[xml.index("</sheetData>") :]
    hostile = rewrite(matrix_of(chain), tmp_path / "reviewed.xlsx", {SHEET: sheet.encode()})
    status, err = capped(tmp_path, "review", str(hostile), "--workbook", str(chain))
    assert_refused(status, err, hostile, f"more than {MAX_XML_CHILDREN:,} elements in it")


def far_row(chain: Path, tmp_path: Path, number: int) -> Path:
    """The review workbook with one more cell, at row `number`."""
    xml = review_sheet(chain)
    far = f'<row r="{number}"><c r="A{number}"><v>1</v></c></row>'
    sheet = xml.replace("</sheetData>", far + "</sheetData>")
    return rewrite(matrix_of(chain), tmp_path / f"row-{number}.xlsx", {SHEET: sheet.encode()})


def test_a_row_number_past_excels_last_row_is_refused(chain: Path, tmp_path: Path) -> None:
    """openpyxl yields an empty row for every row number skipped: two billion of them here."""
    hostile = far_row(chain, tmp_path, 2_000_000_000)
    status, err = capped(tmp_path, "review", str(hostile), "--workbook", str(chain))
    assert_refused(status, err, hostile, "the sheet 'Hand-offs' has more than 1,048,576 rows")
    status, _, err = invoke("review", str(far_row(chain, tmp_path, 1_048_576)), "-w", str(chain))
    assert (status, err) == (0, "")  # a stray cell on Excel's last row is fine


def test_a_sheet_claiming_16384_columns_is_read_as_wide_as_it_is(
    chain: Path, tmp_path: Path
) -> None:
    """openpyxl pads every row to the width the sheet's dimension claims; the readers ask for
    the columns they read. (What this saves is time, three times over for 240,000 rows:
    too noisy to assert; the width read is asserted instead.)"""
    from openpyxl import load_workbook as open_xlsx

    answered = tmp_path / "answered.xlsx"
    book = open_xlsx(matrix_of(chain))
    sheet = book["Hand-offs"]
    status_column = [c.value for c in sheet[1]].index("Status") + 1
    sheet.cell(2, status_column).value = "Agreed"
    book.save(answered)
    xml = parts_of(answered)[SHEET].decode()
    second = xml.index("</row>", xml.index("</row>") + 1) + len("</row>")
    third = xml[second : xml.index("</row>", second) + 6]
    copies = "".join(re.sub(r'r="([A-Z]*)3"', rf'r="\g<1>{r}"', third) for r in range(3, 20_003))
    wide = xml[:second] + copies + xml[xml.index("</sheetData>") :]
    wide = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', wide)
    assert 'ref="A1:XFD1048576"' in wide
    hostile = rewrite(answered, tmp_path / "wide.xlsx", {SHEET: wide.encode()})
    status, out, err = invoke("review", str(hostile), "-w", str(chain))
    assert (status, err) == (0, "")
    assert out.startswith("1 current answers, 0 suspect, 0 stale;")
    opened = open_workbook(hostile)
    widths = {len(row) for row in sheet_rows(opened["Hand-offs"], MAX_ROWS, MAX_COLUMNS)}
    opened.close()
    assert widths == {MAX_COLUMNS} and MAX_COLUMNS < 16_384


# -- XML from outside: no DTD, no entities, and a message for what does not parse -----------

BOMB = (
    '<!DOCTYPE r [<!ENTITY e0 "0123456789">'
    + "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 10))
    + "]>",
    "&e9;",
)
EXTERNAL = ('<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "&x;")


def hostile_xml(xml: bytes, attack: tuple[str, str] | None) -> bytes:
    """The XML with a DTD after its declaration and an entity reference inside its root,
    or (attack None) cut in half."""
    if attack is None:
        return xml[: len(xml) // 2]
    text = xml.decode("utf-8")
    declaration = re.match(r"<\?xml[^>]*\?>\s*", text)
    at = declaration.end() if declaration else 0
    root = re.compile(r"<[A-Za-z][^>]*>").search(text, at)
    assert root is not None and not root.group().endswith("/>")
    dtd, reference = attack
    return (text[:at] + dtd + text[at : root.end()] + reference + text[root.end() :]).encode()


def xml_parts(path: Path) -> list[str]:
    return [name for name in parts_of(path) if name.endswith((".xml", ".rels"))]


@pytest.mark.parametrize(
    "attack",
    [BOMB, EXTERNAL, None],
    ids=["entity-bomb", "external-entity", "malformed"],
)
def test_hostile_xml_in_any_part_of_a_review_workbook_is_a_message(
    chain: Path, tmp_path: Path, attack: tuple[str, str] | None
) -> None:
    matrix = matrix_of(chain)
    parts = parts_of(matrix)
    reason = "(DTD)" if attack else "is not well-formed XML"
    for name in xml_parts(matrix):
        hostile = rewrite(
            matrix, tmp_path / "reviewed.xlsx", {name: hostile_xml(parts[name], attack)}
        )
        status, _, err = invoke("review", str(hostile), "--workbook", str(chain))
        assert_refused(status, err, hostile, f"the part {name} {'has' if attack else ''}".strip())
        assert reason in err


@pytest.mark.parametrize("attack", [BOMB, EXTERNAL, None], ids=["bomb", "external", "malformed"])
def test_hostile_xml_in_a_survey_is_a_message(
    chain: Path, tmp_path: Path, attack: tuple[str, str] | None
) -> None:
    survey = survey_of(chain)
    parts = parts_of(survey)
    for name in xml_parts(survey):
        hostile = rewrite(
            survey, tmp_path / "answered.xlsx", {name: hostile_xml(parts[name], attack)}
        )
        status, _, err = invoke("scorecard", str(hostile), "--workbook", str(chain))
        assert_refused(status, err, hostile, f"the part {name}")


def test_a_dtd_in_a_template_is_refused(chain: Path, tmp_path: Path) -> None:
    entries = [
        Entry.of(e.name, hostile_xml(parts_of(TEMPLATE)[e.name], BOMB))
        if e.name == "word/document.xml"
        else e
        for e in template_entries()
    ]
    root = hostile_template(chain, tmp_path, entries)
    status, _, err = invoke("build", "--workbook", str(root))
    assert status == 1 and "Traceback" not in err
    assert "not a Word document (.docx): the part word/document.xml has a document type" in err


# -- zip entries: encrypted, twice, another file's bytes ------------------------------------


def locked(name: str, data: bytes) -> Entry:
    """The part, flagged as encrypted (its bytes are not)."""
    entry = Entry.of(name, data)
    return Entry(entry.name, entry.stored, entry.crc, entry.size, flags=0x1)


def test_an_encrypted_part_is_a_message(chain: Path, tmp_path: Path) -> None:
    matrix = matrix_of(chain)
    hostile = rewrite(matrix, tmp_path / "r.xlsx", {SHEET: locked(SHEET, parts_of(matrix)[SHEET])})
    status, _, err = invoke("review", str(hostile), "--workbook", str(chain))
    assert_refused(status, err, hostile, f"the part {SHEET} is encrypted")
    name = "xl/worksheets/sheet1.xml"
    survey = survey_of(chain)
    hostile = rewrite(survey, tmp_path / "s.xlsx", {name: locked(name, parts_of(survey)[name])})
    status, _, err = invoke("scorecard", str(hostile), "--workbook", str(chain))
    assert_refused(status, err, hostile, f"the part {name} is encrypted")


def test_a_part_that_is_there_twice_is_a_message(chain: Path, tmp_path: Path) -> None:
    matrix = matrix_of(chain)
    entries = [Entry.of(n, d) for n, d in parts_of(matrix).items()]
    hostile = write_zip(tmp_path / "reviewed.xlsx", [*entries, Entry.of(SHEET, b"<worksheet/>")])
    status, _, err = invoke("review", str(hostile), "--workbook", str(chain))
    assert_refused(status, err, hostile, f"the part {SHEET} is in it twice")


def test_a_file_overwritten_while_it_was_read_is_a_message(chain: Path, tmp_path: Path) -> None:
    """The file is read once; if another program was writing it, what was read is a mix:
    the directory of one file over the entries of another."""
    old = matrix_of(chain).read_bytes()
    new = sorted((chain / "build" / "departments").glob("*.xlsx"))[0].read_bytes()
    directory = old.index(b"PK\x01\x02")
    mixed = (new * (directory // len(new) + 1))[:directory] + old[directory:]
    hostile = tmp_path / "reviewed.xlsx"
    hostile.write_bytes(mixed)
    status, _, err = invoke("review", str(hostile), "--workbook", str(chain))
    assert_refused(status, err, hostile, "cannot be unpacked")


# -- special files are refused without being opened -----------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
@pytest.mark.parametrize(
    "command",
    ["review {pipe}", "build --reviews {pipe}", "scorecard {pipe}", "scorecard {folder}"],
)
def test_a_named_pipe_is_refused_not_waited_for(chain: Path, tmp_path: Path, command: str) -> None:
    folder = tmp_path / "answers"
    folder.mkdir()
    pipe = folder / "answered.xlsx"
    os.mkfifo(pipe)
    args = command.format(pipe=pipe, folder=folder).split()
    status, err = capped(tmp_path, *args, "--workbook", str(chain))
    assert_refused(status, err, pipe, "it is not a regular file (a named pipe, socket or device)")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
def test_templates_check_refuses_a_named_pipe(tmp_path: Path) -> None:
    pipe = tmp_path / "job-aid.docx"
    os.mkfifo(pipe)
    status, err = capped(tmp_path, "templates", "check", str(pipe))
    assert status == 1
    assert err.startswith(
        f"{pipe}: error[not-a-template]: cannot read the template: it is not a regular file"
    ), err


def test_scorecard_given_a_link_to_itself_is_a_message(chain: Path, tmp_path: Path) -> None:
    loop = tmp_path / "answers.xlsx"
    loop.symlink_to(loop.name)
    status, _, err = invoke("scorecard", str(loop), "--workbook", str(chain))
    assert_refused(status, err, loop, "cannot read it: Too many levels of symbolic links")


# -- and real files pass ------------------------------------------------------------------


def test_the_review_workbook_of_a_2000_role_hospital_passes(tmp_path: Path) -> None:
    """The largest workbook a real hospital hands back: 12,000 hand-offs, 2,000 columns."""
    from synthetic import write_organization

    workbook = load_workbook(write_organization(tmp_path / "hospital", 2000))
    matrix = tmp_path / "internal-customer-matrix.xlsx"
    moment = datetime.datetime(2025, 1, 1)
    matrix.write_bytes(matrix_workbook(workbook.organization, workbook.warnings, moment))
    check_workbook(matrix.read_bytes()).close()
    assert read_answers(matrix) == []
