"""Loans in storage: the only SQL about loans. Records loans and their events, posts entries.

A loan row holds the approved terms; `loan_event` rows hold what happened to it (one row
per event, with the entry it posted in `entry_id`):

| kind | entry (DESIGN.md) | folded as |
|---|---|---|
| `disbursed` | Principal [borrower] / Cash | `loans.Disbursed` |
| `interest` | Interest-Receivable [borrower] / Income:Interest:Loans | (posting only) |
| `repaid` | Cash / Interest-Receivable, Principal [borrower] | `loans.Repaid` |
| `rescheduled` | none (details: the new terms) | `loans.Rescheduled` |
| `written-off` | Allowance (up to its balance), Loan-Loss-Provision / Principal; Income:Interest:Loans / Interest-Receivable | `loans.WrittenOff` |
| `recovered` | Cash / Income:Recoveries [borrower] | `loans.Recovered` |

Every lifecycle operation runs in ONE `db.write_transaction`: it reads the loan, checks
(cash, limits, the loan's state), posts and records, all under the ledger's write lock, so
two concurrent commands can never both pass a check that only one of them may pass.
Interest is posted once per installment: the entry's ref and the event's ref are
`loan-N-interest-K` (both unique in the database), and operations dated t first post the
interest fallen due through t that is not posted yet.

Settings live in `settings_db` with every other setting (so `fisiq config` shows them):
`loan.max_borrower_share` (percent of the capital paid in, default 10) and
`loan.provision_rates` (JSON `[[min days, "rate"], ...]`, default `loans.DEFAULT_PROVISION_RATES`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, func, insert, select

from fisiq import loans, settings_db
from fisiq.db import read_transaction, utc_now, write_transaction
from fisiq.entries import EntryDraft, Posting, last_counted_reversal
from fisiq.ledger import (
    ACCOUNT,
    ENTRY,
    MAX_ID,
    POSTING,
    append_entry,
    as_date,
    balances,
    closed_through,
    current_user,
    party_names,
    stray_link,
)
from fisiq.models import Loan, LoanEvent, Party
from fisiq.money import format_percent, from_minor, to_minor, to_str
from fisiq.portfolio import LoanFacts
from fisiq.schedule import LoanError, LoanTerms, build_schedule

LOAN = Loan.__table__  # type: ignore[attr-defined]
EVENT = LoanEvent.__table__  # type: ignore[attr-defined]
PARTY = Party.__table__  # type: ignore[attr-defined]

CASH = "Assets:Cash"
PRINCIPAL = "Assets:Loans:Principal"
RECEIVABLE = "Assets:Loans:Interest-Receivable"
ALLOWANCE = "Assets:Loans:Allowance"
INTEREST_INCOME = "Income:Interest:Loans"
RECOVERIES = "Income:Recoveries"
PROVISION_EXPENSE = "Expenses:Loan-Loss-Provision"
CAPITAL_ACCOUNTS = ("Equity:Paid-In-Capital", "Liabilities:Investor-Loans")

MAX_BORROWER_SHARE = settings_db.MAX_BORROWER_SHARE  # percent of the capital paid in, default 10
PROVISION_RATES = settings_db.PROVISION_RATES
STATUSES = ("approved", "active", "restructured", "closed", "written-off", "cancelled")
_DOMAIN_KINDS = ("disbursed", "repaid", "rescheduled", "written-off", "recovered", "cancelled")
# What `loan_event.kind` holds: the events of loans.py, and the interest postings.
LOAN_EVENT_KINDS = (*_DOMAIN_KINDS, "interest")


# --- what is read ---------------------------------------------------------------------------


_Date = date  # EventRow has a field named `date`


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    kind: str
    date: date
    amount: Decimal | None
    entry_id: int | None
    details: dict[str, Any]
    ref: str | None
    reversed_by: int | None = None  # the entry that reverses this event's entry
    reversed_on: _Date | None = None  # and its date

    def counts(self, as_of: _Date | None = None) -> bool:
        """False once the event's entry is reversed (as of `as_of`; None: any reversal)."""
        return self.reversed_on is None or (as_of is not None and self.reversed_on > as_of)


@dataclass(frozen=True, slots=True)
class LoanRecord:
    """A loan as stored: its approved terms, its borrower and every event in recorded order."""

    id: int
    borrower_id: int
    borrower: str
    terms: LoanTerms
    approved_on: date
    ref: str | None
    purpose: str | None
    events: tuple[EventRow, ...] = field(default_factory=tuple)

    @property
    def currency(self) -> str:
        return self.terms.currency

    @property
    def link(self) -> str:
        return f"loan:{self.id}"

    def live_events(self, as_of: date | None = None) -> list[EventRow]:
        """The events that count: an event whose entry was reversed (`fisiq entry reverse`)
        no longer does, from the reversal's date on (`as_of` None: every reversal counts)."""
        return [e for e in self.events if e.counts(as_of)]

    def domain_events(self, as_of: date | None = None) -> list[loans.LoanEvent]:
        return _domain(self.live_events(as_of))

    def posted_interest(self) -> dict[int, date]:
        """Installment number -> date of its interest posting that counts (its due date, or
        a later reversal's date when posted again after one)."""
        return {int(e.details["installment"]): e.date for e in self.live_events() if e.kind == "interest"}

    def interest_ref(self, installment: int) -> str:
        """The ref that posts an installment's interest once: a reversed posting keeps its
        ref, so a posting after it gets the next in `loan-N-interest-K`, `...-K-repost-1`, ..."""
        reversed_before = sum(
            1 for e in self.events
            if e.kind == "interest" and not e.counts() and int(e.details["installment"]) == installment
        )
        base = f"loan-{self.id}-interest-{installment}"
        return f"{base}-repost-{reversed_before}" if reversed_before else base

    def last_reversal_date(self) -> date | None:
        """See `entries.last_counted_reversal`: no new event of the loan is dated before it."""
        return last_counted_reversal((e.date, e.reversed_on) for e in self.events)

    def last_event_date(self) -> date | None:
        dates = [e.date for e in self.live_events() if e.kind in _DOMAIN_KINDS]
        return max(dates) if dates else None

    def disbursed_on(self, as_of: date | None = None) -> date | None:
        return next((e.date for e in self.live_events(as_of) if e.kind == "disbursed"), None)

    def position(self, as_of: date) -> loans.Position:
        return loans.loan_position(self.terms, self.domain_events(as_of), as_of)


def _domain(rows: Sequence[EventRow]) -> list[loans.LoanEvent]:
    """The rules' events for stored ones (interest postings are entries, not rules' events)."""
    out: list[loans.LoanEvent] = []
    for e in rows:
        if e.kind == "disbursed":
            out.append(loans.Disbursed(e.date, _amount(e)))
        elif e.kind == "repaid":
            out.append(loans.Repaid(e.date, _amount(e)))
        elif e.kind == "rescheduled":
            out.append(loans.Rescheduled(e.date, terms_from_json(e.details["terms"])))
        elif e.kind == "written-off":
            out.append(loans.WrittenOff(e.date, _amount(e)))
        elif e.kind == "recovered":
            out.append(loans.Recovered(e.date, _amount(e)))
        elif e.kind == "cancelled":
            out.append(loans.Cancelled(e.date))
    return out


def _amount(e: EventRow) -> Decimal:
    assert e.amount is not None
    return e.amount


def terms_json(terms: LoanTerms) -> dict[str, Any]:
    return {
        "principal": str(terms.principal), "currency": terms.currency, "annual_rate": str(terms.annual_rate),
        "term": terms.term, "first_due": terms.first_due.isoformat(), "frequency": terms.frequency,
        "method": terms.method, "grace": terms.grace,
    }


def terms_from_json(doc: dict[str, Any]) -> LoanTerms:
    return LoanTerms(
        Decimal(doc["principal"]), doc["currency"], Decimal(doc["annual_rate"]), int(doc["term"]),
        date.fromisoformat(doc["first_due"]), doc["frequency"], doc["method"], int(doc["grace"]),
    )


def _record(conn: Connection, row: Any, borrower: str) -> LoanRecord:
    terms = LoanTerms(
        from_minor(int(row.principal), row.currency), row.currency, Decimal(row.annual_rate), int(row.term),
        as_date(row.first_due), row.frequency, row.method, int(row.grace),
    )
    reversal = ENTRY.alias("reversal")
    query = (
        select(EVENT, reversal.c.id.label("reversed_by"), reversal.c.date.label("reversed_on"))
        .outerjoin(reversal, reversal.c.reverses == EVENT.c.entry_id)
        .where(EVENT.c.loan_id == row.id).order_by(EVENT.c.id)
    )
    events = tuple(
        EventRow(
            e.id, e.kind, as_date(e.date),
            from_minor(int(e.amount), row.currency) if e.amount is not None else None,
            e.entry_id, json.loads(e.details) if e.details else {}, e.ref,
            e.reversed_by, as_date(e.reversed_on) if e.reversed_on is not None else None,
        )
        for e in conn.execute(query)
    )
    return LoanRecord(row.id, row.borrower_id, borrower, terms, as_date(row.approved_on), row.ref, row.purpose, events)


def get_loan(conn: Connection, loan_id: int) -> LoanRecord:
    """The loan with its events; LoanError when there is no such loan."""
    if not 0 < loan_id <= MAX_ID:  # beyond the column's range the driver would raise
        raise LoanError(f"there is no loan {loan_id} (see `fisiq loan list`)")
    row = conn.execute(
        select(LOAN, PARTY.c.name.label("borrower")).join(PARTY, PARTY.c.id == LOAN.c.borrower_id)
        .where(LOAN.c.id == loan_id)
    ).first()
    if row is None:
        raise LoanError(f"there is no loan {loan_id} (see `fisiq loan list`)")
    return _record(conn, row, row.borrower)


def list_loans(conn: Connection) -> list[LoanRecord]:
    rows = conn.execute(
        select(LOAN, PARTY.c.name.label("borrower")).join(PARTY, PARTY.c.id == LOAN.c.borrower_id).order_by(LOAN.c.id)
    ).all()
    return [_record(conn, r, r.borrower) for r in rows]


@dataclass(frozen=True, slots=True)
class BorrowerInfo:
    id: int
    name: str
    country: str | None
    region: str | None
    sector: str | None
    women_led: bool
    youth_led: bool


def borrowers(conn: Connection) -> dict[int, BorrowerInfo]:
    rows = conn.execute(
        select(PARTY.c.id, PARTY.c.name, PARTY.c.country, PARTY.c.region, PARTY.c.sector,
               PARTY.c.women_led, PARTY.c.youth_led).where(PARTY.c.id.in_(select(LOAN.c.borrower_id)))
    )
    return {r.id: BorrowerInfo(r.id, r.name, r.country, r.region, r.sector, bool(r.women_led), bool(r.youth_led))
            for r in rows}


# --- settings ---------------------------------------------------------------------------------


# A percentage as a person writes it: "1e1" or "NaN" would be read by Decimal, and stored so.
_PERCENT = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")


def _percent(text: str) -> Decimal:
    raw = text.strip().removesuffix("%").strip()
    if not _PERCENT.match(raw):
        raise InvalidOperation
    return Decimal(raw)


def parse_share(text: str) -> Decimal:
    try:
        value = _percent(text)
    except InvalidOperation:
        raise LoanError(f"borrower share {text!r} is not a percentage like 10 or 12.5") from None
    if not value.is_finite() or value <= 0 or value > 100:
        raise LoanError(f"borrower share must be more than 0 and at most 100 percent, not {text}")
    return value


def max_borrower_share(conn: Connection) -> Decimal:
    return Decimal(settings_db.get_setting(conn, MAX_BORROWER_SHARE))


def parse_rates(text: str) -> tuple[tuple[int, Decimal], ...]:
    """Provision rates typed as `0:1,1:5,31:25,91:50,181:100` (days past due: percent)."""
    rates: list[tuple[int, Decimal]] = []
    for part in text.split(","):
        days, sep, pct = part.strip().partition(":")
        try:
            if not sep:
                raise ValueError
            rate = _percent(pct) / 100
            rates.append((int(days), rate))
        except (ValueError, InvalidOperation):
            raise LoanError(
                f"provision rates {text!r}: write DAYS:PERCENT pairs, e.g. 0:1,1:5,31:25,91:50,181:100"
            ) from None
    loans.check_new_rates(rates)
    return tuple(rates)


def provision_rates(conn: Connection) -> tuple[tuple[int, Decimal], ...]:
    value = settings_db.get_setting(conn, PROVISION_RATES)
    return tuple((int(d), Decimal(r)) for d, r in json.loads(value))


@dataclass(frozen=True, slots=True)
class LoanSettings:
    max_borrower_share: Decimal
    provision_rates: tuple[tuple[int, Decimal], ...]


def read_settings(engine: Engine) -> LoanSettings:
    with read_transaction(engine) as conn:
        return LoanSettings(max_borrower_share(conn), provision_rates(conn))


def set_limits(
    engine: Engine, *, max_share: Decimal | None = None, rates: Sequence[tuple[int, Decimal]] | None = None
) -> LoanSettings:
    """Record new lending settings (None: unchanged) and return those in force."""
    with write_transaction(engine) as conn:
        if max_share is not None:
            settings_db.record_setting(conn, MAX_BORROWER_SHARE, str(max_share))
        if rates is not None:
            settings_db.record_setting(conn, PROVISION_RATES, loans.rates_json(rates))
        return LoanSettings(max_borrower_share(conn), provision_rates(conn))


# --- writing ----------------------------------------------------------------------------------


def _event(
    conn: Connection, loan: LoanRecord, kind: str, on: date, amount: Decimal | None = None,
    entry_id: int | None = None, details: dict[str, Any] | None = None, ref: str | None = None,
) -> LoanRecord:
    """Record an event; returns the loan with it (without reading every event again)."""
    new_id = conn.execute(
        insert(EVENT).returning(EVENT.c.id),
        {
            "loan_id": loan.id, "kind": kind, "date": on,
            "amount": to_minor(amount, loan.currency) if amount is not None else None,
            "entry_id": entry_id, "details": json.dumps(details, sort_keys=True) if details else None,
            "ref": ref, "recorded_at": utc_now(), "recorded_by": current_user(),
        },
    ).scalar_one()
    row = EventRow(int(new_id), kind, on, amount, entry_id, details or {}, ref)
    return replace(loan, events=(*loan.events, row))


def _balance(conn: Connection, account: str, currency: str, *, as_of: date | None = None,
             party_id: int | None = None, link: str | None = None) -> Decimal:
    rows = balances(conn, as_of=as_of, party_id=party_id, accounts=[account], link=link)
    return sum((b.amount for b in rows if b.currency == currency), from_minor(0, currency))


def capital_paid_in(conn: Connection, currency: str, as_of: date | None = None) -> Decimal:
    """Paid-in capital and investor loans: what the largest-borrower limit is a share of."""
    return -sum((_balance(conn, a, currency, as_of=as_of) for a in CAPITAL_ACCOUNTS), from_minor(0, currency))


def _post(conn: Connection, loan: LoanRecord, on: date, memo: str, postings: Sequence[Posting], kind: str,
          ref: str | None = None) -> int:
    legs = tuple(p for p in postings if p.amount != 0)
    result = append_entry(conn, EntryDraft(on, memo[:500], legs, kind=kind, link=loan.link, ref=ref))
    return result.entry.id


def add_loan(
    engine: Engine, borrower: str, terms: LoanTerms, *, approved_on: date, ref: str | None = None,
    purpose: str | None = None,
) -> tuple[LoanRecord, bool]:
    """Record an approved loan (no entry yet); returns (loan, created). Same ref and terms: no-op."""
    build_schedule(terms)  # refuses bad terms before anything is written
    from fisiq.ledger import find_party_id

    with write_transaction(engine) as conn:
        party_id = find_party_id(conn, borrower)
        if party_id is None:
            raise LoanError(f"unknown borrower {borrower!r} (add it with `fisiq party add NAME --kind borrower`)")
        kind = conn.execute(select(PARTY.c.kind).where(PARTY.c.id == party_id)).scalar()
        if kind != "borrower":
            raise LoanError(f"{borrower!r} is a {kind}, not a borrower")
        if approved_on >= terms.first_due:
            raise LoanError(f"the approval date {approved_on} must come before the first due date {terms.first_due}")
        if ref is not None:
            existing = conn.execute(select(LOAN.c.id).where(LOAN.c.ref == ref)).scalar()
            if existing is not None:
                loan = get_loan(conn, existing)
                if loan.terms == terms and loan.borrower_id == party_id:
                    return loan, False
                raise LoanError(f"reference {ref!r} is already loan {existing} with other terms; use a new reference")
        _refuse_closed(conn, approved_on, f"the approval date {approved_on}", "it")
        new_id = conn.execute(
            insert(LOAN).returning(LOAN.c.id),
            {
                "borrower_id": party_id, "currency": terms.currency, "principal": to_minor(terms.principal, terms.currency),
                "annual_rate": str(terms.annual_rate), "term": terms.term, "frequency": terms.frequency,
                "method": terms.method, "grace": terms.grace, "first_due": terms.first_due, "approved_on": approved_on,
                "ref": ref, "purpose": purpose, "recorded_at": utc_now(), "recorded_by": current_user(),
            },
        ).scalar_one()
        return get_loan(conn, int(new_id)), True


def _check_after_reversals(loan: LoanRecord, what: str, on: date) -> None:
    """A new event may not be dated before a reversal of the loan's entries: until that date
    the reversed event still counts, and the two would count together (the reversed one's
    figures were reckoned without the new one)."""
    undone = loan.last_reversal_date()
    if undone is not None and on < undone:
        raise LoanError(
            f"{what} on {on} is dated before {undone}, when an entry of loan {loan.id} was reversed; "
            f"date it on or after {undone}"
        )


def _refuse_closed(conn: Connection, on: date, subject: str, what: str) -> None:
    """Refuse a record without an entry (an approval, a reschedule, a cancellation) dated
    inside a closed period: the books would refuse its entry, and the closed period's reports
    (the loan's figures, the board's approved loans) would change all the same."""
    closed = closed_through(conn)
    if closed is not None and on <= closed:
        raise LoanError(f"{subject} is inside a closed period (closed through {closed}); date {what} after {closed}")


def _check_order(loan: LoanRecord, what: str, on: date) -> None:
    _check_after_reversals(loan, what, on)
    disbursed = loan.disbursed_on()
    if disbursed is not None and on < disbursed:
        raise LoanError(f"{what} on {on} is before the disbursement of loan {loan.id} on {disbursed}")
    last = loan.last_event_date()
    if last is not None and on < last:
        raise LoanError(f"{what} on {on} is dated before loan {loan.id}'s last event on {last}; record events in date order")


def _check_posted_interest(loan: LoanRecord, what: str, on: date) -> None:
    """A change of contract at `on` may not undo interest already posted for a later due date."""
    later = sorted(d for d in loan.posted_interest().values() if d > on)
    if later:
        raise LoanError(
            f"{what} on {on}: interest due on {later[0]} is already posted for loan {loan.id}; "
            "date it on or after that, or first reverse those interest entries, each on its own date"
        )


def interest_posting_date(due: date, last_reversal: date | None, closed: date | None) -> date:
    """The date an installment's interest is posted on: its due date; after a reversal of the
    loan's entries dated later, that reversal's date; and when that is inside a closed period
    (the books were closed before the interest was posted), the first day after the close, so
    that a closed period's figures never change and the loan is not stuck."""
    on = due if last_reversal is None or due >= last_reversal else last_reversal
    if closed is not None and on <= closed:
        on = closed + timedelta(days=1)
    return on


def _post_interest(conn: Connection, loan: LoanRecord, through: date) -> tuple[LoanRecord, Decimal, date | None]:
    """Post the interest of `loan` fallen due through `through` and not posted yet (once each).

    Returns the loan afterwards, the interest posted, and the date after a period close that
    interest due inside the closed period was posted on (None when there was none)."""
    due = loans.interest_falling_due(loan.terms, loan.domain_events(), through, loan.posted_interest())
    total = from_minor(0, loan.currency)
    undone = loan.last_reversal_date()
    closed = closed_through(conn) if due else None
    after_close = None
    for item in due:
        ref = loan.interest_ref(item.number)
        on = interest_posting_date(item.due, undone, closed)
        if closed is not None and item.due <= closed:
            after_close = on
        memo = f"Loan {loan.id}: interest of installment {item.number} falls due"
        if on != item.due:
            memo = f"Loan {loan.id}: interest of installment {item.number}, due {item.due}"
        entry_id = _post(
            conn, loan, on, memo,
            [Posting(RECEIVABLE, item.interest, loan.currency, loan.borrower),
             Posting(INTEREST_INCOME, -item.interest, loan.currency)],
            "loan-interest", ref,
        )
        details: dict[str, Any] = {"installment": item.number}
        if on != item.due:
            details["due"] = item.due.isoformat()
        loan = _event(conn, loan, "interest", on, item.interest, entry_id, details, ref)
        total += item.interest
    return loan, total, after_close


def _cash_floor(conn: Connection, currency: str, on: date) -> Decimal:
    """The lowest cash balance from `on` onwards (postings dated later count too)."""
    balance = _balance(conn, CASH, currency, as_of=on)
    lowest = balance
    rows = conn.execute(
        select(POSTING.c.entry_date, func.sum(POSTING.c.amount))
        .join(ACCOUNT, ACCOUNT.c.id == POSTING.c.account_id)
        .where(ACCOUNT.c.name == CASH, POSTING.c.currency == currency, POSTING.c.entry_date > on)
        .group_by(POSTING.c.entry_date).order_by(POSTING.c.entry_date)
    )
    for _day, total in rows:
        balance += from_minor(int(total), currency)
        lowest = min(lowest, balance)
    return lowest


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an operation did: the loan afterwards, the entries it posted, and figures."""

    loan: LoanRecord
    entry_ids: tuple[int, ...] = ()
    created: bool = True
    figures: dict[str, Decimal] = field(default_factory=dict)
    interest_after_close: date | None = None
    """The date interest due inside a closed period was posted on, first day after the close
    (the operation posted the interest fallen due before its own entry)."""


def disburse(engine: Engine, loan_id: int, on: date) -> Outcome:
    """Pay the loan out, if cash stays non-negative and the borrower limit holds."""
    with write_transaction(engine) as conn:
        loan = get_loan(conn, loan_id)
        cur = loan.currency
        if loan.disbursed_on() is not None:
            raise LoanError(f"loan {loan.id} was already disbursed on {loan.disbursed_on()}")
        if on < loan.approved_on:
            raise LoanError(f"disbursement on {on} is before loan {loan.id} was approved on {loan.approved_on}")
        _check_after_reversals(loan, "disbursement", on)
        amount = loan.terms.principal
        loans.loan_position(loan.terms, [*loan.domain_events(), loans.Disbursed(on, amount)], on)  # the rules
        cash = _cash_floor(conn, cur, on)
        if cash < amount:
            raise LoanError(
                f"cannot disburse {amount} {cur} on {on}: the fund's cash would go negative "
                f"(at most {max(cash, from_minor(0, cur))} {cur} available from that date on)"
            )
        capital = capital_paid_in(conn, cur, on)
        share = max_borrower_share(conn)
        exposure = _balance(conn, PRINCIPAL, cur, as_of=on, party_id=loan.borrower_id) + amount
        if exposure > loans.borrower_limit(capital, share, cur):
            pct = (exposure * 100 / capital).quantize(Decimal("0.01")) if capital > 0 else None
            raise LoanError(
                f"cannot disburse loan {loan.id}: {loan.borrower}'s outstanding principal would be {exposure} {cur}, "
                + (f"{format_percent(pct)} of the capital paid in ({capital} {cur})" if pct is not None else "with no capital paid in")
                + f"; the limit is {format_percent(share)} (`fisiq loan limits`)"
            )
        entry_id = _post(
            conn, loan, on, f"Loan {loan.id} disbursed to {loan.borrower}",
            [Posting(PRINCIPAL, amount, cur, loan.borrower), Posting(CASH, -amount, cur)], "loan-disbursement",
        )
        loan = _event(conn, loan, "disbursed", on, amount, entry_id)
        return Outcome(loan, (entry_id,), figures={"amount": amount})


class Accrual(NamedTuple):
    """What `accrue` posted for one loan."""

    loan_id: int
    amount: Decimal
    after_close: date | None = None
    """Set when some of it fell due inside a closed period: the date it was posted on instead."""


def accrue(engine: Engine, through: date) -> list[Accrual]:
    """Post every loan's interest fallen due through `through`, once; returns what was posted."""
    posted: list[Accrual] = []
    with write_transaction(engine) as conn:
        for loan in list_loans(conn):
            if loan.disbursed_on() is None:
                continue
            loan, total, after_close = _post_interest(conn, loan, through)
            if total:
                posted.append(Accrual(loan.id, total, after_close))
    return posted


def _recorded_under(
    conn: Connection, loan: LoanRecord, ref: str | None, kind: str, on: date, same_content: Callable[[Any], bool]
) -> Any | None:
    """The event row already recorded under `ref` when it is this very event (same loan, kind
    and date, and `same_content` holds for it): a no-op for the caller. Refused when the
    reference belongs to something else or its entry was reversed; None when it is new."""
    if ref is None:
        return None
    same = conn.execute(select(EVENT).where(EVENT.c.ref == ref)).first()
    if same is None:
        return None
    reversed_by = None if same.entry_id is None else conn.execute(
        select(ENTRY.c.id).where(ENTRY.c.reverses == same.entry_id)).scalar()
    if reversed_by is not None:
        # Saying "already recorded" would hide that it no longer counts.
        raise LoanError(
            f"reference {ref!r} was entry {same.entry_id}, reversed by entry {reversed_by}; "
            "record the correction under a new reference"
        )
    if (same.loan_id, same.kind, as_date(same.date)) == (loan.id, kind, on) and same_content(same):
        return same
    raise LoanError(f"reference {ref!r} is already recorded with other content; use a new reference")


def _same_ref(
    conn: Connection, loan: LoanRecord, ref: str | None, kind: str, on: date, amount: Decimal
) -> Outcome | None:
    """The earlier outcome when `ref` is already this very event of this amount (see `_recorded_under`)."""
    same = _recorded_under(conn, loan, ref, kind, on,
                           lambda row: row.amount == _minor_or_none(amount, loan.currency))
    return None if same is None else Outcome(loan, (same.entry_id,), created=False)


def repay(engine: Engine, loan_id: int, amount: Decimal, on: date, ref: str | None = None) -> Outcome:
    """Record a repayment: interest fallen due is posted first, then the amount is allocated."""
    with write_transaction(engine) as conn:
        loan = get_loan(conn, loan_id)
        cur = loan.currency
        earlier = _same_ref(conn, loan, ref, "repaid", on, amount)
        if earlier is not None:
            return earlier
        if loan.disbursed_on() is None:
            raise LoanError(f"cannot record a repayment on {on}: loan {loan.id} has not been disbursed")
        _check_order(loan, "repayment", on)
        # Interest fallen due first (refs make it once); a refusal below rolls it back with the rest.
        loan, _, after_close = _post_interest(conn, loan, on)
        before = _repaid_so_far(loan)
        after = loans.loan_position(loan.terms, [*loan.domain_events(), loans.Repaid(on, amount)], on)
        alloc = loans.Allocation(after.interest_repaid - before[0], after.principal_repaid - before[1])
        if after.status == "closed":
            _check_posted_interest(loan, "a repayment that closes the loan", on)
        entry_id = _post(
            conn, loan, on, f"Loan {loan.id}: repayment from {loan.borrower}",
            [Posting(CASH, amount, cur), Posting(RECEIVABLE, -alloc.interest, cur, loan.borrower),
             Posting(PRINCIPAL, -alloc.principal, cur, loan.borrower)],
            "loan-repayment", ref,
        )
        loan = _event(conn, loan, "repaid", on, amount, entry_id,
                      {"interest": str(alloc.interest), "principal": str(alloc.principal)}, ref)
        return Outcome(loan, (entry_id,), figures={"interest": alloc.interest, "principal": alloc.principal},
                       interest_after_close=after_close)


def _repaid_so_far(loan: LoanRecord) -> tuple[Decimal, Decimal]:
    """(interest, principal) repaid by the recorded repayments, from their recorded split."""
    zero = from_minor(0, loan.currency)
    rows = [e.details for e in loan.live_events() if e.kind == "repaid"]
    return (sum((Decimal(d["interest"]) for d in rows), zero), sum((Decimal(d["principal"]) for d in rows), zero))


def _minor_or_none(amount: Decimal, currency: str) -> int | None:
    try:
        return to_minor(amount, currency)
    except Exception:
        return None


def reschedule(
    engine: Engine, loan_id: int, on: date, *, annual_rate: Decimal | None = None, term: int,
    first_due: date, frequency: str | None = None, method: str | None = None, grace: int = 0,
    ref: str | None = None,
) -> Outcome:
    """New terms for the outstanding principal from `on`; the loan becomes restructured.

    With `ref`, running it again with the same options is a no-op (`created=False`); the same
    ref with other options, or on something else, is refused.
    """
    with write_transaction(engine) as conn:
        loan = get_loan(conn, loan_id)
        if ref is not None:
            asked = {"annual_rate": annual_rate, "term": term, "first_due": first_due, "frequency": frequency,
                     "method": method, "grace": grace}
            earlier = _same_reschedule(conn, loan, ref, on, asked)
            if earlier is not None:
                return earlier
        _refuse_closed(conn, on, str(on), "the reschedule")
        _check_order(loan, "reschedule", on)
        _check_posted_interest(loan, "a reschedule", on)
        position = loans.loan_position(loan.terms, loan.domain_events(), on)
        if position.status == "approved":
            raise LoanError(f"cannot reschedule loan {loan.id}: it is not disbursed; to change its terms before "
                            "paying it out, cancel it (`fisiq loan cancel`) and approve it again")
        if position.status not in ("active", "restructured"):
            raise LoanError(f"cannot reschedule loan {loan.id}: it is {position.status}")
        current = position.terms
        terms = LoanTerms(
            position.outstanding_principal, loan.currency,
            annual_rate if annual_rate is not None else current.annual_rate, term, first_due,
            frequency or current.frequency, method or current.method, grace,
        )
        loans.loan_position(loan.terms, [*loan.domain_events(), loans.Rescheduled(on, terms)], on)  # the rules
        loan, _, after_close = _post_interest(conn, loan, on)
        loan = _event(conn, loan, "rescheduled", on, terms.principal, None, {"terms": terms_json(terms)}, ref)
        return Outcome(loan, (), figures={"principal": terms.principal}, interest_after_close=after_close)


def _same_reschedule(conn: Connection, loan: LoanRecord, ref: str, on: date, asked: dict[str, Any]) -> Outcome | None:
    """The earlier reschedule when `ref` is this very one (see `_recorded_under`): same loan,
    date and options, where an option left out means "as in force" and so matches what was recorded."""
    def recorded(row: Any) -> LoanTerms:
        return terms_from_json(json.loads(row.details)["terms"])

    same = _recorded_under(conn, loan, ref, "rescheduled", on, lambda row: all(
        value is None or getattr(recorded(row), name) == value for name, value in asked.items()))
    return None if same is None else Outcome(loan, (), figures={"principal": recorded(same).principal}, created=False)


def write_off(engine: Engine, loan_id: int, on: date, reason: str) -> Outcome:
    """Give up on the whole outstanding principal (and reverse the unpaid interest receivable)."""
    with write_transaction(engine) as conn:
        loan = get_loan(conn, loan_id)
        cur = loan.currency
        _check_order(loan, "write-off", on)
        _check_posted_interest(loan, "a write-off", on)
        before = loans.loan_position(loan.terms, loan.domain_events(), on)
        amount = before.outstanding_principal
        if before.status not in ("active", "restructured") or amount <= 0:
            raise LoanError(f"cannot write off loan {loan.id} on {on}: it is {before.status}")
        loan, _, after_close = _post_interest(conn, loan, on)
        after = loans.loan_position(loan.terms, [*loan.domain_events(), loans.WrittenOff(on, amount)], on)
        interest = after.interest_written_off
        allowance = -_balance(conn, ALLOWANCE, cur, as_of=on)
        from_allowance = min(max(allowance, from_minor(0, cur)), amount)
        entry_id = _post(
            conn, loan, on, f"Loan {loan.id} written off: {reason}",
            [Posting(ALLOWANCE, from_allowance, cur), Posting(PROVISION_EXPENSE, amount - from_allowance, cur),
             Posting(PRINCIPAL, -amount, cur, loan.borrower),
             Posting(INTEREST_INCOME, interest, cur), Posting(RECEIVABLE, -interest, cur, loan.borrower)],
            "loan-write-off",
        )
        loan = _event(conn, loan, "written-off", on, amount, entry_id,
               {"reason": reason, "interest": str(interest), "from_allowance": str(from_allowance)})
        return Outcome(loan, (entry_id,),
                       figures={"principal": amount, "interest": interest, "from_allowance": from_allowance},
                       interest_after_close=after_close)


def cancel(engine: Engine, loan_id: int, on: date, reason: str) -> Outcome:
    """Withdraw the approval of a loan that was not disbursed (or whose disbursement was
    reversed); no entry. It no longer counts as approved and nothing may follow it."""
    with write_transaction(engine) as conn:
        loan = get_loan(conn, loan_id)
        _refuse_closed(conn, on, str(on), "the cancellation")
        if on < loan.approved_on:
            raise LoanError(f"cancellation on {on} is before loan {loan.id} was approved on {loan.approved_on}")
        _check_order(loan, "cancellation", on)
        loans.loan_position(loan.terms, [*loan.domain_events(), loans.Cancelled(on)], on)  # the rules
        loan = _event(conn, loan, "cancelled", on, None, None, {"reason": reason})
        return Outcome(loan, ())


def recover(engine: Engine, loan_id: int, amount: Decimal, on: date, ref: str | None = None) -> Outcome:
    """Cash received after a write-off: Cash / Income:Recoveries [borrower]."""
    with write_transaction(engine) as conn:
        loan = get_loan(conn, loan_id)
        cur = loan.currency
        earlier = _same_ref(conn, loan, ref, "recovered", on, amount)
        if earlier is not None:
            return earlier
        _check_order(loan, "recovery", on)
        loans.loan_position(loan.terms, [*loan.domain_events(), loans.Recovered(on, amount)], on)  # the rules
        entry_id = _post(
            conn, loan, on, f"Loan {loan.id}: recovery from {loan.borrower} after write-off",
            [Posting(CASH, amount, cur), Posting(RECOVERIES, -amount, cur, loan.borrower)], "loan-recovery", ref,
        )
        loan = _event(conn, loan, "recovered", on, amount, entry_id, None, ref)
        return Outcome(loan, (entry_id,), figures={"amount": amount})


@dataclass(frozen=True, slots=True)
class Provision:
    currency: str
    required: Decimal
    before: Decimal  # the allowance before (a positive amount)
    change: Decimal  # posted: positive adds to the allowance, negative releases it
    entry_id: int | None


def provision(engine: Engine, as_of: date) -> list[Provision]:
    """Bring the allowance for loan losses to what the portfolio needs as of `as_of` (per currency)."""
    out: list[Provision] = []
    with write_transaction(engine) as conn:
        last = conn.execute(select(func.max(ENTRY.c.date)).where(ENTRY.c.kind == "loan-provision")).scalar()
        if last is not None and as_of < as_date(last):
            raise LoanError(f"provision as of {as_of} is before the last provision on {as_date(last)}")
        rates = provision_rates(conn)
        positions: dict[str, list[loans.Position]] = {}
        for loan in list_loans(conn):
            if loan.disbursed_on(as_of) is not None and loan.disbursed_on(as_of) <= as_of:  # type: ignore[operator]
                positions.setdefault(loan.currency, []).append(loan.position(as_of))
        currencies = set(positions) | {b.currency for b in balances(conn, as_of=as_of, accounts=[ALLOWANCE])}
        for cur in sorted(currencies):
            required = loans.required_allowance(positions.get(cur, []), rates, cur)
            before = -_balance(conn, ALLOWANCE, cur, as_of=as_of)
            change = required - before
            entry_id = None
            if change:
                entry_id = append_entry(conn, EntryDraft(
                    as_of, f"Allowance for loan losses as of {as_of}: {before} -> {required} {cur}",
                    (Posting(PROVISION_EXPENSE, change, cur), Posting(ALLOWANCE, -change, cur)),
                    kind="loan-provision",
                )).entry.id
            out.append(Provision(cur, required, before, change, entry_id))
    return out


# --- reading helpers for the CLI and tests ------------------------------------------------------


def read_loan(engine: Engine, loan_id: int) -> LoanRecord:
    with read_transaction(engine) as conn:
        return get_loan(conn, loan_id)


def read_loans(engine: Engine) -> list[LoanRecord]:
    with read_transaction(engine) as conn:
        return list_loans(conn)


def ledger_figures(conn: Connection, loan: LoanRecord, as_of: date | None = None) -> dict[str, Decimal]:
    """The ledger's balances of the loan's own entries (link loan:N), for checks and `loan show`."""
    return _figures(loan, _sums_by_link(conn, link=loan.link, as_of=as_of).get(loan.link, {}))


_FIGURE_ACCOUNTS = (PRINCIPAL, RECEIVABLE, INTEREST_INCOME, RECOVERIES)
_Sums = dict[tuple[str, int | None, str], int]  # (account, party id, currency): minor units


def _sums_by_link(conn: Connection, *, link: str | None = None, as_of: date | None = None) -> dict[str, _Sums]:
    """The loans' entries summed per link, account, party and currency, in one query (for one
    loan's link, or for every loan's)."""
    query = (
        select(ENTRY.c.link, ACCOUNT.c.name, POSTING.c.party_id, POSTING.c.currency, func.sum(POSTING.c.amount))
        .join(ENTRY, ENTRY.c.id == POSTING.c.entry_id)
        .join(ACCOUNT, ACCOUNT.c.id == POSTING.c.account_id)
        .where(ACCOUNT.c.name.in_(_FIGURE_ACCOUNTS))
        .where(ENTRY.c.link == link if link is not None else ENTRY.c.link.like("loan:%"))
        .group_by(ENTRY.c.link, ACCOUNT.c.name, POSTING.c.party_id, POSTING.c.currency)
    )
    if as_of is not None:
        query = query.where(POSTING.c.entry_date <= as_of)
    found: dict[str, _Sums] = {}
    for row_link, account, party_id, currency, total in conn.execute(query):
        found.setdefault(row_link, {})[(account, party_id, currency)] = int(total)
    return found


def _figures(loan: LoanRecord, sums: _Sums) -> dict[str, Decimal]:
    def total(account: str, borrower_only: bool) -> Decimal:
        minor = sum(v for (a, party, cur), v in sums.items()
                    if a == account and cur == loan.currency and (not borrower_only or party == loan.borrower_id))
        return from_minor(minor, loan.currency)

    return {
        "principal": total(PRINCIPAL, True),
        "interest_receivable": total(RECEIVABLE, True),
        "interest_income": -total(INTEREST_INCOME, False),
        "recoveries": -total(RECOVERIES, False),
    }


_FIGURE_NAMES = {
    "principal": "outstanding principal", "interest_receivable": "interest receivable",
    "interest_income": "interest income", "recoveries": "recoveries",
}


def figures_from_events(loan: LoanRecord) -> dict[str, Decimal]:
    """What the loan's own entries must add up to, by its events that still count (the keys
    of `ledger_figures`, after every event and reversal)."""
    days = [loan.approved_on, *(e.date for e in loan.events), *(e.reversed_on for e in loan.events if e.reversed_on)]
    p = loan.position(max(days))
    posted = sum((e.amount or Decimal(0) for e in loan.live_events() if e.kind == "interest"), from_minor(0, loan.currency))
    return {
        "principal": p.outstanding_principal,
        "interest_receivable": posted - p.interest_repaid - p.interest_written_off,
        "interest_income": posted - p.interest_written_off,
        "recoveries": p.recovered,
    }


def event_problem(loan: LoanRecord) -> str | None:
    """The first of the loan's events that its commands would not have recorded so, replayed
    with the events that counted when it was recorded: dated before the approval, refused by the
    rules, a repayment split or an interest posting other than the schedule's, a write-off's
    interest other than what was due. None when every event replays.

    Events and their details are not hashed; a register written beside the commands (or a
    restored file edited by hand) would otherwise mislead every later command."""
    replay = loans.Replay(loan.terms)
    for i, e in enumerate(loan.events):
        what = f"its {e.kind} event {e.id} of {e.date}"
        if e.date < loan.approved_on:
            return f"{what} is before its approval on {loan.approved_on}"
        if (e.amount is None) != (e.kind == "cancelled"):
            return f"{what} {'has no' if e.amount is None else 'has an'} amount"
        # What counted when it was recorded: an earlier event not reversed by then. Reversals
        # are entries, so "by then" is before its own entry; an event without one (a
        # reschedule, a cancellation) allows no later reversal of what came before it.
        before = [x for x in loan.events[:i]
                  if x.reversed_by is None or (e.entry_id is not None and x.reversed_by > e.entry_id)]
        try:
            was, now = replay.around(_domain(before), e.date, next(iter(_domain([e])), None))
            wrong = _detail_problem(e, was, now, before)
        except LoanError as exc:
            return f"{what} breaks the rules: {exc}"
        except (LookupError, TypeError, ValueError, ArithmeticError) as exc:
            return f"{what} has details fisiq cannot read ({type(exc).__name__}: {exc})"
        if wrong is not None:
            return f"{what} {wrong}"
    return None


def _detail_problem(e: EventRow, was: loans.Position, now: loans.Position, before: Sequence[EventRow]) -> str | None:
    """What is wrong with the figures an event recorded, against the loan's positions just
    before and after it (see `event_problem`)."""
    if e.kind == "repaid":
        split = (Decimal(e.details["interest"]), Decimal(e.details["principal"]))
        due = (now.interest_repaid - was.interest_repaid, now.principal_repaid - was.principal_repaid)
        if split != due:
            return f"is split {split[0]} interest, {split[1]} principal; the schedule gives {due[0]}, {due[1]}"
    elif e.kind == "interest":
        number = e.details["installment"]
        counted = {int(x.details["installment"]) for x in before if x.kind == "interest"}
        item = next((x for x in now.installments if x.number == number), None)
        if item is None or number in counted or item.due > e.date or item.interest != e.amount:
            return f"of {e.amount} is not the interest of an installment due and not yet posted"
    elif e.kind == "written-off" and Decimal(e.details["interest"]) != now.interest_written_off:
        return f"wrote off {e.details['interest']} interest; {now.interest_written_off} was due"
    return None


def disagreement(conn: Connection) -> tuple[int, str] | None:
    """The first loan whose figures differ from its entries' balances, as (loan id, what
    differs); None when every loan agrees with the books (`fisiq audit verify`)."""
    stray = stray_link(conn, LOAN, EVENT, "loan_id")
    if stray is not None:
        return stray
    sums = _sums_by_link(conn)
    for loan in list_loans(conn):
        problem = event_problem(loan)
        if problem is not None:
            return loan.id, problem
        try:
            expected = figures_from_events(loan)
        except LoanError as exc:
            return loan.id, f"its events no longer make a loan ({exc})"
        books = _figures(loan, sums.get(loan.link, {}))
        for key, want in expected.items():
            if books[key] != want:
                return loan.id, (
                    f"its {_FIGURE_NAMES[key]} is {to_str(want, loan.currency)} {loan.currency} by its events "
                    f"but {to_str(books[key], loan.currency)} {loan.currency} in its entries (link {loan.link})"
                )
        outside = _stray_sum(loan, sums.get(loan.link, {}))
        if outside is not None:
            (account, party, currency), minor = outside
            held = f"its entries (link {loan.link}) hold {to_str(from_minor(minor, currency), currency)} {currency} on {account}"
            if currency != loan.currency:
                return loan.id, f"{held}; the loan is in {loan.currency}"
            who = "no party" if party is None else party_names(conn).get(party, f"party {party}")
            return loan.id, f"{held} for {who}, not its borrower {loan.borrower}"
    return None


def _stray_sum(loan: LoanRecord, sums: _Sums) -> tuple[tuple[str, int | None, str], int] | None:
    """A sum of the loan's entries that its figures leave out: they count only its currency
    and, for what its borrower owes, its borrower. An entry linked to it in another currency
    or naming another party would move the books and not the loan."""
    for (account, party, currency), minor in sorted(sums.items(), key=repr):
        if minor != 0 and (currency != loan.currency or (account in (PRINCIPAL, RECEIVABLE) and party != loan.borrower_id)):
            return (account, party, currency), minor
    return None


def loan_facts(records: Sequence[LoanRecord], people: dict[int, BorrowerInfo], as_of: date) -> list[LoanFacts]:
    """Each loan's position at the end of `as_of`, with what the portfolio needs of its borrower."""
    facts = []
    for r in records:
        b = people[r.borrower_id]
        facts.append(LoanFacts(r.id, b.id, b.name, b.country, b.region, b.sector, b.women_led, b.youth_led,
                               r.position(as_of)))
    return facts


def portfolio_input(engine: Engine, as_of: date) -> tuple[list[LoanRecord], dict[int, BorrowerInfo]]:
    with read_transaction(engine) as conn:
        return list_loans(conn), borrowers(conn)
