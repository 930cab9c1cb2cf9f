"""Crash safety: a writer killed with SIGKILL at random moments leaves a whole ledger.

Each write transaction is all or nothing: after every kill SQLite's integrity check passes,
the chain verifies, and the number of entries is a multiple of the batch size. The import
version kills `fisiq import` of a 10,000-row file, then re-runs it: it completes exactly once.
Run with `pytest -s` to see the figures.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fisiq import db, ledger

WORKERS_SCRIPT = Path(__file__).with_name("_workers.py")
FISIQ = str(Path(sys.executable).with_name("fisiq"))
KILLS = 20
BATCH = 200

pytestmark = pytest.mark.slow


def check_whole(path: Path) -> int:
    """Integrity check, chain verification; returns the number of entries."""
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        raw.close()
    engine = db.open_ledger(str(path))
    try:
        with db.read_transaction(engine) as conn:
            assert ledger.verify(conn) is None
            return ledger.chain_head(conn)[0]
    finally:
        engine.dispose()


def test_killed_bulk_writer_leaves_whole_batches(tmp_path: Path, sqlite_template: Path) -> None:
    path = tmp_path / "ledger.db"
    shutil.copyfile(sqlite_template, path)
    rng = random.Random(7)
    inside = 0
    counts: list[int] = []
    began = time.perf_counter()
    for _ in range(KILLS):
        proc = subprocess.Popen([sys.executable, str(WORKERS_SCRIPT), "bulk", str(path), str(BATCH)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        first = proc.stdout.readline()  # "begin 1": imports done, the first transaction starts
        assert first.startswith("begin"), proc.stderr.read() if proc.stderr else first
        time.sleep(rng.uniform(0.0, 1.0))
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=60)
        log = [line for line in (first + out).splitlines() if line]
        if log and log[-1].startswith("begin"):
            inside += 1  # killed inside a write transaction
        count = check_whole(path)
        assert count % BATCH == 0, f"{count} entries: a batch was half written"
        counts.append(count)
    elapsed = time.perf_counter() - began
    print(f"\n{KILLS} SIGKILLs of a bulk writer ({BATCH} entries per transaction) in {elapsed:.1f} s: "
          f"{inside} landed inside a write transaction; after each, integrity ok, chain verifies, "
          f"entries a multiple of {BATCH} (final {counts[-1]})")
    assert counts == sorted(counts)
    assert inside > 0


def _import_file(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("ref,date,action,commitment,party,stage,instrument,category,amount,reason,source\n")
        for i in range(rows):
            fh.write(f"c-{i},2018-03-31,add,,Fondaction,signed,equity,,{i % 997 + 1}.00,,\n")


def _run_import(ledger_path: Path, csv: Path) -> dict[str, object]:
    done = subprocess.run([FISIQ, "--db", str(ledger_path), "import", str(csv), "--json"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_killed_import_is_all_or_nothing_and_completes_once(tmp_path: Path, sqlite_template: Path) -> None:
    rows = 10_000
    pristine = tmp_path / "pristine.db"
    shutil.copyfile(sqlite_template, pristine)
    added = subprocess.run([FISIQ, "--db", str(pristine), "party", "add", "Fondaction", "--kind", "labour-fund"],
                           capture_output=True, text=True, check=False)
    assert added.returncode == 0, added.stderr
    csv = tmp_path / "campaign.csv"
    _import_file(csv, rows)
    # Calibrate: how long a whole import takes here (and it is the reference ledger).
    reference = tmp_path / "reference.db"
    shutil.copyfile(pristine, reference)
    began = time.perf_counter()
    first = _run_import(reference, csv)
    duration = time.perf_counter() - began
    assert first["recorded"] == rows
    path = tmp_path / "ledger.db"
    shutil.copyfile(pristine, path)
    rng = random.Random(11)
    outcomes = {"nothing": 0, "everything": 0}
    wal = path.with_name(path.name + "-wal")
    while_writing = 0
    for _ in range(KILLS):
        proc = subprocess.Popen([FISIQ, "--db", str(path), "import", str(csv)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.1, 0.8) * duration)
        if wal.exists() and wal.stat().st_size > 0:
            while_writing += 1  # the bulk append had begun spilling pages into the WAL
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        count = check_whole(path)
        assert count in (0, rows), f"{count} entries after a kill: the import was half written"
        outcomes["nothing" if count == 0 else "everything"] += 1
        if count == rows:  # it finished before the kill: start the next round from scratch
            shutil.copyfile(pristine, path)
    before = check_whole(path)
    final = _run_import(path, csv)
    again = _run_import(path, csv)
    count = check_whole(path)
    print(f"\n{KILLS} SIGKILLs of `fisiq import` ({rows} rows, {duration:.1f} s each): "
          f"{outcomes['nothing']} left nothing ({while_writing} killed while writing pages), "
          f"{outcomes['everything']} had finished; "
          f"re-run recorded {final['recorded']}, a second re-run {again['recorded']}; {count} entries")
    assert count == rows and again["recorded"] == 0
    assert final["recorded"] == rows - before
    assert check_whole(reference) == rows
