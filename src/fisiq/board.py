"""The board report's figures: gathered in one read transaction, plus the alert rules.

`gather(conn, as_of)` reads what a board member needs on one screen, by calling the
functions that already compute each part (nothing is re-implemented here):

* the capital campaign: `commitments_db.campaign_progress` (the figures of `fisiq progress`);
* cash (Assets:Cash in CAD) and what is **free to lend**: cash less the principal of the
  loans approved on or before the date and not disbursed by it;
* the loan portfolio: `portfolio.compute` over every loan's `position(as_of)` (the figures
  of `fisiq portfolio`, in CAD);
* the fiscal year to date: `statements.income_statement` from the first day of the fiscal
  year that contains the date through the date (the figures of `fisiq report income`);
* alerts, from the pure rules below.

The alert rules (pure functions of figures; `alerts` runs them all, in this order):

| kind | raised when |
|---|---|
| `borrower-limit-over` | a borrower's outstanding principal is above the largest-borrower limit (`loan.max_borrower_share` % of the capital paid in) |
| `cash-short` | free to lend is negative: approved loans not yet disbursed exceed the cash |
| `arrears` | a loan is past due (days past due > 0), in any currency |
| `borrower-limit-near` | a borrower's outstanding principal is at least 80 % of that limit (and not above it) |
| `commitment-unpaid` | a signed commitment still has an unpaid rest more than `board.unpaid_commitment_days` days (default 180) after it was signed |

Everything is in CAD, the fund's currency, except arrears, which name their loan's currency;
what the CAD figures leave out (cash, the year's income and expenses, loans outstanding in
another currency) is listed per currency (`other_currencies`), never converted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from fisiq import accounts as chart
from fisiq.commitments import CURRENCY, Progress, figures_json
from fisiq.loans import borrower_limit
from fisiq.money import format_money, format_percent, to_str
from fisiq.portfolio import Portfolio, portfolio_json
from fisiq.statements import FiscalYear, Line, long_date

if TYPE_CHECKING:
    from sqlalchemy import Connection

NEAR_LIMIT = Decimal("0.80")  # a borrower at 80 % of the limit or more is flagged

ARREARS = "arrears"
LIMIT_OVER = "borrower-limit-over"
LIMIT_NEAR = "borrower-limit-near"
CASH_SHORT = "cash-short"
COMMITMENT_UNPAID = "commitment-unpaid"
ALERT_KINDS = (LIMIT_OVER, CASH_SHORT, ARREARS, LIMIT_NEAR, COMMITMENT_UNPAID)

ZERO = Decimal("0.00")


# --- what the rules look at ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LateLoan:
    """A loan past due at the report's date."""

    loan_id: int
    borrower: str
    currency: str
    days_past_due: int
    amount_due: Decimal  # principal and interest fallen due and unpaid
    outstanding: Decimal


@dataclass(frozen=True, slots=True)
class SignedUnpaid:
    """A signed commitment with an unpaid rest at the report's date."""

    commitment_id: int
    investor: str
    signed_on: date
    unpaid: Decimal


@dataclass(frozen=True, slots=True)
class Alert:
    """One thing the board should look at. `facts` hold the figures the message quotes (JSON keys)."""

    kind: str
    facts: Mapping[str, Decimal | int | str | date] = field(default_factory=dict)


# --- the rules -----------------------------------------------------------------------------


def arrears_alerts(late: Iterable[LateLoan]) -> list[Alert]:
    """Every loan past due, the most overdue first."""
    return [
        Alert(ARREARS, {"loan": x.loan_id, "borrower": x.borrower, "currency": x.currency,
                        "days_past_due": x.days_past_due, "amount_due": x.amount_due, "outstanding": x.outstanding})
        for x in sorted(late, key=lambda x: (-x.days_past_due, x.loan_id)) if x.days_past_due > 0
    ]


def limit_alerts(exposures: Mapping[str, Decimal], capital: Decimal, max_share: Decimal) -> list[Alert]:
    """Borrowers above the largest-borrower limit, then those at 80 % of it or more.

    The limit is `max_share` percent of the capital paid in; with no capital paid in, any
    exposure is above it.
    """
    limit = borrower_limit(capital, max_share, CURRENCY)
    over, near = [], []
    for borrower, exposure in sorted(exposures.items(), key=lambda kv: (-kv[1], kv[0])):
        if exposure <= 0:
            continue
        share = (exposure * 100 / capital).quantize(Decimal("0.01")) if capital > 0 else None
        facts: dict[str, Decimal | int | str | date] = {
            "borrower": borrower, "exposure": exposure, "limit": limit, "max_share": max_share, "capital": capital,
        }
        if share is not None:
            facts["share"] = share
        if exposure > limit:
            over.append(Alert(LIMIT_OVER, facts))
        elif exposure >= limit * NEAR_LIMIT:
            near.append(Alert(LIMIT_NEAR, facts))
    return over + near


def cash_alerts(cash: Decimal, approved_undisbursed: Decimal) -> list[Alert]:
    free = cash - approved_undisbursed
    if free >= 0:
        return []
    return [Alert(CASH_SHORT, {"cash": cash, "approved_undisbursed": approved_undisbursed, "free_to_lend": free})]


def unpaid_commitment_alerts(signed: Iterable[SignedUnpaid], as_of: date, days: int) -> list[Alert]:
    """Signed commitments with an unpaid rest more than `days` days after their signing, oldest first."""
    out = []
    for c in sorted(signed, key=lambda c: (c.signed_on, c.commitment_id)):
        waited = (as_of - c.signed_on).days
        if c.unpaid > 0 and waited > days:
            out.append(Alert(COMMITMENT_UNPAID, {"commitment": c.commitment_id, "investor": c.investor,
                                                 "signed_on": c.signed_on, "days": waited, "unpaid": c.unpaid,
                                                 "threshold_days": days}))
    return out


def alerts(
    *, late: Iterable[LateLoan], exposures: Mapping[str, Decimal], capital: Decimal, max_share: Decimal,
    cash: Decimal, approved_undisbursed: Decimal, signed: Iterable[SignedUnpaid], as_of: date, unpaid_days: int,
) -> tuple[Alert, ...]:
    """Every alert, the most pressing kinds first (see ALERT_KINDS)."""
    found = [
        *limit_alerts(exposures, capital, max_share),
        *cash_alerts(cash, approved_undisbursed),
        *arrears_alerts(late),
        *unpaid_commitment_alerts(signed, as_of, unpaid_days),
    ]
    return tuple(sorted(found, key=lambda a: ALERT_KINDS.index(a.kind)))  # stable: each rule's order kept


# --- the figures ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class YearToDate:
    """The fiscal year that contains the report's date, from its first day through that date."""

    year: FiscalYear  # label and start of the fiscal year; `end` is the report's date
    year_end: date  # the fiscal year's last day
    income: Decimal
    expenses: Decimal
    surplus: Decimal
    lines: tuple[tuple[str, Line], ...]  # (section, line): the accounts of income and expenses


@dataclass(frozen=True, slots=True)
class OtherCurrency:
    """What the board's figures, all in CAD, leave out in one other currency (each amount in it)."""

    currency: str
    cash: Decimal
    income: Decimal  # of the fiscal year to date, as `year`
    expenses: Decimal
    loans_outstanding: int
    outstanding: Decimal  # principal


@dataclass(frozen=True, slots=True)
class BoardFigures:
    as_of: date
    campaign: Progress
    cash: Decimal
    approved_loans: int
    approved_undisbursed: Decimal
    free_to_lend: Decimal
    capital_paid_in: Decimal
    max_borrower_share: Decimal  # percent of the capital paid in
    portfolio: Portfolio
    year: YearToDate
    unpaid_days: int
    alerts: tuple[Alert, ...]
    currency: str = CURRENCY
    # Only the currencies with something to show: the board says what it leaves out.
    other_currencies: tuple[OtherCurrency, ...] = ()


def _year_to_date(conn: Connection, as_of: date) -> tuple[YearToDate, dict[str, tuple[Decimal, Decimal]]]:
    """The CAD year to date, and each other currency's (income, expenses) over it."""
    from fisiq import ledger as books
    from fisiq import settings_db
    from fisiq import statements as st

    end = st.parse_year_end(settings_db.get_setting(conn, settings_db.FISCAL_YEAR_END))
    whole = st.fiscal_year_of(end, as_of)
    current = FiscalYear(whole.label, whole.start, as_of)
    previous = st.fiscal_year(end, whole.end.year - 1)

    # The board shows this year only: the previous year's column is left empty, unread.
    statement = st.income_statement(books.year_figures(conn, current), st.YearFigures(previous, (), ()), end)
    cad = next(cs for cs in statement.currencies if cs.currency == CURRENCY)  # always present
    others = {cs.currency: (cs.totals["income"][0], cs.totals["expenses"][0])
              for cs in statement.currencies if cs.currency != CURRENCY}
    return YearToDate(
        current, whole.end, cad.totals["income"][0], cad.totals["expenses"][0], cad.totals["surplus"][0],
        tuple((s.key, line) for s in cad.sections for line in s.lines if line.current != 0),
    ), others


def _other_currencies(cash: Mapping[str, Decimal], year: Mapping[str, tuple[Decimal, Decimal]],
                      loans: Mapping[str, list[Decimal]]) -> tuple[OtherCurrency, ...]:
    from fisiq.money import from_minor

    out = []
    for cur in sorted({*cash, *year, *loans} - {CURRENCY}):
        zero = from_minor(0, cur)
        income, expenses = year.get(cur, (zero, zero))
        outstanding = loans.get(cur, [])
        figure = OtherCurrency(cur, cash.get(cur, zero), income, expenses, len(outstanding), sum(outstanding, zero))
        if figure.cash or figure.income or figure.expenses or figure.loans_outstanding:
            out.append(figure)
    return tuple(out)


def gather(conn: Connection, as_of: date) -> BoardFigures:
    """Every figure of the board report as it stood at the end of `as_of` (one transaction: `conn`)."""
    from fisiq import commitments as rules
    from fisiq import ledger as books
    from fisiq import loans_db, settings_db
    from fisiq.commitments_db import campaign_progress, list_commitments
    from fisiq.portfolio import compute

    cad = CURRENCY

    cash_by_currency = {b.currency: b.amount for b in books.balances(conn, as_of=as_of, accounts=[chart.CASH])}
    cash = cash_by_currency.get(cad, ZERO)
    capital = loans_db.capital_paid_in(conn, cad, as_of)
    records = [r for r in loans_db.list_loans(conn) if r.approved_on <= as_of]
    people = loans_db.borrowers(conn)
    facts = loans_db.loan_facts(records, people, as_of)
    late, approved = [], []
    exposures: dict[str, Decimal] = defaultdict(lambda: ZERO)
    outstanding_elsewhere: dict[str, list[Decimal]] = defaultdict(list)
    for r, f in zip(records, facts, strict=True):
        b, p = people[r.borrower_id], f.position
        if p.days_past_due > 0:
            late.append(LateLoan(r.id, b.name, r.currency, p.days_past_due,
                                 p.principal_due_unpaid + p.interest_due_unpaid, p.outstanding_principal))
        if r.currency == cad:
            exposures[b.name] += p.outstanding_principal
            if p.status == "approved":  # approved on or before as_of, not disbursed by then
                approved.append(r.terms.principal)
        elif p.outstanding_principal > 0:
            outstanding_elsewhere[r.currency].append(p.outstanding_principal)
    approved_total = sum(approved, ZERO)
    commitments = list_commitments(conn, as_of=as_of)  # each one's history read and folded once
    signed = [
        SignedUnpaid(v.id, v.party.name, v.state.signed_on, v.state.rest)
        for v in commitments
        if v.state.signed_on is not None and v.state.rest > 0 and v.state.stage != rules.CANCELLED
    ]
    max_share = loans_db.max_borrower_share(conn)
    unpaid_days = int(settings_db.get_setting(conn, settings_db.UNPAID_COMMITMENT_DAYS))
    year, year_elsewhere = _year_to_date(conn, as_of)
    return BoardFigures(
        as_of=as_of,
        campaign=campaign_progress(conn, as_of, commitments),
        cash=cash,
        approved_loans=len(approved),
        approved_undisbursed=approved_total,
        free_to_lend=cash - approved_total,
        capital_paid_in=capital,
        max_borrower_share=max_share,
        portfolio=compute(facts, as_of, cad),
        year=year,
        unpaid_days=unpaid_days,
        alerts=alerts(late=late, exposures=exposures, capital=capital, max_share=max_share, cash=cash,
                      approved_undisbursed=approved_total, signed=signed, as_of=as_of, unpaid_days=unpaid_days),
        other_currencies=_other_currencies(cash_by_currency, year_elsewhere, outstanding_elsewhere),
    )


# --- words ---------------------------------------------------------------------------------

MESSAGES: dict[str, dict[str, str]] = {
    ARREARS: {
        "en": "Loan {loan} to {borrower} is {days_past_due} past due: {amount_due} due and unpaid, "
              "{outstanding} outstanding.",
        "fr": "Prêt {loan} à {borrower} : {days_past_due} de retard ; {amount_due} échus et impayés, "
              "{outstanding} de capital restant dû.",
    },
    LIMIT_OVER: {
        "en": "{borrower} owes {exposure}, {share} of the capital paid in: above the largest-borrower "
              "limit of {max_share} ({limit}).",
        "fr": "{borrower} doit {exposure}, soit {share} du capital versé : au-delà de la limite par "
              "emprunteur de {max_share} ({limit}).",
    },
    LIMIT_NEAR: {
        "en": "{borrower} owes {exposure}, {share} of the capital paid in: near the largest-borrower "
              "limit of {max_share} ({limit}).",
        "fr": "{borrower} doit {exposure}, soit {share} du capital versé : proche de la limite par "
              "emprunteur de {max_share} ({limit}).",
    },
    CASH_SHORT: {
        "en": "Loans approved but not disbursed ({approved_undisbursed}) exceed the cash ({cash}) by {short}.",
        "fr": "Les prêts approuvés non décaissés ({approved_undisbursed}) dépassent l'encaisse ({cash}) de {short}.",
    },
    COMMITMENT_UNPAID: {
        "en": "{investor}: {unpaid} of the commitment signed on {signed_on} still unpaid after {days} "
              "(alert after {threshold_days}).",
        "fr": "{investor} : {unpaid} de l'engagement signé le {signed_on} toujours non versés après {days} "
              "(alerte après {threshold_days}).",
    },
}


def count_text(n: int, lang: str) -> str:
    """A whole number as people read it: 3 164 (fr), 3,164 (en)."""
    text = f"{n:,}"
    return text.replace(",", " ") if lang == "fr" else text


def counted(n: int, singular: str, plural: str, lang: str) -> str:
    """`n` and its noun, singular or plural as `lang` wants: 0 prêt, 1 prêt, 2 prêts; 0 loans, 1 loan."""
    one = n <= 1 if lang == "fr" else n == 1
    return f"{count_text(n, lang)} {singular if one else plural}"


def days_text(n: int, lang: str) -> str:
    return counted(n, "jour", "jours", lang) if lang == "fr" else counted(n, "day", "days", lang)


def alert_message(alert: Alert, lang: str) -> str:
    """The alert in one sentence, in French or English."""
    words = "fr" if lang == "fr" else "en"
    f = alert.facts
    cur = str(f.get("currency", CURRENCY))
    values: dict[str, str] = {}
    for key, value in f.items():
        if key in ("days_past_due", "days", "threshold_days"):
            assert isinstance(value, int)
            values[key] = days_text(value, words)
        elif key in ("share", "max_share"):
            assert isinstance(value, Decimal)
            values[key] = format_percent(value, words)
        elif isinstance(value, Decimal):
            values[key] = format_money(value, cur, words)
        elif isinstance(value, date):
            values[key] = long_date(value, words)
        else:
            values[key] = str(value)
    if alert.kind == CASH_SHORT:
        values["short"] = format_money(-Decimal(f["free_to_lend"]), cur, words)  # type: ignore[arg-type]
    values.setdefault("share", "—")
    return MESSAGES[alert.kind][words].format(**values)


# --- JSON ----------------------------------------------------------------------------------


def alert_json(alert: Alert, lang: str) -> dict[str, object]:
    cur = str(alert.facts.get("currency", CURRENCY))
    doc: dict[str, object] = {"kind": alert.kind, "message": alert_message(alert, lang)}
    for key, value in alert.facts.items():
        if key in ("share", "max_share"):
            doc[key] = str(value)
        elif isinstance(value, Decimal):
            doc[key] = to_str(value, cur)
        elif isinstance(value, date):
            doc[key] = value.isoformat()
        else:
            doc[key] = value
    return doc


_PORTFOLIO_KEYS = ("loans_outstanding", "borrowers", "disbursed", "outstanding", "par30", "par90", "at_risk30",
                   "at_risk90", "largest_exposure", "women_led", "youth_led", "by_region", "other_currencies")


def board_json(b: BoardFigures, lang: str) -> dict[str, object]:
    """The figures of `fisiq report board --json` (keys documented in docs/cli.md)."""
    cur = b.currency

    def m(amount: Decimal) -> str:
        return to_str(amount, cur)

    portfolio = portfolio_json(b.portfolio)
    y = b.year
    return {
        "as_of": b.as_of.isoformat(),
        "lang": lang,
        "currency": cur,
        "campaign": {
            "categories": [figures_json(f) for f in b.campaign.categories],
            "total": figures_json(b.campaign.total),
        },
        "cash": m(b.cash),
        "approved_loans": b.approved_loans,
        "approved_undisbursed": m(b.approved_undisbursed),
        "free_to_lend": m(b.free_to_lend),
        "capital_paid_in": m(b.capital_paid_in),
        "max_borrower_share": str(b.max_borrower_share),
        "portfolio": {key: portfolio[key] for key in _PORTFOLIO_KEYS},
        "year": {
            "label": y.year.label, "from": y.year.start.isoformat(), "to": y.year.end.isoformat(),
            "year_end": y.year_end.isoformat(), "income": m(y.income), "expenses": m(y.expenses),
            "surplus": m(y.surplus),
            "lines": [{"section": section, "key": line.key, "amount": m(line.current)} for section, line in y.lines],
        },
        "unpaid_commitment_days": b.unpaid_days,
        "alerts": [alert_json(a, lang) for a in b.alerts],
        "other_currencies": [
            {"currency": o.currency, "cash": to_str(o.cash, o.currency), "income": to_str(o.income, o.currency),
             "expenses": to_str(o.expenses, o.currency), "loans_outstanding": o.loans_outstanding,
             "outstanding": to_str(o.outstanding, o.currency)}
            for o in b.other_currencies
        ],
    }
