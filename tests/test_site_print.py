"""The explorer on paper: a role page printed by headless Chromium fits on four pages.

Skipped when Chromium or pdfinfo (poppler-utils) is not installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from jobdefs.build.run import build
from jobdefs.workbook.load import load_workbook

CHROMIUM = next(
    (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None
)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
PRINTED_PAGES_MAX = 4
# What "a role page" holds for the four pages: a role that hands over and receives up to
# this many hand-offs (the generated organization's last role receives 80, and prints on 6).
PRINTED_HANDOFFS_MAX = 30


def test_a_role_page_prints_on_at_most_four_pages(tmp_path: Path) -> None:
    if shutil.which("pdfinfo") is None:
        pytest.skip("pdfinfo (poppler-utils) is not installed")
    from synthetic import write_organization

    root = write_organization(tmp_path / "many", 60)
    loaded = load_workbook(root)
    build(loaded, jobs=1)
    organization = loaded.organization
    site = root / "build" / "site"
    # The role with the most on its page (by the page's size) of those of a usual size.
    usual = [
        site / "roles" / f"{role.id}.html"
        for role in organization.roles
        if len(organization.handoffs_to(role.id)) <= PRINTED_HANDOFFS_MAX
        and len(organization.handoffs_from(role.id)) <= PRINTED_HANDOFFS_MAX
    ]
    page = max(usual, key=lambda p: p.stat().st_size)
    pdf = tmp_path / "role.pdf"
    assert CHROMIUM is not None
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))  # type: ignore[union-attr]
    assert 1 <= pages <= PRINTED_PAGES_MAX
