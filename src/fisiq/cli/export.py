"""`fisiq export` (files for auditors and their tools) and `fisiq restore` (from a jsonl export)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from fisiq.cli.common import check_destination, fail, ledger, parse_date_option


def export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv, jsonl, beancount or ledger (ledger-cli and hledger).")],
    output: Annotated[str, typer.Option("--output", "-o", help="File to write (replaced whole); - for standard output.")],
    start: Annotated[str | None, typer.Option("--from", help="Only entries dated on or after this date.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Only entries dated on or before this date.")] = None,
) -> None:
    """Write every posting, with its entry's id, date, memo, reference and hash, for auditors.

    The file ends with a checkpoint (entries in the ledger, chain head hash) that
    `fisiq audit verify --checkpoint FILE` checks later.
    Example: fisiq export --format beancount -o fisiq.beancount
    """
    from fisiq import db
    from fisiq.export import FORMATS, export_ledger
    from fisiq.files import whole_file

    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    first = parse_date_option(start, "from")
    last = parse_date_option(end, "to")
    if first and last and first > last:
        fail(f"--from {first} is after --to {last}")
    if output != "-":
        check_destination(Path(output), "--output", f"fisiq.{fmt}")
    newline = "" if fmt == "csv" else "\n"
    with ledger(ctx) as engine, db.read_transaction(engine) as conn:
        if output == "-":
            stream = open(sys.stdout.fileno(), "w", encoding="utf-8", newline=newline, closefd=False)  # noqa: SIM115
            with stream:
                stats = export_ledger(conn, stream, fmt, start=first, end=last)
            return
        with whole_file(Path(output), newline=newline) as fh:
            stats = export_ledger(conn, fh, fmt, start=first, end=last)
    typer.echo(
        f"Exported {stats.entries} entries ({stats.postings} postings) to {output}; "
        f"checkpoint: {stats.checkpoint.entries} entries, head {stats.checkpoint.head}."
    )


def restore(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A jsonl export of a whole ledger (fisiq export --format jsonl).")],
) -> None:
    """Rebuild a new ledger from a jsonl export: its entries, loans, commitments, targets, settings.

    Entries keep their ids, hashes, authors and times; loans and commitments their ids.
    Every hash is checked before anything is written, and every loan and commitment against
    its entries before the restore commits; all or nothing.
    Example: fisiq --db restored.db init && fisiq --db restored.db restore fisiq.jsonl
    """
    from fisiq.journal_import import restore_journal

    with ledger(ctx) as engine, file.open(encoding="utf-8") as fh:
        done = restore_journal(engine, fh, source=str(file))
    registers = ", ".join(f"{n} {word if n == 1 else word + 's'}" for n, word in (
        (done.loans, "loan"), (done.commitments, "commitment"), (done.targets, "target"), (done.settings, "setting")))
    typer.echo(
        f"Restored {done.entries} entries (chain head {done.head}), "
        f"{done.accounts_added} accounts and {done.parties_added} parties added; "
        f"registers: {registers}."
    )
