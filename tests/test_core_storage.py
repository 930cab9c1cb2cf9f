"""The journal in storage, on SQLite and PostgreSQL: chain, refusals, append-only, reversals."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from fisiq import db, ledger
from fisiq.entries import EntryDraft, EntryError, Posting
from fisiq.errors import LedgerError

D = Decimal


def draft(amount: str = "100.00", *, on: date = date(2018, 6, 1), ref: str | None = None, memo: str = "x") -> EntryDraft:
    return EntryDraft(on, memo, (Posting("Assets:Cash", D(amount)), Posting("Equity:Paid-In-Capital", -D(amount))), ref=ref)


def head(engine: Engine) -> tuple[int, str]:
    with db.read_transaction(engine) as conn:
        return ledger.chain_head(conn)


def test_entries_chain_and_verify(engine: Engine) -> None:
    first = ledger.record_entry(engine, draft("10")).entry
    second = ledger.record_entry(engine, draft("20")).entry
    assert (first.id, second.id) == (1, 2)
    assert second.prev_hash == first.hash
    with db.read_transaction(engine) as conn:
        assert ledger.verify(conn) is None
        totals = {b.account: b.amount for b in ledger.balances(conn)}
    assert totals == {"Assets:Cash": D("30.00"), "Equity:Paid-In-Capital": D("-30.00")}


@pytest.mark.parametrize(
    ("postings", "fragment"),
    [
        ((Posting("Assets:Cash", D("1")),), "at least two"),
        ((Posting("Assets:Cash", D("1")), Posting("Equity:Paid-In-Capital", D("-2"))), "does not balance"),
        ((Posting("Assets:Cash", D("0")), Posting("Equity:Paid-In-Capital", D("0"))), "zero"),
        ((Posting("Assets:Nope", D("1")), Posting("Equity:Paid-In-Capital", D("-1"))), "unknown account"),
        ((Posting("Assets:Cash", D("1"), "USD"), Posting("Equity:Paid-In-Capital", D("-1"))), "does not balance"),
        ((Posting("Assets:Cash", D("1.001")), Posting("Equity:Paid-In-Capital", D("-1.001"))), "decimals"),
    ],
)
def test_refused_entries_write_nothing(engine: Engine, postings: tuple[Posting, ...], fragment: str) -> None:
    before = head(engine)
    with pytest.raises(EntryError, match=fragment):
        ledger.record_entry(engine, EntryDraft(date(2018, 6, 1), "bad", postings))
    assert head(engine) == before


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [("memo", "m" * 501, "memo is longer than 500"), ("ref", "r" * 201, "reference must be 1 to 200"),
     ("ref", "", "reference must be 1 to 200"), ("link", "loan:" + "7" * 56, "link is longer than 60"),
     ("kind", "k" * 41, "not a lower-case word")],
)
def test_text_beyond_its_column_is_refused_before_the_database(engine: Engine, field: str, value: str,
                                                               fragment: str) -> None:
    """One clear line on every engine, not a PostgreSQL DataError (SQLite would store it)."""
    before = head(engine)
    with pytest.raises(EntryError, match=fragment):
        ledger.record_entry(engine, replace(draft(), **{field: value}))
    assert head(engine) == before
    ledger.record_entry(engine, replace(draft(), **{field: value[:-1] or "r"}))  # one less fits


def test_reference_is_an_idempotency_key(engine: Engine) -> None:
    first = ledger.record_entry(engine, draft(ref="R-1"))
    again = ledger.record_entry(engine, draft(ref="R-1"))
    assert first.created and not again.created
    assert again.entry.id == first.entry.id
    with pytest.raises(LedgerError, match="different content"):
        ledger.record_entry(engine, draft("5", ref="R-1"))
    assert head(engine)[0] == 1


def test_reversal_restores_balances_and_happens_once(engine: Engine) -> None:
    ledger.record_entry(engine, draft("75000"))
    reversal = ledger.reverse_entry(engine, 1, date(2018, 7, 1)).entry
    assert reversal.reverses == 1
    with db.read_transaction(engine) as conn:
        assert all(b.amount == 0 for b in ledger.balances(conn))
    with pytest.raises(LedgerError, match="already reversed"):
        ledger.reverse_entry(engine, 1, date(2018, 7, 2))
    with pytest.raises(LedgerError, match="no entry 9"):
        ledger.reverse_entry(engine, 9, date(2018, 7, 2))


def test_closed_period_refuses_entries_dated_inside(engine: Engine) -> None:
    ledger.record_entry(engine, draft(on=date(2019, 3, 1)))
    ledger.close_period(engine, date(2019, 3, 31))
    with pytest.raises(LedgerError, match="closed period"):
        ledger.record_entry(engine, draft(on=date(2019, 3, 31)))
    ledger.record_entry(engine, draft(on=date(2019, 4, 1)))
    # a reversal of an entry inside the closed period is dated after it
    with pytest.raises(LedgerError, match="closed period"):
        ledger.reverse_entry(engine, 1, date(2019, 3, 15))
    ledger.reverse_entry(engine, 1, date(2019, 4, 2))
    with db.read_transaction(engine) as conn:
        assert ledger.closed_through(conn) == date(2019, 3, 31)
        assert ledger.verify(conn) is None


RAW_REFUSALS = [
    "UPDATE entry SET memo = 'changed'",
    "DELETE FROM entry",
    "UPDATE posting SET amount = amount + 1",
    "DELETE FROM posting",
    "UPDATE account SET name = 'Assets:Other'",
    "DELETE FROM account WHERE name = 'Expenses:Operations'",
]


@pytest.mark.parametrize("sql", RAW_REFUSALS)
def test_database_refuses_rewriting_history(engine: Engine, sql: str) -> None:
    ledger.record_entry(engine, draft())
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(sql))
    with db.read_transaction(engine) as conn:
        assert ledger.verify(conn) is None


def test_database_refuses_truncate_on_postgresql(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    ledger.record_entry(engine, draft())
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("TRUNCATE posting, entry CASCADE"))


def _raw_entry(conn: object, amounts: list[int], entry_id: int = 2) -> None:
    run = conn.execute  # type: ignore[attr-defined]
    prev = run(text("SELECT hash FROM entry WHERE id = :i"), {"i": entry_id - 1}).scalar()
    for line, amount in enumerate(amounts, start=1):
        run(
            text(
                "INSERT INTO posting (entry_id, line, entry_date, account_id, currency, amount) "
                "VALUES (:e, :l, :d, 1, 'CAD', :a)"
            ),
            {"e": entry_id, "l": line, "d": date(2018, 6, 1), "a": amount},
        )
    run(
        text(
            "INSERT INTO entry (id, date, memo, kind, recorded_by, recorded_at, prev_hash, hash) "
            "VALUES (:i, :d, 'raw', 'manual', 'sql', 'now', :p, :h)"
        ),
        {"i": entry_id, "d": date(2018, 6, 1), "p": prev, "h": "f" * 64},
    )


def test_database_refuses_unbalanced_entry_from_raw_sql(engine: Engine) -> None:
    ledger.record_entry(engine, draft())
    before = head(engine)
    with pytest.raises(DBAPIError, match="does not balance"), engine.begin() as conn:
        _raw_entry(conn, [500, -400])
    assert head(engine) == before


def test_database_refuses_postings_added_to_a_recorded_entry(engine: Engine) -> None:
    ledger.record_entry(engine, draft())
    with pytest.raises(DBAPIError, match="entry being recorded"), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO posting (entry_id, line, entry_date, account_id, currency, amount) "
                "VALUES (1, 9, :d, 1, 'CAD', 5)"
            ),
            {"d": date(2018, 6, 1)},
        )


def test_database_refuses_a_forked_chain(engine: Engine) -> None:
    ledger.record_entry(engine, draft())
    ledger.record_entry(engine, draft())
    with pytest.raises(DBAPIError), engine.begin() as conn:
        # a balanced entry that claims to follow entry 1 instead of the head
        _raw_entry(conn, [5, -5], entry_id=2)


def test_verify_names_the_first_altered_entry(ledgers: object, tmp_path: object) -> None:
    factory = ledgers
    if factory.engine_name != "sqlite":  # type: ignore[attr-defined]
        pytest.skip("alters the file with the triggers dropped: an SQLite-only forgery")
    target = factory.target()  # type: ignore[attr-defined]
    engine = db.open_ledger(target)
    for amount in ("1", "2", "3"):
        ledger.record_entry(engine, draft(amount))
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER posting_no_update"))
        conn.execute(text("UPDATE posting SET amount = 250 WHERE entry_id = 2 AND line = 1"))
        conn.execute(text("UPDATE posting SET amount = -250 WHERE entry_id = 2 AND line = 2"))
    with db.read_transaction(engine) as conn:
        problem = ledger.verify(conn)
    engine.dispose()
    assert problem is not None and problem.entry_id == 2
    assert "altered" in problem.message


def test_open_refuses_what_is_not_a_ledger(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    not_sqlite = folder / "notes.txt"
    not_sqlite.write_text("hello")
    with pytest.raises(db.LedgerOpenError, match="not a fisiq ledger"):
        db.open_ledger(str(not_sqlite))
    with pytest.raises(db.LedgerOpenError, match="no ledger"):
        db.open_ledger(str(folder / "missing.db"))
    assert not (folder / "missing.db").exists()
    with pytest.raises(db.LedgerOpenError, match="directory"):
        db.open_ledger(str(folder))
    import sqlite3

    other = folder / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(db.LedgerOpenError, match="not a fisiq ledger: it holds other tables"):
        db.open_ledger(str(other))
    with pytest.raises(db.LedgerOpenError, match="not a fisiq ledger"):
        db.create_ledger(str(other))


def test_postgresql_advice_for_what_is_not_a_ledger(ledgers: Any) -> None:
    """Where `fisiq init` would fail, the refusal no longer advises it: a search_path naming a
    schema that does not exist ('no schema has been selected to create in'), another
    application's tables."""
    if ledgers.engine_name != "postgresql":
        pytest.skip("PostgreSQL search_path")
    url = ledgers.target(initialised=False)
    missing = url.replace("search_path%3D", "search_path%3Dfisiq_nosuch_")
    for attempt in (db.open_ledger, db.create_ledger):
        with pytest.raises(db.LedgerOpenError, match="no schema of its search_path exists"):
            attempt(missing)
    engine = db.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE customers (id int)"))
    engine.dispose()
    with pytest.raises(db.LedgerOpenError, match="not a fisiq ledger: it holds other tables"):
        db.open_ledger(url)


def test_two_urls_reaching_one_ledger_take_one_write_lock(ledgers: Any) -> None:
    """A search_path whose first schema exists but is empty reaches the ledger in the next: its
    writers took a lock of their own and raced the others ('duplicate key value violates
    unique constraint')."""
    if ledgers.engine_name != "postgresql":
        pytest.skip("PostgreSQL advisory locks")
    plain = ledgers.target()
    detour = ledgers.target(initialised=False)  # an empty schema
    empty = detour.rsplit("search_path%3D", 1)[1]
    through = plain.replace("search_path%3D", f"search_path%3D{empty}%2C")
    keys = []
    for url in (plain, through):
        engine = db.open_ledger(url)
        with db.write_transaction(engine) as conn:
            assert conn.execute(text("SELECT current_schema()")).scalar() == (empty if url == through else
                                                                                db.ledger_schema(conn))
            keys.append(conn.execute(text("SELECT classid, objid FROM pg_locks WHERE locktype = 'advisory'"
                                          " AND pid = pg_backend_pid()")).one())
        engine.dispose()
    assert keys[0] == keys[1]


def test_open_refuses_a_newer_schema(target: str) -> None:
    engine = db.make_engine(target)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(db.LedgerOpenError, match="newer"):
        db.open_ledger(target)


def test_init_twice_changes_nothing(target: str) -> None:
    engine, created = db.create_ledger(target)
    with db.write_transaction(engine) as conn:
        assert ledger.ensure_standard_chart(conn) == 0
    engine.dispose()
    assert created is False


def test_unreachable_postgresql_is_a_clear_error() -> None:
    with pytest.raises(db.LedgerOpenError, match="cannot open"):
        db.open_ledger("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_verify_catches_an_account_type_edited_by_hand(ledgers: object) -> None:
    factory = ledgers
    if factory.engine_name != "sqlite":  # type: ignore[attr-defined]
        pytest.skip("alters the file with the triggers dropped: an SQLite-only forgery")
    engine = db.open_ledger(factory.target())  # type: ignore[attr-defined]
    ledger.record_entry(engine, draft("5"))
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER account_no_update"))
        conn.execute(text("UPDATE account SET type = 'expense' WHERE name = 'Assets:Cash'"))
    with db.read_transaction(engine) as conn:
        problem = ledger.verify(conn)
    engine.dispose()
    assert problem is not None and problem.entry_id == 1 and "Assets:Cash" in problem.message


def test_psycopg_log_lines_do_not_reach_the_terminal() -> None:
    """An auditor's refused write sometimes printed a second line after fisiq's error: psycopg
    logging, at exit, 'error ignored terminating <psycopg.Pipeline ...>: pipeline aborted'."""
    import subprocess
    import sys

    pytest.importorskip("psycopg")
    script = ("import logging; from fisiq import db; db.make_engine('postgresql+psycopg://nobody@127.0.0.1:1/none');"
              " logging.getLogger('psycopg').warning('error ignored terminating <psycopg.Pipeline>: pipeline aborted')")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stderr == ""
