"""Worker processes for the load, backup and crash tests (run as `python tests/_workers.py ...`).

Each worker is a separate operating-system process, as a second administrator would be, and
writes through fisiq's own code: the Typer app (`cli`), or `ledger.append_entries` in one
write transaction per batch (`bulk`). A worker waits for a start file so that all of them
begin together, then prints one JSON line of figures on stdout.

    python tests/_workers.py cli TARGET WORKER_ID COUNT START_FILE [--shared-refs]
    python tests/_workers.py bulk TARGET BATCH_SIZE
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path


def _wait_for(start_file: str) -> None:
    deadline = time.monotonic() + 120
    while not os.path.exists(start_file):
        if time.monotonic() > deadline:
            raise SystemExit("start file never appeared")
        time.sleep(0.005)


def cli_worker(target: str, worker: int, count: int, start_file: str, shared_refs: bool) -> None:
    """Record `count` entries through `fisiq entry add`, exactly as a user's command runs.

    The click command is built from the Typer app once, as the `fisiq` executable does once
    per process (typer's CliRunner would rebuild the root and `entry` on every call).
    """
    import typer
    from click.testing import CliRunner

    from fisiq.cli.main import app

    command = typer.main.get_command(app)
    runner = CliRunner()
    failures: list[str] = []
    created = noops = 0
    Path(f"{start_file}.ready-{worker}").touch()
    _wait_for(start_file)
    began = time.perf_counter()
    for i in range(count):
        if shared_refs:
            # Every worker sends the same references with the same content.
            ref, amount, memo = f"shared-{i}", f"{i + 1}.00", f"shared payment {i}"
        else:
            ref, amount, memo = f"w{worker}-{i}", f"{worker}.{i % 100:02d}", f"worker {worker} entry {i}"
            if amount == "0.00":
                amount = "0.01"
        result = runner.invoke(
            command,
            [
                "--db", target, "entry", "add", "--date", "2018-06-01", "--memo", memo,
                "-p", f"Assets:Cash {amount}", "-p", f"Equity:Paid-In-Capital -{amount}", "--ref", ref,
            ],
        )
        if result.exit_code != 0:
            failures.append(f"{ref}: exit {result.exit_code}: {result.output.strip()[:300]} {result.exception!r}")
        elif "Recorded entry" in result.output:
            created += 1
        elif "already entry" in result.output:
            noops += 1
        else:
            failures.append(f"{ref}: unexpected output {result.output!r}")
    elapsed = time.perf_counter() - began
    print(json.dumps({"worker": worker, "created": created, "noops": noops, "failures": failures,
                      "elapsed": elapsed}))


def bulk_worker(target: str, batch: int) -> None:
    """Append batches of `batch` entries, one write transaction each, until killed.

    Prints `begin N` before a transaction and `commit N` after it, flushed, so the parent
    knows whether its kill landed inside a transaction.
    """
    from fisiq import db, ledger
    from fisiq.entries import EntryDraft, Posting

    engine = db.open_ledger(target)
    n = 0
    while True:
        n += 1
        drafts = [
            EntryDraft(date(2018, 6, 1), f"batch {n} entry {i}",
                       (Posting("Assets:Cash", Decimal("1.00") + i), Posting("Equity:Paid-In-Capital", -Decimal("1.00") - i)))
            for i in range(batch)
        ]
        print(f"begin {n}", flush=True)
        with db.write_transaction(engine) as conn:
            ledger.append_entries(conn, drafts)
        print(f"commit {n}", flush=True)


def main(argv: list[str]) -> None:
    kind = argv[0]
    if kind == "cli":
        cli_worker(argv[1], int(argv[2]), int(argv[3]), argv[4], "--shared-refs" in argv[5:])
    elif kind == "bulk":
        bulk_worker(argv[1], int(argv[2]))
    else:
        raise SystemExit(f"unknown worker {kind}")


if __name__ == "__main__":
    main(sys.argv[1:])
