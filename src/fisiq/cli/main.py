"""The `fisiq` command: the root options and the command groups."""

from __future__ import annotations

from typing import Annotated

import typer

from fisiq import __version__
from fisiq.cli import (
    accounts,
    audit,
    board,
    commitments,
    config,
    entries,
    export,
    imports,
    loans,
    parties,
    period,
    reports,
    statements,
)
from fisiq.cli.common import FisiqGroup, State, fail, target_from

app = typer.Typer(
    cls=FisiqGroup,
    help="fisiq: the double-entry ledger of the FISIQ solidarity investment fund.\n\n"
    "Example: fisiq init && fisiq report trial-balance",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fisiq {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="FISIQ_DB",
            help="Ledger: a file path (SQLite) or a URL such as postgresql+psycopg://user@host/db. "
            "Default: ledger/fisiq.db.",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """fisiq: the double-entry ledger of the FISIQ solidarity investment fund."""
    ctx.obj = State(db)


@app.command("init")
def init(ctx: typer.Context) -> None:
    """Create the ledger and its standard chart of accounts (running it again changes nothing).

    Example: fisiq --db ledger/fisiq.db init
    """
    from fisiq import db, ledger

    target = target_from(ctx)
    engine, created = db.create_ledger(target)
    try:
        with db.write_transaction(engine) as conn:
            added = ledger.ensure_standard_chart(conn)
    finally:
        engine.dispose()
    where = db.display_target(target)
    if created:
        typer.echo(f"Created the ledger at {where} with the standard chart ({added} accounts).")
    elif added:
        typer.echo(f"Ledger at {where} already existed; added {added} missing standard accounts.")
    else:
        typer.echo(f"Ledger at {where} is already initialised; nothing changed.")


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Bring an existing ledger's schema up to this version of fisiq (back it up first).

    Example: fisiq upgrade
    """
    from fisiq import db

    before, after = db.upgrade_ledger(target_from(ctx))
    if before == after:
        typer.echo(f"Ledger schema is already {after}; nothing to do.")
    else:
        typer.echo(f"Upgraded the ledger schema from {before} to {after}.")


app.add_typer(accounts.app, name="account")
app.add_typer(entries.app, name="entry")
app.add_typer(reports.app, name="report")
app.add_typer(audit.app, name="audit")
app.add_typer(period.app, name="period")
app.add_typer(config.app, name="config")
app.command("export")(export.export)
app.command("restore")(export.restore)
reports.app.command("balance-sheet")(statements.balance_sheet)
reports.app.command("income")(statements.income)
reports.app.command("board")(board.board)
app.add_typer(parties.app, name="party")
app.add_typer(commitments.app, name="commitment")
app.add_typer(commitments.targets_app, name="target")
app.command("progress")(commitments.progress)
app.command("import")(imports.import_file)

app.add_typer(loans.app, name="loan")
app.command("portfolio")(loans.portfolio)

from fisiq.cli import backup as backup_cli  # noqa: E402

app.command("backup")(backup_cli.backup)


def main() -> None:
    app(prog_name="fisiq")


__all__ = ["app", "fail", "main"]
