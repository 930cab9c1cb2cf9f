"""The `fisiq` command: the root options, `init`, `upgrade`, and where every other command lives."""

from __future__ import annotations

from typing import Annotated

import typer

from fisiq import __version__
from fisiq.cli.common import FisiqGroup, LazyCommand, State, fail, target_from

# Every command but `init` and `upgrade` (defined below), in the order `fisiq --help` lists
# them: (module, its Typer group or command function, short help). Only the command that runs
# is imported and built, so `fisiq --help` imports none of these modules and costs about what
# importing typer does. `help` repeats each command's first sentence (a test checks they agree).
COMMANDS = {
    "export": LazyCommand(
        "fisiq.cli.export", "export",
        "Write every posting, with its entry's id, date, memo, reference and hash, for auditors.",
    ),
    "restore": LazyCommand(
        "fisiq.cli.export", "restore",
        "Rebuild a new ledger from a jsonl export: its entries, loans, commitments, targets, settings.",
    ),
    "progress": LazyCommand(
        "fisiq.cli.commitments", "progress",
        "The capital campaign per investor category: target, paid, signed, in principle, prospect.",
    ),
    "import": LazyCommand(
        "fisiq.cli.imports", "import_file",
        "Record commitments, stage changes, payments and targets from a CSV file: all rows or none.",
    ),
    "portfolio": LazyCommand(
        "fisiq.cli.loans", "portfolio",
        "The loan portfolio: outstanding, by region, country and sector; impact; PAR30/PAR90.",
    ),
    "backup": LazyCommand("fisiq.cli.backup", "backup", "Back up the ledger to FILE."),
    "account": LazyCommand("fisiq.cli.accounts", "app", "The chart of accounts: list accounts, open a new one."),
    "entry": LazyCommand("fisiq.cli.entries", "app", "Journal entries: record one, reverse one, show one."),
    "report": LazyCommand("fisiq.cli.reports", "app", "Reports: trial balance, journal, one account's register."),
    "audit": LazyCommand("fisiq.cli.audit", "app", "Audit: verify the hash chain and the invariants of the books."),
    "period": LazyCommand("fisiq.cli.period", "app", "Accounting periods: close the books through a date."),
    "config": LazyCommand("fisiq.cli.config", "app", "Settings of the ledger, such as the fiscal year end."),
    "party": LazyCommand(
        "fisiq.cli.parties", "app",
        "Parties: investors (member, labour-fund, government, foundation, investor) and borrowers.",
    ),
    "commitment": LazyCommand(
        "fisiq.cli.commitments", "app",
        "Commitments of capital: prospect -> in principle -> signed -> paid, or cancelled.",
    ),
    "target": LazyCommand(
        "fisiq.cli.commitments", "targets_app",
        "Campaign targets per investor category (member, labour-fund, government, other, total).",
    ),
    "loan": LazyCommand(
        "fisiq.cli.loans", "app",
        "Loans to borrowers: approve or cancel, disburse, accrue interest, repay, reschedule, provision, write off.",
    ),
}


class RootGroup(FisiqGroup):
    """`fisiq` itself: FisiqGroup's one-line errors, and COMMANDS after `init` and `upgrade`."""

    lazy_commands = COMMANDS


app = typer.Typer(
    cls=RootGroup,
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


def main() -> None:
    app(prog_name="fisiq")


__all__ = ["app", "fail", "main"]
