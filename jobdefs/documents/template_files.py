"""Where a job-aid template is found (the workbook's own templates/ folder, else the one
installed with jobdefs), compiled once per process, and copied out for editing.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG

from jobdefs.digests import package_root
from jobdefs.documents.word_template import JobAidTemplate
from jobdefs.errors import OutputError, TemplateError

JOB_AID_TEMPLATE = "job-aid.docx"


# -- finding and using templates --------------------------------------------------------


# Beside the package in a checkout, whatever the depth of this module.
_CHECKOUT_TEMPLATES = package_root().parent / "templates"


def default_template_path() -> Path:
    """The job-aid template installed with jobdefs."""
    try:
        folder = importlib.resources.files("jobdefs.templates")
        path = Path(str(folder.joinpath(JOB_AID_TEMPLATE)))
    except (ImportError, TypeError, ValueError):
        path = _CHECKOUT_TEMPLATES / JOB_AID_TEMPLATE
    if not path.is_file():
        # An editable install maps jobdefs.templates to the checkout's templates/ folder,
        # which importlib cannot always resolve without an __init__.py.
        path = _CHECKOUT_TEMPLATES / JOB_AID_TEMPLATE
    return path


def default_templates() -> list[Path]:
    """Every template installed with jobdefs: the .docx files beside the job-aid template."""
    folder = default_template_path().parent
    return sorted(
        path
        for path in folder.glob("*.docx")
        if path.is_file() and not path.name.startswith(("~$", ".", "_"))
    )


@dataclass(frozen=True)
class ExportResult:
    """What `export_templates` copied, and what it left alone because it exists."""

    created: list[Path]
    skipped: list[Path]


def export_templates(folder: Path) -> ExportResult:
    """Copy the default templates into `folder` to customize; never replace an existing file."""
    created: list[Path] = []
    skipped: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for source in default_templates():
            target = folder / source.name
            try:
                with target.open("xb") as stream:  # "x": fails if the file exists, atomically
                    stream.write(source.read_bytes())
            except FileExistsError:
                skipped.append(target)
                continue
            created.append(target)
    except OSError as error:
        raise OutputError(f"cannot copy the templates into '{folder}': {error}") from None
    return ExportResult(created, skipped)


def job_aid_template_path(templates_dir: Path | None = None) -> Path:
    """The workbook's own templates/job-aid.docx when it has one, else the default."""
    if templates_dir is not None and (templates_dir / JOB_AID_TEMPLATE).is_file():
        return templates_dir / JOB_AID_TEMPLATE
    return default_template_path()


_compiled: dict[tuple[str, int, int], JobAidTemplate] = {}


def load_job_aid_template(path: Path, name: str | None = None) -> JobAidTemplate:
    """The compiled template at `path`, compiled once per process while the file is unchanged."""
    try:
        stat = path.stat()
    except OSError as error:
        raise TemplateError(f"{name or path}: cannot read the template: {error}") from error
    if not S_ISREG(stat.st_mode):  # a named pipe would make the build wait for ever
        raise TemplateError(
            f"{name or path}: cannot read the template: it is not a regular file (a named "
            "pipe, socket or device); save the template from Word as a .docx file"
        )
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _compiled:
        _compiled[key] = JobAidTemplate.from_file(path, name)
    return _compiled[key]
