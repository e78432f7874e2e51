"""A whole `jobdefs build` next to the naive reference build of the same documents.

    python benchmarks/bench_build.py [--roles 100 1000] [--naive-limit 1000]

For each size N, in one run and side by side:

- jobdefs: a cold build (load and validate, job aids, workbooks) into an empty folder, then
  an incremental build after one role changed (its purpose and one customer's need, so the
  role's job aid, its customer's, the matrix and the department workbooks of both ends are
  out of date), as `jobdefs build` runs them: with the build cache;
- the naive reference: a new docxtpl DocxTemplate per role rendered with autoescape and
  saved, and openpyxl in normal mode for the matrix and department workbooks.

Each build runs in a fresh process so that its peak memory (max RSS) is its own. The
benchmark asserts that both builds wrote the same text into every job aid. Prints one table
with the time of each stage, the peak memory and the ratio to the naive build.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEXT = re.compile(rb"<w:t(?: [^>]*)?>([^<]*)</w:t>|<w:(br|tab)/>")

OURS = r"""
import json, resource, sys, time
start = time.perf_counter()
import jobdefs.cli
from jobdefs.build import run as build
from jobdefs.workbook import load
root, out, jobs = sys.argv[1:4]
stages = {"workbooks": 0.0}
reports = []
load_workbook, render_workbooks, build_outputs = (
    load.load_workbook, build.Plan.render_workbooks, build.build)
def timed_load(*args, **options):
    begin = time.perf_counter()
    workbook = load_workbook(*args, **options)
    stages["load"] = time.perf_counter() - begin
    stages["after load"] = time.perf_counter()
    return workbook
def timed_workbooks(self, *args):
    begin = time.perf_counter()
    yield from render_workbooks(self, *args)
    stages["workbooks"] += time.perf_counter() - begin
def reported(*args, **options):
    reports.append(build_outputs(*args, **options))
    return reports[-1]
load.load_workbook, build.Plan.render_workbooks, build.build = (
    timed_load, timed_workbooks, reported)
# The command itself, as `jobdefs build` runs it.
sys.argv = ["jobdefs", "build", "-w", root, "-o", out, "-j", jobs, "-q"]
try:
    jobdefs.cli.main()
except SystemExit as exit:
    if exit.code:
        raise
end = time.perf_counter()
print(json.dumps({
    "load": stages["load"], "workbooks": stages["workbooks"],
    "job aids": end - stages["after load"] - stages["workbooks"], "total": end - start,
    "written": len(reports[0].written),
    "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
}))
"""

NAIVE = r"""
import io, json, resource, sys, time
from pathlib import Path
start = time.perf_counter()
sys.path.insert(0, sys.argv[3])
from docxtpl import DocxTemplate
from jobdefs.workbook import load
from jobdefs.documents import job_aid, template_files
from bench_excel import naive_matrix_workbook, naive_department_workbooks
root, out = Path(sys.argv[1]), Path(sys.argv[2])
t0 = time.perf_counter()
workbook = load.load_workbook(root)
t1 = time.perf_counter()
org = workbook.organization
template = template_files.job_aid_template_path(workbook.templates_dir)
(out / "job-aids").mkdir(parents=True, exist_ok=True)
for role in org.roles:
    document = DocxTemplate(str(template))
    document.render(job_aid.job_aid_context(org, role), autoescape=True)
    document.save(str(out / "job-aids" / f"{role.id}.docx"))
t2 = time.perf_counter()
(out / "internal-customer-matrix.xlsx").write_bytes(
    naive_matrix_workbook(org, list(workbook.warnings)))
(out / "departments").mkdir(exist_ok=True)
for slug, data in naive_department_workbooks(org).items():
    (out / "departments" / f"{slug}.xlsx").write_bytes(data)
t3 = time.perf_counter()
print(json.dumps({
    "load": t1 - t0, "job aids": t2 - t1, "workbooks": t3 - t2,
    "total": t3 - start, "written": len(org.roles),
    "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
}))
"""


def run(script: str, *args: str) -> dict[str, float]:
    # As installed copies run: Python keeps compiled modules (pip compiles them when it
    # installs), so no build pays for compiling jobdefs's own source on every start.
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )
    if result.returncode:
        raise SystemExit(result.stderr)
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def text_of(docx: Path) -> str:
    """Every run of text in the body, with breaks and tabs, the way a reader sees it."""
    with zipfile.ZipFile(docx) as archive:
        xml = archive.read("word/document.xml")
    return "".join(
        m.group(1).decode() if m.group(1) is not None else "\n" for m in TEXT.finditer(xml)
    )


def same_text(ours: Path, naive: Path) -> int:
    names = sorted(p.name for p in (naive / "job-aids").glob("*.docx"))
    assert names == sorted(p.name for p in (ours / "job-aids").glob("*.docx")), "file sets"
    for name in names:
        left, right = text_of(ours / "job-aids" / name), text_of(naive / "job-aids" / name)
        assert left == right, f"{name}: the two builds wrote different text"
    return len(names)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def main() -> None:
    sys.path.insert(0, str(HERE))
    from synthetic import write_organization

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--roles", type=int, nargs="+", default=[100, 1000])
    parser.add_argument(
        "--naive-limit",
        type=int,
        default=1000,
        help="skip the naive build above this size (it takes minutes)",
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="cold and incremental builds timed; the fastest of each counts",
    )
    arguments = parser.parse_args()
    import jobdefs

    # Compile jobdefs once, as installing it does, before either build is timed.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(Path(jobdefs.__file__).parent)], check=True
    )
    print(f"machine: {machine()}")
    header = f"{'N':>5}  {'build':<12} {'stage':<10} {'time':>9} {'peak RSS':>9} {'vs naive':>9}"
    print(header)
    print("-" * len(header))
    for count in arguments.roles:
        with tempfile.TemporaryDirectory() as folder:
            root = write_organization(Path(folder) / "workbook", count)
            ours_out, naive_out = Path(folder) / "ours", Path(folder) / "naive"
            ours = (str(root), str(ours_out), str(arguments.jobs))
            role = next((root / "roles").rglob("role-00003.yaml"))
            original = role.read_text()
            colds, warms = [], []
            for attempt in range(arguments.repeat):
                # Cold: into an empty folder. Incremental: after one role changed, its
                # purpose and one customer's need, differently each time.
                role.write_text(original)
                shutil.rmtree(ours_out, ignore_errors=True)
                colds.append(run(OURS, *ours))
                changed = original.replace("purpose: >-", f"purpose: >-\n  Changed {attempt}.", 1)
                indent = " " * 10  # the need's own lines, under `- role:` in `customers:`
                role.write_text(changed.replace("need: >-", f"need: >-\n{indent}Changed.", 1))
                warms.append(run(OURS, *ours))
            # The fastest of each: the one least disturbed by whatever else ran.
            cold = min(colds, key=lambda figures: figures["total"])
            warm = min(warms, key=lambda figures: figures["total"])
            naive = None
            if count <= arguments.naive_limit:
                role.write_text(original)
                shutil.rmtree(ours_out)
                run(OURS, *ours)
                naive = run(NAIVE, str(root), str(naive_out), str(HERE))
                checked = same_text(ours_out, naive_out)
            for name, figures in (("naive", naive), ("jobdefs cold", cold), ("incremental", warm)):
                if figures is None:
                    continue
                for stage in ("load", "job aids", "workbooks", "total"):
                    ratio = ""
                    if naive and naive[stage] and name != "naive":
                        ratio = f"{figures[stage] / naive[stage]:8.1%}"
                    rss = f"{figures['rss'] / 2**20:7.0f}MB" if stage == "total" else ""
                    print(
                        f"{count:>5}  {name:<12} {stage:<10} {figures[stage]:8.3f}s "
                        f"{rss:>9} {ratio:>9}"
                    )
            runs = {
                name: " ".join(f"{figures['total']:.2f}" for figures in timed)
                for name, timed in (("cold", colds), ("incremental", warms))
            }
            print(
                f"{count:>5}  incremental / cold: {warm['total'] / cold['total']:.1%} "
                f"({warm['written']} of {cold['written']} outputs rewritten; best of "
                f"{arguments.repeat}: cold {runs['cold']}s, incremental {runs['incremental']}s)"
            )
            # Each incremental build next to the cold one just before it: the machine's speed
            # drifts, and the two kinds of build feel it differently (a cold one uses every CPU).
            pairs = sorted(w["total"] / c["total"] for c, w in zip(colds, warms, strict=True))
            print(
                f"{count:>5}  incremental / cold, build by build: "
                f"{' '.join(f'{ratio:.1%}' for ratio in pairs)} "
                f"(median {statistics.median(pairs):.1%})"
            )
            if naive:
                print(f"{count:>5}  same text in all {checked} job aids: yes")
            print()


if __name__ == "__main__":
    main()
