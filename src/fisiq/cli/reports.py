"""`fisiq report`: trial balance, journal, account register."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from fisiq.cli import board, statements
from fisiq.cli.common import (
    LangOption,
    fail,
    json_option,
    ledger,
    parse_date_option,
    print_json,
    resolve_lang,
    stdout_console,
    sub_app,
)

app = sub_app("Reports: trial balance, journal, account register, balance sheet, income, board.")

AsOf = Annotated[str | None, typer.Option("--as-of", help="As the books stood at the end of this date (YYYY-MM-DD; "
                                          "the same as --to).")]
From = Annotated[str | None, typer.Option("--from", help="Only what is dated on or after this date.")]
To = Annotated[str | None, typer.Option("--to", help="Only what is dated on or before this date.")]


def _range(as_of: str | None, start: str | None, end: str | None) -> tuple[date | None, date | None]:
    if as_of is not None and end is not None:
        fail("give --as-of or --to, not both")
    first = parse_date_option(start, "from")
    last = parse_date_option(as_of, "as-of") or parse_date_option(end, "to")
    if first and last and first > last:
        fail(f"--from {first} is after {last}")
    return first, last


@app.command("trial-balance")
def trial_balance(
    ctx: typer.Context,
    as_of: AsOf = None,
    start: From = None,
    end: To = None,
    lang: LangOption = None,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """Every account's balance (debits positive, credits negative); they sum to zero.

    Example: fisiq report trial-balance --as-of 2018-03-31 --json
    """
    from fisiq import db
    from fisiq import ledger as books
    from fisiq.render import period_title, render_trial_balance
    from fisiq.reports import trial_balance as compute
    from fisiq.reports import trial_balance_json

    first, last = _range(as_of, start, end)
    with ledger(ctx) as engine, db.read_transaction(engine) as conn:
        tb = compute(books.balances(conn, as_of=last, start=first))
    if as_json:
        print_json(trial_balance_json(
            tb, as_of=last.isoformat() if last else None, start=first.isoformat() if first else None
        ))
        return
    language = resolve_lang(lang)
    render_trial_balance(stdout_console(), tb, period_title("trial_balance", first, last, language), language)


@app.command("journal")
def journal(
    ctx: typer.Context,
    as_of: AsOf = None,
    start: From = None,
    end: To = None,
    lang: LangOption = None,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """Every entry in the order it was recorded, with its postings.

    Example: fisiq report journal --from 2018-04-01 --to 2019-03-31
    """
    from fisiq import db
    from fisiq import ledger as books
    from fisiq.render import period_title, render_entries
    from fisiq.reports import entry_json

    first, last = _range(as_of, start, end)
    with ledger(ctx) as engine, db.read_transaction(engine) as conn:
        entries = list(books.iter_entries(conn, start=first, end=last))
    if as_json:
        print_json({"from": first.isoformat() if first else None, "to": last.isoformat() if last else None,
                    "entries": [entry_json(e) for e in entries]})
        return
    language = resolve_lang(lang)
    render_entries(stdout_console(), entries, period_title("journal", first, last, language), language)


@app.command("account")
def account(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Account name, e.g. Assets:Cash.")],
    as_of: AsOf = None,
    start: From = None,
    end: To = None,
    lang: LangOption = None,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """One account's postings with a running balance.

    Example: fisiq report account Assets:Cash --from 2018-04-01
    """
    from fisiq import db
    from fisiq import ledger as books
    from fisiq.render import period, render_register
    from fisiq.reports import register_json

    first, last = _range(as_of, start, end)
    with ledger(ctx) as engine, db.read_transaction(engine) as conn:
        opening, lines = books.account_register(conn, name, start=first, end=last)
    if as_json:
        print_json(register_json(name, opening, lines))
        return
    language = resolve_lang(lang)
    render_register(stdout_console(), name, opening, lines, language, period(first, last, language))


# The financial statements and the board report have modules of their own but belong under
# `fisiq report`: they are registered here, so that loading `report` brings all of it.
app.command("balance-sheet")(statements.balance_sheet)
app.command("income")(statements.income)
app.command("board")(board.board)
