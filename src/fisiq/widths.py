"""How wide a rich table prints when none of its cells wraps, read off its cells' lengths.

Rich's own measurement of a table costs a third of printing it (a long journal), and its
minimum ignores `no_wrap`. Both the console that never cuts a table (`cli.console`) and the
board's layout (`render_board`) need this width instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

UNLIMITED = 1_000_000


@contextmanager
def widened(console: Console, width: int) -> Iterator[None]:
    """The console at least `width` columns wide for the time of a print: rich never prints
    wider than its console, and would cut a table to fit."""
    narrow = console.width
    if width <= narrow:
        yield
        return
    console.width = width
    try:
        yield
    finally:
        console.width = narrow


def natural_width(console: Console, table: Table) -> int:
    """At least the columns `table` takes with every cell on one line: its widest cells, its
    padding and its rules (none without a box)."""
    return _width(console, table, wrapping=False)


def least_width(console: Console, table: Table) -> int:
    """The fewest columns `table` prints in without cutting a cell: a `no_wrap` column at its
    widest cell, any other at the longest piece of a cell that cannot wrap (a word, or what a
    renderable such as the board's `Prose` keeps on one line)."""
    return _width(console, table, wrapping=True)


def _width(console: Console, table: Table, *, wrapping: bool) -> int:
    _top, right, _bottom, left = table.padding
    columns = table.columns
    rules = len(columns) - 1 + (2 if table.show_edge else 0) if table.box else 0
    padding = (left + right) * len(columns) - (0 if table.pad_edge else left + right)
    width = rules + padding
    for column in columns:
        cell_width = _least_cell_width if wrapping and not column.no_wrap else _cell_width
        widest = max(column.width or 0, column.min_width or 0)
        for cell in (column.header, column.footer, *column.cells):
            widest = max(widest, cell_width(console, cell))
        width += widest
    return max(width, table.width or 0, table.min_width or 0)


def _cell_width(console: Console, cell: Any) -> int:
    if isinstance(cell, Text):
        cell = cell.plain
    if isinstance(cell, str):  # markup only shortens it
        return max(map(cell_len, cell.splitlines()), default=0)
    return Measurement.get(console, console.options.update_width(UNLIMITED), cell).maximum


def _least_cell_width(console: Console, cell: Any) -> int:
    if isinstance(cell, Text):
        cell = cell.plain
    if isinstance(cell, str):
        return max(map(cell_len, cell.split()), default=0)
    return Measurement.get(console, console.options.update_width(UNLIMITED), cell).minimum
