"""A ledger made by an earlier fisiq opens after `fisiq upgrade`, with every row and hash intact.

The ledger is built at revision 0001 (the first release's schema) with entries, a reversal,
a period close, and commitment and loan events that reference entries; then upgraded to HEAD
on both engines. Migration 0002 rebuilds SQLite's entry table, so the references from other
tables, the triggers and the append-only rules are checked again after it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from fisiq import commitments, db, ledger
from fisiq.cli.main import app
from fisiq.entries import EntryDraft, Posting, reversal_of

D = Decimal
TABLES = ("account", "party", "entry", "posting", "commitment", "commitment_event", "loan", "loan_event", "setting")


def ledger_at(target: str, revision: str) -> Engine:
    """A ledger as `fisiq init` of the release with `revision` made it."""
    engine = db.make_engine(target, create=True)
    with engine.connect() as conn, db.migration_transaction(conn):
        command.upgrade(db._alembic_config(conn), revision)
        conn.execute(
            text("INSERT INTO fisiq_meta (key, value) VALUES ('application', 'fisiq'), ('ledger_id', :id), "
                 "('created_at', '2026-11-27T00:00:00.000000Z')"),
            {"id": str(uuid.uuid4())},
        )
    return engine


def cash(amount: str, memo: str, on: date, ref: str | None = None, link: str | None = None) -> EntryDraft:
    return EntryDraft(on, memo, (Posting("Assets:Cash", D(amount)), Posting("Equity:Paid-In-Capital", -D(amount))),
                      ref=ref, link=link)


def fill(conn: Connection) -> None:
    """Books written the way fisiq writes them, plus events that point at entries."""
    ledger.ensure_standard_chart(conn)
    conn.execute(text(
        "INSERT INTO party (name, name_key, skeleton, kind, recorded_at, recorded_by) "
        "VALUES ('Coopérative Kènè', 'coopérative kènè', 'cooperative kene', 'borrower', 'x', 'tester'), "
        "('MRIF', 'mrif', 'mrif', 'government', 'x', 'tester')"
    ))
    [signing] = commitments.drafts_for(commitments.Event("signed", date(2018, 4, 2), D("250.50")),
                                       commitment_id=1, party="MRIF", instrument="equity")
    recorded = ledger.append_entries(conn, [
        cash("1000.00", "paid-in capital", date(2018, 3, 31), ref="C-1"),
        signing,
    ], recorded_by="tester")
    ledger.append_entries(conn, [reversal_of(recorded[1].entry, date(2018, 4, 3))], recorded_by="tester")
    ledger.append_entries(conn, [EntryDraft(date(2018, 6, 30), "close", (), kind="period-close")], recorded_by="tester")
    ledger.append_entries(conn, [EntryDraft(date(2018, 7, 2), "Loan 1 disbursed", (
        Posting("Assets:Loans:Principal", D("500.00"), party="Coopérative Kènè"), Posting("Assets:Cash", D("-500.00"))),
        kind="loan-disbursement", link="loan:1")], recorded_by="tester")
    conn.execute(text(
        "INSERT INTO commitment (party_id, instrument, currency, recorded_at, recorded_by) "
        "VALUES (2, 'equity', 'CAD', 'x', 'tester')"
    ))
    # A signing whose entry (2, linked to it) was reversed (by 3): it points at an entry, and
    # it counts nothing, so `audit verify` finds the commitment in agreement with its entries.
    conn.execute(text(
        "INSERT INTO commitment_event (commitment_id, kind, date, amount, entry_id, recorded_at, recorded_by) "
        "VALUES (1, 'signed', '2018-04-02', 25050, 2, 'x', 'tester')"
    ))
    conn.execute(text(
        "INSERT INTO loan (borrower_id, currency, principal, annual_rate, term, frequency, method, grace, "
        "first_due, approved_on, recorded_at, recorded_by) "
        "VALUES (1, 'CAD', 50000, '0.08', 12, 'monthly', 'annuity', 0, '2018-08-01', '2018-07-01', 'x', 'tester')"
    ))
    conn.execute(text(
        "INSERT INTO loan_event (loan_id, kind, date, amount, entry_id, recorded_at, recorded_by) "
        "VALUES (1, 'disbursed', '2018-07-02', 50000, 5, 'x', 'tester')"
    ))


def snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY id"))] for t in TABLES}


@pytest.fixture
def old_ledger(ledgers: object) -> tuple[str, Engine]:
    target = ledgers.target(initialised=False)  # type: ignore[attr-defined]
    engine = ledger_at(target, "0001")
    with db.write_transaction(engine) as conn:
        fill(conn)
    yield target, engine
    engine.dispose()


def test_an_old_ledger_asks_for_an_upgrade_and_upgrades(old_ledger: tuple[str, Engine]) -> None:
    target, engine = old_ledger
    runner = CliRunner()
    refused = runner.invoke(app, ["--db", target, "report", "trial-balance"])
    assert refused.exit_code == 1
    assert f"run `fisiq upgrade` to bring it to {db.HEAD}" in refused.output
    before = snapshot(engine)

    upgraded = runner.invoke(app, ["--db", target, "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"from 0001 to {db.HEAD}" in upgraded.output
    assert snapshot(engine) == before  # every row, so every hash, as it was
    again = runner.invoke(app, ["--db", target, "upgrade"])
    assert "nothing to do" in again.output

    verified = runner.invoke(app, ["--db", target, "audit", "verify"])
    assert verified.exit_code == 0, verified.output
    balance = runner.invoke(app, ["--db", target, "report", "trial-balance", "--json"])
    assert balance.exit_code == 0 and '"total": "0.00"' in balance.output


def test_after_the_upgrade_the_database_still_guards_the_books(
    old_ledger: tuple[str, Engine]
) -> None:
    target, _ = old_ledger
    db.upgrade_ledger(target)
    opened = db.open_ledger(target)
    refusals: dict[str, Callable[[Connection], object]] = {
        "append-only": lambda c: c.execute(text("UPDATE entry SET memo = 'x' WHERE id = 1")),
        "append-only ": lambda c: c.execute(text("DELETE FROM posting WHERE entry_id = 1")),
        " append-only": lambda c: c.execute(text("DELETE FROM entry WHERE id = 4")),  # the rebuilt table
        "entry being recorded": lambda c: c.execute(text(
            "INSERT INTO posting (entry_id, line, entry_date, account_id, currency, amount) "
            "VALUES (1, 9, '2018-03-31', 1, 'CAD', 5)")),
        "next in the chain": lambda c: c.execute(text(
            "INSERT INTO entry (id, date, memo, kind, recorded_by, recorded_at, prev_hash, hash) "
            "VALUES (9, '2018-07-01', 'x', 'manual', 't', 'x', 'p', 'h')")),
    }
    for fragment, write in refusals.items():
        with pytest.raises(DBAPIError, match=fragment.strip()), opened.begin() as conn:
            write(conn)
    if opened.dialect.name == "sqlite":
        # the rebuilt entry table is still the parent of postings and events
        with pytest.raises(DBAPIError, match="FOREIGN KEY"), opened.begin() as conn:
            conn.execute(text(
                "INSERT INTO commitment_event (commitment_id, kind, date, entry_id, recorded_at, recorded_by) "
                "VALUES (1, 'paid', '2018-03-31', 999, 'x', 't')"))
        with opened.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
    # and fisiq writes on: the chain continues from the old head
    head_before = snapshot(opened)["entry"][-1]
    new = ledger.record_entry(opened, cash("5.00", "after the upgrade", date(2018, 7, 1))).entry
    assert new.id == head_before[0] + 1 == 6 and new.prev_hash == head_before[-1]
    with db.read_transaction(opened) as conn:
        assert ledger.verify(conn) is None
    opened.dispose()
