"""The command line: click only. Each command turns options into one library call.

`app` holds the group, the options commands share and the commands on the workbook itself;
each other module adds its commands to that group when imported here.
"""

from jobdefs.cli import feedback, site, templates  # noqa: F401  (their commands join the group)
from jobdefs.cli.app import cli, main

__all__ = ["cli", "main"]
