from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent
SMALL_CLINIC = DATA / "small-clinic"  # eight roles, three external customers, one warning

# The benchmarks' organization generator doubles as a fixture for large workbooks.
sys.path.insert(0, str(REPO / "benchmarks"))


@pytest.fixture(autouse=True, scope="session")
def _user_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Compiled templates go to a folder of the test run's own, never the user's."""
    os.environ["JOBDEFS_CACHE_DIR"] = str(tmp_path_factory.mktemp("user-cache"))


@pytest.fixture
def data() -> Path:
    return DATA


@pytest.fixture
def make_workbook(tmp_path: Path) -> Callable[..., Path]:
    """Write a tiny workbook from {relative path: text or bytes} and return its folder."""

    def make(files: dict[str, str | bytes], copy_of: Path | None = None) -> Path:
        root = tmp_path / "workbook"
        if copy_of is not None:
            shutil.copytree(copy_of, root)
        for relative, content in files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return root

    return make


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """One headless Chromium for a module's browser tests (tests/headless_chromium.py)."""
    from headless_chromium import chromium

    driver = chromium()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def axe_source() -> str:
    from headless_chromium import axe_core

    axe = axe_core()
    if axe is None:
        pytest.skip("axe-core is not installed (set AXE_CORE to axe.min.js)")
    return axe.read_text(encoding="utf-8")
