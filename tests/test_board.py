"""`fisiq report board`: the figures (JSON and rendered text, French and English), the alert
rules, and the HTML/SVG exports for a board packet. Storage tests run on both engines."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from fisiq import board

REPO = Path(__file__).parents[1]
Run = Callable[..., Any]
D = Decimal
WIDE = {"COLUMNS": "100"}
THIES = "Coopérative Femmes de Thiès"
JACMEL = "Jeunes de Jacmel"
BAMAKO = "Atelier [bold]Bamako[/bold]"  # markup in a name must print as typed


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def refused(result: Any, fragment: str) -> None:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], lines


def board_json(fisiq: Run, *args: str) -> dict[str, Any]:
    return json.loads(ok(fisiq("report", "board", "--json", *args)).stdout)


def text(fisiq: Run, *args: str) -> str:
    out = ok(fisiq("report", "board", *args, env=WIDE)).stdout
    assert max(len(line) for line in out.splitlines()) <= 100, out
    return out


def _build_module() -> Any:
    spec = importlib.util.spec_from_file_location("fisiq_ledger_build", REPO / "ledger" / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the bundled 2018 ledger -----------------------------------------------------------------


@pytest.fixture
def bundled(fisiq: Run) -> Run:
    for step in _build_module().BUILD:
        ok(fisiq(*step))
    return fisiq


def test_bundled_ledger_figures(bundled: Run) -> None:
    doc = board_json(bundled, "--as-of", "2018-03-31", "--lang", "en")
    assert doc["as_of"] == "2018-03-31" and doc["lang"] == "en" and doc["currency"] == "CAD"
    at = {c["category"]: c for c in doc["campaign"]["categories"]}
    assert list(at) == ["member", "labour-fund", "government", "other"]
    assert at["member"]["signed"] == "465000.00" and at["member"]["target"] == "1000000.00"
    assert at["member"]["paid"] == "0.00"
    assert at["labour-fund"]["in_principle"] == "4000000.00"
    assert at["government"]["paid"] == "75000.00" and at["government"]["prospect"] == "2000000.00"
    assert doc["campaign"]["total"]["signed"] == "540000.00"
    # The same keys and figures as `fisiq progress --json`.
    progress = json.loads(ok(bundled("progress", "--as-of", "2018-03-31", "--json")).stdout)
    assert doc["campaign"]["categories"] == progress["categories"]
    assert doc["campaign"]["total"] == progress["total"]
    assert doc["cash"] == "75000.00" and doc["free_to_lend"] == "75000.00"
    assert doc["approved_undisbursed"] == "0.00" and doc["approved_loans"] == 0
    assert doc["capital_paid_in"] == "75000.00"
    p = doc["portfolio"]
    assert p["outstanding"] == "0.00" and p["loans_outstanding"] == 0 and p["par30"] == "0.0000"
    assert p["by_region"] == []
    assert doc["year"] == {"label": "2018", "from": "2017-04-01", "to": "2018-03-31", "year_end": "2018-03-31",
                           "income": "0.00", "expenses": "0.00", "surplus": "0.00", "lines": []}
    assert doc["alerts"] == [] and doc["unpaid_commitment_days"] == 180


def test_bundled_ledger_today_flags_the_members_unpaid_commitment(bundled: Run) -> None:
    doc = board_json(bundled, "--lang", "fr")  # as of today: years after 2018-03-31
    assert [a["kind"] for a in doc["alerts"]] == ["commitment-unpaid"]
    alert = doc["alerts"][0]
    assert alert["investor"] == "Membres de l'AQOCI (investissement collectif)"
    assert alert["unpaid"] == "465000.00" and alert["signed_on"] == "2018-03-31"
    assert alert["days"] == (date.today() - date(2018, 3, 31)).days and alert["threshold_days"] == 180
    assert "465 000,00 $ de l'engagement signé le 31 mars 2018 toujours non versés" in alert["message"]


def test_bundled_ledger_rendered_in_french_and_english(bundled: Run) -> None:
    fr = text(bundled, "--as-of", "2018-03-31", "--lang", "fr")
    for fragment in ("Rapport au conseil d'administration au 31 mars 2018", "Campagne de capitalisation",
                     "465 000,00 $", "1 000 000,00 $", "4 000 000,00 $", "2 000 000,00 $", "75 000,00 $",
                     "Encaisse", "Disponible pour prêter", "Portefeuille de prêts", "Aucun prêt en cours",
                     "Exercice 2018", "Produits", "Charges", "Alertes (0)", "Aucune alerte",
                     "46,5 % de l'objectif signé", "▓"):
        assert fragment in fr, fragment
    en = text(bundled, "--as-of", "2018-03-31", "--lang", "en")
    for fragment in ("Report to the board of directors as of March 31, 2018", "Capital campaign", "465,000.00 $",
                     "Free to lend", "75,000.00 $", "Loan portfolio", "Fiscal year 2018", "Alerts (0)",
                     "46.5% of the target signed"):
        assert fragment in en, fragment
    assert "465 000,00 $" not in en


def test_language_from_fisiq_lang(bundled: Run) -> None:
    out = ok(bundled("report", "board", "--as-of", "2018-03-31", env={**WIDE, "FISIQ_LANG": "fr_CA.UTF-8"})).stdout
    assert "Campagne de capitalisation" in out
    doc = json.loads(ok(bundled("report", "board", "--json", env={"FISIQ_LANG": "fr"})).stdout)
    assert doc["lang"] == "fr" and "signé le 31 mars 2018 toujours non versés" in doc["alerts"][0]["message"]
    # A wider terminal keeps the 100-column layout.
    wide = ok(bundled("report", "board", "--lang", "en", env={"COLUMNS": "160"})).stdout
    assert max(len(line) for line in wide.splitlines()) <= 100
    refused(bundled("report", "board", "--lang", "de"), "--lang must be fr or en")


def test_an_unknown_fisiq_lang_is_refused_not_read_as_english(bundled: Run) -> None:
    for value in ("xx", "de_DE.UTF-8", "french"):
        refused(bundled("report", "board", env={"FISIQ_LANG": value}), f"FISIQ_LANG must be fr or en, not {value!r}")
    assert "Capital campaign" in ok(bundled("report", "board", env={**WIDE, "FISIQ_LANG": "EN"})).stdout
    # --lang given on the command line wins, whatever FISIQ_LANG says.
    assert "Campagne" in ok(bundled("report", "board", "--lang", "fr", env={**WIDE, "FISIQ_LANG": "xx"})).stdout


def test_as_of_before_everything_gives_zeros(bundled: Run) -> None:
    doc = board_json(bundled, "--as-of", "2000-01-01")
    assert doc["cash"] == doc["free_to_lend"] == doc["capital_paid_in"] == "0.00"
    total = doc["campaign"]["total"]
    assert {total[k] for k in ("paid", "signed", "in_principle", "prospect")} == {"0.00"}
    assert doc["campaign"]["categories"][0]["target"] is None  # set on 2018-03-31
    assert doc["portfolio"]["outstanding"] == "0.00" and doc["year"]["income"] == "0.00"
    assert doc["alerts"] == []
    assert "0,00 $" in text(bundled, "--as-of", "2000-01-01", "--lang", "fr")


# --- a ledger with loans ------------------------------------------------------------------------


@pytest.fixture
def lending(fisiq: Run) -> Run:
    """75,000.00 $ paid in; loan 1 (Thiès, 5,000) disbursed and late, loan 2 (Jacmel, 7,000) approved
    only, loan 3 (Bamako, 6,500) disbursed: 86.67 % of the 7,500.00 $ limit per borrower."""
    ok(fisiq("party", "add", "Fonds test", "--kind", "investor"))
    ok(fisiq("entry", "add", "--date", "2018-03-23", "-m", "capital", "-p", "Assets:Cash 75000.00",
             "-p", "Equity:Paid-In-Capital @ Fonds test"))
    ok(fisiq("party", "add", THIES, "--kind", "borrower", "--country", "SN", "--region", "Africa", "--women-led"))
    ok(fisiq("party", "add", JACMEL, "--kind", "borrower", "--country", "HT", "--region", "Haiti", "--youth-led"))
    ok(fisiq("party", "add", BAMAKO, "--kind", "borrower", "--country", "ML", "--region", "Africa", "--youth-led"))
    ok(fisiq("loan", "add", THIES, "5000.00", "--rate", "12", "--term", "6", "--first-due", "2018-05-01",
             "--date", "2018-03-31"))
    ok(fisiq("loan", "disburse", "1", "--date", "2018-04-01"))
    ok(fisiq("loan", "repay", "1", "500.00", "--date", "2018-05-01"))
    ok(fisiq("loan", "add", JACMEL, "7000.00", "--rate", "10", "--term", "12", "--first-due", "2018-09-01",
             "--date", "2018-06-01"))
    ok(fisiq("loan", "add", BAMAKO, "6500.00", "--rate", "8", "--term", "12", "--first-due", "2018-08-01",
             "--date", "2018-06-01"))
    ok(fisiq("loan", "disburse", "3", "--date", "2018-06-15"))
    ok(fisiq("entry", "add", "--date", "2018-06-30", "-m", "frais", "-p", "Expenses:Operations 1250.50",
             "-p", "Assets:Cash"))
    return fisiq


def test_loans_portfolio_cash_and_alerts(lending: Run) -> None:
    doc = board_json(lending, "--as-of", "2018-07-15", "--lang", "en")
    portfolio = json.loads(ok(lending("portfolio", "--as-of", "2018-07-15", "--json")).stdout)
    p = doc["portfolio"]
    for key in ("outstanding", "par30", "par90", "at_risk30", "borrowers", "women_led", "youth_led", "by_region"):
        assert p[key] == portfolio[key], key
    assert p["outstanding"] == "11050.00" and p["loans_outstanding"] == 2 and p["par30"] == "0.4118"
    # Cash: 75,000 - 5,000 + 500 - 6,500 - 1,250.50; the approved loan 2 is not free to lend.
    assert doc["cash"] == "62749.50"
    assert doc["approved_loans"] == 1 and doc["approved_undisbursed"] == "7000.00"
    assert doc["free_to_lend"] == "55749.50"
    assert doc["year"]["income"] == "50.00" and doc["year"]["expenses"] == "1250.50"
    assert doc["year"]["surplus"] == "-1200.50" and doc["year"]["from"] == "2018-04-01"
    assert {(x["section"], x["key"]): x["amount"] for x in doc["year"]["lines"]} == {
        ("income", "Income:Interest:Loans"): "50.00", ("expenses", "Expenses:Operations"): "1250.50"}
    kinds = [a["kind"] for a in doc["alerts"]]
    assert kinds == ["arrears", "borrower-limit-near"]
    late = doc["alerts"][0]
    loan = json.loads(ok(lending("loan", "show", "1", "--as-of", "2018-07-15", "--json")).stdout)["position"]
    assert late["loan"] == 1 and late["borrower"] == THIES and late["currency"] == "CAD"
    assert late["days_past_due"] == loan["days_past_due"] == 75
    assert late["outstanding"] == loan["outstanding_principal"] == "4550.00"
    assert D(late["amount_due"]) == D(loan["principal_due_unpaid"]) + D(loan["interest_due_unpaid"])
    assert "75 days past due" in late["message"]
    near = doc["alerts"][1]
    assert near["borrower"] == BAMAKO and near["exposure"] == "6500.00" and near["limit"] == "7500.00"
    assert near["share"] == "8.67" and near["max_share"] == "10"
    # Before loan 1 fell due, nothing is late; before loan 2's approval, nothing is approved.
    early = board_json(lending, "--as-of", "2018-04-15")
    assert early["alerts"] == [] and early["approved_undisbursed"] == "0.00"
    assert early["free_to_lend"] == early["cash"] == "70000.00"


def test_rendered_loans_in_both_languages(lending: Run) -> None:
    fr = text(lending, "--as-of", "2018-07-15", "--lang", "fr")
    for fragment in ("62 749,50 $", "-7 000,00 $", "55 749,50 $", "11 050,00 $", "41,18 %", "Alertes (2)",
                     "⚠ Retard", "75 jours de retard", BAMAKO, "Limite proche", "Dirigés par des femmes",
                     "Par région : Africa 11 050,00 $", "Intérêts sur prêts", "-1 200,50 $"):
        assert fragment in fr, fragment
    en = text(lending, "--as-of", "2018-07-15", "--lang", "en")
    for fragment in ("62,749.50 $", "55,749.50 $", "41.18%", "Arrears", "Limit approached", "Women-led",
                     "Surplus (deficit)"):
        assert fragment in en, fragment


def test_limit_broken_and_cash_short(lending: Run) -> None:
    ok(lending("loan", "limits", "--max-borrower-share", "5"))  # 3,750.00 $: both borrowers above it
    ok(lending("loan", "add", JACMEL, "60000.00", "--rate", "5", "--term", "12", "--first-due", "2018-10-01",
               "--date", "2018-07-01"))
    doc = board_json(lending, "--as-of", "2018-07-15", "--lang", "fr")
    kinds = [a["kind"] for a in doc["alerts"]]
    assert kinds == ["borrower-limit-over", "borrower-limit-over", "cash-short", "arrears"]
    assert [a["borrower"] for a in doc["alerts"][:2]] == [BAMAKO, THIES]  # largest first
    assert doc["approved_undisbursed"] == "67000.00" and doc["free_to_lend"] == "-4250.50"
    short = doc["alerts"][2]
    assert short["free_to_lend"] == "-4250.50" and "de 4 250,50 $" in short["message"]
    out = text(lending, "--as-of", "2018-07-15", "--lang", "fr")
    assert "Limite dépassée" in out and "Encaisse insuffisante" in out and "-4 250,50 $" in out


def test_unpaid_commitment_threshold_is_a_setting(fisiq: Run) -> None:
    ok(fisiq("party", "add", "Fondation Exemple", "--kind", "foundation"))
    ok(fisiq("commitment", "add", "Fondation Exemple", "10000", "--stage", "signed", "--date", "2018-01-01"))
    ok(fisiq("commitment", "pay", "1", "4000", "--date", "2018-02-01"))
    assert board_json(fisiq, "--as-of", "2018-06-30")["alerts"] == []  # 180 days exactly: not yet
    alerts = board_json(fisiq, "--as-of", "2018-07-01")["alerts"]
    assert [(a["kind"], a["commitment"], a["unpaid"], a["days"]) for a in alerts] == [
        ("commitment-unpaid", 1, "6000.00", 181)]
    ok(fisiq("config", "set", "board.unpaid_commitment_days", "30"))
    shown = json.loads(ok(fisiq("config", "show", "--json")).stdout)["settings"]
    assert shown["board.unpaid_commitment_days"] == {"value": "30", "default": False}
    doc = board_json(fisiq, "--as-of", "2018-02-01")
    assert [a["days"] for a in doc["alerts"]] == [31] and doc["unpaid_commitment_days"] == 30
    refused(fisiq("config", "set", "board.unpaid_commitment_days", "0"), "whole number of days")
    refused(fisiq("config", "set", "board.unpaid_commitment_days", "1.5"), "whole number of days")
    ok(fisiq("commitment", "pay", "1", "6000", "--date", "2018-03-01"))
    assert board_json(fisiq, "--as-of", "2018-12-31")["alerts"] == []  # fully paid


# --- exports ------------------------------------------------------------------------------------


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_and_svg_exports(lending: Run, tmp_path: Path) -> None:
    page, image = tmp_path / "board.html", tmp_path / "board.svg"
    out = ok(lending("report", "board", "--as-of", "2018-07-15", "--lang", "fr", "--html", str(page),
                     "--svg", str(image)))
    assert str(page) in out.stdout and str(image) in out.stdout
    html = page.read_text(encoding="utf-8")
    parser = _Page()
    parser.feed(html)
    parser.close()
    assert html.startswith("<!DOCTYPE html>") and '<html lang="fr">' in html
    assert {"html", "head", "title", "body", "pre"} <= set(parser.tags)
    shown = "".join(parser.text)
    for fragment in ("Rapport au conseil d'administration", "11 050,00 $", "55 749,50 $", BAMAKO, "Alertes (2)"):
        assert fragment in shown, fragment
    svg = image.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "Bamako" in svg
    # Read offline, in a packet: nothing fetched from the network, no terminal window buttons.
    assert "https://" not in svg.replace("https://www.textualize.io", "") and "<circle" not in svg
    assert 'src: local("FiraCode-Regular");' in svg
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    # With --json, stdout is the JSON alone; the files are still written.
    page.unlink()
    doc = json.loads(ok(lending("report", "board", "--json", "--as-of", "2018-07-15", "--html", str(page))).stdout)
    assert doc["portfolio"]["outstanding"] == "11050.00" and page.exists()


def test_export_destinations_refused(lending: Run, tmp_path: Path) -> None:
    refused(lending("report", "board", "--html", str(tmp_path)), "is a directory")
    refused(lending("report", "board", "--svg", str(tmp_path / "missing" / "board.svg")), "does not exist")


def test_failed_write_leaves_the_old_file_whole(lending: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fisiq.files

    folder = tmp_path / "packet"
    folder.mkdir()
    page = folder / "board.html"
    page.write_text("the previous packet", encoding="utf-8")

    def broken(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fisiq.files.os, "replace", broken)
    refused(lending("report", "board", "--html", str(page)), "No space left on device")
    assert page.read_text(encoding="utf-8") == "the previous packet"
    assert [p.name for p in folder.iterdir()] == ["board.html"]


# --- the pure rules -------------------------------------------------------------------------------


def test_limit_rule_boundaries() -> None:
    capital, share = D("100000.00"), D("10")  # limit 10,000.00
    found = board.limit_alerts({"A": D("7999.99"), "B": D("8000.00"), "C": D("10000.00"), "E": D("10000.01")},
                               capital, share)
    assert [(a.kind, a.facts["borrower"]) for a in found] == [
        (board.LIMIT_OVER, "E"), (board.LIMIT_NEAR, "C"), (board.LIMIT_NEAR, "B")]
    # No capital paid in: any exposure is above the limit.
    assert [a.kind for a in board.limit_alerts({"A": D("1.00")}, D("0.00"), share)] == [board.LIMIT_OVER]
    assert board.limit_alerts({"A": D("0.00")}, D("0.00"), share) == []


def test_cash_and_arrears_rules() -> None:
    assert board.cash_alerts(D("100.00"), D("100.00")) == []
    (short,) = board.cash_alerts(D("100.00"), D("100.01"))
    assert short.facts["free_to_lend"] == D("-0.01")
    assert "by 0.01 $" in board.alert_message(short, "en") and "de 0,01 $" in board.alert_message(short, "fr")
    late = [board.LateLoan(1, "A", "CAD", 0, D("0.00"), D("10.00")),
            board.LateLoan(2, "B", "XOF", 40, D("1500"), D("9000")),
            board.LateLoan(3, "C", "CAD", 95, D("5.00"), D("50.00"))]
    found = board.arrears_alerts(late)
    assert [a.facts["loan"] for a in found] == [3, 2]
    assert "1 500 XOF" in board.alert_message(found[1], "fr") and "40 jours" in board.alert_message(found[1], "fr")
    assert board.alert_json(found[1], "en")["amount_due"] == "1500"


def test_unpaid_rule_boundary() -> None:
    c = board.SignedUnpaid(7, "X", date(2018, 1, 1), D("5.00"))
    assert board.unpaid_commitment_alerts([c], date(2018, 1, 31), 30) == []
    (alert,) = board.unpaid_commitment_alerts([c], date(2018, 2, 1), 30)
    assert alert.facts["days"] == 31
    assert board.alert_message(alert, "fr") == (
        "X : 5,00 $ de l'engagement signé le 1er janvier 2018 toujours non versés après 31 jours "
        "(alerte après 30 jours).")
    assert board.alert_message(alert, "en") == (
        "X: 5.00 $ of the commitment signed on January 1, 2018 still unpaid after 31 days (alert after 30 days).")


def test_alerts_never_break_a_line_inside_an_amount_or_a_date() -> None:
    """A French board reader saw '(115' at the end of a line and '010,00 $)' on the next."""
    import io

    from rich.console import Console
    from rich.table import Table

    from fisiq.render_board import Prose

    message = ("Les prêts approuvés non décaissés (220 000,00 $) dépassent l'encaisse (115 010,00 $) "
               "de 104 990,00 $ ; 1 500 XOF signés le 1er mai 2018, soit 46,5 % du capital.")
    whole = ["220 000,00 $", "115 010,00 $", "104 990,00 $", "1 500 XOF", "1er mai 2018", "46,5 %", "$ ;"]
    for width in range(30, 101):
        out = io.StringIO()
        table = Table(box=None, show_header=False, padding=(0, 1), pad_edge=False)
        table.add_column(no_wrap=True)
        table.add_column(ratio=1)
        table.add_row("⚠ Encaisse", Prose(message))
        Console(file=out, width=width).print(table)
        text = out.getvalue()
        lines = [line.rstrip() for line in text.splitlines()]
        assert all(len(line) <= width for line in lines), (width, text)
        joined = " ".join(line.split("⚠ Encaisse")[-1].strip() for line in lines)
        assert joined == message, (width, text)
        for piece in whole:
            assert any(piece in line for line in lines), (width, piece, text)


def test_long_french_labels_stack_the_panels_rather_than_cut_figures(lending: Run, tmp_path: Path) -> None:
    """A provision's French label is too long for the year panel beside the cash one: the board
    used to print '2 500…' and '-2 50…', on screen and in the HTML and SVG packets."""
    ok(lending("entry", "add", "--date", "2018-07-01", "-m", "provision", "-p", "Expenses:Loan-Loss-Provision 2500",
               "-p", "Assets:Cash"))
    page, image = tmp_path / "board.html", tmp_path / "board.svg"
    for lang, label in (("fr", "Dotation à la provision pour pertes sur prêts"), ("en", "Provision for loan losses")):
        out = ok(lending("report", "board", "--as-of", "2018-07-15", "--lang", lang, "--html", str(page),
                         "--svg", str(image))).stdout
        out += text(lending, "--as-of", "2018-07-15", "--lang", lang)
        assert "…" not in out and "…" not in page.read_text(encoding="utf-8"), out
        assert "…" not in image.read_text(encoding="utf-8")
        assert label in out
    fr = text(lending, "--as-of", "2018-07-15", "--lang", "fr")
    assert "2 500,00 $" in fr and "-3 700,50 $" in fr and "Capital versé" in fr


def test_french_counts_agree_with_their_nouns(lending: Run) -> None:
    ok(lending("party", "add", "Coop sans région", "--kind", "borrower", "--country", "BF"))
    fr = text(lending, "--as-of", "2018-05-15", "--lang", "fr")
    assert "1 prêt, 1 emprunteur" in fr and "1 sur 1 emprunteur" in fr and "0 sur 1 emprunteur" in fr, fr
    assert "prêts" not in fr.split("Capital restant dû")[1].splitlines()[0]
    en = text(lending, "--as-of", "2018-05-15", "--lang", "en")
    assert "1 loan, 1 borrower" in en and "1 of 1 borrower" in en
    fr = text(lending, "--as-of", "2018-07-15", "--lang", "fr")
    assert "2 prêts, 2 emprunteurs" in fr and "1 sur 2 emprunteurs" in fr


def test_a_borrower_with_no_region_reads_non_precise_in_french(lending: Run) -> None:
    ok(lending("party", "add", "Coop sans région", "--kind", "borrower", "--country", "BF"))
    ok(lending("loan", "add", "Coop sans région", "1000.00", "--rate", "5", "--term", "6", "--first-due",
               "2018-09-01", "--date", "2018-07-01"))
    ok(lending("loan", "disburse", "4", "--date", "2018-07-02"))
    fr = text(lending, "--as-of", "2018-07-15", "--lang", "fr")
    assert "(non précisé) 1 000,00 $" in fr and "(unknown)" not in fr
    portfolio = ok(lending("portfolio", "--as-of", "2018-07-15", "--lang", "fr")).stdout
    assert "(non précisé)" in portfolio and "(unknown)" not in portfolio
    doc = json.loads(ok(lending("portfolio", "--as-of", "2018-07-15", "--json")).stdout)
    assert "(unknown)" in [g["key"] for g in doc["by_region"]]


def test_narrow_terminals_never_cut_or_split_a_figure(lending: Run) -> None:
    """On an 80-column terminal the French board printed '1 000 000,…' and '75 000,0…' in the
    campaign, and at 60 columns split '5 024,71 $' over three lines in the portfolio. A table of
    figures prints at the width it needs (docs/cli.md: never cut); prose wraps between words."""
    ok(lending("entry", "add", "--date", "2018-07-01", "-m", "provision", "-p", "Expenses:Loan-Loss-Provision 2500",
               "-p", "Assets:Cash"))
    ok(lending("target", "set", "member", "1000000", "--date", "2018-03-31"))
    for lang in ("fr", "en"):
        doc = board_json(lending, "--as-of", "2018-07-15", "--lang", lang)
        wide = ok(lending("report", "board", "--as-of", "2018-07-15", "--lang", lang, env={"COLUMNS": "100"})).stdout
        figures = {piece for piece in re.findall(r"-?\d[\d ,.]*\d(?: \$| %|%)", wide)}
        assert len(figures) > 20 and any(f.startswith("1 000 000") or f.startswith("1,000,000") for f in figures)
        for width in (40, 60, 80, 99):
            out = ok(lending("report", "board", "--as-of", "2018-07-15", "--lang", lang,
                             env={"COLUMNS": str(width)})).stdout
            assert "…" not in out, (lang, width, out)
            for figure in figures:
                assert any(figure in line for line in out.splitlines()), (lang, width, figure, out)
            prose = [line for line in out.splitlines() if "⚠" in line or line.startswith(("Par région", "By region"))]
            assert prose and all(len(line.rstrip()) <= width for line in prose), (lang, width, out)
        assert doc["portfolio"]["outstanding"] == "11050.00"


def test_prose_keeps_styles_and_splits_only_a_word_longer_than_its_column() -> None:
    import io

    from rich.console import Console
    from rich.text import Text

    from fisiq.render_board import Prose

    out = io.StringIO()
    Console(file=out, width=10, color_system="truecolor", force_terminal=True).print(
        Prose(Text("Par région : ").append("Haïti", style="bold").append(" abcdefghijklmnop 1 500,00 $")))
    lines = [line.rstrip() for line in Text.from_ansi(out.getvalue()).plain.splitlines()]
    assert lines == ["Par", "région :", "Haïti", "abcdefghij", "klmnop", "1 500,00 $"], lines
    assert "\x1b[1mHaïti" in out.getvalue()


def test_what_other_currencies_hold_is_said_not_dropped(lending: Run) -> None:
    """The board is in CAD. It dropped cash and income received in XOF without a word, and
    said '1 prêt(s) en d'autres devises non compté(s) ici' of a loan never disbursed."""
    ok(lending("entry", "add", "--date", "2018-06-20", "-m", "capital XOF", "-p", "Assets:Cash 2000000 XOF",
               "-p", "Equity:Paid-In-Capital -2000000 XOF @ Fonds test"))
    ok(lending("entry", "add", "--date", "2018-06-21", "-m", "don", "-p", "Assets:Cash 150000 XOF",
               "-p", "Income:Contributions -150000 XOF"))
    ok(lending("loan", "add", THIES, "100000", "--currency", "XOF", "--rate", "8", "--term", "4",
               "--first-due", "2018-08-01", "--date", "2018-06-25"))
    ok(lending("loan", "disburse", "4", "--date", "2018-06-26"))
    ok(lending("loan", "add", JACMEL, "500", "--currency", "USD", "--rate", "8", "--term", "4",
               "--first-due", "2018-08-01", "--date", "2018-06-25"))  # approved only: nothing outstanding
    doc = board_json(lending, "--as-of", "2018-07-15")
    assert doc["cash"] == "62749.50" and doc["year"]["income"] == "50.00"  # the CAD figures are unchanged
    assert doc["portfolio"]["outstanding"] == "11050.00" and doc["portfolio"]["other_currencies"] == 2
    assert doc["other_currencies"] == [{"currency": "XOF", "cash": "2050000", "income": "150000", "expenses": "0",
                                        "loans_outstanding": 1, "outstanding": "100000"}]
    fr = text(lending, "--as-of", "2018-07-15", "--lang", "fr")
    assert "En d'autres devises, non compté ci-dessus : encaisse 2 050 000 XOF, produits 150 000 XOF." in fr, fr
    assert "En cours dans d'autres devises, non compté ici : 1 prêt, 100 000 XOF." in fr, fr
    assert "(s)" not in fr
    en = text(lending, "--as-of", "2018-07-15", "--lang", "en")
    assert "In other currencies, not counted above: cash 2,050,000 XOF, revenue 150,000 XOF." in en, en
    assert "Outstanding in other currencies, not counted here: 1 loan, 100,000 XOF." in en, en
    assert "not counted" not in text(lending, "--as-of", "2018-06-19", "--lang", "en")
    assert board_json(lending, "--as-of", "2018-06-19")["other_currencies"] == []
