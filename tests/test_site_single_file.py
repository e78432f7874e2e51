"""site.html, the explorer in one file (`build --site-single-file`): made only when asked,
every link leads to an id in the file and no id repeats, hostile text stays text, its
policy allows only its own inline scripts and style, it is made again only when a page
changed, `--check` finds it stale; in headless Chromium one page shows at a time, search
leads to a section, the matrix drills down, it reads with JavaScript off and axe-core finds
no serious violation. The browser tests skip without a browser (tests/headless_chromium.py)."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from headless_chromium import (
    AXE_RUN,
    SELENIUM,
    chromium,
    console_errors,
    needs_browser,
    no_alert,
    type_in,
    visit,
    wait,
)
from markupsafe import escape
from test_site_browser import HOSTILE_TITLE

from jobdefs.build import site_plan
from jobdefs.build.run import build, check
from jobdefs.cli import cli
from jobdefs.documents.site.pages import SitePages
from jobdefs.documents.site.single_file import anchor
from jobdefs.workbook.load import load_workbook

if SELENIUM:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.remote.webdriver import WebDriver

DATA = Path(__file__).parent / "data"
# Text that would end an element, open a page's section or name an id, were it markup.
BREAKER = '</main></section><section class="page" id="p-index"> id="x" href="#y" </style>'


def copy(tmp_path: Path, workbook: str) -> Path:
    root = tmp_path / workbook
    shutil.copytree(DATA / workbook, root)
    return root


@pytest.fixture
def clinic(tmp_path: Path) -> Path:
    return copy(tmp_path, "small-clinic")


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small clinic's site.html, built once for the tests that only read it."""
    root = copy(tmp_path_factory.mktemp("single"), "small-clinic")
    build(load_workbook(root), site_single_file=True)
    return root / "build" / "site.html"


def ids(page: str) -> list[str]:
    return re.findall(r' id="([^"]*)"', page)


def hrefs(page: str) -> list[str]:
    return re.findall(r' href="([^"]*)"', page)


def inline(page: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}>(.*?)</{tag}>", page, re.S)


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def policy(page: str) -> dict[str, list[str]]:
    found = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert found is not None
    directives = [d.split() for d in html.unescape(found.group(1)).split(";")]
    return {d[0]: d[1:] for d in directives if d}


def test_the_file_is_made_only_when_asked(clinic: Path) -> None:
    report = build(load_workbook(clinic))
    assert not (clinic / "build" / "site.html").exists() and "site.html" not in report.written
    report = build(load_workbook(clinic), site_single_file=True)
    assert report.written == ["site.html"]  # beside site/, whose pages were current
    (clinic / "build" / "site.html").unlink()
    config = clinic / "jobdefs.yaml"
    config.write_text(config.read_text() + "site_single_file: true\n")
    assert "site.html" in build(load_workbook(clinic)).written


def test_every_link_leads_to_an_id_of_the_file_and_no_id_repeats(single: Path) -> None:
    page = single.read_text()
    repeated = [name for name, count in Counter(ids(page)).items() if count > 1]
    assert repeated == []
    known = set(ids(page))
    links = hrefs(page)
    assert links and [h for h in links if not h.startswith("#")] == []
    assert sorted({h[1:] for h in links} - known) == []
    assert "<link" not in page and " src=" not in page  # nothing else is loaded
    loaded = load_workbook(single.parent.parent)
    for each in SitePages(loaded.organization, loaded.findings).pages():
        assert anchor(each.path) in known, each
    # Every hand-off keeps its id, under its supplier's page; the index's links lead there.
    for handoff in loaded.organization.handoffs:
        assert f"p-roles-{handoff.supplier.id}--{handoff.id}" in known, handoff
    assert 'href="#p-roles-nurse"' in page and 'href="#p-matrix"' in page


def test_the_policy_allows_only_its_own_inline_script_and_style(single: Path) -> None:
    page = single.read_text()
    rules = policy(page)
    scripts, styles = inline(page, "script"), inline(page, "style")
    assert len(scripts) == 2 and len(styles) == 1
    assert page.count("<script") == 2 and page.count("<style") == 1
    assert rules["default-src"] == ["'none'"]
    assert rules["script-src"] == [sha256_source(s) for s in scripts]
    assert rules["style-src"] == [sha256_source(s) for s in styles]
    assert "'unsafe-inline'" not in str(rules) and "'self'" not in str(rules)
    assert " style=" not in page and re.search(r"<[^>]* on[a-z]+=", page) is None


def test_hostile_text_is_shown_as_typed_and_names_no_id(make_workbook) -> None:
    root = make_workbook(
        {
            "roles/breaker.yaml": (
                f"title: '{BREAKER}'\ndepartment: 'Front ] desk\"; end'\n"
                f"purpose: '</script><script>alert(5)</script> {BREAKER}'\nproducts:\n"
                f"  - name: '{BREAKER}'\n    customers:\n"
                "      - external: the patient\n        need: '<!-- </style>'\n"
            )
        },
        copy_of=DATA / "present-hostile",
    )
    build(load_workbook(root), site_single_file=True)
    page = (root / "build" / "site.html").read_text()
    assert str(escape(BREAKER)) in page  # as jinja2 escapes it: `"` as &#34;
    assert "<script>alert" not in page and page.count("<script") == 2
    assert page.count("<section") == page.count("</section>")
    # Every id is a section's, an id inside one, or the document's own few.
    own = {"main", "contents", "contents-heading"}
    assert [i for i in ids(page) if i not in own and not re.fullmatch(r"p-[A-Za-z0-9-]+", i)] == []
    assert "x" not in {i.rpartition("--")[2] for i in ids(page)}
    # The search index is one JSON value, its text in strings that cannot end the script.
    search = inline(page, "script")[0]
    assert "<" not in search and ">" not in search and "&" not in search
    value = json.loads(search.removeprefix("window.jobdefsSearch = ").rstrip().rstrip(";"))
    titles = {entry[2]: entry[1] for entry in value["entries"]}
    assert titles[BREAKER] == "#p-roles-breaker" and titles[HOSTILE_TITLE] == "#p-roles-clerk"


def test_two_builds_give_the_same_bytes(clinic: Path, tmp_path: Path) -> None:
    build(load_workbook(clinic), output_dir=tmp_path / "one", site_single_file=True)
    build(load_workbook(clinic), output_dir=tmp_path / "two", site_single_file=True)
    one, two = (tmp_path / name / "site.html" for name in ("one", "two"))
    assert one.read_bytes() == two.read_bytes()


def test_it_is_made_again_only_when_a_page_changed(clinic: Path) -> None:
    built = clinic / "build" / "site.html"
    build(load_workbook(clinic), site_single_file=True)
    os.utime(built, (1_000_000_000, 1_000_000_000))  # so that any rewrite shows
    before = built.read_bytes()
    assert build(load_workbook(clinic), site_single_file=True).written == []
    assert built.stat().st_mtime == 1_000_000_000 and built.read_bytes() == before
    nurse = clinic / "roles" / "care" / "nurse.yaml"
    nurse.write_text(nurse.read_text().replace("Carry out treatment", "Carry out care"))
    report = build(load_workbook(clinic), site_single_file=True)
    assert "site.html" in report.written and b"Carry out care" in built.read_bytes()
    # A build that does not ask for it keeps it, and says when it went out of date.
    nurse.write_text(nurse.read_text().replace("Carry out care", "Carry out nursing"))
    report = build(load_workbook(clinic))
    assert "site.html" not in report.written + report.removed and built.exists()
    assert any("site.html was made by an earlier build" in note for note in report.notes)


def test_check_finds_it_stale_after_a_hand_edit(clinic: Path) -> None:
    build(load_workbook(clinic), site_single_file=True)
    assert check(load_workbook(clinic), site_single_file=True).up_to_date
    built = clinic / "build" / "site.html"
    built.write_text(built.read_text().replace("Nurse", "Nurse (edited)"))
    assert check(load_workbook(clinic), site_single_file=True).stale == ["site.html"]
    report = check(load_workbook(clinic))  # not asked for, yet made here: stale all the same
    assert report.stale == ["site.html"]
    assert report.remedy() == "jobdefs build --site-single-file"
    result = CliRunner().invoke(cli, ["build", "-w", str(clinic), "--check"])
    assert result.exit_code == 1 and "stale: " in result.stderr
    assert "run 'jobdefs build --site-single-file'" in result.stderr


def test_without_the_site_it_is_refused_or_set_aside(clinic: Path) -> None:
    command = ["build", "-w", str(clinic), "--no-site", "--site-single-file"]
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 2 and "cannot be combined with --no-site" in result.stderr
    config = clinic / "jobdefs.yaml"
    config.write_text(config.read_text() + "site: false\nsite_single_file: true\n")
    report = build(load_workbook(clinic))
    assert not (clinic / "build" / "site.html").exists()
    assert any("site.html is not made while the explorer is not" in n for n in report.notes)
    config.write_text(config.read_text().replace("site_single_file: true", "site_single_file: 1"))
    result = CliRunner().invoke(cli, ["check", "-w", str(clinic)])
    assert result.exit_code == 1
    assert "'site_single_file' must be true or false, not '1'" in result.stderr


def test_a_large_file_is_made_with_a_note_saying_so(
    clinic: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(site_plan, "LARGE", 1000)
    report = build(load_workbook(clinic), site_single_file=True)
    assert (clinic / "build" / "site.html").exists()
    assert any("more than most mail services take: send it zipped" in n for n in report.notes)


# -- in a browser ----------------------------------------------------------------------


def shown_pages(driver: WebDriver) -> list[str]:
    return [
        section.get_attribute("id") or ""
        for section in driver.find_elements(By.CSS_SELECTOR, "main > section.page, main > nav")
        if section.is_displayed()
    ]


@needs_browser
def test_an_address_shows_its_page_alone_and_none_shows_the_index(
    browser: WebDriver, single: Path
) -> None:
    visit(browser, single.as_uri() + "#p-roles-nurse")
    wait(browser, lambda d: shown_pages(d) == ["p-roles-nurse"])
    assert browser.find_element(By.CSS_SELECTOR, "#p-roles-nurse h1").text == "Nurse"
    assert browser.find_element(By.CSS_SELECTOR, "header.site").is_displayed()
    assert browser.execute_script("return window.scrollY") == 0  # opens at its top
    visit(browser, single.as_uri())
    assert shown_pages(browser) == ["p-index"]
    # A hand-off's address shows its supplier's page, at its row.
    handoff = next(h for h in load_workbook(single.parent.parent).organization.handoffs)
    browser.get(single.as_uri() + f"#p-roles-{handoff.supplier.id}--{handoff.id}")
    wait(browser, lambda d: shown_pages(d) == [f"p-roles-{handoff.supplier.id}"])
    target = browser.execute_script("return document.querySelector(':target')")
    assert target.tag_name == "tr" and handoff.need in target.text
    assert console_errors(browser) == []


@needs_browser
def test_search_finds_the_nurse_and_leads_to_her_section(browser: WebDriver, single: Path) -> None:
    visit(browser, single.as_uri())
    box = browser.find_element(By.ID, "p-index--search-box")
    assert box.is_displayed()
    type_in(box, "signs calling")
    results = "#p-index--search-results > li a"
    found = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, results))
    assert [a.text for a in found] == ["Nurse"]
    assert found[0].get_attribute("href").endswith("site.html#p-roles-nurse")
    box.send_keys(Keys.TAB)
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait(browser, lambda d: d.current_url.endswith("site.html#p-roles-nurse"))
    wait(browser, lambda d: shown_pages(d) == ["p-roles-nurse"])
    assert console_errors(browser) == []


@needs_browser
def test_the_matrix_drills_down_to_the_pair_in_the_file(browser: WebDriver, single: Path) -> None:
    visit(browser, single.as_uri() + "#p-matrix")
    table = "#p-matrix--matrix"
    heads = [th.text for th in browser.find_elements(By.CSS_SELECTOR, f"{table} thead th")]
    row = next(
        tr
        for tr in browser.find_elements(By.CSS_SELECTOR, f"{table} tbody tr")
        if tr.find_element(By.TAG_NAME, "th").text == "Clinical"
    )
    cell = row.find_elements(By.CSS_SELECTOR, "th, td")[heads.index("Laboratory")]
    cell.find_element(By.TAG_NAME, "a").click()
    wait(browser, lambda d: d.current_url.endswith("#p-departments-clinical--to-laboratory"))
    assert shown_pages(browser) == ["p-departments-clinical"]
    pair = browser.find_element(By.ID, "p-departments-clinical--to-laboratory")
    assert pair.text == "To Laboratory: 1 hand-off" and pair.is_displayed()
    assert console_errors(browser) == []


@needs_browser
def test_with_javascript_off_every_page_is_there_to_read(single: Path) -> None:
    driver = chromium(javascript=False)
    try:
        driver.get(single.as_uri())
        assert not driver.find_element(By.ID, "p-index--search").is_displayed()
        driver.find_element(By.LINK_TEXT, "All pages").click()
        wait(driver, lambda d: shown_pages(d) == ["contents"])
        listed = driver.find_elements(By.CSS_SELECTOR, "nav.contents a")
        sections = driver.find_elements(By.CSS_SELECTOR, "main > section.page")
        assert [a.get_attribute("href").rpartition("#")[2] for a in listed] == [
            s.get_attribute("id") for s in sections
        ]
        next(a for a in listed if a.text == "Nurse").click()
        wait(driver, lambda d: shown_pages(d) == ["p-roles-nurse"])
        nurse = driver.find_element(By.ID, "p-roles-nurse").text
        assert "To know what to do at home and which signs mean calling back." in nurse
        # Every page is in the file whatever is shown: its text is the document's.
        everything = driver.execute_script("return document.querySelector('main').textContent")
        for section in sections:
            heading = section.find_element(By.TAG_NAME, "h1").get_attribute("textContent")
            assert heading and heading in everything
    finally:
        driver.quit()


@needs_browser
@pytest.mark.parametrize("address", ["", "#p-roles-nurse", "#p-matrix", "#contents"])
def test_axe_finds_no_serious_violation(
    browser: WebDriver, single: Path, axe_source: str, address: str
) -> None:
    browser.get(single.as_uri() + address)
    browser.execute_script(axe_source)
    violations = browser.execute_async_script(AXE_RUN)
    assert [v for v in violations if v["impact"] in ("serious", "critical")] == []


@needs_browser
def test_hostile_text_appears_literally_and_runs_no_script(
    browser: WebDriver, tmp_path: Path
) -> None:
    root = copy(tmp_path, "present-hostile")
    build(load_workbook(root), site_single_file=True)
    single = root / "build" / "site.html"
    visit(browser, single.as_uri() + "#p-roles-clerk")
    assert no_alert(browser)
    heading = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#p-roles-clerk h1"))
    assert heading.text == HOSTILE_TITLE and heading.find_elements(By.TAG_NAME, "b") == []
    assert len(browser.find_elements(By.TAG_NAME, "script")) == 2
    browser.get(single.as_uri())
    type_in(browser.find_element(By.ID, "p-index--search-box"), "alert")
    found = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".results li a"))
    assert HOSTILE_TITLE in [a.text for a in found]
    assert browser.find_elements(By.CSS_SELECTOR, ".results script") == []
    assert no_alert(browser)
    assert console_errors(browser) == []  # a script or style the policy refused says so
