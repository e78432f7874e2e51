"""Starter files: a new workbook (`jobdefs init`) and a new role file (`jobdefs new`).

Nothing here ever replaces a file a person may have edited: every file is created with
exclusive creation, and one that already exists is reported as skipped.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from jobdefs.errors import JobdefsError, NotAWorkbook
from jobdefs.output import replace_files
from jobdefs.workbook.journeys import DEFAULT_FOLDER as DEFAULT_JOURNEYS
from jobdefs.workbook.journeys import journey_files
from jobdefs.workbook.json_schema import FILE_NAMES, SchemaName, as_json
from jobdefs.workbook.load import CONFIG_FILE, ROLE_ID, load_workbook
from jobdefs.workbook.load import _role_files as role_files_below
from jobdefs.workbook.records import BAD_CHARACTER
from jobdefs.workbook.schema import ROLE_ID_MAX, TEXT_MAX
from jobdefs.workbook.starter_files import (
    EXAMPLE_JOURNEYS,
    EXAMPLE_ROLES,
    GITIGNORE,
    PRE_COMMIT_CONFIG,
    github_workflow,
    installed_requirement,
    journey_skeleton,
)

SCHEMA_FOLDER = ".jobdefs"  # the schema files the modelines point to, inside the workbook
WORKFLOW_FILE = ".github/workflows/jobdefs.yml"
PRE_COMMIT_FILE = ".pre-commit-config.yaml"
DEFAULT_ORGANIZATION = "Our Hospital"


class RoleFileExists(JobdefsError):
    """`jobdefs new` would replace a role file, or reuse a role id another file has."""


@dataclass
class Scaffolded:
    """What a scaffolding step did: files created and files skipped, with why."""

    root: Path
    created: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what to do next, besides


# ---------------------------------------------------------------------------------------
# Checking what a person typed on the command line


def role_id_problem(role_id: str, kind: str = "role") -> str | None:
    """Why `role_id` cannot be a role id (the rule the loader applies to file names), or
    the id of another `kind` of thing that follows the same rule (a journey)."""
    if len(role_id) <= ROLE_ID_MAX and ROLE_ID.match(role_id):
        return None
    suggestion = re.sub(r"[^a-z0-9]+", "-", role_id.lower()).strip("-")[:ROLE_ID_MAX].strip("-")
    advice = f", e.g. '{suggestion}'" if suggestion and ROLE_ID.match(suggestion) else ""
    return (
        f"'{role_id}' is not a valid {kind} id: use lower-case letters, digits and single "
        f"hyphens, 1 to {ROLE_ID_MAX} characters{advice}"
    )


def text_problem(text: str) -> str | None:
    """Why `text` cannot be a one-line text value such as a title or a department."""
    if not text.strip():
        return "it is empty; write the text"
    if "\n" in text or "\r" in text:
        return "it holds a line break; write it on one line"
    bad = BAD_CHARACTER.search(text)
    if bad:
        return (
            f"it holds the control character U+{ord(bad.group()):04X}, which a Word or Excel "
            "file cannot hold; remove it"
        )
    if len(text) > TEXT_MAX:
        return f"it is {len(text):,} characters long; the limit is {TEXT_MAX:,}"
    return None


def folder_problem(folder: str) -> str | None:
    """Why `folder` cannot be a sub-folder of roles/ that the loader reads."""
    path = PurePosixPath(folder.replace("\\", "/"))
    if path.is_absolute() or re.match(r"^[A-Za-z]:", folder):
        return "give a folder inside roles/, e.g. laboratory, not an absolute path"
    parts = [part for part in path.parts if part != "."]
    if not parts:
        return "give a folder name, e.g. laboratory"
    for part in parts:
        if part == "..":
            return "give a folder inside roles/; '..' leads out of it"
        if part.startswith((".", "_")):
            return (
                f"jobdefs skips folders whose names start with '.' or '_' ('{part}'), so the "
                "role would never be read; choose another name"
            )
        if BAD_CHARACTER.search(part) or not part.strip():
            return f"'{part}' is not a usable folder name"
    return None


# ---------------------------------------------------------------------------------------
# jobdefs init


def init_workbook(root: Path, organization: str | None = None) -> Scaffolded:
    """Create a workbook in `root` that passes `jobdefs check --strict`; replace nothing.

    The example roles are written only while the roles folder holds no role file, so that
    running init again in a workbook in use never adds them back.
    """
    if root.exists() and not root.is_dir():
        raise NotAWorkbook(f"'{root}' is a file; give a folder for the new workbook")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise JobdefsError(f"cannot create the folder '{root}': {_reason(error)}") from None
    result = Scaffolded(root)
    name = organization or _organization_name(root)

    files: dict[str, str] = {CONFIG_FILE: organization_file(name)}
    roles_dir = _roles_dir(root)
    roles_label = _label(roles_dir, root) + "/"
    if _role_files(roles_dir):
        for role_id in EXAMPLE_ROLES:
            result.skipped.append(
                (f"{roles_label}{role_id}.yaml", f"{roles_label} already holds role files")
            )
    else:
        modeline = schema_modeline(roles_dir, root, "role")
        for role_id, body in EXAMPLE_ROLES.items():
            files[f"{roles_label}{role_id}.yaml"] = f"{modeline}\n{body}"
    for schema_name, file_name in FILE_NAMES.items():
        files[f"{SCHEMA_FOLDER}/{file_name}"] = as_json(schema_name)
    journeys_dir = root / DEFAULT_JOURNEYS
    if not journey_files(journeys_dir):
        modeline = schema_modeline(journeys_dir, root, "journey")
        for journey_id, body in EXAMPLE_JOURNEYS.items():
            files[f"{DEFAULT_JOURNEYS}/{journey_id}.yaml"] = f"{modeline}\n{body}"
    files[".gitignore"] = GITIGNORE
    files[PRE_COMMIT_FILE] = PRE_COMMIT_CONFIG
    requirement = installed_requirement()
    files[WORKFLOW_FILE] = github_workflow(requirement)
    if requirement is None:
        result.notes.append(
            f"{WORKFLOW_FILE} cannot tell where CI gets this jobdefs (it was installed from "
            "a folder): set JOBDEFS in it to a package index release or a Git URL"
        )

    for relative, text in files.items():
        if _create(root / relative, text):
            result.created.append(relative)
        else:
            result.skipped.append((relative, "already exists"))
    return result


def organization_file(name: str) -> str:
    """jobdefs.yaml for a new workbook, with three external customers."""
    return f"""\
# yaml-language-server: $schema={SCHEMA_FOLDER}/{FILE_NAMES["organization"]}
#
# The organization every role file belongs to. Change the name and the mission to your
# own; `jobdefs schema organization` lists every key this file may hold.

organization: {_yaml_text(name)}

# The mission is printed in every job aid, so each job can be read against it.
mission: >-
  Every patient is cared for safely, understands what is happening at each step,
  and goes home knowing what to do next.

# Customers outside the organization, by id. A product reaches one with
# `external: <id>`; every role's work should lead to at least one of them.
external_customers:
  patient:
    name: Patient
    description: The person who comes to us for care.
  family:
    name: Family and carers
    description: >-
      The people who wait with the patient, help them decide, and look after them
      at home.
  payer:
    name: Payer
    description: The health plan or program that pays for the patient's care.

# What to ask every patient on the way out: the answers count in the scorecard, beside
# the surveys of the hand-offs that led there. `jobdefs survey` writes the sheet to
# record them (patient-conversations.xlsx).
discharge_questions:
  - Can you tell me, in your own words, what the problem was today?
  - What was done for it while you were here?
  - What will you do at home, and when would you call us or come back?
"""


# ---------------------------------------------------------------------------------------
# jobdefs new


def new_role(
    root: Path,
    role_id: str,
    *,
    title: str,
    department: str,
    folder: str | None = None,
) -> Scaffolded:
    """Write a commented skeleton role file; refuse to replace a file or reuse an id.

    The keys only a person can fill in are left empty, so `jobdefs check` reports each
    one (`empty-value`, with its line) until it is written. The role schema the modeline
    points to is created too when the workbook lacks it.
    """
    for problem in (
        role_id_problem(role_id),
        _labelled("--title", text_problem(title)),
        _labelled("--department", text_problem(department)),
        _labelled("--folder", folder_problem(folder) if folder is not None else None),
    ):
        if problem:
            raise ValueError(problem)
    roles_dir = load_workbook(root).roles_dir
    target_dir = roles_dir / folder if folder else roles_dir
    target = target_dir / f"{role_id}.yaml"
    label = _label(target, root)
    for existing in _role_files(roles_dir):
        if existing.name.rsplit(".", 1)[0] == role_id:
            existing_label = _label(existing, root)
            if existing_label == label:
                raise RoleFileExists(f"{label} already exists; edit it, or choose another role id")
            raise RoleFileExists(
                f"the role id '{role_id}' is already used by {existing_label}; role ids are "
                "unique across all sub-folders: choose another id"
            )
    text = role_skeleton(
        role_id,
        title=title.strip(),
        department=department.strip(),
        modeline=schema_modeline(target_dir, root, "role"),
    )
    result = Scaffolded(root)
    if not _create(target, text):
        raise RoleFileExists(f"{label} already exists; edit it, or choose another role id")
    result.created.append(label)
    schema = f"{SCHEMA_FOLDER}/{FILE_NAMES['role']}"
    if _create(root / schema, as_json("role")):
        result.created.append(schema)
    return result


def new_journey(
    root: Path, journey_id: str, *, title: str, customer: str = "patient"
) -> Scaffolded:
    """Write a commented skeleton journey file in the workbook's journeys folder; refuse to
    replace a file. The journey schema its modeline points to is created when missing."""
    for problem in (
        role_id_problem(journey_id, "journey"),
        _labelled("--title", text_problem(title)),
        _labelled("--customer", role_id_problem(customer, "customer")),
    ):
        if problem:
            raise ValueError(problem)
    workbook = load_workbook(root)
    folder = workbook.journeys_dir
    existing = [p for p in journey_files(folder) if p.stem == journey_id]
    target = existing[0] if existing else folder / f"{journey_id}.yaml"
    label = _label(target, root)
    text = journey_skeleton(
        journey_id,
        title=_yaml_text(title.strip()),
        customer=customer,
        modeline=schema_modeline(folder, root, "journey"),
    )
    if existing or not _create(target, text):
        raise RoleFileExists(f"{label} already exists; edit it, or choose another journey id")
    result = Scaffolded(root)
    result.created.append(label)
    schema = f"{SCHEMA_FOLDER}/{FILE_NAMES['journey']}"
    if _create(root / schema, as_json("journey")):
        result.created.append(schema)
    return result


def role_skeleton(role_id: str, *, title: str, department: str, modeline: str) -> str:
    """A role file that explains every key, with the keys to fill in left empty."""
    return f"""\
{modeline}
#
# The role file for {_comment_text(title)}, written by `jobdefs new`.
# The role's id is this file's name without .yaml: {role_id}.
# Other roles use the id to name this one as a customer or a supplier.
#
# Fill in every key marked TODO: until then `jobdefs check` reports each one as
# empty-value, with its line. Optional keys are commented out below the line that
# explains them: remove the "# " in front of the example to use one.

# title: the job title, as the job aid and the matrix show it.
title: {_yaml_text(title)}
# department: the department the role belongs to; the matrix groups roles by it.
department: {_yaml_text(department)}

# reports_to: the role id of this role's manager (their file's name without .yaml).
# reports_to: department-manager

# purpose: the job in its customers' terms: what it gives whom, and why that matters
# to them, e.g. "Give physicians results they can trust, fast enough to matter."
purpose:  # TODO

# revision: shown in the job aid's footer. Quote it ("1.10") so editors read it as text.
# revision: "1"

# reviewed: when the role was last reviewed with its customers (YYYY-MM-DD).
# reviewed: 2026-01-31

# products: what the role produces; at least one, each with
#   name: the product, named as a thing its customers receive ("Labelled blood
#   specimen", not "drawing blood").
products:
  - name:  # TODO e.g. Registered patient record
    # description: what the product is, in a sentence.
    # description: Identity, insurance and contact details, checked with the patient.
    #
    # customers: who receives the product; at least one, each with exactly one of
    #   role: the id of another role in the workbook, or
    #   external: the id of an external customer in jobdefs.yaml, e.g. patient.
    customers:
      - role:  # TODO a role id, or replace the line with external: patient
        # need: what this customer needs from the product, from their side: the why.
        need:  # TODO
        # standard: a measurable standard for this hand-off: a time, an accuracy or a
        # completeness, e.g. "Within 30 minutes of the patient's arrival".
        # standard: Within 30 minutes of the patient's arrival.

# receives: what this role expects from its suppliers, one item each with
#   product: the product's name as the supplier names it, and
#   from: the supplier's role id.
# receives:
#   - product: Booked appointment
#     from: scheduler

# moments_of_truth: points of contact where a customer forms an impression of the
# service, one item each with
#   moment: the point of contact, and
#   practice: what to do or say there.
# moments_of_truth:
#   - moment: Greeting the patient at the desk
#     practice: Look up, greet them by name, and say how long the wait will be.

# feedback_questions: how to ask customers whether their need was met. A plain
# question is for every customer; to ask one customer only, write it as
#   question: the question, and
#   asks: the id of that customer, as its `customers` entry names it.
# feedback_questions:
#   - Did you have what you needed from us today?
#   - question: Did you know how long you would wait?
#     asks: patient
"""


def write_schema(name: SchemaName, path: Path) -> None:
    """Write a JSON Schema to `path`, replacing it whole or not at all."""
    try:
        replace_files(path.parent, {path.name: as_json(name).encode("utf-8")})
    except OSError as error:
        raise JobdefsError(f"cannot write '{path}': {_reason(error)}") from None


def schema_modeline(folder: Path, root: Path, name: SchemaName) -> str:
    """The yaml-language-server comment that points a file in `folder` at its schema.

    A relative path (from the file's folder, as the language server reads it) to the
    copy in the workbook's .jobdefs/ folder: it works offline and matches the jobdefs
    version that wrote the file.
    """
    schema = root / SCHEMA_FOLDER / FILE_NAMES[name]
    relative = os.path.relpath(schema, folder).replace(os.sep, "/")
    return f"# yaml-language-server: $schema={relative}"


# ---------------------------------------------------------------------------------------
# Helpers


def _create(path: Path, text: str) -> bool:
    """Create `path` holding `text`; False when it already exists (it is left untouched)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
    except FileExistsError:
        return False
    except OSError as error:
        raise JobdefsError(f"cannot create '{path}': {_reason(error)}") from None
    return True


def _roles_dir(root: Path) -> Path:
    if (root / CONFIG_FILE).is_file():
        return load_workbook(root).roles_dir
    return root / "roles"


def _role_files(roles_dir: Path) -> list[Path]:
    """The role files the loader would read, so that ids are judged the same way."""
    return [Path(path) for _, path in role_files_below(roles_dir, roles_dir)]


def _organization_name(root: Path) -> str:
    """A name from the folder's: riverside-clinic -> Riverside Clinic."""
    words = re.sub(r"[-_.]+", " ", root.resolve().name).split()
    name = " ".join(w.capitalize() if w.islower() else w for w in words)
    return name if name and not text_problem(name) else DEFAULT_ORGANIZATION


def _yaml_text(text: str) -> str:
    """`text` as a one-line YAML scalar, quoted only when YAML needs it."""
    dumped = str(yaml.safe_dump({"k": text}, allow_unicode=True, width=TEXT_MAX * 4))
    return dumped.removeprefix("k: ").rstrip("\n")


def _comment_text(text: str) -> str:
    return " ".join(text.split())


def _label(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _labelled(option: str, problem: str | None) -> str | None:
    return f"{option}: {problem}" if problem else None


def _reason(error: OSError) -> str:
    return error.strerror or str(error)
