"""Review answers carried from reviewed workbooks into the ones a build writes anew, and
what a build given none says it leaves out."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jobdefs.documents import handoffs_sheet
from jobdefs.feedback import review
from jobdefs.text import count
from jobdefs.workbook.load import Workbook


def dropped_answers(path: str, held: int) -> list[str]:
    """The note for a review workbook whose carried answers a build without --reviews
    leaves out of the one that replaces it."""
    if not held:
        return []
    return [
        f"{path} carried {count(held, 'review answer')} from a build given --reviews; this "
        "build was given none, so the new one has none: to keep them, build with --reviews "
        "and the answered workbooks"
    ]


def carried_reviews(workbook: Workbook, files: Sequence[Path]) -> Any:
    """The answers of reviewed workbooks that new review workbooks should carry."""
    if not files:
        return handoffs_sheet.NO_REVIEWS
    result = review.review(workbook.organization, files)
    suspect = {
        handoff.id: (
            f"Changed since it was reviewed (then: {answer.status or 'no status'}"
            f"{', ' + answer.reviewer if answer.reviewer else ''}"
            f"{', comment: ' + answer.comment if answer.comment else ''}): review it again"
        )
        for handoff, answer in result.suspect
    }
    answers = {h.id: (a.status, a.reviewer, a.comment) for h, a in result.current}
    return handoffs_sheet.CarriedReviews(answers=answers, suspect=suspect)
