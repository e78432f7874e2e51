"""`jobdefs diff` on journeys: added, removed and changed, in text, Markdown and JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from jobdefs.cli import cli

REPO = Path(__file__).parent.parent


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="jobdefs")
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def hospital(where: Path) -> Path:
    for folder in ("roles", "journeys"):
        shutil.copytree(REPO / folder, where / folder)
    shutil.copy(REPO / "jobdefs.yaml", where)
    return where


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


PRIOR_AUTHORIZATION = """  - from: scheduler
    product: Prior authorization request
    to: payer
"""


def changed(tmp_path: Path) -> tuple[Path, Path]:
    """The example hospital, and a copy with one journey removed, one retitled and one
    without its second step."""
    old, new = hospital(tmp_path / "old"), hospital(tmp_path / "new")
    (new / "journeys" / "hospital-stay.yaml").unlink()
    edit(
        new / "journeys" / "emergency-visit.yaml",
        "title: Emergency visit, from arrival to home",
        "title: An emergency visit",
    )
    edit(new / "journeys" / "outpatient-imaging.yaml", PRIOR_AUTHORIZATION, "")
    return old, new


def test_text_reports_journeys_removed_and_changed(tmp_path: Path) -> None:
    old, new = changed(tmp_path)
    status, out, err = run("diff", str(old), str(new))
    assert (status, err) == (0, "")
    assert out == (
        f"Comparing {old} with {new}: no changes to roles, products or hand-offs; "
        "3 journey changes\n"
        "\n"
        "Journeys removed (1)\n"
        "  - Removed the journey 'Emergency admission to discharge home' (hospital-stay) "
        "for Patient, which had 16 steps\n"
        "\n"
        "Journeys changed (2)\n"
        "  - Changed the journey 'An emergency visit' (emergency-visit): title 'Emergency "
        "visit, from arrival to home' → 'An emergency visit'\n"
        "  - Changed the journey 'Scheduled outpatient imaging test' (outpatient-imaging): "
        "removed step 2: Patient Scheduler hands 'Prior authorization request' to Payer "
        "(health insurer)\n"
    )


def test_the_other_way_round_they_are_added(tmp_path: Path) -> None:
    old, new = changed(tmp_path)
    out = run("diff", str(new), str(old))[1]
    assert "\nJourneys added (1)\n" in out
    assert (
        "  - Added the journey 'Emergency admission to discharge home' (hospital-stay) for "
        "Patient, 16 steps\n" in out
    )
    assert (
        "added step 2: Patient Scheduler hands 'Prior authorization request' to Payer "
        "(health insurer)\n" in out
    )


def test_a_new_customer_and_a_moved_step_are_told(tmp_path: Path) -> None:
    old, new = hospital(tmp_path / "old"), hospital(tmp_path / "new")
    path = new / "journeys" / "outpatient-imaging.yaml"
    edit(path, "customer: patient", "customer: payer")
    edit(path, PRIOR_AUTHORIZATION, "")
    text = path.read_text(encoding="utf-8")
    path.write_text(text + PRIOR_AUTHORIZATION, encoding="utf-8")  # now the last step
    out = run("diff", str(old), str(new))[1]
    assert "(outpatient-imaging): customer Patient → Payer (health insurer); added" in out
    assert "removed step 2: Patient Scheduler hands 'Prior authorization request'" in out
    assert "added step 8: Patient Scheduler hands 'Prior authorization request'" in out


def test_no_journey_change_is_no_journey_line(tmp_path: Path) -> None:
    old, new = hospital(tmp_path / "old"), hospital(tmp_path / "new")
    out = run("diff", str(old), str(new))[1]
    assert out == f"Comparing {old} with {new}: no changes to roles, products or hand-offs\n"
    document = json.loads(run("diff", str(old), str(new), "--format", "json")[1])
    assert document["journeys"] == {
        "counts": {"journey-added": 0, "journey-removed": 0, "journey-changed": 0},
        "changes": [],
    }


def test_json_adds_a_journeys_key_and_keeps_the_others(tmp_path: Path) -> None:
    old, new = changed(tmp_path)
    document = json.loads(run("diff", str(old), str(new), "--format", "json")[1])
    assert list(document) == ["old", "new", "counts", "changes", "affected", "notes", "journeys"]
    assert document["changes"] == [] and document["affected"] == []
    journeys = document["journeys"]
    assert journeys["counts"] == {"journey-added": 0, "journey-removed": 1, "journey-changed": 2}
    imaging = journeys["changes"][-1]
    assert imaging == {
        "kind": "journey-changed",
        "id": "outpatient-imaging",
        "title": "Scheduled outpatient imaging test",
        "customer": "Patient",
        "steps": 7,
        "before_title": None,
        "before_customer": None,
        "steps_added": [],
        "steps_removed": [
            {
                "step": 2,
                "supplier": "Patient Scheduler",
                "product": "Prior authorization request",
                "customer": "Payer (health insurer)",
                "handoff_id": imaging["steps_removed"][0]["handoff_id"],
            }
        ],
        "message": "Changed the journey 'Scheduled outpatient imaging test' "
        "(outpatient-imaging): removed step 2: Patient Scheduler hands 'Prior authorization "
        "request' to Payer (health insurer)",
    }
    assert imaging["steps_removed"][0]["handoff_id"].startswith("H-")
    assert [c["kind"] for c in journeys["changes"]] == [
        "journey-removed",
        "journey-changed",
        "journey-changed",
    ]


def test_markdown_groups_journeys_and_escapes_their_text(tmp_path: Path) -> None:
    old, new = hospital(tmp_path / "old"), hospital(tmp_path / "new")
    edit(
        new / "journeys" / "emergency-visit.yaml",
        "title: Emergency visit, from arrival to home",
        "title: '<b>ED</b> [x](http://e.org) @team'",
    )
    out = run("diff", str(old), str(new), "--format", "markdown")[1]
    assert "; 1 journey change.\n" in out
    assert "\n### Journeys changed (1)\n\n" in out
    title = r"\<b\>ED\</b\> \[x\](http://e.org) @&#8203;team"
    assert (
        f"- Changed the journey '{title}' (emergency-visit): title 'Emergency visit, from "
        f"arrival to home' → '{title}'\n" in out
    )
    assert "<b>" not in out and "@team" not in out
