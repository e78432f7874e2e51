"""A workbook from someone else is read only inside its own folder.

`jobdefs diff` compares folders and git revisions that come with a pull request. If their
`jobdefs.yaml` could name `roles: /etc`, `roles: ../..` or a folder that is a link out of
the workbook, the report would copy the host's files into the pull-request comment. So a
workbook loaded `contained` must keep every folder its `jobdefs.yaml` names, the file
itself and every role file inside its real folder, links resolved.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from jobdefs.errors import JobdefsError
from jobdefs.model import Finding
from jobdefs.text import one_line

# The keys of jobdefs.yaml that name a folder a comparison reads, with the folder each
# defaults to. `templates:` and `output:` are never read by one, so a workbook that builds
# into `../public` can still be compared.
FOLDER_KEYS = (("roles", "roles"), ("journeys", "journeys"))


class OutsideTheWorkbook(JobdefsError):
    """A path in a workbook leads outside it, where a comparison must not read."""


class Inside:
    """The real folder of a workbook, and whether a path resolves inside it."""

    def __init__(self, root: Path, config_file: str) -> None:
        self.root = root
        self.real = os.path.realpath(root)
        if not self.holds(root / config_file):
            raise OutsideTheWorkbook(
                f"{config_file} is a link to a file outside the workbook, and only what is "
                "inside a compared workbook is read: put the file itself in place of the link"
            )

    def holds(self, path: Path | str) -> bool:
        real = os.path.realpath(path)
        return real == self.real or real.startswith(os.path.join(self.real, ""))

    def check_folders(self, config: Mapping[str, object]) -> None:
        """Raise OutsideTheWorkbook for the first folder the config names outside the root."""
        for key, default in FOLDER_KEYS:
            value = config.get(key, default)
            if not isinstance(value, str) or self.holds(self.root / value):
                continue
            said = f"jobdefs.yaml says '{key}: {one_line(value)}'"
            fix = f"name a folder inside it, such as '{key}: {default}'"
            lexical = os.path.normpath(os.path.join(self.real, value))
            if os.path.isabs(value):
                why = f"{said}, an absolute path outside the workbook"
            elif not (lexical == self.real or lexical.startswith(os.path.join(self.real, ""))):
                why = f"{said}, which leads out of the workbook with '..'"
            else:
                fix = "put the folder itself in place of the link"
                why = (
                    f"{said}, and a link takes that folder outside the workbook"
                    if key in config
                    else f"a link takes the {key} folder '{default}' outside the workbook"
                )
            raise OutsideTheWorkbook(
                f"{why}; only what is inside a compared workbook is read: {fix}"
            )

    def refused(self, path: str, relative: str) -> Finding | None:
        """The finding for a role file that is a link to a file outside the root, if it is."""
        if self.holds(path):
            return None
        return Finding(
            "error",
            "yaml-syntax",
            "this file is a link to a file outside the workbook, and only what is inside a "
            "compared workbook is read: put the file itself in place of the link",
            relative,
            1,
            1,
        )
