"""The package's layout: what ships, what the caches hash, and where the templates are found."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import jobdefs
from jobdefs import digests
from jobdefs.documents.template_files import default_template_path

REPO = Path(__file__).parent.parent
PACKAGE = REPO / "jobdefs"
# The tests may run against an installed copy (CI installs without -e): its modules are
# the ones the code version hashes.
INSTALLED = Path(jobdefs.__file__).parent


def test_the_code_version_hashes_every_module_of_every_subpackage() -> None:
    hashed = {path.relative_to(INSTALLED).as_posix() for path in digests.code_files()}
    on_disk = {path.relative_to(INSTALLED).as_posix() for path in INSTALLED.rglob("*.py")}
    assert hashed == on_disk
    assert {"workbook/load.py", "documents/xlsx.py", "build/run.py"} <= hashed


def test_the_default_template_is_the_one_at_the_top_of_the_checkout() -> None:
    # Installed or editable, the template found is the checkout's templates/job-aid.docx.
    found = default_template_path()
    assert found.read_bytes() == (REPO / "templates" / "job-aid.docx").read_bytes()


def test_gitignore_hides_the_example_output_but_not_the_build_package() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "jobdefs/build/run.py"], cwd=REPO, check=False
    )
    assert ignored.returncode == 1, "jobdefs/build/ must not be ignored"
    example = subprocess.run(["git", "check-ignore", "-q", "build/x.docx"], cwd=REPO, check=False)
    assert example.returncode == 0, "the example's build/ folder should be ignored"


def test_a_wheel_ships_every_subpackage_and_the_default_templates(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("jobdefs-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    modules = {f"jobdefs/{path.relative_to(PACKAGE).as_posix()}" for path in PACKAGE.rglob("*.py")}
    templates = {f"jobdefs/templates/{path.name}" for path in (REPO / "templates").glob("*.docx")}
    assert modules <= shipped, sorted(modules - shipped)
    assert templates <= shipped, sorted(templates - shipped)
    assert jobdefs.__version__ in wheel.name
