"""`jobdefs templates`: export the Word templates to edit, and check an edited one."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from jobdefs.cli.app import cli, strict_option, workbook_option


@cli.group()
def templates() -> None:
    """Export the Word templates to customize, and check the ones you edited.

    \b
    Example:
        jobdefs templates export && jobdefs templates check
    """


@templates.command("export")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@workbook_option
def templates_export(folder: Path | None, workbook: Path) -> None:
    """Copy the default templates into FOLDER, to edit in Word.

    FOLDER defaults to the workbook's templates/ folder, where builds look for
    them. An existing file is never replaced: it is skipped and listed. See
    docs/templates.md for the variables a template can use.

    \b
    Example:
        jobdefs templates export
        jobdefs templates export ~/drafts
    """
    from jobdefs.documents.template_files import export_templates
    from jobdefs.workbook.load import load_workbook

    result = export_templates(folder or load_workbook(workbook).templates_dir)
    for path in result.created:
        click.echo(f"created {path}", err=True)
    for path in result.skipped:
        click.echo(f"skipped {path} (it exists; export never replaces a file)", err=True)
    if result.created:
        click.echo("next: edit the template in Word, then run 'jobdefs templates check'", err=True)


@templates.command("check")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@workbook_option
@strict_option
def templates_check(file: Path | None, workbook: Path, strict: bool) -> None:
    """Check a Word template before a build uses it.

    Reports tag syntax errors, variables a job aid does not have (with a
    did-you-mean), and tags Word broke: split by a tracked change or a link,
    not closed in their paragraph, holding a non-breaking space or curly
    quotes. Each names the paragraph's text. FILE defaults to the workbook's
    templates/job-aid.docx, else the default template. Exit status 1 when the
    template has errors (or warnings, under --strict).

    \b
    Example:
        jobdefs templates check
        jobdefs templates check ~/drafts/job-aid.docx --strict
    """
    from jobdefs.documents import template_lint

    path, name = file, str(file)
    if path is None:
        path, name = template_lint.workbook_template(workbook)
    findings = template_lint.lint_template_file(path, name)
    for finding in findings:
        click.echo(finding.as_text(), err=True)
    click.echo(template_lint.summary(name, findings), err=True)
    sys.exit(template_lint.exit_status(findings, strict=strict))
