"""`fisiq backup FILE`: a consistent, verified copy of the ledger, even while others write."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fisiq.cli.common import fail, json_option, print_json, target_from


def backup(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Where to write the backup (refused if it exists, unless --force).")],
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
    dump: Annotated[
        bool, typer.Option("--dump", help="PostgreSQL: run pg_dump (from PATH) instead of printing its command.")
    ] = False,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """Back up the ledger to FILE.

    SQLite: a page-by-page copy from one snapshot (writers are not blocked), checked and
    verified before it is put in place; the copy is itself a ledger (`fisiq --db FILE ...`).
    PostgreSQL: prints the pg_dump command for the ledger and exits 1; with --dump, runs it.
    Example: fisiq backup backups/fisiq-2019-03-31.db
    """
    from fisiq import backup as store
    from fisiq.db import display_target, is_sqlite

    target = target_from(ctx)
    if is_sqlite(target):
        result = store.backup_sqlite(target, file, force=force)
        if as_json:
            print_json({"file": str(result.path), "entries": result.entries, "head": result.head_hash,
                        "pages": result.pages, "seconds": round(result.seconds, 3)})
        else:
            typer.echo(
                f"Backed up {display_target(target)} to {result.path}: {result.entries} entries, "
                f"chain head {result.head_hash}; the copy verifies."
            )
        return
    from fisiq import db

    # A dump of a database that holds no ledger would succeed, and be useless.
    engine = db.open_ledger(target)
    try:
        with db.read_transaction(engine) as conn:
            schema = db.ledger_schema(conn)
    finally:
        engine.dispose()
    if not dump:
        fail(store.pg_dump_guidance(target, file, schema))
    path = store.run_pg_dump(target, file, schema=schema, force=force)
    if as_json:
        print_json({"file": str(path), "format": "pg_dump custom"})
    else:
        typer.echo(f"Dumped {display_target(target)} to {path} with pg_dump (restore with pg_restore).")
