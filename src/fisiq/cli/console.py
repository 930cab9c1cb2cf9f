"""The console commands print to: rich's, except that a table is never cut.

A table wider than the console would be squeezed to fit: rich shortens its columns with
"…", drops some, and cuts its lines at the console's edge (a figure shown as `100,000.2` for
100,000.20, with nothing to say it is cut). How far a table can be squeezed without that is
not something rich tells reliably, so a table that may not fit at its natural width is
printed at a width that holds it: a terminal folds the longer lines, a file or a pipe keeps
them whole.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from fisiq.widths import natural_width, widened


class WholeTablesConsole(Console):
    def print(self, *objects: Any, **kwargs: Any) -> None:
        """As Console.print, widened for the time of a table that may not fit."""
        need = 0 if "width" in kwargs else max((natural_width(self, o) for o in objects if isinstance(o, Table)), default=0)
        with widened(self, need):
            super().print(*objects, **kwargs)
