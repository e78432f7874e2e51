"""The workbook: read, validate and resolve what HR writes.

YAML with positions, the schema of role files and of jobdefs.yaml, loading into the typed
model, the hand-off analysis (references, both sides of each hand-off, lines of sight),
departments, review dates, the document date, and scaffolding of new files.

May import: the core (jobdefs.model, errors, text, output). Nothing above it.
"""
