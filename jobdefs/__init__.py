"""jobdefs: job definitions by product and customer need.

The public API: `load_workbook(path)` validates a workbook and returns its typed model and
findings; `jobdefs.build.build(workbook)` writes its documents. Imported lazily, so that
`jobdefs --help` starts without loading the YAML, Word or Excel libraries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from jobdefs.workbook.load import Workbook, load_workbook

__all__ = ["Workbook", "__version__", "load_workbook"]


def __getattr__(name: str) -> Any:
    if name in ("Workbook", "load_workbook"):
        from jobdefs.workbook import load

        return getattr(load, name)
    raise AttributeError(f"module 'jobdefs' has no attribute {name!r}")
