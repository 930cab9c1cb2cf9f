"""Rich rendering of report figures. Takes figures and a Console; computes nothing.

User text (memos, names) goes into `Text` objects, never into markup, so `[bold]` or an
escape sequence in a memo is shown literally.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from fisiq.entries import RecordedEntry
from fisiq.money import format_money
from fisiq.reports import RegisterLine, TrialBalance
from fisiq.statements import long_date

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "trial_balance": "Trial balance", "journal": "Journal", "from_to": " from {start} to {end}",
        "from": " from {day}", "as_of": " as of {day}", "account": "Account",
        "type": "Type", "debit": "Debit", "credit": "Credit", "total": "Total",
        "balanced": "Debits equal credits: balanced", "not_balanced": "Debits equal credits: NOT BALANCED",
        "date": "Date", "memo_account": "Memo / account", "party": "Party", "reverses": "  (reverses #{id})",
        "register": "Account {name}", "memo": "Memo", "amount": "Amount", "balance": "Balance",
        "opening": "Opening balance",
        "asset": "asset", "liability": "liability", "equity": "equity", "income": "income", "expense": "expense",
    },
    "fr": {
        "trial_balance": "Balance de vérification", "journal": "Journal", "from_to": " du {start} au {end}",
        "from": " depuis le {day}", "as_of": " au {day}", "account": "Compte",
        "type": "Type", "debit": "Débit", "credit": "Crédit", "total": "Total",
        "balanced": "Débits égaux aux crédits : équilibrée",
        "not_balanced": "Débits égaux aux crédits : NON ÉQUILIBRÉE",
        "date": "Date", "memo_account": "Libellé / compte", "party": "Tiers", "reverses": "  (contrepasse le no {id})",
        "register": "Compte {name}", "memo": "Libellé", "amount": "Montant", "balance": "Solde",
        "opening": "Solde d'ouverture",
        "asset": "actif", "liability": "passif", "equity": "actifs nets", "income": "produits", "expense": "charges",
    },
}


def words(lang: str) -> dict[str, str]:
    """The tables' words in `lang` (fr or en)."""
    return WORDS["fr" if lang == "fr" else "en"]


def period_title(key: str, start: date | None, end: date | None, lang: str = "en") -> str:
    """A report's title (`key` of WORDS) with the dates it covers (`period`)."""
    return words(lang)[key] + period(start, end, lang)


def period(start: date | None, end: date | None, lang: str = "en") -> str:
    """The dates a report covers, written out as in the statements' titles, for the end of its
    title: ` du 1er avril 2018 au 31 mars 2019`, ` au 31 mars 2019`; empty for the whole ledger."""
    w = words(lang)
    if start and end:
        return w["from_to"].format(start=long_date(start, lang), end=long_date(end, lang))
    if start:
        return w["from"].format(day=long_date(start, lang))
    if end:
        return w["as_of"].format(day=long_date(end, lang))
    return ""


def money_cell(amount: Decimal | None, currency: str, lang: str = "en") -> Text:
    if amount is None:
        return Text("")
    return Text(format_money(amount, currency, lang), style="red" if amount < 0 else "")


def render_trial_balance(console: Console, tb: TrialBalance, title: str, lang: str = "en") -> None:
    w = words(lang)
    table = Table(title=title, show_footer=True)
    table.add_column(w["account"], footer=w["total"])
    table.add_column(w["type"])
    debit_total: dict[str, Decimal] = {}
    credit_total: dict[str, Decimal] = {}
    for row in tb.rows:
        side = debit_total if row.amount >= 0 else credit_total
        side[row.currency] = side.get(row.currency, Decimal(0)) + row.amount
    currencies = sorted(tb.totals)

    def footer(totals: dict[str, Decimal], sign: int) -> Text:
        return Text("\n".join(format_money(sign * totals.get(c, Decimal(0)), c, lang) for c in currencies))

    table.add_column(w["debit"], justify="right", no_wrap=True, footer=footer(debit_total, 1))
    table.add_column(w["credit"], justify="right", no_wrap=True, footer=footer(credit_total, -1))
    for row in tb.rows:
        debit = row.amount if row.amount >= 0 else None
        credit = -row.amount if row.amount < 0 else None
        table.add_row(
            Text(row.account), w[row.account_type.value], money_cell(debit, row.currency, lang),
            money_cell(credit, row.currency, lang),
        )
    console.print(table)
    console.print(Text(w["balanced" if tb.balanced else "not_balanced"], style="green" if tb.balanced else "bold red"))


def render_entries(console: Console, entries: Sequence[RecordedEntry], title: str, lang: str = "en") -> None:
    w = words(lang)
    table = Table(title=title)
    table.add_column("#", justify="right")
    table.add_column(w["date"], no_wrap=True)
    table.add_column(w["memo_account"])
    table.add_column(w["party"])
    table.add_column(w["debit"], justify="right", no_wrap=True)
    table.add_column(w["credit"], justify="right", no_wrap=True)
    for entry in entries:
        memo = Text(entry.memo, style="bold")
        if entry.reverses is not None:
            memo.append(w["reverses"].format(id=entry.reverses), style="italic")
        table.add_row(str(entry.id), entry.date.isoformat(), memo, "", "", "")
        for p in entry.postings:
            debit = p.amount if p.amount > 0 else None
            credit = -p.amount if p.amount < 0 else None
            table.add_row(
                "", "", Text("  " + p.account), Text(p.party or ""),
                money_cell(debit, p.currency, lang), money_cell(credit, p.currency, lang),
            )
    console.print(table)


def render_entry_detail(console: Console, entry: RecordedEntry, reversed_by: int | None, lang: str = "en") -> None:
    render_entries(console, [entry], f"Entry {entry.id}", lang)
    details = Table.grid(padding=(0, 2))
    for label, value in (
        ("Kind", entry.kind),
        ("Reference", entry.ref or ""),
        ("Belongs to", entry.link or ""),
        ("Reverses", str(entry.reverses) if entry.reverses else ""),
        ("Reversed by", str(reversed_by) if reversed_by else ""),
        ("Recorded by", entry.recorded_by),
        ("Recorded at", entry.recorded_at),
        ("Hash", entry.hash),
        ("Previous hash", entry.prev_hash),
    ):
        if value:
            details.add_row(label, Text(value))
    console.print(details)


def render_register(
    console: Console, account: str, opening: dict[str, Decimal], lines: Sequence[RegisterLine], lang: str = "en",
    dates: str = "",
) -> None:
    """One account's postings with a running balance (`dates`: what `period_title` adds to the title)."""
    w = words(lang)
    table = Table(title=w["register"].format(name=account) + dates)
    table.add_column(w["date"], no_wrap=True)
    table.add_column("#", justify="right")
    table.add_column(w["memo"])
    table.add_column(w["party"])
    table.add_column(w["amount"], justify="right", no_wrap=True)
    table.add_column(w["balance"], justify="right", no_wrap=True)
    for currency, amount in sorted(opening.items()):
        table.add_row("", "", Text(w["opening"], style="italic"), "", "", money_cell(amount, currency, lang))
    for line in lines:
        table.add_row(
            line.date.isoformat(), str(line.entry_id), Text(line.memo), Text(line.party or ""),
            money_cell(line.amount, line.currency, lang), money_cell(line.running, line.currency, lang),
        )
    console.print(table)
