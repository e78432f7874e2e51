"""The few exceptions a user can fix; the CLI reports them without a traceback."""

from __future__ import annotations


class JobdefsError(Exception):
    """A problem the user can fix; its message says how."""


class NotAWorkbook(JobdefsError):
    """The folder given is not a workbook (a usage error, exit status 2)."""


class TemplateError(JobdefsError):
    """A Word template cannot be used: its path and the offending tag are in the message."""


class OutputError(JobdefsError):
    """An output could not be written (disk full, read-only folder); nothing was changed."""
