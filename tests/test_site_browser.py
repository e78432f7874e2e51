"""The explorer in a real browser: headless Chromium opens the site from file://.

Search finds a role by a word of a need, hostile text runs no script, the console stays
quiet, axe-core finds no serious or critical WCAG 2.1 AA violation, Printing is in
test_site_print.py. Skipped when Chromium (or, for accessibility, axe-core: the path of
axe.min.js in AXE_CORE, as .ci/run sets it) is not installed.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from jobdefs.build.run import build
from jobdefs.workbook.load import load_workbook

DATA = Path(__file__).parent / "data"
CHROMIUM = next(
    (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None
)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")

AXE_RUN = """
axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] }).then(function (r) {
  var out = document.createElement("pre");
  out.id = "axe-results";
  out.textContent = JSON.stringify(r.violations.map(function (v) {
    return { id: v.id, impact: v.impact, help: v.help,
             nodes: v.nodes.slice(0, 3).map(function (n) { return n.target; }) };
  }));
  document.body.appendChild(out);
});
"""


def axe_core() -> Path | None:
    given = os.environ.get("AXE_CORE")
    if given and Path(given).is_file():
        return Path(given)
    node = shutil.which("node")
    if node is None:
        return None
    found = subprocess.run(
        [node, "-p", "require.resolve('axe-core/axe.min.js')"], capture_output=True, text=True
    )
    return Path(found.stdout.strip()) if found.returncode == 0 else None


def chromium(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            f"--user-data-dir={cwd / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def dom(url: str, cwd: Path) -> tuple[str, str]:
    """The page's DOM once its scripts ran, and what the browser logged."""
    done = chromium("--virtual-time-budget=10000", "--dump-dom", url, cwd=cwd)
    return done.stdout, done.stderr


def console_errors(log: str) -> list[str]:
    return [
        line
        for line in log.splitlines()
        if "CONSOLE" in line or "Refused to" in line or "Uncaught" in line
    ]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "clinic"
    shutil.copytree(DATA / "small-clinic", root)
    build(load_workbook(root))
    return root / "build" / "site"


PAGES = ["index.html", "roles/nurse.html", "departments/clinical.html", "matrix.html"]


def test_search_finds_a_role_by_a_word_of_a_need(site: Path, tmp_path: Path) -> None:
    page, log = dom((site / "index.html").as_uri() + "?q=signs+calling", tmp_path)
    results = re.search(r'<ul id="search-results"[^>]*>(.*?)</ul>', page, re.S)
    assert results is not None, page
    assert '<a href="roles/nurse.html">Nurse</a>' in results.group(1)
    assert "<mark>signs</mark> mean <mark>calling</mark> back" in results.group(1)
    assert console_errors(log) == []


@pytest.mark.parametrize("name", PAGES)
def test_pages_open_from_disk_without_a_console_error(
    site: Path, tmp_path: Path, name: str
) -> None:
    page, log = dom((site / name).as_uri(), tmp_path)
    assert "</main>" in page
    assert console_errors(log) == []


def test_hostile_text_appears_literally_and_runs_no_script(tmp_path: Path) -> None:
    root = tmp_path / "hostile"
    shutil.copytree(DATA / "present-hostile", root)
    build(load_workbook(root))
    site = root / "build" / "site"
    page, log = dom((site / "roles" / "clerk.html").as_uri(), tmp_path)
    heading = re.search(r"<h1>(.*?)</h1>", page, re.S)
    assert heading is not None
    assert html.unescape(heading.group(1)) == (
        'Clerk "the greeter" [front] {{ 7*7 }} <b>bold</b> | pipe # hash'
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert console_errors(log) == []
    # Searching for the script's text shows it as text too.
    page, log = dom((site / "index.html").as_uri() + "?q=alert", tmp_path)
    assert "&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt;" in page
    assert console_errors(log) == []


@pytest.mark.parametrize("name", [*PAGES, "customers/patient.html"])
def test_axe_finds_no_serious_violation(site: Path, tmp_path: Path, name: str) -> None:
    axe = axe_core()
    if axe is None:
        pytest.skip("axe-core is not installed (set AXE_CORE to axe.min.js)")
    shutil.copy(axe, site / "assets" / "axe.min.js")
    (site / "assets" / "axe-run.js").write_text(AXE_RUN)
    page = site / name
    root = "../" * name.count("/")
    checked = page.with_name(f"axe-{page.name}")
    checked.write_text(
        page.read_text().replace(
            "</body>",
            f'<script src="{root}assets/axe.min.js"></script>'
            f'<script src="{root}assets/axe-run.js"></script></body>',
        )
    )
    found, log = dom(checked.as_uri(), tmp_path)
    results = re.search(r'<pre id="axe-results">(.*?)</pre>', found, re.S)
    assert results is not None, log[-2000:]
    violations = json.loads(html.unescape(results.group(1)))
    assert [v for v in violations if v["impact"] in ("serious", "critical")] == []
