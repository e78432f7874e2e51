"""The command line: click only. Each command turns options into one library call."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from jobdefs import __version__

F = TypeVar("F", bound=Callable[..., Any])


class JobdefsGroup(click.Group):
    """Reports a problem the user can fix once, here, without a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from jobdefs.errors import JobdefsError, NotAWorkbook

        try:
            return super().invoke(ctx)
        except NotAWorkbook as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(2)
        except JobdefsError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(1)


def workbook_option(command: F) -> F:
    return click.option(
        "--workbook",
        "-w",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("."),
        show_default="the current folder",
        help="The workbook folder (holding jobdefs.yaml and roles/).",
    )(command)


def strict_option(command: F) -> F:
    return click.option("--strict", is_flag=True, help="Treat warnings as errors.")(command)


@click.group(cls=JobdefsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="jobdefs")
def cli() -> None:
    """Define jobs by the products they make and the customers they serve.

    Validates a folder of role files and writes Word job aids and Excel
    internal-customer matrices from it.

    \b
    Example:
        jobdefs check && jobdefs build
    """


@cli.command()
@workbook_option
@strict_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text for people, json for programs, github for Actions annotations.",
)
def check(workbook: Path, strict: bool, output_format: str) -> None:
    """Validate the role files without writing anything.

    \b
    Example:
        jobdefs check --strict --format github
    """
    from jobdefs import report
    from jobdefs.load import load_workbook

    loaded = load_workbook(workbook)
    findings = loaded.findings
    if output_format == "json":
        click.echo(report.as_json(findings), nl=False)
    elif output_format == "github":
        click.echo(report.as_github(findings), nl=False)
    else:
        click.echo(report.as_text(findings), nl=False, err=True)
        click.echo(report.summary(findings, len(loaded.organization.roles)), err=True)
    sys.exit(report.exit_status(findings, strict=strict))


def main() -> None:
    cli(prog_name="jobdefs")
