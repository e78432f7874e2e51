"""Time jobdefs.documents.matrix against a plain openpyxl (normal mode) writer of the same content.

    python benchmarks/bench_excel.py [--roles 1000] [--repeat 3]

Builds a synthetic organization in memory (a sparse hand-off graph: each role hands two or
three products to one to three customers), writes the internal-customer matrix and the
department workbooks both ways, and prints the best time of each, the peak memory Python
allocated (tracemalloc, measured in a separate run because tracing slows everything down)
and the ratios. A benchmark, not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import io
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table, TableStyleInfo

from jobdefs.documents import (
    findings_sheet,
    handoffs_sheet,
    matrix,
    review_workbooks,
    roles_sheet,
    sheets,
)
from jobdefs.model import (
    EXTERNAL_DEPARTMENT,
    Customer,
    ExternalCustomer,
    Finding,
    HandOff,
    Organization,
    Party,
    Product,
    Role,
    Settings,
)
from jobdefs.workbook import analyze
from jobdefs.workbook import departments as department_rules

MOMENT = datetime.datetime(2026, 1, 1)
WORDS = (
    "record",
    "report",
    "schedule",
    "order",
    "plan",
    "result",
    "summary",
    "request",
    "specimen",
    "note",
    "list",
    "claim",
    "image",
    "consent",
    "label",
    "chart",
)


def organization(size: int, seed: int = 1) -> tuple[Organization, list[Finding]]:
    """`size` roles in size // 30 + 1 departments, with a sparse hand-off graph."""
    rng = random.Random(seed)
    externals = [
        ExternalCustomer("patient", "Patient"),
        ExternalCustomer("family", "Family"),
        ExternalCustomer("payer", "Payer"),
    ]
    departments = [f"Department {n:02d}" for n in range(size // 30 + 1)]
    ids = [f"role-{n:04d}" for n in range(size)]
    roles = []
    for n, role_id in enumerate(ids):
        products = []
        for p in range(rng.randint(2, 3)):
            customers = []
            for _ in range(rng.randint(1, 3)):
                need = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 20)))
                standard = "Within 24 hours, complete and legible." if rng.random() < 0.5 else ""
                if rng.random() < 0.1:
                    customers.append(Customer(need, standard, external=rng.choice(externals).id))
                else:
                    other = rng.choice(ids)
                    if other != role_id:
                        customers.append(Customer(need, standard, role=other))
            if customers:
                name = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} {p}"
                products.append(Product(name, tuple(customers)))
        roles.append(
            Role(
                id=role_id,
                file=f"roles/{role_id}.yaml",
                title=f"Role {n:04d} {rng.choice(WORDS)} officer",
                department=departments[n % len(departments)],
                purpose="Serve the next person in the chain.",
                products=tuple(products),
                reports_to=ids[0] if n else None,
            )
        )
    findings: list[Finding] = []
    org = analyze.organize(
        name="Synthetic Hospital",
        mission="",
        external_customers=externals,
        roles=roles,
        settings=Settings(),
        findings=findings,
        external_locations={},
    )
    return org, [f for f in findings if not f.is_error]


# ---------------------------------------------------------------------------------------
# The naive writers: normal mode, a style object made for every cell, the way openpyxl's
# tutorial writes a sheet. Same sheets, values, styles, table and drop-down. The first
# draws the matrix the obvious way, every cell of the N x N grid bordered and wrapped; the
# second ("filled cells only") touches only the cells that hold products, as jobdefs does.


def _style(
    cell: Any,
    *,
    bold: bool = False,
    fill: str | None = None,
    wrap: bool = True,
    grid: bool = False,
    number_format: str | None = None,
) -> None:
    cell.font = Font(name="Calibri", sz=11, b=bold)
    cell.alignment = Alignment(horizontal="left", vertical="top", wrap_text=wrap)
    if fill:
        cell.fill = PatternFill(fill_type="solid", start_color=fill, end_color=fill)
    if grid:
        side = Side(style="thin", color="FFBFBFBF")
        cell.border = Border(left=side, right=side, top=side, bottom=side)
    if number_format:
        cell.number_format = number_format


def _text(ws: Any, row: int, column: int, value: str) -> Any:
    cell = ws.cell(row=row, column=column, value=value)
    cell.data_type = "s"
    return cell


def _naive_handoffs(ws: Any, handoffs: list[HandOff] | tuple[HandOff, ...]) -> None:
    for column, spec in enumerate(handoffs_sheet.HANDOFF_COLUMNS, 1):
        _style(_text(ws, 1, column, spec.header), bold=True, fill="FF1F4E78")
        ws.column_dimensions[get_column_letter(column)].width = spec.width
    for row, handoff in enumerate(handoffs, 2):
        lines = 1
        for column, (spec, value) in enumerate(
            zip(handoffs_sheet.HANDOFF_COLUMNS, handoffs_sheet.handoff_row(handoff), strict=True), 1
        ):
            if value:
                _style(_text(ws, row, column, value))
                if spec.style == "prose":
                    lines = max(lines, sheets.wrapped_lines(value, spec.width))
            else:
                _style(ws.cell(row=row, column=column))
        if lines > 1:
            ws.row_dimensions[row].height = lines * 15 + 3
    ref = f"A1:L{max(len(handoffs), 1) + 1}"
    table = Table(displayName="HandOffs", ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    ws.add_table(table)
    validation = DataValidation(type="list", formula1='"Agreed,Needs change,Not needed"')
    validation.add(f"H2:H{max(len(handoffs), 1) + 1}")
    ws.add_data_validation(validation)
    ws.freeze_panes = "A2"


def naive_matrix_workbook(org: Organization, warnings: list[Finding], grid: bool = True) -> bytes:
    """The obvious normal-mode writer; with `grid`, it styles every cell of the N² matrix."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Matrix"
    customers = [org.party(r) for r in org.roles] + [
        Party("external", x.id, x.name, EXTERNAL_DEPARTMENT) for x in org.external_customers
    ]
    position = {p.key: i for i, p in enumerate(customers)}
    _style(_text(ws, 1, 1, "Supplier ↓   Customer →"), bold=True, grid=True)
    _style(_text(ws, 1, 2, "Department"), bold=True, grid=True)
    for i, party in enumerate(customers):
        _style(_text(ws, 1, i + 3, party.title), bold=True, fill="FFDDEBF7", grid=True)
        _style(_text(ws, 2, i + 3, party.department), fill="FFDDEBF7", grid=True)
        ws.column_dimensions[get_column_letter(i + 3)].width = 22
    for index, role in enumerate(org.roles):
        row = index + 3
        _style(_text(ws, row, 1, role.title), bold=True, fill="FFDDEBF7", grid=True)
        _style(_text(ws, row, 2, role.department), fill="FFDDEBF7", grid=True)
        cells: dict[int, dict[str, None]] = {}
        for h in org.handoffs_from(role.id):
            cells.setdefault(position[h.customer.key], {})[h.product] = None
        lines = 1
        for column in range(len(customers)) if grid else cells:
            names = cells.get(column, {})
            if names:
                value = "\n".join(names)
                _style(
                    _text(ws, row, column + 3, value),
                    fill="FFE2EFDA",
                    grid=True,
                    number_format=f'"({len(names)}) "@',
                )
                lines = max(lines, sheets.wrapped_lines(value, 22))
            else:  # an empty cell, styled so that the grid has lines and wraps what is typed
                _style(
                    ws.cell(row=row, column=column + 3),
                    grid=True,
                    fill="FFA6A6A6" if column == index else None,
                )
        if not grid and index not in cells:
            _style(ws.cell(row=row, column=index + 3), fill="FFA6A6A6", grid=True)
        if lines > 1:
            ws.row_dimensions[row].height = lines * 15 + 3
    ws.freeze_panes = "C3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = "1:2"
    ws.print_title_cols = "A:B"

    _naive_handoffs(wb.create_sheet("Hand-offs"), org.handoffs)

    roles = wb.create_sheet("Roles")
    for column, spec in enumerate(roles_sheet.ROLE_COLUMNS, 1):
        _style(_text(roles, 1, column, spec.header), bold=True, fill="FF1F4E78")
    for row, role in enumerate(org.roles, 2):
        reaches = [line.external.name for line in org.lines_of_sight.get(role.id, ())]
        values = (
            role.id,
            role.title,
            role.department,
            role.reports_to or "",
            role.reports_to or "",
            len(role.products),
            len(org.customers_of(role.id)),
            len(org.suppliers_of(role.id)),
            "Yes" if reaches else "No",
            ", ".join(reaches),
            None,
            role.file,
        )
        for column, value in enumerate(values, 1):
            cell = roles.cell(row=row, column=column, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
            _style(cell)

    findings = wb.create_sheet("Findings")
    for column, spec in enumerate(findings_sheet.FINDING_COLUMNS, 1):
        _style(_text(findings, 1, column, spec.header), bold=True, fill="FF1F4E78")
    for row, f in enumerate(warnings, 2):
        for column, value in enumerate(
            (f.severity, f.code, f.file, f.line, f.column, f.message), 1
        ):
            _style(findings.cell(row=row, column=column, value=value))
    counts = wb.create_sheet("Matrix counts")  # the same grid, a number in each cell
    for i, party in enumerate(customers):
        _style(_text(counts, 1, i + 3, party.title), bold=True, fill="FFDDEBF7", grid=True)
    for index, role in enumerate(org.roles):
        _style(_text(counts, index + 3, 1, role.title), bold=True, fill="FFDDEBF7", grid=True)
        shown: dict[int, set[str]] = {}
        for h in org.handoffs_from(role.id):
            shown.setdefault(position[h.customer.key], set()).add(h.product)
        for column, names in shown.items():
            _style(counts.cell(row=index + 3, column=column + 3, value=len(names)), grid=True)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def naive_department_workbooks(org: Organization) -> dict[str, bytes]:
    result = {}
    for department, slug in department_rules.department_slugs(org.departments()).items():
        wb = Workbook()
        ws = wb.active
        ws.title = "Hand-offs"
        _naive_handoffs(
            ws,
            [
                h
                for h in org.handoffs
                if h.supplier.department == department
                or (h.customer.kind == "role" and h.customer.department == department)
            ],
        )
        buffer = io.BytesIO()
        wb.save(buffer)
        result[slug] = buffer.getvalue()
    return result


# ---------------------------------------------------------------------------------------


def best_time(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_memory(run: Callable[[], object]) -> float:
    gc.collect()
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roles", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many timings")
    parser.add_argument(
        "--grid",
        choices=("time", "all", "skip"),
        default="time",
        help="the N x N naive writer takes minutes: time it only (default), also trace its "
        "memory (another ~15 minutes at 1,000 roles), or skip it",
    )
    args = parser.parse_args()

    org, warnings = organization(args.roles)
    filled = sum(len({h.customer.key for h in org.handoffs_from(r.id)}) for r in org.roles)
    print(
        f"{len(org.roles)} roles, {len(org.departments())} departments, "
        f"{len(org.handoffs)} hand-offs, matrix {len(org.roles)} x "
        f"{len(org.roles) + len(org.external_customers)} with {filled} cells filled"
    )
    cases: list[tuple[str, Callable[[], object], Callable[[], object], bool]] = [
        (
            "matrix vs N x N naive",
            lambda: matrix.matrix_workbook(org, warnings, MOMENT),
            lambda: naive_matrix_workbook(org, warnings, grid=True),
            args.grid == "all",
        ),
        (
            "matrix vs filled-only",
            lambda: matrix.matrix_workbook(org, warnings, MOMENT),
            lambda: naive_matrix_workbook(org, warnings, grid=False),
            True,
        ),
        (
            "department workbooks",
            lambda: review_workbooks.department_workbooks(org, MOMENT),
            lambda: naive_department_workbooks(org),
            True,
        ),
    ]
    if args.grid == "skip":
        cases = cases[1:]
    print(f"{'':24}{'time (s)':^28}   {'peak traced memory (MiB)':^28}")
    heads = f"{'jobdefs':>10}{'naive':>10}{'ratio':>8}"
    print(f"{'':24}{heads}   {heads}")
    for name, ours, naive, trace in cases:
        # The N x N writer takes minutes: once is enough.
        repeat = 1 if name.endswith("N x N naive") else args.repeat
        ours_time, naive_time = best_time(ours, args.repeat), best_time(naive, repeat)
        line = f"{name:24}{ours_time:10.2f}{naive_time:10.2f}{naive_time / ours_time:7.1f}x   "
        if trace:
            ours_memory, naive_memory = peak_memory(ours), peak_memory(naive)
            line += f"{ours_memory:10.1f}{naive_memory:10.1f}{naive_memory / ours_memory:7.1f}x"
        else:
            line += f"{'(not traced: --grid all)':>28}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
