"""Rich rendering of report figures. Takes figures and a Console; computes nothing.

User text (memos, names) goes into `Text` objects, never into markup, so `[bold]` or an
escape sequence in a memo is shown literally.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from fisiq.entries import RecordedEntry
from fisiq.money import format_money
from fisiq.reports import RegisterLine, TrialBalance


def money_cell(amount: Decimal | None, currency: str, lang: str = "en") -> Text:
    if amount is None:
        return Text("")
    return Text(format_money(amount, currency, lang), style="red" if amount < 0 else "")


def render_trial_balance(console: Console, tb: TrialBalance, title: str, lang: str = "en") -> None:
    table = Table(title=title, show_footer=True)
    table.add_column("Account", footer="Total")
    table.add_column("Type")
    debit_total: dict[str, Decimal] = {}
    credit_total: dict[str, Decimal] = {}
    for row in tb.rows:
        side = debit_total if row.amount >= 0 else credit_total
        side[row.currency] = side.get(row.currency, Decimal(0)) + row.amount
    currencies = sorted(tb.totals)

    def footer(totals: dict[str, Decimal], sign: int) -> Text:
        return Text("\n".join(format_money(sign * totals.get(c, Decimal(0)), c, lang) for c in currencies))

    table.add_column("Debit", justify="right", no_wrap=True, footer=footer(debit_total, 1))
    table.add_column("Credit", justify="right", no_wrap=True, footer=footer(credit_total, -1))
    for row in tb.rows:
        debit = row.amount if row.amount >= 0 else None
        credit = -row.amount if row.amount < 0 else None
        table.add_row(
            Text(row.account), row.account_type.value, money_cell(debit, row.currency, lang),
            money_cell(credit, row.currency, lang),
        )
    console.print(table)
    state = "balanced" if tb.balanced else "NOT BALANCED"
    console.print(Text(f"Debits equal credits: {state}", style="green" if tb.balanced else "bold red"))


def render_entries(console: Console, entries: Sequence[RecordedEntry], title: str, lang: str = "en") -> None:
    table = Table(title=title)
    table.add_column("#", justify="right")
    table.add_column("Date", no_wrap=True)
    table.add_column("Memo / account")
    table.add_column("Party")
    table.add_column("Debit", justify="right", no_wrap=True)
    table.add_column("Credit", justify="right", no_wrap=True)
    for entry in entries:
        memo = Text(entry.memo, style="bold")
        if entry.reverses is not None:
            memo.append(f"  (reverses #{entry.reverses})", style="italic")
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
    console: Console, account: str, opening: dict[str, Decimal], lines: Sequence[RegisterLine], lang: str = "en"
) -> None:
    table = Table(title=f"Account {account}")
    table.add_column("Date", no_wrap=True)
    table.add_column("#", justify="right")
    table.add_column("Memo")
    table.add_column("Party")
    table.add_column("Amount", justify="right", no_wrap=True)
    table.add_column("Balance", justify="right", no_wrap=True)
    for currency, amount in sorted(opening.items()):
        table.add_row("", "", Text("Opening balance", style="italic"), "", "", money_cell(amount, currency, lang))
    for line in lines:
        table.add_row(
            line.date.isoformat(), str(line.entry_id), Text(line.memo), Text(line.party or ""),
            money_cell(line.amount, line.currency, lang), money_cell(line.running, line.currency, lang),
        )
    console.print(table)
