"""Rich rendering of the capital campaign: progress with stacked bars, commitments, parties.

Takes figures and a Console; computes nothing. Names go into `Text`, never into markup.
A bar is built from Text segments: paid █, signed but unpaid ▓, agreed in principle ░,
and · for what remains to reach the target.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from fisiq.commitments import CURRENCY, Figures, Progress
from fisiq.money import format_money, format_percent
from fisiq.statements import long_date

BAR_WIDTH = 30
PAID_STYLE, SIGNED_STYLE, PRINCIPLE_STYLE, REST_STYLE = "green", "yellow", "cyan", "bright_black"

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Capital campaign", "as_of": "as of", "category": "Category", "target": "Target",
        "paid": "Paid", "signed": "Signed", "in_principle": "In principle", "prospect": "Prospect",
        "share_paid": "paid", "share_signed": "signed", "gap": "To sign", "bar": "Progress",
        "member": "Members", "labour-fund": "Labour funds", "government": "Governments",
        "other": "Others", "total": "Whole fund", "investor": "Investor",
        "legend": "█ paid  ▓ signed, unpaid  ░ in principle  · still to reach the target",
        "no_target": "no target set", "signed_note": "Signed counts everything signed, paid or not.",
        "investors": "By investor",
    },
    "fr": {
        "title": "Campagne de capitalisation", "as_of": "au", "category": "Catégorie", "target": "Objectif",
        "paid": "Versé", "signed": "Signé", "in_principle": "De principe", "prospect": "Espéré",
        "share_paid": "versé", "share_signed": "signé", "gap": "À signer", "bar": "Progression",
        "member": "Membres", "labour-fund": "Fonds de travailleurs", "government": "Gouvernements",
        "other": "Autres", "total": "Ensemble du Fonds", "investor": "Investisseur",
        "legend": "█ versé  ▓ signé, non versé  ░ accord de principe  · reste pour atteindre l'objectif",
        "no_target": "aucun objectif", "signed_note": "Signé compte tout ce qui est signé, versé ou non.",
        "investors": "Par investisseur",
    },
}


def labels(lang: str) -> dict[str, str]:
    return LABELS.get(lang, LABELS["en"])


def _cells(amounts: Sequence[Decimal], scale: Decimal, width: int) -> list[int]:
    """Cells per segment, cumulative rounding so the segments add up to the whole bar."""
    cells, done, running = [], 0, Decimal(0)
    for amount in amounts:
        running += max(amount, Decimal(0))
        upto = min(width, int((running * width / scale).to_integral_value(ROUND_HALF_EVEN))) if scale > 0 else 0
        cells.append(max(upto - done, 0))
        done = max(done, upto)
    return cells


def bar(f: Figures, width: int = BAR_WIDTH) -> Text:
    """Stacked bar: paid, signed unpaid, in principle, against the target (or the total pledged)."""
    pledged = f.signed + f.in_principle
    scale = max(f.target or Decimal(0), pledged)
    text = Text()
    if scale <= 0:
        return Text("·" * width, style=REST_STYLE)
    paid, signed, principle = _cells([f.paid, f.signed_unpaid, f.in_principle], scale, width)
    text.append("█" * paid, style=PAID_STYLE)
    text.append("▓" * signed, style=SIGNED_STYLE)
    text.append("░" * principle, style=PRINCIPLE_STYLE)
    text.append("·" * (width - paid - signed - principle), style=REST_STYLE)
    return text


def _money(amount: Decimal | None, lang: str) -> Text:
    return Text("—" if amount is None else format_money(amount, CURRENCY, lang))


def _share(value: Decimal | None, lang: str) -> Text:
    if value is None:
        return Text("—")
    return Text(format_percent(value, lang), style="bold")


def render_progress(console: Console, p: Progress, as_of: date | None, lang: str = "en", *,
                    by_investor: bool = False) -> None:
    words = labels(lang)
    title = words["title"] + (f" — {words['as_of']} {long_date(as_of, lang)}" if as_of else "")
    table = Table(title=title, show_lines=False)
    table.add_column(words["category"], no_wrap=True)
    for key in ("target", "paid", "signed", "in_principle", "prospect"):
        table.add_column(words[key], justify="right", no_wrap=True)
    table.add_column(words["gap"], justify="right", no_wrap=True)
    for f in (*p.categories, p.total):
        style = "bold" if f.category == "total" else ""
        table.add_row(
            Text(words[f.category], style=style), _money(f.target, lang), _money(f.paid, lang),
            _money(f.signed, lang), _money(f.in_principle, lang), _money(f.prospect, lang), _money(f.gap, lang),
            end_section=f.category == "other",
        )
    console.print(table)
    bars = Table(title=words["bar"], show_header=False, box=None, padding=(0, 1))
    for _ in range(4):
        bars.add_column(no_wrap=True)
    for f in (*p.categories, p.total):
        if f.target:
            paid = Text(f"{words['share_paid']} ").append(_share(f.share_paid, lang))
            signed = Text(f"{words['share_signed']} ").append(_share(f.share_signed, lang))
            bars.add_row(Text(words[f.category]), bar(f), signed, paid)
        else:
            bars.add_row(Text(words[f.category]), bar(f), Text(words["no_target"], style="italic"), Text(""))
    console.print(bars)
    console.print(Text(words["legend"], style="italic"))
    console.print(Text(words["signed_note"], style="italic"))
    if by_investor and p.investors:
        people = Table(title=words["investors"])
        people.add_column(words["investor"])
        people.add_column(words["category"])
        for key in ("paid", "signed", "in_principle", "prospect"):
            people.add_column(words[key], justify="right", no_wrap=True)
        for f in p.investors:
            people.add_row(Text(f.label), Text(words[f.category]), _money(f.paid, lang), _money(f.signed, lang),
                           _money(f.in_principle, lang), _money(f.prospect, lang))
        console.print(people)


LIST_HEADERS_EN = ("#", "Party", "Category", "Instrument", "Stage", "Pledged", "Signed", "Paid", "Unpaid", "Since")
LIST_HEADERS_FR = ("#", "Investisseur", "Catégorie", "Instrument", "Étape", "Promis", "Signé", "Versé", "Non versé",
                   "Depuis")
# A commitment's category, instrument and stage as a French reader reads them in a list.
VALUES_FR = {
    "member": "membre", "labour-fund": "fonds de travailleurs", "government": "gouvernement", "other": "autre",
    "equity": "capital", "debt": "prêt", "grant": "don",
    "prospect": "espéré", "in-principle": "de principe", "signed": "signé", "paid": "versé", "cancelled": "annulé",
    "void": "annulé par contrepassation",
}
# `commitment show`: its fields, history and event kinds (commitments.EVENT_KINDS).
SHOW_WORDS = {
    "en": {"id": "Id", "party": "Party", "category": "Category", "instrument": "Instrument", "stage": "Stage",
           "ref": "Ref", "pledged": "Pledged", "signed": "Signed", "paid": "Paid", "cancelled": "Cancelled",
           "unpaid": "Unpaid", "reason": "Reason", "history": "History of commitment {id}", "date": "Date",
           "event": "Event", "amount": "Amount", "entry": "Entry", "detail": "Postings / reason",
           "reversed_by": " (reversed by #{id})"},
    "fr": {"id": "No", "party": "Investisseur", "category": "Catégorie", "instrument": "Instrument",
           "stage": "Étape", "ref": "Référence", "pledged": "Promis", "signed": "Signé", "paid": "Versé",
           "cancelled": "Annulé", "unpaid": "Non versé", "reason": "Motif",
           "history": "Historique de l'engagement {id}", "date": "Date", "event": "Événement", "amount": "Montant",
           "entry": "Écriture", "detail": "Imputations / motif", "reversed_by": " (contrepassé par l'écriture {id})"},
}
EVENTS_FR = {"prospect": "espéré", "in-principle": "de principe", "signed": "signature", "payment": "versement",
             "cancelled": "annulation"}


def render_commitments(console: Console, rows: Sequence[dict[str, object]], lang: str = "en") -> None:
    fr = lang == "fr"
    table = Table(title="Engagements" if fr else "Commitments")
    headers = LIST_HEADERS_FR if fr else LIST_HEADERS_EN
    for i, (name, justify) in enumerate(zip(headers, ("right", "left", "left", "left", "left", "right", "right",
                                                        "right", "right", "left"), strict=True)):
        table.add_column(name, justify=justify, no_wrap=i != 1, min_width=24 if i == 1 else None)  # type: ignore[arg-type]

    def word(value: object) -> str:
        return VALUES_FR.get(str(value), str(value)) if fr else str(value)

    for r in rows:
        table.add_row(
            str(r["id"]), Text(str(r["party"])), word(r["category"]), word(r["instrument"]), word(r["stage"]),
            *(Text(format_money(Decimal(str(r[k])), CURRENCY, lang)) for k in ("pledged", "signed", "paid", "unpaid")),
            str(r["since"] or ""),
        )
    console.print(table)


def render_commitment(console: Console, doc: dict[str, object], lang: str = "en") -> None:
    fr = lang == "fr"
    words = SHOW_WORDS["fr" if fr else "en"]
    details = Table.grid(padding=(0, 2))
    for key in ("id", "party", "category", "instrument", "stage", "ref", "pledged", "signed", "paid",
                "cancelled", "unpaid", "reason"):
        value = doc.get(key)
        if value is None:
            continue
        if key in ("pledged", "signed", "paid", "cancelled", "unpaid"):
            value = format_money(Decimal(str(value)), CURRENCY, lang)
        elif fr and key in ("category", "instrument", "stage"):
            value = VALUES_FR.get(str(value), value)
        details.add_row(words[key], Text(str(value)))
    console.print(details)
    table = Table(title=words["history"].format(id=doc["id"]))
    table.add_column(words["date"], no_wrap=True)
    table.add_column(words["event"])
    table.add_column(words["amount"], justify="right", no_wrap=True)
    table.add_column(words["entry"], justify="right")
    table.add_column(words["detail"])
    for line in doc["history"]:  # type: ignore[attr-defined]
        amount = line["amount"]
        detail = Text()
        if line.get("reason"):
            detail.append(str(line["reason"]))
        for p in line.get("postings", []):
            if detail:
                detail.append("\n")
            detail.append(f"{p['account']} {format_money(Decimal(p['amount']), p['currency'], lang)}")
        event = Text(EVENTS_FR.get(str(line["event"]), str(line["event"])) if fr else str(line["event"]))
        if line.get("reversed_by"):
            event.append(words["reversed_by"].format(id=line["reversed_by"]), style="italic")
        table.add_row(line["date"], event, "" if amount is None else format_money(Decimal(amount), CURRENCY, lang),
                      "" if line["entry"] is None else str(line["entry"]), detail)
    console.print(table)


def render_parties(console: Console, rows: Sequence[dict[str, object]]) -> None:
    table = Table(title="Parties")
    for name in ("#", "Name", "Acronym", "Kind", "Membership", "Country", "Region"):
        table.add_column(name)
    for r in rows:
        table.add_row(str(r["id"]), Text(str(r["name"])), Text(str(r["acronym"] or "")), str(r["kind"]),
                      str(r["membership"] or ""), str(r["country"] or ""), Text(str(r["region"] or "")))
    console.print(table)


def render_party(console: Console, doc: dict[str, object]) -> None:
    details = Table.grid(padding=(0, 2))
    for key, value in doc.items():
        if value is None or value is False or key == "commitments":
            continue
        # A flag that is set reads "yes" (Python would print True); unset ones are left out.
        details.add_row(key.replace("_", " ").capitalize(), Text("yes" if value is True else str(value)))
    console.print(details)
