"""The dates jobdefs works with, read once from SOURCE_DATE_EPOCH or the workbook.

Outputs never carry the clock, so that building twice gives the same bytes: their date is
SOURCE_DATE_EPOCH when it is set, else the newest `reviewed` date of any role, else
1980-01-01 (the earliest date a zip entry can hold). Reviews falling due are judged
against SOURCE_DATE_EPOCH's day when set, else today. A SOURCE_DATE_EPOCH that is not a
whole number of seconds is an error everywhere it is read, never silently the clock.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping

from jobdefs.errors import JobdefsError
from jobdefs.model import Organization

EPOCH_VARIABLE = "SOURCE_DATE_EPOCH"
ZIP_EARLIEST = datetime.datetime(1980, 1, 1)


def source_date(environ: Mapping[str, str] | None = None) -> datetime.datetime | None:
    """SOURCE_DATE_EPOCH as a moment in UTC (without a zone), or None when it is not set."""
    epoch = (os.environ if environ is None else environ).get(EPOCH_VARIABLE, "").strip()
    if not epoch:
        return None
    if not epoch.isdigit():
        raise JobdefsError(
            f"{EPOCH_VARIABLE} must be a whole number of seconds since 1970, not '{epoch}': "
            f"set it to a number such as $(git log -1 --format=%ct), or unset it"
        )
    try:
        moment = datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise JobdefsError(f"{EPOCH_VARIABLE} '{epoch}' is not a date jobdefs can use") from None
    return moment.replace(tzinfo=None)


def today(environ: Mapping[str, str] | None = None) -> datetime.date:
    """The date reviews are judged against: SOURCE_DATE_EPOCH's day when set, else today."""
    moment = source_date(environ)
    return moment.date() if moment else datetime.date.today()


def document_moment(
    organization: Organization, environ: Mapping[str, str] | None = None
) -> datetime.datetime:
    """The date every output carries: SOURCE_DATE_EPOCH, else the newest review, else 1980."""
    moment = source_date(environ)
    if moment is not None:
        return moment
    reviewed = [role.reviewed for role in organization.roles if role.reviewed]
    if reviewed:
        return datetime.datetime.fromisoformat(max(reviewed))
    return ZIP_EARLIEST
