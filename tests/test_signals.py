"""Signals, worker processes and neighbours: a build that is stopped stops whole.

Real parallel builds run as child processes (from a folder of no package, so that they
import the jobdefs the tests do) and are sent SIGINT (as Ctrl-C sends it, to the whole
process group), SIGTERM and SIGKILL while they render, while they move the new outputs
into place, and while LibreOffice converts. Each time, the outputs are all old or all new,
byte for byte; the build says which in one line; and no process it started is left. Every
process of a build carries a mark in its environment, which is how the tests find the ones
left behind. Two builds into one folder: the second refuses, or waits under --wait.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from jobdefs.build.lock import LOCK_FILE

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/environ").is_file() or not hasattr(os, "killpg"),
    reason="finds the processes left behind through /proc; needs POSIX process groups",
)

CHAIN = Path(__file__).parent / "data" / "chain"
STAGING = ".jobdefs-staging-"
MARK = "JOBDEFS_TEST_BUILD_MARK"  # read by these tests only, never by jobdefs
KILL_SWITCH = 120  # seconds; a bound on a hang, not a measurement
LEFT = "interrupted: every output was left as it was"
REPLACED = "interrupted: the new outputs were already in place"


def outputs(folder: Path) -> dict[str, bytes]:
    """The outputs and their bytes: not the staging folders, the lock or the cache."""
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        first = relative.parts[0]
        if path.is_file() and not (
            first.startswith(STAGING) or first in (LOCK_FILE, ".jobdefs-cache")
        ):
            found[relative.as_posix()] = path.read_bytes()
    return found


def staged_files(folder: Path) -> int:
    return sum(
        len(files) for staging in folder.glob(f"{STAGING}*") for _, _, files in os.walk(staging)
    )


def marked(mark: str) -> list[int]:
    """The processes whose environment holds the mark (a zombie's environment is empty)."""
    needle = f"{MARK}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                pass  # ended meanwhile, or not ours to read
    return found


def assert_no_process_left(mark: str) -> None:
    deadline = time.monotonic() + 30  # a parent-death watchdog takes a moment, not more
    while marked(mark) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = marked(mark)
    reap(mark)
    assert left == [], f"processes of the build were left running: {left}"


MARKS: list[str] = []  # of the builds the current test started


def new_mark() -> str:
    MARKS.append(uuid.uuid4().hex)
    return MARKS[-1]


def reap(mark: str) -> None:
    """End what is left of the test's own builds, whichever assertion failed first."""
    for pid in marked(mark):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(autouse=True)
def _reap_what_is_left() -> Iterator[None]:
    yield
    while MARKS:
        reap(MARKS.pop())


class Build:
    """`jobdefs build` in a child process of its own session, its stderr in a file."""

    def __init__(self, cwd: Path, *args: str, **env: str) -> None:
        self.mark = new_mark()
        self.stderr_path = cwd / f"stderr-{self.mark}.txt"
        with self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "jobdefs", "build", *args],
                cwd=cwd,
                env={**os.environ, MARK: self.mark, **env},
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8")

    def wait(self) -> int:
        try:
            return self.process.wait(timeout=KILL_SWITCH)
        finally:
            self.end()

    def end(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGCONT)
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + KILL_SWITCH
        while not condition() and self.process.poll() is None:
            assert time.monotonic() < deadline, f"the build never {what}"
            time.sleep(0.002)
        assert self.process.poll() is None, f"the build ended before it {what}: {self.stderr}"


def jobdefs(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jobdefs", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=KILL_SWITCH,
        check=False,
    )


@pytest.fixture(scope="module")
def prepared(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, bytes], dict[str, bytes]]:
    """A 300-role hospital built once, then edited so that every output is out of date; with
    its outputs before, and the outputs the edited hospital gives (built elsewhere)."""
    synthetic = pytest.importorskip("synthetic")  # benchmarks/, put on sys.path by conftest
    base = tmp_path_factory.mktemp("signals")
    root = synthetic.write_organization(base / "hospital", 300)
    first = jobdefs(base, "build", "--workbook", str(root), "--quiet")
    assert first.returncode == 0, first.stderr
    before = outputs(root / "build")
    for path in sorted((root / "roles").rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"(?m)^title: ", "title: Senior ", text), encoding="utf-8")
    fresh = base / "fresh"
    shutil.copytree(root, fresh)
    shutil.rmtree(fresh / "build")
    second = jobdefs(base, "build", "--workbook", str(fresh), "--quiet")
    assert second.returncode == 0, second.stderr
    after = outputs(fresh / "build")
    assert set(after) == set(before) and after != before
    return root, before, after


@pytest.fixture
def hospital(
    prepared: tuple[Path, dict[str, bytes], dict[str, bytes]], tmp_path: Path
) -> Iterator[tuple[Path, dict[str, bytes], dict[str, bytes]]]:
    root, before, after = prepared
    copy = tmp_path / "hospital"
    shutil.copytree(root, copy, symlinks=True)
    yield copy, before, after


def assert_whole(folder: Path, expected: dict[str, bytes]) -> None:
    assert outputs(folder) == expected
    assert not list(folder.glob(f"{STAGING}*")), "a staging folder was left behind"


# -- while rendering -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signum", "whole_group"),
    [(signal.SIGINT, True), (signal.SIGTERM, False), (signal.SIGTERM, True)],
    ids=["ctrl-c", "sigterm", "sigterm-to-the-group"],
)
def test_a_signal_while_rendering_changes_no_output_and_leaves_no_process(
    hospital: tuple[Path, dict[str, bytes], dict[str, bytes]],
    tmp_path: Path,
    signum: int,
    whole_group: bool,
) -> None:
    root, before, _ = hospital
    build = Build(tmp_path, "--workbook", str(root), "--jobs", "2", "--quiet")
    try:
        build.until(lambda: staged_files(root / "build") >= 10, "rendered job aids")
        # Stopped at once, so that the signal lands among the first job aids, not later.
        os.kill(build.process.pid, signal.SIGSTOP)
        if whole_group:  # as the terminal sends Ctrl-C: to the workers too
            os.killpg(build.process.pid, signum)
        else:
            os.kill(build.process.pid, signum)
        os.kill(build.process.pid, signal.SIGCONT)
        status = build.wait()
    finally:
        build.end()
    assert build.stderr == f"{LEFT}\n"  # one line, and no worker's traceback
    assert status == 128 + signum
    assert_whole(root / "build", before)
    assert not (root / "build" / LOCK_FILE).exists()
    assert_no_process_left(build.mark)


def test_a_killed_build_leaves_no_worker_and_no_lock_that_blocks(
    hospital: tuple[Path, dict[str, bytes], dict[str, bytes]], tmp_path: Path
) -> None:
    root, before, after = hospital
    build = Build(tmp_path, "--workbook", str(root), "--jobs", "2", "--quiet")
    try:
        build.until(lambda: staged_files(root / "build") >= 10, "rendered job aids")
        os.kill(build.process.pid, signal.SIGKILL)  # the build only: its workers are orphaned
        assert build.wait() == -signal.SIGKILL
    finally:
        build.end()
    assert_no_process_left(build.mark)
    assert outputs(root / "build") == before
    lock = root / "build" / LOCK_FILE
    assert lock.read_text(encoding="ascii") == f"{build.process.pid} build\n"

    again = jobdefs(tmp_path, "build", "--workbook", str(root), "--jobs", "2", "--quiet")
    assert again.returncode == 0, again.stderr
    assert again.stderr == ""
    assert_whole(root / "build", after)
    assert not lock.exists()


# -- while moving the new outputs into place ---------------------------------------------------

# Fault injection in the child: the signal is sent from inside the n-th move into place, the
# way test_faults.py injects what the operating system would raise.
DRIVER = """
import os, signal, sys
from pathlib import Path

signum, after, failing = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
real_replace = os.replace
moves = 0


def replace(source, target, *args, **kwargs):
    global moves, failing
    if "{staging}" not in str(target):  # into place, not aside
        moves += 1
        if moves == after:
            os.kill(os.getpid(), signum)
        if Path(target).name == failing:
            failing = None  # once: putting the old file back works
            raise PermissionError(13, "Permission denied", str(target))
    real_replace(source, target, *args, **kwargs)


os.replace = replace
sys.argv = ["jobdefs", *sys.argv[4:]]
from jobdefs.cli import main

main()
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_a_signal_during_the_moves_lets_them_finish(
    hospital: tuple[Path, dict[str, bytes], dict[str, bytes]], tmp_path: Path, signum: int
) -> None:
    root, _, after = hospital
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER.replace("{staging}", STAGING), encoding="utf-8")
    status, stderr = run_driver(driver, tmp_path, signum, 5, "-", root)
    assert stderr == f"{REPLACED}\n"
    assert status == 128 + signum
    assert_whole(root / "build", after)
    assert not (root / "build" / LOCK_FILE).exists()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_a_signal_during_moves_that_fail_leaves_every_output_as_it_was(
    hospital: tuple[Path, dict[str, bytes], dict[str, bytes]], tmp_path: Path, signum: int
) -> None:
    """The signal waits while a failed replacement puts back the originals moved aside."""
    root, before, _ = hospital
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER.replace("{staging}", STAGING), encoding="utf-8")
    status, stderr = run_driver(driver, tmp_path, signum, 5, "internal-customer-matrix.xlsx", root)
    assert stderr == f"{LEFT}\n"
    assert status == 128 + signum
    assert_whole(root / "build", before)


def run_driver(
    driver: Path, cwd: Path, signum: int, after: int, failing: str, root: Path
) -> tuple[int, str]:
    mark = new_mark()
    result = subprocess.run(
        [
            sys.executable,
            str(driver),
            str(int(signum)),
            str(after),
            failing,
            "build",
            "--workbook",
            str(root),
            "--jobs",
            "2",
            "--quiet",
        ],
        cwd=cwd,
        env={**os.environ, MARK: mark},
        capture_output=True,
        text=True,
        timeout=KILL_SWITCH,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert_no_process_left(mark)
    return result.returncode, result.stderr


# -- LibreOffice -------------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_libreoffice_goes_with_the_build(tmp_path: Path, signum: int) -> None:
    """A stand-in for LibreOffice that never finishes, and that starts a child of its own
    as LibreOffice's launcher does."""
    root = tmp_path / "chain"
    shutil.copytree(CHAIN, root)
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    started = tmp_path / "soffice-started"
    fake = bin_folder / "soffice"
    fake.write_text(f'#!/bin/sh\nsleep 600 &\n: > "{started}"\nwait\n', encoding="utf-8")
    fake.chmod(0o755)
    path = f"{bin_folder}{os.pathsep}{os.environ.get('PATH', '')}"
    build = Build(tmp_path, "--workbook", str(root), "--pdf", "--quiet", PATH=path)
    try:
        build.until(started.exists, "started LibreOffice")
        os.kill(build.process.pid, signum)
        status = build.wait()
    finally:
        build.end()
    assert_no_process_left(build.mark)
    if signum == signal.SIGTERM:
        assert build.stderr == f"{LEFT}\n"
        assert status == 143
        assert not (root / "build").exists()  # nothing was written, not even the folder
    else:
        assert status == -signal.SIGKILL


# -- two builds into one folder -----------------------------------------------------------------


def test_a_second_build_into_the_same_folder_refuses_or_waits(
    hospital: tuple[Path, dict[str, bytes], dict[str, bytes]], tmp_path: Path
) -> None:
    root, before, after = hospital
    output = root / "build"
    first = Build(tmp_path, "--workbook", str(root), "--jobs", "2", "--quiet")
    waiting: list[Build] = []
    try:
        first.until(lambda: staged_files(output) >= 1, "started writing")
        os.kill(first.process.pid, signal.SIGSTOP)  # holding the lock, for as long as needed

        second = jobdefs(tmp_path, "build", "--workbook", str(root), "--quiet")
        assert second.returncode == 1
        assert second.stderr == (
            f"Error: jobdefs build (pid {first.process.pid}) is writing to {output}: "
            "wait for it to finish, or pass --wait\n"
        )
        # --check writes nothing and takes no lock: it answers at once.
        check = jobdefs(tmp_path, "build", "--workbook", str(root), "--check", "--quiet")
        assert check.returncode == 1
        assert "outputs are out of date" in check.stderr

        waiting.append(Build(tmp_path, "--workbook", str(root), "--wait", "--quiet"))
        survey = subprocess.Popen(
            [sys.executable, "-m", "jobdefs", "survey", "--workbook", str(root)],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        told = f"waiting: jobdefs build (pid {first.process.pid}) is writing to {output}\n"
        waiting[0].until(lambda: waiting[0].stderr == told, "said it waits")
        assert survey.stderr is not None
        assert survey.stderr.readline() == told
        assert outputs(output) == before

        os.kill(first.process.pid, signal.SIGCONT)
        assert first.wait() == 0, first.stderr
        assert waiting[0].wait() == 0, waiting[0].stderr
        _, survey_stderr = survey.communicate(timeout=KILL_SWITCH)
        assert survey.returncode == 0, survey_stderr
    finally:
        first.end()
        for build in waiting:
            build.end()
    assert waiting[0].stderr == told
    assert_whole(output, {**after, **{p: b for p, b in outputs(output).items() if "surveys/" in p}})
    assert any(p.startswith("surveys/round-1/") for p in outputs(output))
    assert not (output / LOCK_FILE).exists()
    check = jobdefs(tmp_path, "build", "--workbook", str(root), "--check", "--quiet")
    assert check.returncode == 0, check.stderr


def test_a_link_planted_as_the_lock_is_replaced_never_followed(tmp_path: Path) -> None:
    root = tmp_path / "chain"
    shutil.copytree(CHAIN, root)
    outside = tmp_path / "outside.txt"
    outside.write_text("not jobdefs'\n", encoding="utf-8")
    (root / "build").mkdir()
    (root / "build" / LOCK_FILE).symlink_to(outside)
    result = jobdefs(tmp_path, "build", "--workbook", str(root), "--quiet")
    assert result.returncode == 0, result.stderr
    assert outside.read_text(encoding="utf-8") == "not jobdefs'\n"
    assert not (root / "build" / LOCK_FILE).is_symlink()
    assert not (root / "build" / LOCK_FILE).exists()
