"""Report figures computed from balances: pure functions, no database, no terminal."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from fisiq.accounts import AccountType
from fisiq.entries import RecordedEntry
from fisiq.money import DEFAULT_CURRENCY, to_str


@dataclass(frozen=True, slots=True)
class Balance:
    account: str
    account_type: AccountType
    currency: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class RegisterLine:
    entry_id: int
    date: date
    memo: str
    party: str | None
    currency: str
    amount: Decimal
    running: Decimal


@dataclass(frozen=True, slots=True)
class TrialBalance:
    rows: tuple[Balance, ...]
    totals: dict[str, Decimal]  # per currency; zero when the books balance

    @property
    def balanced(self) -> bool:
        return all(total == 0 for total in self.totals.values())


def trial_balance(balances: Iterable[Balance]) -> TrialBalance:
    rows = tuple(balances)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[row.currency] += row.amount
    totals.setdefault(DEFAULT_CURRENCY, Decimal("0.00"))
    return TrialBalance(rows, {cur: totals[cur] for cur in sorted(totals)})


def trial_balance_json(tb: TrialBalance, *, as_of: str | None, start: str | None) -> dict[str, object]:
    return {
        "from": start,
        "as_of": as_of,
        "rows": [
            {
                "account": r.account,
                "type": r.account_type.value,
                "currency": r.currency,
                "balance": to_str(r.amount, r.currency),
            }
            for r in tb.rows
        ],
        "total": to_str(tb.totals.get(DEFAULT_CURRENCY, Decimal(0)), DEFAULT_CURRENCY),
        "totals": {cur: to_str(v, cur) for cur, v in tb.totals.items()},
    }


def entry_json(entry: RecordedEntry) -> dict[str, object]:
    return {
        "id": entry.id,
        "date": entry.date.isoformat(),
        "memo": entry.memo,
        "kind": entry.kind,
        "ref": entry.ref,
        "link": entry.link,
        "reverses": entry.reverses,
        "recorded_by": entry.recorded_by,
        "recorded_at": entry.recorded_at,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
        "postings": [
            {"account": p.account, "party": p.party, "amount": to_str(p.amount, p.currency), "currency": p.currency}
            for p in entry.postings
        ],
    }


def register_json(
    account: str, opening: dict[str, Decimal], lines: Sequence[RegisterLine]
) -> dict[str, object]:
    closing = dict(opening)
    for line in lines:
        closing[line.currency] = line.running
    return {
        "account": account,
        "opening": {cur: to_str(v, cur) for cur, v in sorted(opening.items())},
        "lines": [
            {
                "entry": line.entry_id,
                "date": line.date.isoformat(),
                "memo": line.memo,
                "party": line.party,
                "amount": to_str(line.amount, line.currency),
                "currency": line.currency,
                "balance": to_str(line.running, line.currency),
            }
            for line in lines
        ],
        "closing": {cur: to_str(v, cur) for cur, v in sorted(closing.items())},
    }
