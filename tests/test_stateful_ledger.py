"""A stateful test of the journal: random sequences of writes against the real ledger and a
dict model of its balances (STYLE.md, "Hypothesis stateful testing").

Rules post balanced entries (some with a reference), repost a reference with the same content
(a no-op) or different content (refused), reverse random entries (including ones already
reversed, period closes and ids that do not exist: refused), close periods, and attempt
invalid entries (unbalanced, a zero posting, an unknown account or party, one posting, more
decimals than the currency has), which must raise and change nothing. After every step the
invariants check that the balances per account, party and currency equal the model, that the
trial balance sums to zero, that the chain head is where the model says, and that
`ledger.verify` finds nothing.

It runs on SQLite always and on PostgreSQL when FISIQ_TEST_DATABASE_URL is set: the machine
class is built per engine inside a test that takes the `ledgers` fixture.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import event, insert

from fisiq import db, ledger
from fisiq.accounts import STANDARD_CHART
from fisiq.entries import PERIOD_CLOSE, EntryDraft, EntryError, Posting, same_content
from fisiq.errors import FisiqError, LedgerError
from fisiq.models import Party
from fisiq.money import from_minor, to_minor
from fisiq.names import name_key, skeleton
from fisiq.reports import trial_balance

ACCOUNTS = tuple(a.name for a in STANDARD_CHART)
CURRENCIES = ("CAD", "USD", "XOF")
PARTIES = ("Fondaction", "MRIF", "Mer et Monde")
REFS = ("R-1", "R-2", "R-3", "R-4")
PARTY = Party.__table__  # type: ignore[attr-defined]
D = Decimal

Key = tuple[str, str | None, str]  # (account, party, currency)

# Entries fall in 2018-2027; periods are closed only within 2018, so most writes still land.
days = st.dates(min_value=date(2018, 1, 1), max_value=date(2027, 12, 31))
close_days = st.dates(min_value=date(2018, 1, 1), max_value=date(2018, 12, 31))


@st.composite
def postings(draw: st.DrawFn) -> tuple[Posting, ...]:
    """Two to six nonzero postings in one or two currencies, balancing per currency."""
    out: list[Posting] = []
    for currency in draw(st.lists(st.sampled_from(CURRENCIES), min_size=1, max_size=2, unique=True)):
        top = 10**9 if currency != "XOF" else 10**7
        debits = draw(st.lists(st.integers(1, top), min_size=1, max_size=2))
        minors = [*debits, -sum(debits)]
        if draw(st.booleans()):
            minors = [-m for m in minors]
        for m in draw(st.permutations(minors)):
            out.append(Posting(
                draw(st.sampled_from(ACCOUNTS)), from_minor(m, currency), currency,
                draw(st.none() | st.sampled_from(PARTIES)),
            ))
    return tuple(out)


@st.composite
def drafts(draw: st.DrawFn, ref: str | None = None) -> EntryDraft:
    return EntryDraft(draw(days), draw(st.sampled_from(("gift", "loan", "paiement été"))), draw(postings()),
                      ref=ref)


def _invalid(kind: str, on: date) -> tuple[EntryDraft, type[FisiqError], str]:
    """An entry fisiq must refuse, the error it raises and a fragment of the message."""
    cash, capital = "Assets:Cash", "Equity:Paid-In-Capital"
    cases: dict[str, tuple[tuple[Posting, ...], type[FisiqError], str]] = {
        "unbalanced": ((Posting(cash, D("100.00")), Posting(capital, D("-99.99"))), EntryError, "does not balance"),
        "unbalanced-currency": ((Posting(cash, D("5"), "USD"), Posting(capital, D("-5"))), EntryError,
                                "does not balance"),
        "zero": ((Posting(cash, D("0.00")), Posting(cash, D("1.00")), Posting(capital, D("-1.00"))), EntryError,
                 "zero"),
        "unknown-account": ((Posting("Assets:Nowhere", D("1.00")), Posting(capital, D("-1.00"))), EntryError,
                            "unknown account"),
        "unknown-party": ((Posting(cash, D("1.00"), party="Nobody Inc"), Posting(capital, D("-1.00"))),
                          LedgerError, "unknown party"),
        "one-posting": ((Posting(cash, D("1.00")),), EntryError, "at least two"),
        "xof-decimals": ((Posting(cash, D("1.5"), "XOF"), Posting(capital, D("-1.5"), "XOF")), EntryError,
                         "decimals"),
        "cad-decimals": ((Posting(cash, D("0.001")), Posting(capital, D("-0.001"))), EntryError, "decimals"),
    }
    legs, error, fragment = cases[kind]
    return EntryDraft(on, "bad", legs), error, fragment


@dataclass
class Known:
    """What the model remembers of a recorded entry."""

    kind: str
    postings: tuple[Posting, ...]
    reversed_by: int | None = None


class LedgerMachine(RuleBasedStateMachine):
    factory: ClassVar[Any]  # the `ledgers` fixture of the test that builds the machine

    def __init__(self) -> None:
        super().__init__()
        self.target, self.engine = self.factory.scratch()
        if self.engine.dialect.name == "sqlite":
            # no fsync per commit: what is written is under test here, not power-cut survival
            @event.listens_for(self.engine, "connect")
            def _no_fsync(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.execute("PRAGMA synchronous = OFF")

        now = db.utc_now()
        with db.write_transaction(self.engine) as conn:
            conn.execute(insert(PARTY), [
                {"name": n, "name_key": name_key(n), "skeleton": skeleton(n), "kind": "investor",
                 "recorded_at": now, "recorded_by": "test"}
                for n in PARTIES
            ])
        self.balances: Counter[Key] = Counter()
        self.entries: dict[int, Known] = {}
        self.refs: dict[str, tuple[int, EntryDraft]] = {}
        self.closed: date | None = None

    # --- the model ---------------------------------------------------------------------

    @property
    def head(self) -> int:
        return len(self.entries)

    def _apply(self, entry_id: int, kind: str, legs: tuple[Posting, ...]) -> None:
        assert entry_id == self.head + 1, "entries take the next chain position"
        self.entries[entry_id] = Known(kind, legs)
        for p in legs:
            self.balances[(p.account, p.party, p.currency)] += to_minor(p.amount, p.currency)

    def _in_closed_period(self, on: date) -> bool:
        return self.closed is not None and on <= self.closed

    def _refused(self, error: type[Exception], fragment: str, call: Any) -> None:
        before = self._chain_head()
        with pytest.raises(error, match=fragment):
            call()
        assert self._chain_head() == before, "a refused write changed the chain"

    def _chain_head(self) -> tuple[int, str]:
        with db.read_transaction(self.engine) as conn:
            return ledger.chain_head(conn)

    # --- rules -------------------------------------------------------------------------

    @rule(draft=drafts())
    def post(self, draft: EntryDraft) -> None:
        if self._in_closed_period(draft.date):
            self._refused(LedgerError, "closed period", lambda: ledger.record_entry(self.engine, draft))
            return
        result = ledger.record_entry(self.engine, draft)
        assert result.created
        assert result.entry.postings == draft.postings
        self._apply(result.entry.id, draft.kind, draft.postings)

    @rule(data=st.data(), ref=st.sampled_from(REFS))
    def post_with_ref(self, data: st.DataObject, ref: str) -> None:
        draft = data.draw(drafts(ref))
        known = self.refs.get(ref)
        if known is not None:
            if same_content(known[1], draft):  # pragma: no cover - random drafts rarely coincide
                assert not ledger.record_entry(self.engine, draft).created
            else:
                self._refused(LedgerError, "different content", lambda: ledger.record_entry(self.engine, draft))
            return
        if self._in_closed_period(draft.date):
            self._refused(LedgerError, "closed period", lambda: ledger.record_entry(self.engine, draft))
            return
        result = ledger.record_entry(self.engine, draft)
        assert result.created
        self._apply(result.entry.id, draft.kind, draft.postings)
        self.refs[ref] = (result.entry.id, draft)

    @precondition(lambda self: bool(self.refs))
    @rule(data=st.data())
    def repost_same_ref(self, data: st.DataObject) -> None:
        """Importing the same line again: same reference, same content, records nothing."""
        ref = data.draw(st.sampled_from(sorted(self.refs)))
        entry_id, draft = self.refs[ref]
        before = self._chain_head()
        result = ledger.record_entry(self.engine, draft)
        assert not result.created
        assert result.entry.id == entry_id
        assert self._chain_head() == before

    @precondition(lambda self: bool(self.refs))
    @rule(data=st.data(), change=st.sampled_from(("memo", "date", "amount", "party")))
    def repost_ref_changed(self, data: st.DataObject, change: str) -> None:
        ref = data.draw(st.sampled_from(sorted(self.refs)))
        _, draft = self.refs[ref]
        if change == "memo":
            other = replace(draft, memo=draft.memo + " (corrigé)")
        elif change == "date":
            other = replace(draft, date=draft.date + timedelta(days=1))
        elif change == "amount":
            legs = list(draft.postings)
            # double every posting: still balanced, different content
            other = replace(draft, postings=tuple(replace(p, amount=p.amount * 2) for p in legs))
        else:
            first = draft.postings[0]
            swapped = replace(first, party=None if first.party is not None else PARTIES[0])
            other = replace(draft, postings=(swapped, *draft.postings[1:]))
        self._refused(LedgerError, "different content", lambda: ledger.record_entry(self.engine, other))

    @rule(data=st.data(), on=days)
    def reverse(self, data: st.DataObject, on: date) -> None:
        entry_id = data.draw(st.integers(0, self.head + 1), label="entry to reverse")
        known = self.entries.get(entry_id)

        def call() -> object:
            return ledger.reverse_entry(self.engine, entry_id, on)

        if known is None:
            self._refused(LedgerError, f"no entry {entry_id}", call)
        elif known.kind == PERIOD_CLOSE:
            self._refused(LedgerError, "period close", call)
        elif self._in_closed_period(on):
            self._refused(LedgerError, "closed period", call)
        elif known.reversed_by is not None:
            self._refused(LedgerError, "already reversed", call)
        else:
            reversal = ledger.reverse_entry(self.engine, entry_id, on).entry
            assert reversal.reverses == entry_id
            assert reversal.postings == tuple(p.negated() for p in known.postings)
            self._apply(reversal.id, reversal.kind, reversal.postings)
            known.reversed_by = reversal.id

    @rule(through=close_days)
    def close_period(self, through: date) -> None:
        if through == self.closed:  # a retried close: nothing recorded, the close that did it returned
            again = ledger.close_period(self.engine, through)
            assert not again.created and again.entry.kind == PERIOD_CLOSE and again.entry.date == through
            return
        if self._in_closed_period(through):
            self._refused(LedgerError, "closed period", lambda: ledger.close_period(self.engine, through))
            return
        entry = ledger.close_period(self.engine, through).entry
        self._apply(entry.id, PERIOD_CLOSE, ())
        self.closed = through

    @rule(
        kind=st.sampled_from(("unbalanced", "unbalanced-currency", "zero", "unknown-account", "unknown-party",
                              "one-posting", "xof-decimals", "cad-decimals")),
        on=days,
        bulk=st.booleans(),
    )
    def invalid(self, kind: str, on: date, bulk: bool) -> None:
        draft, error, fragment = _invalid(kind, on)
        if bulk:
            # after a valid draft in the same batch: the whole batch is refused
            good = EntryDraft(max(on, date(2019, 1, 1)), "ok", (Posting("Assets:Cash", D("1.00")),
                              Posting("Equity:Paid-In-Capital", D("-1.00"))))

            def call() -> object:
                with db.write_transaction(self.engine) as conn:
                    return ledger.append_entries(conn, [good, draft])
        else:
            def call() -> object:
                return ledger.record_entry(self.engine, draft)
        self._refused(error, fragment, call)

    # --- invariants ----------------------------------------------------------------------

    @invariant()
    def books_match_the_model(self) -> None:
        expected = {k: v for k, v in self.balances.items() if v != 0}
        per_account: Counter[tuple[str, str]] = Counter()
        for (account, _party, currency), minor in expected.items():
            per_account[(account, currency)] += minor
        with db.read_transaction(self.engine) as conn:
            assert ledger.chain_head(conn)[0] == self.head
            names = ledger.party_names(conn)
            by_party = {
                (account, names[pid] if pid is not None else None, cur): to_minor(amount, cur)
                for (account, pid, cur), amount in ledger.balances_by_party(conn, ACCOUNTS).items()
                if amount != 0
            }
            assert by_party == expected
            rows = ledger.balances(conn)
            assert {(b.account, b.currency): to_minor(b.amount, b.currency) for b in rows if b.amount != 0} == {
                k: v for k, v in per_account.items() if v != 0
            }
            tb = trial_balance(rows)
            assert tb.balanced and all(total == 0 for total in tb.totals.values())
            assert ledger.verify(conn) is None

    def teardown(self) -> None:
        self.factory.discard(self.target, self.engine)


def test_ledger_state_machine(ledgers: Any) -> None:
    machine = type(f"LedgerMachine_{ledgers.engine_name}", (LedgerMachine,), {"factory": ledgers})
    profile = settings.default
    quick = profile.max_examples <= 40
    if quick:
        examples = 12 if ledgers.engine_name == "sqlite" else 4
        steps = 25
    else:
        examples, steps = profile.max_examples, 60
    run_state_machine_as_test(machine, settings=settings(profile, max_examples=examples, stateful_step_count=steps))
