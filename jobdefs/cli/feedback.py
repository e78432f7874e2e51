"""The commands of what comes back: surveys out, answered surveys and reviews in."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from jobdefs.cli.app import (
    cli,
    format_option,
    load_or_exit,
    workbook_option,
    workbook_or_argument,
)


@cli.command()
@workbook_or_argument
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder; a round goes to <output>/surveys/<round>/.  "
    "[default: output: in jobdefs.yaml, else build]",
)
@click.option(
    "--role",
    "roles",
    multiple=True,
    metavar="ROLE",
    help="Survey this role (repeatable).  [default: every role]",
)
@click.option(
    "--department",
    "departments",
    multiple=True,
    metavar="NAME",
    help="Survey every role of this department (repeatable).",
)
@click.option(
    "--round",
    "round_label",
    default="round-1",
    show_default=True,
    metavar="LABEL",
    help="The round's name, also its folder's name (e.g. 2025-q1).",
)
@click.option(
    "--force", is_flag=True, help="Replace this round's files even though they may hold answers."
)
def survey(
    workbook: Path,
    output: Path | None,
    roles: tuple[str, ...],
    departments: tuple[str, ...],
    round_label: str,
    force: bool,
) -> None:
    """Write a round of customer surveys: is each hand-off's need met?

    Each role that receives products from colleagues gets a workbook,
    surveys/<round>/<role>.xlsx, to answer per product; each role that serves
    someone outside gets a printable card, <role>-patient-questions.docx.
    A round already written is never replaced without --force.

    \b
    Example:
        jobdefs survey --round 2025-q1 --department Laboratory
        jobdefs scorecard build/surveys/2025-q1 --format markdown
    """
    from jobdefs.build.lock import output_lock
    from jobdefs.feedback import survey_round

    loaded = load_or_exit(workbook, strict=False, quiet=True)
    folder = output or loaded.output_dir  # a round is quick: it waits for a build there
    with output_lock(folder, "survey", wait=True, waiting=lambda text: click.echo(text, err=True)):
        result = survey_round.make_surveys(
            loaded,
            output_dir=output,
            round_label=round_label,
            roles=roles,
            departments=departments,
            force=force,
        )
    conversations = f", and {result.conversations}" if result.conversations else ""
    click.echo(
        f"{result.folder}: wrote {len(result.surveys)} surveys and "
        f"{len(result.cards)} question cards{conversations}",
        err=True,
    )
    for role_id in result.skipped:
        click.echo(
            f"no survey for {role_id}: no colleague hands it a product and it serves "
            "no one outside",
            err=True,
        )


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--baseline",
    multiple=True,
    metavar="FILE",
    type=click.Path(path_type=Path),
    help="An earlier round's answered survey, or its folder (repeatable).",
)
@format_option(
    ["text", "json", "markdown"],
    "text for people, json for programs, markdown for a report or a PR comment.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the scorecard workbook here (e.g. scorecard.xlsx).",
)
@click.option(
    "--fail-below",
    type=click.FloatRange(0, 1),
    metavar="SHARE",
    help="Exit 1 when a hand-off's share met is below SHARE (e.g. 0.8).",
)
@workbook_option
def scorecard(
    files: tuple[Path, ...],
    baseline: tuple[Path, ...],
    output_format: str,
    output: Path | None,
    fail_below: float | None,
    workbook: Path,
) -> None:
    """Read answered surveys back: is each hand-off's need met?

    FILES are answered surveys (.xlsx) or folders of them. Reports, per
    hand-off, supplier role and department, the responses, the share met
    (Met 1, Partly met 1/2, Not met 0; "Don't receive it" counts as a gap),
    the mean rating and the comments, and the change since --baseline.

    \b
    Example:
        jobdefs scorecard build/surveys/round-2 --baseline build/surveys/round-1
        jobdefs scorecard build/surveys/round-2 -o scorecard.xlsx --fail-below 0.8
    """
    from jobdefs.feedback import journey_score, scorecard_text, scorecard_workbook, scoring
    from jobdefs.feedback.patient_voice_score import make_voice
    from jobdefs.workbook.dates import document_moment

    loaded = load_or_exit(workbook, strict=False, quiet=True)
    organization = loaded.organization
    card = scoring.make_scorecard(organization, files, baseline)
    voice = make_voice(organization, files, baseline) if organization.discharge_questions else None
    names = {customer.id: customer.name for customer in organization.external_customers}
    journeys = journey_score.journey_scores(organization.journeys, card, voice, names)
    for note in (*card.notes, *(voice.notes if voice else ())):
        click.echo(note.as_text(), err=True)
    click.echo(scorecard_text.render(card, output_format, fail_below, voice, journeys), nl=False)
    if output is not None:
        moment = document_moment(loaded.organization)
        voiced = voice.as_json() if voice else []
        data = scorecard_workbook.scorecard_workbook(card, moment, journeys, voiced)
        scorecard_workbook.write_scorecard(output, data)
        click.echo(f"wrote {output}", err=True)
    if fail_below is not None and card.below(fail_below):
        below = card.below(fail_below)
        click.echo(f"{len(below)} hand-off(s) below {scoring.percent(fail_below)} met", err=True)
        sys.exit(1)


@cli.command("review")
@workbook_option
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@format_option(["text", "json", "markdown"], "How to print the summary.")
@click.option(
    "--fail-on",
    type=click.Choice(["needs-change", "suspect"]),
    multiple=True,
    help="Exit 1 when any current answer needs change, or any answer is suspect.",
)
def review_command(
    workbook: Path, files: tuple[Path, ...], output_format: str, fail_on: tuple[str, ...]
) -> None:
    """Read reviewed workbooks back: Status, Reviewer and Comment per hand-off.

    FILES are internal-customer-matrix.xlsx or departments/*.xlsx files that
    department heads marked up. Answers are matched by Hand-off id, so sorted,
    filtered and re-ordered rows are fine. An answer to a hand-off that no
    longer exists is stale; one whose hand-off changed since it was reviewed
    is suspect and needs a new look.

    \b
    Example:
        jobdefs review reviews/*.xlsx --format markdown --fail-on needs-change
    """
    from jobdefs.feedback import review

    loaded = load_or_exit(workbook, strict=False, quiet=True)
    result = review.review(loaded.organization, files)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    render = {"json": review.as_json, "markdown": review.as_markdown}.get(
        output_format, review.as_text
    )
    click.echo(render(result), nl=False)
    if ("needs-change" in fail_on and result.needs_change()) or (
        "suspect" in fail_on and result.suspect
    ):
        sys.exit(1)
