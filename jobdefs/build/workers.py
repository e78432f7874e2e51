"""Worker processes that render job aids, and that never outlive the build that started them.

Each worker asks the kernel to kill it when its parent dies (Linux: `PR_SET_PDEATHSIG`);
where that cannot be asked (macOS, Windows), a thread in the worker waits on the pipe that
multiprocessing keeps to the parent, and ends the worker when it closes. So nothing is left
running after a build is killed, even with SIGKILL. Workers ignore Ctrl-C, which the
terminal sends to them too: the build alone reports it, and stops them (`stop_all`).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

R = TypeVar("R")

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
STOP_TIMEOUT = 10.0  # seconds for the pool's thread to end once its workers are killed

_running: set[ProcessPoolExecutor] = set()


def parallel_map(
    function: Callable[[Any], R],
    items: Iterable[Any],
    *,
    workers: int,
    chunksize: int,
    initializer: Callable[..., None],
    initargs: tuple[Any, ...] = (),
) -> Iterator[R]:
    """`function` over `items` in `workers` processes, in order, like `map`.

    The work starts at once, so the caller may do other work while it runs, and read the
    results after. Whatever ends the iteration early (an error, an interrupt, the caller
    closing the iterator) stops the workers at once, with the work not done; a build
    stops those of an iterator it never reads with `stop_all`.
    """
    from concurrent.futures import ProcessPoolExecutor  # here: most builds start none

    pool = ProcessPoolExecutor(
        max_workers=workers, initializer=_start, initargs=(initializer, initargs)
    )
    _running.add(pool)
    try:
        # Batches submitted one by one rather than through pool.map, which cancels its
        # futures as it is closed: the pool's thread of Python 3.11 fails on a cancelled
        # future when the workers are then stopped, and leaves a thread the exit waits for.
        batch = list(items)
        futures = [
            pool.submit(_run_batch, function, batch[start : start + chunksize])
            for start in range(0, len(batch), chunksize)
        ]
    except BaseException:
        _stop(pool)
        _running.discard(pool)
        raise
    futures.reverse()
    return _results(pool, futures)


def _results(pool: ProcessPoolExecutor, futures: list[Any]) -> Iterator[Any]:
    try:
        while futures:
            yield from futures.pop().result()  # popped: each batch's bytes are freed in turn
    except BaseException:
        _stop(pool)
        raise
    else:
        pool.shutdown()
    finally:
        _running.discard(pool)


def _run_batch(function: Callable[[Any], R], batch: list[Any]) -> list[R]:
    return [function(item) for item in batch]


def stop_all() -> None:
    """Stop the workers of every pool still running: a build calls it on its way out, for
    an iterator left suspended by an error that did not pass through it."""
    for pool in list(_running):
        _stop(pool)
        _running.discard(pool)


def _stop(pool: ProcessPoolExecutor) -> None:
    # The pool has no public way to stop its workers before Python 3.14, and shutting it
    # down forgets them: take them (and its thread and result queue) first.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    thread = getattr(pool, "_executor_manager_thread", None)
    results = getattr(pool, "_result_queue", None)
    for process in processes:
        process.kill()
    for process in processes:
        process.join()
    # A worker killed while it sent a result leaves half a message, which the pool's
    # thread would wait for the rest of forever (and Python waits for that thread as it
    # exits): with the last writer closed, the thread reads the end of it instead.
    writer = getattr(results, "_writer", None)
    if writer is not None:
        writer.close()
    pool.shutdown(wait=False)
    if thread is not None:
        thread.join(STOP_TIMEOUT)


def _start(initializer: Callable[..., None], initargs: tuple[Any, ...]) -> None:
    """Runs first in each worker, before `initializer`."""
    _die_with_parent()
    # The terminal sends Ctrl-C to the workers too, and a service manager may send SIGTERM
    # to them all: the build alone answers, once, and stops its workers.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    initializer(*initargs)


def _die_with_parent() -> None:
    import ctypes
    import multiprocessing

    parent = multiprocessing.parent_process()
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            asked = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            asked = False
        if asked:
            if parent is not None and not parent.is_alive():
                os._exit(1)  # the parent died before the kernel was asked
            return
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: Any) -> None:
    parent.join()  # returns when the pipe to the parent closes: it has ended
    os._exit(1)
