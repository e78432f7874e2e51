"""Word files to PDF with LibreOffice, run headless with a profile of its own.

LibreOffice never outlives the build that started it. It runs in a process group of its
own, under a small guard (`_GUARD`): whatever stops the build (an error, a time-out, Ctrl-C,
SIGTERM) kills the whole group, and if the build itself is killed, the guard sees its
parent gone and kills the group. (LibreOffice's launcher starts the converter as a child of
its own, which a parent-death signal on the launcher would not reach.)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from jobdefs.errors import OutputError

if TYPE_CHECKING:
    import subprocess

# -- PDF --------------------------------------------------------------------------------

_INSTALL_HINT = (
    "install LibreOffice to write PDFs: 'sudo apt-get install libreoffice-writer' on "
    "Debian or Ubuntu, 'brew install --cask libreoffice' on macOS, or from "
    "https://www.libreoffice.org/download/ on Windows"
)
_SOFFICE_NAMES = ("soffice", "libreoffice")
_SOFFICE_PATHS = (
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    "C:/Program Files/LibreOffice/program/soffice.exe",
)


def find_soffice() -> str | None:
    """The LibreOffice command, or None when LibreOffice is not installed."""
    for command in _SOFFICE_NAMES:
        found = shutil.which(command)
        if found:
            return found
    return next((path for path in _SOFFICE_PATHS if Path(path).is_file()), None)


def convert_to_pdf(
    docx_paths: Sequence[Path], out_dir: Path, timeout: float | None = None
) -> list[Path]:
    """Convert Word files to PDF in `out_dir` with LibreOffice; the PDFs, in the same order."""
    import subprocess  # here: a build that writes no PDF need not load it

    if not docx_paths:
        return []
    soffice = find_soffice()
    if soffice is None:
        raise OutputError(
            f"cannot write PDFs: LibreOffice (soffice) is not installed; {_INSTALL_HINT}"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = [out_dir / (Path(path).stem + ".pdf") for path in docx_paths]
    # A private profile: LibreOffice refuses to start headless while another instance
    # (the user's own, or a parallel build) holds the default one.
    with tempfile.TemporaryDirectory(prefix="jobdefs-soffice-") as profile:
        batch = 200  # keeps the command line well under every platform's limit
        for start in range(0, len(docx_paths), batch):
            chunk = [str(Path(p).resolve()) for p in docx_paths[start : start + batch]]
            command = [
                soffice,
                f"-env:UserInstallation={Path(profile).resolve().as_uri()}",
                "--headless",
                "--norestore",
                "--nologo",
                "--convert-to",
                "pdf",
                "--outdir",
                str(out_dir.resolve()),
                *chunk,
            ]
            try:
                result = _run(command, timeout if timeout is not None else 60 + 5 * len(chunk))
            except subprocess.TimeoutExpired as error:
                raise OutputError(
                    f"LibreOffice did not finish converting to PDF within {error.timeout:.0f} "
                    "seconds; close any LibreOffice window and try again"
                ) from None
            except OSError as error:
                raise OutputError(f"cannot run LibreOffice ({soffice}): {error}") from None
            missing = [p for p in wanted[start : start + batch] if not p.is_file()]
            if result.returncode != 0 or missing:
                detail = (result.stderr or result.stdout).strip().splitlines()
                names = ", ".join(p.name for p in missing) or "the PDFs"
                raise OutputError(
                    f"LibreOffice could not write {names} (exit status {result.returncode}"
                    + (f": {detail[-1]}" if detail else "")
                    + "); open the .docx in LibreOffice to see what is wrong"
                )
    return wanted


# Run as `python -c _GUARD <parent pid> <command...>` in a new session: it starts the command
# in its own process group and kills that group once its parent is gone.
_GUARD = """
import os, signal, subprocess, sys, threading, time
parent = int(sys.argv[1])
def watch():
    while os.getppid() == parent:
        time.sleep(0.2)
    os.killpg(0, signal.SIGKILL)
threading.Thread(target=watch, daemon=True).start()
sys.exit(subprocess.call(sys.argv[2:]))
"""


def _run(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """`command`, its output captured; its whole process group killed if anything stops it."""
    import subprocess

    group = hasattr(os, "killpg")
    if group:
        command = [sys.executable, "-I", "-c", _GUARD, str(os.getpid()), *command]
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=group,
    ) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except BaseException:  # a time-out, Ctrl-C, SIGTERM: LibreOffice goes too
            if group:
                with contextlib.suppress(OSError):  # already gone
                    os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
            process.wait()
            raise
    return subprocess.CompletedProcess(command, process.returncode, out, err)
