"""The build cache: what it saves is never worth a wrong answer.

A cached load must give the same organization and findings as reading every file; a
corrupt, foreign or outdated cache is ignored; `check` never writes one; and the shortcut
that tells unchanged job aids apart without making their contexts must notice every
change a job aid shows.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from jobdefs.build.cache import OUTPUTS_FILE
from jobdefs.build.plan import Plan
from jobdefs.build.run import build
from jobdefs.cli import cli
from jobdefs.documents import matrix, xlsx
from jobdefs.output import CACHE_FOLDER
from jobdefs.workbook.load import Workbook, load_workbook
from jobdefs.workbook.role_cache import RoleCache, roles_file, roles_files

HERE = Path(__file__).parent
CHAIN = HERE / "data" / "chain"
EXAMPLE = HERE.parent  # the example hospital: jobdefs.yaml and roles/


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    root = tmp_path / "chain"
    shutil.copytree(CHAIN, root)
    return root


def cached_load(root: Path) -> Workbook:
    return load_workbook(root, output_dir=root / "build", cached=True)


def run(*args: str) -> int:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code


def test_a_cached_load_gives_what_reading_every_file_gives(workbook: Path) -> None:
    fresh = load_workbook(workbook)
    assert run("build", "-w", str(workbook), "-q") == 0
    again = load_workbook(workbook, output_dir=workbook / "build", cached=True)
    assert again.role_cache is not None and again.role_cache.hits == 4
    assert again.organization == fresh.organization
    assert again.findings == fresh.findings
    for cached, read in zip(again.organization.roles, fresh.organization.roles, strict=True):
        assert (cached.where, dict(cached.at)) == (read.where, dict(read.at))
        assert [c.where for p in cached.products for c in p.customers] == [
            c.where for p in read.products for c in p.customers
        ]
        # Everything the loader made, down to what equality leaves out and every type.
        assert as_data(cached) == as_data(read)


def as_data(value: object) -> object:
    """A model object as nested plain values, each with its type: every field, compared
    or not, and nothing else (a decoded object with a field missing or added differs)."""
    if dataclasses.is_dataclass(value):
        assert set(vars(value)) == {f.name for f in dataclasses.fields(value)}, value
        return (
            type(value).__name__,
            {f.name: as_data(getattr(value, f.name)) for f in dataclasses.fields(value)},
        )
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [as_data(item) for item in value])
    if isinstance(value, dict):
        return {key: as_data(item) for key, item in value.items()}
    return (type(value).__name__, value)


def test_a_file_s_own_findings_come_back_from_the_cache(workbook: Path) -> None:
    # A build never saves the cache of a workbook with errors; a library caller may.
    coder = workbook / "roles" / "coder.yaml"
    coder.write_text(coder.read_text().replace("title:", "titel:") + "extra: [1, 2]\n")
    first = cached_load(workbook)
    assert first.role_cache is not None
    first.role_cache.save()
    again = cached_load(workbook)
    assert again.role_cache is not None and again.role_cache.hits == 4
    assert again.findings == first.findings
    assert [(f.code, f.file, f.line) for f in again.errors] == [
        ("unknown-key", "roles/coder.yaml", 1),
        ("unknown-key", "roles/coder.yaml", len(coder.read_text().splitlines())),
    ]


def test_a_changed_file_is_read_again(workbook: Path) -> None:
    assert run("build", "-w", str(workbook), "-q") == 0
    coder = workbook / "roles" / "coder.yaml"
    coder.write_text(coder.read_text().replace("title: Medical Coder", "title: Senior Coder"))
    loaded = load_workbook(workbook, output_dir=workbook / "build", cached=True)
    assert loaded.role_cache is not None and loaded.role_cache.hits == 3
    assert loaded.organization.role("coder").title == "Senior Coder"


ROLE_FILES = [f"roles/{name}.yaml" for name in ("coder", "lab-tech", "phlebotomist", "physician")]


def test_role_files_are_cached_in_the_file_their_path_hashes_to(workbook: Path) -> None:
    assert run("build", "-w", str(workbook), "-q") == 0
    folder = workbook / "build" / CACHE_FOLDER
    for path in ROLE_FILES:
        assert list(cached_lines(folder / roles_file(path))) == [path]
    assert len({roles_file(path) for path in ROLE_FILES}) == 4  # so each is a case below


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff not json at all",
        b"[]",
        b'{"version": "x", "files": {}}',
        b"",
        b'{"version": "x"}\nabc "roles/coder.yaml"\t{}',
    ],
)
def test_a_corrupt_or_foreign_cache_is_ignored_and_replaced(workbook: Path, content: bytes) -> None:
    assert run("build", "-w", str(workbook), "-q") == 0
    folder = workbook / "build" / CACHE_FOLDER
    shards = [folder / name for name in roles_files() if (folder / name).is_file()]
    assert len(shards) == 4
    for shard in shards:
        shard.write_bytes(content)
    loaded = load_workbook(workbook, output_dir=workbook / "build", cached=True)
    assert loaded.role_cache is not None and loaded.role_cache.hits == 0
    assert loaded.organization == load_workbook(workbook).organization
    coder = workbook / "roles" / "coder.yaml"
    coder.write_text(coder.read_text() + "\n")  # something to build
    assert run("build", "-w", str(workbook), "-q") == 0
    assert sorted(path for shard in shards for path in cached_lines(shard)) == ROLE_FILES


def test_a_changed_role_rewrites_only_its_own_file_of_the_cache(workbook: Path) -> None:
    assert run("build", "-w", str(workbook), "-q") == 0
    folder = workbook / "build" / CACHE_FOLDER
    before = {p.name: (p.stat().st_ino, p.read_bytes()) for p in folder.glob("roles-*.json")}
    coder = workbook / "roles" / "coder.yaml"
    coder.write_text(coder.read_text().replace("title: Medical Coder", "title: Senior Coder"))
    assert run("build", "-w", str(workbook), "-q") == 0
    after = {p.name: (p.stat().st_ino, p.read_bytes()) for p in folder.glob("roles-*.json")}
    assert [name for name in after if after[name] != before[name]] == [
        roles_file("roles/coder.yaml")
    ]


def test_one_damaged_file_of_the_cache_costs_only_its_own_roles(workbook: Path) -> None:
    assert run("build", "-w", str(workbook), "-q") == 0
    folder = workbook / "build" / CACHE_FOLDER
    cache = folder / roles_file("roles/coder.yaml")
    cache.write_bytes(cache.read_bytes()[:-40])  # cut off, as by a full disk
    loaded = load_workbook(workbook, output_dir=workbook / "build", cached=True)
    assert loaded.role_cache is not None and loaded.role_cache.hits == 3
    assert loaded.organization == load_workbook(workbook).organization
    assert run("build", "-w", str(workbook), "-q") == 0
    assert list(cached_lines(cache)) == ["roles/coder.yaml"]


def test_a_line_in_the_wrong_file_of_the_cache_is_not_trusted(workbook: Path) -> None:
    assert run("build", "-w", str(workbook), "-q") == 0
    folder = workbook / "build" / CACHE_FOLDER
    coder, lab = (folder / roles_file(f"roles/{name}.yaml") for name in ("coder", "lab-tech"))
    lab.write_text(lab.read_text() + "\n" + coder.read_text().split("\n", 1)[1])
    loaded = load_workbook(workbook, output_dir=workbook / "build", cached=True)
    assert loaded.role_cache is not None and loaded.role_cache.hits == 3
    assert loaded.organization == load_workbook(workbook).organization


def cached_lines(cache: Path) -> dict[str, tuple[str, object]]:
    """The entries of one file of the role cache by path: digest and decoded outcome."""
    entries = {}
    for line in cache.read_text(encoding="utf-8").split("\n")[1:]:
        head, _, body = line.partition("\t")
        digest, _, path = head.partition(" ")
        entries[json.loads(path)] = (digest, json.loads(body))
    return entries


def test_wrong_values_inside_a_current_cache_are_not_trusted(workbook: Path) -> None:
    assert run("build", "-w", str(workbook), "-q") == 0
    folder = workbook / "build" / CACHE_FOLDER
    wrong = {
        "roles/coder.yaml": lambda outcome: outcome["role"].__setitem__(1, ["a title"]),
        "roles/lab-tech.yaml": lambda outcome: outcome.__setitem__("role", {"not": "a role"}),
    }
    for path, change in wrong.items():
        cache = folder / roles_file(path)
        lines = cache.read_text(encoding="utf-8").split("\n")
        entries = cached_lines(cache)
        change(entries[path][1])
        cache.write_text(
            "\n".join(
                [
                    lines[0],
                    *(
                        f"{digest} {json.dumps(path)}\t{json.dumps(outcome)}"
                        for path, (digest, outcome) in entries.items()
                    ),
                ]
            ),
            encoding="utf-8",
        )
    loaded = load_workbook(workbook, output_dir=workbook / "build", cached=True)
    assert loaded.role_cache is not None and loaded.role_cache.hits == 2
    assert loaded.organization == load_workbook(workbook).organization


def test_a_cache_of_other_bytes_for_the_same_path_is_not_used(workbook: Path) -> None:
    assert run("build", "-w", str(workbook), "-q") == 0
    coder = workbook / "roles" / "coder.yaml"
    original = coder.read_bytes()
    coder.write_bytes(original.replace(b"title: Medical Coder", b"title: Coder II"))
    assert (
        load_workbook(workbook, output_dir=workbook / "build", cached=True)
        .organization.role("coder")
        .title
        == "Coder II"
    )


def test_check_and_failed_builds_write_no_cache(workbook: Path) -> None:
    assert run("check", "-w", str(workbook)) == 0
    assert run("build", "-w", str(workbook), "--check") == 1
    assert not (workbook / "build").exists()
    coder = workbook / "roles" / "coder.yaml"
    coder.write_text(coder.read_text().replace("title:", "titel:"))
    assert run("build", "-w", str(workbook), "-q") == 1
    assert not (workbook / "build").exists()


def test_the_cache_can_be_switched_off(workbook: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBDEFS_NO_CACHE", "1")
    assert run("build", "-w", str(workbook), "-q") == 0
    assert (workbook / "build" / "internal-customer-matrix.xlsx").is_file()
    assert not (workbook / "build" / CACHE_FOLDER).exists()
    assert RoleCache.open(workbook / "build") is None


def test_version_control_ignores_the_cache(workbook: Path) -> None:
    assert run("build", "-w", str(workbook), "-q") == 0
    folder = workbook / "build" / CACHE_FOLDER
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [".gitignore", OUTPUTS_FILE, *{roles_file(path) for path in ROLE_FILES}]
    )
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"


DAMAGED_LINKS: dict[str, Callable[[str], object]] = {
    "empty": lambda line: "",
    "not text": lambda line: 7,
    "its file's digest alone": lambda line: line[:20],
    "no place": lambda line: line[:20] + " zz role-x",
    "an id that is no role id": lambda line: line + " Not/A/Role",
}


@pytest.mark.parametrize("damage", DAMAGED_LINKS)
def test_damaged_links_in_the_cache_are_not_trusted(
    workbook: Path, tmp_path: Path, damage: str
) -> None:
    assert run("build", "-w", str(workbook), "-q") == 0
    cache = workbook / "build" / CACHE_FOLDER / OUTPUTS_FILE
    document = json.loads(cache.read_text())
    # A role that does not change, next to one whose text does (so the links still hold).
    document["links"]["lab-tech"] = DAMAGED_LINKS[damage](document["links"]["lab-tech"])
    cache.write_text(json.dumps(document))
    coder = workbook / "roles" / "coder.yaml"
    coder.write_text(coder.read_text().replace("Claims paid", "Claims paid in full"))
    assert run("build", "-w", str(workbook), "-q") == 0
    build(load_workbook(workbook), output_dir=tmp_path / "fresh")

    def outputs(folder: Path) -> dict[str, bytes]:
        return {
            p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*")
            if p.is_file() and CACHE_FOLDER not in p.relative_to(folder).parts
        }

    assert outputs(workbook / "build") == outputs(tmp_path / "fresh")


def test_an_output_changed_by_hand_is_noticed_despite_the_stamps(workbook: Path) -> None:
    assert run("build", "-w", str(workbook), "-q") == 0
    aid = workbook / "build" / "job-aids" / "coder.docx"
    original = aid.read_bytes()
    aid.write_bytes(b"edited by hand")
    assert run("build", "-w", str(workbook), "--check") == 1
    assert run("build", "-w", str(workbook), "-q") == 0
    assert aid.read_bytes() == original


def test_a_build_with_a_warm_cache_writes_what_a_cold_one_does(tmp_path: Path) -> None:
    root = tmp_path / "hospital"
    shutil.copytree(EXAMPLE / "roles", root / "roles")
    shutil.copy(EXAMPLE / "jobdefs.yaml", root)
    warm, cold = root / "build", tmp_path / "cold"
    assert run("build", "-w", str(root), "-q") == 0
    lab = root / "roles" / "laboratory" / "laboratory-technologist.yaml"
    lab.write_text(lab.read_text().replace("purpose: >-\n", "purpose: >-\n  Today,\n", 1))
    assert run("build", "-w", str(root), "-q") == 0
    build(load_workbook(root), output_dir=cold)

    def outputs(folder: Path) -> dict[str, bytes]:
        return {
            p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*")
            if p.is_file() and CACHE_FOLDER not in p.relative_to(folder).parts
        }

    assert outputs(warm) == outputs(cold)


# -- the sources of an output -------------------------------------------------------------
#
# A build keeps a job aid, a department's workbook or a map whose sources did not change
# without making its context, its rows or its drawing (`job_aid.job_aid_sources`,
# `Plan._department_targets`, `handoff_map.map_sources`). Here workbooks are changed at
# random, line by line, and every output whose content changed must have changed sources.


def sources_key(root: Path) -> tuple[dict[str, str], dict[str, str]] | None:
    """Each output's content digest and the digest of its sources, as a build makes them;
    None when the workbook has errors (a build writes nothing then)."""
    loaded = load_workbook(root)
    if loaded.errors:
        return None
    plan = Plan(loaded, root / "build")
    return (
        {path: digest for path, (_, digest) in plan.remembered.items()},
        {path: inputs for path, (inputs, _) in plan.remembered.items()},
    )


EDITABLE = re.compile(
    r"^(\s*-?\s*(?:title|department|purpose|name|need|standard|"
    r"description|product|moment|practice|revision|reviewed):\s*)(\S.*)$"
)


# A reference to another role: changed to some other role, the hand-offs change shape.
REFERENCE = re.compile(r"^(\s*-?\s*(?:role|reports_to|from):\s*)([a-z0-9-]+)$")
RECEIVES_BLOCK = re.compile(r"^receives:\n(?:[ -].*\n)*", re.MULTILINE)


@pytest.mark.parametrize("declared_receives", [True, False], ids=["as-written", "no-receives"])
def test_every_change_an_output_shows_changes_its_sources(
    tmp_path: Path, declared_receives: bool
) -> None:
    root = tmp_path / "hospital"
    shutil.copytree(EXAMPLE / "roles", root / "roles")
    shutil.copy(EXAMPLE / "jobdefs.yaml", root)
    if not declared_receives:  # suppliers are then known only from their own files
        for path in (root / "roles").rglob("*.yaml"):
            path.write_text(RECEIVES_BLOCK.sub("", path.read_text()))
    before = sources_key(root)
    assert before is not None
    before_digests, before_sources = before
    files = sorted((root / "roles").rglob("*.yaml"))
    role_ids = [path.stem for path in files]
    chooser = random.Random(20261123)
    tried = 0
    changed_kinds: set[str] = set()
    for path in chooser.sample(files, 16):
        original = path.read_text()
        lines = original.split("\n")
        editable = [
            n
            for n, line in enumerate(lines)
            if ((m := EDITABLE.match(line)) and re.search("[A-Za-z]", m.group(2)))
            or REFERENCE.match(line)
        ]
        for number in chooser.sample(editable, min(4, len(editable))):
            changed = lines.copy()
            reference = REFERENCE.match(changed[number])
            match = EDITABLE.match(changed[number])
            if reference is not None:
                changed[number] = reference.group(1) + chooser.choice(role_ids)
            elif match is not None and "reviewed" in match.group(1):
                changed[number] = match.group(1) + "2026-02-02"
            elif match is not None:
                changed[number] = match.group(1) + re.sub(
                    "[A-Za-z]", lambda letter: letter.group() + "x", match.group(2), count=1
                )
            path.write_text("\n".join(changed))
            after = sources_key(root)
            assert after is not None, f"{path.name} line {number + 1}: the change made an error"
            digests, sources = after
            for output, digest in digests.items():
                if digest != before_digests.get(output):
                    changed_kinds.add(output.split("/")[0])
                    assert sources[output] != before_sources.get(output), (
                        f"{path.name} line {number + 1} changed {output} but not its sources"
                    )
            tried += 1
        path.write_text(original)
    assert tried >= 50
    assert changed_kinds == {"job-aids", "departments", "handoffs.md", "handoffs.dot"}


# Every kind of link a job aid shows, in a few roles, so that each line can be changed in
# every way: a manager linked to nobody else, an expected supplier that delivers nothing,
# a role (z) off another's line of sight that a change can make its shortest path, and two
# equally short ways on (d, f) that the order of the roles decides between.
WEB = {
    "a": ("Office A", "m", [("A1", "role: b"), ("A2", "role: q")], "b"),
    "b": ("Office A", "", [("B1", "role: c")], ""),
    "c": ("Ward B", "", [("C1", "role: d"), ("C2", "role: f")], ""),
    "d": ("Ward B", "", [("D1", "role: e")], ""),
    "f": ("Ward B", "", [("F1", "role: e")], ""),  # c reaches e through d or f: a tie
    "e": ("Desk C", "", [("E1", "external: patient")], ""),
    "q": ("Desk C", "", [("Q1", "role: z")], ""),
    "z": ("Lab D", "", [("Z1", "role: c")], ""),
    "m": ("Board", "", [("M1", "external: patient")], ""),
    "g": ("Lab D", "", [("G1", "external: patient")], "m"),
}


def write_web(root: Path) -> None:
    (root / "roles").mkdir(parents=True)
    (root / "jobdefs.yaml").write_text(
        "organization: Web\nexternal_customers:\n  patient:\n    name: Patient\n"
    )
    for role_id, (department, manager, products, supplier) in WEB.items():
        lines = [
            f"title: Role {role_id.upper()}",
            f"department: {department}",
            f"purpose: Serve {role_id}.",
            "products:",
        ]
        if manager:
            lines.insert(2, f"reports_to: {manager}")
        for name, customer in products:
            lines += [
                f"  - name: {name}",
                "    customers:",
                f"      - {customer}",
                f"        need: Need of {name}.",
                f"        standard: {name} in 2 hours.",
            ]
        if supplier:
            lines += ["receives:", f"  - product: {supplier.upper()}1", f"    from: {supplier}"]
        (root / "roles" / f"{role_id}.yaml").write_text("\n".join(lines) + "\n")


def test_every_change_to_a_web_of_roles_changes_the_sources_of_what_it_changes(
    tmp_path: Path,
) -> None:
    root = tmp_path / "web"
    write_web(root)
    before = sources_key(root)
    assert before is not None
    before_digests, before_sources = before
    tried = 0
    for path in sorted((root / "roles").glob("*.yaml")):
        original = path.read_text()
        lines = original.split("\n")
        for number, line in enumerate(lines):
            edits = []
            if (reference := REFERENCE.match(line)) is not None:
                edits = [reference.group(1) + other for other in WEB if other != reference.group(2)]
            elif (match := EDITABLE.match(line)) is not None:
                edits = [match.group(1) + "x" + match.group(2)]
            for edit in edits:
                path.write_text("\n".join([*lines[:number], edit, *lines[number + 1 :]]))
                after = sources_key(root)
                if after is None:  # e.g. a role that reports to itself
                    continue
                digests, sources = after
                for output, digest in digests.items():
                    if digest != before_digests.get(output):
                        assert sources[output] != before_sources.get(output), (
                            f"{path.name}: '{edit.strip()}' changed {output} but not its sources"
                        )
                tried += 1
        path.write_text(original)
    assert tried > 100


# -- matrix rows known by their files ------------------------------------------------------
#
# A build tells the matrix which file each role was read from (`Plan.row_sources`): a block
# of rows made only from unchanged files is copied from the earlier matrix without being
# made. Every kind of change, built on the matrix before it, must give the bytes of a matrix
# made from nothing; blocks of a few rows make every block boundary count.


def matrix_from_files(root: Path, previous: bytes | None) -> bytes | None:
    loaded = load_workbook(root)
    if loaded.errors:
        return None
    plan = Plan(loaded, root / "build")
    return matrix.matrix_workbook(
        loaded.organization,
        loaded.warnings,
        plan.moment,
        previous=previous,
        sources=plan.row_sources(),
    )


def move_first_role(root: Path) -> None:
    path = sorted((root / "roles").rglob("*.yaml"))[0]
    (root / "roles" / "elsewhere").mkdir()
    path.rename(root / "roles" / "elsewhere" / path.name)


def rename_an_external_customer(root: Path) -> None:
    config = root / "jobdefs.yaml"
    config.write_text(config.read_text().replace("name: Patient\n", "name: The patient\n", 1))


def new_first_product(root: Path) -> None:
    """A product before all the others of the first role with products: every row moves."""
    path = sorted((root / "roles").rglob("*.yaml"))[0]
    path.write_text(
        path.read_text().replace(
            "products:\n",
            (
                "products:\n  - name: Early word\n    customers:\n      - external: patient\n"
                "        need: To know first.\n"
            ),
            1,
        )
    )


def swap_two_customers(root: Path) -> None:
    """The first product with two customers lists them the other way round."""
    customer = r"      - (?:role|external): .*\n(?:        .*\n)*"
    for path in sorted((root / "roles").rglob("*.yaml")):
        text = path.read_text()
        swapped = re.sub(f"({customer})({customer})", r"\2\1", text, count=1)
        if swapped != text:
            path.write_text(swapped)
            return
    raise AssertionError("no product with two customers")


def test_matrix_rows_copied_by_their_files_are_the_rows_made_anew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx, "BLOCK_ROWS", 5)
    root = tmp_path / "hospital"
    shutil.copytree(EXAMPLE / "roles", root / "roles")
    shutil.copy(EXAMPLE / "jobdefs.yaml", root)
    previous = matrix_from_files(root, None)
    assert previous is not None
    edits = [
        ("rename an external customer", rename_an_external_customer),
        ("add a first product", new_first_product),
        ("swap two customers", swap_two_customers),
        *line_edits(root, 20261124, files=8, per_file=4),
    ]
    made = 0
    for name, change in [*edits, ("move a file", move_first_role)]:
        saved = {path: path.read_bytes() for path in root.rglob("*.yaml")}
        change(root)
        incremental = matrix_from_files(root, previous)
        if incremental is None:  # the change made an error, so a build writes nothing
            for path, content in saved.items():
                path.write_bytes(content)
            continue
        assert incremental == matrix_from_files(root, None), name
        previous = incremental
        made += 1
    assert made >= 25


# -- job aids known by their links -------------------------------------------------------
#
# A build remembers which roles each job aid showed (`Plan.links`): when no changed role
# moved among the others (`links_key`), the job aids that show none of the changed roles
# keep their digests without their sources being worked out. Along chains of changes of
# every kind, a plan made with the last one's memory must equal a plan made without it.


def plans_along(
    root: Path, edits: list[tuple[str, Callable[[Path], None]]], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, int]:
    """Check each edit in turn; how many job aids were worked out, and how many kept."""
    from jobdefs.documents import job_aid

    worked_out = []
    sources = job_aid.job_aid_sources
    monkeypatch.setattr(
        job_aid, "job_aid_sources", lambda *args: worked_out.append(1) or sources(*args)
    )
    loaded = load_workbook(root)
    previous = Plan(loaded, root / "build")
    kept = 0
    for name, change in edits:
        saved = {path: path.read_bytes() for path in root.rglob("*.yaml")}
        change(root)
        loaded = load_workbook(root)
        if loaded.errors:  # a build writes nothing then; undo the change
            for path, content in saved.items():
                path.write_bytes(content)
            continue
        fresh = Plan(loaded, root / "build")
        worked_out.clear()
        remembering = Plan(
            loaded,
            root / "build",
            remembered=previous.remembered,
            links=(previous.links_shared, previous.links),
        )
        assert remembering.remembered == fresh.remembered, name
        assert remembering.links == fresh.links, name
        assert remembering.targets == fresh.targets, name
        kept += len(loaded.organization.roles) - len(worked_out)
        previous = remembering
    return len(edits), kept


def line_edits(
    root: Path, seed: int, files: int, per_file: int = 5
) -> list[tuple[str, Callable[[Path], None]]]:
    """Random edits of single lines of some files: text, titles and departments, dates,
    references to other roles."""
    paths = sorted((root / "roles").rglob("*.yaml"))
    role_ids = [path.stem for path in paths]
    chooser = random.Random(seed)
    edits: list[tuple[str, Callable[[Path], None]]] = []
    for path in chooser.sample(paths, min(files, len(paths))):
        lines = path.read_text().split("\n")
        editable = [
            n for n, line in enumerate(lines) if EDITABLE.match(line) or REFERENCE.match(line)
        ]
        for number in chooser.sample(editable, min(per_file, len(editable))):
            line = lines[number]
            if (reference := REFERENCE.match(line)) is not None:
                edit = reference.group(1) + chooser.choice(role_ids)
            else:
                match = EDITABLE.match(line)
                assert match is not None
                edit = match.group(1) + (
                    "2026-02-02" if "reviewed" in line else "Changed " + match.group(2)
                )

            def change(
                root: Path, path: Path = path, number: int = number, edit: str = edit
            ) -> None:
                text = path.read_text().split("\n")
                text[number] = edit
                path.write_text("\n".join(text))

            edits.append((f"{path.name} line {number + 1}: {edit.strip()}", change))
    return edits


def test_job_aids_kept_by_their_links_are_those_worked_out_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "hospital"
    shutil.copytree(EXAMPLE / "roles", root / "roles")
    shutil.copy(EXAMPLE / "jobdefs.yaml", root)
    edits = line_edits(root, 20261125, files=10)
    edits += [
        ("rename an external customer", rename_an_external_customer),
        ("add a first product", new_first_product),
        ("swap two customers", swap_two_customers),
        ("move a file", move_first_role),
    ]
    tried, kept = plans_along(root, edits, monkeypatch)
    assert tried >= 40 and kept > 0  # the links did spare work, and never wrongly


def test_every_change_to_a_web_of_roles_keeps_only_job_aids_it_leaves_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every line of every role of the web changed in every way, one after the other."""
    root = tmp_path / "web"
    write_web(root)
    edits: list[tuple[str, Callable[[Path], None]]] = []
    for path in sorted((root / "roles").glob("*.yaml")):
        for number, line in enumerate(path.read_text().split("\n")):
            changed = []
            if (reference := REFERENCE.match(line)) is not None:
                changed = [
                    reference.group(1) + other for other in WEB if other != reference.group(2)
                ]
            elif (match := EDITABLE.match(line)) is not None:
                # Later and earlier in the order of roles, for titles and departments.
                changed = [
                    match.group(1) + "x" + match.group(2),
                    match.group(1) + "A" + match.group(2),
                ]
            for edit in changed:

                def change(
                    root: Path,
                    path: Path = path,
                    number: int = number,
                    edit: str = edit,
                    line: str = line,
                ) -> None:
                    text = path.read_text().split("\n")
                    text[number] = edit
                    path.write_text("\n".join(text))

                def undo(
                    root: Path, path: Path = path, number: int = number, line: str = line
                ) -> None:
                    text = path.read_text().split("\n")
                    text[number] = line
                    path.write_text("\n".join(text))

                edits += [
                    (f"{path.name}: '{edit.strip()}'", change),
                    (f"{path.name}: back to '{line.strip()}'", undo),
                ]
    tried, kept = plans_along(root, edits, monkeypatch)
    assert tried > 100 and kept > 0
