"""One writer at a time per output folder: an advisory lock on a dot-file inside it.

A build (and a survey round) holds an exclusive `flock` on `<output>/.jobdefs-lock` while
it writes; a second one refuses with a message naming the first, or waits for it. The
kernel releases the lock when its holder ends, however it ends, so a lock left by a killed
build never blocks: the file may stay behind, but nothing holds it. The holder removes the
file as it lets go (a waiter that then finds itself holding a removed file starts over), so
an output folder under version control does not gain a file. The lock file is never an
output: the manifest lists only what a build staged.

`build --check` takes no lock: it writes nothing, not even the lock file, and while a build
is moving its outputs into place it may call them stale. Where there is no `flock`
(Windows), there is no lock either.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from jobdefs.errors import OutputError
from jobdefs.output import describe

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = ".jobdefs-lock"
_FLAGS = (
    os.O_RDWR
    | os.O_CREAT
    | getattr(os, "O_NOFOLLOW", 0)  # a link planted under the name is never followed
    | getattr(os, "O_NONBLOCK", 0)  # nor is a named pipe waited on
    | getattr(os, "O_CLOEXEC", 0)
)


class Busy(OutputError):
    """Another jobdefs command is writing to the output folder."""


@contextmanager
def output_lock(
    folder: Path,
    command: str,
    *,
    wait: bool = False,
    waiting: Callable[[str], None] | None = None,
    hint: str = "wait for it to finish, or pass --wait",
) -> Iterator[None]:
    """Hold `folder`'s lock while the block runs, as `command` (named to whoever waits).

    Busy, saying who holds it and `hint`, when another holds it and not `wait`; under
    `wait`, `waiting` is told why and the lock is waited for.
    """
    if fcntl is None:
        yield
        return
    created = not folder.exists()
    descriptor = _acquire(folder, command, wait, waiting, hint)
    try:
        yield
    finally:
        with suppress(OSError):
            os.unlink(folder / LOCK_FILE)  # before letting go: see the module's docstring
        os.close(descriptor)
        if created:
            with suppress(OSError):
                folder.rmdir()  # made only to hold the lock of a build that wrote nothing


def _acquire(
    folder: Path, command: str, wait: bool, waiting: Callable[[str], None] | None, hint: str
) -> int:
    assert fcntl is not None
    path = folder / LOCK_FILE
    told = False
    while True:
        descriptor = _open(folder, path)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(descriptor)
                message = f"{holder} is writing to {folder}"
                if not wait:
                    raise Busy(f"{message}: {hint}") from None
                if waiting is not None and not told:
                    waiting(f"waiting: {message}")
                    told = True
                fcntl.flock(descriptor, fcntl.LOCK_EX)
            if _same_file(descriptor, path):
                os.ftruncate(descriptor, 0)
                os.write(descriptor, f"{os.getpid()} {command}\n".encode())
                return descriptor
        except BaseException:
            os.close(descriptor)
            raise
        os.close(descriptor)  # removed by the holder as it let go: lock the new one


def _open(folder: Path, path: Path) -> int:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, _FLAGS, 0o644)
        except OSError as error:
            if error.errno != errno.ELOOP:
                raise
            os.unlink(path)  # a link where the lock belongs: no build holds a link
            descriptor = os.open(path, _FLAGS, 0o644)
    except OSError as error:
        raise OutputError(f"cannot write to '{folder}': {describe(error)}") from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise OutputError(f"{path} is not a regular file: remove it, and build again")
    return descriptor


def _same_file(descriptor: int, path: Path) -> bool:
    try:
        now = os.lstat(path)
    except OSError:
        return False
    held = os.fstat(descriptor)
    return (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)


def _holder(descriptor: int) -> str:
    """'jobdefs build (pid 1234)' from the lock file, or less when it says less."""
    try:
        words = os.pread(descriptor, 200, 0).decode("ascii").split()
    except (OSError, UnicodeDecodeError):
        words = []
    if len(words) == 2 and words[0].isdigit() and words[1].isalpha():
        return f"jobdefs {words[1]} (pid {words[0]})"
    return "another jobdefs command"
