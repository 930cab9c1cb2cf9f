"""Several administrators writing at once, through the CLI's own code, on SQLite and PostgreSQL.

Eight worker processes each run `fisiq entry add` (the Typer app, in-process) hundreds of
times against one ledger. Nothing may be lost, duplicated or refused as busy; the chain must
stay one line and verify; the books must sum to zero. Run with `pytest -s` to see the figures.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fisiq import db, ledger

WORKERS_SCRIPT = Path(__file__).with_name("_workers.py")


def run_workers(target: str, tmp: Path, workers: int, count: int, *extra: str) -> tuple[list[dict[str, object]], float]:
    """Start `workers` processes, release them together, and return their figures and wall time."""
    start = tmp / f"start-{time.monotonic_ns()}"
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKERS_SCRIPT), "cli", target, str(w), str(count), str(start), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(workers)
    ]
    # Start the clock once every process has imported fisiq and is waiting.
    deadline = time.monotonic() + 300
    while not all(Path(f"{start}.ready-{w}").exists() for w in range(workers)):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs), "a worker never got ready"
        time.sleep(0.05)
    began = time.perf_counter()
    start.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results, time.perf_counter() - began


def ledger_figures(target: str) -> dict[str, object]:
    engine = db.open_ledger(target)
    try:
        with db.read_transaction(engine) as conn:
            E = ledger.ENTRY
            return {
                "entries": conn.execute(select(func.count()).select_from(E)).scalar(),
                "distinct_refs": conn.execute(select(func.count(E.c.ref.distinct()))).scalar(),
                "distinct_prev": conn.execute(select(func.count(E.c.prev_hash.distinct()))).scalar(),
                "max_id": conn.execute(select(func.max(E.c.id))).scalar(),
                "problem": ledger.verify(conn),
                "totals": {b.currency: b for b in ledger.balances(conn)},
                "sum": conn.execute(select(func.coalesce(func.sum(ledger.POSTING.c.amount), 0))).scalar(),
            }
    finally:
        engine.dispose()


@pytest.mark.slow
def test_eight_writers_lose_nothing(ledgers: object, tmp_path: Path) -> None:
    workers, count = 8, 500
    target = ledgers.target()  # type: ignore[attr-defined]
    results, elapsed = run_workers(target, tmp_path, workers, count)
    failures = [f for r in results for f in r["failures"]]  # type: ignore[attr-defined]
    created = sum(int(r["created"]) for r in results)  # type: ignore[call-overload]
    figures = ledger_figures(target)
    total = workers * count
    print(
        f"\n[{ledgers.engine_name}] {workers} writers x {count} `fisiq entry add`: "  # type: ignore[attr-defined]
        f"{figures['entries']} entries in {elapsed:.1f} s = {total / elapsed:.0f} entries/s; "
        f"{len(failures)} failures, lost {total - int(figures['entries'])}, "  # type: ignore[call-overload]
        f"duplicated {int(figures['entries']) - int(figures['distinct_refs'])}"  # type: ignore[call-overload]
    )
    assert failures == []  # no "database is locked", no busy error surfaced: every exit 0
    assert created == total
    assert figures["entries"] == total  # 0 lost
    assert figures["distinct_refs"] == total  # 0 duplicated
    assert figures["max_id"] == total and figures["distinct_prev"] == total  # one unforked line
    assert figures["problem"] is None
    assert figures["sum"] == 0


def test_same_reference_from_many_writers_is_recorded_once(ledgers: object, tmp_path: Path) -> None:
    workers, refs = 8, 20
    target = ledgers.target()  # type: ignore[attr-defined]
    results, elapsed = run_workers(target, tmp_path, workers, refs, "--shared-refs")
    failures = [f for r in results for f in r["failures"]]  # type: ignore[attr-defined]
    created = sum(int(r["created"]) for r in results)  # type: ignore[call-overload]
    noops = sum(int(r["noops"]) for r in results)  # type: ignore[call-overload]
    figures = ledger_figures(target)
    print(
        f"\n[{ledgers.engine_name}] {workers} writers x the same {refs} references: "  # type: ignore[attr-defined]
        f"{created} recorded, {noops} no-ops, {len(failures)} failures in {elapsed:.1f} s"
    )
    assert failures == []
    assert created == refs and noops == (workers - 1) * refs
    assert figures["entries"] == refs and figures["distinct_refs"] == refs
    assert figures["problem"] is None and figures["sum"] == 0
