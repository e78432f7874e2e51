"""The variables a job-aid template can use, each with what it holds: the one list that
docs/templates.md, the template linter and the engine's check of unknown names read.
"""

from __future__ import annotations

import re

# A job aid leads with the chain to the first external customer the work reaches and
# names the others with their distance, up to this many hand-offs away: a chain longer
# than that is true but too roundabout to guide anyone's work (the hand-off map and
# `jobdefs show` still have it).
FARTHEST_SHOWN = 4

# What a template can use, as `name.field`; `name[]` is a list and `name[].field` a field
# of each of its items. docs/templates.md is generated from this; a test checks that it
# matches what job_aid_context() returns.
TEMPLATE_VARIABLES: dict[str, str] = {
    "organization.name": "The organization's name (jobdefs.yaml `organization`).",
    "organization.mission": "The organization's mission, or empty text when none is given.",
    "role.id": "The role's id: its file name without `.yaml`.",
    "role.title": "The job title.",
    "role.department": "The department the role belongs to.",
    "role.reports_to": "The title of the role this one reports to, or empty text.",
    "role.revision": "The role file's revision, or empty text.",
    "role.reviewed": "The date the role was last reviewed (YYYY-MM-DD), or empty text.",
    "role.file": "The role file, relative to the workbook, e.g. `roles/lab/phlebotomist.yaml`.",
    "role.purpose": "Why the job exists, in its customers' terms.",
    "products[]": "What the role produces, in the order of its file.",
    "products[].name": "The product's name.",
    "products[].description": "What the product is, or empty text.",
    "products[].customers[]": "Who receives the product.",
    "products[].customers[].title": "The customer: a role's title or an external customer's name.",
    "products[].customers[].kind": "`role` for a colleague, `external` for someone outside.",
    "products[].customers[].department": "The customer's department, or `External`.",
    "products[].customers[].need": "What the customer needs from the product.",
    "products[].customers[].standard": "The measurable standard to meet, or empty text.",
    "suppliers[]": "What colleagues hand this role, from their own role files.",
    "suppliers[].title": "The supplying role's title.",
    "suppliers[].department": "The supplying role's department.",
    "suppliers[].product": "The product they hand over.",
    "suppliers[].description": "What that product is, or empty text.",
    "suppliers[].need": "What the supplier understands this role needs from it.",
    "suppliers[].standard": "The standard the supplier promises, or empty text.",
    "customers[]": "Whom this role supplies, one item per customer.",
    "customers[].title": "The customer: a role's title or an external customer's name.",
    "customers[].kind": "`role` for a colleague, `external` for someone outside.",
    "customers[].department": "The customer's department, or `External`.",
    "customers[].products[]": "The names of the products handed to this customer.",
    "customers[].products_text": "The same names, one per line.",
    "gaps[]": "Open gaps: `receives` entries that the named supplier does not hand this role.",
    "gaps[].product": "The product as this role's file names it.",
    "gaps[].supplier": "The title of the role it is expected from.",
    "gaps[].supplier_department": "That role's department (empty if the role does not exist).",
    "gaps[].instead": "What that role does list for this one, comma-separated, or empty text.",
    "lines_of_sight[]": "For each external customer the role's work reaches, the shortest chain.",
    "lines_of_sight[].customer": "The external customer's name, e.g. `Patient`.",
    "lines_of_sight[].chain": "The chain as text: Role → product → Role → … → customer.",
    "lines_of_sight[].steps[]": "The chain's hand-offs, starting with this role's own.",
    "lines_of_sight[].steps[].role": "The title of the role handing the product on.",
    "lines_of_sight[].steps[].product": "The product handed on.",
    "lines_of_sight[].handoffs": "How many hand-offs the chain has (a number, 1 or more).",
    "lines_of_sight[].direct": "True when this role hands its work to the customer itself.",
    "lines_of_sight[].distance": (
        "How far the customer is, in words: `you hand your work to them yourself` or "
        "`3 hand-offs away`."
    ),
    "line_of_sight.customer": (
        "The customer of the chain the job aid leads with: the first external customer, in "
        "the order jobdefs.yaml declares them (declare the patient first), that the work "
        "reaches; empty text when none is. `line_of_sight` is that item of "
        "`lines_of_sight`, with the same fields (empty when there is none)."
    ),
    "line_of_sight.chain": "That chain as text, or empty text.",
    "line_of_sight.steps[]": "The chain's hand-offs, starting with this role's own.",
    "line_of_sight.steps[].role": "The title of the role handing the product on.",
    "line_of_sight.steps[].product": "The product handed on.",
    "line_of_sight.handoffs": "How many hand-offs the chain has (0 when there is none).",
    "line_of_sight.direct": "True when this role hands its work to that customer itself.",
    "line_of_sight.distance": "How far that customer is, in words, or empty text.",
    "other_lines_of_sight[]": (
        "The other external customers the work reaches, nearest first, without their "
        f"chains; those more than {FARTHEST_SHOWN} hand-offs away are left out."
    ),
    "other_lines_of_sight[].customer": "The external customer's name.",
    "other_lines_of_sight[].handoffs": "How many hand-offs away they are (a number).",
    "other_lines_of_sight[].direct": "True when this role hands its work to them itself.",
    "other_lines_of_sight[].distance": "How far they are, in words, e.g. `3 hand-offs away`.",
    "no_line_of_sight": "A plain sentence when no chain reaches an external customer, else empty.",
    "journeys[]": "The patient journeys (journeys/*.yaml) the role takes part in.",
    "journeys[].title": "The journey's title.",
    "journeys[].steps": "The steps the role takes part in, e.g. `2, 5`.",
    "journeys[].of": "How many steps the journey has.",
    "journeys[].label": "`step` or `steps`, as many as `journeys[].steps` lists.",
    "moments_of_truth[]": "Points of contact where a customer forms an impression.",
    "moments_of_truth[].moment": "The moment.",
    "moments_of_truth[].practice": "What to do or say there.",
    "feedback_questions[]": "Questions to ask customers whether their need was met.",
    "feedback[]": "The same questions, each with whom it asks.",
    "feedback[].question": "The question.",
    "feedback[].asks": (
        "The customer it asks (a role's title or an external customer's name), or empty "
        "text when it is for every customer."
    ),
    "has_suppliers": "True when `suppliers` is not empty.",
    "has_customers": "True when `customers` is not empty.",
    "has_gaps": "True when `gaps` is not empty.",
    "has_handoffs": "True when any of `suppliers`, `customers` and `gaps` is not empty.",
    "has_lines_of_sight": "True when `lines_of_sight` is not empty.",
    "has_other_lines_of_sight": "True when `other_lines_of_sight` is not empty.",
    "has_moments_of_truth": "True when `moments_of_truth` is not empty.",
    "has_journeys": "True when `journeys` is not empty.",
    "has_feedback_questions": "True when `feedback_questions` is not empty.",
    "scorecard.found": (
        "True when `jobdefs build --scorecard` was given answered surveys that hold answers "
        "about this role's hand-offs; False otherwise (and every other `scorecard` value is "
        "then empty text, 0 or an empty list)."
    ),
    "scorecard.round": "The survey round the figures come from, e.g. `2025-q2`, or empty text.",
    "scorecard.baseline_round": "The baseline round they are compared with, or empty text.",
    "scorecard.summary": (
        "The role's figures in one line, e.g. `75% met in 6 of 8 answers (+10 pts since "
        "round-1); mean rating 4.2 of 5`."
    ),
    "scorecard.share_met": "The share of answers that say the need is met, e.g. `75%`.",
    "scorecard.mean_rating": "The mean rating from 1 (poor) to 5 (excellent), e.g. `4.2`.",
    "scorecard.change": "The change in share met since the baseline, e.g. `+10 pts`, or empty.",
    "scorecard.responses": "How many answers came back (a number).",
    "scorecard.asked": "How many answers were asked for (a number).",
    "scorecard.handoffs[]": "One item per hand-off of this role that the surveys asked about.",
}

# The fields of each `scorecard.handoffs[]` item. They are listed apart because a job aid
# built without --scorecard has no such item to show them.
SCORECARD_HANDOFF_VARIABLES: dict[str, str] = {
    "scorecard.handoffs[].product": "The product handed over.",
    "scorecard.handoffs[].customer": "Who answered: a role's title or an external customer's name.",
    "scorecard.handoffs[].customer_department": "The customer's department, or `External`.",
    "scorecard.handoffs[].share_met": "Share met for this hand-off, e.g. `75%` (`–` if none).",
    "scorecard.handoffs[].mean_rating": "Mean rating for this hand-off, e.g. `4.0` (`–` if none).",
    "scorecard.handoffs[].change": "Change in share met since the baseline, e.g. `−5 pts`.",
    "scorecard.handoffs[].answered": "Answers received of those asked, e.g. `3 of 4`.",
    "scorecard.handoffs[].responses": "How many answers came back (a number).",
    "scorecard.handoffs[].changed": (
        "True when the need or standard changed after the survey asked about it."
    ),
    "scorecard.handoffs[].text": (
        "The hand-off's figures in one line, e.g. `Test result report → Physician: 75% met "
        "(3 of 4 answers), mean rating 4.0, +10 pts`."
    ),
}

TOP_LEVEL_VARIABLES = frozenset(re.split(r"[.\[]", name)[0] for name in TEMPLATE_VARIABLES)


def all_template_variables() -> dict[str, str]:
    """Every variable a template can use, in the order docs/templates.md lists them."""
    variables: dict[str, str] = {}
    for name, meaning in TEMPLATE_VARIABLES.items():
        variables[name] = meaning
        if name == "scorecard.handoffs[]":
            variables.update(SCORECARD_HANDOFF_VARIABLES)
    return variables
