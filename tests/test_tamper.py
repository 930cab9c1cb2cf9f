"""Tamper evidence: what a forger with the ledger file in hand can do, and what catches it.

The forger drops the append-only triggers (anyone who can write the file can) and then edits
one character of any stored field of any entry or posting, deletes entries or postings,
swaps two entries, renames an account or a party the entries use, cuts the tail, or edits an
entry and recomputes every hash after it. `ledger.verify` must catch every forgery and name
the first entry it touched — except cutting the tail and recomputing the chain, which leave
a chain that is internally whole: those are caught by comparing with a checkpoint (the count
of entries and the head hash, kept elsewhere), `checkpoint.extends_checkpoint`.

The database-level refusals (triggers on SQLite, triggers and privileges on PostgreSQL) are
tested at the end, for every append-only table not already covered in test_core_storage.py.
Run with `pytest -s` to see the catch rate.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import string
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from fisiq import checkpoint, db, ledger, parties, parties_db
from fisiq.entries import PERIOD_CLOSE, EntryDraft, Posting, compute_hash, reversal_of

D = Decimal
TAMPERINGS = 1000
SEED = 20180323  # the day the fund was constituted
ENTRY_FIELDS = ("id", "date", "memo", "kind", "ref", "link", "reverses", "recorded_by", "recorded_at",
                "prev_hash", "hash")
POSTING_FIELDS = ("entry_id", "line", "entry_date", "account_id", "party_id", "currency", "amount")
CHARS = string.ascii_letters + string.digits + "-:. _éÀ!0123456789"
INVESTORS = ("Ministère des Relations internationales et de la Francophonie", "Fondaction", "CECI", "SUCO")
BORROWERS = ("Mutuelle de solidarité de Jacmel", "Coopérative des femmes de Thiès", "Red de Mujeres Andinas")


# --- the ledger the forger gets ---------------------------------------------------------


def _drafts(rng: random.Random, count: int) -> list[EntryDraft]:
    """A varied year and a half of the fund: investments, loans, several currencies and lines."""
    out: list[EntryDraft] = []
    day = date(2018, 4, 1)
    for i in range(count):
        day += timedelta(days=rng.randint(0, 2))
        if day == date(2019, 3, 31):
            day += timedelta(days=1)
        amount = D(rng.randint(1, 5_000_000)) / 100
        ref = f"REF-{i}" if rng.random() < 0.5 else None
        shape = rng.randrange(5)
        if shape == 0:
            legs = (Posting("Assets:Cash", amount), Posting("Equity:Paid-In-Capital", -amount, party=rng.choice(INVESTORS)))
            memo = f"Versement de l'investisseur nº {i}"
        elif shape == 1:
            borrower = rng.choice(BORROWERS)
            legs = (Posting("Assets:Loans:Principal", amount, party=borrower), Posting("Assets:Cash", -amount))
            memo = f"Décaissement du prêt {i} — {borrower}"
        elif shape == 2:
            xof = D(rng.randint(1, 9_000_000))
            legs = (Posting("Assets:Cash", amount, "USD"), Posting("Income:Contributions", -amount, "USD"),
                    Posting("Assets:Cash", xof, "XOF"), Posting("Income:Contributions", -xof, "XOF"))
            memo = f"Contribution en devises {i}"
        elif shape == 3:
            tnd = D(rng.randint(1, 9_000_000)) / 1000
            legs = (Posting("Assets:Investments", tnd, "TND"), Posting("Assets:Cash", -tnd, "TND"))
            memo = f"Placement {i}"
        else:
            part = (amount / 3).quantize(D("0.01"))
            legs = (Posting("Expenses:Operations", part), Posting("Expenses:Operations", amount - part),
                    Posting("Assets:Cash", -amount))
            memo = f"Frais de fonctionnement {i}"
        link = f"loan:{rng.randint(1, 9)}" if shape == 1 else None
        out.append(EntryDraft(day, memo, legs, ref=ref, link=link))
    return out


@dataclass(frozen=True)
class Forgery:
    """One tampering: what was done, and the entry verify must name (None: needs a checkpoint)."""

    what: str
    first_bad: int | None
    also: str | None = None  # the message fragment that also names it ("entry 5 is missing")


@pytest.fixture(scope="module")
def forger_file(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> tuple[Path, int, str]:
    """A ledger of ~300 entries with parties, reversals and a period close, triggers dropped."""
    path = tmp_path_factory.mktemp("tamper") / "ledger.db"
    shutil.copyfile(sqlite_template, path)
    engine = db.open_ledger(str(path))
    rng = random.Random(SEED)
    with db.write_transaction(engine) as conn:
        parties_db.add_parties(conn, [parties.make_party(n, "investor") for n in INVESTORS]
                               + [parties.make_party(n, "borrower") for n in BORROWERS])
        before = _drafts(rng, 150)
        ledger.append_entries(conn, [d for d in before if d.date <= date(2019, 3, 30)])
    ledger.close_period(engine, date(2019, 3, 31))
    with db.write_transaction(engine) as conn:
        after = [replace(d, date=d.date + timedelta(days=366), ref=f"{d.ref}-b" if d.ref else None)
                 for d in _drafts(rng, 130)]
        ledger.append_entries(conn, after)
        head = ledger.chain_head(conn)[0]
        reversible = [e for e in range(1, head + 1) if e != 151]
        for target_id in rng.sample(reversible, 20):
            original = ledger.get_entry(conn, target_id)
            assert original is not None
            if original.kind != PERIOD_CLOSE and original.date > date(2019, 3, 31):
                ledger.append_entry(conn, reversal_of(original, date(2020, 6, 30)))
    with db.read_transaction(engine) as conn:
        assert ledger.verify(conn) is None
        head_id, head_hash = ledger.chain_head(conn)
    engine.dispose()
    raw = sqlite3.connect(path)
    for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        raw.execute(f'DROP TRIGGER "{name}"')
    raw.commit()
    raw.close()
    return path, head_id, head_hash


def forger_engine(path: Path) -> Engine:
    """A plain connection, as the forger has it: no foreign keys, no CHECK constraints."""
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = OFF")
        dbapi_connection.execute("PRAGMA ignore_check_constraints = ON")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


# --- the forgeries ------------------------------------------------------------------------


class Unchanged(Exception):
    """The random edit left the stored value as it was: draw another."""


def _one_char(rng: random.Random, value: object) -> str:
    if value is None:
        return rng.choice(["1", "7", "x", "forged", "loan:1", "2018-06-01"])
    raw = str(value)
    if not raw:
        return rng.choice(CHARS)
    i = rng.randrange(len(raw))
    return raw[:i] + rng.choice([c for c in CHARS if c != raw[i]]) + raw[i + 1:]


def _scalar(conn: Connection, sql: str, *params: object) -> Any:
    return conn.exec_driver_sql(sql, params).scalar()


def _edit(conn: Connection, table: str, column: str, row_id: int, value: object) -> None:
    before = _scalar(conn, f"SELECT quote({column}) FROM {table} WHERE id = ?", row_id)
    conn.exec_driver_sql(f"UPDATE {table} SET {column} = ? WHERE id = ?", (value, row_id))
    key = value if column == "id" and table == "entry" else row_id
    after = _scalar(conn, f"SELECT quote({column}) FROM {table} WHERE id = ?", key)
    if before == after:
        raise Unchanged


def _first_user(conn: Connection, column: str, value: int) -> int | None:
    return _scalar(conn, f"SELECT MIN(entry_id) FROM posting WHERE {column} = ?", value)


def _rehash_from(conn: Connection, start: int, head: int) -> None:
    """What a careful forger does after an edit: recompute every hash from `start` on."""
    prev = _scalar(conn, "SELECT hash FROM entry WHERE id = ?", start - 1) if start > 1 else "0" * 64
    for entry in list(ledger.iter_entries(conn, ids=(start, head))):
        entry_id = entry.id
        resealed = entry._replace(prev_hash=prev, hash="")
        new_hash = compute_hash(resealed)
        conn.exec_driver_sql("UPDATE entry SET prev_hash = ?, hash = ? WHERE id = ?", (prev, new_hash, entry_id))
        prev = new_hash


def forge(rng: random.Random, conn: Connection, head: int) -> Forgery:
    """Apply one random forgery inside the caller's transaction and say what verify must name."""
    kind = rng.choices(
        ["entry-field", "posting-field", "delete-entry", "delete-entry-row", "delete-postings", "swap",
         "rename", "truncate", "recompute"],
        weights=[30, 30, 6, 3, 4, 6, 5, 6, 10],
    )[0]
    if kind == "entry-field":
        k = rng.randint(1, head)
        column = rng.choice(ENTRY_FIELDS)
        value = _scalar(conn, f"SELECT {column} FROM entry WHERE id = ?", k)
        new = _one_char(rng, value)
        if column == "id" and (not new.isdigit() or int(new) <= head):
            new = str(head + rng.randint(1, 10**6))  # ids are unique: a forged id is a new one
        _edit(conn, "entry", column, k, new)
        return Forgery(f"entry {k}.{column} {value!r} -> {new!r}", k, f"entry {k} is missing")
    if kind == "posting-field":
        pid = rng.randint(1, _scalar(conn, "SELECT MAX(id) FROM posting"))
        k = _scalar(conn, "SELECT entry_id FROM posting WHERE id = ?", pid)
        column = rng.choice(POSTING_FIELDS)
        value = _scalar(conn, f"SELECT {column} FROM posting WHERE id = ?", pid)
        if column in ("account_id", "party_id") and rng.random() < 0.5:
            top = _scalar(conn, f"SELECT MAX(id) FROM {'account' if column == 'account_id' else 'party'}")
            new: object = rng.choice([None, rng.randint(1, top), top + rng.randint(1, 5)])
        else:
            new = _one_char(rng, value)
        _edit(conn, "posting", column, pid, new)
        first = k
        if column == "entry_id":  # the posting now belongs to another entry, if that one exists
            stored = _scalar(conn, "SELECT entry_id FROM posting WHERE id = ?", pid)
            if isinstance(stored, int) and 0 < stored <= head:
                first = min(k, stored)
        return Forgery(f"posting {pid} of entry {k}.{column} {value!r} -> {new!r}", first)
    if kind in ("delete-entry", "delete-entry-row", "delete-postings"):
        k = rng.randint(1, head - 1)
        if kind != "delete-entry-row":
            count = _scalar(conn, "SELECT COUNT(*) FROM posting WHERE entry_id = ?", k)
            if kind == "delete-postings" and count and rng.random() < 0.5:
                conn.exec_driver_sql("DELETE FROM posting WHERE entry_id = ? AND line = ?", (k, rng.randint(1, count)))
            else:
                conn.exec_driver_sql("DELETE FROM posting WHERE entry_id = ?", (k,))
            if kind == "delete-postings" and count == 0:
                raise Unchanged  # a period close has no postings to delete
        if kind != "delete-postings":
            conn.exec_driver_sql("DELETE FROM entry WHERE id = ?", (k,))
        return Forgery(f"{kind} {k}", k, f"entry {k} is missing")
    if kind == "swap":
        i, j = sorted(rng.sample(range(1, head + 1), 2))
        conn.exec_driver_sql("UPDATE posting SET entry_id = -1 WHERE entry_id = ?", (i,))
        conn.exec_driver_sql("UPDATE posting SET entry_id = ? WHERE entry_id = ?", (i, j))
        conn.exec_driver_sql("UPDATE posting SET entry_id = ? WHERE entry_id = -1", (j,))
        conn.exec_driver_sql("UPDATE entry SET id = ? WHERE id = ?", (10**9, i))
        conn.exec_driver_sql("UPDATE entry SET id = ? WHERE id = ?", (i, j))
        conn.exec_driver_sql("UPDATE entry SET id = ? WHERE id = ?", (j, 10**9))
        return Forgery(f"swap entries {i} and {j}", i)
    if kind == "rename":
        table, column = rng.choice([("account", "account_id"), ("party", "party_id")])
        used = [r[0] for r in conn.exec_driver_sql(f"SELECT DISTINCT {column} FROM posting WHERE {column} IS NOT NULL")]
        row_id = rng.choice(used)
        name = _scalar(conn, f"SELECT name FROM {table} WHERE id = ?", row_id)
        new = _one_char(rng, name)
        _edit(conn, table, "name", row_id, new)
        first = _first_user(conn, column, row_id)
        return Forgery(f"rename {table} {name!r} -> {new!r}", first)
    if kind == "truncate":
        cut = rng.randint(1, 5)
        conn.exec_driver_sql("DELETE FROM posting WHERE entry_id > ?", (head - cut,))
        conn.exec_driver_sql("DELETE FROM entry WHERE id > ?", (head - cut,))
        return Forgery(f"truncate the last {cut} entries", None)
    # recompute: a balanced edit of entry k, then every hash from k on recomputed
    k = rng.randint(1, head)
    how = rng.choice(["memo", "date", "amounts", "account"])
    lines = _scalar(conn, "SELECT COUNT(*) FROM posting WHERE entry_id = ?", k)
    if how == "memo" or lines == 0:
        conn.exec_driver_sql("UPDATE entry SET memo = memo || ' (corrigé)' WHERE id = ?", (k,))
    elif how == "date":
        conn.exec_driver_sql("UPDATE entry SET date = date(date, '-1 day') WHERE id = ?", (k,))
        conn.exec_driver_sql("UPDATE posting SET entry_date = date(entry_date, '-1 day') WHERE entry_id = ?", (k,))
    elif how == "amounts":
        conn.exec_driver_sql("UPDATE posting SET amount = amount * 2 WHERE entry_id = ?", (k,))
    else:
        line = rng.randint(1, lines)
        moved = conn.exec_driver_sql(
            "UPDATE posting SET account_id = (SELECT id FROM account WHERE name = 'Expenses:Operations') "
            "WHERE entry_id = ? AND line = ? AND account_id <> (SELECT id FROM account WHERE name = 'Expenses:Operations')",
            (k, line),
        )
        if moved.rowcount == 0:
            raise Unchanged  # that posting was already on Expenses:Operations
    _rehash_from(conn, k, head)
    return Forgery(f"recompute the chain after a balanced {how} edit of entry {k}", None)


@pytest.mark.parametrize(
    "tamperings", [pytest.param(150, id="150"), pytest.param(TAMPERINGS, id="1000", marks=pytest.mark.slow)]
)
def test_every_forgery_is_caught(forger_file: tuple[Path, int, str], tamperings: int) -> None:
    path, head, head_hash = forger_file
    engine = forger_engine(path)
    rng = random.Random(SEED + tamperings)
    by_kind: Counter[str] = Counter()
    caught_by_verify = caught_by_checkpoint = 0
    escaped: list[str] = []
    misnamed: list[str] = []
    began = time.perf_counter()
    try:
        with engine.connect() as conn:
            done = 0
            while done < tamperings:
                trans = conn.begin()
                try:
                    forgery = forge(rng, conn, head)
                except (Unchanged, DBAPIError):
                    trans.rollback()  # a unique constraint refused the edit, or it changed nothing
                    continue
                try:
                    problem = ledger.verify(conn)
                    against_checkpoint = checkpoint.extends_checkpoint(conn, head, head_hash)
                finally:
                    trans.rollback()
                done += 1
                by_kind[forgery.what.split(" ")[0]] += 1
                if forgery.first_bad is None:
                    # needs the checkpoint; verify may or may not see it, the checkpoint must
                    if against_checkpoint is None:
                        escaped.append(f"{forgery.what}: the checkpoint did not see it")
                    elif problem is None:
                        caught_by_checkpoint += 1
                    else:
                        caught_by_verify += 1
                    continue
                if problem is None:
                    escaped.append(forgery.what)
                    continue
                caught_by_verify += 1
                named = problem.entry_id == forgery.first_bad or (
                    forgery.also is not None and forgery.also in problem.message
                )
                if not named:
                    misnamed.append(f"{forgery.what}: named entry {problem.entry_id} ({problem.message})")
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - began
    caught = caught_by_verify + caught_by_checkpoint
    print(
        f"\n{caught}/{tamperings} tamperings caught on a ledger of {head} entries in {elapsed:.1f} s: "
        f"{caught_by_verify} by `audit verify`, {caught_by_checkpoint} (truncated tail, recomputed chain) "
        f"only by the checkpoint; {len(misnamed)} named the wrong entry. Kinds: {dict(sorted(by_kind.items()))}"
    )
    assert escaped == [], escaped[:20]
    assert misnamed == [], misnamed[:20]
    assert caught == tamperings


def test_the_ledger_itself_is_untouched(forger_file: tuple[Path, int, str]) -> None:
    """Every forgery above was rolled back: the forger's copy still verifies and matches."""
    path, head, head_hash = forger_file
    engine = forger_engine(path)
    try:
        with engine.connect() as conn, conn.begin():
            assert ledger.verify(conn) is None
            assert checkpoint.extends_checkpoint(conn, head, head_hash) is None
            assert checkpoint.extends_checkpoint(conn, head - 3, _scalar(conn, "SELECT hash FROM entry WHERE id = ?", head - 3)) is None
            assert checkpoint.extends_checkpoint(conn, head + 1, head_hash) is not None
    finally:
        engine.dispose()


# --- what the database itself refuses, on both engines ----------------------------------

ROW_PER_TABLE = [
    ("party", "INSERT INTO party (name, name_key, skeleton, kind, women_led, youth_led, recorded_at, recorded_by) "
              "VALUES ('Fondaction', 'fondaction', 'fondaction', 'labour-fund', :f, :f, 'now', 'sql')"),
    ("commitment", "INSERT INTO commitment (party_id, instrument, currency, recorded_at, recorded_by) "
                   "VALUES ((SELECT MAX(id) FROM party), 'equity', 'CAD', 'now', 'sql')"),
    ("commitment_event", "INSERT INTO commitment_event (commitment_id, kind, date, amount, recorded_at, recorded_by) "
                         "VALUES ((SELECT MAX(id) FROM commitment), 'signed', :d, 100000, 'now', 'sql')"),
    ("loan", "INSERT INTO loan (borrower_id, currency, principal, annual_rate, term, frequency, method, grace, "
             "first_due, approved_on, recorded_at, recorded_by) VALUES ((SELECT MAX(id) FROM party), 'CAD', "
             "5000000, '6.5', 12, 'monthly', 'annuity', 0, :d, :d, 'now', 'sql')"),
    ("loan_event", "INSERT INTO loan_event (loan_id, kind, date, amount, recorded_at, recorded_by) "
                   "VALUES ((SELECT MAX(id) FROM loan), 'approved', :d, 5000000, 'now', 'sql')"),
    ("target", "INSERT INTO target (category, amount, currency, date, recorded_at, recorded_by) "
               "VALUES ('members', 100000000, 'CAD', :d, 'now', 'sql')"),
    ("setting", "INSERT INTO setting (key, value, recorded_at, recorded_by) VALUES ('limit', '1', 'now', 'sql')"),
]
# entry, posting and account UPDATE/DELETE are in test_core_storage.py (RAW_REFUSALS).
CHANGES = [
    (table, sql.format(table=table))
    for table, _ in ROW_PER_TABLE
    for sql in ("UPDATE {table} SET recorded_by = 'someone else'", "DELETE FROM {table}")
]
TRUNCATED = ["entry", "posting", "account", "party", "commitment", "commitment_event", "loan", "loan_event",
             "target", "setting"]


@pytest.fixture
def full_engine(engine: Engine) -> Engine:
    """A ledger with one entry and one row in every append-only table."""
    ledger.record_entry(engine, EntryDraft(date(2018, 6, 1), "x", (Posting("Assets:Cash", D(1)),
                                                                     Posting("Equity:Paid-In-Capital", D(-1)))))
    with db.write_transaction(engine) as conn:
        for _table, sql in ROW_PER_TABLE:
            conn.execute(text(sql), {"d": date(2018, 6, 1), "f": False})
    return engine


def _counts(engine: Engine) -> dict[str, int]:
    with db.read_transaction(engine) as conn:
        return {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in TRUNCATED}


@pytest.mark.parametrize(("table", "sql"), CHANGES, ids=[f"{t}-{s.split()[0]}" for t, s in CHANGES])
def test_database_refuses_changing_any_table_of_the_books(full_engine: Engine, table: str, sql: str) -> None:
    before = _counts(full_engine)
    with pytest.raises(DBAPIError, match="append-only"), full_engine.begin() as conn:
        conn.execute(text(sql))
    assert _counts(full_engine) == before


@pytest.mark.parametrize("table", TRUNCATED)
def test_database_refuses_truncating_any_table_of_the_books(full_engine: Engine, table: str) -> None:
    if full_engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    before = _counts(full_engine)
    with pytest.raises(DBAPIError, match="append-only"), full_engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {table} CASCADE"))
    assert _counts(full_engine) == before


def _raw_postings(conn: Connection, entry_id: int, legs: list[tuple[int, str]]) -> None:
    for line, (amount, currency) in enumerate(legs, start=1):
        conn.execute(
            text("INSERT INTO posting (entry_id, line, entry_date, account_id, currency, amount) "
                 "VALUES (:e, :l, :d, 1, :c, :a)"),
            {"e": entry_id, "l": line, "d": date(2018, 6, 1), "c": currency, "a": amount},
        )


def _raw_entry_row(conn: Connection, entry_id: int) -> None:
    prev = conn.execute(text("SELECT hash FROM entry WHERE id = :i"), {"i": entry_id - 1}).scalar() or "0" * 64
    conn.execute(
        text("INSERT INTO entry (id, date, memo, kind, recorded_by, recorded_at, prev_hash, hash) "
             "VALUES (:i, :d, 'raw', 'manual', 'sql', 'now', :p, :h)"),
        {"i": entry_id, "d": date(2018, 6, 1), "p": prev, "h": "e" * 64},
    )


# [500, -400] CAD is in test_core_storage.py; these are the other ways to be unbalanced.
UNBALANCED = {
    "one posting": [(100, "CAD")],
    "no posting": [],
    "balanced in sum, not per currency": [(100, "CAD"), (-100, "USD")],
    "one currency off among two": [(100, "CAD"), (-100, "CAD"), (5, "USD"), (-4, "USD")],
}


@pytest.mark.parametrize("legs", UNBALANCED.values(), ids=UNBALANCED.keys())
def test_database_refuses_unbalanced_raw_entries(engine: Engine, legs: list[tuple[int, str]]) -> None:
    ledger.record_entry(engine, EntryDraft(date(2018, 6, 1), "x", (Posting("Assets:Cash", D(1)),
                                                                     Posting("Equity:Paid-In-Capital", D(-1)))))
    with pytest.raises(DBAPIError, match=r"balance|two postings"), engine.begin() as conn:
        _raw_postings(conn, 2, legs)
        _raw_entry_row(conn, 2)
    with db.read_transaction(engine) as conn:
        assert ledger.chain_head(conn)[0] == 1
        assert conn.execute(text("SELECT COUNT(*) FROM posting")).scalar_one() == 2


def test_postings_written_after_their_entry_row_are_refused(engine: Engine) -> None:
    """An entry row first and unbalanced postings after it: the postings are refused."""
    with pytest.raises(DBAPIError, match=r"entry being recorded|two postings"), engine.begin() as conn:
        _raw_entry_row(conn, 1)
        _raw_postings(conn, 1, [(100, "CAD"), (-99, "CAD")])
    with db.read_transaction(engine) as conn:
        assert ledger.chain_head(conn)[0] == 0


def _raw_write(conn: Connection, *, entry_id: int = 2, kind: str = "manual", on: date = date(2018, 6, 1),
               posting_day: date = date(2018, 6, 1), prev: str | None = None,
               legs: tuple[int, ...] = (100, -100)) -> None:
    """Postings, then the entry row, as a writer that bypasses fisiq would send them."""
    for line, amount in enumerate(legs, start=1):
        conn.execute(
            text("INSERT INTO posting (entry_id, line, entry_date, account_id, currency, amount) "
                 "VALUES (:e, :l, :d, 1, 'CAD', :a)"),
            {"e": entry_id, "l": line, "d": posting_day, "a": amount},
        )
    if prev is None:
        prev = conn.execute(text("SELECT hash FROM entry WHERE id = :i"), {"i": entry_id - 1}).scalar() or "0" * 64
    conn.execute(
        text("INSERT INTO entry (id, date, memo, kind, recorded_by, recorded_at, prev_hash, hash) "
             "VALUES (:i, :d, 'raw', :k, 'sql', 'now', :p, :h)"),
        {"i": entry_id, "d": on, "k": kind, "p": prev, "h": "d" * 64},
    )


# Every rule the database checks on a new entry, each broken alone, with what it says.
BROKEN_RULES = {
    "a skipped id": ({"entry_id": 3}, "next in the chain"),
    "a forged predecessor hash": ({"prev": "a" * 64}, "previous entry's hash"),
    "a date inside a closed period": ({"on": date(2018, 3, 31), "posting_day": date(2018, 3, 31)}, "closed period"),
    "a posting dated otherwise": ({"posting_day": date(2018, 6, 2)}, "date differs|dated as the entry"),
    "a period close with postings": ({"kind": "period-close"}, "carries no postings|carries none"),
}


@pytest.mark.parametrize(("broken", "message"), BROKEN_RULES.values(), ids=BROKEN_RULES.keys())
def test_database_refuses_each_broken_rule_from_raw_sql(engine: Engine, broken: dict[str, object], message: str) -> None:
    ledger.close_period(engine, date(2018, 4, 30))
    with db.read_transaction(engine) as conn:
        before = ledger.chain_head(conn)
    with pytest.raises(DBAPIError, match=message), engine.begin() as conn:
        _raw_write(conn, **broken)  # type: ignore[arg-type]
    with db.read_transaction(engine) as conn:
        assert ledger.chain_head(conn) == before
        assert conn.execute(text("SELECT COUNT(*) FROM posting")).scalar_one() == 0
    with engine.begin() as conn:  # the same write with the rule kept goes in: the test breaks one rule only
        _raw_write(conn)
