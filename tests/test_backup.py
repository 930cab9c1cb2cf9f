"""`fisiq backup`: a consistent, verified copy, even while other administrators write."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fisiq import db, ledger
from fisiq.cli.main import app

WORKERS_SCRIPT = Path(__file__).with_name("_workers.py")
runner = CliRunner()


def head_and_hashes(target: str) -> tuple[int, dict[int, str]]:
    engine = db.open_ledger(target)
    try:
        with db.read_transaction(engine) as conn:
            rows = conn.execute(ledger.ENTRY.select().with_only_columns(ledger.ENTRY.c.id, ledger.ENTRY.c.hash))
            hashes = {r.id: r.hash for r in rows}
            return ledger.chain_head(conn)[0], hashes
    finally:
        engine.dispose()


def _count(path: Path) -> int:
    raw = sqlite3.connect(path, timeout=60)
    try:
        return int(raw.execute("SELECT COUNT(*) FROM entry").fetchone()[0])
    finally:
        raw.close()


@pytest.mark.slow
def test_backup_while_four_writers_append(tmp_path: Path, sqlite_template: Path) -> None:
    source = tmp_path / "ledger.db"
    shutil.copyfile(sqlite_template, source)
    start = tmp_path / "start"
    writers = [
        subprocess.Popen([sys.executable, str(WORKERS_SCRIPT), "cli", str(source), str(w), "150", str(start)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for w in range(4)
    ]
    deadline = time.monotonic() + 300
    while not all(Path(f"{start}.ready-{w}").exists() for w in range(4)):
        assert time.monotonic() < deadline, "the writers never got ready"
        time.sleep(0.05)
    start.touch()
    copies: list[tuple[Path, dict[str, object]]] = []
    try:
        while _count(source) < 60:  # let the writers get going
            time.sleep(0.1)
        while len(copies) < 4 and any(w.poll() is None for w in writers):
            copy = tmp_path / f"backup-{len(copies)}.db"
            result = runner.invoke(app, ["--db", str(source), "backup", str(copy), "--json"])
            assert result.exit_code == 0, result.output
            copies.append((copy, json.loads(result.output)))
            time.sleep(0.5)
    finally:
        outputs = [w.communicate(timeout=600) for w in writers]
    for (out, err), w in zip(outputs, writers, strict=True):
        assert w.returncode == 0, err[-2000:]
        assert json.loads(out.strip().splitlines()[-1])["failures"] == []
    final_head, final_hashes = head_and_hashes(str(source))
    assert final_head == 600
    assert copies, "the writers finished before any backup ran"
    taken = []
    for copy, doc in copies:
        raw = sqlite3.connect(copy)
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        raw.close()
        verified = runner.invoke(app, ["--db", str(copy), "audit", "verify"])
        assert verified.exit_code == 0, verified.output
        head, hashes = head_and_hashes(str(copy))
        assert head == doc["entries"] and hashes.get(head, "0" * 64) == doc["head"]
        # a prefix of the ledger's chain: its head is the ledger's entry of the same number
        if head:
            assert final_hashes[head] == hashes[head]
        taken.append(head)
    assert any(0 < head < 600 for head in taken), "no backup ran while the writers were appending"
    print(f"\n{len(copies)} backups taken while 4 writers appended 600 entries: heads {taken}; all verify")
    assert not list(tmp_path.glob(".*partial*")), "a partial backup file was left behind"


def test_backup_refuses_to_overwrite_without_force(target: str, ledgers: object, tmp_path: Path) -> None:
    if ledgers.engine_name != "sqlite":  # type: ignore[attr-defined]
        pytest.skip("SQLite backups; PostgreSQL is pg_dump's (below)")
    first = runner.invoke(app, ["--db", target, "entry", "add", "--date", "2018-06-01", "--memo", "x",
                                "-p", "Assets:Cash 1.00", "-p", "Equity:Paid-In-Capital -1.00"])
    assert first.exit_code == 0
    copy = tmp_path / "copy.db"
    assert runner.invoke(app, ["--db", target, "backup", str(copy)]).exit_code == 0
    assert "1 entries" in runner.invoke(app, ["--db", str(copy), "audit", "verify"]).output
    runner.invoke(app, ["--db", target, "entry", "add", "--date", "2018-06-02", "--memo", "y",
                        "-p", "Assets:Cash 2.00", "-p", "Equity:Paid-In-Capital -2.00"])
    again = runner.invoke(app, ["--db", target, "backup", str(copy)])
    assert again.exit_code == 1 and "already exists" in again.output and "--force" in again.output
    assert "1 entries" in runner.invoke(app, ["--db", str(copy), "audit", "verify"]).output
    forced = runner.invoke(app, ["--db", target, "backup", str(copy), "--force"])
    assert forced.exit_code == 0, forced.output
    assert "2 entries" in runner.invoke(app, ["--db", str(copy), "audit", "verify"]).output
    itself = runner.invoke(app, ["--db", target, "backup", target, "--force"])
    assert itself.exit_code == 1 and "ledger itself" in itself.output
    foreign = tmp_path / "notes.txt"
    foreign.write_text("not a ledger")
    refused = runner.invoke(app, ["--db", str(foreign), "backup", str(tmp_path / "b.db")])
    assert refused.exit_code == 1 and not (tmp_path / "b.db").exists()
    assert not list(tmp_path.glob(".*partial*"))


def test_backup_of_a_damaged_ledger_is_refused(target: str, ledgers: object, tmp_path: Path) -> None:
    """A backup is only put in place when it verifies: a forged ledger gives no backup file."""
    if ledgers.engine_name != "sqlite":  # type: ignore[attr-defined]
        pytest.skip("forges the SQLite file")
    runner.invoke(app, ["--db", target, "entry", "add", "--date", "2018-06-01", "--memo", "x",
                        "-p", "Assets:Cash 1.00", "-p", "Equity:Paid-In-Capital -1.00"])
    raw = sqlite3.connect(target)
    raw.execute("DROP TRIGGER entry_no_update")
    raw.execute("UPDATE entry SET memo = 'forged'")
    raw.commit()
    raw.close()
    copy = tmp_path / "copy.db"
    result = runner.invoke(app, ["--db", target, "backup", str(copy)])
    assert result.exit_code == 1 and "does not verify" in result.output
    assert not copy.exists() and not list(tmp_path.glob(".*partial*"))


def test_postgresql_backup_gives_pg_dump_guidance(ledgers: object, tmp_path: Path) -> None:
    if ledgers.engine_name != "postgresql":  # type: ignore[attr-defined]
        pytest.skip("PostgreSQL guidance")
    from sqlalchemy.engine import make_url

    target = ledgers.target()  # type: ignore[attr-defined]
    with_password = make_url(target).set(password="s3cret-pw").render_as_string(hide_password=False)
    dump = tmp_path / "ledger.dump"
    result = runner.invoke(app, ["--db", with_password, "backup", str(dump)])
    assert result.exit_code == 1
    assert "pg_dump --format=custom" in result.output and "--schema fisiq_t_" in result.output
    assert "s3cret-pw" not in result.output and not dump.exists()
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    done = runner.invoke(app, ["--db", target, "backup", "--dump", str(dump)])
    assert done.exit_code == 0, done.output
    assert dump.read_bytes()[:5] == b"PGDMP"
    listed = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True, check=True)
    assert "TABLE DATA" in listed.stdout and " entry " in listed.stdout
    refused = runner.invoke(app, ["--db", target, "backup", "--dump", str(dump)])
    assert refused.exit_code == 1 and "already exists" in refused.output


def test_postgresql_dump_refuses_a_non_ledger_and_takes_the_ledgers_schema(ledgers: object, tmp_path: Path) -> None:
    """`backup --dump` dumped a database holding no ledger and said it had; with a search_path
    whose first schema is empty, it dumped that empty schema (0 tables)."""
    if ledgers.engine_name != "postgresql":  # type: ignore[attr-defined]
        pytest.skip("pg_dump")
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    from sqlalchemy import text

    target = ledgers.target()  # type: ignore[attr-defined]
    schema = target.rsplit("search_path%3D", 1)[1]
    foreign = ledgers.target(initialised=False)  # type: ignore[attr-defined]
    engine = db.make_engine(foreign)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE customers (id int)"))
    engine.dispose()
    dump = tmp_path / "ledger.dump"
    refused = runner.invoke(app, ["--db", foreign, "backup", "--dump", str(dump)])
    assert refused.exit_code == 1 and "is not a fisiq ledger: it holds other tables" in refused.output
    assert not dump.exists()

    empty = ledgers.target(initialised=False).rsplit("search_path%3D", 1)[1]  # type: ignore[attr-defined]
    detour = target.replace(f"search_path%3D{schema}", f"search_path%3D{empty}%2C{schema}")
    guidance = runner.invoke(app, ["--db", detour, "backup", str(dump)])
    assert guidance.exit_code == 1 and f"--schema {schema} " in guidance.output, guidance.output
    done = runner.invoke(app, ["--db", detour, "backup", "--dump", str(dump)])
    assert done.exit_code == 0, done.output
    listed = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True, check=True)
    assert f"TABLE DATA {schema} entry " in listed.stdout, listed.stdout


def test_a_failed_pg_dump_says_why() -> None:
    """pg_dump's last line is the query that failed; its 'error:' line says why."""
    from fisiq.backup import pg_dump_failure

    said = ("pg_dump: error: query failed: ERROR:  permission denied for sequence account_id_seq\n"
            "pg_dump: detail: Query was: SELECT last_value, is_called FROM fisiq.account_id_seq\n")
    assert pg_dump_failure(said, 1) == "pg_dump failed: pg_dump: error: query failed: ERROR:  permission denied " \
                                       "for sequence account_id_seq"
    assert pg_dump_failure("could not connect\n", 1) == "pg_dump failed: could not connect"
    assert pg_dump_failure("", 2) == "pg_dump failed: exit 2"
