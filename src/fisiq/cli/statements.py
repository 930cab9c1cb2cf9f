"""`fisiq report balance-sheet` and `fisiq report income`: the financial statements.

Two fiscal years side by side (the year asked for and the one before), French or English,
as the association presents its own statements. Figures come from `fisiq.statements`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from fisiq.cli.common import (
    LangOption,
    fail,
    json_option,
    ledger,
    print_json,
    resolve_lang,
    stdout_console,
    today,
)

if TYPE_CHECKING:
    from rich.console import Console

    from fisiq.statements import Statement, YearEnd

Year = Annotated[
    int | None,
    typer.Option("--year", help="The fiscal year, named by the calendar year it ends in "
                 "(default: the fiscal year that contains today)."),
]
YearEndOpt = Annotated[
    str | None,
    typer.Option("--year-end", help="Last day of the fiscal year, MM-DD (default: the setting "
                 "fiscal_year_end, else 03-31)."),
]


def _load(ctx: typer.Context, kind: str, year: int | None, year_end: str | None) -> Statement:
    from fisiq import db, settings_db
    from fisiq import ledger as books
    from fisiq import statements as st

    if year is not None and not 1901 <= year <= 9999:
        fail(f"--year {year} is not a year between 1901 and 9999")
    with ledger(ctx) as engine, db.read_transaction(engine) as conn:
        end: YearEnd = st.parse_year_end(year_end or settings_db.get_setting(conn, settings_db.FISCAL_YEAR_END))
        current = st.fiscal_year(end, year) if year is not None else st.fiscal_year_of(end, today())
        previous = st.fiscal_year(end, current.end.year - 1)
        figures = books.year_figures(conn, current), books.year_figures(conn, previous)
    if kind == st.BALANCE_SHEET:
        return st.balance_sheet(*figures, end)
    return st.income_statement(*figures, end)


def render_statement(console: Console, statement: Statement, lang: str) -> None:
    """Two columns per statement, a statement per currency; deductions indented under their account."""
    from rich.table import Table
    from rich.text import Text

    from fisiq import statements as st

    for cs in statement.currencies:
        caption = None if cs.currency == "CAD" else st.currency_note(cs.currency, lang)
        table = Table(title=st.title(statement, lang), caption=caption, show_edge=False)
        table.add_column("")
        table.add_column(statement.current.label, justify="right", no_wrap=True)
        table.add_column(statement.previous.label, justify="right", no_wrap=True)

        def money(value: object, cur: str = cs.currency) -> Text:
            from decimal import Decimal

            assert isinstance(value, Decimal)
            return Text(st.amount_text(value, cur, lang), style="red" if value < 0 else "")

        for section in cs.sections:
            table.add_row(Text(st.label(section.key, lang), style="bold"), "", "")
            for line in section.lines:
                indent = "    " if line.kind in ("deduction", "net") else "  "
                style = "italic" if line.kind == "net" else ""
                table.add_row(Text(indent + st.label(line.key, lang), style=style),
                              money(line.current), money(line.previous))
            table.add_row(Text(st.label(f"total:{section.key}", lang), style="bold"),
                          money(section.current), money(section.previous), end_section=True)
        last = "liabilities_and_equity" if statement.kind == st.BALANCE_SHEET else "surplus"
        current, previous = cs.totals[last]
        table.add_row(Text(st.label(f"total:{last}", lang), style="bold"), money(current), money(previous))
        console.print(table)
        if not cs.balanced:
            console.print(Text("NOT BALANCED" if lang == "en" else "NON ÉQUILIBRÉ", style="bold red"))


def balance_sheet(
    ctx: typer.Context,
    year: Year = None,
    year_end: YearEndOpt = None,
    lang: LangOption = None,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """Statement of financial position at the end of a fiscal year and of the year before.

    Contra accounts are shown as deductions; net assets include the surplus of the year.
    Example: fisiq report balance-sheet --year 2019 --lang fr
    """
    from fisiq.statements import BALANCE_SHEET, statement_json

    words = resolve_lang(lang)
    statement = _load(ctx, BALANCE_SHEET, year, year_end)
    if as_json:
        print_json(statement_json(statement))
        return
    render_statement(stdout_console(), statement, words)


def income(
    ctx: typer.Context,
    year: Year = None,
    year_end: YearEndOpt = None,
    lang: LangOption = None,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """Statement of operations (revenue, expenses, surplus) of a fiscal year and the year before.

    Example: fisiq report income --year 2019 --lang en --json
    """
    from fisiq.statements import INCOME, statement_json

    words = resolve_lang(lang)
    statement = _load(ctx, INCOME, year, year_end)
    if as_json:
        print_json(statement_json(statement))
        return
    render_statement(stdout_console(), statement, words)
