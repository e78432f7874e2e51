"""The derived hand-offs, suppliers and lines of sight, on a workbook checked by hand."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from jobdefs.documents.job_aid import job_aid_context
from jobdefs.model import HandOff, Organization
from jobdefs.workbook.load import load_workbook

CHAIN = Path(__file__).parent / "data" / "chain"


@pytest.fixture(scope="module")
def org() -> Organization:
    workbook = load_workbook(CHAIN)
    assert workbook.findings == ()
    return workbook.organization


def test_roles_are_grouped_by_department_then_title(org: Organization) -> None:
    assert [(r.department, r.title) for r in org.roles] == [
        ("Health Information", "Medical Coder"),
        ("Laboratory", "Laboratory Technologist"),
        ("Laboratory", "Phlebotomist"),
        ("Medicine", "Physician"),
    ]


def test_every_customer_entry_is_one_handoff(org: Organization) -> None:
    triples = [(h.supplier.id, h.product, h.customer.key) for h in org.handoffs]
    assert triples == [
        ("coder", "Coded claim", "external:payer"),
        ("lab-tech", "Verified result", "physician"),
        ("phlebotomist", "Labelled specimen", "lab-tech"),
        ("physician", "Lab order", "phlebotomist"),
        ("physician", "Treatment plan", "external:patient"),
        ("physician", "Treatment plan", "coder"),
    ]
    payer = org.handoffs[0]
    assert (payer.customer.title, payer.customer.department) == ("Insurer", "External")


def test_handoff_ids_are_stable_and_unique(org: Organization) -> None:
    ids = [h.id for h in org.handoffs]
    assert len(set(ids)) == len(ids)
    again = load_workbook(CHAIN).organization
    assert [h.id for h in again.handoffs] == ids


def test_suppliers_are_derived_from_the_other_roles_files(org: Organization) -> None:
    assert [r.id for r in org.suppliers_of("physician")] == ["lab-tech"]
    assert [r.id for r in org.suppliers_of("lab-tech")] == ["phlebotomist"]
    assert [r.id for r in org.suppliers_of("coder")] == ["physician"]
    assert org.suppliers_of("physician") and not org.role("physician").receives[0:0]
    assert [p.key for p in org.customers_of("physician")] == [
        "phlebotomist",
        "external:patient",
        "coder",
    ]


def chains(org: Organization, role_id: str) -> dict[str, list[str]]:
    return {
        sight.external.id: [f"{h.supplier.id}>{h.product}>{h.customer.key}" for h in sight.chain]
        for sight in org.lines_of_sight[role_id]
    }


def test_line_of_sight_is_the_shortest_chain_to_each_external_customer(
    org: Organization,
) -> None:
    assert chains(org, "phlebotomist") == {
        "patient": [
            "phlebotomist>Labelled specimen>lab-tech",
            "lab-tech>Verified result>physician",
            "physician>Treatment plan>external:patient",
        ],
        "payer": [
            "phlebotomist>Labelled specimen>lab-tech",
            "lab-tech>Verified result>physician",
            "physician>Treatment plan>coder",
            "coder>Coded claim>external:payer",
        ],
    }
    assert chains(org, "coder") == {"payer": ["coder>Coded claim>external:payer"]}
    assert list(chains(org, "physician")) == ["patient", "payer"]


def test_a_role_outside_every_chain_has_no_line_of_sight() -> None:
    org = load_workbook(Path(__file__).parent / "data" / "findings" / "no-line-of-sight")
    assert org.organization.lines_of_sight["courier"] == ()
    assert org.organization.lines_of_sight["nurse"] != ()


def test_the_example_hospital_passes_strictly() -> None:
    import datetime

    # Reviews fall due over time; judge them on a fixed day, not the clock.
    workbook = load_workbook(Path(__file__).parent.parent, review_date=datetime.date(2026, 11, 23))
    assert workbook.findings == ()
    org = workbook.organization
    assert len(org.roles) >= 20
    assert len(org.departments()) >= 8
    assert all(org.lines_of_sight[r.id] for r in org.roles)


def test_hand_offs_are_what_their_constructor_makes(org: Organization) -> None:
    """They are made without it, for speed: every field, equal, and the same hashes."""
    assert org.handoffs
    for handoff in org.handoffs:
        worked_out = {"id", "fingerprint"}  # kept in the instance once asked for
        assert set(vars(handoff)) - worked_out == {f.name for f in dataclasses.fields(HandOff)}
        made = HandOff(**{f.name: getattr(handoff, f.name) for f in dataclasses.fields(HandOff)})
        assert (handoff, handoff.where, handoff.id, handoff.fingerprint) == (
            made,
            made.where,
            made.id,
            made.fingerprint,
        )


def test_the_gap_a_job_aid_shows_is_the_one_the_check_reports() -> None:
    # One rule decides both: a product a role expects that its supplier does not list.
    workbook = load_workbook(Path(__file__).parent / "data" / "findings" / "receives-mismatch")
    (finding,) = [f for f in workbook.findings if f.code == "receives-mismatch"]
    assert "clerk lists no product 'Patient registration' for nurse" in finding.message
    organization = workbook.organization
    gaps = job_aid_context(organization, organization.role("nurse"))["gaps"]
    assert [(gap["product"], gap["supplier"]) for gap in gaps] == [
        ("Patient registration", organization.role("clerk").title)
    ]
