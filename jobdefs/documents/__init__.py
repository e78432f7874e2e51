"""Files people open: job aids and the Word template engine, the handbook, PDF conversion,
the xlsx engine with the matrix and department workbooks, the hand-off maps, and the
template linter.

May import: the core and jobdefs.workbook. Never jobdefs.reports, feedback or build.
"""
