"""The explorer, site/: its pages and names, escaping, incremental rewriting, the switches
that turn it off, and `jobdefs serve`. The browser's view is in test_site_browser.py."""

from __future__ import annotations

import html
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from jobdefs.build.run import build, check
from jobdefs.cli import cli
from jobdefs.documents.site import SitePages, render_page
from jobdefs.documents.site.pages import Page
from jobdefs.workbook.load import load_workbook

DATA = Path(__file__).parent / "data"
HOSTILE_TITLE = "<script>alert(1)</script>"


@pytest.fixture
def clinic(tmp_path: Path) -> Path:
    root = tmp_path / "clinic"
    shutil.copytree(DATA / "small-clinic", root)
    return root


def site_files(output: Path) -> dict[str, bytes]:
    site = output / "site"
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


def html_ids(page: bytes) -> set[str]:
    return set(re.findall(rb'id="([^"]+)"', page))


def test_the_site_has_the_contract_names_and_every_hand_off_id(clinic: Path) -> None:
    build(load_workbook(clinic))
    files = site_files(clinic / "build")
    loaded = load_workbook(clinic)
    organization = loaded.organization
    assert {"index.html", "matrix.html", "search-index.js"} <= files.keys()
    assert {f"roles/{role.id}.html" for role in organization.roles} <= files.keys()
    assert {"departments/laboratory.html", "departments/front-desk.html"} <= files.keys()
    assert {"customers/patient.html", "customers/family.html"} <= files.keys()
    # A tab reads what the page is, then whose: the organization's own page names it once.
    titles = {n: re.findall(rb"<title>(.*?)</title>", data) for n, data in files.items()}
    assert titles["index.html"] == [organization.name.encode()]
    assert titles["departments/laboratory.html"] == [f"Laboratory · {organization.name}".encode()]
    for handoff in organization.handoffs:
        page = files[f"roles/{handoff.supplier.id}.html"]
        assert handoff.id.encode() in html_ids(page), handoff
    # Every relative link resolves to a file of the site (or an id on it).
    for name, data in files.items():
        if not name.endswith(".html"):
            continue
        for target in re.findall(rb'(?:href|src)="([^"#]*)(?:#([^"]*))?"', data):
            link, anchor = target[0].decode(), target[1]
            assert not link.startswith(("http:", "https:", "//")), (name, link)
            if link:
                resolved = (Path(name).parent / link).as_posix()
                resolved = str(Path(resolved))  # folds "roles/../x"
                parts: list[str] = []
                for part in resolved.split("/"):
                    if part == "..":
                        parts.pop()
                    else:
                        parts.append(part)
                resolved = "/".join(parts)
                assert resolved in files, (name, link)
                if anchor:
                    assert anchor in html_ids(files[resolved]), (name, link, anchor)


def test_every_page_has_a_strict_policy_and_no_inline_script(clinic: Path) -> None:
    build(load_workbook(clinic))
    for name, data in site_files(clinic / "build").items():
        if name.endswith(".html"):
            policy = re.search(rb'http-equiv="Content-Security-Policy" content="([^"]+)"', data)
            assert policy is not None, name
            assert html.unescape(policy.group(1).decode()).startswith("default-src 'none';")
            assert re.search(rb"<script>|<script [^>]*>[^<]", data) is None, name
            assert b" style=" not in data and b" on" not in re.sub(rb">[^<]*<", b"><", data)


def test_role_text_is_shown_as_typed_and_runs_nothing(make_workbook, tmp_path: Path) -> None:
    root = make_workbook(
        {
            "roles/clerk.yaml": (
                f"title: '{HOSTILE_TITLE}'\ndepartment: '<img src=x onerror=alert(2)>'\n"
                "purpose: '</script><script>alert(3)</script>'\nproducts:\n"
                "  - name: '\" onmouseover=\"alert(4)'\n    customers:\n"
                "      - external: the patient\n        need: '<b>bold</b> & more'\n"
            )
        },
        copy_of=DATA / "present-hostile",
    )
    build(load_workbook(root))
    files = site_files(root / "build")
    page = files["roles/clerk.html"].decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page and "<img" not in page
    assert 'onmouseover="alert' not in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in page
    for name, data in files.items():
        if name.endswith(".html"):
            assert b"<script>alert" not in data and b"<img src=x" not in data, name
    # The search index is a script of one JSON value: the text is in its strings.
    prefix, _, value = files["search-index.js"].decode().partition(" = ")
    assert prefix == "window.jobdefsSearch" and value.isascii()
    assert json.loads(value.rstrip().removesuffix(";"))["entries"][0][2] == HOSTILE_TITLE


def test_a_role_page_names_whom_each_question_asks() -> None:
    loaded = load_workbook(Path(__file__).parent.parent)
    pages = SitePages(loaded.organization, loaded.findings)
    page = render_page(
        pages, Page("roles/chief-medical-officer.html", "role", "chief-medical-officer")
    )
    questions = re.search(rb'<h2 id="questions">.*?<ol>(.*?)</ol>', page, re.S)
    assert questions is not None
    items = [
        html.unescape(re.sub(r"<[^>]+>", "", item)).strip()
        for item in re.findall(r"<li>(.*?)</li>", questions.group(1).decode(), re.S)
    ]
    assert items[:2] == [
        "Hospitalist: Did you get your call schedule in time to plan your month?",
        "Emergency Physician: Was there any night when nobody could be found to read or admit?",
    ]


def test_two_builds_give_the_same_site(clinic: Path, tmp_path: Path) -> None:
    build(load_workbook(clinic), output_dir=tmp_path / "one")
    build(load_workbook(clinic), output_dir=tmp_path / "two")
    assert site_files(tmp_path / "one") == site_files(tmp_path / "two")


def test_an_edit_rewrites_only_the_pages_that_show_it(clinic: Path) -> None:
    assert build(load_workbook(clinic)).written
    nurse = clinic / "roles" / "care" / "nurse.yaml"
    nurse.write_text(nurse.read_text().replace("Carry out treatment", "Carry out care"))
    report = build(load_workbook(clinic))
    # The purpose shows on the nurse's page and is searched for; nowhere else.
    assert [p for p in report.written if p.startswith("site/")] == [
        "site/roles/nurse.html",
        "site/search-index.js",
    ]
    assert b"Carry out care" in (clinic / "build" / "site" / "roles" / "nurse.html").read_bytes()
    assert build(load_workbook(clinic)).written == []


def test_check_reports_a_stale_page(clinic: Path) -> None:
    build(load_workbook(clinic))
    (clinic / "build" / "site" / "matrix.html").write_text("changed by hand")
    assert check(load_workbook(clinic)).stale == ["site/matrix.html"]
    nurse = clinic / "roles" / "care" / "nurse.yaml"
    nurse.write_text(nurse.read_text().replace("Carry out treatment", "Carry out care"))
    assert "site/roles/nurse.html" in check(load_workbook(clinic)).stale


def test_no_site_and_site_false_skip_it_and_keep_one_made_earlier(clinic: Path) -> None:
    result = CliRunner().invoke(cli, ["build", "-w", str(clinic), "--no-site", "-q"])
    assert result.exit_code == 0 and not (clinic / "build" / "site").exists()
    assert CliRunner().invoke(cli, ["build", "-w", str(clinic), "-q"]).exit_code == 0
    before = site_files(clinic / "build")
    config = clinic / "jobdefs.yaml"
    config.write_text(config.read_text() + "site: false\n")
    report = build(load_workbook(clinic))
    assert report.removed == [] and not any(p.startswith("site/") for p in report.written)
    assert site_files(clinic / "build") == before
    result = CliRunner().invoke(cli, ["build", "-w", str(clinic), "--check"])
    assert result.exit_code == 0, result.stderr


def test_the_matrix_marks_blank_rows_and_one_way_pairs_in_words(clinic: Path) -> None:
    build(load_workbook(clinic))
    matrix = (clinic / "build" / "site" / "matrix.html").read_text()
    assert "(hands nothing to another department)" in matrix  # Billing: only the insurer
    assert "(receives nothing)" in matrix
    assert "Front Desk hands Clinical 3 hand-offs; nothing comes back" in matrix
    department = (clinic / "build" / "site" / "departments" / "front-desk.html").read_text()
    assert 'id="to-clinical"' in department and "one way: Clinical hands nothing back" in department


def test_a_journey_page_shows_its_steps_once_journeys_exist(clinic: Path) -> None:
    """The seam for journeys (contract v1.1): any object with the contract's fields."""
    loaded = load_workbook(clinic)
    organization = loaded.organization
    steps = [SimpleNamespace(handoff=h) for h in organization.handoffs_from("receptionist")]
    journey = SimpleNamespace(
        id="visit", title="A visit", customer="patient", description="", steps=steps
    )
    pages = SitePages(organization, loaded.findings, journeys=[journey])
    assert Page("journeys/visit.html", "journey", "visit") in pages.pages()
    page = render_page(pages, Page("journeys/visit.html", "journey", "visit")).decode()
    assert "A visit" in page and steps[0].handoff.id in page
    assert 'href="../journeys/visit.html"' not in page
    index = render_page(pages, Page("index.html", "index")).decode()
    assert 'href="journeys/visit.html"' in index
    # Every page's menu leads to the journeys, once there are any.
    assert '<a href="../index.html#journeys">Journeys</a>' in page
    without = SitePages(organization, loaded.findings)
    assert "#journeys" not in render_page(without, Page("matrix.html", "matrix")).decode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return str(answer.read().decode())


def wait_for(condition, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while True:
        try:
            if condition():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("gave up waiting")
        time.sleep(0.2)


def test_serve_answers_on_loopback_shows_an_edit_and_stops_on_ctrl_c(clinic: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "jobdefs", "serve", "-w", str(clinic), "--port", str(port)],
        cwd=clinic.parent,
        stderr=subprocess.PIPE,
        text=True,
        # A shell without job control starts children with Ctrl-C ignored; undo that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        base = f"http://127.0.0.1:{port}/"
        wait_for(lambda: "Hillcrest" in fetch(base))
        page = fetch(base + "roles/nurse.html")
        assert "/.jobdefs-serve/reload.js" in page  # served pages reload themselves
        on_disk = (clinic / "build" / "site" / "roles" / "nurse.html").read_text()
        assert "reload.js" not in on_disk
        generation = fetch(base + ".jobdefs-serve/generation")
        nurse = clinic / "roles" / "care" / "nurse.yaml"
        nurse.write_text(nurse.read_text().replace("Carry out treatment", "Carry out care"))
        wait_for(lambda: "Carry out care" in fetch(base + "roles/nurse.html"))
        # The generation moves once the rebuild is whole, a moment after its pages are.
        wait_for(lambda: fetch(base + ".jobdefs-serve/generation") != generation)
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=20) == 0
        assert server.stderr is not None
        log = server.stderr.read()
        assert f"at http://127.0.0.1:{port}/" in log and "Traceback" not in log
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_serve_warns_before_serving_beyond_this_computer(clinic: Path) -> None:
    from jobdefs.build.serve import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
