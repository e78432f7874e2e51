"""The few exceptions a user can fix; the CLI reports them without a traceback."""

from __future__ import annotations


class JobdefsError(Exception):
    """A problem the user can fix; its message says how.

    `option` names the setting the problem is about ("only", "role"): the library's
    message names the thing, and the command line puts its own option's name before it.
    `usage` marks a mistake in what was asked rather than in the files (a role named that
    the workbook does not have, options that exclude each other): exit status 2.
    """

    usage = False

    def __init__(self, message: str, *, option: str = "", usage: bool | None = None) -> None:
        super().__init__(message)
        self.option = option
        if usage is not None:
            self.usage = usage

    def shown_with_option(self) -> str:
        """The message as the command line shows it: '--only: no role ...'."""
        return f"--{self.option.replace('_', '-')}: {self}" if self.option else str(self)


class NotAWorkbook(JobdefsError):
    """The folder given is not a workbook (a usage error, exit status 2)."""

    usage = True


class TemplateError(JobdefsError):
    """A Word template cannot be used: its path and the offending tag are in the message."""


class OutputError(JobdefsError):
    """An output could not be written (disk full, read-only folder); nothing was changed."""


class Interrupted(BaseException):
    """A build stopped by SIGINT or SIGTERM (jobdefs.build.interrupt). A BaseException, like
    KeyboardInterrupt, so that no `except Exception` on the way out takes it for an error."""

    def __init__(self, signum: int, replaced: bool) -> None:
        super().__init__(signum, replaced)
        self.signum = signum
        self.replaced = replaced  # whether the new outputs were already in place

    @property
    def exit_status(self) -> int:
        """128 + the signal's number, as a shell reports a process the signal ended."""
        return 128 + self.signum

    def __str__(self) -> str:
        if self.replaced:
            return "interrupted: the new outputs were already in place"
        return "interrupted: every output was left as it was"
