"""The explorer in a real browser: Selenium drives headless Chromium through the site.

Search typed into the box finds a role by a word of a need, and its result leads to the
role; the matrix drills down to a pair of departments, tables sort by their headers, the
matrix filter hides rows, a hand-off's address opens at its row; with JavaScript off the
pages still say everything; the console stays quiet; axe-core finds no serious or critical
WCAG 2.1 AA violation; hostile text is shown as typed and runs nothing; a page served by
`jobdefs serve` reloads itself after an edit. Printing is in test_site_print.py.

Skipped when Selenium, Chromium or chromedriver is not installed, and, for accessibility,
when axe-core is not found (tests/headless_chromium.py).
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
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

from jobdefs.build.run import build
from jobdefs.workbook.load import load_workbook

if SELENIUM:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement
    from selenium.webdriver.support.ui import WebDriverWait

DATA = Path(__file__).parent / "data"
pytestmark = needs_browser
HOSTILE_TITLE = 'Clerk "the greeter" [front] {{ 7*7 }} <b>bold</b> | pipe # hash'

# One of each kind of page (the small clinic has one journey).
PAGES = [
    "index.html",
    "roles/nurse.html",
    "departments/clinical.html",
    "customers/patient.html",
    "journeys/clinic-visit.html",
    "matrix.html",
]


@pytest.fixture(scope="module")
def no_script_browser() -> Iterator[WebDriver]:
    driver = chromium(javascript=False)
    try:
        yield driver
    finally:
        driver.quit()


def built_site(tmp_path_factory: pytest.TempPathFactory, workbook: str) -> Path:
    root = tmp_path_factory.mktemp("browser") / workbook
    shutil.copytree(DATA / workbook, root)
    build(load_workbook(root))
    return root / "build" / "site"


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_site(tmp_path_factory, "small-clinic")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_site(tmp_path_factory, "present-hostile")


def results(driver: WebDriver) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, "#search-results > li")


def result_for(driver: WebDriver, title: str) -> WebElement | None:
    for item in results(driver):
        if item.find_element(By.TAG_NAME, "a").text == title:
            return item
    return None


def shown_texts(elements: list[WebElement]) -> list[str]:
    return [e.text for e in elements if e.is_displayed()]


def test_typed_search_finds_a_role_by_a_word_of_a_need_and_leads_to_it(
    browser: WebDriver, clinic: Path
) -> None:
    visit(browser, (clinic / "index.html").as_uri())
    box = browser.find_element(By.ID, "search-box")
    assert box.is_displayed()
    type_in(box, "signs calling")
    nurse = wait(browser, lambda d: result_for(d, "Nurse"))
    snippet = nurse.find_element(By.CLASS_NAME, "snippet")
    assert "which signs mean calling back" in snippet.text
    marks = snippet.find_elements(By.TAG_NAME, "mark")
    assert [m.text for m in marks] == ["signs", "calling"]
    assert [r.find_element(By.TAG_NAME, "a").text for r in results(browser)] == ["Nurse"]
    assert browser.find_element(By.ID, "search-status").text == "1 result."
    # From the box, Tab reaches the first result and Enter follows it.
    box.send_keys(Keys.TAB)
    focused = browser.switch_to.active_element
    assert focused.text == "Nurse" and focused.tag_name == "a"
    focused.send_keys(Keys.ENTER)
    wait(browser, lambda d: d.current_url.endswith("/roles/nurse.html"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Nurse"
    assert console_errors(browser) == []


def test_a_search_that_finds_nothing_says_so(browser: WebDriver, clinic: Path) -> None:
    visit(browser, (clinic / "index.html").as_uri())
    type_in(browser.find_element(By.ID, "search-box"), "zebra")
    wait(browser, lambda d: d.find_element(By.ID, "search-status").text == "Nothing found.")
    assert results(browser) == []


def test_the_matrix_drills_down_from_a_pair_of_departments_to_role_by_role(
    browser: WebDriver, clinic: Path
) -> None:
    visit(browser, (clinic / "matrix.html").as_uri())
    heads = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#matrix thead th")]
    column = heads.index("Laboratory")
    row = next(
        tr
        for tr in browser.find_elements(By.CSS_SELECTOR, "#matrix tbody tr")
        if tr.find_element(By.TAG_NAME, "th").text == "Clinical"
    )
    count = row.find_elements(By.CSS_SELECTOR, "th, td")[column].find_element(By.TAG_NAME, "a")
    assert count.text == "1"
    count.click()
    wait(browser, lambda d: d.current_url.endswith("/departments/clinical.html#to-laboratory"))
    pair = browser.find_element(By.ID, "to-laboratory")
    assert pair.text == "To Laboratory: 1 hand-off"
    grid = pair.find_element(By.XPATH, "following-sibling::div[1]//table")
    columns = [th.text for th in grid.find_elements(By.CSS_SELECTOR, "thead th")]
    assert columns == ["From", "Laboratory Technician"]
    cells = {
        tr.find_element(By.TAG_NAME, "th").text: [
            td.text for td in tr.find_elements(By.TAG_NAME, "td")
        ]
        for tr in grid.find_elements(By.CSS_SELECTOR, "tbody tr")
    }
    assert cells["Physician"] == ["Lab order"]
    assert console_errors(browser) == []


def test_a_header_button_sorts_its_table_both_ways(browser: WebDriver, clinic: Path) -> None:
    visit(browser, (clinic / "departments" / "clinical.html").as_uri())
    table = browser.find_element(
        By.XPATH, "//table[caption='What other departments hand Clinical']"
    )
    heads = table.find_elements(By.CSS_SELECTOR, "thead th")
    product = next(th for th in heads if th.text == "Product")
    column = heads.index(product)

    def products() -> list[str]:
        return [
            tr.find_elements(By.TAG_NAME, "td")[column].text
            for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")
        ]

    before = products()
    assert before != sorted(before)  # else sorting it would show nothing
    assert product.get_attribute("aria-sort") is None
    product.find_element(By.TAG_NAME, "button").click()
    assert product.get_attribute("aria-sort") == "ascending"
    assert products() == sorted(before)
    product.find_element(By.TAG_NAME, "button").click()
    assert product.get_attribute("aria-sort") == "descending"
    assert products() == sorted(before, reverse=True)
    assert console_errors(browser) == []


def test_the_matrix_filter_hides_the_other_departments(browser: WebDriver, clinic: Path) -> None:
    visit(browser, (clinic / "matrix.html").as_uri())
    rows = browser.find_elements(By.CSS_SELECTOR, "#matrix tbody th")
    heads = browser.find_elements(By.CSS_SELECTOR, "#matrix thead th.to")
    everyone = shown_texts(rows)
    assert "Clinical" in everyone and len(everyone) == 6
    box = browser.find_element(By.ID, "matrix-filter-box")
    type_in(box, "lab")
    wait(browser, lambda d: shown_texts(rows) == ["Laboratory"])
    assert shown_texts(heads) == ["Laboratory"]
    for _ in "lab":
        box.send_keys(Keys.BACKSPACE)
    wait(browser, lambda d: shown_texts(rows) == everyone)


def test_a_hand_off_address_opens_at_its_row(browser: WebDriver, clinic: Path) -> None:
    organization = load_workbook(clinic.parent.parent).organization
    handoff = [h for h in organization.handoffs if h.supplier.id == "physician"][-1]
    visit(browser, (clinic / "roles" / "physician.html").as_uri() + f"#{handoff.id}")
    # The browser goes to the fragment once the page is laid out, not always by `get`'s end.
    target = wait(browser, lambda d: d.execute_script("return document.querySelector(':target')"))
    assert target.get_attribute("id") == handoff.id
    assert target.tag_name == "tr" and handoff.need in target.text
    in_sight = (
        "var box = arguments[0].getBoundingClientRect();"
        "return box.top >= 0 && box.bottom <= window.innerHeight;"
    )
    assert wait(browser, lambda d: d.execute_script(in_sight, target))
    assert browser.execute_script("return window.scrollY") > 0  # it scrolled there


def test_pages_say_everything_with_javascript_off(
    no_script_browser: WebDriver, clinic: Path
) -> None:
    browser = no_script_browser
    browser.get((clinic / "index.html").as_uri())
    assert not browser.find_element(By.ID, "search").is_displayed()  # the script is off
    roles = {a.text for a in browser.find_elements(By.CSS_SELECTOR, "main a[href^='roles/']")}
    assert {"Nurse", "Physician", "Receptionist"} <= roles
    browser.get((clinic / "roles" / "nurse.html").as_uri())
    tables = {
        t.find_element(By.TAG_NAME, "caption").text: t
        for t in browser.find_elements(By.CSS_SELECTOR, "main table")
    }
    assert {"Customers of Discharge teaching", "Suppliers of Nurse"} <= tables.keys()
    customers = tables["Customers of Discharge teaching"].text
    assert "To know what to do at home and which signs mean calling back." in customers
    assert "Treatment orders" in tables["Suppliers of Nurse"].text
    browser.get((clinic / "matrix.html").as_uri())
    # Without the script a count is plain text, and a department's name leads to its page.
    assert browser.find_elements(By.CSS_SELECTOR, "#matrix td a") == []
    assert len(browser.find_elements(By.CSS_SELECTOR, "#matrix tbody th a")) == 6


@pytest.mark.parametrize("name", PAGES)
def test_pages_open_from_disk_without_a_console_error(
    browser: WebDriver, clinic: Path, name: str
) -> None:
    visit(browser, (clinic / name).as_uri())
    assert browser.find_element(By.CSS_SELECTOR, "main h1").text
    assert console_errors(browser) == []


@pytest.mark.parametrize("name", PAGES)
def test_axe_finds_no_serious_violation(
    browser: WebDriver, clinic: Path, axe_source: str, name: str
) -> None:
    browser.get((clinic / name).as_uri())
    # WebDriver's scripts are not the page's, so the page's policy does not refuse them.
    browser.execute_script(axe_source)
    violations = browser.execute_async_script(AXE_RUN)
    assert [v for v in violations if v["impact"] in ("serious", "critical")] == []


def test_hostile_text_appears_literally_and_runs_no_script(
    browser: WebDriver, hostile: Path
) -> None:
    visit(browser, (hostile / "roles" / "clerk.html").as_uri())
    assert no_alert(browser)
    assert browser.find_element(By.TAG_NAME, "h1").text == HOSTILE_TITLE
    assert browser.find_elements(By.CSS_SELECTOR, "h1 b") == []
    assert browser.title.startswith(HOSTILE_TITLE + " · ")
    products = [h3.text for h3 in browser.find_elements(By.CSS_SELECTOR, "section h3")]
    assert 'Chart ]"--> x1 | "<script>alert(1)</script>' in products
    scripts = browser.find_elements(By.TAG_NAME, "script")
    assert [s.get_attribute("src").rsplit("/", 2)[-2:] for s in scripts] == [["assets", "site.js"]]
    assert console_errors(browser) == []
    # Searching for the script's text shows it as text too.
    visit(browser, (hostile / "index.html").as_uri())
    type_in(browser.find_element(By.ID, "search-box"), "alert")
    clerk = wait(browser, lambda d: result_for(d, HOSTILE_TITLE))
    snippet = clerk.find_element(By.CLASS_NAME, "snippet")
    assert '"<script>alert(1)</script>' in snippet.text
    assert [m.text for m in snippet.find_elements(By.TAG_NAME, "mark")] == ["alert"]
    assert browser.find_elements(By.CSS_SELECTOR, "#search-results script") == []
    assert no_alert(browser)
    assert console_errors(browser) == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status == 200


def test_a_served_page_reloads_itself_after_an_edit(browser: WebDriver, tmp_path: Path) -> None:
    workbook = tmp_path / "clinic"
    shutil.copytree(DATA / "small-clinic", workbook)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "jobdefs", "serve", "-w", str(workbook), "--port", str(port)],
        cwd=tmp_path,
        stderr=subprocess.DEVNULL,
        # A shell without job control starts children with Ctrl-C ignored; undo that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        page = f"http://127.0.0.1:{port}/roles/nurse.html"
        WebDriverWait(browser, 60, poll_frequency=0.2, ignored_exceptions=[OSError]).until(
            lambda _: answers(page)
        )
        visit(browser, page)
        lead = browser.find_element(By.CSS_SELECTOR, "p.lead")
        assert lead.text.startswith("Carry out treatment")
        browser.execute_script("window.notYetReloaded = true")
        nurse = workbook / "roles" / "care" / "nurse.yaml"
        nurse.write_text(nurse.read_text().replace("Carry out treatment", "Carry out care"))
        # The watcher looks twice a second, the build takes a moment, the page asks once a second.
        WebDriverWait(browser, 60, ignored_exceptions=[StaleElementReferenceException]).until(
            lambda d: d.find_element(By.CSS_SELECTOR, "p.lead").text.startswith("Carry out care"),
            "the served page did not reload itself with the edit",
        )
        assert browser.execute_script("return window.notYetReloaded") is None  # a new page
        # Served, a browser also asks for /favicon.ico: "no content" is no error either.
        assert console_errors(browser) == []
    finally:
        browser.get("about:blank")  # the page stops asking the server
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
