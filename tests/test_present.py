"""`jobdefs show` and `jobdefs roles`: the whole message a person reads, and the exit status."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from jobdefs import text
from jobdefs.cli import cli
from jobdefs.reports import present
from jobdefs.workbook.load import load_workbook

DATA = Path(__file__).parent / "data"
CHAIN = DATA / "chain"

NURSE = """\
title: Nurse
department: Nursing
purpose: Patients go home able to care for themselves.
products:
  - name: Discharge instructions
    customers:
      - external: patient
        need: Plain steps for medicines and warning signs.
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="jobdefs")
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_show_prints_products_suppliers_line_of_sight_and_findings() -> None:
    status, out, err = run("show", "-w", str(CHAIN), "phlebotomist")
    assert (status, err) == (0, "")
    assert (
        out
        == """\
Phlebotomist (phlebotomist)
===========================
Department: Laboratory
Reports to: Laboratory Technologist (lab-tech)
File:       roles/phlebotomist.yaml

Purpose
  Collect specimens the lab can trust.

Products
  Labelled specimen
    → Laboratory Technologist (Laboratory)
        need: Two identifiers on every tube.
        standard: In the lab within 30 minutes.

Suppliers
  Physician (Medicine): 'Lab order'

Line of sight
  to Patient (3 hand-offs):
    Phlebotomist → 'Labelled specimen' → Laboratory Technologist
    Laboratory Technologist → 'Verified result' → Physician
    Physician → 'Treatment plan' → Patient
  to Insurer (4 hand-offs):
    Phlebotomist → 'Labelled specimen' → Laboratory Technologist
    Laboratory Technologist → 'Verified result' → Physician
    Physician → 'Treatment plan' → Medical Coder
    Medical Coder → 'Coded claim' → Insurer

Findings
  none
"""
    )


def test_show_lists_every_customer_of_a_product_and_missing_standards() -> None:
    status, out, _ = run("show", "-w", str(CHAIN), "physician")
    assert status == 0
    products = out.split("\nProducts\n")[1].split("\n\n")[0]
    assert (
        products
        == """\
  Lab order
    → Phlebotomist (Laboratory)
        need: The right test for the right patient.
        standard: none set
  Treatment plan
    → Patient (external)
        need: To know what to do at home.
        standard: Explained before discharge.
    → Medical Coder (Health Information)
        need: Documented diagnoses to code.
        standard: none set"""
    )


def test_show_gives_the_roles_own_findings() -> None:
    status, out, err = run("show", "-w", str(DATA / "findings" / "receives-mismatch"), "nurse")
    assert (status, err) == (0, "")
    assert out.endswith(
        "\nFindings\n"
        "  roles/nurse.yaml:10:5: warning[receives-mismatch]: clerk lists no product "
        "'Patient registration' for nurse; it hands nurse 'Registered patient record'. Use "
        "the supplier's name for the product, or add the product to roles/clerk.yaml\n"
    )
    # The clerk's file has no finding of its own.
    assert run("show", "-w", str(DATA / "findings" / "receives-mismatch"), "clerk")[1].endswith(
        "\nFindings\n  none\n"
    )


def test_show_wraps_long_text_under_its_label(make_workbook: Callable[..., Path]) -> None:
    need = "The right patient, the right tube and enough blood, so the test runs first time."
    root = make_workbook(
        {
            "jobdefs.yaml": "organization: Wrap\n"
            "external_customers:\n  patient:\n    name: Patient\n",
            "roles/nurse.yaml": NURSE.replace(
                "Plain steps for medicines and warning signs.", need + " " + need
            ),
        }
    )
    out = run("show", "-w", str(root), "nurse")[1]
    assert (
        "        need: The right patient, the right tube and enough blood, so the test runs first\n"
        "              time. The right patient, the right tube and enough blood, so the test runs\n"
        "              first time.\n"
    ) in out
    assert max(len(line) for line in out.splitlines()) <= present.WIDTH


def test_show_accepts_the_role_files_path() -> None:
    by_id = run("show", "-w", str(CHAIN), "coder")
    by_path = run("show", "-w", str(CHAIN), "roles/coder.yaml")
    assert by_id == by_path
    assert by_id[1].startswith("Medical Coder (coder)\n")


def test_an_unknown_role_is_a_usage_error_with_a_suggestion() -> None:
    status, out, err = run("show", "-w", str(CHAIN), "phlebotomst")
    assert (status, out) == (2, "")
    assert err == (
        "Usage: jobdefs show [OPTIONS] ROLE\n"
        "Try 'jobdefs show --help' for help.\n"
        "\n"
        "Error: Invalid value for 'ROLE': there is no role 'phlebotomst' in Chain Test "
        "Hospital; did you mean 'phlebotomist'?\n"
    )


def test_a_role_title_suggests_the_roles_id() -> None:
    err = run("show", "-w", str(CHAIN), "Laboratory Technologist")[2]
    assert err.endswith(
        "Error: Invalid value for 'ROLE': there is no role 'Laboratory Technologist' in Chain "
        "Test Hospital; did you mean 'lab-tech'?\n"
    )


def test_an_unknown_role_with_nothing_close_points_to_the_role_list() -> None:
    err = run("show", "-w", str(CHAIN), "zzz")[2]
    assert err.endswith(
        "Error: Invalid value for 'ROLE': there is no role 'zzz' in Chain Test Hospital; "
        "run 'jobdefs roles' to list the role ids\n"
    )


def test_a_role_whose_file_cannot_be_read_shows_why(make_workbook: Callable[..., Path]) -> None:
    root = make_workbook(
        {
            "jobdefs.yaml": "organization: Broken\n",
            "roles/nurse.yaml": "title: [Nurse\n",
        }
    )
    status, out, err = run("show", "-w", str(root), "nurse")
    assert (status, out) == (1, "")
    assert err.startswith(
        "Error: the role file roles/nurse.yaml could not be read; fix it first:\n"
        "  roles/nurse.yaml:"
    )
    assert "error[yaml-syntax]" in err


def test_errors_elsewhere_are_noted_on_stderr(make_workbook: Callable[..., Path]) -> None:
    root = make_workbook(
        {
            "jobdefs.yaml": "organization: Half broken\nexternal_customers:\n  patient:\n"
            "    name: Patient\n",
            "roles/nurse.yaml": NURSE,
            "roles/clerk.yaml": "title: Clerk\n",
        }
    )
    status, out, err = run("show", "-w", str(root), "nurse")
    assert status == 0
    assert out.startswith("Nurse (nurse)\n")
    assert err == (
        "note: the workbook has 3 errors, so some roles or hand-offs may be missing; run "
        "'jobdefs check' to see them\n"
    )


def test_show_without_external_customers_says_so(make_workbook: Callable[..., Path]) -> None:
    root = make_workbook(
        {
            "roles/clerk.yaml": "title: Clerk\ndepartment: Front Desk\npurpose: Register.\n"
            "products:\n  - name: Record\n    customers:\n"
            "      - role: clerk\n        need: Itself.\n",
        }
    )
    out = run("show", "-w", str(root), "clerk")[1]
    assert "\nLine of sight\n  no external customers are declared in jobdefs.yaml\n" in out
    assert "\nSuppliers\n  Clerk (Front Desk): 'Record'\n" in out
    assert "warning[self-customer]" in out


def test_roles_prints_a_table_with_totals() -> None:
    status, out, err = run("roles", "-w", str(CHAIN))
    assert (status, err) == (0, "")
    assert (
        out
        == """\
Department          Title                    Id            Products  Customers  Suppliers
Health Information  Medical Coder            coder                1          1          1
Laboratory          Laboratory Technologist  lab-tech             1          1          1
Laboratory          Phlebotomist             phlebotomist         1          1          1
Medicine            Physician                physician            2          3          1

4 roles in 3 departments
"""
    )


def test_roles_as_json() -> None:
    status, out, err = run("roles", "-w", str(CHAIN), "--format", "json")
    assert (status, err) == (0, "")
    document = json.loads(out)
    assert document["organization"] == "Chain Test Hospital"
    assert [row["id"] for row in document["roles"]] == [
        "coder",
        "lab-tech",
        "phlebotomist",
        "physician",
    ]
    assert document["roles"][3] == {
        "id": "physician",
        "title": "Physician",
        "department": "Medicine",
        "file": "roles/physician.yaml",
        "products": 2,
        "customers": 3,
        "suppliers": 1,
    }


def test_role_table_of_an_empty_organization(make_workbook: Callable[..., Path]) -> None:
    root = make_workbook({"jobdefs.yaml": "organization: Empty\n", "roles/.keep": ""})
    rows = present.role_table(load_workbook(root).organization)
    assert rows == []
    assert present.format_role_table(rows) == "no roles\n"


def test_role_text_is_folded_onto_one_line_in_the_table(
    make_workbook: Callable[..., Path],
) -> None:
    root = make_workbook(
        {
            "roles/clerk.yaml": "title: |\n  Front\n  Clerk\ndepartment: Desk\npurpose: Register.\n"
            "products:\n  - name: Record\n    customers:\n"
            "      - role: clerk\n        need: Itself.\n",
        }
    )
    table = present.format_role_table(present.role_table(load_workbook(root).organization))
    assert table.splitlines()[1] == "Desk        Front Clerk  clerk         1          1          1"


def test_markdown_text_cannot_add_markup_links_html_or_mentions() -> None:
    assert text.markdown_text("**bold** [link](x) <b>hi</b> a|b `c` #1 @team $x$ ~s~ &amp;") == (
        r"\*\*bold\*\* \[link\](x) \<b\>hi\</b\> a\|b \`c\` \#1 @&#8203;team \$x\$ \~s\~ \&amp;"
    )
    assert text.markdown_text("two\nlines\\") == "two lines\\\\"
