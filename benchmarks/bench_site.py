"""What the explorer (site/) adds to a build, side by side in one run.

    python benchmarks/bench_site.py [--roles 1000] [--repeat 3]

For a generated organization of N roles, builds with and without the site, alternately,
each in a fresh process and into its own folder: a cold build into an empty folder, a
rebuild with nothing changed, and a rebuild after one role's purpose changed; then the
time and size of site.html (--site-single-file) made on the current site. Prints the
median of each, wall-clock and CPU (the build's process and its workers), the ratios,
and the sizes that the issue bounds: the largest page, and the scripts with the search
index. With Selenium, Chromium and chromedriver installed, also how long a search typed
into the index's box takes to answer: from the last key to the results shown.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.synthetic import write_organization  # noqa: E402

ONE_BUILD = r"""
import json, resource, sys, time
from pathlib import Path
start = time.perf_counter()
from jobdefs.build.run import build
from jobdefs.workbook.load import load_workbook
root, out, site = sys.argv[1], Path(sys.argv[2]), sys.argv[3] == "1"
single = sys.argv[4] == "1"
workbook = load_workbook(root, output_dir=out, cached=True)
report = build(workbook, output_dir=out, site=site, site_single_file=single)
cpu = sum(
    usage.ru_utime + usage.ru_stime
    for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
)
print(json.dumps({"seconds": time.perf_counter() - start, "cpu": cpu}))
"""


def timed_build(root: Path, out: Path, site: bool, single: bool = False) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one build (`single`: with --site-single-file)."""
    flags = ["1" if site else "0", "1" if single else "0"]
    done = subprocess.run(
        [sys.executable, "-c", ONE_BUILD, str(root), str(out), *flags],
        capture_output=True,
        text=True,
        check=True,
    )
    times = json.loads(done.stdout)
    return float(times["seconds"]), float(times["cpu"])


# Installed before the last key: from its keydown to the first frame after the results
# list changed, the time a person waits for the answer, in the page's own clock.
TIME_LAST_KEY = """
var box = document.getElementById("search-box");
var list = document.getElementById("search-results");
window.searchMilliseconds = null;
box.addEventListener("keydown", function () {
  var start = performance.now();
  var changed = new MutationObserver(function () {
    changed.disconnect();
    requestAnimationFrame(function () {
      setTimeout(function () { window.searchMilliseconds = performance.now() - start; }, 0);
    });
  });
  changed.observe(list, { childList: true });
}, { once: true });
"""


def search_seconds(site: Path, query: str, repeat: int) -> tuple[float, float] | None:
    """Median seconds from the last key of `query`, typed into the index's search box in
    headless Chromium through Selenium, to the results shown: in the page's clock, and on
    the wall clock (WebDriver's round trips included). None without Selenium, Chromium or
    chromedriver."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        return None
    if chromium is None or chromedriver is None:
        return None
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    in_page, on_wall = [], []
    try:
        driver.get((site / "index.html").as_uri())
        box = driver.find_element(By.ID, "search-box")
        status = driver.find_element(By.ID, "search-status")
        for _ in range(repeat):
            box.send_keys(Keys.CONTROL, "a")
            box.send_keys(Keys.DELETE)
            for key in query[:-1]:
                box.send_keys(key)
            WebDriverWait(driver, 60).until(lambda _: status.text)
            driver.execute_script(TIME_LAST_KEY)
            begin = time.perf_counter()
            box.send_keys(query[-1])
            WebDriverWait(driver, 60, poll_frequency=0.005).until(
                lambda d: d.execute_script("return window.searchMilliseconds") is not None
            )
            on_wall.append(time.perf_counter() - begin)
            in_page.append(driver.execute_script("return window.searchMilliseconds") / 1000)
    finally:
        driver.quit()
    return statistics.median(in_page), statistics.median(on_wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--roles", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    root = write_organization(folder / "org", arguments.roles)
    role = next((root / "roles").rglob("*.yaml"))
    text = role.read_text(encoding="utf-8")
    times: dict[bool, dict[str, list[tuple[float, float]]]] = {False: {}, True: {}}
    for repeat in range(arguments.repeat):
        for site in (False, True):
            out = folder / f"out-{int(site)}-{repeat}"
            stages = times[site]
            stages.setdefault("cold", []).append(timed_build(root, out, site))
            stages.setdefault("nothing changed", []).append(timed_build(root, out, site))
            role.write_text(text.replace("purpose: ", "purpose: Now ", 1), encoding="utf-8")
            stages.setdefault("one role changed", []).append(timed_build(root, out, site))
            role.write_text(text, encoding="utf-8")
    print(f"{arguments.roles:,} roles, median of {arguments.repeat}")
    print("| build | without the site | with the site | ratio | CPU without | CPU with | ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for stage in ("cold", "nothing changed", "one role changed"):
        cells = []
        for kind in (0, 1):  # wall-clock, then CPU
            without = statistics.median(t[kind] for t in times[False][stage])
            with_site = statistics.median(t[kind] for t in times[True][stage])
            cells += [f"{without:.2f} s", f"{with_site:.2f} s", f"{with_site / without:.2f}x"]
        print(f"| {stage} | {' | '.join(cells)} |")
    site = folder / "out-1-0" / "site"
    files = [(p.stat().st_size, p.relative_to(site).as_posix()) for p in site.rglob("*")]
    pages = sorted((s, n) for s, n in files if n.endswith(".html"))
    scripts = sum(s for s, n in files if n.endswith(".js"))
    print(f"pages: {len(pages):,}; largest: {pages[-1][1]} {pages[-1][0] / 1000:.0f} KB")
    print(f"scripts and search index: {scripts / 1e6:.2f} MB")
    # site.html, asked for once the site is current: made from the pages on disk.
    seconds, cpu = timed_build(root, folder / "out-1-0", site=True, single=True)
    single = folder / "out-1-0" / "site.html"
    packed = len(zlib.compress(single.read_bytes(), 6))
    print(
        f"site.html on a current site: {seconds:.2f} s ({cpu:.2f} s CPU); "
        f"{single.stat().st_size / 1e6:.1f} MB, {packed / 1e6:.1f} MB compressed"
    )
    query = "timely record"
    found = search_seconds(site, query, max(3, arguments.repeat))
    if found is None:
        print("a search in Chromium: not measured (needs selenium, chromium, chromedriver)")
    else:
        print(
            f"a search in Chromium, {query!r} typed, from the last key to the results shown: "
            f"{found[0]:.3f} s in the page, {found[1]:.3f} s on the wall clock"
        )
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
