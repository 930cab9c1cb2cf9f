"""Figures of the loan portfolio at a date: pure functions of loan positions and borrowers.

Definitions (docs/loans.md):

* a loan counts as **disbursed** when its disbursement is dated on or before the date; it is
  **outstanding** when its outstanding principal is above zero (active or restructured);
* **borrowers**: the borrowers with a loan outstanding;
* **disbursed to date**: the sum of the disbursements dated on or before the date;
* **average loan**: disbursed to date / number of loans disbursed;
* **largest exposure**: the borrower with the most outstanding principal (all their loans),
  and its share of the gross outstanding principal;
* **PAR30 / PAR90** (`loans.par`): the whole outstanding principal of every loan more than
  30 (90) days past due, divided by the gross outstanding principal; restructured loans are
  included, and also shown on their own line (their outstanding principal and its share, and
  their part of PAR30);
* women-led and youth-led shares: among the borrowers with a loan outstanding, by count and
  by outstanding principal;
* write-offs: loans written off on or before the date, principal and interest written off,
  and the recoveries received since.

Every figure is in one currency: loans in other currencies are left out (and counted in
`other_currencies`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from fisiq.loans import Position, par
from fisiq.money import from_minor, to_str

RATIO = Decimal("0.0001")  # ratios are given to 0.01 %


@dataclass(frozen=True, slots=True)
class LoanFacts:
    """One loan's position with what the portfolio needs of its borrower."""

    loan_id: int
    borrower_id: int
    borrower: str
    country: str | None
    region: str | None
    sector: str | None
    women_led: bool
    youth_led: bool
    position: Position


@dataclass(frozen=True, slots=True)
class Group:
    key: str
    loans: int
    borrowers: int
    outstanding: Decimal


@dataclass(frozen=True, slots=True)
class Share:
    borrowers: int
    by_count: Decimal
    outstanding: Decimal
    by_amount: Decimal


@dataclass(frozen=True, slots=True)
class Portfolio:
    as_of: date
    currency: str
    loans_disbursed: int
    loans_outstanding: int
    borrowers: int
    disbursed: Decimal
    outstanding: Decimal
    average_loan: Decimal
    largest_borrower: str | None
    largest_exposure: Decimal
    largest_share: Decimal
    par30: Decimal
    par90: Decimal
    at_risk30: Decimal
    at_risk90: Decimal
    restructured_loans: int
    restructured_outstanding: Decimal
    restructured_share: Decimal
    restructured_par30: Decimal  # outstanding of restructured loans > 30 days late / gross
    written_off_loans: int
    written_off: Decimal
    interest_written_off: Decimal
    recovered: Decimal
    women_led: Share
    youth_led: Share
    by_region: tuple[Group, ...]
    by_country: tuple[Group, ...]
    by_sector: tuple[Group, ...]
    other_currencies: int


def _ratio(part: Decimal, whole: Decimal) -> Decimal:
    return (part / whole).quantize(RATIO) if whole else Decimal("0.0000")


# The group of loans whose borrower has no region (country, sector) on record.
UNKNOWN = "(unknown)"


def _groups(facts: Sequence[LoanFacts], key: str, zero: Decimal) -> tuple[Group, ...]:
    loans: dict[str, int] = defaultdict(int)
    people: dict[str, set[int]] = defaultdict(set)
    amount: dict[str, Decimal] = defaultdict(lambda: zero)
    for f in facts:
        k = getattr(f, key) or UNKNOWN
        loans[k] += 1
        people[k].add(f.borrower_id)
        amount[k] += f.position.outstanding_principal
    return tuple(
        Group(k, loans[k], len(people[k]), amount[k])
        for k in sorted(loans, key=lambda k: (-amount[k], k))
    )


def _share(facts: Sequence[LoanFacts], flag: str, borrowers: int, gross: Decimal, zero: Decimal) -> Share:
    chosen = [f for f in facts if getattr(f, flag)]
    count = len({f.borrower_id for f in chosen})
    amount = sum((f.position.outstanding_principal for f in chosen), zero)
    return Share(count, _ratio(Decimal(count), Decimal(borrowers)), amount, _ratio(amount, gross))


def compute(facts: Iterable[LoanFacts], as_of: date, currency: str = "CAD") -> Portfolio:
    """The portfolio's figures as of `as_of` (positions must be taken as of that date)."""
    every = list(facts)
    zero = from_minor(0, currency)
    mine = [f for f in every if f.position.currency == currency]
    disbursed = [f for f in mine if f.position.disbursed > 0]
    live = [f for f in disbursed if f.position.outstanding_principal > 0]
    positions = [f.position for f in live]
    gross = sum((p.outstanding_principal for p in positions), zero)
    total_disbursed = sum((f.position.disbursed for f in disbursed), zero)
    by_borrower: dict[int, Decimal] = defaultdict(lambda: zero)
    names: dict[int, str] = {}
    for f in live:
        by_borrower[f.borrower_id] += f.position.outstanding_principal
        names[f.borrower_id] = f.borrower
    largest = max(by_borrower, key=lambda b: (by_borrower[b], -b), default=None)
    restructured = [f for f in live if f.position.status == "restructured"]
    restructured_amount = sum((f.position.outstanding_principal for f in restructured), zero)
    written = [f for f in disbursed if f.position.status == "written-off"]
    borrowers = len(by_borrower)
    average = (total_disbursed / len(disbursed)).quantize(zero) if disbursed else zero
    return Portfolio(
        as_of=as_of,
        currency=currency,
        loans_disbursed=len(disbursed),
        loans_outstanding=len(live),
        borrowers=borrowers,
        disbursed=total_disbursed,
        outstanding=gross,
        average_loan=average,
        largest_borrower=names[largest] if largest is not None else None,
        largest_exposure=by_borrower[largest] if largest is not None else zero,
        largest_share=_ratio(by_borrower[largest], gross) if largest is not None else _ratio(zero, zero),
        par30=par(positions, 30).quantize(RATIO),
        par90=par(positions, 90).quantize(RATIO),
        at_risk30=sum((p.outstanding_principal for p in positions if p.days_past_due > 30), zero),
        at_risk90=sum((p.outstanding_principal for p in positions if p.days_past_due > 90), zero),
        restructured_loans=len(restructured),
        restructured_outstanding=restructured_amount,
        restructured_share=_ratio(restructured_amount, gross),
        restructured_par30=_ratio(
            sum((f.position.outstanding_principal for f in restructured if f.position.days_past_due > 30), zero), gross
        ),
        written_off_loans=len(written),
        written_off=sum((f.position.written_off for f in written), zero),
        interest_written_off=sum((f.position.interest_written_off for f in written), zero),
        recovered=sum((f.position.recovered for f in written), zero),
        women_led=_share(live, "women_led", borrowers, gross, zero),
        youth_led=_share(live, "youth_led", borrowers, gross, zero),
        by_region=_groups(live, "region", zero),
        by_country=_groups(live, "country", zero),
        by_sector=_groups(live, "sector", zero),
        other_currencies=len(every) - len(mine),
    )


def _money(amount: Decimal, currency: str) -> str:
    return to_str(amount, currency)


def portfolio_json(p: Portfolio) -> dict[str, object]:
    """The JSON shape of `fisiq portfolio --json` (amounts as decimal strings, ratios 0..1)."""
    c = p.currency

    def groups(gs: Sequence[Group]) -> list[Mapping[str, object]]:
        return [{"key": g.key, "loans": g.loans, "borrowers": g.borrowers, "outstanding": _money(g.outstanding, c),
                 "share": str(_ratio(g.outstanding, p.outstanding))} for g in gs]

    def share(s: Share) -> dict[str, object]:
        return {"borrowers": s.borrowers, "by_count": str(s.by_count), "outstanding": _money(s.outstanding, c),
                "by_amount": str(s.by_amount)}

    return {
        "as_of": p.as_of.isoformat(),
        "currency": c,
        "loans_disbursed": p.loans_disbursed,
        "loans_outstanding": p.loans_outstanding,
        "borrowers": p.borrowers,
        "disbursed": _money(p.disbursed, c),
        "outstanding": _money(p.outstanding, c),
        "average_loan": _money(p.average_loan, c),
        "largest_exposure": {"borrower": p.largest_borrower, "outstanding": _money(p.largest_exposure, c),
                             "share": str(p.largest_share)},
        "par30": str(p.par30),
        "par90": str(p.par90),
        "at_risk30": _money(p.at_risk30, c),
        "at_risk90": _money(p.at_risk90, c),
        "restructured": {"loans": p.restructured_loans, "outstanding": _money(p.restructured_outstanding, c),
                         "share": str(p.restructured_share), "par30": str(p.restructured_par30)},
        "write_offs": {"loans": p.written_off_loans, "principal": _money(p.written_off, c),
                       "interest": _money(p.interest_written_off, c), "recovered": _money(p.recovered, c)},
        "women_led": share(p.women_led),
        "youth_led": share(p.youth_led),
        "by_region": groups(p.by_region),
        "by_country": groups(p.by_country),
        "by_sector": groups(p.by_sector),
        "other_currencies": p.other_currencies,
    }
