"""What comes back from people: reviewed workbooks, surveys and the scorecard.

May import: the core, jobdefs.workbook, jobdefs.documents and jobdefs.reports. Never
jobdefs.build.
"""
