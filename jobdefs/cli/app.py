"""The command line: click only. Each command turns options into one library call."""

from __future__ import annotations

import functools
import gc
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from jobdefs import __version__

F = TypeVar("F", bound=Callable[..., Any])


class JobdefsGroup(click.Group):
    """Reports a problem the user can fix once, here, without a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from jobdefs.errors import Interrupted, JobdefsError

        try:
            return super().invoke(ctx)
        except JobdefsError as error:
            click.echo(f"Error: {error.shown_with_option()}", err=True)
            sys.exit(2 if error.usage else 1)
        except Interrupted as stop:  # SIGINT or SIGTERM: one line, no traceback
            click.echo(str(stop), err=True)
            sys.exit(stop.exit_status)


def format_option(choices: list[str], help: str) -> Callable[[F], F]:
    """--format, text by default: the same option wherever a command prints a report."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(choices),
        default="text",
        show_default=True,
        help=help,
    )


def workbook_option(command: F) -> F:
    return click.option(
        "--workbook",
        "-w",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        callback=_find_workbook,
        show_default="the current folder, or the nearest above it with jobdefs.yaml",
        help="The workbook folder (holding jobdefs.yaml and roles/).",
    )(command)


def workbook_or_argument(command: F) -> F:
    """--workbook DIR, or the folder given as the command's one argument (`jobdefs check
    clinic`), as the contract allows either; both at once must name the same folder."""

    @functools.wraps(command)
    def given(*args: Any, workbook_argument: Path | None = None, **kwargs: Any) -> Any:
        if workbook_argument is not None:
            source = click.get_current_context().get_parameter_source("workbook")
            named = kwargs["workbook"]
            if source is ParameterSource.COMMANDLINE and named.resolve() != (
                workbook_argument.resolve()
            ):
                raise click.UsageError(
                    f"two workbooks: --workbook {named} and {workbook_argument}; give one"
                )
            kwargs["workbook"] = workbook_argument
        return command(*args, **kwargs)

    argument = click.argument(
        "workbook_argument",
        metavar="[WORKBOOK]",
        required=False,
        type=click.Path(file_okay=False, path_type=Path),
    )
    return workbook_option(argument(given))  # type: ignore[return-value]


def _find_workbook(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    from jobdefs.workbook.load import find_workbook

    return value if value is not None else find_workbook(Path("."))


def strict_option(command: F) -> F:
    return click.option("--strict", is_flag=True, help="Treat warnings as errors.")(command)


@click.group(cls=JobdefsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="jobdefs")
def cli() -> None:
    """Define jobs by the products they make and the customers they serve.

    Validates a folder of role files and writes from it Word job aids, the
    Excel internal-customer matrix and review forms, journey documents and a
    site to browse; surveys and a scorecard ask whether each need is met.

    \b
    Example:
        jobdefs check && jobdefs build
    """


@cli.command()
@workbook_or_argument
@strict_option
@format_option(
    ["text", "json", "github"],
    "text for people, json for programs, github for Actions annotations.",
)
def check(workbook: Path, strict: bool, output_format: str) -> None:
    """Validate the role files without writing anything.

    \b
    Example:
        jobdefs check --strict --format github
    """
    from jobdefs.reports import findings as report
    from jobdefs.workbook.load import load_workbook

    loaded = load_workbook(workbook)
    findings = loaded.findings
    if output_format == "json":
        click.echo(report.as_json(findings), nl=False)
    elif output_format == "github":
        click.echo(report.as_github(findings), nl=False)
    else:
        click.echo(report.as_text(findings), nl=False, err=True)
        click.echo(
            report.summary(
                findings, len(loaded.organization.roles), len(loaded.organization.journeys)
            ),
            err=True,
        )
    sys.exit(report.exit_status(findings, strict=strict))


def load_or_exit(workbook: Path, strict: bool, quiet: bool = False, **options: Any) -> Any:
    """Load the workbook; report its findings and exit when it cannot be built.

    `options` go to `load_workbook` (an output folder, whether to use the build's cache).
    """
    from jobdefs.reports import findings as report
    from jobdefs.workbook.load import load_workbook

    # The model lives as long as the command: its objects are left out of every collection
    # of cyclic garbage, which would otherwise walk them all, first of all as soon as the
    # collector is on again after loading (the loader pauses it).
    gc.disable()
    try:
        loaded = load_workbook(workbook, **options)
    finally:
        gc.freeze()
        gc.enable()
    status = report.exit_status(loaded.findings, strict=strict)
    if loaded.findings and (status or not quiet):
        click.echo(report.as_text(loaded.findings), nl=False, err=True)
    if status:
        click.echo(
            report.summary(
                loaded.findings, len(loaded.organization.roles), len(loaded.organization.journeys)
            )
            + "; nothing was written",
            err=True,
        )
        sys.exit(status)
    return loaded


@cli.command()
@workbook_or_argument
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder.  [default: output: in jobdefs.yaml, else build]",
)
@strict_option
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Write nothing; exit 1 if any output is missing, stale or orphaned.",
)
@click.option("--force", is_flag=True, help="Rebuild every output, even the current ones.")
@click.option(
    "--only", multiple=True, metavar="ROLE", help="Write only this role's job aid (repeatable)."
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    help="Processes that render job aids.  [default: the number of CPUs]",
)
@click.option("--pdf", is_flag=True, help="Also write PDF job aids (needs LibreOffice).")
@click.option(
    "--handbook",
    is_flag=True,
    help="Also write handbook.docx: a cover, contents and every job aid by "
    "department (and handbook.pdf with --pdf). A later build without "
    "--handbook keeps it as it is; --check says when it is stale.",
)
@click.option(
    "--scorecard",
    "scorecard_files",
    multiple=True,
    metavar="FILE",
    type=click.Path(exists=True, path_type=Path),
    help="An answered survey (.xlsx) or a folder of them (repeatable): each job aid "
    "shows its role's figures. Give the same to later builds and --check.",
)
@click.option(
    "--scorecard-baseline",
    "baseline_files",
    multiple=True,
    metavar="FILE",
    type=click.Path(exists=True, path_type=Path),
    help="An earlier round's answered survey or folder, to show the change since.",
)
@click.option(
    "--reviews",
    "review_files",
    multiple=True,
    metavar="FILE.xlsx",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A reviewed matrix or department workbook (repeatable): the new review "
    "workbooks carry its answers; answers to hand-offs changed since are "
    "left blank with a review note.",
)
@click.option(
    "--wait",
    is_flag=True,
    help="Wait for another build writing to the output folder, instead of stopping.",
)
@click.option(
    "--no-site",
    is_flag=True,
    help="Do not write the explorer, site/ (as 'site: false' in jobdefs.yaml does); "
    "a site written earlier is left as it is.",
)
@click.option(
    "--site-single-file",
    "single_file",
    is_flag=True,
    default=None,
    help="Also write site.html beside site/: the whole explorer in one file that "
    "opens from disk, to e-mail (as 'site_single_file: true' in jobdefs.yaml does). "
    "A later build without it keeps it as it is; --check says when it is stale. "
    "Not with --no-site.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but problems.")
def build(
    workbook: Path,
    output: Path | None,
    strict: bool,
    check_only: bool,
    force: bool,
    only: tuple[str, ...],
    jobs: int | None,
    pdf: bool,
    handbook: bool,
    scorecard_files: tuple[Path, ...],
    baseline_files: tuple[Path, ...],
    review_files: tuple[Path, ...],
    wait: bool,
    no_site: bool,
    single_file: bool | None,
    quiet: bool,
) -> None:
    """Validate, then write the job aids and workbooks that are out of date.

    Outputs go to build/ (or --output): job-aids/<role>.docx,
    internal-customer-matrix.xlsx, departments/<department>.xlsx and the
    explorer, site/index.html (a static site that opens from disk). Only
    outputs whose inputs changed are rewritten, and a failed build changes
    nothing.

    The job-aid template is checked first (as 'jobdefs templates check' does):
    while it has errors, nothing is written.

    \b
    Example:
        jobdefs build --workbook hospital/ --output site/documents
        jobdefs build --check      # in CI: fail when outputs are out of date
        jobdefs build --handbook --pdf --scorecard build/surveys/round-2
        jobdefs build --reviews reviewed/laboratory.xlsx
        jobdefs build --site-single-file   # build/site.html, to e-mail
    """
    from jobdefs.build import run as builder

    # Role files unchanged since the last build into the same folder are not read again.
    loaded = load_or_exit(workbook, strict, quiet, output_dir=output, cached=True)
    output_dir = loaded.output_dir
    extras: dict[str, Any] = {
        "handbook": handbook,
        "scorecard": scorecard_files,
        "scorecard_baseline": baseline_files,
        "reviews": review_files,
        "site": False if no_site else None,
        "site_single_file": single_file,
    }
    if check_only:
        result = builder.check(loaded, output_dir=output_dir, **extras)
        for label, paths in (
            ("missing", result.missing),
            ("stale", result.stale),
            ("orphaned", result.orphaned),
        ):
            for path in paths:
                click.echo(f"{label}: {output_dir / path}", err=True)
        if not result.up_to_date:
            click.echo(f"outputs are out of date: run '{result.remedy()}'", err=True)
            sys.exit(1)
        if not quiet:
            click.echo(f"all {len(result.kept)} outputs in {output_dir} are up to date", err=True)
        return
    show_bar = not quiet and sys.stderr.isatty()
    with click.progressbar(length=1, label="Building", file=sys.stderr, hidden=not show_bar) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        result = builder.build(
            loaded,
            output_dir=output_dir,
            only=only,
            force=force,
            jobs=jobs,
            pdf=pdf,
            progress=progress,
            wait=wait,
            waiting=lambda message: click.echo(message, err=True),
            **extras,
        )
    for note in result.notes:
        click.echo(note, err=True)
    if not quiet:
        click.echo(
            f"{output_dir}: wrote {len(result.written)}, kept {len(result.kept)}, "
            f"removed {len(result.removed)}",
            err=True,
        )
        for path in result.removed:
            click.echo(f"removed: {path}", err=True)


@cli.command()
@workbook_option
@click.argument("role")
def show(workbook: Path, role: str) -> None:
    """Print one role: its products with customers, needs and standards, its suppliers,
    its line of sight to the external customers and its findings.

    ROLE is a role id (the role file's name without .yaml) or the file's path.

    \b
    Example:
        jobdefs show phlebotomist
        jobdefs show roles/laboratory/phlebotomist.yaml
    """
    from jobdefs.reports import present
    from jobdefs.workbook.load import load_workbook

    loaded = load_workbook(workbook)
    try:
        text = present.describe_role(loaded, role)
    except present.UnknownRole as error:
        raise click.BadParameter(str(error), param_hint="'ROLE'") from None
    click.echo(text, nl=False)
    note = present.errors_note(loaded)
    if note:
        click.echo(note, err=True)


@cli.command()
@workbook_or_argument
@format_option(["text", "json"], "text for people, json for programs.")
def roles(workbook: Path, output_format: str) -> None:
    """List every role with its numbers of products, customers and suppliers.

    \b
    Example:
        jobdefs roles --format json
    """
    import json

    from jobdefs.reports import present
    from jobdefs.workbook.load import load_workbook

    loaded = load_workbook(workbook)
    rows = present.role_table(loaded.organization)
    if output_format == "json":
        document = {"organization": loaded.organization.name, "roles": rows}
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        click.echo(present.format_role_table(rows), nl=False)
    note = present.errors_note(loaded)
    if note:
        click.echo(note, err=True)


@cli.command()
@workbook_option
@click.argument("old")
@click.argument("new", required=False)
@format_option(
    ["text", "markdown", "json"],
    "text for people, markdown for a pull-request comment, json for programs.",
)
def diff(workbook: Path, old: str, new: str | None, output_format: str) -> None:
    """Compare two versions of the workbook, hand-off by hand-off.

    OLD and NEW are workbook folders or git revisions (a branch, a tag, HEAD~1) of the
    repository that holds the workbook; NEW defaults to the workbook as it is now. The
    report lists roles, products and hand-offs added or removed, needs and standards
    changed, and the customers each change affects.

    The exit status is 0 whatever the differences, and also when a side has errors (a
    note says so); it is 1 or 2 only when a side cannot be loaded at all.

    \b
    Example:
        jobdefs diff main HEAD --format markdown > comment.md
        jobdefs diff old-copy/ .
    """
    from jobdefs.reports import diff as differ
    from jobdefs.reports import diff_text

    comparison = differ.diff_workbooks(old, new, workbook=workbook)
    click.echo(diff_text.render(comparison, output_format), nl=False)
    for note in comparison.notes():
        click.echo(note, err=True)


def _valid_role_id(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from jobdefs.workbook.scaffold import role_id_problem

    problem = role_id_problem(value)
    if problem:
        raise click.BadParameter(problem, ctx, param)
    return value


def _valid_text(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from jobdefs.workbook.scaffold import text_problem

    problem = text_problem(value) if value is not None else None
    if problem:
        raise click.BadParameter(problem, ctx, param)
    return value.strip() if value is not None else None


def _valid_folder(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from jobdefs.workbook.scaffold import folder_problem

    problem = folder_problem(value) if value is not None else None
    if problem:
        raise click.BadParameter(problem, ctx, param)
    return value


@cli.command("init")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
@click.option(
    "--organization",
    callback=_valid_text,
    help="The organization's name.  [default: from the folder's name]",
)
def init_command(folder: Path, organization: str | None) -> None:
    """Create a new workbook with three example roles.

    Writes jobdefs.yaml (with the external customers patient, family and
    payer), roles/ with three example roles that hand off to each other, the
    JSON Schemas editors use (.jobdefs/), a .gitignore for build/, a
    pre-commit configuration and a GitHub Actions workflow. An existing file
    is never replaced: it is skipped and listed. The result passes
    'jobdefs check --strict'.

    \b
    Example:
        jobdefs init riverside-hospital
        cd riverside-hospital && jobdefs check && jobdefs build
    """
    from jobdefs.workbook.scaffold import init_workbook

    result = init_workbook(folder, organization)
    for path in result.created:
        click.echo(f"created {path}", err=True)
    for path, reason in result.skipped:
        click.echo(f"skipped {path} ({reason})", err=True)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if result.created:
        click.echo(
            f"{len(result.created)} files created in {folder}; next: edit the roles, "
            "then run 'jobdefs check' and 'jobdefs build' there",
            err=True,
        )
    else:
        click.echo(
            f"nothing created: {folder} already holds these files (init never replaces a file)",
            err=True,
        )


@cli.command("new")
@click.argument("role_id", metavar="ID", callback=_valid_role_id)
@click.option("--title", required=True, callback=_valid_text, help="The job or journey title.")
@click.option("--department", callback=_valid_text, help="The department the role belongs to.")
@workbook_option
@click.option(
    "--folder",
    metavar="SUBFOLDER",
    callback=_valid_folder,
    help="A sub-folder of roles/ to write the file in, e.g. laboratory.",
)
@click.option("--journey", is_flag=True, help="Write a journey file instead of a role file.")
@click.option(
    "--customer",
    default="patient",
    show_default=True,
    help="The external customer who lives the journey (with --journey).",
)
def new_command(
    role_id: str,
    title: str,
    department: str | None,
    workbook: Path,
    folder: str | None,
    journey: bool,
    customer: str,
) -> None:
    """Write a new role file (or, with --journey, a journey file) to fill in.

    The file is roles/[SUBFOLDER/]ID.yaml, or journeys/ID.yaml. Every key is
    explained in a comment. The keys only you can fill in (a role's purpose,
    its first product, customer and need; a journey's first step) are left
    empty and marked TODO, so 'jobdefs check' reports each one until it is
    written. Exit status 2 for a bad id or text, 1 if the file or the id exists.

    \b
    Example:
        jobdefs new phlebotomist --title Phlebotomist \\
            --department Laboratory --folder laboratory
        jobdefs new emergency-visit --journey --title "An emergency visit"
    """
    from jobdefs.workbook.scaffold import new_journey, new_role

    if journey:
        result = new_journey(workbook, role_id, title=title, customer=customer)
    elif department is None:
        raise click.UsageError("Missing option '--department' (or give --journey).")
    else:
        result = new_role(workbook, role_id, title=title, department=department, folder=folder)
    for path in result.created:
        click.echo(f"created {path}", err=True)
    click.echo(
        f"next: fill in the keys marked TODO in {result.created[0]}, then run 'jobdefs check'",
        err=True,
    )


@cli.command("schema")
@click.argument(
    "kind",
    type=click.Choice(["role", "organization", "journey"]),
    default="role",
    metavar="[role|organization|journey]",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to this file instead of printing it.",
)
def schema_command(kind: str, output: Path | None) -> None:
    """Print the JSON Schema of a role file, of jobdefs.yaml or of a journey file.

    The schema follows JSON Schema draft 2020-12. Editors use it to complete
    and check keys as you type: a file whose first line is
    '# yaml-language-server: $schema=PATH' is checked against the schema at
    PATH. The schema is generated from the same declaration the
    loader validates against.

    \b
    Example:
        jobdefs schema role --output .jobdefs/role.schema.json
        jobdefs schema organization > jobdefs.schema.json
    """
    from typing import cast

    from jobdefs.workbook.json_schema import SchemaName, as_json
    from jobdefs.workbook.scaffold import write_schema

    name = cast(SchemaName, kind)
    if output is None:
        click.echo(as_json(name), nl=False)
        return
    write_schema(name, output)
    click.echo(f"wrote {output}", err=True)


def main() -> None:
    cli(prog_name="jobdefs")
