"""Financial statements: the statement of financial position and the statement of operations.

Pure figures from balances passed in (no database, no terminal), for a fiscal year and the
one before it, side by side, as the association presents its own statements ("RAPPORT
FINANCIER" of the annual report: two years, French labels).

Presentation signs. Balances follow fisiq's sign rule (debit positive). A statement shows
each section in its natural sign: assets and expenses as stored, liabilities, net assets and
revenue negated, so the usual figures are positive. A contra account presented this way comes
out negative in its section: that is the deduction (the loan-loss allowance reduces loans, the
commitments receivable reduce the commitments subscribed), followed by a net line.

Currencies. fisiq keeps no exchange rates, so nothing is converted: every currency with a
balance gets its own statement, CAD (the functional currency) first. Each balances on its
own, because every entry balances per currency.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from fisiq import accounts as chart
from fisiq.accounts import AccountType
from fisiq.errors import FisiqError
from fisiq.money import DEFAULT_CURRENCY, format_money, quantum, to_str
from fisiq.reports import Balance

DEFAULT_YEAR_END = "03-31"  # the association's fiscal year ends on March 31
BALANCE_SHEET = "balance-sheet"
INCOME = "income"


class StatementError(FisiqError):
    """A fiscal year or a statement option that fisiq refuses."""


# --- fiscal years ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class YearEnd:
    """The last day of every fiscal year, as a month and a day (03-31 by default)."""

    month: int
    day: int

    def __str__(self) -> str:
        return f"{self.month:02d}-{self.day:02d}"


def parse_year_end(text: str) -> YearEnd:
    """`MM-DD`, a day that exists every year (so not 02-29)."""
    raw = text.strip()
    match = re.fullmatch(r"([0-9]{2})-([0-9]{2})", raw)
    if match is None:
        raise StatementError(f"fiscal year end {text!r} is not MM-DD like 03-31")
    month, day = int(match.group(1)), int(match.group(2))
    if (month, day) == (2, 29):
        raise StatementError("fiscal year end 02-29 does not exist every year; use 02-28")
    try:
        date(2001, month, day)
    except ValueError:
        raise StatementError(f"fiscal year end {text!r} is not a day of the year") from None
    return YearEnd(month, day)


@dataclass(frozen=True, slots=True)
class FiscalYear:
    """A fiscal year, named by the calendar year it ends in (2018: 2017-04-01 to 2018-03-31)."""

    label: str
    start: date
    end: date


def fiscal_year(year_end: YearEnd, ending_in: int) -> FiscalYear:
    end = date(ending_in, year_end.month, year_end.day)
    start = date(ending_in - 1, year_end.month, year_end.day) + timedelta(days=1)
    return FiscalYear(str(ending_in), start, end)


def fiscal_year_of(year_end: YearEnd, day: date) -> FiscalYear:
    """The fiscal year that contains `day`."""
    this_end = date(day.year, year_end.month, year_end.day)
    return fiscal_year(year_end, day.year if day <= this_end else day.year + 1)


# --- figures -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class YearFigures:
    """What one column needs: balances through the year's end, and the year's movements."""

    year: FiscalYear
    closing: tuple[Balance, ...]  # every posting dated on or before year.end
    movements: tuple[Balance, ...]  # postings dated within [year.start, year.end]


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a statement.

    kind: `account` (an account's balance), `deduction` (a contra account, negative),
    `net` (an account less its deduction; not added to the total), `surplus` (computed
    from revenue and expenses). `key` is the account name, or for computed lines one of
    `loans-net`, `commitments-net`, `surplus-prior-years`, `surplus-year`.
    """

    key: str
    kind: str
    current: Decimal
    previous: Decimal


@dataclass(frozen=True, slots=True)
class Section:
    key: str  # assets, liabilities, equity, income, expenses
    lines: tuple[Line, ...]
    current: Decimal
    previous: Decimal


@dataclass(frozen=True, slots=True)
class CurrencyStatement:
    currency: str
    sections: tuple[Section, ...]
    totals: dict[str, tuple[Decimal, Decimal]]  # name -> (current, previous)
    balanced: bool


@dataclass(frozen=True, slots=True)
class Statement:
    kind: str  # balance-sheet or income
    year_end: YearEnd
    current: FiscalYear
    previous: FiscalYear
    currencies: tuple[CurrencyStatement, ...]


# Contra account -> (the account it reduces, the key of the net line).
CONTRA: dict[str, tuple[str, str]] = {
    chart.LOAN_ALLOWANCE: (chart.LOAN_PRINCIPAL, "loans-net"),
    chart.COMMITMENTS_RECEIVABLE: (chart.COMMITMENTS_SUBSCRIBED, "commitments-net"),
}
_CHART_ORDER = {a.name: i for i, a in enumerate(chart.STANDARD_CHART)}
_SIGN = {
    AccountType.ASSET: 1,
    AccountType.EXPENSE: 1,
    AccountType.LIABILITY: -1,
    AccountType.EQUITY: -1,
    AccountType.INCOME: -1,
}
_SECTION = {
    AccountType.ASSET: "assets",
    AccountType.LIABILITY: "liabilities",
    AccountType.EQUITY: "equity",
    AccountType.INCOME: "income",
    AccountType.EXPENSE: "expenses",
}


def _zero(currency: str) -> Decimal:
    return Decimal(0).quantize(quantum(currency))


def _table(balances: Iterable[Balance]) -> dict[str, dict[str, tuple[AccountType, Decimal]]]:
    """currency -> account -> (type, balance)."""
    out: dict[str, dict[str, tuple[AccountType, Decimal]]] = defaultdict(dict)
    for b in balances:
        out[b.currency][b.account] = (b.account_type, b.amount)
    return out


def _surplus(table: dict[str, tuple[AccountType, Decimal]], currency: str) -> Decimal:
    """Revenue less expenses, presented (positive for a surplus)."""
    total = sum(
        (amount for kind, amount in table.values() if kind in (AccountType.INCOME, AccountType.EXPENSE)),
        _zero(currency),
    )
    return -total


def _order(account: str) -> tuple[int, str]:
    return (_CHART_ORDER.get(account, len(_CHART_ORDER)), account)


def _section(
    key: str,
    kinds: tuple[AccountType, ...],
    cur: dict[str, tuple[AccountType, Decimal]],
    prev: dict[str, tuple[AccountType, Decimal]],
    currency: str,
    extra: tuple[Line, ...] = (),
) -> Section:
    types = {name: kind for name, (kind, _) in {**prev, **cur}.items() if kind in kinds}
    zero = _zero(currency)

    def presented(table: dict[str, tuple[AccountType, Decimal]], name: str) -> Decimal:
        if name not in table:
            return zero
        kind, amount = table[name]
        return _SIGN[kind] * amount + zero

    shown = {
        name for name in types
        if presented(cur, name) != 0 or presented(prev, name) != 0
    }
    # A deduction is shown under the account it reduces, even when that one is zero.
    for contra, (parent, _) in CONTRA.items():
        if contra in shown and parent not in types:
            types[parent] = types[contra]
        if contra in shown:
            shown.add(parent)
    lines: list[Line] = []
    for name in sorted(shown - set(CONTRA), key=_order):
        lines.append(Line(name, "account", presented(cur, name), presented(prev, name)))
        for contra, (parent, net_key) in CONTRA.items():
            if parent == name and contra in shown:
                deduction = Line(contra, "deduction", presented(cur, contra), presented(prev, contra))
                lines.append(deduction)
                lines.append(Line(net_key, "net", lines[-2].current + deduction.current,
                                  lines[-2].previous + deduction.previous))
    lines.extend(extra)
    counted = [line for line in lines if line.kind != "net"]
    return Section(
        key,
        tuple(lines),
        sum((line.current for line in counted), zero),
        sum((line.previous for line in counted), zero),
    )


def _currencies(*tables: dict[str, dict[str, tuple[AccountType, Decimal]]]) -> list[str]:
    seen = {cur for table in tables for cur, accounts in table.items()
            if any(amount != 0 for _, amount in accounts.values())}
    seen.add(DEFAULT_CURRENCY)
    return sorted(seen, key=lambda c: (c != DEFAULT_CURRENCY, c))


def balance_sheet(current: YearFigures, previous: YearFigures, year_end: YearEnd) -> Statement:
    """The statement of financial position at the end of both years.

    Net assets hold the accumulated surplus of prior years and the surplus of the year (fisiq
    never closes revenue and expense accounts into equity), so assets equal liabilities plus
    net assets in each column and each currency.
    """
    closing_c, closing_p = _table(current.closing), _table(previous.closing)
    moves_c, moves_p = _table(current.movements), _table(previous.movements)
    result: list[CurrencyStatement] = []
    for cur in _currencies(closing_c, closing_p):
        c, p = closing_c.get(cur, {}), closing_p.get(cur, {})
        year_c, year_p = _surplus(moves_c.get(cur, {}), cur), _surplus(moves_p.get(cur, {}), cur)
        prior_c, prior_p = _surplus(c, cur) - year_c, _surplus(p, cur) - year_p
        extra = []
        if prior_c != 0 or prior_p != 0:
            extra.append(Line("surplus-prior-years", "surplus", prior_c, prior_p))
        extra.append(Line("surplus-year", "surplus", year_c, year_p))
        assets = _section("assets", (AccountType.ASSET,), c, p, cur)
        liabilities = _section("liabilities", (AccountType.LIABILITY,), c, p, cur)
        equity = _section("equity", (AccountType.EQUITY,), c, p, cur, tuple(extra))
        both = (liabilities.current + equity.current, liabilities.previous + equity.previous)
        result.append(CurrencyStatement(
            cur,
            (assets, liabilities, equity),
            {
                "assets": (assets.current, assets.previous),
                "liabilities": (liabilities.current, liabilities.previous),
                "equity": (equity.current, equity.previous),
                "liabilities_and_equity": both,
            },
            balanced=(assets.current, assets.previous) == both,
        ))
    return Statement(BALANCE_SHEET, year_end, current.year, previous.year, tuple(result))


def income_statement(current: YearFigures, previous: YearFigures, year_end: YearEnd) -> Statement:
    """The statement of operations: revenue and expenses of each year, and the surplus."""
    moves_c, moves_p = _table(current.movements), _table(previous.movements)
    result: list[CurrencyStatement] = []
    for cur in _currencies(moves_c, moves_p):
        c, p = moves_c.get(cur, {}), moves_p.get(cur, {})
        income = _section("income", (AccountType.INCOME,), c, p, cur)
        expenses = _section("expenses", (AccountType.EXPENSE,), c, p, cur)
        surplus = (income.current - expenses.current, income.previous - expenses.previous)
        result.append(CurrencyStatement(
            cur,
            (income, expenses),
            {
                "income": (income.current, income.previous),
                "expenses": (expenses.current, expenses.previous),
                "surplus": surplus,
            },
            balanced=surplus == (_surplus(c, cur), _surplus(p, cur)),
        ))
    return Statement(INCOME, year_end, current.year, previous.year, tuple(result))


# --- JSON --------------------------------------------------------------------------------


def statement_json(statement: Statement) -> dict[str, object]:
    """Stable keys, amounts as decimal strings, presented signs (see the module docstring)."""

    def year(fy: FiscalYear) -> dict[str, str]:
        return {"label": fy.label, "from": fy.start.isoformat(), "to": fy.end.isoformat()}

    def pair(values: tuple[Decimal, Decimal], cur: str) -> dict[str, str]:
        return {"current": to_str(values[0], cur), "previous": to_str(values[1], cur)}

    return {
        "statement": statement.kind,
        "year_end": str(statement.year_end),
        "current": year(statement.current),
        "previous": year(statement.previous),
        "currencies": [
            {
                "currency": cs.currency,
                "sections": [
                    {
                        "section": s.key,
                        "lines": [
                            {"key": ln.key, "kind": ln.kind, **pair((ln.current, ln.previous), cs.currency)}
                            for ln in s.lines
                        ],
                        "total": pair((s.current, s.previous), cs.currency),
                    }
                    for s in cs.sections
                ],
                "totals": {name: pair(v, cs.currency) for name, v in cs.totals.items()},
                "balanced": cs.balanced,
            }
            for cs in statement.currencies
        ],
    }


# --- words, in French and English -------------------------------------------------------

LABELS: dict[str, tuple[str, str]] = {  # key -> (en, fr)
    chart.CASH: ("Cash", "Encaisse"),
    chart.INVESTMENTS: ("Investments", "Placements"),
    chart.LOAN_PRINCIPAL: ("Loans receivable", "Prêts consentis"),
    # A deduction shows its amount negative, so its words do not say "less" again.
    chart.LOAN_ALLOWANCE: ("Allowance for loan losses", "Provision pour pertes sur prêts"),
    "loans-net": ("Loans receivable, net", "Prêts consentis, montant net"),
    chart.INTEREST_RECEIVABLE: ("Interest receivable", "Intérêts à recevoir"),
    chart.INVESTOR_LOANS: ("Loans from investors", "Prêts des investisseurs"),
    chart.PAID_IN_CAPITAL: ("Paid-in capital", "Capital versé"),
    chart.COMMITMENTS_SUBSCRIBED: ("Commitments subscribed", "Engagements souscrits"),
    chart.COMMITMENTS_RECEIVABLE: ("Commitments receivable", "Engagements à recevoir"),
    "commitments-net": ("Commitments, net", "Engagements, montant net"),
    "surplus-prior-years": ("Accumulated surplus of prior years", "Excédents cumulés des exercices antérieurs"),
    "surplus-year": ("Surplus (deficit) of the year", "Excédent (insuffisance) de l'exercice"),
    chart.CONTRIBUTIONS: ("Contributions", "Contributions"),
    chart.LOAN_INTEREST: ("Interest on loans", "Intérêts sur prêts"),
    chart.INVESTMENT_INTEREST: ("Interest on investments", "Intérêts sur placements"),
    chart.RECOVERIES: ("Recoveries", "Recouvrements"),
    chart.OPERATIONS: ("Operations", "Fonctionnement"),
    chart.LOAN_LOSS_PROVISION: ("Provision for loan losses", "Dotation à la provision pour pertes sur prêts"),
    # sections and totals
    "assets": ("ASSETS", "ACTIF"),
    "liabilities": ("LIABILITIES", "PASSIF"),
    "equity": ("NET ASSETS", "ACTIFS NETS"),
    "income": ("REVENUE", "PRODUITS"),
    "expenses": ("EXPENSES", "CHARGES"),
    "total:assets": ("Total assets", "Total de l'actif"),
    "total:liabilities": ("Total liabilities", "Total du passif"),
    "total:equity": ("Total net assets", "Total des actifs nets"),
    "total:liabilities_and_equity": ("Total liabilities and net assets", "Total du passif et des actifs nets"),
    "total:income": ("Total revenue", "Total des produits"),
    "total:expenses": ("Total expenses", "Total des charges"),
    "total:surplus": ("Excess (deficiency) of revenue over expenses",
                      "Excédent (insuffisance) des produits sur les charges"),
}

_MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
              "octobre", "novembre", "décembre")
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December")


def label(key: str, lang: str) -> str:
    """The words for a line, a section or a total; an account fisiq has no words for keeps its name."""
    words = LABELS.get(key)
    if words is None:
        return key
    return words[1] if lang == "fr" else words[0]


def long_date(day: date, lang: str) -> str:
    """`31 mars 2018` (1er for the first) / `March 31, 2018`."""
    if lang == "fr":
        first = "1er" if day.day == 1 else str(day.day)
        return f"{first} {_MONTHS_FR[day.month - 1]} {day.year}"
    return f"{_MONTHS_EN[day.month - 1]} {day.day}, {day.year}"


def title(statement: Statement, lang: str) -> str:
    end = long_date(statement.current.end, lang)
    if statement.kind == BALANCE_SHEET:
        return f"ÉTAT DE LA SITUATION FINANCIÈRE AU {end.upper()}" if lang == "fr" else \
            f"STATEMENT OF FINANCIAL POSITION AS AT {end.upper()}"
    return f"ÉTAT DES RÉSULTATS DE L'EXERCICE TERMINÉ LE {end.upper()}" if lang == "fr" else \
        f"STATEMENT OF OPERATIONS FOR THE YEAR ENDED {end.upper()}"


def currency_note(currency: str, lang: str) -> str:
    if lang == "fr":
        return f"Montants en {currency}, non convertis (fisiq ne tient pas de taux de change)"
    return f"Amounts in {currency}, not converted (fisiq keeps no exchange rates)"


def amount_text(amount: Decimal, currency: str, lang: str) -> str:
    return format_money(amount, currency, lang)
