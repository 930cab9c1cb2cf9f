"""Correcting a loan with `fisiq entry reverse`: the loan follows its entries.

A reversed entry's loan event no longer counts (from the reversal's date on); a loan's
entries are reversed latest first; a reversal of a loan's or a commitment's entry cannot
itself be reversed. Runs on SQLite and, with FISIQ_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

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
from fisiq.entries import reversal_of
from fisiq.errors import LedgerError
from fisiq.schedule import LoanError, LoanTerms

WORKED = LoanTerms(D("1200.00"), "CAD", D("12"), 3, date(2018, 5, 1))  # docs/loans.md
BORROWER = "Coopérative Femmes de Thiès"


def _disbursed_loan(engine: Engine) -> int:
    add_capital(engine, D("75000.00"))
    add_party(engine, BORROWER, region="Africa", country="SN")
    loan, _ = loans_db.add_loan(engine, BORROWER, WORKED, approved_on=date(2018, 3, 31))
    loans_db.disburse(engine, loan.id, date(2018, 4, 1))
    return loan.id


def _reverse(engine: Engine, entry_id: int, on: date) -> int:
    return ledger.reverse_entry(engine, entry_id, on).entry.id


def _event_entries(engine: Engine, loan_id: int, kind: str) -> list[int]:
    return [e.entry_id for e in loans_db.read_loan(engine, loan_id).events if e.kind == kind and e.entry_id]


def _assert_consistent(engine: Engine, loan_id: int, as_of: date) -> None:
    """Principal and interest receivable of the loan's own entries equal its position."""
    assert_loan_matches_ledger(engine, loan_id, as_of)
    with db.read_transaction(engine) as conn:
        loan = loans_db.get_loan(conn, loan_id)
        books = loans_db.ledger_figures(conn, loan, as_of)
    posted = sum((e.amount or D(0) for e in loan.live_events(as_of) if e.kind == "interest" and e.date <= as_of), D(0))
    p = loan.position(as_of)
    assert books["interest_receivable"] == posted - p.interest_repaid
    assert books["interest_income"] == posted
    assert trial_total(engine) == 0


def test_reversing_the_latest_repayment_undoes_it(engine: Engine) -> None:
    loan_id = _disbursed_loan(engine)
    repaid = loans_db.repay(engine, loan_id, D("500.00"), date(2018, 5, 2))
    assert repaid.figures == {"interest": D("12.00"), "principal": D("488.00")}
    _reverse(engine, repaid.entry_ids[0], date(2018, 5, 3))

    loan = loans_db.read_loan(engine, loan_id)
    p = loan.position(date(2018, 5, 3))
    assert (p.principal_repaid, p.interest_repaid, p.outstanding_principal) == (D("0.00"), D("0.00"), D("1200.00"))
    assert balance(engine, "Assets:Loans:Principal") == D("1200.00")
    assert balance(engine, "Assets:Cash") == D("73800.00")  # 75000 - 1200
    _assert_consistent(engine, loan_id, date(2018, 5, 3))
    # Before the reversal's date the repayment still counts, as it does in the books.
    _assert_consistent(engine, loan_id, date(2018, 5, 2))
    assert loan.position(date(2018, 5, 2)).principal_repaid == D("488.00")

    # The right amount can now be recorded; it pays the same interest first.
    again = loans_db.repay(engine, loan_id, D("600.00"), date(2018, 5, 2))
    assert again.figures == {"interest": D("12.00"), "principal": D("588.00")}
    _assert_consistent(engine, loan_id, date(2018, 5, 3))


def test_a_loans_entries_are_reversed_latest_first(engine: Engine) -> None:
    loan_id = _disbursed_loan(engine)
    repaid = loans_db.repay(engine, loan_id, D("500.00"), date(2018, 5, 2))
    [interest] = _event_entries(engine, loan_id, "interest")
    [disbursed] = _event_entries(engine, loan_id, "disbursed")
    before = chain_head(engine)
    with pytest.raises(LedgerError, match=rf"entry {interest} is loan {loan_id}'s interest posting of 2018-05-01; "
                                          rf"reverse the loan's later entries first, latest first: {repaid.entry_ids[0]}"):
        _reverse(engine, interest, date(2018, 5, 3))
    with pytest.raises(LedgerError, match=rf"latest first: {repaid.entry_ids[0]}, {interest}$"):
        _reverse(engine, disbursed, date(2018, 5, 3))
    assert chain_head(engine) == before

    for entry_id in (repaid.entry_ids[0], interest, disbursed):
        _reverse(engine, entry_id, date(2018, 5, 3))
    loan = loans_db.read_loan(engine, loan_id)
    assert loan.position(date(2018, 5, 3)).status == "approved" and loan.disbursed_on() is None
    assert balance(engine, "Assets:Cash") == D("75000.00")
    _assert_consistent(engine, loan_id, date(2018, 5, 3))
    # Paid out again, the loan starts over; its interest is posted under a new reference.
    loans_db.disburse(engine, loan_id, date(2018, 4, 15))
    assert loans_db.accrue(engine, date(2018, 6, 1)) == [(loan_id, D("20.04"))]  # 12.00 + 8.04
    assert loans_db.accrue(engine, date(2018, 6, 1)) == []
    with db.read_transaction(engine) as conn:
        refs = sorted(conn.execute(select(ledger.ENTRY.c.ref).where(ledger.ENTRY.c.kind == "loan-interest")).scalars())
    assert refs == [f"loan-{loan_id}-interest-1", f"loan-{loan_id}-interest-1-repost-1", f"loan-{loan_id}-interest-2"]
    _assert_consistent(engine, loan_id, date(2018, 6, 1))


def test_reversed_interest_lets_a_backdated_reschedule_through(engine: Engine) -> None:
    """The advice of the reschedule refusal ("reverse the interest entries first") works."""
    loan_id = _disbursed_loan(engine)
    loans_db.accrue(engine, date(2018, 6, 1))
    with pytest.raises(LoanError, match="interest due on 2018-06-01 is already posted"):
        loans_db.reschedule(engine, loan_id, date(2018, 5, 15), term=6, first_due=date(2018, 6, 15))
    _, second = _event_entries(engine, loan_id, "interest")
    _reverse(engine, second, date(2018, 5, 15))
    out = loans_db.reschedule(engine, loan_id, date(2018, 5, 15), term=6, first_due=date(2018, 6, 15))
    assert out.loan.position(date(2018, 5, 15)).status == "restructured"
    loans_db.accrue(engine, date(2018, 7, 15))
    _assert_consistent(engine, loan_id, date(2018, 7, 15))


def test_entries_before_a_reschedule_stay(engine: Engine) -> None:
    loan_id = _disbursed_loan(engine)
    repaid = loans_db.repay(engine, loan_id, D("500.00"), date(2018, 5, 2))
    loans_db.reschedule(engine, loan_id, date(2018, 5, 10), term=4, first_due=date(2018, 6, 10))
    before = chain_head(engine)
    with pytest.raises(LedgerError, match="reschedule of 2018-05-10 came after it and cannot be undone"):
        _reverse(engine, repaid.entry_ids[0], date(2018, 5, 11))
    assert chain_head(engine) == before


def test_a_reversal_of_a_loans_entry_is_not_reversed(engine: Engine) -> None:
    loan_id = _disbursed_loan(engine)
    repaid = loans_db.repay(engine, loan_id, D("500.00"), date(2018, 5, 2))
    undo = _reverse(engine, repaid.entry_ids[0], date(2018, 5, 3))
    before = chain_head(engine)
    with pytest.raises(LedgerError, match=rf"entry {undo} reverses entry {repaid.entry_ids[0]} \(loan {loan_id}'s "
                                          r"repayment\) and cannot itself be reversed; record the event again with `fisiq loan`"):
        _reverse(engine, undo, date(2018, 5, 4))
    assert chain_head(engine) == before


def test_a_reversal_of_a_commitments_entry_is_not_reversed(target: str, fisiq: Callable[..., Any]) -> None:
    for args in (("party", "add", "MRIF", "--kind", "government"),
                 ("commitment", "add", "MRIF", "1000", "--stage", "signed", "--date", "2018-03-01"),
                 ("commitment", "pay", "1", "1000", "--date", "2018-03-02")):
        assert fisiq(*args).exit_code == 0
    engine = db.open_ledger(target)
    try:
        with db.read_transaction(engine) as conn:
            payment = conn.execute(select(ledger.ENTRY.c.id).where(ledger.ENTRY.c.kind == "commitment-payment")).scalar_one()
        undo = _reverse(engine, payment, date(2018, 3, 3))
        before = chain_head(engine)
        with pytest.raises(LedgerError, match=rf"entry {undo} reverses entry {payment} \(an event of commitment 1\) "
                                              r"and cannot itself be reversed; record the event again with `fisiq commitment`"):
            _reverse(engine, undo, date(2018, 3, 4))
        assert chain_head(engine) == before
    finally:
        engine.dispose()


def test_a_reversed_repayments_reference_is_not_taken_for_recorded(engine: Engine) -> None:
    loan_id = _disbursed_loan(engine)
    repaid = loans_db.repay(engine, loan_id, D("500.00"), date(2018, 5, 2), ref="BANK-1")
    undo = _reverse(engine, repaid.entry_ids[0], date(2018, 5, 3))
    before = chain_head(engine)
    with pytest.raises(LoanError, match=rf"'BANK-1' was entry {repaid.entry_ids[0]}, reversed by entry {undo}; "
                                        "record the correction under a new reference"):
        loans_db.repay(engine, loan_id, D("500.00"), date(2018, 5, 2), ref="BANK-1")
    assert chain_head(engine) == before
    loans_db.repay(engine, loan_id, D("500.00"), date(2018, 5, 2), ref="BANK-1b")
    _assert_consistent(engine, loan_id, date(2018, 5, 3))


def test_a_batch_reverses_a_loans_entries_latest_first_or_not_at_all(engine: Engine) -> None:
    loan_id = _disbursed_loan(engine)
    repaid = loans_db.repay(engine, loan_id, D("500.00"), date(2018, 5, 2))
    [interest] = _event_entries(engine, loan_id, "interest")
    with db.read_transaction(engine) as conn:
        originals = [ledger.get_entry(conn, i) for i in (interest, repaid.entry_ids[0])]
    drafts = [reversal_of(e, date(2018, 5, 3)) for e in originals if e is not None]
    before = chain_head(engine)
    with pytest.raises(LedgerError, match="latest first"), db.write_transaction(engine) as conn:
        ledger.append_entries(conn, drafts)
    assert chain_head(engine) == before
    with db.write_transaction(engine) as conn:
        ledger.append_entries(conn, drafts[::-1])
    assert loans_db.read_loan(engine, loan_id).live_events() == [
        e for e in loans_db.read_loan(engine, loan_id).events if e.kind == "disbursed"]
    _assert_consistent(engine, loan_id, date(2018, 5, 3))


def test_entry_reverse_command_refuses_in_one_line_and_loan_show_marks_the_reversal(
    target: str, fisiq: Callable[..., Any]
) -> None:
    engine = db.open_ledger(target)
    try:
        loan_id = _disbursed_loan(engine)
        repaid = loans_db.repay(engine, loan_id, D("500.00"), date(2018, 5, 2))
        [interest] = _event_entries(engine, loan_id, "interest")
        before = chain_head(engine)
        refused = fisiq("entry", "reverse", str(interest), "--date", "2018-05-03")
        assert refused.exit_code == 1
        assert refused.output.strip().count("\n") == 0 and "latest first" in refused.output
        assert chain_head(engine) == before
        done = fisiq("entry", "reverse", str(repaid.entry_ids[0]), "--date", "2018-05-03")
        assert done.exit_code == 0, done.output
        shown = fisiq("loan", "show", str(loan_id), "--as-of", "2018-05-03", "--json")
        import json

        doc = json.loads(shown.output)
        assert [(e["kind"], e["reversed_by"]) for e in doc["events"]] == [
            ("disbursed", None), ("interest", None), ("repaid", before[0] + 1)]
        assert doc["ledger"]["principal"] == doc["position"]["outstanding_principal"] == "1200.00"
        earlier = json.loads(fisiq("loan", "show", str(loan_id), "--as-of", "2018-05-02", "--json").output)
        assert earlier["events"][-1]["reversed_by"] is None  # the reversal is dated the day after
        assert "reversed by entry" in fisiq("loan", "show", str(loan_id), "--as-of", "2018-05-03").output
    finally:
        engine.dispose()


def test_audit_verify_finds_a_loan_apart_from_its_entries(target: str, fisiq: Callable[..., Any]) -> None:
    """A loan event written beside the commands (raw SQL: no entry for it) is caught by
    `fisiq audit verify`, which names the loan and what differs."""
    engine = db.open_ledger(target)
    try:
        loan_id = _disbursed_loan(engine)
        loans_db.repay(engine, loan_id, D("500.00"), date(2018, 5, 2))
        ok = fisiq("audit", "verify")
        assert ok.exit_code == 0 and "every loan agrees with its entries" in ok.output
        with db.write_transaction(engine) as conn:
            conn.execute(loans_db.EVENT.insert(), {
                "loan_id": loan_id, "kind": "repaid", "date": date(2018, 6, 2), "amount": 10000,
                "details": '{"interest": "8.04", "principal": "91.96"}', "recorded_at": db.utc_now(),
                "recorded_by": "forger",
            })
    finally:
        engine.dispose()
    failed = fisiq("audit", "verify")
    assert failed.exit_code == 1
    assert failed.output.strip() == (
        f"FAILED at loan {loan_id}: its outstanding principal is 620.04 CAD by its events "
        f"but 712.00 CAD in its entries (link loan:{loan_id})"
    )
    import json

    doc = json.loads(fisiq("audit", "verify", "--json").output)
    assert doc["ok"] is False and doc["problem"]["entry"] is None and doc["problem"]["loan"] == loan_id
