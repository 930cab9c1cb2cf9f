"""Property-based tests of the core: DESIGN.md invariants 1-4, on the real storage.

Each property draws random multi-currency entries (CAD and USD with 2 decimals, XOF with 0)
over random dates, records them in a fresh ledger per example (`ledgers.engine()` inside the
example: function-scoped fixtures are not reset between examples), and compares what the
ledger reports with a plain model computed from the drafts. Comparing with the model, not only
checking "sums to zero", is what makes a wrong sign or a lost posting fail: a ledger that
negated every amount would still sum to zero.

The examples run inside each test (`@given` on an inner function) so that the PostgreSQL
run can take fewer examples than SQLite in the default profile (a fresh PostgreSQL ledger
costs a schema and a migration); `HYPOTHESIS_PROFILE=thorough` runs the full count on both.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, event, func, insert, select, text
from sqlalchemy.exc import DBAPIError

from fisiq import db, ledger
from fisiq.accounts import STANDARD_CHART, AccountType, check_account_name
from fisiq.entries import (
    GENESIS_HASH,
    EntryDraft,
    Posting,
    RecordedEntry,
    canonical_bytes,
    imbalances,
    reversal_of,
    seal,
    verify_chain,
)
from fisiq.errors import LedgerError
from fisiq.models import Party
from fisiq.money import from_minor, to_minor
from fisiq.names import name_key, skeleton
from fisiq.reports import trial_balance

CURRENCIES = ("CAD", "USD", "XOF")
ACCOUNTS = tuple(a.name for a in STANDARD_CHART)
PARTIES = ("Fondaction", "Fonds de solidarité FTQ", "MRIF", "Mer et Monde")
FIRST_DAY = date(2018, 1, 1)
LAST_DAY = date(2026, 12, 31)
PARTY = Party.__table__  # type: ignore[attr-defined]

Key = tuple[str, str | None, str]  # (account, party, currency)
# The hash of test_hash_of_a_known_entry_is_unchanged's entry, as fisiq 0.1 computed it.
KNOWN_HASH = "f7cf54851ebd11eef2a7752dd80c1ea2e9c0f3a37256f444a96a1b05afda4731"


# --- strategies --------------------------------------------------------------------------

days = st.dates(min_value=FIRST_DAY, max_value=LAST_DAY)
texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30
)


@st.composite
def legs(draw: st.DrawFn, currency: str, accounts: Sequence[str]) -> list[Posting]:
    """Two to five nonzero postings in one currency that sum to zero exactly."""
    top = 10**9 if currency != "XOF" else 10**7
    debits = draw(st.lists(st.integers(1, top), min_size=1, max_size=3))
    total = sum(debits)
    if total > 1 and draw(st.booleans()):
        cut = draw(st.integers(1, total - 1))
        credits = [cut, total - cut]
    else:
        credits = [total]
    minors = [*debits, *(-c for c in credits)]
    if draw(st.booleans()):
        minors = [-m for m in minors]
    minors = draw(st.permutations(minors))
    return [
        Posting(
            draw(st.sampled_from(accounts)),
            from_minor(m, currency),
            currency,
            draw(st.none() | st.sampled_from(PARTIES)),
        )
        for m in minors
    ]


@st.composite
def drafts(draw: st.DrawFn, accounts: Sequence[str] = ACCOUNTS) -> EntryDraft:
    """A balanced entry on random accounts, in one to three currencies, on a random date."""
    currencies = draw(st.lists(st.sampled_from(CURRENCIES), min_size=1, max_size=3, unique=True))
    postings: list[Posting] = []
    for currency in currencies:
        postings.extend(draw(legs(currency, accounts)))
    return EntryDraft(
        date=draw(days),
        memo=draw(texts),
        postings=tuple(postings),
        kind=draw(st.sampled_from(("manual", "commitment-payment", "loan-repayment"))),
        link=draw(st.none() | st.sampled_from(("commitment:1", "loan:7"))),
    )


# --- helpers -----------------------------------------------------------------------------


def budget(ledgers: Any, quick: int = 25) -> settings:
    """Examples for this engine. The default profile takes `quick` examples on SQLite and 8 on
    PostgreSQL (each costs a fresh ledger); the thorough profile takes its full count on both."""
    profile = settings.default
    count = profile.max_examples
    if count <= 40:  # the quick profile
        count = min(count, quick if ledgers.engine_name == "sqlite" else 8)
    return settings(profile, max_examples=count)


def add_parties(engine: Engine) -> None:
    """The parties the strategies name, written as plain rows (no party module needed)."""
    now = db.utc_now()
    rows = [
        {"name": n, "name_key": name_key(n), "skeleton": skeleton(n), "kind": "investor",
         "recorded_at": now, "recorded_by": "test"}
        for n in PARTIES
    ]
    with db.write_transaction(engine) as conn:
        conn.execute(insert(PARTY), rows)


def no_fsync(engine: Engine) -> Engine:
    """Skip SQLite's fsync on commit: these tests are about what is written, not about
    surviving a power cut, and an fsync per commit would make them mostly wait on the disk.
    The triggers, the SQL and the transactions are the production ones."""
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _no_fsync(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA synchronous = OFF")

    return engine


def fresh(ledgers: Any) -> Engine:
    engine = no_fsync(ledgers.engine())
    add_parties(engine)
    return engine


def record_all(engine: Engine, entries: Sequence[EntryDraft], bulk: bool) -> list[RecordedEntry]:
    """Record through the bulk path (one transaction) or one entry per transaction."""
    if bulk:
        with db.write_transaction(engine) as conn:
            return [r.entry for r in ledger.append_entries(conn, entries)]
    return [ledger.record_entry(engine, d).entry for d in entries]


def model(entries: Sequence[EntryDraft], *, as_of: date | None = None, start: date | None = None) -> Counter[Key]:
    """Balances per (account, party, currency) in minor units, computed from the drafts alone."""
    out: Counter[Key] = Counter()
    for d in entries:
        if (as_of is not None and d.date > as_of) or (start is not None and d.date < start):
            continue
        for p in d.postings:
            out[(p.account, p.party, p.currency)] += to_minor(p.amount, p.currency)
    return out


def by_account(balances: Counter[Key]) -> dict[tuple[str, str], int]:
    out: Counter[tuple[str, str]] = Counter()
    for (account, _party, currency), minor in balances.items():
        out[(account, currency)] += minor
    return {k: v for k, v in out.items() if v != 0}


def stored_balances(conn: Connection, *, as_of: date | None = None, start: date | None = None) -> dict[tuple[str, str], int]:
    rows = ledger.balances(conn, as_of=as_of, start=start)
    return {(b.account, b.currency): to_minor(b.amount, b.currency) for b in rows if b.amount != 0}


def stored_party_balances(conn: Connection, as_of: date | None = None) -> dict[Key, int]:
    names = ledger.party_names(conn)
    raw = ledger.balances_by_party(conn, ACCOUNTS, as_of=as_of)
    return {
        (account, names[pid] if pid is not None else None, cur): to_minor(amount, cur)
        for (account, pid, cur), amount in raw.items()
        if amount != 0
    }


def nonzero(c: Counter[Key]) -> dict[Key, int]:
    return {k: v for k, v in c.items() if v != 0}


def probe_dates(entries: Sequence[EntryDraft], extra: Sequence[date]) -> list[date | None]:
    """Dates where an off-by-one in "as of" shows: each entry's day, the day before, random days."""
    dates: set[date] = set(extra)
    for d in entries[:4]:
        dates.update((d.date, d.date - timedelta(days=1)))
    return [None, *sorted(dates)]


def table_rows(conn: Connection) -> dict[str, set[tuple[Any, ...]]]:
    return {
        table: {tuple(r) for r in conn.execute(text(f"SELECT * FROM {table}"))}
        for table in ("entry", "posting")
    }


# --- invariant 1: every entry and the whole ledger sum to zero ---------------------------


def test_entries_and_ledger_sum_to_zero_at_any_date(ledgers: Any) -> None:
    @budget(ledgers)
    @given(
        entries=st.lists(drafts(), min_size=1, max_size=10),
        bulk=st.booleans(),
        extra=st.lists(days, max_size=3),
    )
    def check(entries: list[EntryDraft], bulk: bool, extra: list[date]) -> None:
        engine = fresh(ledgers)
        recorded = record_all(engine, entries, bulk)
        with db.read_transaction(engine) as conn:
            stored = list(ledger.iter_entries(conn))
            # Each entry reads back exactly as drafted, and sums to zero per currency.
            assert [e.id for e in stored] == list(range(1, len(entries) + 1))
            assert stored == recorded
            for entry, drafted in zip(stored, entries, strict=True):
                assert entry.date == drafted.date
                assert entry.postings == drafted.postings
                assert imbalances(entry.postings) == {}
            # The stored integer rows too, not only their Decimal reading.
            off = conn.execute(
                text("SELECT entry_id, currency FROM posting GROUP BY entry_id, currency HAVING SUM(amount) <> 0")
            ).all()
            assert off == []
            for day in probe_dates(entries, extra):
                tb = trial_balance(ledger.balances(conn, as_of=day))
                assert tb.balanced and all(total == 0 for total in tb.totals.values()), day
                assert stored_balances(conn, as_of=day) == by_account(model(entries, as_of=day)), day
                assert stored_party_balances(conn, as_of=day) == nonzero(model(entries, as_of=day)), day
                if day is not None:
                    # a period [start, end] sums to zero as well
                    start = day - timedelta(days=400)
                    assert trial_balance(ledger.balances(conn, start=start, as_of=day)).balanced
                    assert stored_balances(conn, start=start, as_of=day) == by_account(
                        model(entries, start=start, as_of=day)
                    )

    check()


# --- invariant 2: the accounting equation ------------------------------------------------

extra_accounts = st.lists(
    st.tuples(
        st.sampled_from(("Assets", "Liabilities", "Equity", "Income", "Expenses")),
        st.from_regex(r"[A-Z][a-z0-9-]{0,8}", fullmatch=True),
    ),
    max_size=3,
    unique_by=lambda t: t,
)


def test_accounting_equation_holds_at_any_date(ledgers: Any) -> None:
    @budget(ledgers)
    @given(data=st.data(), extra=extra_accounts, probes=st.lists(days, max_size=3))
    def check(data: st.DataObject, extra: list[tuple[str, str]], probes: list[date]) -> None:
        engine = fresh(ledgers)
        names = list(ACCOUNTS)
        for root, leaf in extra:
            name = f"{root}:Test:{leaf}"
            ledger.add_account(engine, name, check_account_name(name))
            names.append(name)
        entries = data.draw(st.lists(drafts(names), min_size=1, max_size=10), label="entries")
        record_all(engine, entries, bulk=data.draw(st.booleans(), label="bulk"))
        with db.read_transaction(engine) as conn:
            for day in probe_dates(entries, probes):
                per_type: Counter[tuple[AccountType, str]] = Counter()
                for b in ledger.balances(conn, as_of=day):
                    # the type reported is the one the root of the name fixes
                    assert b.account_type == check_account_name(b.account), b
                    per_type[(b.account_type, b.currency)] += to_minor(b.amount, b.currency)
                expected: Counter[tuple[AccountType, str]] = Counter()
                for (account, _party, currency), minor in model(entries, as_of=day).items():
                    expected[(check_account_name(account), currency)] += minor
                assert {k: v for k, v in per_type.items() if v} == {k: v for k, v in expected.items() if v}
                for currency in CURRENCIES:
                    a, li, e, i, x = (per_type[(t, currency)] for t in AccountType)
                    assert a + li + e + i + x == 0, (day, currency)  # signs as stored
                    assert a == (-li) + (-e) + (-i) - x, (day, currency)  # as presented

    check()


# --- invariant 3: reversals restore balances; nothing is updated or deleted ---------------


def test_reversals_restore_every_balance_and_rows_only_grow(ledgers: Any) -> None:
    @budget(ledgers)
    @given(data=st.data(), entries=st.lists(drafts(), min_size=1, max_size=8))
    def check(data: st.DataObject, entries: list[EntryDraft]) -> None:
        engine = fresh(ledgers)
        recorded = record_all(engine, entries, bulk=data.draw(st.booleans(), label="bulk"))
        order = data.draw(st.permutations(range(len(recorded))), label="order")
        count = data.draw(st.integers(1, len(recorded)), label="count")
        live = list(entries)
        with db.read_transaction(engine) as conn:
            rows = table_rows(conn)
        for index in order[:count]:
            original = recorded[index]
            with db.read_transaction(engine) as conn:
                before = stored_party_balances(conn)
            on = data.draw(days, label="reversal date")
            reversal = ledger.reverse_entry(engine, original.id, on).entry
            assert reversal.reverses == original.id
            assert reversal.postings == tuple(p.negated() for p in original.postings)
            live.append(reversal.draft())
            with db.read_transaction(engine) as conn:
                after = stored_party_balances(conn)
                now_rows = table_rows(conn)
                # the books moved by exactly minus the reversed entry, no more, no less
                delta = Counter(after)
                delta.subtract(Counter(before))
                assert nonzero(delta) == nonzero(Counter(
                    {k: -v for k, v in model([original.draft()]).items()}
                ))
                assert stored_party_balances(conn) == nonzero(model(live))
                assert trial_balance(ledger.balances(conn)).balanced
            # append-only: every row seen before is still there, unchanged; one entry and its
            # postings were added
            for table in ("entry", "posting"):
                assert rows[table] <= now_rows[table], table
            assert len(now_rows["entry"]) == len(rows["entry"]) + 1
            assert len(now_rows["posting"]) == len(rows["posting"]) + len(original.postings)
            rows = now_rows
            with pytest.raises(LedgerError, match="already reversed"):
                ledger.reverse_entry(engine, original.id, on)
        if count == len(recorded):
            with db.read_transaction(engine) as conn:
                # everything reversed: every balance, per account, party and currency, is zero
                assert stored_party_balances(conn) == {}
                assert all(b.amount == 0 for b in ledger.balances(conn))
                assert ledger.verify(conn) is None

    check()


def test_database_refuses_any_update_or_delete_of_recorded_rows(ledgers: Any) -> None:
    @budget(ledgers, 15)
    @given(data=st.data(), entries=st.lists(drafts(), min_size=1, max_size=4))
    def check(data: st.DataObject, entries: list[EntryDraft]) -> None:
        engine = fresh(ledgers)
        record_all(engine, entries, bulk=True)
        with db.read_transaction(engine) as conn:
            before = table_rows(conn)
        table, column, value = data.draw(
            st.sampled_from([
                ("entry", "memo", "'forged'"), ("entry", "date", "'2030-01-01'"),
                ("entry", "hash", f"'{'f' * 64}'"), ("posting", "amount", "amount * 2"),
                ("posting", "currency", "'USD'"), ("posting", "entry_date", "'2030-01-01'"),
                ("entry", "id", "id + 1000"), ("posting", "account_id", "account_id + 1"),
            ]),
            label="change",
        )
        statement = data.draw(
            st.sampled_from([
                f"UPDATE {table} SET {column} = {value}",
                f"DELETE FROM {table}",
            ]),
            label="statement",
        )
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
        with db.read_transaction(engine) as conn:
            assert table_rows(conn) == before
            assert ledger.verify(conn) is None

    check()


# --- invariant 4: the hash chain ----------------------------------------------------------


def _seal_all(entries: Sequence[EntryDraft], reversals: Sequence[int]) -> list[RecordedEntry]:
    """A chain built with the pure functions, including reversals of earlier entries."""
    chain: list[RecordedEntry] = []
    prev = GENESIS_HASH
    for i, d in enumerate(entries, start=1):
        chain.append(seal(d, i, prev, "tester", f"2026-01-01T00:00:{i % 60:02d}.000000Z"))
        prev = chain[-1].hash
    for target in reversals:
        if target <= len(entries):
            draft = reversal_of(chain[target - 1], chain[target - 1].date)
            chain.append(seal(draft, len(chain) + 1, prev, "tester", "2026-02-01T00:00:00.000000Z"))
            prev = chain[-1].hash
    return chain


def _other_currency(currency: str) -> str:
    return {"CAD": "USD", "USD": "XOF", "XOF": "CAD"}[currency]


def _tamper_posting(p: Posting, how: str, delta: int) -> Posting:
    minor = to_minor(p.amount, p.currency)
    if how == "amount":
        changed = minor + delta if minor + delta != 0 else minor - delta
        return replace(p, amount=from_minor(changed, p.currency))
    if how == "currency":
        other = _other_currency(p.currency)
        return replace(p, amount=from_minor(minor, other), currency=other)
    if how == "account":
        return replace(p, account=ACCOUNTS[(ACCOUNTS.index(p.account) + 1) % len(ACCOUNTS)])
    # party
    return replace(p, party=None if p.party is not None else PARTIES[0])


ENTRY_FIELDS = ("id", "date", "memo", "kind", "ref", "link", "reverses", "recorded_by", "recorded_at",
                "prev_hash", "hash")
POSTING_FIELDS = ("amount", "currency", "account", "party", "drop", "duplicate", "order")


def _flip(hex_text: str) -> str:
    return ("1" if hex_text[0] == "0" else "0") + hex_text[1:]


def _tamper_entry(e: RecordedEntry, how: str, pick: int, delta: int) -> RecordedEntry:
    changes: dict[str, Callable[[], RecordedEntry]] = {
        "id": lambda: e._replace(id=e.id + delta + 1),
        "date": lambda: e._replace(date=e.date + timedelta(days=delta)),
        "memo": lambda: e._replace(memo=e.memo + "!"),
        "kind": lambda: e._replace(kind="loan-disbursement" if e.kind != "loan-disbursement" else "manual"),
        "ref": lambda: e._replace(ref=None if e.ref else "R-forged"),
        "link": lambda: e._replace(link=None if e.link else "loan:99"),
        "reverses": lambda: e._replace(reverses=None if e.reverses else 10_000),
        "recorded_by": lambda: e._replace(recorded_by=e.recorded_by + "x"),
        "recorded_at": lambda: e._replace(recorded_at=e.recorded_at.replace("2026", "2025")),
        "prev_hash": lambda: e._replace(prev_hash=_flip(e.prev_hash)),
        "hash": lambda: e._replace(hash=_flip(e.hash)),
    }
    if how in changes:
        return changes[how]()
    postings = list(e.postings)
    i = pick % len(postings)
    if how == "drop":
        del postings[i]
    elif how == "duplicate":
        postings.insert(i, postings[i])
    elif how == "order":
        postings.append(postings.pop(0))
    else:
        postings[i] = _tamper_posting(postings[i], how, delta)
    return e._replace(postings=tuple(postings))


@given(
    entries=st.lists(drafts(), min_size=1, max_size=8),
    reversals=st.lists(st.integers(1, 8), max_size=3, unique=True),
    data=st.data(),
)
def test_chain_verifies_and_any_single_change_is_named(
    entries: list[EntryDraft], reversals: list[int], data: st.DataObject
) -> None:
    chain = _seal_all(entries, reversals)
    assert verify_chain(chain) is None
    index = data.draw(st.integers(0, len(chain) - 1), label="entry")
    how = data.draw(st.sampled_from(ENTRY_FIELDS + POSTING_FIELDS), label="field")
    pick = data.draw(st.integers(0, 10), label="posting")
    delta = data.draw(st.integers(1, 500), label="delta")
    forged = _tamper_entry(chain[index], how, pick, delta)
    assert forged != chain[index]
    tampered = [*chain[:index], forged, *chain[index + 1:]]
    problem = verify_chain(tampered)
    assert problem is not None, how
    # the first bad entry is named (an id changed is named by the id it now carries)
    assert problem.entry_id == forged.id, (how, problem)


any_text = st.text(max_size=20)  # quotes, backslashes, control and non-BMP characters included


@given(
    draft=drafts(),
    memo=any_text,
    ref=st.none() | any_text.filter(bool),
    link=st.none() | any_text,
    party=st.none() | any_text,
    who=any_text,
    entry_id=st.integers(1, 10**12),
    reverses=st.none() | st.integers(1, 10**12),
)
def test_hash_covers_the_documented_json_byte_for_byte(
    draft: EntryDraft, memo: str, ref: str | None, link: str | None, party: str | None, who: str,
    entry_id: int, reverses: int | None,
) -> None:
    """The hashed bytes are json.dumps of the documented list (docs/accounting.md), UTF-8.

    `_canonical` writes that JSON by hand for speed; a ledger recorded by any version verifies
    only if both agree on every character.
    """
    postings = (replace(draft.postings[0], party=party), *draft.postings[1:])
    draft = replace(draft, memo=memo, ref=ref, link=link, reverses=reverses, postings=postings)
    entry = seal(draft, entry_id, GENESIS_HASH, who, "2026-11-28T04:00:00.123456Z")
    documented = [
        1, entry_id, draft.date.isoformat(), memo, draft.kind, ref, link, reverses, who,
        "2026-11-28T04:00:00.123456Z", GENESIS_HASH,
        [[p.account, p.party, p.currency, to_minor(p.amount, p.currency)] for p in postings],
    ]
    expected = json.dumps(documented, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert canonical_bytes(entry) == expected
    assert entry.hash == hashlib.sha256(expected).hexdigest()


def test_hash_of_a_known_entry_is_unchanged() -> None:
    """A fixed entry hashes as every fisiq version so far has hashed it (stored ledgers rely on it)."""
    draft = EntryDraft(date(2018, 3, 23), 'Capital «FISIQ» "tranche 1"\n',
                       (Posting("Assets:Cash", Decimal("465000.00"), "CAD"),
                        Posting("Equity:Paid-In-Capital", Decimal("-465000.00"), "CAD", "Fondaction")),
                       kind="commitment-payment", ref="csv:7", link="commitment:3")
    entry = seal(draft, 42, GENESIS_HASH, "agnès", "2026-11-28T04:00:00.123456Z")
    assert entry.hash == KNOWN_HASH


def _column_change(rng: st.DataObject, conn: sqlite3.Connection, head: int) -> tuple[str, str, object, int]:
    """A (table, column, new value, entry it belongs to) single-field forgery, with its row."""
    table = rng.draw(st.sampled_from(("entry", "posting")), label="table")
    if table == "entry":
        entry_id = rng.draw(st.integers(1, head), label="entry id")
        row = conn.execute("SELECT * FROM entry WHERE id = ?", (entry_id,)).fetchone()
        cols = [c[0] for c in conn.execute("SELECT * FROM entry LIMIT 0").description]
        current = dict(zip(cols, row, strict=True))
        taken = {r[0] for r in conn.execute("SELECT reverses FROM entry WHERE reverses IS NOT NULL")}
        free = [i for i in range(1, entry_id) if i not in taken]
        choices = ["date", "memo", "kind", "ref", "link", "recorded_by", "recorded_at", "prev_hash",
                   "hash", "id"]
        if current["reverses"] is not None or free:
            choices.append("reverses")
        column = rng.draw(st.sampled_from(choices), label="column")
        value: object
        if column == "date":
            value = (date.fromisoformat(current["date"]) + timedelta(days=1)).isoformat()
        elif column in ("prev_hash", "hash"):
            value = _flip(current[column])
        elif column == "id":
            value = head + 100
        elif column == "reverses":
            value = None if current["reverses"] is not None else free[0]
        elif column in ("ref", "link"):
            value = None if current[column] else "forged"
        elif column == "kind":
            value = "manual" if current["kind"] != "manual" else "loan-repayment"
        else:
            value = current[column] + "!"
        return table, column, (value, entry_id), entry_id
    count = conn.execute("SELECT COUNT(*) FROM posting").fetchone()[0]
    offset = rng.draw(st.integers(0, count - 1), label="posting")
    row = conn.execute("SELECT id, entry_id, line, entry_date, account_id, party_id, currency, amount "
                       "FROM posting ORDER BY id LIMIT 1 OFFSET ?", (offset,)).fetchone()
    pid, entry_id, line, entry_date, account_id, party_id, currency, amount = row
    column = rng.draw(st.sampled_from(
        ("entry_id", "line", "entry_date", "account_id", "party_id", "currency", "amount")
    ), label="column")
    if column == "entry_id":
        value = head + 1  # the posting leaves its entry (an orphan)
    elif column == "line":
        # first posting moved last: the order changes, which the hash covers
        value = 99 if line == 1 else 0
    elif column == "entry_date":
        value = (date.fromisoformat(entry_date) + timedelta(days=1)).isoformat()
    elif column == "account_id":
        value = account_id % len(ACCOUNTS) + 1
    elif column == "party_id":
        value = None if party_id is not None else 1
    elif column == "currency":
        value = _other_currency(currency)
    else:
        value = amount * 2
    return "posting", column, (value, pid), entry_id


@pytest.mark.parametrize("seed_entries", [6])
def test_stored_chain_names_the_entry_whose_field_was_forged(ledgers: Any, seed_entries: int) -> None:
    """A forger with file access drops the append-only triggers and edits one stored field."""
    if ledgers.engine_name != "sqlite":
        pytest.skip("edits the file with the triggers dropped: an SQLite-only forgery")

    @budget(ledgers, 40)
    @given(data=st.data(), entries=st.lists(drafts(), min_size=2, max_size=seed_entries))
    def check(data: st.DataObject, entries: list[EntryDraft]) -> None:
        target = ledgers.target()
        engine = no_fsync(db.open_ledger(target))
        ledgers.engines.append(engine)
        add_parties(engine)
        recorded = record_all(engine, entries, bulk=data.draw(st.booleans(), label="bulk"))
        if data.draw(st.booleans(), label="with reversal"):
            ledger.reverse_entry(engine, recorded[0].id, entries[0].date)
        with db.read_transaction(engine) as conn:
            assert ledger.verify(conn) is None
            head = ledger.chain_head(conn)[0]
        raw = sqlite3.connect(target)  # foreign keys off, as a forger would have them
        try:
            table, column, (value, row_id), entry_id = _column_change(data, raw, head)
            raw.execute(f"DROP TRIGGER {table}_no_update")
            raw.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", (value, row_id))
            raw.commit()
        finally:
            raw.close()
        with db.read_transaction(engine) as conn:
            problem = ledger.verify(conn)
        assert problem is not None, (table, column)
        named = problem.entry_id == entry_id or f"entry {entry_id} is missing" in problem.message
        assert named, (table, column, entry_id, problem)

    check()


def test_stored_chain_verifies_on_every_engine(ledgers: Any) -> None:
    @budget(ledgers)
    @given(entries=st.lists(drafts(), min_size=1, max_size=10))
    def check(entries: list[EntryDraft]) -> None:
        engine = fresh(ledgers)
        recorded = record_all(engine, entries, bulk=True)
        with db.read_transaction(engine) as conn:
            assert ledger.verify(conn) is None
            assert conn.execute(select(func.count()).select_from(PARTY)).scalar() == len(PARTIES)
        # the stored chain is the chain the pure functions compute: nothing engine-specific
        # (dates, text, amounts) changes a hash
        assert verify_chain(recorded) is None
        prev = GENESIS_HASH
        for entry in recorded:
            assert entry.prev_hash == prev
            prev = entry.hash

    check()
