"""Text people read in a terminal or a pull request: findings, show, roles and diff.

May import: the core and jobdefs.workbook. Never jobdefs.documents, feedback or build.
"""
