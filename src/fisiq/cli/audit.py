"""`fisiq audit`: prove the books were not altered."""

from __future__ import annotations

from typing import Annotated

import typer

from fisiq.cli.common import json_option, ledger, print_json, sub_app

app = sub_app("Audit: verify the hash chain and the invariants of the books.")


@app.command("verify")
def verify(ctx: typer.Context, as_json: Annotated[bool, json_option()] = False) -> None:
    """Check every entry's hash and link, that each balances, and that the books sum to zero.

    Exit 0 when all holds; exit 1 naming the first entry that fails.
    Example: fisiq audit verify
    """
    from fisiq import db
    from fisiq import ledger as books

    with ledger(ctx) as engine, db.read_transaction(engine) as conn:
        problem = books.verify(conn)
        head_id, head_hash = books.chain_head(conn)
    if as_json:
        print_json({
            "ok": problem is None,
            "entries": head_id,
            "head": head_hash,
            "problem": None if problem is None else {"entry": problem.entry_id, "message": problem.message},
        })
    if problem is not None:
        if not as_json:
            typer.echo(f"FAILED at entry {problem.entry_id}: {problem.message}", err=True)
        raise typer.Exit(1)
    if not as_json:
        typer.echo(f"OK: {head_id} entries, chain head {head_hash}; every entry balances, the books sum to zero.")
