"""The explorer on paper: the largest role page of the generated organization, printed by
headless Chromium, fits on four pages, keeps the role's own text in full and every
customer and supplier, and prints no word under 7 points.

A word's size is the height of its box in the PDF (`pdftotext -bbox`), measured against a
line of 7-point text printed the same way, as test_print.py does for the office documents.
Skipped when Chromium or poppler-utils (pdfinfo, pdftotext) is not installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_print import SMALLEST, heights

from jobdefs.build.run import build
from jobdefs.workbook.load import load_workbook

CHROMIUM = next(
    (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or shutil.which("pdfinfo") is None or shutil.which("pdftotext") is None,
    reason="Chromium or poppler-utils (pdfinfo, pdftotext) is not installed",
)
PRINTED_PAGES_MAX = 4
SEVEN_POINTS = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>7 points</title>
<link rel="stylesheet" href="assets/site.css"></head>
<body><p style="font-size: {SMALLEST}pt">Seven point text, the least a printed word may be</p>
</body></html>
"""


def print_to_pdf(page: Path, pdf: Path, profile: Path) -> Path:
    assert CHROMIUM is not None
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return pdf


def test_the_largest_role_page_prints_whole_on_at_most_four_pages(tmp_path: Path) -> None:
    from synthetic import write_organization

    root = write_organization(tmp_path / "many", 60)
    loaded = load_workbook(root)
    build(loaded, jobs=1)
    organization = loaded.organization
    site = root / "build" / "site"
    # The role with the most on its page: it receives some eighty hand-offs.
    role = max(organization.roles, key=lambda r: (site / "roles" / f"{r.id}.html").stat().st_size)
    received = organization.handoffs_to(role.id)
    assert len(received) > 60
    # And the one whose line of sight is longest: its drawing has the most boxes to shrink.
    sighted = max(
        organization.roles,
        key=lambda r: max(
            (len(line.chain) for line in organization.lines_of_sight.get(r.id, ())), default=0
        ),
    )
    (site / "seven-points.html").write_text(SEVEN_POINTS, encoding="utf-8")
    bar = print_to_pdf(site / "seven-points.html", tmp_path / "seven.pdf", tmp_path / "p")
    least = min(heights(bar)) * 0.99  # a 7-point word's box
    for shown in (sighted, role):
        pdf = print_to_pdf(
            site / "roles" / f"{shown.id}.html", tmp_path / f"{shown.id}.pdf", tmp_path / "p"
        )
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
        pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))  # type: ignore[union-attr]
        assert 1 <= pages <= PRINTED_PAGES_MAX, shown.id
        words = heights(pdf)
        assert len(words) > 100, shown.id  # it printed the page's text, not an empty page
        assert [round(height, 1) for height in words if height < least] == [], shown.id

    printed = " ".join(
        subprocess.run(
            ["pdftotext", str(tmp_path / f"{role.id}.pdf"), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    )
    printed = printed.replace("- ", "-")  # a line may break after the hyphen of follow-up
    own = [
        role.purpose,
        *(text for p in role.products for text in (p.name, p.description)),
        *(text for h in organization.handoffs_from(role.id) for text in (h.need, h.standard)),
        *(text for m in role.moments_of_truth for text in (m.moment, m.practice)),
        *(q.text for q in role.feedback_questions),
    ]
    assert [text for text in own if text and " ".join(text.split()) not in printed] == []
    customers = {h.customer.title for h in organization.handoffs_from(role.id)}
    suppliers = {h.supplier.title for h in received}
    assert customers and sorted(c for c in customers if c not in printed) == []
    assert sorted(s for s in suppliers if s not in printed) == []
    assert sorted(p for p in {h.product for h in received} if p not in printed) == []
    online = f"roles/{role.id}.html"
    assert f"{len(received)} hand-offs from {len(suppliers)} suppliers" in printed
    assert online in printed  # where the needs and standards it leaves off are


def test_a_role_with_more_suppliers_than_a_page_holds_sends_the_reader_online(
    tmp_path: Path,
) -> None:
    """A role receiving from 130 roles prints the first 120 by supplier, and says where the
    rest are: still within four pages."""
    root = tmp_path / "crowd"
    (root / "roles").mkdir(parents=True)
    (root / "jobdefs.yaml").write_text(
        "organization: Crowded Clinic\nexternal_customers:\n  patient:\n    name: Patient\n",
        encoding="utf-8",
    )
    (root / "roles" / "sink.yaml").write_text(
        "title: Sink\ndepartment: Ward\npurpose: Take in what everyone sends.\nproducts:\n"
        "  - name: Discharge\n    customers:\n      - external: patient\n"
        "        need: To go home knowing what to do.\n",
        encoding="utf-8",
    )
    for n in range(130):
        (root / "roles" / f"source-{n:03d}.yaml").write_text(
            f"title: Source {n:03d}\ndepartment: Ward\npurpose: Send one thing.\nproducts:\n"
            f"  - name: Supply {n:03d}\n    customers:\n      - role: sink\n"
            "        need: On time and complete.\n",
            encoding="utf-8",
        )
    build(load_workbook(root), jobs=1)
    site = root / "build" / "site"
    pdf = print_to_pdf(site / "roles" / "sink.html", tmp_path / "sink.pdf", tmp_path / "p")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))  # type: ignore[union-attr]
    assert 1 <= pages <= PRINTED_PAGES_MAX
    printed = " ".join(
        subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "Source 119" in printed and "Source 120" not in printed
    assert (
        "10 more hand-offs received are listed on the role's page online: roles/sink.html"
        in printed
    )


def test_a_long_journey_prints_across_in_legible_parts(tmp_path: Path) -> None:
    root = tmp_path / "hospital"
    root.mkdir()
    repo = Path(__file__).parent.parent
    for name in ("roles", "journeys"):
        shutil.copytree(repo / name, root / name)
    shutil.copy(repo / "jobdefs.yaml", root / "jobdefs.yaml")
    loaded = load_workbook(root)
    build(loaded, jobs=1)
    site = root / "build" / "site"
    # The example hospital's longest journey: sixteen steps, a drawing three pages wide.
    journey = max(loaded.organization.journeys, key=lambda j: len(j.steps))
    assert len(journey.steps) > 12
    (site / "seven-points.html").write_text(SEVEN_POINTS, encoding="utf-8")
    least = min(heights(print_to_pdf(site / "seven-points.html", tmp_path / "7.pdf", tmp_path)))
    pdf = print_to_pdf(
        site / "journeys" / f"{journey.id}.html", tmp_path / "journey.pdf", tmp_path / "p"
    )
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+)", info.stdout, re.M)
    assert size is not None and float(size.group(1)) > float(size.group(2))  # landscape
    words = heights(pdf)
    assert len(words) > 100
    assert [round(h, 1) for h in words if h < least * 0.99] == []
    printed = " ".join(
        subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    count = len(journey.steps)
    assert f"Steps 1 to 6 of {count}" in printed and f"Steps 13 to {count} of {count}" in printed
    assert printed.count("line of visibility") >= 3  # each part draws it
