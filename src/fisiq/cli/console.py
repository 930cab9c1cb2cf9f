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

from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

UNLIMITED = 1_000_000


class WholeTablesConsole(Console):
    def print(self, *objects: Any, **kwargs: Any) -> None:
        """As Console.print, widened for the time of a table that may not fit."""
        need = max((self._width_bound(o) for o in objects if isinstance(o, Table)), default=0)
        if need <= self.width or "width" in kwargs:
            super().print(*objects, **kwargs)
            return
        width = self.width
        self.width = need
        try:
            super().print(*objects, **kwargs)
        finally:
            self.width = width

    def _width_bound(self, table: Table) -> int:
        """At least the table's natural width, from its cells' lengths.

        rich's own measurement of a table costs a third of printing it (a long journal); the
        width only matters as a bound, since a table that does not expand takes its natural
        width however wide the console is."""
        _top, right, _bottom, left = table.padding
        width = len(table.columns) + 1  # the vertical rules, edges included
        for column in table.columns:
            widest = max(column.width or 0, column.min_width or 0)
            for cell in (column.header, column.footer, *column.cells):
                widest = max(widest, self._cell_width(cell))
            width += widest + left + right
        return max(width, table.width or 0, table.min_width or 0)

    def _cell_width(self, cell: Any) -> int:
        if isinstance(cell, Text):
            cell = cell.plain
        if isinstance(cell, str):  # markup only shortens it
            return max(map(cell_len, cell.splitlines()), default=0)
        return Measurement.get(self, self.options.update_width(UNLIMITED), cell).maximum
