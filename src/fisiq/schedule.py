"""Repayment schedules of FISIQ loans: pure arithmetic, no database, no terminal.

A schedule is the contract: it says, installment by installment, how much principal and
interest falls due on which date. It is computed on a declining balance.

Rounding rule (the only place a loan's amounts are rounded):

* The periodic rate is the annual rate (a percentage) / 100 / 12 for monthly installments,
  / 4 for quarterly ones (30/360: every period is the same fraction of a year).
* An installment's interest is the balance before it times the periodic rate, rounded to
  the currency's minor unit, half to even. It is computed as
  `balance * annual_rate / (100 * periods per year)` so that an exact half (a tie) is seen
  as one and rounded to even, whatever the rate's decimal expansion.
* annuity: the level payment `A = P*r / (1 - (1 + r)**-n)` (`P / n` when r = 0) is rounded
  once, half to even; each installment's principal is `A - interest`.
* equal-principal: each installment's principal is `P / n` rounded half to even.
* bullet: no principal before the last installment.
* The last installment's principal is always the remaining balance, so the principal sums
  exactly to P and the final balance is exactly zero; its payment is principal + interest.
* Grace: the first `grace` installments pay interest only; the amortization above runs over
  the remaining `n = term - grace` installments.

Pathological case: when the principal is tiny next to the number of installments (a few
cents over dozens of installments, a few francs CFA over many quarters), or the rate very high
over a very long term (a rounding remainder compounds at the loan's rate), the rounded regular
principal can repay the loan before its last installment, which would leave a negative
balance. `build_schedule` refuses such terms with a `LoanError` (use fewer installments or a
larger principal) rather than bend the rule. The same compounding means that at a high rate
over many installments the last annuity payment may differ from the others by more than a
cent (e.g. a few dollars at 30 % over 120 months): it is the rule applied honestly.

All arithmetic runs in a local decimal context (`CONTEXT`, 34 digits, half to even) so the
results never depend on the caller's context.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)

from dateutil.relativedelta import relativedelta

from fisiq.errors import FisiqError
from fisiq.money import MoneyError, check_storable, currency_exponent, quantize

# 34 significant digits (IEEE decimal128): loan amounts have at most 15, rates a handful, so
# products are exact and quotients carry far more digits than the cent needs.
CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])

FREQUENCIES: dict[str, int] = {"monthly": 12, "quarterly": 4}  # periods per year
METHODS: tuple[str, ...] = ("annuity", "equal-principal", "bullet")
MAX_TERM = 600  # installments: fifty years of monthly payments is already far beyond any loan


class LoanError(FisiqError):
    """Loan terms or a loan event that fisiq refuses; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class LoanTerms:
    """What a loan contract says: amount, currency, annual rate (percent), installments."""

    principal: Decimal
    currency: str
    annual_rate: Decimal  # percent, e.g. Decimal("6.5")
    term: int  # number of installments, grace included
    first_due: date
    frequency: str = "monthly"  # or "quarterly"
    method: str = "annuity"  # or "equal-principal" | "bullet"
    grace: int = 0  # leading interest-only installments


@dataclass(frozen=True, slots=True)
class Installment:
    """One line of a schedule; `balance` is the principal still owed after it is paid."""

    number: int
    due: date
    principal: Decimal
    interest: Decimal
    payment: Decimal
    balance: Decimal


def validate_terms(terms: LoanTerms) -> None:
    """Raise LoanError unless the terms describe a loan fisiq can schedule."""
    try:
        currency_exponent(terms.currency)
    except MoneyError as exc:
        raise LoanError(str(exc)) from None
    principal = terms.principal
    if not isinstance(principal, Decimal) or not principal.is_finite():
        raise LoanError(f"loan principal {principal!r} must be a finite decimal amount")
    if principal <= 0:
        raise LoanError(f"loan principal must be positive, not {principal}")
    try:
        check_storable(principal, terms.currency)
    except MoneyError as exc:
        raise LoanError(f"loan principal: {exc}") from None
    rate = terms.annual_rate
    if not isinstance(rate, Decimal) or not rate.is_finite():
        raise LoanError(f"annual rate {rate!r} must be a finite decimal percentage, e.g. 6.5")
    if rate < 0 or rate > 100:
        raise LoanError(f"annual rate must be between 0 and 100 percent, not {rate}")
    # bool is an int: refuse it explicitly rather than schedule True installments.
    if not isinstance(terms.term, int) or isinstance(terms.term, bool):
        raise LoanError(f"number of installments {terms.term!r} must be a whole number")
    if terms.term < 1 or terms.term > MAX_TERM:
        raise LoanError(f"number of installments must be between 1 and {MAX_TERM}, not {terms.term}")
    if not isinstance(terms.grace, int) or isinstance(terms.grace, bool):
        raise LoanError(f"grace {terms.grace!r} must be a whole number of installments")
    if terms.grace < 0 or terms.grace >= terms.term:
        raise LoanError(
            f"grace must be at least 0 and fewer than the {terms.term} installments, not {terms.grace}"
        )
    if not isinstance(terms.first_due, date):
        raise LoanError(f"first due date {terms.first_due!r} must be a date")
    if terms.frequency not in FREQUENCIES:
        raise LoanError(f"unknown frequency {terms.frequency!r} (monthly or quarterly)")
    if terms.method not in METHODS:
        raise LoanError(f"unknown method {terms.method!r} (annuity, equal-principal or bullet)")


def periodic_rate(terms: LoanTerms) -> Decimal:
    """The rate of one period as a fraction: annual % / 100 / 12 (monthly) or / 4 (quarterly)."""
    with localcontext(CONTEXT):
        return terms.annual_rate / (100 * FREQUENCIES[terms.frequency])


def due_dates(first_due: date, n: int, frequency: str = "monthly") -> tuple[date, ...]:
    """The n due dates, each counted in whole periods from the first (never chained).

    Counting from the first date keeps the day: Jan 30 gives Feb 29 (2024), then Mar 30, not
    Mar 29. A first due date on the last day of its month keeps every date on the last day of
    its month: Jan 31, Feb 29, Mar 31; Apr 30, May 31.
    """
    if frequency not in FREQUENCIES:
        raise LoanError(f"unknown frequency {frequency!r} (monthly or quarterly)")
    if n < 0:
        raise LoanError(f"number of due dates must not be negative, not {n}")
    step = 12 // FREQUENCIES[frequency]
    month_end = first_due.day == calendar.monthrange(first_due.year, first_due.month)[1]
    if month_end:
        # day=31 is clamped by relativedelta to the last day of the target month.
        return tuple(first_due + relativedelta(months=k * step, day=31) for k in range(n))
    return tuple(first_due + relativedelta(months=k * step) for k in range(n))


def _interest(balance: Decimal, terms: LoanTerms) -> Decimal:
    # Divide last: balance * rate is exact, and a quotient that is a true half-minor-unit tie
    # terminates, so the division yields it exactly and half-even sees the tie.
    return quantize(balance * terms.annual_rate / (100 * FREQUENCIES[terms.frequency]), terms.currency)


def _regular_principal(terms: LoanTerms, n: int) -> Decimal | None:
    """The rounded level payment (annuity) or principal (equal-principal); None for bullet."""
    p = terms.principal
    if terms.method == "bullet":
        return None
    if terms.method == "equal-principal":
        return quantize(p / n, terms.currency)
    r = periodic_rate(terms)
    if r == 0:
        return quantize(p / n, terms.currency)
    return quantize(p * r / (1 - (1 + r) ** -n), terms.currency)


def build_schedule(terms: LoanTerms) -> tuple[Installment, ...]:
    """The installments of the loan, on a declining balance (see the module's rounding rule).

    Raises LoanError for invalid terms, and for the pathological terms whose rounded
    installments would repay the loan before its last installment.
    """
    validate_terms(terms)
    with localcontext(CONTEXT):
        zero = quantize(Decimal(0), terms.currency)
        dates = due_dates(terms.first_due, terms.term, terms.frequency)
        n = terms.term - terms.grace
        regular = _regular_principal(terms, n)
        balance = quantize(terms.principal, terms.currency)
        out: list[Installment] = []
        for i, due in enumerate(dates):
            interest = _interest(balance, terms)
            k = i - terms.grace + 1  # 1..n within the amortization, <= 0 during grace
            if k <= 0:
                principal = zero
            elif k == n:
                principal = balance  # the last absorbs every rounding remainder
            elif regular is None:  # bullet
                principal = zero
            elif terms.method == "annuity":
                principal = regular - interest
            else:
                principal = regular
            if principal < 0:  # cannot happen (A >= P*r >= every interest), but never hide it
                raise LoanError(
                    f"installment {i + 1} of {terms.principal} {terms.currency}: interest "
                    f"{interest} exceeds the level payment {regular}; check the terms"
                )
            if principal > balance:
                raise LoanError(
                    f"cannot schedule {terms.principal} {terms.currency} over {n} {terms.method} "
                    f"installments: rounded to the minor unit, they would repay it before the "
                    f"last one; use fewer installments or a larger principal"
                )
            balance -= principal
            out.append(Installment(i + 1, due, principal, interest, principal + interest, balance))
        return tuple(out)
