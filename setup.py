"""Everything else is in setup.cfg. The packages are found on disk, so that a new subpackage
ships without being listed; the default templates live at the top of the repository, where
HR finds them, and are installed as jobdefs.templates."""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["jobdefs", "jobdefs.*"]), "jobdefs.templates"])
