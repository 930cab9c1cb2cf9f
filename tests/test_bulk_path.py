"""The bulk path on large batches: many rows per statement, refusals anywhere, failed inserts.

`append_entries` checks and seals every draft, then inserts the rows several thousand per
statement. These batches span several statements; whatever fails, the caller sees the error
and the ledger is as it was.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select, text

from fisiq import db, ledger
from fisiq.entries import EntryDraft, EntryError, Posting
from fisiq.errors import LedgerError

D = Decimal
BATCH = 2500  # postings over three statements, entries over two; two of the writer's sub-batches


def writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "fisiq-writer"]


def drafts(count: int, *, start: int = 1, ref_prefix: str = "B") -> list[EntryDraft]:
    out = []
    for n in range(start, start + count):
        amount = D(n) / 100
        out.append(EntryDraft(
            date(2018, 1, 1) + timedelta(days=n % 300), f"bulk {n}",
            (Posting("Assets:Cash", amount), Posting("Equity:Paid-In-Capital", -amount, party=None)),
            ref=f"{ref_prefix}-{n}",
        ))
    return out


def counts(engine: Engine) -> tuple[int, int, tuple[int, str]]:
    with db.read_transaction(engine) as conn:
        entries = conn.execute(text("SELECT COUNT(*) FROM entry")).scalar_one()
        postings = conn.execute(text("SELECT COUNT(*) FROM posting")).scalar_one()
        return entries, postings, ledger.chain_head(conn)


def test_a_large_batch_is_recorded_whole_and_in_order(engine: Engine) -> None:
    batch = drafts(BATCH)
    with db.write_transaction(engine) as conn:
        results = ledger.append_entries(conn, batch)
    assert [r.entry.id for r in results] == list(range(1, BATCH + 1))
    assert all(r.created for r in results)
    assert counts(engine)[:2] == (BATCH, 2 * BATCH)
    with db.read_transaction(engine) as conn:
        assert ledger.verify(conn) is None
        cash = {b.account: b.amount for b in ledger.balances(conn)}["Assets:Cash"]
        last = conn.execute(select(func.max(text("id"))).select_from(text("entry"))).scalar_one()
    assert cash == sum((d.postings[0].amount for d in batch), D(0))
    assert last == BATCH


@pytest.mark.parametrize("position", [5, 1001, BATCH - 1])
def test_a_refusal_anywhere_in_a_large_batch_writes_nothing(engine: Engine, position: int) -> None:
    ledger.record_entry(engine, drafts(1, start=10**6)[0])
    before = counts(engine)
    batch = drafts(BATCH)
    bad = batch[position]
    batch[position] = EntryDraft(bad.date, bad.memo, (Posting("Assets:Cash", D("1")), Posting("Equity:Paid-In-Capital", D("-2"))))
    with pytest.raises(EntryError, match="does not balance"), db.write_transaction(engine) as conn:
        ledger.append_entries(conn, batch)
    assert counts(engine) == before
    assert not writer_threads()


def test_a_failed_insert_midway_writes_nothing(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The postings are in, the entries' insert fails: the transaction takes the postings back."""
    before = counts(engine)
    real = ledger._insert
    tables = []

    def failing_entries(conn: object, table: object, columns: object, rows: list[tuple[object, ...]]) -> None:
        tables.append(table.name)  # type: ignore[attr-defined]
        if table.name == "entry":  # type: ignore[attr-defined]
            raise OSError("disk full")
        real(conn, table, columns, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(ledger, "_insert", failing_entries)
    with pytest.raises(OSError, match="disk full"), db.write_transaction(engine) as conn:
        ledger.append_entries(conn, drafts(BATCH))
    assert tables == ["posting", "entry"]  # the writer stops at the first failure
    assert counts(engine) == before
    assert not writer_threads()


def test_a_failed_insert_in_a_later_sub_batch_writes_nothing(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first sub-batch went in on the writer thread; the second fails there: the error
    reaches the caller, the thread ends, and the transaction takes everything back."""
    before = counts(engine)
    real = ledger._insert
    calls = []

    def second_entries_fail(conn: object, table: object, columns: object, rows: list[tuple[object, ...]]) -> None:
        calls.append(table.name)  # type: ignore[attr-defined]
        if calls.count("entry") == 2:
            raise OSError("disk full")
        real(conn, table, columns, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(ledger, "_insert", second_entries_fail)
    with pytest.raises(OSError, match="disk full"), db.write_transaction(engine) as conn:
        ledger.append_entries(conn, drafts(BATCH))
    assert calls == ["posting", "entry", "posting", "entry"]
    assert counts(engine) == before
    assert not writer_threads()


def test_a_period_closed_inside_a_large_batch_binds_the_rest_of_it(engine: Engine) -> None:
    """A close in the batch refuses, with the usual message, a later draft dated inside it and
    a reversal of the close itself; nothing of the batch is written."""
    close = EntryDraft(date(2017, 12, 31), "close 2017", (), kind="period-close")  # the bulk drafts are in 2018
    early = drafts(1, start=7, ref_prefix="LATE")[0]
    undo = EntryDraft(date(2018, 12, 31), "undo the close", drafts(1, start=9)[0].postings, kind="reversal",
                      reverses=2101)
    for late, refusal in (
        (replace(early, date=date(2017, 11, 30)), "inside a closed period"),
        (undo, "entry 2101 is a period close; it cannot be reversed"),
    ):
        batch = drafts(BATCH)
        batch.insert(2100, close)  # entry 2101, in the writer's second sub-batch
        batch.insert(2200, late)
        before = counts(engine)
        with pytest.raises(LedgerError, match=refusal), db.write_transaction(engine) as conn:
            ledger.append_entries(conn, batch)
        assert counts(engine) == before


def test_replays_and_reversals_inside_a_large_batch(engine: Engine) -> None:
    """A batch that reads the ledger midway: a recorded ref replayed, a reversal, a changed ref."""
    first = drafts(3, start=1, ref_prefix="OLD")
    with db.write_transaction(engine) as conn:
        ledger.append_entries(conn, first)
    batch = drafts(BATCH, start=100)
    middle = 1010
    batch.insert(middle, first[1])  # the same entry again: a no-op, not a new entry
    reversal = EntryDraft(date(2018, 12, 31), "undo 2", tuple(p.negated() for p in first[1].postings),
                          kind="reversal", reverses=2)
    batch.insert(middle + 5, reversal)
    with db.write_transaction(engine) as conn:
        results = ledger.append_entries(conn, batch)
    replay = results[middle]
    assert not replay.created and replay.entry.id == 2
    assert results[middle + 5].entry.reverses == 2
    assert counts(engine)[0] == 3 + BATCH + 1
    with db.read_transaction(engine) as conn:
        assert ledger.verify(conn) is None
    changed = drafts(1, start=2, ref_prefix="OLD")[0]
    changed = EntryDraft(changed.date, "another memo", changed.postings, ref=changed.ref)
    before = counts(engine)
    late = drafts(BATCH, start=10**5)
    late.insert(BATCH - 3, changed)
    with pytest.raises(LedgerError, match="different content"), db.write_transaction(engine) as conn:
        ledger.append_entries(conn, late)
    assert counts(engine) == before


def test_statements_stay_within_the_sqlites_parameter_limit(engine: Engine) -> None:
    """An SQLite built with the old limit of 999 bound parameters still takes a large batch."""
    if engine.dialect.name != "sqlite":
        pytest.skip("a limit of the SQLite library")
    import sqlite3

    with db.write_transaction(engine) as conn:
        raw = conn.connection.driver_connection
        raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        results = ledger.append_entries(conn, drafts(BATCH))
    assert len(results) == BATCH
    assert counts(engine)[:2] == (BATCH, 2 * BATCH)


def test_the_garbage_collector_is_left_as_it_was_found(engine: Engine) -> None:
    """The bulk path pauses Python's cyclic collector; it must give it back, even on failure,
    and must not turn it on for a caller that had it off."""
    import gc

    assert gc.isenabled()
    with db.write_transaction(engine) as conn:
        ledger.append_entries(conn, drafts(10))
    assert gc.isenabled()
    broken = EntryDraft(date(2018, 1, 1), "broken", (Posting("Assets:Cash", D("1")), Posting("Equity:Paid-In-Capital", D("-2"))))
    with pytest.raises(EntryError), db.write_transaction(engine) as conn:
        ledger.append_entries(conn, [*drafts(5, start=50), broken])
    assert gc.isenabled()
    gc.disable()
    try:
        with db.write_transaction(engine) as conn:
            ledger.append_entries(conn, drafts(10, start=100))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_writer_failure_seen_at_the_last_hand_over_ends_the_thread(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first sub-batch fails on the writer while the caller seals the last, partial one:
    the caller meets the error when it hands that one over, and the thread still ends (a
    thread left waiting would keep `fisiq import` from exiting)."""
    before = counts(engine)

    def failing(conn: object, table: object, columns: object, rows: list[tuple[object, ...]]) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(ledger, "_insert", failing)
    with pytest.raises(OSError, match="disk full"), db.write_transaction(engine) as conn:
        ledger.append_entries(conn, drafts(2 * 2000 - 1))
    assert not writer_threads()
    assert counts(engine) == before


@pytest.mark.parametrize("size", [3, BATCH])
def test_reversing_an_id_beyond_any_column_is_no_entry(engine: Engine, size: int) -> None:
    """An id no engine could store (2**40, 2**63) is refused as any missing entry, on both engines."""
    first = drafts(size)
    with db.write_transaction(engine) as conn:
        ledger.append_entries(conn, first)
    before = counts(engine)
    for target in (2**40, 2**63, 0, 2 * size + 1):  # the last: the undo itself
        undo = EntryDraft(date(2018, 12, 31), "undo", drafts(1, start=3)[0].postings, kind="reversal", reverses=target)
        with pytest.raises(LedgerError, match=f"there is no entry {target}"), db.write_transaction(engine) as conn:
            ledger.append_entries(conn, [*drafts(size, start=10**6), undo])
        assert counts(engine) == before
