"""Loans in storage: every lifecycle operation, its entries, its refusals (nothing written).

Runs on SQLite and, with FISIQ_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, select

from _loans_support import (
    D,
    add_capital,
    add_party,
    assert_loan_matches_ledger,
    balance,
    chain_head,
    trial_total,
)
from fisiq import db, ledger, loans_db
from fisiq.errors import FisiqError
from fisiq.schedule import LoanError, LoanTerms

WORKED = LoanTerms(D("1200.00"), "CAD", D("12"), 3, date(2018, 5, 1))  # schedule: docs/loans.md


def _loan(engine: Engine, terms: LoanTerms = WORKED, name: str = "Coopérative Femmes de Thiès", **kw: object) -> int:
    add_party(engine, name, region="Africa", country="SN")
    loan, created = loans_db.add_loan(engine, name, terms, approved_on=date(2018, 3, 31), **kw)  # type: ignore[arg-type]
    assert created
    return loan.id


def test_worked_example_disburse_accrue_repay(engine: Engine) -> None:
    add_capital(engine, D("75000.00"))
    loan_id = _loan(engine)
    loans_db.disburse(engine, loan_id, date(2018, 4, 1))
    # Interest falls due on 05-01 (1200.00 x 1 % = 12.00) and 06-01 (803.97 x 1 % = 8.0397 -> 8.04).
    assert loans_db.accrue(engine, date(2018, 6, 1)) == [(loan_id, D("20.04"), None)]
    assert loans_db.accrue(engine, date(2018, 6, 1)) == []  # once
    out = loans_db.repay(engine, loan_id, D("500.00"), date(2018, 6, 2))
    # 500.00 pays the 20.04 interest first, then 479.96 principal: 396.03 (inst. 1) + 83.93 (inst. 2).
    assert out.figures == {"interest": D("20.04"), "principal": D("479.96")}
    assert balance(engine, "Assets:Cash") == D("74300.00")  # 75000 - 1200 + 500
    assert balance(engine, "Assets:Loans:Principal") == D("720.04")  # 1200 - 479.96
    assert balance(engine, "Assets:Loans:Interest-Receivable") == D("0.00")
    assert balance(engine, "Income:Interest:Loans") == D("-20.04")
    assert trial_total(engine) == 0
    assert_loan_matches_ledger(engine, loan_id, date(2018, 6, 2))


def test_add_loan_refusals_write_nothing(engine: Engine) -> None:
    add_party(engine, "MRIF", "government")
    before = chain_head(engine)
    with pytest.raises(LoanError, match="unknown borrower"):
        loans_db.add_loan(engine, "Nobody", WORKED, approved_on=date(2018, 3, 1))
    with pytest.raises(LoanError, match="not a borrower"):
        loans_db.add_loan(engine, "MRIF", WORKED, approved_on=date(2018, 3, 1))
    add_party(engine, "Jeunes de Jacmel", region="Haiti")
    with pytest.raises(LoanError, match="between 0 and 100"):
        loans_db.add_loan(engine, "Jeunes de Jacmel", LoanTerms(D("100"), "CAD", D("101"), 3, date(2018, 5, 1)),
                          approved_on=date(2018, 3, 1))
    with pytest.raises(LoanError, match="between 1 and"):
        loans_db.add_loan(engine, "Jeunes de Jacmel", LoanTerms(D("100"), "CAD", D("5"), 0, date(2018, 5, 1)),
                          approved_on=date(2018, 3, 1))
    with pytest.raises(LoanError, match="approval date"):
        loans_db.add_loan(engine, "Jeunes de Jacmel", WORKED, approved_on=date(2018, 5, 1))
    assert loans_db.read_loans(engine) == []
    assert chain_head(engine) == before


def test_loan_reference_is_an_idempotency_key(engine: Engine) -> None:
    add_party(engine, "Jeunes de Jacmel", region="Haiti")
    first, created = loans_db.add_loan(engine, "Jeunes de Jacmel", WORKED, approved_on=date(2018, 3, 1), ref="L-1")
    again, created_again = loans_db.add_loan(engine, "Jeunes de Jacmel", WORKED, approved_on=date(2018, 3, 1), ref="L-1")
    assert created and not created_again and again.id == first.id
    other = LoanTerms(D("1300.00"), "CAD", D("12"), 3, date(2018, 5, 1))
    with pytest.raises(LoanError, match="other terms"):
        loans_db.add_loan(engine, "Jeunes de Jacmel", other, approved_on=date(2018, 3, 1), ref="L-1")


def test_disbursement_refused_without_cash_or_over_the_limit(engine: Engine) -> None:
    add_capital(engine, D("1000.00"))
    loan_id = _loan(engine)
    before = chain_head(engine)
    with pytest.raises(LoanError, match="cash would go negative"):
        loans_db.disburse(engine, loan_id, date(2018, 4, 1))
    add_capital(engine, D("10000.00"), date(2018, 3, 30))  # capital 11,000: the limit is 10 % = 1,100
    before = chain_head(engine)
    with pytest.raises(LoanError, match=r"the limit is 10% "):
        loans_db.disburse(engine, loan_id, date(2018, 4, 1))
    assert chain_head(engine) == before
    settings = loans_db.set_limits(engine, max_share=D("15"))
    assert settings.max_borrower_share == D("15")
    out = loans_db.disburse(engine, loan_id, date(2018, 4, 1))
    assert out.loan.disbursed_on() == date(2018, 4, 1)
    with pytest.raises(LoanError, match="already disbursed"):
        loans_db.disburse(engine, loan_id, date(2018, 4, 2))


def test_cash_check_counts_later_payments(engine: Engine) -> None:
    """Cash on the date suffices, but a later outflow already recorded would go negative."""
    from fisiq import ledger
    from fisiq.entries import EntryDraft, Posting

    add_capital(engine, D("20000.00"))
    ledger.record_entry(engine, EntryDraft(date(2018, 6, 1), "fees", (
        Posting("Expenses:Operations", D("19000.00")), Posting("Assets:Cash", D("-19000.00")))))
    loans_db.set_limits(engine, max_share=D("100"))
    loan_id = _loan(engine)
    with pytest.raises(LoanError, match="cash would go negative"):
        loans_db.disburse(engine, loan_id, date(2018, 4, 1))


def test_repayment_posts_due_interest_first_and_refuses_overpayment(engine: Engine) -> None:
    add_capital(engine, D("75000.00"))
    loan_id = _loan(engine)
    loans_db.disburse(engine, loan_id, date(2018, 4, 1))
    before = chain_head(engine)
    with pytest.raises(LoanError, match="more than is owed"):
        loans_db.repay(engine, loan_id, D("1212.01"), date(2018, 5, 1))  # owed: 1200 + 12.00
    with pytest.raises(LoanError, match="before the disbursement"):
        loans_db.repay(engine, loan_id, D("10"), date(2018, 3, 31))
    with pytest.raises(FisiqError):
        loans_db.repay(engine, loan_id, D("0"), date(2018, 5, 1))
    with pytest.raises(FisiqError):
        loans_db.repay(engine, 99, D("10"), date(2018, 5, 1))
    assert chain_head(engine) == before
    # Without any accrual run, the repayment posts the 12.00 due on 05-01 itself.
    out = loans_db.repay(engine, loan_id, D("1212.00"), date(2018, 5, 1), ref="BANK-1")
    assert out.figures == {"interest": D("12.00"), "principal": D("1200.00")}
    assert out.loan.position(date(2018, 5, 1)).status == "closed"
    assert loans_db.accrue(engine, date(2018, 12, 31)) == []  # closed: nothing more falls due
    again = loans_db.repay(engine, loan_id, D("1212.00"), date(2018, 5, 1), ref="BANK-1")
    assert not again.created
    assert balance(engine, "Assets:Loans:Principal") == 0
    assert balance(engine, "Assets:Loans:Interest-Receivable") == 0
    assert_loan_matches_ledger(engine, loan_id, date(2018, 12, 31))


def test_prepayment_reduces_the_nearest_installments(engine: Engine) -> None:
    add_capital(engine, D("75000.00"))
    loan_id = _loan(engine)
    loans_db.disburse(engine, loan_id, date(2018, 4, 1))
    out = loans_db.repay(engine, loan_id, D("800.00"), date(2018, 4, 15))
    assert out.figures == {"interest": D("0.00"), "principal": D("800.00")}
    p = out.loan.position(date(2018, 4, 15))
    assert [i.principal_paid for i in p.installments] == [D("396.03"), D("399.99"), D("3.98")]
    # The contract is not recalculated: the scheduled interest still falls due.
    assert loans_db.accrue(engine, date(2018, 7, 1)) == [(loan_id, D("24.08"), None)]
    assert_loan_matches_ledger(engine, loan_id, date(2018, 7, 1))


def test_reschedule_keeps_history_and_marks_restructured(engine: Engine) -> None:
    add_capital(engine, D("75000.00"))
    loan_id = _loan(engine)
    loans_db.disburse(engine, loan_id, date(2018, 4, 1))
    loans_db.accrue(engine, date(2018, 6, 1))
    with pytest.raises(LoanError, match="already posted"):
        loans_db.reschedule(engine, loan_id, date(2018, 5, 15), term=6, first_due=date(2018, 7, 1))
    out = loans_db.reschedule(engine, loan_id, date(2018, 6, 15), term=6, first_due=date(2018, 7, 15))
    assert out.figures["principal"] == D("1200.00")  # nothing was repaid
    p = out.loan.position(date(2018, 6, 15))
    assert p.status == "restructured"
    assert [i.number for i in p.installments][:3] == [1, 2, 3]  # two kept + the new ones from 3
    assert p.interest_due_unpaid == D("20.04")  # the reschedule does not capitalize interest
    kinds = [e.kind for e in out.loan.events]
    assert kinds == ["disbursed", "interest", "interest", "rescheduled"]
    loans_db.repay(engine, loan_id, D("100.00"), date(2018, 7, 15))
    assert_loan_matches_ledger(engine, loan_id, date(2018, 7, 15))
    assert trial_total(engine) == 0


def test_a_reschedule_reference_is_an_idempotency_key(engine: Engine) -> None:
    add_capital(engine, D("75000.00"))
    loan_id = _loan(engine)
    loans_db.disburse(engine, loan_id, date(2018, 4, 1))
    asked = {"term": 6, "first_due": date(2018, 7, 15), "annual_rate": D("9"), "ref": "BOARD-2018-06"}
    first = loans_db.reschedule(engine, loan_id, date(2018, 6, 15), **asked)
    assert first.created
    # Run again (a retry after a lost answer): nothing new, whether or not the rate is repeated.
    again = loans_db.reschedule(engine, loan_id, date(2018, 6, 15), **asked)
    without_rate = loans_db.reschedule(engine, loan_id, date(2018, 6, 15), term=6, first_due=date(2018, 7, 15),
                                       ref="BOARD-2018-06")
    assert not again.created and not without_rate.created
    assert again.figures["principal"] == first.figures["principal"]
    for other in ({"term": 7}, {"annual_rate": D("8")}, {"grace": 1}):
        with pytest.raises(LoanError, match="already recorded with other content"):
            loans_db.reschedule(engine, loan_id, date(2018, 6, 15), **{**asked, **other})
    with pytest.raises(LoanError, match="already recorded with other content"):
        loans_db.reschedule(engine, loan_id, date(2018, 6, 16), **asked)
    with pytest.raises(LoanError, match="already recorded with other content"):
        loans_db.repay(engine, loan_id, D("100.00"), date(2018, 7, 15), ref="BOARD-2018-06")
    events = loans_db.read_loan(engine, loan_id).events
    assert [e.kind for e in events] == ["disbursed", "interest", "interest", "rescheduled"]
    assert events[-1].ref == "BOARD-2018-06"


def test_write_off_uses_the_allowance_then_the_expense_and_recovery(engine: Engine) -> None:
    add_capital(engine, D("75000.00"))
    loan_id = _loan(engine)
    loans_db.disburse(engine, loan_id, date(2018, 4, 1))
    # 2018-09-30: installment 1 unpaid since 05-01: 152 days past due -> 50 % of 1200.00.
    (prov,) = loans_db.provision(engine, date(2018, 9, 30))
    assert (prov.required, prov.change) == (D("600.00"), D("600.00"))
    assert loans_db.provision(engine, date(2018, 9, 30))[0].entry_id is None  # only the change is posted
    with pytest.raises(LoanError, match="before the last provision"):
        loans_db.provision(engine, date(2018, 9, 1))
    out = loans_db.write_off(engine, loan_id, date(2018, 10, 1), "cooperative dissolved")
    # Interest due and unpaid: 12.00 + 8.04 + 4.04 = 24.08, posted, then reversed from income.
    assert out.figures == {"principal": D("1200.00"), "interest": D("24.08"), "from_allowance": D("600.00")}
    assert balance(engine, "Assets:Loans:Allowance") == 0
    assert balance(engine, "Expenses:Loan-Loss-Provision") == D("1200.00")  # 600 provision + 600 rest
    assert balance(engine, "Assets:Loans:Principal") == 0
    assert balance(engine, "Assets:Loans:Interest-Receivable") == 0
    assert balance(engine, "Income:Interest:Loans") == 0
    with pytest.raises(LoanError, match="recovery"):
        loans_db.repay(engine, loan_id, D("10.00"), date(2018, 11, 1))
    loans_db.recover(engine, loan_id, D("500.00"), date(2018, 11, 1))
    with pytest.raises(LoanError, match="more than the"):
        loans_db.recover(engine, loan_id, D("724.09"), date(2018, 11, 2))  # ceiling 1224.08
    assert balance(engine, "Income:Recoveries") == D("-500.00")
    assert balance(engine, "Assets:Cash") == D("74300.00")
    # Nothing outstanding: the next provision has nothing to require and the allowance is 0.
    assert loans_db.provision(engine, date(2018, 12, 31))[0].change == 0
    assert_loan_matches_ledger(engine, loan_id, date(2018, 12, 31))
    assert trial_total(engine) == 0


def test_provision_releases_when_arrears_are_paid(engine: Engine) -> None:
    add_capital(engine, D("75000.00"))
    loan_id = _loan(engine)
    loans_db.disburse(engine, loan_id, date(2018, 4, 1))
    (p1,) = loans_db.provision(engine, date(2018, 5, 31))  # 30 days late: 5 % of 1200 = 60.00
    assert p1.required == D("60.00")
    loans_db.repay(engine, loan_id, D("408.03"), date(2018, 5, 31))  # installment 1 paid
    (p2,) = loans_db.provision(engine, date(2018, 5, 31))  # current: 1 % of 803.97 = 8.0397 -> 8.04
    assert (p2.required, p2.change) == (D("8.04"), D("-51.96"))
    assert balance(engine, "Assets:Loans:Allowance") == D("-8.04")


def test_provision_rates_are_settings(engine: Engine) -> None:
    rates = loans_db.parse_rates("0:0,1:10,31:100")
    assert loans_db.set_limits(engine, rates=rates).provision_rates == ((0, D("0")), (1, D("0.1")), (31, D("1")))
    with pytest.raises(LoanError):
        loans_db.parse_rates("5:1,1:5")
    with pytest.raises(LoanError):
        loans_db.parse_rates("0:150")
    with pytest.raises(LoanError):
        loans_db.parse_share("0")
    with db.read_transaction(engine) as conn:
        assert loans_db.max_borrower_share(conn) == D("10")


def _interest_entries(engine: Engine) -> list[tuple[date, str, str]]:
    with db.read_transaction(engine) as conn:
        rows = conn.execute(
            select(ledger.ENTRY.c.date, ledger.ENTRY.c.ref, ledger.ENTRY.c.memo)
            .where(ledger.ENTRY.c.kind == "loan-interest").order_by(ledger.ENTRY.c.id))
        return [(ledger.as_date(r.date), r.ref, r.memo) for r in rows]


def test_interest_due_inside_a_closed_period_is_posted_after_the_close(engine: Engine) -> None:
    """Books closed before the interest was posted: the accrual does not get stuck on the close
    (it used to refuse the whole fund's accrual, and every repayment of the loan, for ever);
    it posts that interest on the first day after the close, and the closed period is unchanged."""
    add_capital(engine, D("75000.00"))
    loan_id = _loan(engine)
    loans_db.disburse(engine, loan_id, date(2018, 4, 1))
    ledger.close_period(engine, date(2018, 6, 15))  # 05-01 and 06-01 fell due, nothing posted
    with db.read_transaction(engine) as conn:
        closed_books = ledger.balances(conn, as_of=date(2018, 6, 15))
    assert loans_db.accrue(engine, date(2018, 7, 1)) == [(loan_id, D("24.08"), date(2018, 6, 16))]
    assert _interest_entries(engine) == [
        (date(2018, 6, 16), f"loan-{loan_id}-interest-1", f"Loan {loan_id}: interest of installment 1, due 2018-05-01"),
        (date(2018, 6, 16), f"loan-{loan_id}-interest-2", f"Loan {loan_id}: interest of installment 2, due 2018-06-01"),
        (date(2018, 7, 1), f"loan-{loan_id}-interest-3", f"Loan {loan_id}: interest of installment 3 falls due"),
    ]
    with db.read_transaction(engine) as conn:
        assert ledger.balances(conn, as_of=date(2018, 6, 15)) == closed_books
    details = [e.details for e in loans_db.read_loan(engine, loan_id).events if e.kind == "interest"]
    assert details == [{"installment": 1, "due": "2018-05-01"}, {"installment": 2, "due": "2018-06-01"},
                       {"installment": 3}]
    assert balance(engine, "Assets:Loans:Interest-Receivable", as_of=date(2018, 6, 16)) == D("20.04")
    assert loans_db.accrue(engine, date(2018, 7, 1)) == []  # once
    out = loans_db.repay(engine, loan_id, D("1224.08"), date(2018, 7, 2))
    assert out.figures == {"interest": D("24.08"), "principal": D("1200.00")}
    assert_loan_matches_ledger(engine, loan_id, date(2018, 7, 2))
    assert trial_total(engine) == 0
    with db.read_transaction(engine) as conn:
        assert loans_db.disagreement(conn) is None


def test_a_repayment_after_a_close_posts_the_interest_left_inside_it(engine: Engine) -> None:
    add_capital(engine, D("75000.00"))
    loan_id = _loan(engine)
    loans_db.disburse(engine, loan_id, date(2018, 4, 1))
    ledger.close_period(engine, date(2018, 5, 31))
    out = loans_db.repay(engine, loan_id, D("500.00"), date(2018, 6, 2))
    assert out.figures == {"interest": D("20.04"), "principal": D("479.96")}
    assert [(on, ref) for on, ref, _ in _interest_entries(engine)] == [
        (date(2018, 6, 1), f"loan-{loan_id}-interest-1"), (date(2018, 6, 1), f"loan-{loan_id}-interest-2")]
    assert_loan_matches_ledger(engine, loan_id, date(2018, 6, 2))


def test_a_reschedule_inside_a_closed_period_is_refused(engine: Engine) -> None:
    add_capital(engine, D("75000.00"))
    loan_id = _loan(engine)
    loans_db.disburse(engine, loan_id, date(2018, 4, 1))
    ledger.close_period(engine, date(2018, 4, 30))
    before = chain_head(engine)
    with pytest.raises(LoanError, match=r"2018-04-20 is inside a closed period \(closed through 2018-04-30\)"):
        loans_db.reschedule(engine, loan_id, date(2018, 4, 20), term=6, first_due=date(2018, 6, 1))
    assert chain_head(engine) == before
    assert [e.kind for e in loans_db.read_loan(engine, loan_id).events] == ["disbursed"]


def test_a_grace_loan_prepaid_then_rescheduled_posts_each_interest_once_and_verifies(engine: Engine) -> None:
    """Found by a review: the prepayment lands on installment 3 (1 and 2 are grace), and the
    reschedule numbered its new installments 2, 3, 4; accrue then posted installment 3 twice
    over and `audit verify` (and so restore) failed on a ledger made only by commands."""
    add_capital(engine, D("75000.00"), on=date(2019, 12, 1))
    add_party(engine, "Coop Thiès", region="Africa", country="SN")
    loan, _ = loans_db.add_loan(engine, "Coop Thiès", LoanTerms(D("1200.00"), "CAD", D("12"), 4, date(2020, 2, 10),
                                                                   grace=2), approved_on=date(2020, 1, 2))
    loans_db.disburse(engine, loan.id, date(2020, 1, 5))
    loans_db.repay(engine, loan.id, D("100.00"), date(2020, 1, 20))
    loans_db.reschedule(engine, loan.id, date(2020, 1, 25), term=3, first_due=date(2020, 2, 25))
    loans_db.accrue(engine, date(2020, 5, 30))
    posted = [e.details["installment"] for e in loans_db.read_loan(engine, loan.id).events if e.kind == "interest"]
    assert posted == [4, 5, 6]
    with db.read_transaction(engine) as conn:
        assert loans_db.disagreement(conn) is None
    assert_loan_matches_ledger(engine, loan.id, date(2020, 5, 30))
