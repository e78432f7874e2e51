"""LibreOffice for the tests that open outputs in a real office suite: a conversion run as
CI runs it, and the marks that skip a test where `soffice` (or poppler's `pdftotext`) is
missing. .ci/run installs both.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

needs_soffice = pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed"
)
needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed"
)


def convert(
    paths: Iterable[Path], folder: Path, profile: Path, *, to: str = "pdf", timeout: int = 600
) -> None:
    """Convert `paths` into `folder` (`to`: "pdf", or a filter such as
    "docx:MS Word 2007 XML"), with a profile of its own in `profile` so that runs never
    share one. A failed conversion fails the test."""
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            to,
            "--outdir",
            str(folder),
            *(str(path) for path in paths),
        ],
        check=True,
        capture_output=True,
        timeout=timeout,
        cwd=folder.parent,
    )


def pdf_text(pdf: Path) -> str:
    """The text of `pdf` as laid out on its pages, each page ending with a form feed."""
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
