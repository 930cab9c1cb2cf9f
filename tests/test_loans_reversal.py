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
from fisiq.entries import EntryDraft, Posting, reversal_of
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
    _reverse(engine, repaid.entry_ids[0], date(2018, 5, 2))  # a mistake: undone on its own date

    loan = loans_db.read_loan(engine, loan_id)
    p = loan.position(date(2018, 5, 3))
    assert (p.principal_repaid, p.interest_repaid, p.outstanding_principal) == (D("0.00"), D("0.00"), D("1200.00"))
    assert balance(engine, "Assets:Loans:Principal") == D("1200.00")
    assert balance(engine, "Assets:Cash") == D("73800.00")  # 75000 - 1200
    # The right amount is recorded in its place, on the same day; it pays the same interest first.
    again = loans_db.repay(engine, loan_id, D("600.00"), date(2018, 5, 2))
    assert again.figures == {"interest": D("12.00"), "principal": D("588.00")}
    for day in (date(2018, 4, 30), date(2018, 5, 1), date(2018, 5, 2), date(2018, 5, 3), date(2018, 7, 1)):
        _assert_consistent(engine, loan_id, day)


def test_a_reversal_dated_later_leaves_the_event_counting_until_then(engine: Engine) -> None:
    """Reversed today, a repayment of 2018 still counts in between, in the loan as in the
    books; so the loan's next event may not be dated before the reversal."""
    loan_id = _disbursed_loan(engine)
    repaid = loans_db.repay(engine, loan_id, D("500.00"), date(2018, 5, 2))
    _reverse(engine, repaid.entry_ids[0], date(2018, 9, 1))
    before = chain_head(engine)
    with pytest.raises(LoanError, match=rf"repayment on 2018-05-02 is dated before 2018-09-01, when an entry of "
                                        rf"loan {loan_id} was reversed; date it on or after 2018-09-01"):
        loans_db.repay(engine, loan_id, D("600.00"), date(2018, 5, 2))
    assert chain_head(engine) == before
    loans_db.repay(engine, loan_id, D("600.00"), date(2018, 9, 1))
    loan = loans_db.read_loan(engine, loan_id)
    assert loan.position(date(2018, 6, 15)).principal_repaid == D("488.00")
    assert loan.position(date(2018, 9, 1)).principal_repaid < D("600.00")  # the 600.00 paid interest first
    for day in (date(2018, 5, 1), date(2018, 6, 15), date(2018, 8, 31), date(2018, 9, 1), date(2019, 1, 1)):
        _assert_consistent(engine, loan_id, day)


def test_a_reversal_is_dated_after_its_event_and_the_loans_later_reversals(engine: Engine) -> None:
    loan_id = _disbursed_loan(engine)
    first = loans_db.repay(engine, loan_id, D("500.00"), date(2018, 5, 2)).entry_ids[0]
    second = loans_db.repay(engine, loan_id, D("300.00"), date(2018, 6, 15)).entry_ids[0]
    before = chain_head(engine)
    with pytest.raises(LedgerError, match=rf"entry {second} is loan {loan_id}'s repayment of 2018-06-15; "
                                          r"date its reversal on or after 2018-06-15 \(the event's own date\)"):
        _reverse(engine, second, date(2018, 6, 1))
    _reverse(engine, second, date(2018, 6, 20))
    [_, interest_2] = _event_entries(engine, loan_id, "interest")
    _reverse(engine, interest_2, date(2018, 6, 20))
    with pytest.raises(LedgerError, match=r"date its reversal on or after 2018-06-20 \(the date the loan's later "
                                          r"entries were reversed\)"):
        _reverse(engine, first, date(2018, 5, 3))
    assert chain_head(engine)[0] == before[0] + 2  # the two refusals wrote nothing
    _reverse(engine, first, date(2018, 6, 20))
    for day in (date(2018, 5, 2), date(2018, 6, 1), date(2018, 6, 16), date(2018, 6, 20), date(2018, 7, 1)):
        _assert_consistent(engine, loan_id, day)


def test_interest_reversed_after_a_period_close_is_posted_again_after_it(engine: Engine) -> None:
    loan_id = _disbursed_loan(engine)
    loans_db.accrue(engine, date(2018, 6, 1))
    ledger.close_period(engine, date(2018, 6, 30))
    _, second = _event_entries(engine, loan_id, "interest")
    _reverse(engine, second, date(2018, 7, 5))
    assert loans_db.accrue(engine, date(2018, 7, 31)) == [(loan_id, D("12.08"), date(2018, 7, 5))]  # 06-01 again (after the close), and 07-01
    events = [(e.kind, e.date, e.counts()) for e in loans_db.read_loan(engine, loan_id).events if e.kind == "interest"]
    assert events == [("interest", date(2018, 5, 1), True), ("interest", date(2018, 6, 1), False),
                      ("interest", date(2018, 7, 5), True), ("interest", date(2018, 7, 5), True)]
    with db.read_transaction(engine) as conn:
        refs = sorted(conn.execute(select(ledger.ENTRY.c.ref).where(ledger.ENTRY.c.kind == "loan-interest")).scalars())
    assert refs == [f"loan-{loan_id}-interest-{k}" for k in ("1", "2", "2-repost-1", "3")]
    _assert_consistent(engine, loan_id, date(2018, 7, 31))


def test_a_loan_paid_out_again_after_its_disbursement_was_reversed(engine: Engine) -> None:
    loan_id = _disbursed_loan(engine)
    [disbursed] = _event_entries(engine, loan_id, "disbursed")
    _reverse(engine, disbursed, date(2018, 4, 10))
    with pytest.raises(LoanError, match="disbursement on 2018-04-05 is dated before 2018-04-10"):
        loans_db.disburse(engine, loan_id, date(2018, 4, 5))
    loans_db.disburse(engine, loan_id, date(2018, 4, 10))
    loans_db.accrue(engine, date(2018, 6, 1))
    for day in (date(2018, 4, 5), date(2018, 4, 10), date(2018, 6, 1)):
        _assert_consistent(engine, loan_id, day)


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
    # Undone on 2018-05-03, the loan cannot be paid out again before its first due date.
    with pytest.raises(LoanError, match="disbursement on 2018-04-15 is dated before 2018-05-03"):
        loans_db.disburse(engine, loan_id, date(2018, 4, 15))


def test_reversed_interest_lets_a_backdated_reschedule_through(engine: Engine) -> None:
    """The advice of the reschedule refusal (reverse those interest entries, each on its own date) works."""
    loan_id = _disbursed_loan(engine)
    loans_db.accrue(engine, date(2018, 6, 1))
    with pytest.raises(LoanError, match="interest due on 2018-06-01 is already posted"):
        loans_db.reschedule(engine, loan_id, date(2018, 5, 15), term=6, first_due=date(2018, 6, 15))
    _, second = _event_entries(engine, loan_id, "interest")
    with pytest.raises(LedgerError, match="date its reversal on or after 2018-06-01"):
        _reverse(engine, second, date(2018, 5, 15))
    _reverse(engine, second, date(2018, 6, 1))  # on its own date: it never counted
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
        with pytest.raises(LedgerError, match=rf"entry {undo} reverses entry {payment} \(commitment 1's payment\) "
                                              r"and cannot itself be reversed; record the event again with `fisiq commitment`"):
            _reverse(engine, undo, date(2018, 3, 4))
        assert chain_head(engine) == before
    finally:
        engine.dispose()


def test_a_reversed_repayments_reference_is_not_taken_for_recorded(engine: Engine) -> None:
    loan_id = _disbursed_loan(engine)
    repaid = loans_db.repay(engine, loan_id, D("500.00"), date(2018, 5, 2), ref="BANK-1")
    undo = _reverse(engine, repaid.entry_ids[0], date(2018, 5, 2))
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


def test_a_batch_does_not_reverse_its_own_reversal_of_a_loan_entry(engine: Engine) -> None:
    loan_id = _disbursed_loan(engine)
    repaid = loans_db.repay(engine, loan_id, D("500.00"), date(2018, 5, 2))
    with db.read_transaction(engine) as conn:
        original = ledger.get_entry(conn, repaid.entry_ids[0])
        head, _ = ledger.chain_head(conn)
    assert original is not None
    undo = reversal_of(original, date(2018, 5, 3))
    # What the batch's first entry (head + 1) would be, reversed by its second.
    undo_of_undo = EntryDraft(date(2018, 5, 4), "again", tuple(Posting(p.account, -p.amount, p.currency, p.party)
                                                                  for p in undo.postings), reverses=head + 1)
    with pytest.raises(LedgerError, match=rf"entry {head + 1} reverses entry {original.id} .* cannot itself be reversed"), \
            db.write_transaction(engine) as conn:
        ledger.append_entries(conn, [undo, undo_of_undo])
    assert chain_head(engine)[0] == head


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
        assert ok.exit_code == 0 and "every loan and commitment agrees with its entries" in ok.output
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


def audit_failure(fisiq: Callable[..., Any]) -> str:
    """The one line `fisiq audit verify` fails with."""
    failed = fisiq("audit", "verify")
    assert failed.exit_code == 1
    return str(failed.output.strip())


def test_audit_verify_finds_entries_and_events_apart_from_their_loan(target: str, fisiq: Callable[..., Any]) -> None:
    """An entry linked to a loan the register does not hold would join the next loan given
    that id; an event pointing at another loan's entry would count that entry's reversal.
    `fisiq audit verify` names both."""
    engine = db.open_ledger(target)
    try:
        loan_id = _disbursed_loan(engine)
        disbursement = _event_entries(engine, loan_id, "disbursed")[0]
        other, _ = loans_db.add_loan(engine, BORROWER, WORKED, approved_on=date(2018, 3, 31))
        with db.write_transaction(engine) as conn:
            conn.execute(loans_db.EVENT.insert(), {
                "loan_id": other.id, "kind": "disbursed", "date": date(2018, 4, 1), "amount": 75000,
                "entry_id": disbursement, "recorded_at": db.utc_now(), "recorded_by": "forger",
            })
    finally:
        engine.dispose()
    assert audit_failure(fisiq) == (f"FAILED at loan {other.id}: its event 2 points at entry {disbursement}, "
                                    f"which is linked loan:{loan_id}, not loan:{other.id}")


def test_audit_verify_finds_an_entry_linked_to_a_loan_that_does_not_exist(target: str, fisiq: Callable[..., Any]) -> None:
    engine = db.open_ledger(target)
    try:
        loan_id = _disbursed_loan(engine)
        entry = ledger.record_entry(engine, EntryDraft(date(2018, 4, 2), "written beside the commands", (
            Posting("Assets:Loans:Principal", D("10.00"), "CAD", BORROWER), Posting("Assets:Cash", D("-10.00"), "CAD")),
            link=f"loan:{loan_id + 1}")).entry.id
    finally:
        engine.dispose()
    assert audit_failure(fisiq) == (f"FAILED at loan {loan_id + 1}: entry {entry} is linked loan:{loan_id + 1}, "
                                    f"but there is no loan {loan_id + 1} in the register")


@pytest.mark.parametrize(("legs", "message"), [
    ((("Assets:Loans:Principal", "10.00", "CAD", "Autre coopérative"), ("Assets:Cash", "-10.00", "CAD", None)),
     "hold 10.00 CAD on Assets:Loans:Principal for Autre coopérative, not its borrower " + BORROWER),
    ((("Assets:Loans:Interest-Receivable", "3.00", "CAD", None), ("Assets:Cash", "-3.00", "CAD", None)),
     "hold 3.00 CAD on Assets:Loans:Interest-Receivable for no party, not its borrower " + BORROWER),
    ((("Assets:Cash", "5.00", "USD", None), ("Income:Interest:Loans", "-5.00", "USD", None)),
     "hold -5.00 USD on Income:Interest:Loans; the loan is in CAD"),
])
def test_audit_verify_finds_a_loan_entry_its_figures_would_not_count(
    target: str, fisiq: Callable[..., Any], legs: tuple[tuple[str, str, str, str | None], ...], message: str,
) -> None:
    """The loan's figures count its currency and, for what is owed, its borrower: an entry
    linked to the loan that books another party or currency moves the books, not the loan."""
    engine = db.open_ledger(target)
    try:
        loan_id = _disbursed_loan(engine)
        add_party(engine, "Autre coopérative")
        ledger.record_entry(engine, EntryDraft(date(2018, 4, 2), "written beside the commands", tuple(
            Posting(account, D(amount), currency, party) for account, amount, currency, party in legs),
            link=f"loan:{loan_id}"))
    finally:
        engine.dispose()
    assert audit_failure(fisiq) == f"FAILED at loan {loan_id}: its entries (link loan:{loan_id}) {message}"


def test_audit_verify_replays_each_loan_event(target: str, fisiq: Callable[..., Any]) -> None:
    """An event's details are not hashed: an interest posting written beside the commands for
    an installment the schedule does not have is named, before any total is compared."""
    engine = db.open_ledger(target)
    try:
        loan_id = _disbursed_loan(engine)
        with db.write_transaction(engine) as conn:
            conn.execute(loans_db.EVENT.insert(), {
                "loan_id": loan_id, "kind": "interest", "date": date(2018, 5, 1), "amount": 100,
                "details": '{"installment": 99}', "recorded_at": db.utc_now(), "recorded_by": "forger",
            })
    finally:
        engine.dispose()
    assert audit_failure(fisiq) == (f"FAILED at loan {loan_id}: its interest event 2 of 2018-05-01 of 1.00 is not "
                                    "the interest of an installment due and not yet posted")
