"""Workbooks built on the file an earlier build wrote: the same bytes, for less work.

Every test compares with a workbook made from nothing, byte for byte, and checks that what
had not changed was copied rather than made again: openpyxl, the row writer and the
compressor are replaced by ones that refuse or count.
"""

from __future__ import annotations

import datetime
import io
import re
import shutil
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobdefs.documents import (
    handoffs_sheet,
    ooxml,
    review_workbooks,
    roles_sheet,
    sheets,
    xlsx,
    xlsx_package,
)
from jobdefs.documents import matrix as matrix_book
from jobdefs.model import Customer, ExternalCustomer, Finding, Product, Role, Settings
from jobdefs.output import MATRIX
from jobdefs.workbook import analyze, departments
from jobdefs.workbook.load import Workbook, load_workbook

ROOT = Path(__file__).parent.parent  # the repository's example hospital
MOMENT = datetime.datetime(2026, 3, 1, 9, 30, 0)
HANDOFFS_PART = "xl/worksheets/sheet2.xml"


@pytest.fixture(scope="module")
def example() -> Workbook:
    return load_workbook(ROOT)


@pytest.fixture(scope="module")
def matrix(example: Workbook) -> bytes:
    return matrix_book.matrix_workbook(example.organization, example.warnings, MOMENT)


def copy_of_example(root: Path, change: Callable[[Path], None]) -> Workbook:
    """The example workbook, copied to `root` and changed there, loaded."""
    shutil.copytree(ROOT / "roles", root / "roles")
    shutil.copytree(ROOT / "journeys", root / "journeys")  # so the same sheets are made
    shutil.copy(ROOT / "jobdefs.yaml", root / "jobdefs.yaml")
    change(root)
    return load_workbook(root)


def first_need_checked(root: Path) -> None:
    """Add a word to the first one-line need of the first role file."""
    for path in sorted((root / "roles").rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        changed = re.sub(r"(?m)^(\s+need: (?![>|]).*)$", r"\1 Checked.", text, count=1)
        if changed != text:
            path.write_text(changed, encoding="utf-8")
            return
    raise AssertionError("no one-line need in the example")


def add_night_porter(root: Path) -> None:
    """A new role in the Nursing department."""
    (root / "roles" / "nursing" / "night-porter.yaml").write_text(
        "title: Night Porter\n"
        "department: Nursing\n"
        "purpose: Move patients safely between wards at night.\n"
        "products:\n"
        "  - name: Patient transfer\n"
        "    customers:\n"
        "      - external: patient\n"
        "        need: To arrive on the ward safely and on time.\n",
        encoding="utf-8",
    )


def findings(workbook: Workbook) -> list[tuple[str, str, int | None]]:
    return [(f.code, f.file, f.line) for f in workbook.warnings]


@pytest.fixture(scope="module")
def need_changed(tmp_path_factory: pytest.TempPathFactory, example: Workbook) -> Workbook:
    changed = copy_of_example(tmp_path_factory.mktemp("need"), first_need_checked)
    before = {h.id: h.need for h in example.organization.handoffs}
    after = {h.id: h.need for h in changed.organization.handoffs}
    assert before.keys() == after.keys()
    assert [i for i in before if before[i] != after[i]] and len(after) > xlsx.BLOCK_ROWS
    assert findings(changed) == findings(example)  # so only the Hand-offs sheet changes
    return changed


class Counted:
    """How many pieces were compressed and workbooks made with openpyxl."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.workbooks = 0


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counted:
    counts = Counted()
    compress = ooxml.Piece.of
    workbook = openpyxl.Workbook

    def piece(data: bytes, level: int = 6) -> ooxml.Piece:
        counts.pieces.append(data)
        return compress(data, level)

    def new_workbook(*args: Any, **kwargs: Any) -> Any:
        counts.workbooks += 1
        return workbook(*args, **kwargs)

    monkeypatch.setattr(ooxml.Piece, "of", staticmethod(piece))
    monkeypatch.setattr(openpyxl, "Workbook", new_workbook)
    return counts


@pytest.fixture
def nothing_made(monkeypatch: pytest.MonkeyPatch) -> None:
    """No openpyxl, no rows written, nothing compressed but the core properties."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("made again instead of copied")

    monkeypatch.setattr(openpyxl, "Workbook", refuse)
    monkeypatch.setattr(xlsx, "_row", refuse)
    monkeypatch.setattr(matrix_book, "_row", refuse)
    monkeypatch.setattr(ooxml.Piece, "of", staticmethod(refuse))
    monkeypatch.setattr(ooxml.Part, "joined", staticmethod(refuse))


def stored(data: bytes) -> dict[str, bytes]:
    """Each part as compressed in the package, with its zip comment."""
    return {name: part.compressed + part.comment for name, part in ooxml.stored_parts(data).items()}


# ---------------------------------------------------------------------------------------
# The internal-customer matrix


@pytest.mark.usefixtures("nothing_made")
def test_nothing_changed_copies_every_part(example: Workbook, matrix: bytes) -> None:
    again = matrix_book.matrix_workbook(
        example.organization, example.warnings, MOMENT, previous=matrix
    )
    assert again == matrix


@pytest.mark.usefixtures("nothing_made")
def test_another_moment_only_changes_the_dates(example: Workbook, matrix: bytes) -> None:
    later = datetime.datetime(2027, 5, 6, 7, 8, 10)
    again = matrix_book.matrix_workbook(
        example.organization, example.warnings, later, previous=matrix
    )
    assert again != matrix
    parts = stored(again)
    assert {n: p for n, p in parts.items() if n != "docProps/core.xml"} == {
        n: p for n, p in stored(matrix).items() if n != "docProps/core.xml"
    }


def test_a_changed_need_remakes_only_its_block(
    example: Workbook, matrix: bytes, need_changed: Workbook, counted: Counted
) -> None:
    organization, warnings = need_changed.organization, need_changed.warnings
    incremental = matrix_book.matrix_workbook(organization, warnings, MOMENT, previous=matrix)
    assert counted.workbooks == 0  # no column, row count or style changed
    (remade,) = counted.pieces
    assert b" Checked.</t>" in remade
    assert 0 < remade.count(b"<row ") <= xlsx.BLOCK_ROWS

    fresh = matrix_book.matrix_workbook(organization, warnings, MOMENT)
    assert incremental == fresh != matrix
    before, after = stored(matrix), stored(fresh)
    assert [name for name in after if after[name] != before[name]] == [HANDOFFS_PART]


def test_a_new_role_changes_the_structure(tmp_path: Path, matrix: bytes, counted: Counted) -> None:
    grown = copy_of_example(tmp_path / "grown", add_night_porter)
    organization, warnings = grown.organization, grown.warnings
    assert "night-porter" in {role.id for role in organization.roles}
    incremental = matrix_book.matrix_workbook(organization, warnings, MOMENT, previous=matrix)
    assert counted.workbooks == 1
    fresh = matrix_book.matrix_workbook(organization, warnings, MOMENT)
    assert incremental == fresh
    assert (
        openpyxl.load_workbook(io.BytesIO(incremental))["Roles"].max_row
        == len(organization.roles) + 1
    )


def test_a_previous_file_from_other_code_is_not_reused(
    example: Workbook, matrix: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as other:
        other.setattr(xlsx_package, "_maker", lambda: b"another version")
        older = matrix_book.matrix_workbook(example.organization, example.warnings, MOMENT)
    assert older != matrix
    calls: list[object] = []
    make = xlsx_package._openpyxl_parts

    def counting(shape: Any) -> Any:
        calls.append(shape)
        return make(shape)

    monkeypatch.setattr(xlsx_package, "_openpyxl_parts", counting)
    again = matrix_book.matrix_workbook(
        example.organization, example.warnings, MOMENT, previous=older
    )
    assert again == matrix
    assert len(calls) == 1


def flip(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x55]) + data[offset + 1 :]


def inside(part: str, data: bytes, into: int = 10) -> int:
    """Where the stored bytes of `part` begin, plus `into`."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entry = archive.getinfo(part)
    name_length, extra_length = (
        int.from_bytes(data[entry.header_offset + 26 : entry.header_offset + 28], "little"),
        int.from_bytes(data[entry.header_offset + 28 : entry.header_offset + 30], "little"),
    )
    return entry.header_offset + 30 + name_length + extra_length + into


def foreign(example: Workbook) -> bytes:
    """A workbook of the same sheets that another program wrote."""
    book = openpyxl.Workbook()
    book.active.title = "Matrix"
    for title in matrix_book.SHEETS[1:]:
        book.create_sheet(title).append(["Some", "other", "data"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


DAMAGE: dict[str, Callable[[bytes, Workbook], bytes]] = {
    "empty": lambda data, example: b"",
    "not a zip": lambda data, example: b"PK\x03\x04 not really a zip" * 100,
    "cut short": lambda data, example: data[: len(data) // 2],
    "cut off its end": lambda data, example: data[:-10],
    "flipped in the central directory": lambda data, example: flip(
        data, data.rindex(b"PK\x01\x02") + 20
    ),
    "flipped in a sheet's data": lambda data, example: flip(data, inside(HANDOFFS_PART, data)),
    "flipped in a note": lambda data, example: flip(data, data.rindex(b"PK\x05\x06") - 3),
    "flipped in a sheet's note": lambda data, example: flip(
        data, data.index(b":", data.index(b"PK\x01\x02")) + 1
    ),
    "another program's": lambda data, example: foreign(example),
    "a department's": lambda data, example: next(
        iter(review_workbooks.department_workbooks(example.organization, MOMENT).values())
    ),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_or_foreign_previous_gives_a_fresh_build(
    damage: str, example: Workbook, matrix: bytes
) -> None:
    previous = DAMAGE[damage](matrix, example)
    assert previous != matrix
    again = matrix_book.matrix_workbook(
        example.organization, example.warnings, MOMENT, previous=previous
    )
    assert again == matrix


def test_a_chain_of_builds_stays_the_same_as_fresh_ones(tmp_path: Path, example: Workbook) -> None:
    """Each build on the last one, through changes of every kind."""

    def retitle_a_role(root: Path) -> None:
        path = sorted((root / "roles").rglob("*.yaml"))[-1]
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"(?m)^title: (.*)$", r"title: Senior \1", text, count=1))

    steps: list[tuple[str, Callable[[Path], None]]] = [
        ("need", first_need_checked),
        ("none", lambda root: None),
        ("retitle", retitle_a_role),
        ("add", add_night_porter),
    ]
    previous = matrix_book.matrix_workbook(example.organization, example.warnings, MOMENT)
    for name, change in steps:
        loaded = copy_of_example(tmp_path / name, change)
        assert not loaded.errors, loaded.errors
        organization, warnings = loaded.organization, loaded.warnings
        incremental = matrix_book.matrix_workbook(organization, warnings, MOMENT, previous=previous)
        assert incremental == matrix_book.matrix_workbook(organization, warnings, MOMENT), name
        previous = incremental


# ---------------------------------------------------------------------------------------
# Department workbooks


def test_department_workbooks_copy_what_did_not_change(
    example: Workbook, need_changed: Workbook, counted: Counted
) -> None:
    before = review_workbooks.department_workbooks(example.organization, MOMENT)
    organization = need_changed.organization
    fresh = review_workbooks.department_workbooks(organization, MOMENT)
    counted.pieces.clear()
    counted.workbooks = 0

    incremental = review_workbooks.department_workbooks(organization, MOMENT, previous=before)
    assert incremental == fresh
    assert counted.workbooks == 0
    changed = sorted(slug for slug in fresh if fresh[slug] != before[slug])
    (handoff,) = (h for h in organization.handoffs if h.need.endswith(" Checked."))
    slugs = departments.department_slugs(organization.departments())
    assert changed == sorted(slugs[d] for d in slugs if departments.involves(handoff, d))
    # One block of rows remade in each workbook that holds the hand-off, nothing else.
    assert len(counted.pieces) == len(changed)
    assert all(b" Checked.</t>" in piece for piece in counted.pieces)


def test_department_workbooks_without_a_previous_one_are_made(
    example: Workbook, counted: Counted
) -> None:
    fresh = review_workbooks.department_workbooks(example.organization, MOMENT)
    slugs = sorted(fresh)
    kept, damaged, missing = slugs[0], slugs[1], slugs[2]
    previous = {kept: fresh[kept], damaged: fresh[damaged][:100]}
    counted.workbooks = 0
    again = review_workbooks.department_workbooks(
        example.organization, MOMENT, only=[kept, damaged, missing], previous=previous
    )
    assert again == {slug: fresh[slug] for slug in (kept, damaged, missing)}
    assert counted.workbooks == 2  # the damaged one and the missing one


# ---------------------------------------------------------------------------------------
# What a build that reuses everything costs


def test_a_build_that_reuses_everything_does_not_import_openpyxl(
    matrix: bytes, tmp_path: Path
) -> None:
    """openpyxl takes a third of a second to import: a build with nothing to make skips it."""
    previous = tmp_path / MATRIX
    previous.write_bytes(matrix)
    script = (
        "import datetime, sys\n"
        "from pathlib import Path\n"
        "from jobdefs.documents import matrix\n"
        "from jobdefs.workbook.load import load_workbook\n"
        f"loaded = load_workbook(Path({str(ROOT)!r}))\n"
        f"previous = Path({str(previous)!r}).read_bytes()\n"
        "data = matrix.matrix_workbook(loaded.organization, loaded.warnings,\n"
        f"    datetime.datetime.fromisoformat({MOMENT.isoformat()!r}), previous=previous)\n"
        "assert data == previous\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'openpyxl'))\n"
    )
    # From a folder of no package: `python -c` puts the current folder first on the path,
    # and a checkout's jobdefs/ would stand in for the installed one the matrix was made by.
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------------
# Rows written as XML read back as openpyxl wrote them


def test_text_numbers_and_dates_read_back_as_they_went_in() -> None:
    texts = [
        "=1+1",
        "@SUM(A1)",
        " leading",
        "trailing ",
        "tab\tinside",
        "line\r\nbreak",
        "carriage\rreturn",
        "nul\x00and\x1fcontrol",
        "<b>&amp;</b>",
        "x" * (sheets.CELL_MAX + 5),
        "ünïcode ↓ 放射科",
        "two\nlines",
    ]
    dates = ["1900-01-01", "1900-02-28", "1900-03-01", "2025-11-30"]
    roles = [
        Role(
            id=f"r{number}",
            file=f"roles/r{number}.yaml",
            title=text,
            department="D",
            purpose="To serve.",
            products=(Product("P", (Customer(text, role=f"r{(number + 1) % len(texts)}"),)),),
            reviewed=dates[number % len(dates)],
        )
        for number, text in enumerate(texts)
    ]
    found: list[Finding] = []
    organization = analyze.organize(
        name="Test Hospital",
        mission="",
        external_customers=(ExternalCustomer("patient", "Patient"),),
        roles=roles,
        settings=Settings(),
        findings=found,
        external_locations={},
    )
    assert not [f for f in found if f.is_error], found
    data = matrix_book.matrix_workbook(organization, [], MOMENT)
    book = openpyxl.load_workbook(io.BytesIO(data))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        # openpyxl keeps spaces either way; Excel drops those not marked to be kept.
        assert b'<t xml:space="preserve"> leading</t>' in archive.read("xl/worksheets/sheet3.xml")

    headers = [column.header for column in roles_sheet.ROLE_COLUMNS]
    by_id = {row[0].value: row for row in book["Roles"].iter_rows(min_row=2)}
    need = handoffs_sheet.HANDOFF_HEADERS.index("Need")
    needs = {row[need] for row in book["Hand-offs"].iter_rows(min_row=2, values_only=True)}
    for role in roles:
        row = by_id[role.id]
        title = row[headers.index("Title")]
        assert title.value == sheets.cell_text(role.title)
        assert title.data_type == "s"
        assert title.quotePrefix == role.title.startswith(("=", "@"))
        reviewed = row[headers.index("Last reviewed")]
        assert reviewed.value == datetime.datetime.fromisoformat(role.reviewed)
        assert reviewed.number_format == "yyyy-mm-dd"
        assert row[headers.index("Products")].value == 1
        assert sheets.cell_text(role.title) in needs


# ---------------------------------------------------------------------------------------
# Packages of pieces


def test_joined_pieces_make_one_deflate_stream() -> None:
    chunks = [b"<row>" * 500, b"", b"x", bytes(range(256)) * 40]
    part = ooxml.Part.joined("a.xml", [ooxml.Piece.of(chunk) for chunk in chunks])
    whole = b"".join(chunks)
    assert zlib.decompress(part.compressed, -15) == whole
    assert (part.crc, part.size) == (zlib.crc32(whole), len(whole))
    sizes = [(len(p.compressed), p.crc, p.size) for p in map(ooxml.Piece.of, chunks)]
    assert [p.size for p in part.split(sizes)] == [len(chunk) for chunk in chunks]
    with pytest.raises(ValueError, match="not made of these pieces"):
        part.split(sizes[1:])

    data = ooxml.write_package([part, ooxml.Part.of("b.xml", b"<b/>", comment=b"a note")])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        assert archive.read("a.xml") == whole
        assert [info.comment for info in archive.infolist()] == [b"", b"a note"]
    assert ooxml.stored_parts(data) == {
        "a.xml": part,
        "b.xml": ooxml.Part.of("b.xml", b"<b/>", comment=b"a note"),
    }


_cells = st.one_of(
    st.text(alphabet=st.sampled_from("ab\x1c\x1d\x1e\x1fN1' ")), st.none(), st.integers(-3, 3)
)
_rows = st.lists(st.lists(_cells, max_size=3).map(tuple), max_size=3).map(tuple)


@given(_rows, _rows)
def test_rows_are_digested_apart_exactly_when_they_differ(one: tuple, other: tuple) -> None:
    assert (xlsx._rows_key(one) == xlsx._rows_key(other)) == (one == other)
