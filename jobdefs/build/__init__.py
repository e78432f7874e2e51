"""The build: plan what is out of date, render it, and replace it atomically.

May import everything below it (core, workbook, documents, reports, feedback). Only the
faces (jobdefs.cli, jobdefs.reference) import it.
"""

from jobdefs.build.plan import BuildReport
from jobdefs.build.run import build, check

__all__ = ["BuildReport", "build", "check"]
