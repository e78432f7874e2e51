"""The files `jobdefs init` writes beside the role files: example roles, a .gitignore, a
pre-commit configuration and a CI workflow that checks and builds on every change."""

from __future__ import annotations

import importlib.metadata
import json
from typing import Any

from jobdefs import __version__

# The paths whose change re-runs the checks, and the build, in CI and before a commit.
ROLE_FILES_PATTERN = r"^(roles/|jobdefs\.yaml)"
BUILD_INPUTS_PATTERN = r"^(roles/|templates/|jobdefs\.yaml)"


EXAMPLE_HEADER = """\
#
# An example role written by `jobdefs init`: rewrite it as one of your own roles, or
# delete it. The role's id is this file's name without .yaml; other roles use it to
# name this one as a customer or a supplier.
"""

EXAMPLE_ROLES = {
    "scheduler": EXAMPLE_HEADER
    + """
title: Scheduler
department: Patient Access
purpose: >-
  Give every patient a visit at a time they can keep, and give the care team a day
  they can prepare for.
revision: "1"
products:
  - name: Booked appointment
    description: A visit in the schedule with its reason, its length and how to reach the patient.
    customers:
      - external: patient
        need: A time that fits their day, and knowing what to bring and where to go.
        standard: Confirmed in writing within 1 business day of the request.
      - role: nurse
        need: To know who is coming and why, so the room and the notes are ready.
        standard: The next day's list complete by 3 p.m.
moments_of_truth:
  - moment: Answering the phone
    practice: >-
      Give your name, let the caller finish, and read the date and time back before
      you hang up.
feedback_questions:
  - Were you offered a time you could keep?
""",
    "nurse": EXAMPLE_HEADER
    + """
title: Clinic Nurse
department: Nursing
purpose: >-
  Send every patient home understanding their care and able to carry it on.
revision: "1"
products:
  - name: Discharge instructions
    description: Written steps for medicines, warning signs and the next appointment.
    customers:
      - external: patient
        need: To know what to do at home, which signs mean calling us, and when to come back.
        standard: Explained and handed over in writing before the patient leaves, every visit.
      - external: family
        need: To know how to help at home and whom to call with a question.
  - name: Visit record
    description: What was done during the visit and why, signed in the chart.
    customers:
      - role: billing-clerk
        need: Every service written down, so the claim matches the care the patient had.
        standard: Signed within 24 hours of the visit.
receives:
  - product: Booked appointment
    from: scheduler
moments_of_truth:
  - moment: Going through the discharge instructions
    practice: >-
      Sit down, use plain words, and ask the patient to tell you the plan in their own
      words before they leave.
feedback_questions:
  - Do you know what to do when you get home?
""",
    "billing-clerk": EXAMPLE_HEADER
    + """
title: Billing Clerk
department: Patient Financial Services
purpose: >-
  Get each visit paid correctly the first time, and never leave a patient puzzled by
  a bill.
revision: "1"
products:
  - name: Insurance claim
    customers:
      - external: payer
        need: A claim whose codes and documents match the care given, so it can be paid.
        standard: Sent within 3 business days of the visit; fewer than 5% sent back.
  - name: Patient statement
    customers:
      - external: patient
        need: A bill they can read, showing what insurance paid and a number to call.
        standard: Questions about it answered within 2 business days.
receives:
  - product: Visit record
    from: nurse
""",
}

# The journey `jobdefs init` writes: a patient's visit through its three example roles.
EXAMPLE_JOURNEYS = {
    "clinic-visit": """\
#
# An example journey written by `jobdefs init`: the path a patient lives through the
# clinic, as hand-offs the role files declare, in the order lived. Rewrite it as one of
# your own patients' journeys, or delete it. Its id is this file's name without .yaml.

title: A visit to the clinic
customer: patient
description: From booking the visit to going home with the instructions.
steps:
  - from: scheduler
    product: Booked appointment
    to: patient
  - from: scheduler
    product: Booked appointment
    to: nurse
  - from: nurse
    product: Discharge instructions
    to: patient
""",
}


def journey_skeleton(journey_id: str, *, title: str, customer: str, modeline: str) -> str:
    """A journey file that explains every key, with its first step left to fill in."""
    return f"""\
{modeline}
#
# A journey, written by `jobdefs new --journey`. Its id is this file's name without
# .yaml: {journey_id}.
#
# A journey is the path one external customer lives through the organization, from the
# first contact to the moment they leave. Each step is a hand-off that a role file
# already declares: fill in every key marked TODO, then run `jobdefs check`, which names
# the products a supplier does hand a customer when a step names none of them.

# title: the journey, as the customer would name it.
title: {title}

# customer: the external customer who lives the journey: an id from jobdefs.yaml.
customer: {customer}

# description: where the journey starts and where it ends, in a sentence.
# description: From the first phone call to going home with the instructions.

# steps: the hand-offs in the order the customer lives them; at least one, each with
#   from: the supplier's role id (its file's name without .yaml),
#   product: one of that role's products, named as its role file names it, and
#   to: whom it goes to: a role id, or an external customer's id such as patient.
steps:
  - from:  # TODO e.g. scheduler
    product:  # TODO e.g. Booked appointment
    to:  # TODO e.g. {customer}
"""


GITIGNORE = """\
# What `jobdefs build` writes: rebuild it rather than commit it. The CI workflow builds
# it on every change and keeps it as a download (.github/workflows/jobdefs.yml).
/build/
"""

PRE_COMMIT_CONFIG = f"""\
# Checks the role files before each commit that touches them:
#   pip install pre-commit && pre-commit install
# These hooks run the jobdefs installed on your computer (language: system). To let
# pre-commit install jobdefs itself, use the hooks jobdefs publishes instead:
#   - repo: <the Git URL you install jobdefs from>
#     rev: v{__version__}
#     hooks:
#       - id: jobdefs-check
repos:
  - repo: local
    hooks:
      - id: jobdefs-check
        name: jobdefs check
        entry: jobdefs check
        language: system
        pass_filenames: false
        files: {ROLE_FILES_PATTERN}
      # If you commit build/ (and take /build/ out of .gitignore), turn this on too: it
      # stops a commit whose documents are older than the role files.
      # - id: jobdefs-build-check
      #   name: jobdefs build --check
      #   entry: jobdefs build --check
      #   language: system
      #   pass_filenames: false
      #   files: {BUILD_INPUTS_PATTERN}
"""


# What the workflow installs when it cannot tell where this jobdefs came from: a line to
# edit, which the workflow's first run refuses with the reason rather than a pip error.
EDIT_ME = "EDIT ME: where pip gets jobdefs"


def requirement_for(direct_url: dict[str, Any] | None, version: str = __version__) -> str | None:
    """The pip requirement that installs this very jobdefs elsewhere, or None for a copy
    installed from a folder on this computer, which a CI machine cannot reach.

    `direct_url` is what pip recorded of a direct installation (PEP 610): a Git URL and
    its commit, an archive's URL or a local folder. Without it jobdefs came from a package
    index, which then holds this version.
    """
    if direct_url is None:
        return f"jobdefs=={version}"
    url = direct_url.get("url")
    if type(url) is not str or not url.startswith(("https://", "http://", "ssh://", "git@")):
        return None
    vcs = direct_url.get("vcs_info")
    if isinstance(vcs, dict):
        commit = vcs.get("commit_id")
        if vcs.get("vcs") != "git" or type(commit) is not str:
            return None
        return f"jobdefs @ git+{url}@{commit}"
    return f"jobdefs @ {url}" if "archive_info" in direct_url else None


def installed_requirement() -> str | None:
    """`requirement_for` this installation of jobdefs (None when it cannot tell)."""
    try:
        recorded = importlib.metadata.distribution("jobdefs").read_text("direct_url.json")
    except importlib.metadata.PackageNotFoundError:
        return None  # run from a checkout, not installed
    if recorded is None:
        return requirement_for(None)
    try:
        direct_url = json.loads(recorded)
    except ValueError:
        return None
    return requirement_for(direct_url) if isinstance(direct_url, dict) else None


def github_workflow(requirement: str | None = None) -> str:
    """The GitHub Actions workflow init writes (and docs/examples/jobdefs.yml shows), which
    installs `requirement`, or asks for it to be filled in."""
    install = json.dumps(requirement or EDIT_ME)
    return f"""\
# Checks the role files and builds the documents whenever they change; the documents
# are kept as a download ("jobdefs-documents") on the run's page.
name: jobdefs

on:
  push:
    paths:
      - "roles/**"
      - "jobdefs.yaml"
      - "templates/**"
      - ".github/workflows/jobdefs.yml"
  pull_request:
    paths:
      - "roles/**"
      - "jobdefs.yaml"
      - "templates/**"
      - ".github/workflows/jobdefs.yml"
  workflow_dispatch:

permissions:
  contents: read

env:
  # Where pip gets jobdefs: a release from your package index ("jobdefs=={__version__}") or a
  # Git URL and commit ("jobdefs @ git+https://example.org/you/jobdefs@<commit>"). Pin the
  # version, so that the documents change only when the role files do.
  JOBDEFS: {install}

jobs:
  documents:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install jobdefs
        run: |
          case "$JOBDEFS" in
            "{EDIT_ME}"*)
              echo "::error file=.github/workflows/jobdefs.yml::set JOBDEFS to where pip gets it"
              exit 1 ;;
          esac
          python -m pip install "$JOBDEFS"
      - name: Check the role files
        run: jobdefs check --format github
      - name: Build the documents
        run: jobdefs build
      - name: Keep the documents
        uses: actions/upload-artifact@v4
        with:
          name: jobdefs-documents
          path: build/
          if-no-files-found: error
"""
