"""Each benchmark still runs, on a small organization: a benchmark nobody can run measures
nothing. The figures themselves are not checked (no timing in tests); that each prints its
side-by-side table is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


@pytest.mark.parametrize(
    ("script", "arguments", "shown"),
    [
        ("bench_excel.py", ["--roles", "20", "--repeat", "1", "--grid", "skip"], "ratio"),
        ("bench_check.py", ["--roles", "20", "--repeat", "1"], "ratio"),
        ("bench_build.py", ["--roles", "10", "--repeat", "1", "--jobs", "1"], "job aids"),
        ("bench_site.py", ["--roles", "10", "--repeat", "1"], "search index"),
    ],
)
def test_a_benchmark_runs_and_prints_its_figures(
    script: str, arguments: list[str], shown: str, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *arguments],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert shown in done.stdout
