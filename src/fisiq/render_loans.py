"""Loans and the portfolio for people (rich tables, en/fr) and machines (JSON shapes).

Takes figures and a Console; computes nothing but presentation. User text (borrower
names, sectors, regions) goes into `Text`, never into markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from fisiq.loans import InstallmentStatus, Position
from fisiq.money import format_money, format_percent, format_ratio, to_str
from fisiq.portfolio import UNKNOWN, Group, Portfolio
from fisiq.schedule import LoanTerms
from fisiq.statements import long_date

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "schedule": "Schedule of loan {id} ({borrower})", "no": "#", "due": "Due", "principal": "Principal",
        "interest": "Interest", "payment": "Installment", "balance": "Balance", "paid": "Paid", "late": "Late",
        "status": "Status", "portfolio": "Loan portfolio as of {date} ({currency})",
        "loans_disbursed": "Loans disbursed to date", "loans_outstanding": "Loans outstanding",
        "borrowers": "Borrowers with a loan outstanding", "disbursed": "Disbursed to date",
        "outstanding": "Outstanding principal", "average": "Average loan", "largest": "Largest exposure",
        "par30": "PAR30", "par90": "PAR90", "restructured": "Restructured loans", "restructured_par30":
        "  of which more than 30 days late", "write_offs": "Written off", "recovered": "Recovered after write-off",
        "written_off": "Written off (principal and interest)",
        "women": "Women-led borrowers", "youth": "Youth-led borrowers", "region": "By region",
        "country": "By country", "sector": "By sector", "figure": "Figure", "value": "Value", "share": "Share",
        "loans": "Loans", "impact": "Impact", "by_count": "by count", "by_amount": "by amount", "yes": "yes",
        "count": "Count", "borrowers_short": "Borrowers",
        "list": "Loans as of {date}", "borrower": "Borrower", "rate": "Rate", "term": "Term",
        "outstanding_short": "Outstanding", "days_late": "Days late", "monthly": "{n} monthly",
        "quarterly": "{n} quarterly", "no_loans": "No loans.",
        "loan": "Loan", "terms": "Terms", "principal_repaid": "Principal repaid", "interest_repaid": "Interest repaid",
        "principal_unpaid": "Principal due, unpaid", "interest_unpaid": "Interest due, unpaid",
        "days_past_due": "Days past due", "terms_line": "{principal} at {rate}, {n} {frequency} {method} installments "
        "from {first_due}", "grace": ", {n} of grace", "history": "History of loan {id} as of {date}", "date": "Date",
        "event": "Event", "amount": "Amount", "entry": "Entry", "details": "Details",
        "reversed_by": "reversed by entry {id}",
        "cancelled_schedule": "Cancelled: the loan was never paid out, and none of these installments will fall due.",
    },
    "fr": {
        "schedule": "Échéancier du prêt {id} ({borrower})", "no": "No", "due": "Échéance", "principal": "Capital",
        "interest": "Intérêts", "payment": "Versement", "balance": "Solde", "paid": "Payé", "late": "En retard",
        "status": "État", "portfolio": "Portefeuille de prêts au {date} ({currency})",
        "loans_disbursed": "Prêts décaissés à ce jour", "loans_outstanding": "Prêts en cours",
        "borrowers": "Emprunteurs avec un prêt en cours", "disbursed": "Décaissé à ce jour",
        "outstanding": "Capital restant dû", "average": "Prêt moyen", "largest": "Exposition la plus forte",
        "par30": "PAR30 (portefeuille à risque)", "par90": "PAR90", "restructured": "Prêts restructurés",
        "restructured_par30": "  dont en retard de plus de 30 jours", "write_offs": "Prêts radiés",
        "written_off": "Radié (capital et intérêts)",
        "recovered": "Recouvré après radiation", "women": "Emprunteurs dirigés par des femmes",
        "youth": "Emprunteurs dirigés par des jeunes", "region": "Par région", "country": "Par pays",
        "sector": "Par secteur", "figure": "Indicateur", "value": "Valeur", "share": "Part", "loans": "Prêts",
        "impact": "Impact", "by_count": "en nombre", "by_amount": "en montant", "yes": "oui", "count": "Nombre", "borrowers_short": "Emprunteurs",
        "list": "Prêts au {date}", "borrower": "Emprunteur", "rate": "Taux", "term": "Durée",
        "outstanding_short": "Restant dû", "days_late": "Jours de retard", "monthly": "{n} mensualités",
        "quarterly": "{n} trimestrialités", "no_loans": "Aucun prêt.",
        "loan": "Prêt", "terms": "Conditions", "principal_repaid": "Capital remboursé",
        "interest_repaid": "Intérêts payés", "principal_unpaid": "Capital échu impayé",
        "interest_unpaid": "Intérêts échus impayés", "days_past_due": "Jours de retard",
        "terms_line": "{principal} à {rate}, {n} {frequency} ({method}) à partir du {first_due}",
        "grace": ", dont {n} de différé", "history": "Historique du prêt {id} au {date}", "date": "Date",
        "event": "Événement", "amount": "Montant", "entry": "Écriture", "details": "Détails",
        "reversed_by": "contrepassé par l'écriture {id}",
        "cancelled_schedule": "Annulé : le prêt n'a jamais été décaissé, et aucune de ces échéances ne viendra.",
    },
}


# A loan's status (loans.Position.status) as a French reader reads it in a list.
STATUS_FR = {"approved": "approuvé", "active": "actif", "restructured": "restructuré", "closed": "soldé",
             "written-off": "radié", "cancelled": "annulé"}
# A loan event's kind (loans_db.LOAN_EVENT_KINDS) in French.
EVENT_FR = {"disbursed": "décaissement", "repaid": "remboursement", "rescheduled": "rééchelonnement",
            "written-off": "radiation", "recovered": "recouvrement", "cancelled": "annulation",
            "interest": "intérêts échus"}
# How a French reader names the repayment methods and frequencies of schedule.METHODS / FREQUENCIES.
METHOD_FR = {"annuity": "annuités constantes", "equal-principal": "amortissement constant", "bullet": "remboursement in fine"}
FREQUENCY_FR = {"monthly": "mensualités", "quarterly": "trimestrialités"}


def _l(lang: str) -> dict[str, str]:
    return LABELS["fr" if lang == "fr" else "en"]


def _m(amount: Decimal, currency: str, lang: str) -> Text:
    return Text(format_money(amount, currency, lang), style="red" if amount < 0 else "")


# --- schedules ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScheduleLine:
    number: int
    due: date
    principal: Decimal
    interest: Decimal
    payment: Decimal
    balance: Decimal  # scheduled principal still owed after this installment
    principal_paid: Decimal
    interest_paid: Decimal
    late: bool


def schedule_lines(installments: Sequence[InstallmentStatus]) -> list[ScheduleLine]:
    """The installments with the balance after each (the principal of the later ones)."""
    out: list[ScheduleLine] = []
    remaining = sum((i.principal for i in installments), Decimal(0))
    for i in installments:
        remaining -= i.principal
        out.append(ScheduleLine(i.number, i.due, i.principal, i.interest, i.principal + i.interest,
                                remaining, i.principal_paid, i.interest_paid, i.late))
    return out


def schedule_json(loan_id: int, position: Position) -> dict[str, object]:
    c = position.currency
    return {
        "loan": loan_id,
        "currency": c,
        "as_of": position.as_of.isoformat(),
        "status": position.status,
        "days_past_due": position.days_past_due,
        "installments": [
            {"number": s.number, "due": s.due.isoformat(), "principal": to_str(s.principal, c),
             "interest": to_str(s.interest, c), "payment": to_str(s.payment, c), "balance": to_str(s.balance, c),
             "principal_paid": to_str(s.principal_paid, c), "interest_paid": to_str(s.interest_paid, c),
             "late": s.late}
            for s in schedule_lines(position.installments)
        ],
    }


def render_schedule(console: Console, loan_id: int, borrower: str, position: Position, lang: str = "en") -> None:
    lab, c = _l(lang), position.currency
    has_paid = any(i.principal_paid or i.interest_paid for i in position.installments)
    table = Table(title=Text(lab["schedule"].format(id=loan_id, borrower=borrower)))
    for key in ("no", "due", "principal", "interest", "payment", "balance"):
        table.add_column(lab[key], justify="left" if key == "due" else "right", no_wrap=True)
    if has_paid or any(i.late for i in position.installments):
        table.add_column(lab["paid"], justify="right", no_wrap=True)
        table.add_column(lab["late"])
    for s in schedule_lines(position.installments):
        row: list[Text | str] = [str(s.number), s.due.isoformat(), _m(s.principal, c, lang), _m(s.interest, c, lang),
                                 _m(s.payment, c, lang), _m(s.balance, c, lang)]
        if len(table.columns) > 6:
            row += [_m(s.principal_paid + s.interest_paid, c, lang), Text(lab["yes"], style="bold red") if s.late else ""]
        table.add_row(*row)
    console.print(table)
    if position.status == "cancelled":  # the installments alone read as a live loan's
        console.print(Text(lab["cancelled_schedule"], style="bold"))


# --- loans ----------------------------------------------------------------------------------


def terms_doc(terms: LoanTerms) -> dict[str, object]:
    return {"principal": to_str(terms.principal, terms.currency), "currency": terms.currency,
            "annual_rate": str(terms.annual_rate), "term": terms.term, "first_due": terms.first_due.isoformat(),
            "frequency": terms.frequency, "method": terms.method, "grace": terms.grace}


def position_doc(p: Position) -> dict[str, object]:
    c = p.currency
    return {
        "as_of": p.as_of.isoformat(), "status": p.status, "disbursed": to_str(p.disbursed, c),
        "principal_repaid": to_str(p.principal_repaid, c), "interest_repaid": to_str(p.interest_repaid, c),
        "outstanding_principal": to_str(p.outstanding_principal, c),
        "principal_due_unpaid": to_str(p.principal_due_unpaid, c), "interest_due_unpaid": to_str(p.interest_due_unpaid, c),
        "days_past_due": p.days_past_due, "written_off": to_str(p.written_off, c),
        "interest_written_off": to_str(p.interest_written_off, c), "recovered": to_str(p.recovered, c),
    }


def render_loan_list(console: Console, rows: Sequence[tuple[int, str, Position]], day: date, lang: str = "en") -> None:
    lab = _l(lang)
    table = Table(title=lab["list"].format(date=long_date(day, lang)))
    for key, justify in (("no", "right"), ("borrower", "left"), ("status", "left"), ("principal", "right"),
                         ("rate", "right"), ("term", "right"), ("outstanding_short", "right"), ("days_late", "right")):
        table.add_column(lab[key], justify=justify)  # type: ignore[arg-type]
    for loan_id, borrower, p in rows:
        t = p.terms
        status = STATUS_FR.get(p.status, p.status) if lang == "fr" else p.status
        table.add_row(str(loan_id), Text(borrower), status, _m(t.principal, t.currency, lang),
                      format_percent(t.annual_rate, lang), lab[t.frequency].format(n=t.term),
                      _m(p.outstanding_principal, p.currency, lang), str(p.days_past_due))
    console.print(table)
    if not rows:
        console.print(Text(lab["no_loans"], style="italic"))


def render_loan_detail(
    console: Console, loan_id: int, borrower: str, p: Position,
    events: Sequence[tuple[str, date, Decimal | None, int | None, Mapping[str, object], int | None]],
    lang: str = "en",
) -> None:
    """`loan show`: the loan's terms and figures, then its events (kind, date, amount, entry,
    details as recorded, the entry that reversed it if any)."""
    lab, c, t = _l(lang), p.currency, p.terms
    fr = lang == "fr"
    terms = lab["terms_line"].format(
        principal=format_money(t.principal, c, lang), rate=format_percent(t.annual_rate, lang), n=t.term,
        frequency=FREQUENCY_FR.get(t.frequency, t.frequency) if fr else t.frequency,
        method=METHOD_FR.get(t.method, t.method) if fr else t.method, first_due=long_date(t.first_due, lang),
    ) + (lab["grace"].format(n=t.grace) if t.grace else "")
    grid = Table.grid(padding=(0, 2))
    for key, value in (
        ("loan", Text(str(loan_id))), ("borrower", Text(borrower)),
        ("status", Text(STATUS_FR.get(p.status, p.status) if fr else p.status)), ("terms", Text(terms)),
        ("disbursed", _m(p.disbursed, c, lang)), ("principal_repaid", _m(p.principal_repaid, c, lang)),
        ("interest_repaid", _m(p.interest_repaid, c, lang)), ("outstanding", _m(p.outstanding_principal, c, lang)),
        ("principal_unpaid", _m(p.principal_due_unpaid, c, lang)),
        ("interest_unpaid", _m(p.interest_due_unpaid, c, lang)), ("days_past_due", Text(str(p.days_past_due))),
        ("written_off", _m(p.written_off + p.interest_written_off, c, lang)), ("recovered", _m(p.recovered, c, lang)),
    ):
        grid.add_row(lab[key], value)
    console.print(grid)
    table = Table(title=lab["history"].format(id=loan_id, date=long_date(p.as_of, lang)))
    for key in ("date", "event", "amount", "entry", "details"):
        table.add_column(lab[key], justify="right" if key in ("amount", "entry") else "left")
    for kind, day, amount, entry_id, details, reversed_by in events:
        notes = [lab["reversed_by"].format(id=reversed_by)] if reversed_by is not None else []
        # French amounts hold commas: there the notes part with semicolons.
        said = (" ; " if fr else ", ").join(notes + _details(details, c, lang))
        table.add_row(day.isoformat(), EVENT_FR.get(kind, kind) if fr else kind,
                      _m(amount, c, lang) if amount is not None else "", str(entry_id) if entry_id else "", Text(said))
    console.print(table)


# The keys of a loan event's details (loans_db) in French, in the order they are read (an
# installment before its due date); the amounts among them.
DETAIL_FR = {"installment": "échéance", "due": "échue le", "interest": "intérêts", "principal": "capital",
             "from_allowance": "sur la provision", "reason": "motif"}
_DETAIL_AMOUNTS = ("interest", "principal", "from_allowance")


def _details(details: Mapping[str, object], currency: str, lang: str) -> list[str]:
    """`key: value` for each detail but the terms (the grid shows those), in `lang`."""
    order = list(DETAIL_FR)
    said = []
    for key, value in sorted(details.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0])):
        if key == "terms":
            continue
        if lang == "fr" and key == "due":
            said.append(f"échue le {long_date(date.fromisoformat(str(value)), lang)}")
        elif lang == "fr":
            text = format_money(Decimal(str(value)), currency, lang) if key in _DETAIL_AMOUNTS else str(value)
            said.append(f"{DETAIL_FR.get(key, key)} : {text}")
        else:
            said.append(f"{key}: {value}")
    return said


# --- portfolio ------------------------------------------------------------------------------


def group_name(key: str, lang: str) -> str:
    """A portfolio group's name; the group of borrowers with none on record in `lang`."""
    return "(non précisé)" if lang == "fr" and key == UNKNOWN else key


def _group_table(title: str, groups: Sequence[Group], p: Portfolio, lang: str) -> Table:
    lab = _l(lang)
    table = Table(title=title)
    table.add_column("")
    table.add_column(lab["loans"], justify="right")
    table.add_column(lab["borrowers_short"], justify="right")
    table.add_column(lab["outstanding"], justify="right", no_wrap=True)
    table.add_column(lab["share"], justify="right")
    for g in groups:
        share = g.outstanding / p.outstanding if p.outstanding else Decimal(0)
        table.add_row(Text(group_name(g.key, lang)), str(g.loans), str(g.borrowers), _m(g.outstanding, p.currency, lang), format_ratio(share, lang))
    return table


def render_portfolio(console: Console, p: Portfolio, lang: str = "en") -> None:
    lab, c = _l(lang), p.currency
    table = Table(title=lab["portfolio"].format(date=long_date(p.as_of, lang), currency=c))
    table.add_column(lab["figure"])
    table.add_column(lab["value"], justify="right", no_wrap=True)
    table.add_column(lab["share"], justify="right")
    colon = "\u00a0: " if lang == "fr" else ": "  # French sets a (no-break) space before a colon
    largest = Text(f"{p.largest_borrower}{colon}") if p.largest_borrower else Text("")
    largest.append(format_money(p.largest_exposure, c, lang))
    for label, value, share in (
        (lab["loans_disbursed"], Text(str(p.loans_disbursed)), ""),
        (lab["loans_outstanding"], Text(str(p.loans_outstanding)), ""),
        (lab["borrowers"], Text(str(p.borrowers)), ""),
        (lab["disbursed"], _m(p.disbursed, c, lang), ""),
        (lab["outstanding"], _m(p.outstanding, c, lang), ""),
        (lab["average"], _m(p.average_loan, c, lang), ""),
        (lab["largest"], largest, format_ratio(p.largest_share, lang)),
        (lab["par30"], _m(p.at_risk30, c, lang), format_ratio(p.par30, lang)),
        (lab["par90"], _m(p.at_risk90, c, lang), format_ratio(p.par90, lang)),
        (f"{lab['restructured']} ({p.restructured_loans})", _m(p.restructured_outstanding, c, lang),
         format_ratio(p.restructured_share, lang)),
        (lab["restructured_par30"], Text(""), format_ratio(p.restructured_par30, lang)),
        (f"{lab['write_offs']} ({p.written_off_loans})", _m(p.written_off + p.interest_written_off, c, lang), ""),
        (lab["recovered"], _m(p.recovered, c, lang), ""),
    ):
        table.add_row(label, value, share)
    console.print(table)
    impact = Table(title=lab["impact"])
    impact.add_column("")
    impact.add_column(lab["count"], justify="right")
    impact.add_column(lab["by_count"], justify="right")
    impact.add_column(lab["outstanding"], justify="right", no_wrap=True)
    impact.add_column(lab["by_amount"], justify="right")
    for label, s in ((lab["women"], p.women_led), (lab["youth"], p.youth_led)):
        impact.add_row(label, str(s.borrowers), format_ratio(s.by_count, lang), _m(s.outstanding, c, lang), format_ratio(s.by_amount, lang))
    console.print(impact)
    for key, groups in (("region", p.by_region), ("country", p.by_country), ("sector", p.by_sector)):
        if groups:
            console.print(_group_table(lab[key], groups, p, lang))
