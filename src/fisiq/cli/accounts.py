"""`fisiq account`: the chart of accounts."""

from __future__ import annotations

from typing import Annotated

import typer

from fisiq.cli.common import json_option, ledger, print_json, stdout_console, sub_app

app = sub_app("The chart of accounts: list accounts, open a new one.")


@app.command("list")
def list_accounts(ctx: typer.Context, as_json: Annotated[bool, json_option()] = False) -> None:
    """List every account with its type.

    Example: fisiq account list --json
    """
    from rich.table import Table
    from rich.text import Text

    from fisiq import db
    from fisiq import ledger as books

    with ledger(ctx) as engine, db.read_transaction(engine) as conn:
        rows = books.list_accounts(conn)
    if as_json:
        print_json({"accounts": [{"name": a.name, "type": a.type.value, "description": a.description} for a in rows]})
        return
    table = Table(title="Chart of accounts")
    table.add_column("Account")
    table.add_column("Type")
    table.add_column("Used for")
    for a in rows:
        table.add_row(Text(a.name), a.type.value, Text(a.description))
    stdout_console().print(table)


@app.command("add")
def add_account(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Full name, e.g. Expenses:Audit-Fees.")],
    account_type: Annotated[
        str, typer.Option("--type", help="asset|liability|equity|income|expense (must match the name's root).")
    ],
    description: Annotated[str, typer.Option("--description", help="What the account is used for.")] = "",
) -> None:
    """Open a new account.

    Example: fisiq account add Expenses:Audit-Fees --type expense --description "external audit"
    """
    from fisiq import accounts as chart
    from fisiq import ledger as books
    from fisiq.names import clean_text

    kind = chart.parse_type(account_type)
    text = clean_text(description, what="description", max_length=200, allow_empty=True)
    with ledger(ctx) as engine:
        books.add_account(engine, name, kind, text)
    typer.echo(f"Opened account {name} ({kind.value}).")
