"""Two installs of jobdefs side by side: `jobdefs --help`, a cold build of N roles, a
rebuild with nothing changed, and `build --check` on a fresh copy of the built folder.

    python benchmarks/bench_versions.py --before /path/to/other/venv/bin/python [--roles 1000]

For a change that should not change speed (a refactoring, a dependency bump): each
measurement alternates the two installs in one run, so that the noise of a busy machine
falls on both alike, and the table gives the median of each and their ratio. The build is
cold: an empty output folder and no role cache (JOBDEFS_NO_CACHE=1). The fresh copy is the
output folder as a clone on another machine has it: without its cache, checked by a user
whose cache folder (compiled templates, the machine's key) is new.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import write_organization

MOMENT = "1764000000"  # every build carries the same date, as in CI


def timed(
    python: str,
    arguments: list[str],
    folder: Path,
    *,
    cache: bool = False,
    user_cache: Path | None = None,
) -> float:
    environment = {**os.environ, "SOURCE_DATE_EPOCH": MOMENT}
    if not cache:
        environment["JOBDEFS_NO_CACHE"] = "1"
    if user_cache is not None:
        environment["JOBDEFS_CACHE_DIR"] = str(user_cache)
    start = time.perf_counter()
    # Run from a folder of no package: `python -m` puts the current folder first on the
    # path, and a checkout's jobdefs/ would stand in for the install being measured.
    subprocess.run(
        [python, "-m", "jobdefs", *arguments],
        check=True,
        stdout=subprocess.DEVNULL,
        env=environment,
        cwd=folder,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", required=True, help="the Python of the install to compare")
    parser.add_argument("--after", default=sys.executable, help="this Python, by default")
    parser.add_argument("--roles", type=int, default=1000)
    parser.add_argument("--help-runs", type=int, default=15)
    parser.add_argument("--build-runs", type=int, default=3)
    options = parser.parse_args()
    installs = {"before": options.before, "after": options.after}
    times: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="jobdefs-versions-") as folder:
        root = write_organization(Path(folder) / "workbook", options.roles)
        out = Path(folder) / "out"
        here = Path(folder)
        for _ in range(options.help_runs):
            for name, python in installs.items():
                help_time = timed(python, ["--help"], here)
                times.setdefault(("jobdefs --help", name), []).append(help_time)
        build = f"cold build, {options.roles} roles"
        again = "rebuild, nothing changed"
        fresh = "check, fresh copy"
        for _ in range(options.build_runs):
            for name, python in installs.items():
                target = out / name
                shutil.rmtree(target, ignore_errors=True)
                arguments = ["build", "-w", str(root), "-o", str(target), "-q"]
                times.setdefault((build, name), []).append(timed(python, arguments, here))
                timed(python, arguments, here, cache=True)  # fills the build cache
                rebuilt = timed(python, arguments, here, cache=True)
                times.setdefault((again, name), []).append(rebuilt)
                copy = out / f"{name}-copy"
                shutil.rmtree(copy, ignore_errors=True)
                shutil.copytree(target, copy, ignore=shutil.ignore_patterns(".jobdefs-cache"))
                user_cache = Path(tempfile.mkdtemp(prefix="user-cache-", dir=folder))
                checking = ["build", "-w", str(root), "-o", str(copy), "--check"]
                checked = timed(python, checking, here, cache=True, user_cache=user_cache)
                times.setdefault((fresh, name), []).append(checked)
        print(f"{'':28} {'before':>9} {'after':>9} {'after/before':>13}")
        for measure in ("jobdefs --help", build, again, fresh):
            before = statistics.median(times[(measure, "before")])
            after = statistics.median(times[(measure, "after")])
            print(f"{measure:28} {before:8.3f}s {after:8.3f}s {after / before:12.2f}x")


if __name__ == "__main__":
    main()
