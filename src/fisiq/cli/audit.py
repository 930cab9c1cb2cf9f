"""`fisiq audit`: prove the books were not altered."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fisiq.cli.common import json_option, ledger, print_json, sub_app

app = sub_app("Audit: verify the hash chain and the invariants of the books.")


@app.command("verify")
def verify(
    ctx: typer.Context,
    checkpoint: Annotated[
        Path | None,
        typer.Option("--checkpoint", help="An export file: also prove the ledger still extends its checkpoint."),
    ] = None,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """Check every entry's hash and link, that each balances, that the books sum to zero, and
    that every loan's and commitment's figures (from its events) equal its entries' balances.

    With --checkpoint FILE, also check that the ledger still holds the entries that the export
    FILE ended with (so a removed tail or a recomputed chain is caught).
    Exit 0 when all holds; exit 1 naming the first entry (or loan, or commitment) that fails.
    Example: fisiq audit verify --checkpoint fisiq-2019.jsonl
    """
    from fisiq import db
    from fisiq import ledger as books
    from fisiq.checkpoint import extends_checkpoint, first_rewritten, registers_since
    from fisiq.commitments_db import disagreement as commitment_disagreement
    from fisiq.entries import ChainProblem
    from fisiq.export import read_checkpoint, recorded_hashes
    from fisiq.loans_db import disagreement

    mark = read_checkpoint(str(checkpoint)) if checkpoint is not None else None
    # (where, entry, loan, commitment, message) of the first problem: the chain and entries
    # first, then loans, then commitments.
    failure: tuple[str, int | None, int | None, int | None, str] | None = None
    with ledger(ctx) as engine, db.read_transaction(engine) as conn:
        problem = books.verify(conn)
        head_id, head_hash = books.chain_head(conn)
        if problem is None and mark is not None:
            broken = extends_checkpoint(conn, mark.entries, mark.head)
            if broken is not None and head_id < mark.entries:  # entries were removed
                problem = ChainProblem(head_id + 1, broken)
            elif broken is not None:
                # Rewritten: the file holds every entry's hash, so name where the rewriting starts.
                rewritten = first_rewritten(conn, recorded_hashes(str(checkpoint)))
                problem = ChainProblem(*rewritten) if rewritten else ChainProblem(mark.entries, broken)
        if problem is not None:
            # Entry 0 is no entry: an account no posting uses has a stored type its name contradicts.
            where = f"entry {problem.entry_id}" if problem.entry_id else "the chart of accounts"
            failure = (where, problem.entry_id or None, None, None, problem.message)
        elif mark is not None and mark.registers is not None and (
                changed := registers_since(conn, mark.registers)) is not None:
            failure = ("the registers", None, None, None, changed)
        elif (loan_problem := disagreement(conn)) is not None:
            failure = (f"loan {loan_problem[0]}", None, loan_problem[0], None, loan_problem[1])
        elif (pledge_problem := commitment_disagreement(conn)) is not None:
            failure = (f"commitment {pledge_problem[0]}", None, None, pledge_problem[0], pledge_problem[1])
    if as_json:
        print_json({
            "ok": failure is None,
            "entries": head_id,
            "head": head_hash,
            "problem": None if failure is None else {
                "entry": failure[1], "loan": failure[2], "commitment": failure[3], "message": failure[4]},
            "checkpoint": None if mark is None else {"entries": mark.entries, "head": mark.head},
        })
    if failure is not None:
        if not as_json:
            typer.echo(f"FAILED at {failure[0]}: {failure[4]}", err=True)
        raise typer.Exit(1)
    if not as_json:
        typer.echo(f"OK: {head_id} entries, chain head {head_hash}; every entry balances, the books sum to zero, "
                   "every loan and commitment agrees with its entries.")
        if mark is not None:
            registers = "" if mark.registers is None else ", and still holds the register rows it counted"
            typer.echo(f"The ledger extends the checkpoint of {checkpoint} ({mark.entries} entries, head {mark.head})"
                       f"{registers}.")
