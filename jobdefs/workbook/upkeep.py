"""Warnings that keep definitions true over time: review due dates and vague standards."""

from __future__ import annotations

import calendar
import datetime
import functools
import re
from collections.abc import Iterable, Sequence

from jobdefs.model import Finding, Role

WARNING_CODES = (
    "receives-mismatch",
    "self-customer",
    "no-line-of-sight",
    "unserved-external",
    "review-due",
    "vague-standard",
    "department-spelling",
    "journey-break",
    "journey-end",
    "asks-not-customer",
)

# A standard is vague when it leans on one of these words and offers nothing to measure.
VAGUE_TERMS = re.compile(
    r"\b(promptly|prompt|asap|as soon as possible|timely|quickly|quick|fast|soon|"
    r"high[- ]quality|good|great|excellent|appropriate(ly)?|as needed|as required|"
    r"efficient(ly)?|professional(ly)?|courteous(ly)?|reasonabl[ey]|adequate(ly)?|"
    r"satisfactor(y|ily)|best|properly|accurate(ly)?)\b",
    re.IGNORECASE,
)
MEASURABLE = re.compile(
    r"\d|%|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|"
    r"twenty|thirty|forty|fifty|sixty|hundred|half|once|twice|zero|none|all|every|each|"
    r"per|daily|weekly|monthly|yearly|annually|hourly|nightly|within|before|after|by|"
    r"until|same day|next day|end of (the )?(shift|day|visit))\b",
    re.IGNORECASE,
)


def add_months(day: datetime.date, months: int) -> datetime.date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def review_due(roles: Iterable[Role], every_months: int, on: datetime.date) -> list[Finding]:
    findings = []
    for role in roles:
        if not role.reviewed:
            findings.append(
                Finding.at(
                    role.where,
                    "warning",
                    "review-due",
                    f"{role.title} has never been reviewed, and roles are reviewed every "
                    f"{every_months} months: review it with its customers and add "
                    f"'reviewed: {on.isoformat()}'",
                )
            )
            continue
        due = add_months(datetime.date.fromisoformat(role.reviewed), every_months)
        if due <= on:
            findings.append(
                Finding.at(
                    role.location("reviewed"),
                    "warning",
                    "review-due",
                    f"{role.title} was last reviewed on {role.reviewed} and was due again on "
                    f"{due.isoformat()} (every {every_months} months): review it and update "
                    "'reviewed:'",
                )
            )
    return findings


# Organizations repeat the same few standards across thousands of hand-offs.
@functools.lru_cache(maxsize=4096)
def is_vague(standard: str) -> bool:
    return bool(VAGUE_TERMS.search(standard)) and not MEASURABLE.search(standard)


def vague_standards(roles: Sequence[Role]) -> list[Finding]:
    findings = []
    for role in roles:
        for product in role.products:
            for customer in product.customers:
                if customer.standard and is_vague(customer.standard):
                    findings.append(
                        Finding.at(
                            customer.standard_where or customer.where,
                            "warning",
                            "vague-standard",
                            f"the standard '{customer.standard}' for '{product.name}' cannot be "
                            "met or missed: it names no number, time, frequency or threshold. "
                            "Write what, by when or how often, e.g. 'Within 30 minutes of the "
                            "order', '100% labelled with two identifiers', 'Every shift'; or turn "
                            "this warning off with 'warnings: {vague-standard: false}' in "
                            "jobdefs.yaml",
                        )
                    )
    return findings
