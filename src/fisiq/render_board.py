"""The board report for people: one screen of about 100 columns, in French or English.

Takes `board.BoardFigures` and a Console; computes nothing but presentation. Amounts go
through `money.format_money` (`465 000,00 $` in French), the campaign's bars are
`render_campaign.bar`, and names (investors, borrowers, regions) go into `Text`, never
into markup.
"""

from __future__ import annotations

import re
from decimal import Decimal

from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from fisiq.board import BoardFigures, alert_message, count_text, counted
from fisiq.commitments import CURRENCY
from fisiq.loans import borrower_limit
from fisiq.money import format_money, format_percent, format_ratio
from fisiq.render_campaign import PAID_STYLE, PRINCIPLE_STYLE, REST_STYLE, SIGNED_STYLE, bar
from fisiq.render_campaign import labels as campaign_labels
from fisiq.render_loans import group_name
from fisiq.statements import label as statement_label
from fisiq.statements import long_date
from fisiq.widths import least_width, widened

WIDTH = 100
BAR_WIDTH = 28
HALF = 46  # the cash and the year side by side, each in half the width
# SIMPLE_HEAD with a rule above the total row (a row that ends a section).
RULED = box.Box("    \n    \n ── \n    \n ── \n ── \n    \n    \n")

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "FISIQ — Report to the board of directors as of {date}",
        "subtitle": "Fonds d'investissement en solidarité internationale du Québec · amounts in Canadian dollars",
        "campaign": "Capital campaign",
        "legend": "█ paid  ▓ signed, unpaid  ░ in principle  · still to reach the target",
        "of_target": "{signed} of the target signed, {paid} paid",
        "no_target": "no target",
        "cash": "Cash and lending capacity",
        "cash_line": "Cash",
        "approved": "Approved loans not disbursed ({n})",
        "free": "Free to lend",
        "capital": "Capital paid in (excl. grants)",
        "limit": "Limit per borrower ({share})",
        "portfolio": "Loan portfolio",
        "outstanding": "Outstanding principal",
        "loans": "{loans}, {borrowers}", "loan": "loan", "loans_plural": "loans", "borrower": "borrower",
        "borrowers_plural": "borrowers",
        "par30": "PAR30 (more than 30 days late)",
        "par90": "PAR90 (more than 90 days late)",
        "women": "Women-led (share of the outstanding)",
        "youth": "Youth-led (share of the outstanding)",
        "share_line": "{count} of {total}",
        "by_region": "By region",
        "no_loans": "No loan outstanding.",
        "loans_elsewhere": "Outstanding in other currencies, not counted here: {parts}.",
        "elsewhere": "In other currencies, not counted above: {parts}.",
        "elsewhere_cash": "cash", "elsewhere_income": "revenue", "elsewhere_expenses": "expenses",
        "year": "Fiscal year {label}, since {start}",
        "income": "Revenue", "expenses": "Expenses", "surplus": "Surplus (deficit)",
        "nothing_year": "No revenue or expense recorded this year.",
        "alerts": "Alerts",
        "no_alerts": "No alert: no loan in arrears, limits respected, no signed commitment unpaid "
                     "for more than {days}.",
        "arrears": "Arrears", "borrower-limit-over": "Limit exceeded", "borrower-limit-near": "Limit approached",
        "cash-short": "Cash short", "commitment-unpaid": "Unpaid commitment",
    },
    "fr": {
        "title": "FISIQ — Rapport au conseil d'administration au {date}",
        "subtitle": "Fonds d'investissement en solidarité internationale du Québec · montants en dollars canadiens",
        "campaign": "Campagne de capitalisation",
        "legend": "█ versé  ▓ signé, non versé  ░ accord de principe  · reste pour atteindre l'objectif",
        "of_target": "{signed} de l'objectif signé, {paid} versé",
        "no_target": "aucun objectif",
        "cash": "Encaisse et capacité de prêt",
        "cash_line": "Encaisse",
        "approved": "Prêts approuvés non décaissés ({n})",
        "free": "Disponible pour prêter",
        "capital": "Capital versé (hors dons)",
        "limit": "Limite par emprunteur ({share})",
        "portfolio": "Portefeuille de prêts",
        "outstanding": "Capital restant dû",
        "loans": "{loans}, {borrowers}", "loan": "prêt", "loans_plural": "prêts", "borrower": "emprunteur",
        "borrowers_plural": "emprunteurs",
        "par30": "PAR30 (plus de 30 jours de retard)",
        "par90": "PAR90 (plus de 90 jours de retard)",
        "women": "Dirigés par des femmes (part du capital dû)",
        "youth": "Dirigés par des jeunes (part du capital dû)",
        "share_line": "{count} sur {total}",
        "by_region": "Par région",
        "no_loans": "Aucun prêt en cours.",
        "loans_elsewhere": "En cours dans d'autres devises, non compté ici : {parts}.",
        "elsewhere": "En d'autres devises, non compté ci-dessus : {parts}.",
        "elsewhere_cash": "encaisse", "elsewhere_income": "produits", "elsewhere_expenses": "charges",
        "year": "Exercice {label}, depuis le {start}",
        "income": "Produits", "expenses": "Charges", "surplus": "Excédent (insuffisance)",
        "nothing_year": "Aucun produit ni aucune charge cet exercice.",
        "alerts": "Alertes",
        "no_alerts": "Aucune alerte : aucun prêt en retard, limites respectées, aucun engagement signé "
                     "non versé depuis plus de {days}.",
        "arrears": "Retard", "borrower-limit-over": "Limite dépassée", "borrower-limit-near": "Limite proche",
        "cash-short": "Encaisse insuffisante", "commitment-unpaid": "Engagement non versé",
    },
}

ALERT_STYLE = {
    "borrower-limit-over": "bold red", "cash-short": "bold red", "arrears": "red",
    "borrower-limit-near": "yellow", "commitment-unpaid": "yellow",
}


def labels(lang: str) -> dict[str, str]:
    return LABELS["fr" if lang == "fr" else "en"]


def _money(amount: Decimal | None, lang: str, style: str = "") -> Text:
    if amount is None:
        return Text("—")
    return Text(format_money(amount, "CAD", lang), style="red" if amount < 0 else style)


def _out(console: Console, *parts: object) -> None:
    """Print within 100 columns even on a wider terminal: the report keeps its one layout.

    A table gets at least the width it needs to show every figure whole (`_least_width`), on
    a narrower terminal too, which then folds the long lines (docs/cli.md: tables are never
    cut); prose wraps to the terminal.
    """
    least = max([0, *(_least_width(console, part) for part in parts)])
    width = max(least, min(console.width, WIDTH))
    with widened(console, width):
        console.print(*parts, width=width)


def _least_width(console: Console, part: object) -> int:
    """The fewest columns a table needs without cutting a cell (`widths.least_width`); 0 for
    anything else, which wraps to fit."""
    if not (isinstance(part, Table) and part.columns):
        return 0
    return least_width(console, part)


_MONTHS = "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
# The spaces a line must not break at: inside an amount (115 010,00 $, 1 500 XOF, 46,5 %), a
# date (1er mai 2018), or before French high punctuation (« ; »). Rich breaks at every space,
# no-break ones included.
_GLUE = re.compile(rf"(?<=\d) (?=[\d$%]|[A-Z]{{3}}\b|(?:{_MONTHS})\b)|(?<=1er) (?=(?:{_MONTHS})\b)| (?=[;:!?])")
_MONTH_YEAR = re.compile(rf"\b({_MONTHS}) (?=\d{{4}}\b)")


class Prose:
    """A sentence that wraps to its column at spaces, never inside an amount or a date.

    Takes a str, or a Text whose styles (a bold name) it keeps.
    """

    def __init__(self, text: str | Text, style: str = "") -> None:
        self.text = text if isinstance(text, Text) else Text(text, style=style)
        self.glued = _MONTH_YEAR.sub("\\1\0", _GLUE.sub("\0", self.text.plain))

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        longest = max((len(word) for word in self.glued.split(" ")), default=0)
        return Measurement(longest, len(self.glued)).with_maximum(options.max_width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for start, end in _wrapped(self.glued, max(1, options.max_width)):
            yield self.text[start:end]


def _wrapped(glued: str, width: int) -> list[tuple[int, int]]:
    """Where each line of `glued` starts and ends, filled greedily word by word; a word longer
    than the width is split (rich would cut it at the edge)."""
    lines: list[tuple[int, int]] = []
    start = end = -1
    for word in re.finditer(r"[^ ]+", glued):
        for piece in range(word.start(), word.end(), width):
            piece_end = min(piece + width, word.end())
            if start >= 0 and piece_end - start <= width and piece == word.start():
                end = piece_end
                continue
            if start >= 0:
                lines.append((start, end))
            start, end = piece, piece_end
    if start >= 0:
        lines.append((start, end))
    return lines or [(0, 0)]


def _heading(console: Console, text: str) -> None:
    _out(console)
    _out(console, Text(text, style="bold underline"))


def _campaign(console: Console, b: BoardFigures, lang: str) -> None:
    words, camp = labels(lang), campaign_labels(lang)
    _heading(console, words["campaign"])
    # One space of padding beside the box's blank separator: 100 columns hold five amounts.
    table = Table(box=RULED, pad_edge=False, padding=(0, 0, 0, 1), show_edge=False)
    table.add_column(camp["category"], no_wrap=True)
    for key in ("target", "paid", "signed", "in_principle", "prospect"):
        table.add_column(camp[key], justify="right", no_wrap=True)
    rows = (*b.campaign.categories, b.campaign.total)
    for f in rows:
        style = "bold" if f.category == "total" else ""
        table.add_row(Text(camp[f.category], style=style), _money(f.target, lang), _money(f.paid, lang, style),
                      _money(f.signed, lang, style), _money(f.in_principle, lang), _money(f.prospect, lang),
                      end_section=f.category == "other")
    _out(console, table)
    bars = Table.grid(padding=(0, 1))
    bars.add_column(no_wrap=True, min_width=22)
    bars.add_column(no_wrap=True)
    bars.add_column()
    for f in rows:
        if f.share_signed is not None and f.share_paid is not None:
            note = Prose(words["of_target"].format(signed=format_percent(f.share_signed, lang),
                                                   paid=format_percent(f.share_paid, lang)))
        else:
            note = Prose(words["no_target"], style="italic bright_black")
        bars.add_row(Text(camp[f.category]), bar(f, BAR_WIDTH), note)
    _out(console, bars)
    legend = Text()
    for part, style in zip(words["legend"].split("  "), (PAID_STYLE, SIGNED_STYLE, PRINCIPLE_STYLE, REST_STYLE),
                           strict=False):
        legend.append(part[:1], style=style).append(part[1:] + "   ", style="italic")
    _out(console, legend)


def _figures_table(title: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold underline", box=None, show_header=False,
                  padding=(0, 1), pad_edge=False, min_width=HALF)
    table.add_column(no_wrap=True, ratio=1)
    table.add_column(justify="right", no_wrap=True)
    return table


def _cash(b: BoardFigures, lang: str) -> Table:
    words = labels(lang)
    table = _figures_table(words["cash"])
    table.add_row(words["cash_line"], _money(b.cash, lang))
    table.add_row(words["approved"].format(n=b.approved_loans), _money(-b.approved_undisbursed, lang))
    table.add_row(Text(words["free"], style="bold"), _money(b.free_to_lend, lang, "bold"), end_section=True)
    table.add_row("", "")
    table.add_row(words["capital"], _money(b.capital_paid_in, lang))
    limit = borrower_limit(b.capital_paid_in, b.max_borrower_share, CURRENCY)
    table.add_row(words["limit"].format(share=format_percent(b.max_borrower_share, lang)),
                  _money(limit, lang))
    return table


def _year(b: BoardFigures, lang: str) -> Table:
    words, y = labels(lang), b.year
    table = _figures_table(words["year"].format(label=y.year.label, start=long_date(y.year.start, lang)))
    for section in ("income", "expenses"):
        for key, line in y.lines:
            if key == section:
                table.add_row(Text("  " + statement_label(line.key, lang)), _money(line.current, lang))
        total = y.income if section == "income" else y.expenses
        table.add_row(Text(words[section], style="bold"), _money(total, lang, "bold"))
    table.add_row(Text(words["surplus"], style="bold"), _money(y.surplus, lang, "bold"))
    return table


def _portfolio(console: Console, b: BoardFigures, lang: str) -> None:
    words, p = labels(lang), b.portfolio

    def borrowers(n: int) -> str:
        return counted(n, words["borrower"], words["borrowers_plural"], lang)

    _heading(console, words["portfolio"])
    if p.loans_outstanding == 0:
        _out(console, Text(words["no_loans"], style="italic"))
    else:
        table = Table(box=None, show_header=False, padding=(0, 1), pad_edge=False)
        table.add_column(no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        table.add_column(style="bright_black")
        # The third column wraps, never inside an amount (`Prose`).
        table.add_row(Text(words["outstanding"], style="bold"), _money(p.outstanding, lang, "bold"),
                      Prose(words["loans"].format(loans=counted(p.loans_outstanding, words["loan"],
                                                                words["loans_plural"], lang),
                                                  borrowers=borrowers(p.borrowers))))
        for key, ratio, amount in (("par30", p.par30, p.at_risk30), ("par90", p.par90, p.at_risk90)):
            table.add_row(words[key], Text(format_ratio(ratio, lang), style="red" if ratio > 0 else ""),
                          Prose(format_money(amount, p.currency, lang)))
        for key, s in (("women", p.women_led), ("youth", p.youth_led)):
            table.add_row(words[key], format_ratio(s.by_amount, lang),
                          Prose(words["share_line"].format(count=count_text(s.borrowers, lang),
                                                           total=borrowers(p.borrowers))))
        _out(console, table)
        regions = Text(words["by_region"] + " : " if lang == "fr" else words["by_region"] + ": ", style="bold")
        for i, g in enumerate(p.by_region):
            share = g.outstanding / p.outstanding if p.outstanding else Decimal(0)
            if i:
                regions.append(" · ")
            regions.append(group_name(g.key, lang), style="bold").append(f" {format_money(g.outstanding, p.currency, lang)}"
                                                       f" ({format_ratio(share, lang)})")
        _out(console, Prose(regions))
    lent = [o for o in b.other_currencies if o.loans_outstanding]
    if lent:
        parts = " · ".join(f"{counted(o.loans_outstanding, words['loan'], words['loans_plural'], lang)}, "
                           f"{format_money(o.outstanding, o.currency, lang)}" for o in lent)
        _out(console, Prose(words["loans_elsewhere"].format(parts=parts), style="italic"))


def _elsewhere(console: Console, b: BoardFigures, lang: str) -> None:
    """The cash and the year's income and expenses in other currencies, which the CAD panels leave out."""
    words = labels(lang)
    parts = []
    for o in b.other_currencies:
        figures = [f"{words['elsewhere_' + key]} {format_money(amount, o.currency, lang)}"
                   for key, amount in (("cash", o.cash), ("income", o.income), ("expenses", o.expenses)) if amount]
        if figures:
            parts.append(", ".join(figures))
    if parts:
        _out(console, Prose(words["elsewhere"].format(parts=" · ".join(parts)), style="italic"))


def _alerts(console: Console, b: BoardFigures, lang: str) -> None:
    from fisiq.board import days_text

    words = labels(lang)
    _heading(console, f"{words['alerts']} ({count_text(len(b.alerts), lang)})")
    if not b.alerts:
        _out(console, Text(words["no_alerts"].format(days=days_text(b.unpaid_days, lang)), style="green"))
        return
    table = Table(box=None, show_header=False, padding=(0, 1), pad_edge=False)
    table.add_column(no_wrap=True)
    table.add_column(ratio=1)
    for a in b.alerts:
        table.add_row(Text("⚠ " + words[a.kind], style=ALERT_STYLE.get(a.kind, "")), Prose(alert_message(a, lang)))
    _out(console, table)


def render_board(console: Console, b: BoardFigures, lang: str = "en") -> None:
    """The whole report: title, campaign, cash beside the year, portfolio, alerts."""
    words = labels(lang)
    _out(console, Text(words["title"].format(date=long_date(b.as_of, lang)), style="bold"))
    _out(console, Text(words["subtitle"], style="italic"))
    _campaign(console, b, lang)
    _out(console)
    side = Table.grid(padding=(0, 4))
    side.add_column()
    side.add_column()
    cash, year = _cash(b, lang), _year(b, lang)
    side.add_row(cash, year)
    if _least_width(console, cash) + 4 + _least_width(console, year) <= min(console.width, WIDTH):
        _out(console, side)
    else:
        # Long labels (French ones, an expense of the year) or large amounts: one under the
        # other, rather than figures cut short to keep them side by side.
        _out(console, cash)
        _out(console)
        _out(console, year)
    _elsewhere(console, b, lang)
    _portfolio(console, b, lang)
    _alerts(console, b, lang)

