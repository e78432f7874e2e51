"""jobdefs: job definitions by product and customer need.

The public API: load a workbook, then build its documents.
"""

from __future__ import annotations

__version__ = "0.1.0"

from jobdefs.load import Workbook, load_workbook

__all__ = ["Workbook", "__version__", "load_workbook"]
