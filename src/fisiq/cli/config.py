"""`fisiq config`: the ledger's settings (append-only; the latest value is in force)."""

from __future__ import annotations

from typing import Annotated

import typer

from fisiq.cli.common import json_option, ledger, print_json, sub_app

app = sub_app("Settings of the ledger, such as the fiscal year end.")


@app.command("set")
def set_(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Setting name, e.g. fiscal_year_end.")],
    value: Annotated[str, typer.Argument(help="New value, e.g. 03-31.")],
) -> None:
    """Record a new value for a setting (the old one stays in the history).

    Example: fisiq config set fiscal_year_end 12-31
    """
    from fisiq import settings_db

    with ledger(ctx) as engine:
        normalized, changed = settings_db.set_setting(engine, key, value)
    if changed:
        typer.echo(f"{key} is now {normalized}.")
    else:
        typer.echo(f"{key} is already {normalized}; nothing recorded.")


@app.command("show")
def show(ctx: typer.Context, as_json: Annotated[bool, json_option()] = False) -> None:
    """Every setting with the value in force.

    Example: fisiq config show --json
    """
    from fisiq import db, settings_db

    with ledger(ctx) as engine, db.read_transaction(engine) as conn:
        values = settings_db.all_settings(conn)
    if as_json:
        print_json({"settings": {key: {"value": value, "default": not was_set}
                                 for key, (value, was_set) in values.items()}})
        return
    for key, (value, was_set) in values.items():
        typer.echo(f"{key} = {value}" + ("" if was_set else "  (default)"))
