"""A state machine over the loan lifecycle, on the real ledger.

Hypothesis picks moves — approve, disburse, accrue, repay, prepay, reschedule, provision,
write off, recover, undo a loan's latest event with a reversing entry, and refused moves
(overpayment, a second disbursement, repaying a loan not disbursed or written off,
recovering more than was written off, disbursing beyond the cash or the borrower limit,
reversing an event that a later one depends on) — all dated on a clock that only moves
forward. After each step it checks the loan's figures (folded from its events by
`fisiq.loans`) against the ledger's balances for its borrower and its entries, the fund's
cash against a tiny model, and that the trial balance is zero. A refused move must raise a
LoanError (LedgerError for a reversal) and write nothing.

Quick by default (15 examples of 20 steps per engine); HYPOTHESIS_PROFILE=thorough for more.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from _loans_support import add_capital, add_party, balance, chain_head, trial_total
from conftest import PG_URL, LedgerFactory, _initialise
from fisiq import db, ledger, loans_db
from fisiq.errors import LedgerError
from fisiq.schedule import LoanError, LoanTerms

D = Decimal
CAPITAL = D("10000.00")
SHARE = D("30")  # percent: 3,000.00 per borrower
BORROWERS = ("Coopérative Femmes de Thiès", "Jeunes de Jacmel")
START = date(2018, 4, 1)
THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"


class LoanMachine(RuleBasedStateMachine):
    factory: LedgerFactory

    def __init__(self) -> None:
        super().__init__()
        self.target, self.engine = self.factory.scratch()
        add_capital(self.engine, CAPITAL, date(2018, 3, 23))
        for i, name in enumerate(BORROWERS):
            add_party(self.engine, name, region="Africa" if i == 0 else "Haiti", women_led=i == 0, youth_led=i == 1)
        loans_db.set_limits(self.engine, max_share=SHARE)
        self.clock = START
        self.cash = CAPITAL
        self.loans: list[int] = []
        self.posted_through: dict[int, date] = {}
        self.closed: date | None = None

    def teardown(self) -> None:
        self.factory.discard(self.target, self.engine)

    # helpers

    def loan(self, i: int) -> loans_db.LoanRecord:
        return loans_db.read_loan(self.engine, self.loans[i % len(self.loans)])

    def refused(self, call: object, *args: object, **kw: object) -> None:
        before = chain_head(self.engine)
        events = [len(loans_db.read_loan(self.engine, loan_id).events) for loan_id in self.loans]
        with pytest.raises(LoanError):
            call(*args, **kw)  # type: ignore[operator]
        assert chain_head(self.engine) == before
        assert [len(loans_db.read_loan(self.engine, loan_id).events) for loan_id in self.loans] == events

    def owed(self, loan: loans_db.LoanRecord) -> Decimal:
        p = loan.position(self.clock)
        return p.outstanding_principal + p.interest_due_unpaid

    # moves

    @rule(days=st.integers(1, 75))
    def advance(self, days: int) -> None:
        self.clock += timedelta(days=days)

    @precondition(lambda self: len(self.loans) < 4)
    @rule(
        who=st.sampled_from(BORROWERS),
        principal=st.sampled_from([D("500.50"), D("1200.00"), D("2999.99"), D("3000.00"), D("4000.00")]),
        rate=st.sampled_from([D("0"), D("6.5"), D("12"), D("24")]),
        term=st.integers(1, 12),
        method=st.sampled_from(["annuity", "equal-principal", "bullet"]),
        frequency=st.sampled_from(["monthly", "quarterly"]),
        lead=st.integers(1, 45),
    )
    def approve(self, who: str, principal: Decimal, rate: Decimal, term: int, method: str, frequency: str,
                lead: int) -> None:
        terms = LoanTerms(principal, "CAD", rate, term, self.clock + timedelta(days=lead), frequency, method)
        loan, _ = loans_db.add_loan(self.engine, who, terms, approved_on=self.clock)
        self.loans.append(loan.id)

    @precondition(lambda self: self.loans)
    @rule(i=st.integers(0, 3))
    def disburse(self, i: int) -> None:
        loan = self.loan(i)
        amount = loan.terms.principal
        exposure = sum(
            (loans_db.read_loan(self.engine, other).position(self.clock).outstanding_principal
             for other in self.loans if loans_db.read_loan(self.engine, other).borrower_id == loan.borrower_id),
            D(0),
        ) + amount
        ok = (loan.position(self.clock).status == "approved" and self.clock < loan.terms.first_due and self.cash >= amount
              and exposure * 100 <= SHARE * CAPITAL)
        if not ok:
            self.refused(loans_db.disburse, self.engine, loan.id, self.clock)
            return
        loans_db.disburse(self.engine, loan.id, self.clock)
        self.cash -= amount
        self.posted_through[loan.id] = self.clock

    @rule()
    def accrue(self) -> None:
        loans_db.accrue(self.engine, self.clock)
        for loan_id in self.loans:
            if loan_id in self.posted_through:
                self.posted_through[loan_id] = self.clock

    @precondition(lambda self: self.loans)
    @rule(i=st.integers(0, 3), how=st.sampled_from(["part", "interest", "all", "over", "cent"]))
    def repay(self, i: int, how: str) -> None:
        loan = self.loan(i)
        p = loan.position(self.clock)
        running = p.status in ("active", "restructured")
        owed = self.owed(loan) if running else D("0.00")
        amount = {
            "part": (owed / 3).quantize(D("0.01")),
            "interest": p.interest_due_unpaid,
            "all": owed,  # closes the loan: a prepayment of everything outstanding
            "over": owed + D("0.01"),
            "cent": D("0.01"),
        }[how]
        if not running or amount <= 0 or amount > owed:
            self.refused(loans_db.repay, self.engine, loan.id, amount, self.clock)
            return
        out = loans_db.repay(self.engine, loan.id, amount, self.clock)
        assert out.figures["interest"] + out.figures["principal"] == amount
        assert out.figures["interest"] == min(amount, p.interest_due_unpaid)  # interest first
        self.cash += amount
        self.posted_through[loan.id] = self.clock
        if how == "all":
            assert out.loan.position(self.clock).status == "closed"

    @precondition(lambda self: self.loans)
    @rule(i=st.integers(0, 3), term=st.integers(1, 12))
    def reschedule(self, i: int, term: int) -> None:
        loan = self.loan(i)
        p = loan.position(self.clock)
        first_due = self.clock + timedelta(days=30)
        if p.status not in ("active", "restructured"):
            self.refused(loans_db.reschedule, self.engine, loan.id, self.clock, term=term, first_due=first_due)
            return
        out = loans_db.reschedule(self.engine, loan.id, self.clock, term=term, first_due=first_due)
        assert out.loan.position(self.clock).status == "restructured"
        self.posted_through[loan.id] = self.clock

    @rule()
    def provision(self) -> None:
        for result in loans_db.provision(self.engine, self.clock):
            assert result.change == result.required - result.before
        assert all(r.entry_id is None for r in loans_db.provision(self.engine, self.clock))  # the change, once

    @precondition(lambda self: self.loans)
    @rule(i=st.integers(0, 3))
    def write_off(self, i: int) -> None:
        loan = self.loan(i)
        if loan.position(self.clock).status not in ("active", "restructured"):
            self.refused(loans_db.write_off, self.engine, loan.id, self.clock, "test")
            return
        allowance = -balance(self.engine, "Assets:Loans:Allowance")
        out = loans_db.write_off(self.engine, loan.id, self.clock, "test")
        assert out.figures["from_allowance"] == min(allowance, out.figures["principal"])
        self.posted_through[loan.id] = self.clock

    @precondition(lambda self: self.loans)
    @rule(i=st.integers(0, 3), over=st.booleans())
    def recover(self, i: int, over: bool) -> None:
        loan = self.loan(i)
        p = loan.position(self.clock)
        room = p.written_off + p.interest_written_off - p.recovered
        if p.status != "written-off" or over or room <= 0:
            self.refused(loans_db.recover, self.engine, loan.id, room + D("0.01") if room > 0 else D("1.00"),
                         self.clock)
            return
        amount = (room / 2).quantize(D("0.01")) or room
        loans_db.recover(self.engine, loan.id, amount, self.clock)
        self.cash += amount

    @precondition(lambda self: self.loans)
    @rule(i=st.integers(0, 3))
    def cancel(self, i: int) -> None:
        """Withdraw an approval: only of a loan never paid out, or whose disbursement was reversed."""
        loan = self.loan(i)
        if loan.position(self.clock).status != "approved":
            self.refused(loans_db.cancel, self.engine, loan.id, self.clock, "test")
            return
        out = loans_db.cancel(self.engine, loan.id, self.clock, "test")
        assert out.entry_ids == () and out.loan.position(self.clock).status == "cancelled"

    @precondition(lambda self: self.clock > START)
    @rule()
    def close_books(self) -> None:
        """Close the books through yesterday, whether or not the interest due was posted: what
        fell due inside is posted after the close, and nothing stops the next steps."""
        through = self.clock - timedelta(days=1)
        if self.closed is not None and through <= self.closed:
            return
        ledger.close_period(self.engine, through)
        self.closed = through

    @precondition(lambda self: self.loans)
    @rule(i=st.integers(0, 3), latest=st.booleans())
    def reverse(self, i: int, latest: bool) -> None:
        """Undo a loan's latest event with `fisiq entry reverse` (dated as the event: a mistake);
        an earlier one, or one before a reschedule, is refused."""
        loan = self.loan(i)
        live = loan.live_events()
        with_entries = [e for e in live if e.entry_id is not None]
        if not with_entries:
            return
        target = with_entries[-1] if latest else with_entries[0]
        if self.closed is not None and target.date <= self.closed:
            before = chain_head(self.engine)
            with pytest.raises(LedgerError, match="inside a closed period"):
                ledger.reverse_entry(self.engine, target.entry_id, target.date)  # type: ignore[arg-type]
            assert chain_head(self.engine) == before
            return
        if target is not live[-1]:  # a later event still counts: an entry, or a reschedule
            before = chain_head(self.engine)
            with pytest.raises(LedgerError, match=r"latest first|cannot be undone"):
                ledger.reverse_entry(self.engine, target.entry_id, target.date)  # type: ignore[arg-type]
            assert chain_head(self.engine) == before
            return
        undone = [e.reversed_on for e in loan.events
                  if e.id > target.id and e.reversed_on is not None and e.reversed_on > e.date]
        if undone and max(undone) > target.date:  # a reversal may not be dated before a later one
            before = chain_head(self.engine)
            with pytest.raises(LedgerError, match=rf"date its reversal on or after {max(undone)}"):
                ledger.reverse_entry(self.engine, target.entry_id, target.date)  # type: ignore[arg-type]
            assert chain_head(self.engine) == before
            return
        cash = {"disbursed": target.amount, "repaid": -(target.amount or 0), "recovered": -(target.amount or 0)}
        change = D(cash.get(target.kind) or 0)
        if self.cash + change < 0:
            return  # the money went out again since; undoing its receipt is not this test's subject
        ledger.reverse_entry(self.engine, target.entry_id, target.date)  # type: ignore[arg-type]
        self.cash += change
        # Nothing was posted for the loan after its latest event: its interest is posted
        # through that day (the day before, for an interest posting undone).
        if target.kind == "disbursed":
            del self.posted_through[loan.id]
        elif target.kind == "interest":
            # Posted after a close, its installment fell due earlier (details keep the date).
            due = date.fromisoformat(target.details["due"]) if "due" in target.details else target.date
            self.posted_through[loan.id] = due - timedelta(days=1)
        else:
            self.posted_through[loan.id] = target.date

    # what must always hold

    @invariant()
    def books_balance(self) -> None:
        assert trial_total(self.engine) == 0

    @invariant()
    def cash_matches_the_model(self) -> None:
        assert balance(self.engine, "Assets:Cash") == self.cash >= 0
        assert balance(self.engine, "Assets:Loans:Allowance") <= 0

    @invariant()
    def each_loan_equals_its_ledger(self) -> None:
        income = D("0.00")
        with db.read_transaction(self.engine) as conn:
            for loan_id in self.loans:
                loan = loans_db.get_loan(conn, loan_id)
                books = loans_db.ledger_figures(conn, loan)
                now = loan.position(self.clock)
                assert books["principal"] == now.outstanding_principal
                assert now.outstanding_principal == now.disbursed - now.principal_repaid - now.written_off >= 0
                if now.status in ("active", "restructured", "closed"):  # invariant 6: to the cent
                    assert sum((i.principal for i in now.installments), D(0)) == now.disbursed
                if loan_id in self.posted_through:
                    posted = loan.position(self.posted_through[loan_id])
                    assert books["interest_receivable"] == posted.interest_due_unpaid
                    assert books["interest_income"] == posted.interest_repaid + posted.interest_due_unpaid
                    income += books["interest_income"]
                else:
                    assert books["interest_receivable"] == books["principal"] == 0
        assert -balance(self.engine, "Income:Interest:Loans") == income
        with db.read_transaction(self.engine) as conn:
            assert loans_db.disagreement(conn) is None  # what `fisiq audit verify` checks of loans


@pytest.mark.parametrize("engine_name", ["sqlite", "postgresql"])
def test_loan_lifecycle_machine(engine_name: str, tmp_path: Path) -> None:
    if engine_name == "postgresql" and not PG_URL:
        pytest.skip("FISIQ_TEST_DATABASE_URL is not set")
    template = tmp_path / "template.db"
    _initialise(str(template))
    factory = LedgerFactory(engine_name, tmp_path, template)

    class Machine(LoanMachine):
        pass

    Machine.factory = factory
    try:
        run_state_machine_as_test(Machine, settings=settings(
            max_examples=300 if THOROUGH else 15, stateful_step_count=40 if THOROUGH else 20, deadline=None,
        ))
    finally:
        factory.close()
