"""The set-wise checks that stand in for SQLite's per-row insert triggers in a large batch.

For a batch of more than 2,000 drafts, `append_entries` drops the triggers that check each
inserted entry and posting, checks the batch's rows with a few queries instead, and creates
the triggers again. These tests hold the exchange to the triggers: the same rows are refused
by both, for the same entry and the same rule, and the triggers come back as they were
whatever happens. SQLite only: PostgreSQL keeps its triggers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from conftest import LedgerFactory
from fisiq import db, journal_import, ledger
from fisiq.entries import EntryDraft, Posting
from fisiq.errors import LedgerError
from test_bulk_path import BATCH, drafts
from test_export import cli, ok, small_ledger

D = Decimal
T = TypeVar("T")
CLOSED = date(2018, 12, 31)
FIRST_DAY = CLOSED + timedelta(days=1)


@pytest.fixture
def sqlite_ledgers(tmp_path: Path, sqlite_template: Path) -> Iterator[LedgerFactory]:
    factory = LedgerFactory("sqlite", tmp_path, sqlite_template)
    yield factory
    factory.close()


def triggers(engine: Engine) -> tuple[list[tuple[str, str]], list[str]]:
    """Every trigger with its SQL, and the creation order of the insert checks (SQLite fires a
    table's triggers for one event in reverse creation order; which rule a row breaking
    several is told about depends on it)."""
    with db.read_transaction(engine) as conn:
        return _triggers(conn)


def _triggers(conn: Connection) -> tuple[list[tuple[str, str]], list[str]]:
    rows = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY rowid").all()
    return sorted((r.name, r.sql) for r in rows), [r.name for r in rows if r.name in ledger.ROW_CHECKS]


def books(engine: Engine) -> tuple[int, int, tuple[int, str]]:
    with db.read_transaction(engine) as conn:
        return (conn.exec_driver_sql("SELECT COUNT(*) FROM entry").scalar_one(),
                conn.exec_driver_sql("SELECT COUNT(*) FROM posting").scalar_one(), ledger.chain_head(conn))


def test_a_large_batch_leaves_the_triggers_as_they_were(sqlite_ledgers: LedgerFactory) -> None:
    engine = sqlite_ledgers.engine()
    before = triggers(engine)
    assert sorted(before[1]) == sorted(ledger.ROW_CHECKS)
    with db.write_transaction(engine) as conn:
        ledger.append_entries(conn, drafts(BATCH))
    assert triggers(engine) == before
    with db.read_transaction(engine) as conn:
        assert ledger.verify(conn) is None
    # And they still refuse what they refused: a posting added to a recorded entry.
    with pytest.raises(DBAPIError, match="entry being recorded"), engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO posting (entry_id, line, entry_date, account_id, currency, amount) "
                             "VALUES (1, 9, '2018-01-02', 1, 'CAD', 5)")


def test_a_refused_batch_leaves_the_triggers_even_when_the_caller_carries_on(sqlite_ledgers: LedgerFactory) -> None:
    engine = sqlite_ledgers.engine()
    before = triggers(engine)
    batch = drafts(BATCH)
    batch[-1] = replace(batch[-1], postings=(Posting("Assets:Cash", D(1)), Posting("Equity:Paid-In-Capital", D(-2))))
    with db.write_transaction(engine) as conn:
        with pytest.raises(Exception, match="does not balance"):
            ledger.append_entries(conn, batch)
        # Still inside the transaction, which will commit: the triggers must be back already.
        assert _triggers(conn) == before
    assert triggers(engine) == before


def test_a_broken_row_written_during_the_batch_is_refused_and_nothing_is_kept(sqlite_ledgers: LedgerFactory) -> None:
    engine = sqlite_ledgers.engine()
    ledger.record_entry(engine, drafts(1)[0])
    before, before_books = triggers(engine), books(engine)
    with pytest.raises(LedgerError, match=r"the database refused entry 2: entry does not balance"), \
            db.write_transaction(engine) as conn, ledger.rows_checked_as_a_batch(conn, enabled=True):
        Batch(head_id=1, head_hash=ledger_head_hash(conn), rows=[Row(2, FIRST_DAY, legs=[(500, "CAD"), (-400, "CAD")])]).write(conn)
    assert triggers(engine) == before
    assert books(engine) == before_books


def test_the_batch_checks_judge_the_rows_as_they_stand_at_the_end(sqlite_ledgers: LedgerFactory) -> None:
    """A posting written for one of the batch's own entries after that entry's row: the
    per-posting trigger refuses it then; the batch checks judge the entry's final postings,
    which is what would be committed (see `ledger.rows_checked_as_a_batch`)."""
    engine = sqlite_ledgers.engine()
    ledger.record_entry(engine, drafts(1)[0])

    def batch(extra: list[tuple[int, str]]) -> Callable[[Connection], None]:
        def write(conn: Connection) -> None:
            rows = [Row(2, FIRST_DAY, [(5, "CAD"), (-5, "CAD")])]
            Batch(1, ledger_head_hash(conn), rows).write(conn)
            for line, (amount, currency) in enumerate(extra, start=3):
                _posting(conn, 2, line, FIRST_DAY, amount, currency)
        return write

    for extra in ([(7, "CAD"), (-7, "CAD")], [(7, "CAD")]):
        with pytest.raises(DBAPIError, match="entry being recorded"):
            undone(engine, batch(extra))
    assert undone(engine, lambda conn: _refusal_by_batch_checks(conn, batch([(7, "CAD"), (-7, "CAD")]))) is None
    assert undone(engine, lambda conn: _refusal_by_batch_checks(conn, batch([(7, "CAD")]))) == (2, "entry_balances")


def test_an_entry_without_postings_is_named_beside_a_close_with_postings(sqlite_ledgers: LedgerFactory) -> None:
    engine = sqlite_ledgers.engine()
    ledger.record_entry(engine, drafts(1)[0])
    rows = [Row(2, FIRST_DAY, []), Row(3, FIRST_DAY, [(5, "CAD"), (-5, "CAD")], kind="period-close")]
    assert undone(engine, lambda conn: _refusal_by_batch_checks(conn, Batch(1, ledger_head_hash(conn), rows).write)) == (
        2, "entry_postings")


def test_a_restore_is_checked_as_a_batch_and_leaves_the_triggers_as_they_were(
        sqlite_ledgers: LedgerFactory, tmp_path: Path) -> None:
    source = sqlite_ledgers.target()
    engine = db.open_ledger(source)
    try:
        small_ledger(engine)
        ledger.close_period(engine, CLOSED)
    finally:
        engine.dispose()
    exported = tmp_path / "books.jsonl"
    ok(cli(source, "export", "-f", "jsonl", "-o", str(exported)))
    copy = sqlite_ledgers.engine()
    before = triggers(copy)
    with exported.open(encoding="utf-8") as lines:
        restored = journal_import.restore_journal(copy, lines)
    assert restored.entries == books(copy)[0] > 2
    assert triggers(copy) == before
    with db.read_transaction(copy) as conn:
        assert ledger.verify(conn) is None
    with pytest.raises(DBAPIError, match="closed period"), copy.begin() as conn:
        Batch(restored.entries, restored.head, [Row(restored.entries + 1, CLOSED, [(5, "CAD"), (-5, "CAD")])]).write(conn)


def ledger_head_hash(conn: Connection) -> str:
    return ledger.chain_head(conn)[1]


# --- the batch checks agree with the triggers, row for row --------------------------------


@dataclass
class Row:
    """An entry as raw rows: the entry and its postings (amount, currency), written postings first."""

    id: int
    day: date
    legs: list[tuple[int, str]]
    kind: str = "manual"
    prev_hash: str | None = None  # None: the previous row's hash
    posting_days: list[date] = field(default_factory=list)  # per leg, when not the entry's day


@dataclass
class Batch:
    head_id: int
    head_hash: str
    rows: list[Row]
    stray_before: int | None = None  # index of the row before which a posting goes to entry 1

    def write(self, conn: Connection) -> None:
        previous = self.head_hash
        for index, row in enumerate(self.rows):
            if self.stray_before == index:
                _posting(conn, 1, 99, date(2018, 6, 1), 7, "CAD")
            for line, (amount, currency) in enumerate(row.legs, start=1):
                day = row.posting_days[line - 1] if row.posting_days else row.day
                _posting(conn, row.id, line, day, amount, currency)
            own_hash = f"{row.id:064x}"
            conn.exec_driver_sql(
                "INSERT INTO entry (id, date, memo, kind, recorded_by, recorded_at, prev_hash, hash) "
                "VALUES (?, ?, 'raw', ?, 'sql', 'now', ?, ?)",
                (row.id, row.day.isoformat(), row.kind, row.prev_hash or previous, own_hash))
            previous = own_hash


def _posting(conn: Connection, entry_id: int, line: int, day: date, amount: int, currency: str) -> None:
    conn.exec_driver_sql(
        "INSERT INTO posting (entry_id, line, entry_date, account_id, currency, amount) VALUES (?, ?, ?, 1, ?, ?)",
        (entry_id, line, day.isoformat(), currency, amount))


FAULTS = ["none", "unbalanced", "balanced in sum, not per currency", "one posting", "no posting",
          "a posting dated otherwise", "a period close with postings", "dated in the closed period",
          "dated on a close of the batch", "wrong previous hash", "an id skipped", "a posting for a recorded entry"]


@st.composite
def batches(draw: st.DrawFn, fault: str) -> tuple[list[Row], int | None, int]:
    """Valid rows for 1-6 entries after entry 3, then the fault at one of them.

    Returns the rows, the index before which a stray posting goes, and the index of the row
    the fault is at.
    """
    size = draw(st.integers(1, 6))
    rows = []
    for i in range(size):
        amounts = draw(st.lists(st.integers(1, 10**6), min_size=1, max_size=3))
        legs = [(a, "CAD") for a in amounts] + [(-sum(amounts), "CAD")]
        if draw(st.booleans()):
            legs += [(250, "USD"), (-250, "USD")]
        rows.append(Row(4 + i, FIRST_DAY + timedelta(days=i), legs))
    at = draw(st.integers(0, size - 1))
    row = rows[at]
    stray = None
    if fault == "unbalanced":
        amount, currency = row.legs[-1]
        row.legs[-1] = (amount - draw(st.sampled_from([1, 10**9])), currency)  # the last leg is a credit: never 0
    elif fault == "balanced in sum, not per currency":
        row.legs = [(100, "CAD"), (-100, "USD")]
    elif fault == "one posting":
        row.legs = row.legs[:1]
    elif fault == "no posting":
        row.legs = []
    elif fault == "a posting dated otherwise":
        row.posting_days = [row.day] * len(row.legs)
        row.posting_days[draw(st.integers(0, len(row.legs) - 1))] = row.day + timedelta(days=draw(st.sampled_from([-1, 1])))
    elif fault == "a period close with postings":
        row.kind = "period-close"
    elif fault == "dated in the closed period":
        row.day = CLOSED - timedelta(days=draw(st.integers(0, 3)))
    elif fault == "dated on a close of the batch":
        if at == 0:  # the first row cannot follow a close of the batch: close entry 4 instead
            at = 1
            rows.insert(0, Row(4, FIRST_DAY, []))
            for later in rows[1:]:
                later.id += 1
        rows[at - 1].kind, rows[at - 1].legs = "period-close", []
        rows[at].day = rows[at - 1].day
        rows[at].legs = [(5, "CAD"), (-5, "CAD")]
        rows[at].posting_days = []
    elif fault == "wrong previous hash":
        row.prev_hash = "f" * 64
    elif fault == "an id skipped":
        for later in rows[at:]:
            later.id += 1
    elif fault == "a posting for a recorded entry":
        stray = at
    return rows, stray, at


class _Undo(Exception):
    pass


def undone(engine: Engine, attempt: Callable[[Connection], T]) -> T:
    """What `attempt` returns in a write transaction that is then rolled back."""
    outcome: list[T] = []
    with pytest.raises(_Undo), db.write_transaction(engine) as conn:
        outcome.append(attempt(conn))
        raise _Undo
    return outcome[0]


def _refusal_by_triggers(conn: Connection, write: Callable[[Connection], None]) -> str | None:
    try:
        write(conn)
    except DBAPIError as exc:
        message = str(exc.orig)
        return next(rule for rule, text in ledger.ROW_CHECKS.items() if text in message)
    return None


def _refusal_by_batch_checks(conn: Connection, write: Callable[[Connection], None]) -> tuple[int, str] | None:
    try:
        with ledger.rows_checked_as_a_batch(conn, enabled=True):
            write(conn)
    except LedgerError as exc:
        entry_id = int(str(exc).split("entry ")[1].split(":")[0])
        return entry_id, next(rule for rule, text in ledger.ROW_CHECKS.items() if str(exc).endswith(text))
    return None


@pytest.mark.parametrize("fault", FAULTS)
@given(data=st.data())
def test_the_batch_checks_refuse_what_the_triggers_refuse(tmp_path_factory: pytest.TempPathFactory,
                                                          sqlite_template: Path, fault: str, data: st.DataObject) -> None:
    rows, stray, at = data.draw(batches(fault))
    factory = LedgerFactory("sqlite", tmp_path_factory.mktemp("batch"), sqlite_template)
    try:
        engine = factory.engine()
        for n in (1, 2, 3):
            legs = (Posting("Assets:Cash", D(n)), Posting("Equity:Paid-In-Capital", D(-n)))
            ledger.record_entry(engine, EntryDraft(date(2018, 6, n), f"before {n}", legs))
        ledger.close_period(engine, CLOSED)  # entry 4: the batch starts at 5
        for row in rows:
            row.id += 1
        before, before_books = triggers(engine), books(engine)
        head_id, head_hash = before_books[2]
        batch = Batch(head_id, head_hash, rows, stray)
        by_triggers = undone(engine, lambda conn: _refusal_by_triggers(conn, batch.write))
        by_checks = undone(engine, lambda conn: _refusal_by_batch_checks(conn, batch.write))
        assert (by_checks[1] if by_checks else None) == by_triggers, fault
        assert (by_triggers is None) == (fault == "none")
        if by_checks is not None and fault != "a posting for a recorded entry":
            assert by_checks[0] == rows[at].id, fault
        assert triggers(engine) == before
        assert books(engine) == before_books
    finally:
        factory.close()
