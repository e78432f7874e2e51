"""Loading: one fixture workbook per finding code, and the YAML a person could write."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from jobdefs.model import Finding
from jobdefs.workbook.load import load_workbook

FINDINGS = Path(__file__).parent / "data" / "findings"

NURSE = """title: Nurse
department: Nursing
purpose: Patients go home able to care for themselves.
products:
  - name: Discharge instructions
    customers:
      - external: patient
        need: Plain steps for medicines and warning signs.
"""
ORG = "organization: Tiny Clinic\nexternal_customers:\n  patient:\n    name: Patient\n"

# code: (severity, file, line, column, key path)
EXPECTED = {
    "yaml-syntax": ("error", "roles/clerk.yaml", 3, 8, ""),
    "duplicate-key": ("error", "roles/nurse.yaml", 3, 1, "department"),
    "unknown-key": ("error", "roles/nurse.yaml", 3, 1, "purpse"),
    "wrong-type": ("error", "roles/nurse.yaml", 4, 11, "products"),
    "missing-key": ("error", "roles/nurse.yaml", 1, 1, "department"),
    "empty-value": ("error", "roles/nurse.yaml", 1, 7, "title"),
    "bad-character": ("error", "roles/nurse.yaml", 3, 10, "purpose"),
    "text-too-long": ("error", "roles/nurse.yaml", 3, 10, "purpose"),
    "bad-role-id": ("error", "roles/Front Desk Clerk.yaml", 1, 1, ""),
    "duplicate-role-id": ("error", "roles/ward/nurse.yml", 1, 1, ""),
    "customer-kind": ("error", "roles/nurse.yaml", 7, 9, "products[0].customers[0]"),
    "unknown-role": ("error", "roles/clerk.yaml", 7, 9, "products[0].customers[0].role"),
    "unknown-external": ("error", "roles/nurse.yaml", 7, 9, "products[0].customers[0].external"),
    "duplicate-product": ("error", "roles/nurse.yaml", 9, 5, "products[1].name"),
    "reports-to-cycle": ("error", "roles/clerk.yaml", 3, 1, "reports_to"),
    "receives-mismatch": ("warning", "roles/nurse.yaml", 10, 5, "receives[0]"),
    "self-customer": ("warning", "roles/nurse.yaml", 9, 9, "products[0].customers[1].role"),
    "no-line-of-sight": ("warning", "roles/clerk.yaml", 4, 1, "products"),
    "unserved-external": ("warning", "jobdefs.yaml", 5, 3, "external_customers.payer"),
    "department-spelling": ("warning", "roles/night-nurse.yaml", 2, 1, "department"),
    "unknown-handoff": ("error", "journeys/visit.yaml", 7, 5, "steps[1]"),
    "journey-break": ("warning", "journeys/visit.yaml", 7, 5, "steps[1]"),
    "journey-end": ("warning", "journeys/visit.yaml", 3, 1, "steps"),
}


def findings_of(root: Path) -> list[Finding]:
    return list(load_workbook(root).findings)


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_each_code_has_a_workbook_that_reports_it_where_it_is(code: str) -> None:
    severity, file, line, column, key_path = EXPECTED[code]
    first = findings_of(FINDINGS / code)[0]
    assert (first.severity, first.code, first.file, first.line, first.column) == (
        severity,
        code,
        file,
        line,
        column,
    )
    assert first.key_path == key_path


def test_every_contract_code_is_covered() -> None:
    contract = {
        "yaml-syntax",
        "duplicate-key",
        "unknown-key",
        "wrong-type",
        "missing-key",
        "empty-value",
        "bad-character",
        "text-too-long",
        "too-large",
        "bad-role-id",
        "duplicate-role-id",
        "customer-kind",
        "unknown-role",
        "unknown-external",
        "duplicate-product",
        "reports-to-cycle",
        "receives-mismatch",
        "self-customer",
        "no-line-of-sight",
        "unserved-external",
    }
    assert contract - set(EXPECTED) == {"too-large"}  # generated below, not committed


def test_too_large_is_refused_before_parsing(make_workbook: Callable[..., Path]) -> None:
    root = make_workbook({"jobdefs.yaml": ORG, "roles/nurse.yaml": NURSE + "#" * 50_000_000})
    [finding] = findings_of(root)
    assert (finding.code, finding.file, finding.line) == ("too-large", "roles/nurse.yaml", 1)
    assert "1,048,576" in finding.message


def test_did_you_mean_for_keys_roles_and_externals() -> None:
    messages = {
        f.code: f.message
        for code in ("unknown-key", "unknown-role", "unknown-external")
        for f in findings_of(FINDINGS / code)
    }
    assert "did you mean 'purpose'?" in messages["unknown-key"]
    assert "did you mean 'nurse'?" in messages["unknown-role"]
    assert "did you mean 'patient'?" in messages["unknown-external"]


@pytest.mark.parametrize(
    ("line", "typed"),
    [
        ("title: Yes", "Yes"),
        ("title: NO", "NO"),
        ("title: off", "off"),
        ("title: 010", "010"),
        ("title: 1.10", "1.10"),
        ("title: 12:30", "12:30"),
        ("title: 2026-01-05", "2026-01-05"),
        ("title: 1e3", "1e3"),
        ("title: .inf", ".inf"),
        ("title: 0x1F", "0x1F"),
        ("title: '{{ 7*7 }}'", "{{ 7*7 }}"),
        ('title: =HYPERLINK("http://x")', '=HYPERLINK("http://x")'),
    ],
)
def test_implicit_typing_never_changes_what_was_typed(
    make_workbook: Callable[..., Path], line: str, typed: str
) -> None:
    root = make_workbook(
        {"jobdefs.yaml": ORG, "roles/nurse.yaml": NURSE.replace("title: Nurse", line)}
    )
    workbook = load_workbook(root)
    assert workbook.findings == ()
    assert workbook.organization.role("nurse").title == typed


def test_revision_and_department_keep_their_text(make_workbook: Callable[..., Path]) -> None:
    role = NURSE.replace("department: Nursing", "department: NO") + "revision: 1.10\n"
    root = make_workbook({"jobdefs.yaml": ORG, "roles/nurse.yaml": role})
    nurse = load_workbook(root).organization.role("nurse")
    assert (nurse.department, nurse.revision) == ("NO", "1.10")


HOSTILE = {
    "binary junk": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "yaml-syntax", 3),
    "invalid UTF-8": (b"title: Nurse\ndepartment: Caf" + b"\xe9\n", "yaml-syntax", 2),
    "UTF-16 with a BOM": ("title: Nurse\n".encode("utf-16"), "yaml-syntax", 1),
    "an empty file": (b"", "yaml-syntax", 1),
    "only a comment": (b"# nothing yet\n", "yaml-syntax", 1),
    "a list at the top": (b"- title: Nurse\n", "yaml-syntax", 1),
    "a python tag": (b"title: !!python/object/apply:os.system ['echo hi']\n", "yaml-syntax", 1),
    "a custom tag": (b"title: !secret Nurse\n", "yaml-syntax", 1),
    "an alias bomb": (
        b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        b"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        b"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
        "yaml-syntax",
        2,
    ),
    "deep nesting": (b"title: " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "yaml-syntax", 1),
    "deep block nesting": (b"title:\n" + b"- " * 20_000 + b"x\n", "yaml-syntax", 2),
    "two documents": (NURSE.encode() + b"---\n" + NURSE.encode(), "yaml-syntax", 9),
    "a raw control character": (
        NURSE.replace("Nursing", "Nurs\x07ing").encode(),
        "bad-character",
        2,
    ),
    "a tab indentation": (b"title: Nurse\n\tdepartment: Nursing\n", "yaml-syntax", 2),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_anything_a_file_can_hold_is_a_finding_not_a_crash(
    make_workbook: Callable[..., Path], case: str
) -> None:
    content, code, line = HOSTILE[case]
    root = make_workbook({"jobdefs.yaml": ORG, "roles/nurse.yaml": content})
    first = findings_of(root)[0]
    assert (first.code, first.file, first.line) == (code, "roles/nurse.yaml", line)


def test_utf8_bom_and_crlf_line_endings_are_fine(make_workbook: Callable[..., Path]) -> None:
    content = b"\xef\xbb\xbf" + NURSE.replace("\n", "\r\n").encode()
    root = make_workbook({"jobdefs.yaml": ORG, "roles/nurse.yaml": content})
    workbook = load_workbook(root)
    assert workbook.findings == ()
    assert workbook.organization.role("nurse").title == "Nurse"


def test_role_files_in_sub_folders_and_skipped_names(make_workbook: Callable[..., Path]) -> None:
    root = make_workbook(
        {
            "jobdefs.yaml": ORG,
            "roles/ward/nurse.yml": NURSE,
            "roles/_drafts/broken.yaml": "title: [",
            "roles/.hidden.yaml": "title: [",
            "roles/_template.yaml": "title: [",
            "roles/notes.txt": "not a role",
        }
    )
    workbook = load_workbook(root)
    assert workbook.findings == ()
    assert [r.id for r in workbook.organization.roles] == ["nurse"]
    assert workbook.organization.role("nurse").file == "roles/ward/nurse.yml"


def test_without_jobdefs_yaml_the_folder_names_the_organization(
    make_workbook: Callable[..., Path],
) -> None:
    root = make_workbook(
        {"roles/nurse.yaml": NURSE.replace("      - external: patient\n", "      - role: nurse\n")}
    )
    workbook = load_workbook(root)
    assert workbook.organization.name == "workbook"
    assert workbook.organization.external_customers == ()
    assert [f.code for f in workbook.findings] == ["self-customer"]


def test_jobdefs_yaml_is_validated_too(make_workbook: Callable[..., Path]) -> None:
    root = make_workbook(
        {
            "jobdefs.yaml": "organisation: Tiny\nexternal_customers:\n  patient:\n    nam: P\n",
            "roles/nurse.yaml": NURSE,
        }
    )
    codes = [(f.code, f.file, f.line) for f in findings_of(root)]
    assert ("unknown-key", "jobdefs.yaml", 1) in codes
    assert ("unknown-key", "jobdefs.yaml", 4) in codes


def test_departments_that_differ_only_by_case_or_spaces_are_named_together() -> None:
    workbook = load_workbook(FINDINGS / "department-spelling")
    assert [f.message for f in workbook.findings] == [
        "the department 'nursing' is written 'Nursing' in roles/aide.yaml, roles/nurse.yaml; "
        "as spelled they are two departments, with two review workbooks. Write 'Nursing', or "
        "give the two departments names that differ in more than case and spaces"
    ]


CLERK_WITH_A_TYPO = (
    "title: Clerk\ndepartment: Ward\npurpose: Charts.\nproducts:\n  - name: Chart\n"
    "    customers:\n      - role: nurze\n        need: The chart before rounds.\n"
)
NURSE_WHO_RECEIVES_THE_CHART = (
    "title: Nurse\ndepartment: Ward\npurpose: Care.\nproducts:\n  - name: Care plan\n"
    "    customers:\n      - role: clerk\n        need: What to file.\n"
    "receives:\n  - product: Chart\n    from: clerk\n"
)


def test_a_typo_in_a_role_id_is_one_finding(make_workbook: Callable[..., Path]) -> None:
    root = make_workbook(
        {
            "jobdefs.yaml": "organization: Tiny Clinic\n",
            "roles/clerk.yaml": CLERK_WITH_A_TYPO,
            "roles/nurse.yaml": NURSE_WHO_RECEIVES_THE_CHART,
        }
    )
    assert [f.as_text() for f in load_workbook(root).findings] == [
        "roles/clerk.yaml:7:9: error[unknown-role]: customer role 'nurze' does not exist; "
        "did you mean 'nurse'?"
    ]  # and no receives-mismatch in nurse.yaml for the chart the typo sends elsewhere


def test_a_typo_naming_a_broken_file_still_gets_its_suggestion(
    make_workbook: Callable[..., Path],
) -> None:
    root = make_workbook(
        {
            "jobdefs.yaml": "organization: Tiny Clinic\n",
            "roles/clerk.yaml": CLERK_WITH_A_TYPO,
            "roles/nurse.yaml": NURSE_WHO_RECEIVES_THE_CHART + "oops: [\n",
        }
    )
    messages = [f.as_text() for f in load_workbook(root).findings]
    assert messages == [
        "roles/clerk.yaml:7:9: error[unknown-role]: customer role 'nurze' does not exist; "
        "did you mean 'nurse'?",
        "roles/nurse.yaml:13:1: error[yaml-syntax]: a '[' or '{' above is never closed; close "
        "each '[' with ']' and each '{' with '}', or put the value that holds it in quotes",
    ]


def test_an_unknown_role_gets_only_a_close_suggestion_or_how_to_add_it(
    make_workbook: Callable[..., Path],
) -> None:
    assistant = (
        "title: Medical Assistant\ndepartment: Clinic\nreports_to: medical-director\n"
        "purpose: Room patients.\nproducts:\n  - name: Roomed patient\n    customers:\n"
        "      - role: medical-assistant\n        need: x\n"
    )
    root = make_workbook(
        {"jobdefs.yaml": "organization: Tiny Clinic\n", "roles/medical-assistant.yaml": assistant}
    )
    [unknown] = [f for f in load_workbook(root).findings if f.code == "unknown-role"]
    assert unknown.message == (
        "reports_to role 'medical-director' does not exist; role ids are role file names "
        "without .yaml. If it is a new role, add its file (jobdefs new medical-director "
        "--title ... --department ...)"
    )
