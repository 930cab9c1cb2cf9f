"""Tables are printed whole: never a figure cut at the console's edge or shortened with "…"."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from rich.table import Table

from fisiq.cli.console import WholeTablesConsole
from fisiq.money import format_money

Run = Callable[..., Any]


def _table() -> Table:
    table = Table(title="Commitments")
    table.add_column("Party")
    table.add_column("Signed", justify="right", no_wrap=True)
    table.add_column("Since", no_wrap=True)
    table.add_row("Société de développement Angus", "100,000.20 $", "2026-02-03")
    return table


def test_a_table_wider_than_the_console_is_printed_at_its_own_width() -> None:
    console = WholeTablesConsole(width=30, file=io.StringIO(), highlight=False)
    console.print(_table())
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "Société de développement Angus" in out and "100,000.20 $" in out and "2026-02-03" in out
    assert "…" not in out
    assert console.width == 30  # only that table was widened


def test_a_table_that_fits_keeps_the_console_width() -> None:
    console = WholeTablesConsole(width=100, file=io.StringIO(), highlight=False)
    console.print(_table())
    assert max(map(len, console.file.getvalue().splitlines())) < 100  # type: ignore[attr-defined]


def test_commitment_list_shows_every_figure_whole_in_a_narrow_terminal(fisiq: Run) -> None:
    assert fisiq("party", "add", "Société de développement économique communautaire Angus",
                 "--kind", "member").exit_code == 0
    assert fisiq("commitment", "add", "Société de développement économique communautaire Angus",
                 "1234567.89", "--stage", "signed", "--date", "2026-02-03").exit_code == 0
    listed = json.loads(fisiq("commitment", "list", "--json").stdout)["commitments"]
    for columns in ("60", "100", "120"):
        out = fisiq("commitment", "list", env={"COLUMNS": columns}).stdout
        assert "…" not in out
        for row in listed:
            for key in ("pledged", "signed", "paid", "unpaid"):
                assert format_money(Decimal(row[key]), "CAD", "en") in out, (columns, key, out)
            assert row["since"] in out
