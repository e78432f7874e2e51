"""`jobdefs check` on a generated organization next to the bare YAML parse of its files.

Goal (issue: load and validate): the whole check takes at most 2x the time PyYAML's C
loader alone takes to parse the same files. Runs both side by side, best of --repeat.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from synthetic import write_organization

from jobdefs.workbook.load import load_workbook


def best(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def bare_parse(root: Path) -> None:
    for path in sorted((root / "roles").rglob("*.yaml")):
        yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--roles", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()
    print(f"{'roles':>6}  {'bare parse':>11}  {'jobdefs check':>13}  {'ratio':>6}")
    for count in arguments.roles:
        with tempfile.TemporaryDirectory() as folder:
            root = write_organization(Path(folder), count)
            assert load_workbook(root).findings == ()
            parse = best(lambda root=root: bare_parse(root), arguments.repeat)
            check = best(lambda root=root: load_workbook(root), arguments.repeat)
            print(f"{count:>6}  {parse:>10.3f}s  {check:>12.3f}s  {check / parse:>5.2f}x")


if __name__ == "__main__":
    main()
