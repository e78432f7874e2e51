"""Headless Chromium for the explorer's tests, driven by Selenium: a driver, the waits
and keys a person's use needs, the console's errors, and axe-core. The `browser` and
`axe_source` fixtures (conftest.py) build on it.

Every test that uses it is skipped when Selenium, Chromium or chromedriver is missing
(`needs_browser`); .ci/run installs Debian's chromium and chromium-driver. axe-core is
found by the path of axe.min.js in AXE_CORE, as .ci/run sets it, or by what node resolves.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

try:
    from selenium import webdriver
    from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement
    from selenium.webdriver.support.ui import WebDriverWait

    SELENIUM = True
except ImportError:  # the test extras were not installed
    SELENIUM = False


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
_MISSING = [
    name
    for name, found in (
        ("Selenium (pip install '.[test]')", SELENIUM),
        ("Chromium", CHROMIUM),
        ("chromedriver", CHROMEDRIVER),
    )
    if not found
]
needs_browser = pytest.mark.skipif(bool(_MISSING), reason=f"not installed: {', '.join(_MISSING)}")
WAIT = 10  # seconds a page may take to show what a person waits for

AXE_RUN = """
var done = arguments[arguments.length - 1];
axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] })
  .then(function (r) {
    done(r.violations.map(function (v) {
      return { id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.slice(0, 3).map(function (n) { return n.target; }) };
    }));
  }, function (error) { done([{ id: "axe-failed", impact: "critical", help: String(error) }]); });
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


def chromium(javascript: bool = True) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900"):
        options.add_argument(argument)  # --no-sandbox: CI runs as root
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_script_timeout(60)  # axe-core on a large page
    return driver


def visit(driver: WebDriver, url: str) -> None:
    """Open `url` with the console's earlier lines read away, so that what
    console_errors reports next is this page's."""
    driver.get_log("browser")
    driver.get(url)


def console_errors(driver: WebDriver) -> list[dict[str, Any]]:
    return [line for line in driver.get_log("browser") if line["level"] == "SEVERE"]


def type_in(box: WebElement, text: str) -> None:
    """Key by key, as a person types, so that each key sets off the page's input event."""
    for key in text:
        box.send_keys(key)


def wait(driver: WebDriver, condition: Callable[[WebDriver], Any]) -> Any:
    return WebDriverWait(driver, WAIT, ignored_exceptions=[StaleElementReferenceException]).until(
        condition
    )


def no_alert(driver: WebDriver) -> bool:
    try:
        alert = driver.switch_to.alert
    except NoAlertPresentException:
        return True
    alert.dismiss()  # so that the tests after this one find a page they can use
    return False
