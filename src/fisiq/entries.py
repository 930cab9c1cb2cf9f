"""Journal entries: postings, the rules an entry obeys, the posting syntax, and the hash chain.

Pure data and functions: nothing here touches a database or a terminal. Amounts follow the
sign rule of `fisiq.accounts` (debit positive, credit negative).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from itertools import takewhile
from typing import NamedTuple

from fisiq.errors import FisiqError
from fisiq.money import (
    DEFAULT_CURRENCY,
    MoneyError,
    check_currency,
    from_minor,
    parse_amount,
    to_minor,
    without_spaces,
)

GENESIS_HASH = "0" * 64
PERIOD_CLOSE = "period-close"
REVERSAL = "reversal"
MANUAL = "manual"
_KIND = re.compile(r"^[a-z][a-z-]{0,39}$")
MAX_MEMO = 500
MAX_REF = 200
MAX_LINK = 60  # the column's width; links are made by fisiq ("loan:7"), or come from a restore file


class EntryError(FisiqError):
    """An entry that breaks a rule of double entry; the message names the rule."""


@dataclass(frozen=True, slots=True)
class Posting:
    """One leg of an entry: an amount (debit > 0, credit < 0) on an account, for a party."""

    account: str
    amount: Decimal
    currency: str = DEFAULT_CURRENCY
    party: str | None = None

    def negated(self) -> Posting:
        return replace(self, amount=-self.amount)


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """An entry before it is recorded: what the person (or a rule of the fund) asks for."""

    date: date
    memo: str
    postings: tuple[Posting, ...]
    kind: str = MANUAL
    ref: str | None = None
    link: str | None = None  # what the entry belongs to, e.g. "commitment:3" or "loan:7"
    reverses: int | None = None


class RecordedEntry(NamedTuple):
    """An entry as stored: its place in the chain, who recorded it and when, and its hash."""

    # A NamedTuple rather than a frozen dataclass: the bulk path builds one per entry, and a
    # frozen dataclass sets each field through object.__setattr__ (2.5 times the cost).

    id: int
    date: date
    memo: str
    kind: str
    ref: str | None
    link: str | None
    reverses: int | None
    recorded_by: str
    recorded_at: str  # UTC, ISO 8601 with microseconds and a trailing Z
    prev_hash: str
    hash: str
    postings: tuple[Posting, ...] = ()

    def draft(self) -> EntryDraft:
        return EntryDraft(self.date, self.memo, self.postings, self.kind, self.ref, self.link, self.reverses)


def parse_date(text: str) -> date:
    """An ISO date (YYYY-MM-DD) that exists; anything else is an EntryError."""
    raw = text.strip()
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
        raise EntryError(f"date {text!r} is not an ISO date like 2018-03-23")
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise EntryError(f"date {text!r} does not exist") from None
    if value.year < 1900:
        raise EntryError(f"date {text!r} is before 1900")
    return value


def parse_posting(text: str, default_currency: str = DEFAULT_CURRENCY) -> tuple[str, Decimal | None, str, str | None]:
    """Parse `ACCOUNT [AMOUNT [CURRENCY]] [@ PARTY]` as typed on the command line.

    The amount may be left out on one posting of an entry; `complete_postings` fills it in.
    """
    body, at, party_text = text.partition("@")
    party = party_text.strip() if at else None
    if at and not party:
        raise EntryError(f"posting {text!r}: a party name must follow @")
    tokens = body.split()
    if not tokens:
        raise EntryError(f"posting {text!r} is empty; write ACCOUNT AMOUNT [CURRENCY] [@ PARTY]")
    # "1 000,00", as an amount is written in French: the groups after the first would be
    # read as a currency code.
    groups = list(takewhile(lambda t: t[:1].isdigit() or t[:1] in "+-", tokens[1:]))
    if len(groups) > 1 and (written := without_spaces(" ".join(groups))):
        raise EntryError(f"posting {text!r}: write the amount without spaces, decimals after a point: {written}")
    if len(tokens) > 3:
        raise EntryError(f"posting {text!r}: write ACCOUNT AMOUNT [CURRENCY] [@ PARTY]")
    account = tokens[0]
    currency = tokens[2] if len(tokens) == 3 else default_currency
    try:
        check_currency(currency)
        amount = parse_amount(tokens[1], currency) if len(tokens) >= 2 else None
    except MoneyError as exc:
        raise EntryError(f"posting {text!r}: {exc}") from None
    return account, amount, currency, party


def complete_postings(parsed: Sequence[tuple[str, Decimal | None, str, str | None]]) -> tuple[Posting, ...]:
    """Turn parsed postings into Postings, giving the one without an amount what balances."""
    missing = [i for i, p in enumerate(parsed) if p[1] is None]
    if len(missing) > 1:
        raise EntryError("only one posting may leave out its amount")
    postings: list[Posting] = []
    for account, amount, currency, party in parsed:
        if amount is not None:
            postings.append(Posting(account, amount, currency, party))
    if missing:
        account, _, currency, party = parsed[missing[0]]
        others = {p.currency for p in postings}
        if others - {currency}:
            raise EntryError("a posting may leave out its amount only when the entry has one currency")
        rest = -sum((p.amount for p in postings), Decimal(0))
        postings.insert(missing[0], Posting(account, rest, currency, party))
    return tuple(postings)


def imbalances(postings: Iterable[Posting]) -> dict[str, Decimal]:
    """The per-currency sums that are not zero (empty when the postings balance)."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for p in postings:
        sums[p.currency] += p.amount
    return {cur: total for cur, total in sums.items() if total != 0}


def validate_entry(draft: EntryDraft, known_accounts: Collection[str] | None = None) -> tuple[int, ...]:
    """Raise EntryError unless the draft obeys double entry and fisiq's rules for text.

    Returns each posting's amount in minor units (what is stored and hashed), so the bulk
    path converts every amount once.
    """
    if not _KIND.match(draft.kind):
        raise EntryError(f"entry kind {draft.kind!r} is not a lower-case word")
    if len(draft.memo) > MAX_MEMO:
        raise EntryError(f"memo is longer than {MAX_MEMO} characters")
    if draft.ref is not None and not (0 < len(draft.ref) <= MAX_REF):
        raise EntryError(f"reference must be 1 to {MAX_REF} characters")
    if draft.link is not None and len(draft.link) > MAX_LINK:
        raise EntryError(f"link is longer than {MAX_LINK} characters")
    if draft.kind == PERIOD_CLOSE:
        if draft.postings:
            raise EntryError("a period close carries no postings")
        return ()
    if len(draft.postings) < 2:
        raise EntryError("an entry needs at least two postings")
    minors: list[int] = []
    sums: dict[str, int] = {}
    for p in draft.postings:
        try:
            minor = to_minor(p.amount, p.currency)  # refuses an unknown currency first
        except MoneyError as exc:
            raise EntryError(f"posting to {p.account}: {exc}") from None
        if minor == 0:
            raise EntryError(f"posting to {p.account} is zero; leave it out")
        if known_accounts is not None and p.account not in known_accounts:
            raise EntryError(f"unknown account {p.account!r} (see `fisiq account list`)")
        minors.append(minor)
        sums[p.currency] = sums.get(p.currency, 0) + minor
    off = {cur: total for cur, total in sums.items() if total != 0}
    if off:
        detail = ", ".join(f"{from_minor(total, cur)} {cur}" for cur, total in sorted(off.items()))
        raise EntryError(f"entry does not balance: postings sum to {detail}, not zero")
    return tuple(minors)


def reversal_of(entry: RecordedEntry, on: date, memo: str | None = None) -> EntryDraft:
    """The entry that undoes `entry`: every posting negated, pointing back at it."""
    return EntryDraft(
        date=on,
        memo=memo or f"Reversal of entry {entry.id}: {entry.memo}"[:MAX_MEMO],
        postings=tuple(p.negated() for p in entry.postings),
        kind=REVERSAL,
        ref=None,
        link=entry.link,
        reverses=entry.id,
    )


def last_counted_reversal(spans: Iterable[tuple[date, date | None]]) -> date | None:
    """Of events given as (their date, the date their entry was reversed, or None), the
    latest reversal that left an event counting for a while (dated after the event).

    An event counts from its date until its reversal's, in a loan or a commitment as in the
    books; one reversed on its own date never counted. Nothing new of the same loan or
    commitment may be dated before this date: the two would count together in between.
    """
    dates = [undone for day, undone in spans if undone is not None and undone > day]
    return max(dates) if dates else None


def same_content(a: EntryDraft, b: EntryDraft) -> bool:
    """Whether two drafts ask for the same entry (what an idempotency key compares)."""
    def key(d: EntryDraft) -> tuple[object, ...]:
        legs = tuple((p.account, to_minor(p.amount, p.currency), p.currency, p.party) for p in d.postings)
        return (d.date, d.memo, d.kind, d.link, d.reverses, legs)

    return key(a) == key(b)


def canonical_bytes(entry: RecordedEntry) -> bytes:
    """The bytes an entry's hash covers: every stored field but the hash itself.

    JSON with a fixed field order, amounts in minor units, so the same entry hashes the same
    on every engine and platform.
    """
    minors = [to_minor(p.amount, p.currency) for p in entry.postings]
    return _canonical(entry, entry.id, entry.recorded_by, entry.recorded_at, entry.prev_hash, minors)


def _canonical(draft: EntryDraft | RecordedEntry, entry_id: int, recorded_by: str, recorded_at: str,
               prev_hash: str, minors: Sequence[int]) -> bytes:
    """The JSON text of `[1, id, date, memo, kind, ref, link, reverses, recorded_by,
    recorded_at, prev_hash, [[account, party, currency, minor], ...]]`, as
    `json.dumps(..., ensure_ascii=False, separators=(",", ":"))` writes it, in UTF-8.

    Written out by hand because the bulk path hashes every entry it records, and the shape is
    fixed; strings are escaped by json's own function, and the tests check byte equality with
    json.dumps. The leading 1 is the format version of this canonical form.
    """
    legs = ",".join([f"[{_quote(p.account)},{_json_text(p.party)},{_quote(p.currency)},{minor}]"
                     for p, minor in zip(draft.postings, minors, strict=True)])
    reverses = "null" if draft.reverses is None else draft.reverses
    return (f"[1,{entry_id},\"{draft.date.isoformat()}\",{_quote(draft.memo)},{_quote(draft.kind)},"
            f"{_json_text(draft.ref)},{_json_text(draft.link)},{reverses},{_quote(recorded_by)},"
            f"{_quote(recorded_at)},{_quote(prev_hash)},[{legs}]]").encode()


# How json writes a str with ensure_ascii=False (the C implementation when it is available).
_quote = json.encoder.encode_basestring


def _json_text(value: str | None) -> str:
    return "null" if value is None else _quote(value)


def compute_hash(entry: RecordedEntry) -> str:
    return hashlib.sha256(canonical_bytes(entry)).hexdigest()


def seal(draft: EntryDraft, entry_id: int, prev_hash: str, recorded_by: str, recorded_at: str,
         minors: Sequence[int] | None = None) -> RecordedEntry:
    """Give a validated draft its place in the chain and its hash.

    `minors` are the amounts in minor units as `validate_entry` returned them (computed here
    when not given).
    """
    if minors is None:
        minors = [to_minor(p.amount, p.currency) for p in draft.postings]
    digest = hashlib.sha256(_canonical(draft, entry_id, recorded_by, recorded_at, prev_hash, minors)).hexdigest()
    return RecordedEntry(
        id=entry_id,
        date=draft.date,
        memo=draft.memo,
        kind=draft.kind,
        ref=draft.ref,
        link=draft.link,
        reverses=draft.reverses,
        recorded_by=recorded_by,
        recorded_at=recorded_at,
        prev_hash=prev_hash,
        hash=digest,
        postings=draft.postings,
    )


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """The first entry at which the chain or an invariant fails, and why."""

    entry_id: int
    message: str


def verify_chain(entries: Iterable[RecordedEntry]) -> ChainProblem | None:
    """Check ids, links and hashes in order, and that each entry balances.

    Returns the first problem, or None when the whole chain holds.
    """
    expected_prev = GENESIS_HASH
    expected_id = 1
    reversed_ids: set[int] = set()
    for entry in entries:
        if entry.id != expected_id:
            return ChainProblem(entry.id, f"entry {expected_id} is missing (found {entry.id} next)")
        if entry.prev_hash != expected_prev:
            return ChainProblem(entry.id, "does not follow the previous entry's hash (chain broken)")
        if compute_hash(entry) != entry.hash:
            return ChainProblem(entry.id, "content does not match its hash (altered after recording)")
        try:
            validate_entry(entry.draft())
        except EntryError as exc:
            return ChainProblem(entry.id, str(exc))
        if entry.reverses is not None:
            if entry.reverses in reversed_ids:
                return ChainProblem(entry.id, f"reverses entry {entry.reverses} a second time")
            if not (0 < entry.reverses < entry.id):
                return ChainProblem(entry.id, f"reverses entry {entry.reverses}, which precedes no entry")
            reversed_ids.add(entry.reverses)
        expected_prev = entry.hash
        expected_id += 1
    return None
