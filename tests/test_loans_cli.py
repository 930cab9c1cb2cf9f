"""`fisiq loan` and `fisiq portfolio` as a user types them: a worked example, JSON shapes,
and the catalogue of bad input (one line on stderr, exit 1, nothing written)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import typer
import typer.main

from _loans_support import add_party
from fisiq import db
from fisiq.cli.main import app

Run = Callable[..., Any]
BORROWER = "Coopérative Femmes de Thiès"


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def refused(result: Any, fragment: str) -> None:
    assert result.exit_code == 1, result.output
    assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), lines


def head(fisiq: Run) -> tuple[int, str]:
    doc = json.loads(ok(fisiq("audit", "verify", "--json")).stdout)
    return doc["entries"], doc["head"]


def _has_party_command() -> bool:
    root = typer.main.get_command(app)
    return "party" in root.list_commands(typer.Context(root))


def borrower(fisiq: Run, target: str, name: str, *flags: str) -> None:
    """A borrower through `fisiq party add` when it exists, else a row written directly."""
    if _has_party_command():
        ok(fisiq("party", "add", name, "--kind", "borrower", *flags))
        return
    opts = dict(zip(flags[::2], flags[1::2], strict=False))
    engine = db.open_ledger(target)
    try:
        add_party(engine, name, country=opts.get("--country"), region=opts.get("--region"),
                  sector=opts.get("--sector"), women_led="--women-led" in flags, youth_led="--youth-led" in flags)
    finally:
        engine.dispose()


def capital(fisiq: Run, target: str, amount: str = "75000.00") -> None:
    if _has_party_command():
        ok(fisiq("party", "add", "Fonds test", "--kind", "investor"))
    else:
        engine = db.open_ledger(target)
        add_party(engine, "Fonds test", "investor")
        engine.dispose()
    ok(fisiq("entry", "add", "--date", "2018-03-23", "-m", "capital", "-p", f"Assets:Cash {amount}",
             "-p", "Equity:Paid-In-Capital @ Fonds test"))


@pytest.fixture
def fund(fisiq: Run, target: str) -> Run:
    """A ledger with 75,000.00 $ of capital and one approved loan of 1,200.00 $ (loan 1)."""
    capital(fisiq, target)
    borrower(fisiq, target, BORROWER, "--country", "SN", "--region", "Africa", "--sector", "Agriculture",
             "--women-led")
    ok(fisiq("loan", "add", BORROWER, "1200.00", "--rate", "12", "--term", "3", "--first-due", "2018-05-01",
             "--date", "2018-03-31"))
    return fisiq


def tb(fisiq: Run) -> dict[str, str]:
    doc = json.loads(ok(fisiq("report", "trial-balance", "--json")).stdout)
    assert doc["total"] == "0.00"
    return {r["account"]: r["balance"] for r in doc["rows"]}


def test_worked_example_disburse_accrue_repay(fund: Run) -> None:
    """By hand: 1,200.00 $ at 12 % over 3 months, r = 1 %, A = 408.03 (docs/loans.md).

    disburse 04-01: Cash 75,000.00 - 1,200.00 = 73,800.00; Principal 1,200.00.
    accrue through 06-01: 05-01 1,200.00 x 1 % = 12.00; 06-01 803.97 x 1 % = 8.0397 -> 8.04; total 20.04.
    repay 500.00 on 06-02: interest 20.04 first, then principal 479.96 (396.03 of inst. 1, 83.93 of inst. 2).
    Cash 73,800.00 + 500.00 = 74,300.00; Principal 1,200.00 - 479.96 = 720.04; Receivable 0; Income 20.04.
    """
    out = ok(fund("loan", "disburse", "1", "--date", "2018-04-01")).stdout
    assert "Disbursed loan 1: 1200.00 CAD" in out
    assert tb(fund)["Assets:Cash"] == "73800.00"
    assert "posted 20.04" in ok(fund("loan", "accrue", "--through", "2018-06-01")).stdout
    assert "No interest left" in ok(fund("loan", "accrue", "--through", "2018-06-01")).stdout
    out = ok(fund("loan", "repay", "1", "500.00", "--date", "2018-06-02", "--ref", "BANK-1")).stdout
    assert "20.04 interest, 479.96 principal" in out
    assert "already recorded" in ok(fund("loan", "repay", "1", "500.00", "--date", "2018-06-02", "--ref", "BANK-1")).stdout
    balances = tb(fund)
    assert balances["Assets:Cash"] == "74300.00"
    assert balances["Assets:Loans:Principal"] == "720.04"
    assert balances["Assets:Loans:Interest-Receivable"] == "0.00"
    assert balances["Income:Interest:Loans"] == "-20.04"
    sched = json.loads(ok(fund("loan", "schedule", "1", "--as-of", "2018-06-10", "--json")).stdout)
    first, second, third = sched["installments"]
    assert {k: first[k] for k in ("due", "principal", "interest", "payment", "balance")} == {
        "due": "2018-05-01", "principal": "396.03", "interest": "12.00", "payment": "408.03", "balance": "803.97"}
    assert (second["principal_paid"], second["interest_paid"], second["late"]) == ("83.93", "8.04", True)
    assert (third["payment"], third["balance"], third["late"]) == ("408.02", "0.00", False)
    assert sched["days_past_due"] == 9  # installment 2, due 06-01, not fully paid on 06-10
    shown = json.loads(ok(fund("loan", "show", "1", "--as-of", "2018-06-10", "--json")).stdout)
    assert shown["position"]["outstanding_principal"] == shown["ledger"]["principal"] == "720.04"
    assert [e["kind"] for e in shown["events"]] == ["disbursed", "interest", "interest", "repaid"]
    assert ok(fund("audit", "verify", "--json"))


def test_schedule_table_in_french(fund: Run) -> None:
    out = ok(fund("loan", "schedule", "1", "--lang", "fr")).stdout
    assert "Échéancier du prêt 1" in out and "1 200,00 $" not in out and "408,03 $" in out


def test_list_show_and_status_filter(fund: Run) -> None:
    ok(fund("loan", "disburse", "1", "--date", "2018-04-01"))
    doc = json.loads(ok(fund("loan", "list", "--as-of", "2018-04-02", "--json")).stdout)
    assert [(loan["id"], loan["position"]["status"]) for loan in doc["loans"]] == [(1, "active")]
    assert json.loads(ok(fund("loan", "list", "--status", "closed", "--json")).stdout)["loans"] == []
    assert BORROWER in ok(fund("loan", "list")).stdout
    assert "History of loan 1" in ok(fund("loan", "show", "1")).stdout


def test_reschedule_write_off_recover_and_provision(fund: Run) -> None:
    ok(fund("loan", "disburse", "1", "--date", "2018-04-01"))
    args = ("loan", "reschedule", "1", "--date", "2018-06-15", "--term", "6", "--first-due", "2018-07-15", "--ref", "R-1")
    assert "restructured" in ok(fund(*args)).stdout
    assert "Reference R-1 is already this reschedule of loan 1; nothing recorded." in ok(fund(*args)).stdout
    refused(fund(*args[:-2], "--grace", "1", "--ref", "R-1"), "reference 'R-1' is already recorded with other content")
    assert "raised" in ok(fund("loan", "provision", "--as-of", "2018-09-30")).stdout
    assert "nothing posted" in ok(fund("loan", "provision", "--as-of", "2018-09-30")).stdout
    out = ok(fund("loan", "write-off", "1", "--date", "2018-10-01", "--reason", "cooperative dissolved")).stdout
    assert "Wrote off loan 1: 1200.00 CAD principal" in out
    ok(fund("loan", "recover", "1", "100.00", "--date", "2018-11-01"))
    balances = tb(fund)
    assert balances["Assets:Loans:Principal"] == "0.00"
    assert balances["Income:Recoveries"] == "-100.00"
    doc = json.loads(ok(fund("portfolio", "--as-of", "2018-12-31", "--json")).stdout)
    # Interest written off, due by 10-01 and unpaid: 12.00 + 8.04 (kept installments 1-2), then the new
    # schedule of 1,200.00 over 6 months at 1 % (A = 207.06): 12.00 (07-15), 1,004.94 x 1 % = 10.05 (08-15),
    # 807.93 x 1 % = 8.08 (09-15): 50.17 in all.
    assert doc["write_offs"] == {"loans": 1, "principal": "1200.00", "interest": "50.17", "recovered": "100.00"}


def test_limits_show_and_set(fund: Run) -> None:
    doc = json.loads(ok(fund("loan", "limits", "--json")).stdout)
    assert doc["max_borrower_share"] == "10"
    assert doc["provision_rates"][0] == [0, "0.01"]
    ok(fund("loan", "limits", "--max-borrower-share", "1"))
    refused(fund("loan", "disburse", "1", "--date", "2018-04-01"), "1.60% of the capital paid in (75000.00 CAD); the limit is 1% (")
    out = ok(fund("loan", "limits", "--max-borrower-share", "15", "--provision-rates", "0:2,1:5,31:25,91:50,181:100"))
    assert "capital paid in: 15%\n" in out.stdout and "0+: 2%, 1+: 5%, 31+: 25%" in out.stdout


def test_portfolio_tables_in_both_languages(fund: Run) -> None:
    ok(fund("loan", "disburse", "1", "--date", "2018-04-01"))
    en = ok(fund("portfolio", "--as-of", "2018-04-30", "--lang", "en")).stdout
    assert "Loan portfolio as of April 30, 2018 (CAD)" in en and "1,200.00 $" in en and "Women-led" in en
    # English writes 100.00%, French 100,00 %, in every report (the board's style).
    assert "100.00%" in en and " %" not in en
    shown = ok(fund("loan", "show", "1", "--lang", "en")).stdout
    assert "1,200.00 $ at 12%," in shown
    fr = ok(fund("portfolio", "--as-of", "2018-04-30", "--lang", "fr")).stdout
    assert "Portefeuille de prêts au 30 avril 2018 (CAD)" in fr and "1 200,00 $" in fr and "100,00 %" in fr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["loan", "add", BORROWER, "0", "--rate", "5", "--term", "3", "--first-due", "2018-05-01"], "must be positive"),
        (["loan", "add", BORROWER, "-100", "--rate", "5", "--term", "3", "--first-due", "2018-05-01"], "must be positive"),
        (["loan", "add", BORROWER, "100.001", "--rate", "5", "--term", "3", "--first-due", "2018-05-01"], "decimals"),
        (["loan", "add", BORROWER, "100", "--rate", "100.5", "--term", "3", "--first-due", "2018-05-01"], "between 0 and 100"),
        (["loan", "add", BORROWER, "100", "--rate", "-1", "--term", "3", "--first-due", "2018-05-01"], "between 0 and 100"),
        (["loan", "add", BORROWER, "100", "--rate", "abc", "--term", "3", "--first-due", "2018-05-01"], "percentage"),
        (["loan", "add", BORROWER, "100", "--rate", "5", "--term", "0", "--first-due", "2018-05-01"], "between 1 and 600"),
        (["loan", "add", BORROWER, "100", "--rate", "5", "--term", "3", "--first-due", "2018-02-30"], "does not exist"),
        (["loan", "add", BORROWER, "100", "--rate", "5", "--term", "3", "--first-due", "2018-05-01",
          "--method", "balloon"], "unknown method"),
        (["loan", "add", BORROWER, "100", "--rate", "5", "--term", "3", "--first-due", "2018-05-01",
          "--frequency", "weekly"], "unknown frequency"),
        (["loan", "add", BORROWER, "100", "--rate", "5", "--term", "3", "--first-due", "2018-05-01",
          "--grace", "3"], "grace"),
        (["loan", "add", "Nobody", "100", "--rate", "5", "--term", "3", "--first-due", "2018-05-01"], "unknown borrower"),
        (["loan", "add", "Fonds test", "100", "--rate", "5", "--term", "3", "--first-due", "2018-05-01"], "not a borrower"),
        (["loan", "disburse", "9", "--date", "2018-04-01"], "there is no loan 9"),
        (["loan", "disburse", "1", "--date", "2018-03-01"], "before loan 1 was approved"),
        (["loan", "disburse", "1", "--date", "2018-05-01"], "before the first due date"),
        (["loan", "repay", "1", "10", "--date", "2018-04-01"], "not been disbursed"),
        (["loan", "repay", "9", "10", "--date", "2018-04-01"], "there is no loan 9"),
        (["loan", "schedule", "9"], "there is no loan 9"),
        (["loan", "show", "9"], "there is no loan 9"),
        (["loan", "write-off", "1", "--date", "2018-04-01", "--reason", "x"], "approved"),
        (["loan", "recover", "1", "10", "--date", "2018-04-01"], "not written off"),
        (["loan", "limits", "--max-borrower-share", "0"], "more than 0"),
        (["loan", "limits", "--provision-rates", "1:5"], "start with the bucket of 0"),
        (["loan", "list", "--status", "lost"], "--status"),
        (["portfolio", "--lang", "de"], "--lang"),
        (["portfolio", "--currency", "XXX"], "unknown currency"),
    ],
)
def test_bad_input_is_refused_and_nothing_written(fund: Run, args: list[str], fragment: str) -> None:
    before = head(fund)
    refused(fund(*args), fragment)
    assert head(fund) == before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["loan", "repay", "1", "0", "--date", "2018-05-01"], "must be positive"),
        (["loan", "repay", "1", "-5", "--date", "2018-05-01"], "must be positive"),
        (["loan", "repay", "1", "1212.01", "--date", "2018-05-01"], "more than is owed"),
        (["loan", "repay", "1", "10", "--date", "2018-03-31"], "before the disbursement"),
        (["loan", "repay", "1", "10.005", "--date", "2018-05-01"], "decimals"),
        (["loan", "disburse", "1", "--date", "2018-04-02"], "already disbursed"),
        (["loan", "reschedule", "1", "--date", "2018-03-31", "--term", "3", "--first-due", "2018-05-01"],
         "before the disbursement"),
        (["loan", "reschedule", "1", "--date", "2018-04-15", "--term", "3", "--first-due", "2018-04-10"],
         "must come after"),
        (["loan", "write-off", "1", "--date", "2018-03-31", "--reason", "x"], "before the disbursement"),
        (["loan", "recover", "1", "10", "--date", "2018-05-01"], "not written off"),
    ],
)
def test_bad_moves_on_a_disbursed_loan(fund: Run, args: list[str], fragment: str) -> None:
    ok(fund("loan", "disburse", "1", "--date", "2018-04-01"))
    before = head(fund)
    refused(fund(*args), fragment)
    assert head(fund) == before


def test_disbursement_refused_when_cash_is_short(fisiq: Run, target: str) -> None:
    capital(fisiq, target, "1000.00")
    borrower(fisiq, target, "Jeunes de Jacmel", "--country", "HT", "--region", "Haiti", "--youth-led")
    ok(fisiq("loan", "limits", "--max-borrower-share", "100"))
    ok(fisiq("loan", "add", "Jeunes de Jacmel", "1200", "--rate", "5", "--term", "3", "--first-due", "2018-05-01",
             "--date", "2018-03-31"))
    before = head(fisiq)
    refused(fisiq("loan", "disburse", "1", "--date", "2018-04-01"), "cash would go negative")
    assert head(fisiq) == before


def test_lending_settings_are_config_settings(fisiq: Run) -> None:
    """`loan limits` and `config` read and write the same settings (one mechanism, one history)."""
    ok(fisiq("config", "set", "loan.max_borrower_share", "12.5"))
    ok(fisiq("config", "set", "loan.provision_rates", "0:2,1:10,31:30,91:60,181:100"))
    limits = json.loads(ok(fisiq("loan", "limits", "--json")).stdout)
    assert limits["max_borrower_share"] == "12.5"
    assert limits["provision_rates"][0] == [0, "0.02"]
    ok(fisiq("loan", "limits", "--max-borrower-share", "15"))
    shown = json.loads(ok(fisiq("config", "show", "--json")).stdout)["settings"]
    assert shown["loan.max_borrower_share"] == {"value": "15", "default": False}
    before = head(fisiq)
    refused(fisiq("config", "set", "loan.max_borrower_share", "150"), "at most 100")
    refused(fisiq("config", "set", "loan.provision_rates", "soon"), "DAYS:PERCENT")
    refused(fisiq("config", "set", "loan.provision_rates", "[[0, "), "not a list of [days, rate] pairs")
    # '1e1' was stored as '1E+1'; a later bucket at a lower rate released allowance as loans fell behind.
    for value in ("1e1", "NaN", "ten"):
        refused(fisiq("config", "set", "loan.max_borrower_share", value), "is not a percentage like 10 or 12.5")
    refused(fisiq("config", "set", "loan.provision_rates", "0:1,1:1e1"), "DAYS:PERCENT")
    refused(fisiq("config", "set", "loan.provision_rates", "0:1,1:0.5"),
            "provision rate for 1 days past due (0.005) is below the rate for 0 days (0.01)")
    refused(fisiq("config", "set", "loan.provision_rates", '[[0, "0.01"], [1, "0.005"]]'), "is below the rate")
    refused(fisiq("config", "set", "loan.provision_rates", '[[0, "2"]]'), "from 0 to 1")
    assert head(fisiq) == before
    # The stored form is accepted as it is shown, and means the same rates.
    stored = shown["loan.provision_rates"]["value"]
    ok(fisiq("config", "set", "loan.provision_rates", stored))
    assert json.loads(ok(fisiq("loan", "limits", "--json")).stdout)["provision_rates"][0] == [0, "0.02"]


def test_accrual_after_a_period_close_says_where_the_late_interest_went(fund: Run) -> None:
    """The books were closed without running the accrual first: interest that fell due inside
    the closed period is posted on the first day after it, and the command says so."""
    ok(fund("loan", "disburse", "1", "--date", "2018-04-01"))
    ok(fund("period", "close", "2018-05-15"))
    out = ok(fund("loan", "accrue", "--through", "2018-06-01")).stdout
    assert out.strip() == ("Loan 1: posted 20.04 of interest fallen due through 2018-06-01. "
                           "Interest that fell due inside the closed period is dated 2018-05-16, after the close.")
    shown = json.loads(ok(fund("loan", "show", "1", "--json")).stdout)
    interest = [(e["date"], e["amount"]) for e in shown["events"] if e["kind"] == "interest"]
    assert interest == [("2018-05-16", "12.00"), ("2018-06-01", "8.04")]
    refused(fund("loan", "reschedule", "1", "--date", "2018-05-01", "--term", "6", "--first-due", "2018-07-01"),
            "2018-05-01 is inside a closed period (closed through 2018-05-15); date the reschedule after 2018-05-15")
    assert ok(fund("audit", "verify")).exit_code == 0


def test_a_loan_paid_out_late_is_cancelled_and_approved_again(fund: Run) -> None:
    """A disbursement reversed after the first due date (here forced by a period close) left
    the loan approved for good: `disburse` asked to change the terms, `reschedule` refused an
    undisbursed loan, and the board counted it as approved. Now the approval is cancelled and
    the loan approved again with new dates."""
    ok(fund("loan", "disburse", "1", "--date", "2018-04-01"))
    ok(fund("period", "close", "2018-05-31"))
    ok(fund("entry", "reverse", "2", "--date", "2018-06-02"))
    refused(fund("loan", "disburse", "1", "--date", "2018-06-03"),
            "to pay it out later, cancel the loan and approve it again with new dates")
    refused(fund("loan", "reschedule", "1", "--date", "2018-06-03", "--term", "3", "--first-due", "2018-07-01"),
            "cancel it (`fisiq loan cancel`) and approve it again")
    board = json.loads(ok(fund("report", "board", "--json", "--as-of", "2018-06-03")).stdout)
    assert board["approved_loans"] == 1
    before = head(fund)
    refused(fund("loan", "cancel", "1", "--date", "2018-05-20", "--reason", "late"),
            "2018-05-20 is inside a closed period (closed through 2018-05-31)")
    refused(fund("loan", "cancel", "1", "--date", "2018-06-01", "--reason", "late"),
            "dated before 2018-06-02, when an entry of loan 1 was reversed")
    out = ok(fund("loan", "cancel", "1", "--date", "2018-06-03", "--reason", "disbursement delayed")).stdout
    assert out.strip() == f"Cancelled loan 1 ({BORROWER}, 1200.00 CAD); no entry."
    assert head(fund) == before  # no entry
    shown = json.loads(ok(fund("loan", "show", "1", "--json")).stdout)
    assert shown["position"]["status"] == "cancelled"
    assert shown["events"][-1]["kind"] == "cancelled" and shown["events"][-1]["details"] == {"reason": "disbursement delayed"}
    assert [r["id"] for r in json.loads(ok(fund("loan", "list", "--status", "cancelled", "--json")).stdout)["loans"]] == [1]
    board = json.loads(ok(fund("report", "board", "--json", "--as-of", "2018-06-03")).stdout)
    assert board["approved_loans"] == 0
    for args, fragment in [
        (("loan", "disburse", "1", "--date", "2018-06-04"), "the loan was cancelled on 2018-06-03"),
        (("loan", "cancel", "1", "--date", "2018-06-04", "--reason", "again"), "already cancelled"),
        (("entry", "reverse", "4", "--date", "2018-06-04"), "reverses entry 2"),
    ]:
        refused(fund(*args), fragment)
    ok(fund("loan", "add", BORROWER, "1200.00", "--rate", "12", "--term", "3", "--first-due", "2018-07-01",
            "--date", "2018-06-03"))
    ok(fund("loan", "disburse", "2", "--date", "2018-06-04"))
    assert ok(fund("audit", "verify")).exit_code == 0
    refused(fund("loan", "cancel", "2", "--date", "2018-06-05", "--reason", "x"),
            "it was disbursed on 2018-06-04 (reverse the disbursement first, or write the loan off)")


def test_repay_says_when_it_posted_interest_after_a_close(fund: Run) -> None:
    """A repayment posts the interest fallen due before it; what fell due inside a closed
    period goes after the close, and the repayment's message says so, as accrue's does."""
    ok(fund("loan", "disburse", "1", "--date", "2018-04-01"))
    ok(fund("period", "close", "2018-05-15"))
    out = ok(fund("loan", "repay", "1", "100.00", "--date", "2018-05-20")).stdout
    assert out.strip().endswith("Interest that fell due inside the closed period is dated 2018-05-16, after the close.")
    again = ok(fund("loan", "repay", "1", "100.00", "--date", "2018-05-21")).stdout
    assert "closed period" not in again  # nothing more was posted late
    out = ok(fund("loan", "write-off", "1", "--date", "2018-06-02", "--reason", "dissolved")).stdout
    assert "closed period" not in out  # the interest of 06-01 fell due after the close


def test_same_day_events_reversed_the_same_day_still_verify(fund: Run) -> None:
    """Found by the loan state machine: a recovery recorded after a write-off, both reversed
    later that same day. Replayed by the reversal dates, the write-off no longer counted for
    the recovery; replayed by what was recorded before it, it did, as when it was recorded."""
    ok(fund("loan", "disburse", "1", "--date", "2018-04-01"))
    ok(fund("loan", "write-off", "1", "--date", "2018-04-01", "--reason", "fire"))
    ok(fund("loan", "recover", "1", "100.00", "--date", "2018-04-01"))
    ok(fund("entry", "reverse", "4", "--date", "2018-04-01"))
    ok(fund("entry", "reverse", "3", "--date", "2018-04-01"))
    assert "every loan and commitment agrees" in ok(fund("audit", "verify")).stdout


def test_the_tables_speak_french_with_lang_fr(fund: Run) -> None:
    """A French board member asking --lang fr reads French headers and values, not only amounts."""
    ok(fund("loan", "disburse", "1", "--date", "2018-04-01"))
    ok(fund("party", "add", "Fondation Exemple", "--kind", "foundation"))
    ok(fund("commitment", "add", "Fondation Exemple", "1000", "--stage", "in-principle", "--date", "2018-04-02"))
    expected = {
        ("report", "trial-balance"): ["Balance de vérification", "Compte", "Débit", "Crédit", "actif",
                                      "Débits égaux aux crédits : équilibrée"],
        ("report", "journal"): ["Libellé / compte", "Tiers", "Débit"],
        ("report", "account", "Assets:Cash"): ["Compte Assets:Cash", "Libellé", "Montant", "Solde"],
        ("loan", "list", "--as-of", "2018-04-15"): ["Prêts au 15 avril 2018", "Emprunteur", "État", "actif",
                                                    "3 mensualités", "Restant dû", "1 200,00 $"],
        ("commitment", "list"): ["Engagements", "Investisseur", "Catégorie", "Étape", "Promis", "de principe",
                                 "capital", "1 000,00 $"],
        ("commitment", "show", "1"): ["Investisseur", "Catégorie", "Étape", "de principe", "Promis", "1 000,00 $",
                                      "Historique de l'engagement 1", "Événement", "Montant", "Imputations / motif"],
        ("loan", "show", "1", "--as-of", "2018-04-15"): [
            "Prêt", "Emprunteur", "actif", "Conditions",
            "1 200,00 $ à 12 %, 3 mensualités (annuités constantes) à partir du 1er mai 2018",
            "Capital restant dû", "Historique du prêt 1 au 15 avril 2018", "Événement", "décaissement", "Écriture"],
    }
    english_headers = ["Account", "Debit", "Credit", "Memo", "Party", "Amount", "Borrower", "Status", "Stage",
                       "Pledged", "Outstanding"]
    english_values = {("report", "trial-balance"): ["asset", "balanced"],
                      ("loan", "show", "1", "--as-of", "2018-04-15"): ["Borrower", "Terms", "monthly", "annuity",
                                                                      "disbursed", "History", "Event"],
                      ("loan", "list", "--as-of", "2018-04-15"): ["active", "monthly"],
                      ("commitment", "list"): ["in-principle", "equity", "foundation"],
                      ("commitment", "show", "1"): ["Party", "Stage", "in-principle", "History", "Event"]}
    for command, words in expected.items():
        out = ok(fund(*command, "--lang", "fr")).stdout
        for word in words:
            assert word in out, (command, word, out)
        headers = "\n".join(line for line in out.splitlines() if "┃" in line)
        assert not [w for w in english_headers if w in headers], (command, headers)
        assert not [w for w in english_values.get(command, []) if w in out], (command, out)


def test_a_reversed_event_and_its_details_in_french(fund: Run) -> None:
    ok(fund("loan", "disburse", "1", "--date", "2018-04-01"))
    shown = json.loads(ok(fund("loan", "show", "1", "--json")).stdout)
    ok(fund("entry", "reverse", str(shown["events"][0]["entry"]), "--date", "2018-04-02"))
    history = ok(fund("loan", "show", "1", "--lang", "fr")).stdout
    assert "contrepassé par l'écriture" in history and "reversed" not in history
    ok(fund("loan", "disburse", "1", "--date", "2018-04-03"))
    ok(fund("loan", "repay", "1", "100", "--date", "2018-05-03"))
    repaid = ok(fund("loan", "show", "1", "--lang", "fr", "--as-of", "2018-05-03")).stdout
    # French puts a space before « ; », as the board's alerts do.
    assert "intérêts : 12,00 $ ; capital : 88,00 $" in repaid and "échéance : 1" in repaid, repaid
    english = ok(fund("loan", "show", "1", "--lang", "en")).stdout
    assert "reversed by entry" in english


def test_a_cancelled_loan_reads_annule_in_french(fund: Run) -> None:
    ok(fund("loan", "cancel", "1", "--date", "2018-04-03", "--reason", "withdrawn"))
    listed = ok(fund("loan", "list", "--lang", "fr")).stdout
    assert "annulé" in listed and "cancelled" not in listed


def test_an_empty_loan_list_says_so(fisiq: Run) -> None:
    assert "No loans." in ok(fisiq("loan", "list", "--lang", "en")).stdout
    assert "Aucun prêt." in ok(fisiq("loan", "list", "--lang", "fr")).stdout


def test_the_schedule_of_a_cancelled_loan_says_so(fund: Run) -> None:
    """`loan schedule` of a cancelled loan printed its installments as a live loan's."""
    live = ok(fund("loan", "schedule", "1", env={"COLUMNS": "120"})).stdout
    assert "Cancelled" not in live
    ok(fund("loan", "cancel", "1", "--date", "2018-04-15", "--reason", "project withdrawn"))
    shown = ok(fund("loan", "schedule", "1", env={"COLUMNS": "120"})).stdout
    assert "Cancelled: the loan was never paid out, and none of these installments will fall due." in shown, shown
    fr = ok(fund("loan", "schedule", "1", "--lang", "fr", env={"COLUMNS": "120"})).stdout
    assert "Annulé : le prêt n'a jamais été décaissé" in fr, fr
