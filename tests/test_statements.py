"""Financial statements: fiscal years, two columns, deductions, words and numbers in fr/en,
the fiscal-year-end setting, and period closes as a person uses them."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fisiq import accounts as chart
from fisiq import db, ledger
from fisiq import statements as fs
from fisiq.accounts import KEPT_BY
from fisiq.entries import EntryDraft, complete_postings, parse_posting
from fisiq.reports import Balance

Run = Any


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def add(fisiq: Run, day: str, memo: str, *postings: str) -> None:
    """`fisiq entry add`, or for an account the loan or commitment commands keep (which it
    refuses) the entry those commands would post, written through the ledger: the statements
    read balances, whoever wrote them, and these books need round figures."""
    if not any(p.split()[0] in KEPT_BY for p in postings):
        args = ["entry", "add", "--date", day, "-m", memo]
        for p in postings:
            args += ["-p", p]
        ok(fisiq(*args))
        return
    legs = complete_postings([parse_posting(p, "CAD") for p in postings])
    kind = "commitment" if any(p.account.startswith("Equity:Commitments") for p in legs) else "loan"
    engine = db.open_ledger(fisiq.target)
    try:
        ledger.record_entry(engine, EntryDraft(date.fromisoformat(day), memo, legs, kind=kind))
    finally:
        engine.dispose()


def books(fisiq: Run) -> None:
    """Two fiscal years of a small fund (year end March 31)."""
    add(fisiq, "2017-03-31", "old year", "Assets:Cash 1000", "Income:Contributions")          # fiscal 2017
    add(fisiq, "2017-04-01", "capital", "Assets:Cash 465000", "Equity:Paid-In-Capital")       # fiscal 2018
    add(fisiq, "2017-06-01", "loan", "Assets:Loans:Principal 100000", "Assets:Cash")
    add(fisiq, "2018-03-31", "interest", "Assets:Loans:Interest-Receivable 2500", "Income:Interest:Loans")
    add(fisiq, "2018-04-01", "provision", "Expenses:Loan-Loss-Provision 5000", "Assets:Loans:Allowance")  # 2019
    add(fisiq, "2018-05-01", "signed", "Equity:Commitments:Receivable 40000", "Equity:Commitments:Subscribed")
    add(fisiq, "2018-06-01", "investor loan", "Assets:Cash 10000", "Liabilities:Investor-Loans")
    add(fisiq, "2019-03-31", "ops", "Expenses:Operations 750.25", "Assets:Cash")
    add(fisiq, "2019-04-01", "next year", "Expenses:Operations 99", "Assets:Cash")           # fiscal 2020


def lines(doc: dict[str, Any], currency: str = "CAD") -> dict[str, tuple[str, str, str]]:
    cs = next(c for c in doc["currencies"] if c["currency"] == currency)
    return {ln["key"]: (ln["kind"], ln["current"], ln["previous"]) for s in cs["sections"] for ln in s["lines"]}


def test_balance_sheet_two_years_with_deductions(fisiq: Run) -> None:
    books(fisiq)
    doc = json.loads(ok(fisiq("report", "balance-sheet", "--year", "2019", "--json")).stdout)
    assert set(doc) == {"statement", "year_end", "current", "previous", "currencies"}
    assert doc["statement"] == "balance-sheet" and doc["year_end"] == "03-31"
    assert doc["current"] == {"label": "2019", "from": "2018-04-01", "to": "2019-03-31"}
    assert doc["previous"] == {"label": "2018", "from": "2017-04-01", "to": "2018-03-31"}
    cad = doc["currencies"][0]
    assert set(cad) == {"currency", "sections", "totals", "balanced"}
    assert cad["currency"] == "CAD" and cad["balanced"] is True
    assert [s["section"] for s in cad["sections"]] == ["assets", "liabilities", "equity"]
    got = lines(doc)
    assert got["Assets:Cash"] == ("account", "375249.75", "366000.00")
    assert got["Assets:Loans:Principal"] == ("account", "100000.00", "100000.00")
    assert got["Assets:Loans:Allowance"] == ("deduction", "-5000.00", "0.00")
    assert got["loans-net"] == ("net", "95000.00", "100000.00")
    assert got["Liabilities:Investor-Loans"] == ("account", "10000.00", "0.00")
    assert got["Equity:Commitments:Subscribed"] == ("account", "40000.00", "0.00")
    assert got["Equity:Commitments:Receivable"] == ("deduction", "-40000.00", "0.00")
    assert got["commitments-net"] == ("net", "0.00", "0.00")
    assert got["surplus-prior-years"] == ("surplus", "3500.00", "1000.00")
    assert got["surplus-year"] == ("surplus", "-5750.25", "2500.00")
    totals = cad["totals"]
    assert totals["assets"] == {"current": "472749.75", "previous": "468500.00"}
    assert totals["liabilities_and_equity"] == totals["assets"]
    assert totals["equity"] == {"current": "462749.75", "previous": "468500.00"}
    # Keys order: the chart's order, deduction and net right after the account they reduce.
    assets = [ln["key"] for ln in cad["sections"][0]["lines"]]
    assert assets == ["Assets:Cash", "Assets:Loans:Principal", "Assets:Loans:Allowance", "loans-net",
                      "Assets:Loans:Interest-Receivable"]


def test_income_statement_two_years(fisiq: Run) -> None:
    books(fisiq)
    doc = json.loads(ok(fisiq("report", "income", "--year", "2019", "--json")).stdout)
    got = lines(doc)
    assert got == {
        "Income:Interest:Loans": ("account", "0.00", "2500.00"),
        "Expenses:Operations": ("account", "750.25", "0.00"),
        "Expenses:Loan-Loss-Provision": ("account", "5000.00", "0.00"),
    }
    totals = doc["currencies"][0]["totals"]
    assert totals == {
        "income": {"current": "0.00", "previous": "2500.00"},
        "expenses": {"current": "5750.25", "previous": "0.00"},
        "surplus": {"current": "-5750.25", "previous": "2500.00"},
    }
    # The surplus of the year is the one the balance sheet carries in net assets.
    sheet = json.loads(ok(fisiq("report", "balance-sheet", "--year", "2019", "--json")).stdout)
    _kind, current, previous = lines(sheet)["surplus-year"]
    assert (current, previous) == (totals["surplus"]["current"], totals["surplus"]["previous"])


def test_french_and_english_text(fisiq: Run) -> None:
    books(fisiq)
    fr = ok(fisiq("report", "balance-sheet", "--year", "2018", "--lang", "fr")).stdout
    assert "ÉTAT DE LA SITUATION FINANCIÈRE AU 31 MARS 2018" in fr
    assert "465 000,00 $" in fr and "ACTIFS NETS" in fr and "Capital versé" in fr
    assert "2018" in fr and "2017" in fr
    en = ok(fisiq("report", "balance-sheet", "--year", "2018", "--lang", "en")).stdout
    assert "STATEMENT OF FINANCIAL POSITION AS AT MARCH 31, 2018" in en and "465,000.00 $" in en
    fr_env = ok(fisiq("report", "income", "--year", "2019", env={"FISIQ_LANG": "fr_CA.UTF-8"})).stdout
    assert "ÉTAT DES RÉSULTATS DE L'EXERCICE TERMINÉ LE 31 MARS 2019" in fr_env
    assert "Dotation à la provision pour pertes sur prêts" in fr_env and "5 000,00 $" in fr_env
    sheet_fr = ok(fisiq("report", "balance-sheet", "--year", "2019", "--lang", "fr")).stdout
    assert "    Provision pour pertes sur prêts" in sheet_fr and "-5 000,00 $" in sheet_fr
    assert "Moins" not in sheet_fr  # the minus sign says it once
    bad = fisiq("report", "income", "--lang", "de")
    assert bad.exit_code == 1 and "--lang" in bad.output


def test_other_currencies_get_their_own_statement(fisiq: Run) -> None:
    add(fisiq, "2018-05-01", "usd grant", "Assets:Cash 100 USD", "Income:Contributions -100 USD")
    add(fisiq, "2018-05-02", "xof loan", "Assets:Loans:Principal 150000 XOF", "Assets:Cash -150000 XOF")
    doc = json.loads(ok(fisiq("report", "balance-sheet", "--year", "2019", "--json")).stdout)
    assert [c["currency"] for c in doc["currencies"]] == ["CAD", "USD", "XOF"]
    assert all(c["balanced"] for c in doc["currencies"])
    assert lines(doc, "XOF")["Assets:Loans:Principal"] == ("account", "150000", "0")
    text = ok(fisiq("report", "balance-sheet", "--year", "2019", "--lang", "en")).stdout
    assert "Amounts in USD, not converted" in text


def test_fiscal_year_end_setting_and_option(fisiq: Run) -> None:
    books(fisiq)
    assert "fiscal_year_end = 03-31  (default)" in ok(fisiq("config", "show")).stdout
    ok(fisiq("config", "set", "fiscal_year_end", "12-31"))
    assert "already 12-31" in ok(fisiq("config", "set", "fiscal_year_end", "12-31")).stdout
    shown = json.loads(ok(fisiq("config", "show", "--json")).stdout)
    assert shown["settings"]["fiscal_year_end"] == {"value": "12-31", "default": False}
    doc = json.loads(ok(fisiq("report", "income", "--year", "2018", "--json")).stdout)
    assert doc["year_end"] == "12-31"
    assert doc["current"] == {"label": "2018", "from": "2018-01-01", "to": "2018-12-31"}
    assert lines(doc)["Income:Interest:Loans"] == ("account", "2500.00", "0.00")
    over = json.loads(ok(fisiq("report", "income", "--year", "2018", "--year-end", "06-30", "--json")).stdout)
    assert over["current"]["from"] == "2017-07-01"
    for bad in ("02-29", "13-01", "3-31", "04-31"):
        result = fisiq("config", "set", "fiscal_year_end", bad)
        assert result.exit_code == 1 and "fiscal year end" in result.output, bad
    assert fisiq("config", "set", "colour", "blue").exit_code == 1
    assert fisiq("report", "balance-sheet", "--year-end", "xx").exit_code == 1


def test_fiscal_year_bounds() -> None:
    end = fs.parse_year_end("03-31")
    assert fs.fiscal_year(end, 2018) == fs.FiscalYear("2018", date(2017, 4, 1), date(2018, 3, 31))
    assert fs.fiscal_year_of(end, date(2018, 3, 31)).label == "2018"
    assert fs.fiscal_year_of(end, date(2018, 4, 1)).label == "2019"
    feb = fs.parse_year_end("02-28")
    assert fs.fiscal_year(feb, 2021).start == date(2020, 2, 29)  # leap day belongs to the year ending 2021-02-28
    assert fs.long_date(date(2018, 3, 1), "fr") == "1er mars 2018"
    assert fs.long_date(date(2018, 3, 31), "en") == "March 31, 2018"


ACCOUNTS = [a for a in chart.STANDARD_CHART] + [chart.Account("Assets:Other", chart.AccountType.ASSET)]


@given(
    st.lists(
        st.tuples(
            st.dates(min_value=date(2016, 1, 1), max_value=date(2020, 12, 31)),
            st.sampled_from(ACCOUNTS), st.sampled_from(ACCOUNTS),
            st.integers(min_value=1, max_value=10**9), st.sampled_from(["CAD", "USD", "XOF"]),
        ),
        max_size=30,
    ),
    st.integers(min_value=2017, max_value=2020),
    st.sampled_from(["03-31", "12-31", "06-30", "02-28"]),
)
def test_statements_balance_for_any_books(entries: list[Any], year: int, end_text: str) -> None:
    """Assets = liabilities + net assets in each column and currency; surplus agrees."""
    end = fs.parse_year_end(end_text)
    current, previous = fs.fiscal_year(end, year), fs.fiscal_year(end, year - 1)

    def figures(fy: fs.FiscalYear) -> fs.YearFigures:
        closing: dict[tuple[chart.Account, str], Decimal] = defaultdict(Decimal)
        moves: dict[tuple[chart.Account, str], Decimal] = defaultdict(Decimal)
        for day, debit, credit, minor, cur in entries:
            amount = Decimal(minor).scaleb(-2 if cur != "XOF" else 0)
            for account, signed in ((debit, amount), (credit, -amount)):
                if day <= fy.end:
                    closing[(account, cur)] += signed
                    if day >= fy.start:
                        moves[(account, cur)] += signed

        def as_balances(table: dict[tuple[chart.Account, str], Decimal]) -> tuple[Balance, ...]:
            return tuple(Balance(a.name, a.type, cur, v) for (a, cur), v in table.items())

        return fs.YearFigures(fy, as_balances(closing), as_balances(moves))

    sheet = fs.balance_sheet(figures(current), figures(previous), end)
    income = fs.income_statement(figures(current), figures(previous), end)
    assert sheet.currencies[0].currency == "CAD"
    for cs in sheet.currencies:
        assert cs.balanced, cs
    surplus = {cs.currency: cs.totals["surplus"] for cs in income.currencies}
    for cs in sheet.currencies:
        lines_ = {ln.key: (ln.current, ln.previous) for s in cs.sections for ln in s.lines}
        assert lines_["surplus-year"] == surplus.get(cs.currency, (0, 0))
    json.dumps(fs.statement_json(sheet))
    json.dumps(fs.statement_json(income))


def test_period_close_from_the_command_line(fisiq: Run) -> None:
    add(fisiq, "2018-03-15", "in the year", "Expenses:Operations 10", "Assets:Cash")
    result = ok(fisiq("period", "close", "2018-03-31"))
    assert "Closed the books through 2018-03-31 (entry 2)" in result.stdout
    shown = json.loads(ok(fisiq("entry", "show", "2", "--json")).stdout)
    assert shown["kind"] == "period-close" and shown["postings"] == [] and len(shown["hash"]) == 64
    refused = fisiq("entry", "add", "--date", "2018-03-31", "-m", "late", "-p", "Expenses:Operations 1",
                    "-p", "Assets:Cash")
    assert refused.exit_code == 1 and "closed period" in refused.output
    inside = fisiq("entry", "reverse", "1", "--date", "2018-03-20")
    assert inside.exit_code == 1 and "closed period" in inside.output
    ok(fisiq("entry", "reverse", "1", "--date", "2018-04-01"))  # corrections go after the close
    add(fisiq, "2018-04-02", "next year", "Expenses:Operations 1", "Assets:Cash")
    cannot = fisiq("entry", "reverse", "2", "--date", "2018-05-01")
    assert cannot.exit_code == 1 and "period close" in cannot.output
    earlier = fisiq("period", "close", "2018-01-31")
    assert earlier.exit_code == 1 and "closed period" in earlier.output
    ok(fisiq("period", "close", "2019-03-31"))
    doc = json.loads(ok(fisiq("audit", "verify", "--json")).stdout)
    assert doc["ok"] is True and doc["entries"] == 5
    # The statements are unaffected by closes: a close carries no postings.
    sheet = json.loads(ok(fisiq("report", "balance-sheet", "--year", "2019", "--json")).stdout)
    assert lines(sheet)["surplus-year"] == ("surplus", "9.00", "-10.00")  # the reversal, less 1
    assert lines(sheet)["surplus-prior-years"] == ("surplus", "-10.00", "0.00")


def test_default_year_is_the_one_containing_today(fisiq: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    import fisiq.cli.statements as cli_statements

    monkeypatch.setattr(cli_statements, "today", lambda: date(2018, 4, 1) + timedelta(days=0))
    doc = json.loads(ok(fisiq("report", "income", "--json")).stdout)
    assert doc["current"]["label"] == "2019"
