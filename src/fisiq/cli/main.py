"""The `fisiq` command: the root options, `init`, `upgrade`, and where every other command lives."""

from __future__ import annotations

from typing import Annotated

import typer

from fisiq import __version__
from fisiq.cli import catalog
from fisiq.cli.common import FisiqGroup, LazyCommand, State, fail, target_from

# Built lazily (fisiq.cli.common.LazyCommand): `fisiq loan ...` imports the loan module only.
COMMANDS = {name: LazyCommand(*spec) for name, spec in catalog.COMMANDS.items()}


class RootGroup(FisiqGroup):
    """`fisiq` itself: FisiqGroup's one-line errors, and COMMANDS after `init` and `upgrade`."""

    lazy_commands = COMMANDS


app = typer.Typer(
    cls=RootGroup,
    help=catalog.ROOT_HELP,
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
        typer.Option("--db", envvar=catalog.DB_ENVVAR, help=catalog.DB_HELP),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help=catalog.VERSION_HELP)
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


def main() -> None:
    app(prog_name="fisiq")


__all__ = ["app", "fail", "main"]
