"""Feedback questions that say whom they ask, and the patient question cards made of them:
a page for each external customer, with only the questions meant for that customer."""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from jobdefs.feedback import survey_round
from jobdefs.feedback.question_card import card_pages, question_card
from jobdefs.model import FeedbackQuestion
from jobdefs.workbook.json_schema import json_schema
from jobdefs.workbook.load import load_workbook

REPO = Path(__file__).parent.parent
MOMENT = datetime.datetime(2026, 1, 2, 3, 4, 5)

CONFIG = """\
organization: Card Clinic
external_customers:
  patient:
    name: Patient
  payer:
    name: Payer (health insurer)
"""

BILLING = """\
title: Billing Clerk
department: Finance
purpose: Get each visit paid and never leave a patient puzzled by a bill.
products:
  - name: Insurance claim
    customers:
      - external: payer
        need: A claim whose codes match the care given, so it can be paid.
  - name: Patient statement
    customers:
      - external: patient
        need: To understand what they owe and whom to call.
      - role: manager
        need: Every statement sent on time.
"""

MANAGER = """\
title: Finance Manager
department: Finance
purpose: Keep the money coming in.
products:
  - name: Budget
    customers:
      - role: billing-clerk
        need: To know what to spend.
"""


def card_text(data: bytes) -> list[list[str]]:
    """Each page of a card as its paragraphs and question rows, in order."""
    document = docx.Document(io.BytesIO(data))
    pages: list[list[str]] = [[]]
    tables = iter(document.tables)
    for block in document.element.body.iterchildren():
        if block.tag == qn("w:tbl"):
            rows = next(tables).rows[1:]
            pages[-1] += ["? " + row.cells[0].text for row in rows]
        elif block.tag == qn("w:p"):
            if block.findall(f".//{qn('w:br')}"):
                pages.append([])
            text = "".join(t.text or "" for t in block.iter(qn("w:t")))
            if text:
                pages[-1].append(text)
    return pages


def workbook(make_workbook: Callable[..., Path], questions: str = "") -> Path:
    return make_workbook(
        {
            "jobdefs.yaml": CONFIG,
            "roles/billing-clerk.yaml": BILLING + questions,
            "roles/manager.yaml": MANAGER,
        }
    )


def test_without_questions_each_external_customer_gets_a_page_of_their_own_needs(
    make_workbook: Callable[..., Path],
) -> None:
    organization = load_workbook(workbook(make_workbook)).organization
    role = organization.role("billing-clerk")
    pages = card_text(question_card(organization, role, "round-1", MOMENT))
    assert [page[2] for page in pages] == ["For: Payer (health insurer)", "For: Patient"]
    assert [[line for line in page if line.startswith("? ")] for page in pages] == [
        ["? Did we meet this need: “A claim whose codes match the care given, so it can be paid”?"],
        ["? Did we help you understand what they owe and whom to call?"],
    ]
    assert pages[0][-1] == "Thank you. (Survey round 1 · Billing Clerk)"


def test_a_question_that_asks_someone_is_only_on_their_page_and_plain_ones_on_every_page(
    make_workbook: Callable[..., Path],
) -> None:
    questions = """\
feedback_questions:
  - Was it easy to reach us?
  - question: Did you understand your bill?
    asks: patient
  - question: Did the statements go out on time?
    asks: manager
"""
    loaded = load_workbook(workbook(make_workbook, questions))
    assert loaded.errors == ()
    role = loaded.organization.role("billing-clerk")
    assert role.feedback_questions == (
        FeedbackQuestion("Was it easy to reach us?"),
        FeedbackQuestion("Did you understand your bill?", "external:patient"),
        FeedbackQuestion("Did the statements go out on time?", "manager"),
    )
    assert [(page.customer, page.questions) for page in card_pages(loaded.organization, role)] == [
        ("Payer (health insurer)", ("Was it easy to reach us?",)),
        ("Patient", ("Was it easy to reach us?", "Did you understand your bill?")),
    ]


def test_a_role_whose_questions_all_ask_colleagues_gets_no_card(
    make_workbook: Callable[..., Path],
) -> None:
    questions = """\
feedback_questions:
  - question: Did the statements go out on time?
    asks: manager
"""
    organization = load_workbook(workbook(make_workbook, questions)).organization
    files, skipped = survey_round.round_files(organization, organization.roles, "round-1", MOMENT)
    assert sorted(files) == ["billing-clerk.xlsx", "manager.xlsx"]
    assert skipped == []


def test_a_question_that_asks_no_customer_is_a_warning_and_on_no_card(
    make_workbook: Callable[..., Path],
) -> None:
    questions = """\
feedback_questions:
  - question: Did you understand your bill?
    asks: patiant
"""
    loaded = load_workbook(workbook(make_workbook, questions))
    assert [f.as_text() for f in loaded.findings] == [
        "roles/billing-clerk.yaml:17:5: warning[asks-not-customer]: this question asks "
        "'patiant', who is not among this role's customers (manager, patient, payer), so no "
        "question card asks it; name one of them, add that customer to a product, or remove "
        "'asks' to ask every customer; did you mean 'patient'?"
    ]
    assert card_pages(loaded.organization, loaded.organization.role("billing-clerk")) == ()


def test_a_question_mapping_needs_its_question(make_workbook: Callable[..., Path]) -> None:
    loaded = load_workbook(workbook(make_workbook, "feedback_questions:\n  - asks: patient\n"))
    assert [(f.code, f.line) for f in loaded.errors] == [("missing-key", 16)]


def test_the_schema_takes_plain_questions_and_questions_that_say_whom_they_ask() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json_schema("role"))
    role = {
        "title": "Nurse",
        "department": "Nursing",
        "purpose": "Patients go home able to care for themselves.",
        "products": [{"name": "Plan", "customers": [{"external": "patient", "need": "To know"}]}],
    }
    good = ["Was it clear?", {"question": "Was it clear?", "asks": "patient"}]
    assert validator.is_valid({**role, "feedback_questions": good})
    for bad in ({"asks": "patient"}, {"question": "Was it clear?", "whom": "patient"}, 3):
        assert not validator.is_valid({**role, "feedback_questions": [bad]})


def test_the_example_hospitals_cards_ask_each_customer_only_their_questions() -> None:
    organization = load_workbook(REPO).organization
    president = card_pages(organization, organization.role("hospital-president"))
    assert [(p.customer, p.questions) for p in president] == [
        ("Patient", ("Which of our community's needs do you think we are still missing?",))
    ]
    billing = card_pages(organization, organization.role("patient-account-representative"))
    assert [p.customer for p in billing] == ["Patient"]


def test_a_cached_role_keeps_whom_its_questions_ask(
    make_workbook: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JOBDEFS_NO_CACHE", raising=False)
    questions = "feedback_questions:\n  - question: Was it clear?\n    asks: payer\n"
    root = workbook(make_workbook, questions)
    first = load_workbook(root, cached=True)
    assert first.role_cache is not None
    first.role_cache.save()
    again = load_workbook(root, cached=True)
    assert again.role_cache is not None and again.role_cache.hits == 2
    assert again.organization.role("billing-clerk").feedback_questions == (
        FeedbackQuestion("Was it clear?", "external:payer"),
    )
