"""A role's feedback questions, read from the file: plain text is for every customer, and
a question that `asks` someone must name one of the role's own customers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jobdefs.model import FeedbackQuestion, Finding, Location, Product
from jobdefs.text import did_you_mean
from jobdefs.workbook.schema import Shape
from jobdefs.workbook.source import Node


def written_as_text(shape: Shape, item: Node) -> bool:
    """Whether an item of a list of `shape` is to be read as the text its shorthand stands
    for: plain text, or a mapping that holds none of the shape's keys, which is text with an
    unquoted ': ' in it ("Question: was it clear?") and is reported as such."""
    if not shape.shorthand or item.kind == "list":
        return False
    return item.kind == "scalar" or not any(
        key.kind == "scalar" and key.text in shape.names for key, _ in item.pairs
    )


def read_questions(
    items: Sequence[Any], products: Sequence[Product], findings: list[Finding]
) -> tuple[FeedbackQuestion, ...]:
    """The questions of `feedback_questions`, each either text or a record holding
    `question` and maybe `asks`; a warning for each `asks` that names no customer."""
    # Whom the role serves, by the id its customers are written with. An external
    # customer wins over a role of the same id: people outside are who a question
    # names by id most of the time.
    keys: dict[str, str] = {}
    for product in products:
        for customer in product.customers:
            if customer.external is not None:
                keys[customer.external] = f"external:{customer.external}"
            elif customer.role is not None:
                keys.setdefault(customer.role, customer.role)
    questions = []
    for item in items:
        if isinstance(item, str):
            questions.append(FeedbackQuestion(item))
            continue
        if "question" not in item:
            continue  # already reported
        asks = item.get("asks")
        if asks is not None and asks not in keys:
            findings.append(_not_a_customer(item.location("asks"), asks, sorted(keys)))
        questions.append(FeedbackQuestion(item["question"], keys.get(asks, asks)))
    return tuple(questions)


def _not_a_customer(where: Location, asks: str, customers: list[str]) -> Finding:
    # A warning, as for a `receives` entry its supplier does not list: the id may well be
    # right and a customer missing. Until then the question is on no card.
    among = f" ({', '.join(customers)})" if customers else ""
    return Finding.at(
        where,
        "warning",
        "asks-not-customer",
        f"this question asks '{asks}', who is not among this role's customers{among}, so no "
        "question card asks it; name one of them, add that customer to a product, or remove "
        "'asks' to ask every customer" + did_you_mean(asks, customers),
    )


def questions_for(questions: Sequence[FeedbackQuestion], key: str) -> tuple[str, ...]:
    """The questions to ask the customer `key`: those that ask them, and the plain ones."""
    return tuple(q.text for q in questions if q.asks is None or q.asks == key)
