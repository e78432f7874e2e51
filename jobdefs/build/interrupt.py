"""Ctrl-C and SIGTERM during a build: stop cleanly, and never between two moves into place.

While a build runs, SIGINT and SIGTERM raise `Interrupted` in the main thread, so that the
staging folder, the worker processes and LibreOffice are cleaned up on the way out and the
command line prints one line (exit status 128 + the signal's number: 130 for Ctrl-C, 143
for SIGTERM, as a shell reports a process the signal ended). While the new outputs are
moved into place (`all_or_nothing`), the signals wait: the replacement finishes, or rolls
back on an error, and only then does the build stop. SIGKILL cannot be caught; a build it
kills before the moves leaves every output as it was (its staging folder is removed by the
next build).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

from jobdefs.errors import Interrupted

SIGNALS = (signal.SIGINT, signal.SIGTERM)
__all__ = ["Interrupted", "all_or_nothing", "signals_stop_the_build"]

F = TypeVar("F", bound=Callable[..., Any])


class _State:
    stopping = False  # the first signal raised; cleaning up
    replaced = False  # the outputs of this build are in place


_state = _State()


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def signals_stop_the_build() -> Iterator[None]:
    """SIGINT and SIGTERM raise `Interrupted` while the block runs (from the main thread;
    elsewhere Python lets no one handle signals). A signal ignored when the block starts
    (`nohup`, a background job of a script) stays ignored."""
    if not _in_main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        if _state.stopping:
            return  # a second Ctrl-C while cleaning up: the cleanup is short, let it finish
        _state.stopping = True
        raise Interrupted(signum, _state.replaced)

    previous = {}
    for signum in SIGNALS:
        handler = signal.getsignal(signum)
        if handler is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, stop)
    _state.stopping = _state.replaced = False
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _state.stopping = _state.replaced = False


def all_or_nothing(function: F) -> F:
    """Run `function` with SIGINT and SIGTERM held back, then deliver the first that came.

    The handlers are swapped for one that only takes note, rather than masking the
    signals: a mask holds only for the thread that sets it, and the signal would reach
    Python through another thread all the same.
    """

    @wraps(function)
    def deferring(*args: Any, **kwargs: Any) -> Any:
        if not _in_main_thread():
            return function(*args, **kwargs)
        pending: list[int] = []
        previous = {}
        for signum in SIGNALS:
            handler = signal.getsignal(signum)
            if handler is not signal.SIG_IGN:
                previous[signum] = signal.signal(signum, lambda n, _: pending.append(n))
        try:
            result = function(*args, **kwargs)
            _state.replaced = True
            return result
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            if pending:  # to whichever handler was there: ours raises Interrupted
                signal.raise_signal(pending[0])

    return deferring  # type: ignore[return-value]
