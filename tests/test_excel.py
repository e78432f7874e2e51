"""The Excel workbooks, reopened with openpyxl and read the way a department head reads them."""

from __future__ import annotations

import datetime
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from libreoffice import convert, needs_soffice

from jobdefs.documents import (
    findings_sheet,
    handoffs_sheet,
    matrix,
    review_workbooks,
    roles_sheet,
    sheets,
    xlsx,
)
from jobdefs.model import (
    Customer,
    ExternalCustomer,
    Finding,
    Organization,
    Product,
    Role,
    Settings,
)
from jobdefs.output import DEPARTMENTS, MATRIX
from jobdefs.workbook import analyze
from jobdefs.workbook import departments as department_rules
from jobdefs.workbook.load import Workbook, load_workbook

SMALL_CLINIC = Path(__file__).parent / "data" / "small-clinic"
MOMENT = datetime.datetime(2026, 3, 1, 9, 30, 0)
HOSTILE = (
    '=HYPERLINK("http://x","y")',
    "+1",
    "-2",
    "@SUM(A1)",
    "#N/A",
    "{{ 7*7 }}",
    "=1+1",
    "#REF!",
)

ID = handoffs_sheet.HANDOFF_HEADERS.index("Hand-off id")


def open_xlsx(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data))


def values(sheet: Any) -> list[list[Any]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def form_values(sheet: Any) -> list[list[Any]]:
    """A department's review form from its header row on: below the title block."""
    rows = values(sheet)
    top = next(n for n, row in enumerate(rows) if "Hand-off id" in row)
    return rows[top:]


def listed(cell: Any) -> list[str]:
    """The products a Matrix cell lists, one per line and nothing else (the contract)."""
    if not cell.value:
        return []
    lines: list[str] = cell.value.split("\n")
    return lines


@pytest.fixture(scope="module")
def sample() -> Workbook:
    return load_workbook(SMALL_CLINIC)


@pytest.fixture(scope="module")
def sample_xlsx(sample: Workbook) -> bytes:
    return matrix.matrix_workbook(sample.organization, sample.warnings, MOMENT)


@pytest.fixture(scope="module")
def book(sample_xlsx: bytes) -> Any:
    return open_xlsx(sample_xlsx)


def write_workbook(root: Path, config: dict[str, Any], roles: dict[str, dict[str, Any]]) -> Path:
    """A workbook folder; JSON is YAML, and it quotes every hostile string for us."""
    (root / "roles").mkdir(parents=True)
    (root / "jobdefs.yaml").write_text(json.dumps(config, indent=2), encoding="utf-8")
    for role_id, role in roles.items():
        text = json.dumps(role, indent=2, ensure_ascii=False)
        (root / "roles" / f"{role_id}.yaml").write_text(text, encoding="utf-8")
    return root


def make_organization(
    roles: list[Role], externals: tuple[ExternalCustomer, ...] = ()
) -> tuple[Organization, list[Finding]]:
    findings: list[Finding] = []
    organization = analyze.organize(
        name="Test Hospital",
        mission="",
        external_customers=externals,
        roles=roles,
        settings=Settings(),
        findings=findings,
        external_locations={},
    )
    assert not [f for f in findings if f.is_error], findings
    return organization, findings


def role(role_id: str, department: str, *products: Product, title: str = "") -> Role:
    return Role(
        id=role_id,
        file=f"roles/{role_id}.yaml",
        title=title or role_id.replace("-", " ").title(),
        department=department,
        purpose="To serve.",
        products=products,
    )


def product(name: str, *customers: str) -> Product:
    made = []
    for customer in customers:
        if customer.startswith("external:"):
            made.append(Customer(f"{name} for {customer}", external=customer.split(":")[1]))
        else:
            made.append(Customer(f"{name} for {customer}", role=customer))
    return Product(name, tuple(made))


def cells(book: Any) -> list[Any]:
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


# ---------------------------------------------------------------------------------------
# The matrix workbook


def test_sheets_are_the_contracts_in_order(book: Any) -> None:
    # The contract's four in its order; a workbook with journeys has their sheet after them.
    assert book.sheetnames == [
        "Matrix",
        "Hand-offs",
        "Roles",
        "Findings",
        "Journeys",
        "Matrix counts",
    ]


def test_matrix_counts_holds_each_cells_number_of_products(book: Any) -> None:
    matrix_sheet, counts = book["Matrix"], book["Matrix counts"]
    first_row, first_column = matrix.MATRIX_FIRST_ROW, matrix.MATRIX_FIRST_COLUMN
    assert [c.value for c in counts[1]] == [c.value for c in matrix_sheet[1]]
    assert [c.value for c in counts["A"]][first_row - 1 :] == [c.value for c in matrix_sheet["A"]][
        first_row - 1 :
    ]
    numbers = 0
    for listed_row, counted_row in zip(
        matrix_sheet.iter_rows(min_row=first_row, min_col=first_column),
        counts.iter_rows(min_row=first_row, min_col=first_column),
        strict=False,
    ):
        for products, counted in zip(listed_row, counted_row, strict=False):
            expected = len(products.value.split("\n")) if products.value else None
            assert counted.value == expected, products.coordinate
            numbers += expected is not None
    assert numbers > 0
    assert counts.freeze_panes == matrix_sheet.freeze_panes
    assert counts.print_title_cols == "$A:$A"
    # Narrow columns, yet each word of a customer's title or department fits in one, up
    # to a word of COUNTS_WIDEST letters (this one has longer).
    letter = counts.cell(1, first_column).column_letter
    words = [
        w
        for cell in (*counts[1][first_column - 1 :], *counts[2][first_column - 1 :])
        for w in re.split(r"[\s/-]+", str(cell.value or ""))
    ]
    width = counts.column_dimensions[letter].width
    assert width == min(max(map(len, words)) + 2, matrix.COUNTS_WIDEST)
    assert matrix.COUNTS_COLUMN_WIDTH < width < matrix.MATRIX_COLUMN_WIDTH


def test_the_findings_sheet_prints_one_page_across(sample: Workbook) -> None:
    warned = [Finding("warning", "vague-standard", "x " * 300, "roles/nurse.yaml", 4, 3)]
    sheet = open_xlsx(matrix.matrix_workbook(sample.organization, warned, MOMENT))["Findings"]
    widths = [sheet.column_dimensions[c].width for c in "ABCDEF"]
    assert sheets.pages_across(widths) == sheet.page_setup.fitToWidth == 1
    assert sheet["F2"].alignment.wrap_text  # a long message wraps instead


def test_matrix_has_suppliers_down_and_customers_across(book: Any, sample: Workbook) -> None:
    organization = sample.organization
    sheet = book["Matrix"]
    roles = organization.roles
    customers = [r.title for r in roles] + [x.name for x in organization.external_customers]
    first_row, first_column = matrix.MATRIX_FIRST_ROW, matrix.MATRIX_FIRST_COLUMN

    row_one = [c.value for c in sheet[1]][first_column - 1 :]
    assert row_one == customers
    column_a = [c.value for c in sheet["A"]][first_row - 1 :]
    assert column_a == [r.title for r in roles]
    # Departments are labelled on both axes; external customers' read External.
    column_b = [c.value for c in sheet["B"]][first_row - 1 :]
    assert column_b == [r.department for r in roles]
    departments = [c.value for c in sheet[2]][first_column - 1 :]
    assert departments == [r.department for r in roles] + ["External"] * len(
        organization.external_customers
    )

    keys = [r.id for r in roles] + [f"external:{x.id}" for x in organization.external_customers]
    for row_index, supplier in enumerate(roles):
        for column_index, key in enumerate(keys):
            expected = list(
                dict.fromkeys(
                    h.product
                    for h in organization.handoffs_from(supplier.id)
                    if h.customer.key == key
                )
            )
            cell = sheet.cell(first_row + row_index, first_column + column_index)
            assert listed(cell) == expected, (supplier.id, key)


def test_matrix_count_shading_diagonal_and_gaps(book: Any, sample: Workbook) -> None:
    sheet = book["Matrix"]
    organization = sample.organization
    physician = [r.id for r in organization.roles].index("physician")
    row = matrix.MATRIX_FIRST_ROW + physician
    diagonal = sheet.cell(row, matrix.MATRIX_FIRST_COLUMN + physician)
    assert diagonal.value is None
    assert diagonal.fill.fgColor.rgb == "FFA6A6A6"

    filled = [c for c in sheet[row][matrix.MATRIX_FIRST_COLUMN - 1 :] if c.value]
    assert filled
    every = [c for r in sheet.iter_rows(min_row=matrix.MATRIX_FIRST_ROW) for c in r[2:] if c.value]
    assert any(len(listed(cell)) > 1 for cell in every)
    for cell in filled + every:
        count = len(listed(cell))
        # The number is shown as well as shaded, never colour alone, by a number format that
        # leaves the cell's value the list of products.
        assert cell.number_format == f'"({count}) "@'
        assert cell.value.split("\n") == listed(cell)
        assert cell.alignment.wrap_text

    # The practice manager is nobody's customer: its column is marked, not only coloured.
    manager = [r.id for r in organization.roles].index("practice-manager")
    header = sheet.cell(1, matrix.MATRIX_FIRST_COLUMN + manager)
    assert header.value == "Practice Manager"
    assert "nobody supplies" in header.number_format
    assert header.fill.fgColor.rgb == "FFFFD966"


def test_matrix_is_frozen_and_printable(book: Any, sample: Workbook) -> None:
    sheet = book["Matrix"]
    assert sheet.freeze_panes == "C3"
    assert sheet.page_setup.orientation == "landscape"
    # As many pages across as it takes at 7 points or more, never shrunk onto one page.
    organization = sample.organization
    customers = len(organization.roles) + len(organization.external_customers)
    widths = [sheet.column_dimensions["B"].width] + [matrix.MATRIX_COLUMN_WIDTH] * customers
    across = sheets.pages_across(widths, [sheet.column_dimensions["A"].width])
    assert sheet.page_setup.fitToWidth == across > 1
    assert sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$1:$2"
    assert sheet.print_title_cols == "$A:$A"
    # A list wider than a page repeats what tells its rows apart: a role's id and title.
    roles = book["Roles"]
    assert roles.page_setup.fitToWidth > 1
    assert roles.print_title_cols == "$A:$B"
    assert [roles.cell(1, n).value for n in (1, 2)] == ["Role id", "Title"]
    for name in book.sheetnames:
        page = book[name]
        assert page.oddHeader.left.text == organization.name
        assert page.oddHeader.right.text == name
        assert page.oddFooter.center.text == "Page &P of &N"


def test_matrix_writes_no_empty_cells(sample_xlsx: bytes, sample: Workbook) -> None:
    """Memory and size follow the hand-offs: only titles, products and the diagonal."""
    sheet_xml = zipfile.ZipFile(io.BytesIO(sample_xlsx)).read("xl/worksheets/sheet1.xml")
    organization = sample.organization
    width = len(organization.roles) + len(organization.external_customers)
    filled = sum(
        len({h.customer.key for h in organization.handoffs_from(r.id)}) for r in organization.roles
    )
    headers = 2 * (width + 2) + 2 * len(organization.roles)
    assert len(re.findall(rb"<c ", sheet_xml)) <= headers + filled + len(organization.roles)


def test_handoffs_sheet_rows_match_the_model(book: Any, sample: Workbook) -> None:
    sheet = book["Hand-offs"]
    rows = values(sheet)
    assert tuple(rows[0]) == handoffs_sheet.HANDOFF_HEADERS
    assert rows[0][:10] == [
        "Supplier",
        "Supplier department",
        "Product",
        "Customer",
        "Customer department",
        "Need",
        "Standard",
        "Status",
        "Reviewer",
        "Comment",
    ]
    assert rows[0][ID - 1 :] == ["Review note", "Hand-off id", "Fingerprint"]
    handoffs = sample.organization.handoffs
    assert len(rows) == len(handoffs) + 1
    for row, handoff in zip(rows[1:], handoffs, strict=True):
        assert row == [value or None for value in handoffs_sheet.handoff_row(handoff)]
        assert row[ID] == handoff.id and row[ID + 1] == handoff.fingerprint
        assert row[7:10] == [None, None, None]  # left for the reviewers
        if handoff.customer.kind == "external":
            assert row[4] == "External"
    assert len({row[ID] for row in rows[1:]}) == len(handoffs)


def test_handoffs_table_dropdown_and_frozen_header(book: Any, sample: Workbook) -> None:
    sheet = book["Hand-offs"]
    last = len(sample.organization.handoffs) + 1
    assert sheet.freeze_panes == "A2"
    table = sheet.tables[xlsx.HANDOFFS_TABLE]
    assert table.ref == f"A1:M{last}"
    assert table.autoFilter.ref == f"A1:M{last}"
    assert [c.name for c in table.tableColumns] == list(handoffs_sheet.HANDOFF_HEADERS)

    (validation,) = sheet.data_validations.dataValidation
    assert validation.type == "list"
    assert validation.formula1 == '"Agreed,Needs change,Not needed"'
    assert str(validation.sqref) == f"H2:H{last}"
    assert validation.showErrorMessage
    # It prints on one page across, the id and fingerprint left off, at 7 points or more.
    assert sheet.print_area == "'Hand-offs'!$A$1:$J$" + str(last)
    widths = [c.width for c in handoffs_sheet.HANDOFF_COLUMNS[:10]]
    assert sheet.page_setup.fitToWidth == sheets.pages_across(widths) == 1
    for letter in "HIJ":  # the cells to fill in are yellow and framed
        cell = sheet[f"{letter}2"]
        assert cell.fill.fgColor.rgb == sheets.ANSWER_FILL and cell.border.left.style


def test_roles_sheet_counts(book: Any, sample: Workbook) -> None:
    organization = sample.organization
    rows = values(book["Roles"])
    assert rows[0] == [c.header for c in roles_sheet.ROLE_COLUMNS]
    assert [row[0] for row in rows[1:]] == [r.id for r in organization.roles]
    by_id = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    lab = by_id["lab-technician"]
    assert lab["Title"] == "Laboratory Technician"
    assert lab["Department"] == "Laboratory"
    assert lab["Reports to"] == "Practice Manager"
    assert lab["Reports to id"] == "practice-manager"
    assert lab["Source file"] == "roles/lab-technician.yaml"
    for r in organization.roles:
        row = by_id[r.id]
        assert row["Products"] == len(r.products)
        assert row["Customers"] == len(organization.customers_of(r.id))
        assert row["Suppliers"] == len(organization.suppliers_of(r.id))
        assert row["Line of sight"] == ("Yes" if organization.lines_of_sight[r.id] else "No")
    assert by_id["practice-manager"]["Suppliers"] == 0


def test_findings_sheet_lists_every_warning(book: Any, sample: Workbook) -> None:
    rows = values(book["Findings"])
    assert rows[0] == ["Severity", "Code", "File", "Line", "Column", "Message"]
    assert rows[1:] == [
        [w.severity, w.code, w.file, w.line, w.column, w.message] for w in sample.warnings
    ]
    assert rows[1][1] == "receives-mismatch"


def test_findings_sheet_says_when_there_are_none(sample: Workbook) -> None:
    data = matrix.matrix_workbook(sample.organization, [], MOMENT)
    rows = values(open_xlsx(data)["Findings"])
    assert len(rows) == 2
    assert rows[1][0] == "none"
    assert rows[1][-1] == findings_sheet.NO_WARNINGS


def test_roles_last_reviewed_is_a_date() -> None:
    organization, _ = make_organization(
        [
            Role(
                id="a",
                file="roles/a.yaml",
                title="A",
                department="D",
                purpose="p",
                products=(product("Thing", "b"),),
                reviewed="2025-11-30",
            ),
            role("b", "D", product("Other", "a")),
        ]
    )
    rows = values(open_xlsx(matrix.matrix_workbook(organization, [], MOMENT))["Roles"])
    column = [c.header for c in roles_sheet.ROLE_COLUMNS].index("Last reviewed")
    assert rows[1][column] == datetime.datetime(2025, 11, 30)
    assert rows[2][column] is None
    assert rows[1][[c.header for c in roles_sheet.ROLE_COLUMNS].index("Line of sight")] == "n/a"


# ---------------------------------------------------------------------------------------
# Safety: role text stays text


def hostile_workbook(root: Path) -> Workbook:
    roles: dict[str, dict[str, Any]] = {}
    for number, text in enumerate(HOSTILE):
        roles[f"role-{number}"] = {
            "title": text,
            "department": text,
            "purpose": text,
            "products": [
                {
                    "name": text,
                    "customers": [
                        {
                            "role": f"role-{(number + 1) % len(HOSTILE)}",
                            "need": text,
                            "standard": text,
                        },
                        {"external": "evil", "need": text},
                    ],
                }
            ],
        }
    config = {"organization": "=Evil()", "external_customers": {"evil": {"name": "@evil"}}}
    loaded = load_workbook(write_workbook(root, config, roles))
    assert not loaded.errors, loaded.errors
    return loaded


def assert_no_formula(book: Any) -> None:
    for cell in cells(book):
        assert cell.data_type not in ("f", "e"), (cell.parent.title, cell.coordinate, cell.value)


def test_hostile_text_stays_text(tmp_path: Path) -> None:
    loaded = hostile_workbook(tmp_path / "hostile")
    data = matrix.matrix_workbook(loaded.organization, loaded.warnings, MOMENT)
    book = open_xlsx(data)
    assert_no_formula(book)

    seen = {c.value: c for c in cells(book) if isinstance(c.value, str)}
    for text in HOSTILE:
        assert text in seen, text
        assert seen[text].data_type == "s"
    matrix_titles = [c.value for c in book["Matrix"]["A"]][matrix.MATRIX_FIRST_ROW - 1 :]
    assert sorted(matrix_titles) == sorted(HOSTILE)
    assert "@evil" in [c.value for c in book["Matrix"][1]]
    # Excel also keeps them text when someone edits the cell.
    assert seen['=HYPERLINK("http://x","y")'].quotePrefix

    # And not even the raw XML holds a formula or an error value.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                xml = archive.read(name)
                assert b"<f>" not in xml and b"<f " not in xml
                assert b't="e"' not in xml and b't="str"' not in xml

    for slug, department_data in review_workbooks.department_workbooks(
        loaded.organization, MOMENT
    ).items():
        department_book = open_xlsx(department_data)
        assert_no_formula(department_book)
        assert department_book.sheetnames == ["Hand-offs"], slug


def test_text_that_cannot_go_in_a_cell_is_never_cut_silently() -> None:
    assert sheets.cell_text("fine\ttext\n") == "fine\ttext\n"
    assert sheets.cell_text("a\x00b\x1fc") == "a\ufffdb\ufffdc"
    long = "x" * (sheets.CELL_MAX + 10)
    cut = sheets.cell_text(long)
    assert len(cut) == sheets.CELL_MAX
    assert cut.endswith("(cut: longer than a spreadsheet cell holds)")

    names = ["p" * 20_000, "q" * 20_000, "short"]
    listed = matrix._product_list(names)
    assert len(listed) <= sheets.CELL_MAX
    assert listed.split("\n") == ["p" * 20_000, "… and 2 more: see the Hand-offs sheet"]


# ---------------------------------------------------------------------------------------
# Department workbooks and their slugs


def test_department_workbooks_hold_the_departments_handoffs(sample: Workbook) -> None:
    organization = sample.organization
    workbooks = review_workbooks.department_workbooks(organization, MOMENT)
    slugs = department_rules.department_slugs(organization.departments())
    assert sorted(workbooks) == sorted(slugs.values())
    assert slugs["Front Desk"] == "front-desk"
    for department, slug in slugs.items():
        book = open_xlsx(workbooks[slug])
        assert book.sheetnames == ["Hand-offs"]
        sheet = book["Hand-offs"]
        rows = form_values(sheet)
        assert tuple(rows[0]) == handoffs_sheet.HANDOFF_HEADERS
        ids = [row[ID] for row in rows[1:]]
        expected = [
            h.id
            for h in organization.handoffs
            if h.supplier.department == department
            or (h.customer.kind == "role" and h.customer.department == department)
        ]
        assert ids == expected and ids, department
        for row in rows[1:]:
            assert department in (row[1], row[4])
        top = review_workbooks.HEADER_ROW
        last = top + len(rows) - 1
        assert sheet.tables[xlsx.HANDOFFS_TABLE].ref == f"A{top}:M{last}"
        (validation,) = sheet.data_validations.dataValidation
        assert str(validation.sqref) == f"H{top + 1}:H{last}"
        assert sheet.freeze_panes == f"A{top + 1}"


def test_some_departments_hand_offs_are_those_of_all_departments() -> None:
    """A build groups only the departments whose workbooks changed, from their own roles."""
    organization = load_workbook(Path(__file__).parent.parent).organization
    departments = organization.departments()
    everything = department_rules.handoffs_by_department(organization)
    assert everything == {
        department: [h for h in organization.handoffs if department_rules.involves(h, department)]
        for department in departments
    }
    for count in (0, 1, 3):
        some = departments[-count:] if count else ()
        assert department_rules.handoffs_by_department(organization, some) == {
            department: everything[department] for department in some
        }


SLUG = re.compile(r"^[^\W_]+(-[^\W_]+)*$")


def test_department_slugs_are_safe_and_unique() -> None:
    names = [
        "Laboratory",
        "laboratory",
        "LABORATORY!",
        "Laboratory-2",
        "Radiologie / Imagerie médicale",
        "Radiologie \\ Imagerie medicale",
        "Pédiatrie",
        "Pediatrie",
        "What? *Now* [really]: yes",
        "a" * 300,
        "a" * 300 + "b",
        "???",
        "",
        "..",
        "../../etc/passwd",
        "CON",
        "lpt1",
        "Urgences – Soins intensifs",
        "放射科",
        "Ελληνικά",
        " leading and trailing ",
        "under_score",
    ]
    slugs = department_rules.department_slugs(names)
    assert list(slugs) == names
    assert len(set(slugs.values())) == len(names)
    for name, slug in slugs.items():
        assert SLUG.match(slug), (name, slug)
        assert slug == slug.lower()
        assert len(slug) <= department_rules.SLUG_MAX + 4
        assert "." not in slug and "/" not in slug and "\\" not in slug
        assert slug not in ("con", "prn", "aux", "nul", "lpt1", "com1")
    assert slugs["Radiologie / Imagerie médicale"] == "radiologie-imagerie-medicale"
    # Accents fold; of names that clean alike, the shortest, then the first, keeps the slug.
    assert slugs["Pediatrie"] == "pediatrie"
    assert slugs["Pédiatrie"] == "pediatrie-2"
    assert slugs["Laboratory"] == "laboratory"
    assert slugs["Laboratory-2"] == "laboratory-2"  # its own name, not taken by a twin
    assert {slugs["laboratory"], slugs["LABORATORY!"]} == {"laboratory-3", "laboratory-4"}
    assert {slugs[""], slugs[".."], slugs["???"]} == {"department", "department-2", "department-3"}
    assert slugs["CON"] == "con-department"
    assert slugs["What? *Now* [really]: yes"] == "what-now-really-yes"
    assert slugs["放射科"] == "放射科"
    assert slugs["../../etc/passwd"] == "etc-passwd"
    # The same names in another order get the same slugs.
    assert department_rules.department_slugs(reversed(names)) == slugs


def test_department_slugs_stay_in_the_output_folder(tmp_path: Path) -> None:
    folder = tmp_path / DEPARTMENTS
    for slug in department_rules.department_slugs(
        ["..", "../x", "a/../../b", ".hidden", "C:\\x"]
    ).values():
        assert (folder / f"{slug}.xlsx").resolve().parent == folder.resolve()


def test_hostile_department_names_make_valid_workbooks() -> None:
    departments = [
        "Imaging: X-ray / CT [2]",
        "Imaging? X-ray \\ CT *2*",
        "External",
        "=cmd|' /C calc'!A0",
        "é" * 40,
    ]
    roles = [
        role(
            f"r{n}",
            department,
            product(f"P{n}", f"r{(n + 1) % len(departments)}", "external:patient"),
        )
        for n, department in enumerate(departments)
    ]
    organization, _ = make_organization(roles, (ExternalCustomer("patient", "Patient"),))
    workbooks = review_workbooks.department_workbooks(organization, MOMENT)
    slugs = department_rules.department_slugs(organization.departments())
    assert len(workbooks) == len(departments)
    for department in departments:
        book = open_xlsx(workbooks[slugs[department]])
        rows = form_values(book["Hand-offs"])[1:]
        for row in rows:
            assert department in (row[1], row[4])
        if department == "External":
            # A department called External does not review every external customer's
            # hand-off: only those of its own role (r2) and those handed to it.
            assert {row[0] for row in rows if row[3] == "Patient"} == {"R2"}
        assert_no_formula(book)


# ---------------------------------------------------------------------------------------
# Determinism and other applications


def test_same_organization_and_moment_give_the_same_bytes(sample: Workbook) -> None:
    first = matrix.matrix_workbook(sample.organization, sample.warnings, MOMENT)
    second = matrix.matrix_workbook(sample.organization, sample.warnings, MOMENT)
    assert first == second
    assert review_workbooks.department_workbooks(sample.organization, MOMENT) == (
        review_workbooks.department_workbooks(sample.organization, MOMENT)
    )


def test_the_clock_is_nowhere_in_the_file(sample_xlsx: bytes) -> None:
    today = datetime.date.today()
    with zipfile.ZipFile(io.BytesIO(sample_xlsx)) as archive:
        for info in archive.infolist():
            assert info.date_time == (2026, 3, 1, 9, 30, 0)
            content = archive.read(info)
            assert today.isoformat().encode() not in content, info.filename
            assert b"openpyxl" not in content.lower(), info.filename
        core = archive.read("docProps/core.xml").decode()
    assert "2026-03-01T09:30:00Z" in core
    assert "Hillcrest Community Clinic" in core


def test_another_moment_changes_only_the_dates(sample: Workbook) -> None:
    later = matrix.matrix_workbook(
        sample.organization, sample.warnings, datetime.datetime(2027, 5, 6, 7, 8, 10)
    )
    earlier = matrix.matrix_workbook(sample.organization, sample.warnings, MOMENT)
    assert later != earlier

    def parts(data: bytes) -> dict[str, bytes]:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return {n: archive.read(n) for n in archive.namelist() if n != "docProps/core.xml"}

    assert parts(later) == parts(earlier)


@needs_soffice
def test_libreoffice_opens_the_matrix(sample_xlsx: bytes, tmp_path: Path) -> None:
    source = tmp_path / MATRIX
    source.write_bytes(sample_xlsx)
    convert([source], tmp_path, tmp_path / "profile", timeout=180)
    pdf = tmp_path / "internal-customer-matrix.pdf"
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF")


# ---------------------------------------------------------------------------------------
# The department review workbook is a form


CHAIN = Path(__file__).parent / "data" / "chain"


def test_the_department_review_workbook_is_a_form() -> None:
    organization = load_workbook(CHAIN).organization
    data = review_workbooks.department_workbooks(organization, MOMENT)["laboratory"]
    sheet = open_xlsx(data)["Hand-offs"]
    top = review_workbooks.HEADER_ROW
    rows = values(sheet)
    # A title block: whose it is, from when, what is asked and how to send it back.
    block = [row[0] for row in rows[: top - 1]]
    assert block[0] == "Laboratory: hand-offs to review"
    assert block[1] == (
        "Chain Test Hospital · as of 2026-03-01 · 3 hand-offs your department gives or receives"
    )
    assert "choose a Status: Agreed, Needs change or Not needed; say why in Comment" in block[3]
    assert "Send it back within two weeks" in block[4]
    assert "at the far right on screen (they are not printed)" in block[4]
    assert sheet["A1"].font.b and sheet["A1"].font.sz == 14
    assert tuple(rows[top - 1]) == handoffs_sheet.HANDOFF_HEADERS
    handoffs = rows[top:]
    assert len(handoffs) == 3 and all(row[ID] for row in handoffs)

    # Protected without a password; Status, Reviewer and Comment are the only open cells,
    # and they look it: yellow and framed. Comment wraps.
    assert sheet.protection.sheet and not sheet.protection.password
    opened = {
        (cell.row, cell.column_letter)
        for row in sheet.iter_rows()
        for cell in row
        if not cell.protection.locked
    }
    last = top + len(handoffs)
    assert opened == {(n, letter) for n in range(top + 1, last + 1) for letter in "HIJ"}
    for letter in "HIJ":
        cell = sheet[f"{letter}{top + 1}"]
        assert cell.fill.fgColor.rgb == sheets.ANSWER_FILL
        assert cell.border.left.style == cell.border.bottom.style == "thin"
    assert sheet[f"J{top + 1}"].alignment.wrap_text
    assert all(sheet[f"{letter}{top}"].protection.locked for letter in "HIJ")  # the header

    # The id and fingerprint at the far right, narrow, not printed.
    assert rows[top - 1][-2:] == ["Hand-off id", "Fingerprint"]
    assert sheet.column_dimensions["L"].width <= 12 and sheet.column_dimensions["M"].width <= 12
    assert sheet.print_area == f"'Hand-offs'!$A$1:$J${last}"

    # Printed landscape on one page across, the header row on every page, whose it is
    # at the top of each page and its number at the foot.
    assert sheet.page_setup.orientation == "landscape"
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.print_title_rows == f"${top}:${top}"
    assert sheet.oddHeader.left.text == "Chain Test Hospital"
    assert sheet.oddHeader.right.text == "Laboratory: hand-offs to review"
    assert sheet.oddFooter.center.text == "Page &P of &N"
    assert sheet.freeze_panes == f"A{top + 1}"


def test_a_review_form_carrying_a_note_prints_it() -> None:
    organization = load_workbook(CHAIN).organization
    noted = organization.handoffs[0]
    reviews = handoffs_sheet.CarriedReviews(suspect={noted.id: "Changed since it was reviewed"})
    for data in review_workbooks.department_workbooks(organization, MOMENT, reviews).values():
        sheet = open_xlsx(data)["Hand-offs"]
        printed = sheet.print_area.rpartition("!")[2].split(":")[1].strip("$")[0]
        rows = form_values(sheet)
        assert printed == ("K" if any(row[ID] == noted.id for row in rows[1:]) else "J")


@pytest.mark.parametrize(
    ("widths", "repeated", "pages"),
    [
        ([10] * 15, [], 1),  # 150 characters: one page across at 7 points
        ([10] * 16, [], 2),
        ([20] * 36, [28], 6),  # the example hospital's matrix: six columns a page
        ([200], [], 1),  # one column wider than a page still takes one
    ],
)
def test_pages_across_keep_eleven_point_text_at_seven_or_more(
    widths: list[float], repeated: list[float], pages: int
) -> None:
    assert sheets.pages_across(widths, repeated) == pages
    room = (sheets.PAGE_POINTS[True] - 2 * 72 * sheets.SIDE_MARGIN) / sheets.POINTS_PER_CHARACTER
    assert 11 * sheets.PRINT_SCALE >= 7.0 and room / sheets.PRINT_SCALE >= 150
