"""The pure rules of a loan's life: allocation, arrears, reschedule, write-off, PAR, provisions."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Context, Decimal, localcontext

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fisiq.loans import (
    DEFAULT_PROVISION_RATES,
    Allocation,
    Cancelled,
    Disbursed,
    InterestDue,
    LoanEvent,
    Position,
    Recovered,
    Repaid,
    Replay,
    Rescheduled,
    WrittenOff,
    allocate_repayment,
    borrower_limit,
    interest_falling_due,
    loan_position,
    par,
    provision_rate,
    required_allowance,
)
from fisiq.money import from_minor, quantize
from fisiq.schedule import LoanError, LoanTerms, build_schedule

D = Decimal
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# The loan of the worked examples: 1,200.00 CAD at 12 %, 3 monthly annuity installments
# (see test_schedule.test_annuity_worked_example), disbursed on 2024-01-05:
#   #1 2024-02-01  principal 396.03  interest 12.00
#   #2 2024-03-01  principal 399.99  interest  8.04
#   #3 2024-04-01  principal 403.98  interest  4.04
TERMS = LoanTerms(D("1200.00"), "CAD", D("12"), 3, date(2024, 2, 1))
OUT = Disbursed(date(2024, 1, 5), D("1200.00"))


def pay(events: list[LoanEvent], on: date, amount: str) -> Allocation:
    """Allocate a repayment, then record it (what the storage layer will do)."""
    allocation = allocate_repayment(TERMS, events, on, D(amount))
    events.append(Repaid(on, D(amount)))
    return allocation


def test_schedule_of_the_worked_examples() -> None:
    s = build_schedule(TERMS)
    assert [(i.due, i.principal, i.interest) for i in s] == [
        (date(2024, 2, 1), D("396.03"), D("12.00")),
        (date(2024, 3, 1), D("399.99"), D("8.04")),
        (date(2024, 4, 1), D("403.98"), D("4.04")),
    ]


def test_approved_loan_before_disbursement() -> None:
    p = loan_position(TERMS, [OUT], date(2024, 1, 4))
    assert p.status == "approved"
    assert p.outstanding_principal == 0 and p.days_past_due == 0
    assert len(p.installments) == 3
    assert interest_falling_due(TERMS, [], date(2030, 1, 1)) == []


def test_repayment_on_time() -> None:
    events: list[LoanEvent] = [OUT]
    assert pay(events, date(2024, 2, 1), "408.03") == Allocation(D("12.00"), D("396.03"))
    p = loan_position(TERMS, events, date(2024, 2, 1))
    assert p.status == "active"
    assert p.outstanding_principal == D("803.97")
    assert p.interest_due_unpaid == 0 and p.principal_due_unpaid == 0
    assert p.days_past_due == 0
    assert p.installments[0].paid and not p.installments[0].late


def test_late_partial_repayment_pays_all_interest_due_first() -> None:
    # Nothing paid by 2024-03-10: interest due 12.00 + 8.04 = 20.04. A 100.00 repayment pays
    # the 20.04 of interest first, then 79.96 of the oldest principal (installment 1).
    events: list[LoanEvent] = [OUT]
    before = loan_position(TERMS, events, date(2024, 3, 10))
    assert before.interest_due_unpaid == D("20.04")
    assert before.principal_due_unpaid == D("796.02")
    # Oldest unpaid installment due 2024-02-01: 29 days of February 2024 + 9 = 38 days.
    assert before.days_past_due == 38
    assert pay(events, date(2024, 3, 10), "100.00") == Allocation(D("20.04"), D("79.96"))
    p = loan_position(TERMS, events, date(2024, 3, 10))
    assert p.interest_due_unpaid == 0
    assert p.principal_due_unpaid == D("716.06")  # 796.02 - 79.96
    assert p.outstanding_principal == D("1120.04")
    assert p.days_past_due == 38  # installment 1 still owes 316.07 of principal
    assert [i.late for i in p.installments] == [True, True, False]
    assert p.installments[0].principal_paid == D("79.96")
    # Paying the rest of installment 1 moves the arrears to installment 2 (due 2024-03-01).
    assert pay(events, date(2024, 3, 12), "316.07") == Allocation(D("0.00"), D("316.07"))
    assert loan_position(TERMS, events, date(2024, 3, 12)).days_past_due == 11


def test_interest_paid_but_principal_unpaid_is_still_past_due() -> None:
    events: list[LoanEvent] = [OUT]
    pay(events, date(2024, 2, 1), "12.00")
    assert loan_position(TERMS, events, date(2024, 2, 1)).days_past_due == 0  # due today, not late
    assert loan_position(TERMS, events, date(2024, 2, 2)).days_past_due == 1
    assert loan_position(TERMS, events, date(2024, 2, 2)).interest_due_unpaid == 0


def test_prepayment_reduces_the_next_installments_principal_and_keeps_their_interest() -> None:
    # 600.00 on 2024-02-01: interest 12.00, principal due 396.03, then 191.97 prepaid on
    # installment 2, whose principal left is 399.99 - 191.97 = 208.02; its interest 8.04
    # still falls due on 2024-03-01.
    events: list[LoanEvent] = [OUT]
    assert pay(events, date(2024, 2, 1), "600.00") == Allocation(D("12.00"), D("588.00"))
    p = loan_position(TERMS, events, date(2024, 3, 1))
    assert p.outstanding_principal == D("612.00")
    assert p.installments[1].principal_paid == D("191.97")
    assert p.interest_due_unpaid == D("8.04")
    assert p.principal_due_unpaid == D("208.02")
    assert p.days_past_due == 0
    assert loan_position(TERMS, events, date(2024, 3, 2)).days_past_due == 1
    # On 2024-03-01 the most that can be paid is 612.00 + 8.04.
    with pytest.raises(LoanError, match=re.escape("more than is owed: 620.04 CAD")):
        allocate_repayment(TERMS, events, date(2024, 3, 1), D("620.05"))
    assert pay(events, date(2024, 3, 1), "620.04") == Allocation(D("8.04"), D("612.00"))
    assert loan_position(TERMS, events, date(2024, 3, 1)).status == "closed"


def test_early_payoff_closes_the_loan_and_stops_interest() -> None:
    events: list[LoanEvent] = [OUT]
    with pytest.raises(LoanError, match=re.escape("more than is owed: 1212.00 CAD")):
        allocate_repayment(TERMS, events, date(2024, 2, 1), D("1212.01"))
    assert pay(events, date(2024, 2, 1), "1212.00") == Allocation(D("12.00"), D("1200.00"))
    p = loan_position(TERMS, events, date(2025, 1, 1))
    assert p.status == "closed"
    assert p.outstanding_principal == 0 and p.interest_due_unpaid == 0 and p.days_past_due == 0
    assert [i.interest for i in p.installments] == [D("12.00"), D("0.00"), D("0.00")]
    assert interest_falling_due(TERMS, events, date(2025, 1, 1)) == [InterestDue(1, date(2024, 2, 1), D("12.00"))]
    with pytest.raises(LoanError, match="fully repaid on 2024-02-01"):
        allocate_repayment(TERMS, events, date(2024, 3, 1), D("1.00"))


@pytest.mark.parametrize(
    ("events", "on", "amount", "message"),
    [
        ([OUT], date(2024, 2, 1), "0", "must be positive"),
        ([OUT], date(2024, 2, 1), "0.00", "must be positive"),
        ([OUT], date(2024, 2, 1), "-5.00", "must be positive"),
        ([OUT], date(2024, 2, 1), "1.001", "more decimals than CAD"),
        ([OUT], date(2024, 2, 1), "NaN", "finite"),
        ([OUT], date(2024, 1, 4), "10.00", "before the disbursement on 2024-01-05"),
        ([], date(2024, 2, 1), "10.00", "has not been disbursed"),
        ([OUT], date(2024, 1, 20), "1200.01", "more than is owed: 1200.00 CAD"),
        ([OUT, Repaid(date(2024, 2, 1), D("10.00"))], date(2024, 1, 31), "10.00", "record loan events in date order"),
        ([OUT, WrittenOff(date(2024, 3, 1), D("1200.00"))], date(2024, 3, 2), "10.00", "written off on 2024-03-01"),
    ],
)
def test_repayment_refusals(events: list[LoanEvent], on: date, amount: str, message: str) -> None:
    with pytest.raises(LoanError, match=re.escape(message)) as info:
        allocate_repayment(TERMS, events, on, D(amount))
    assert "\n" not in str(info.value)


def test_invalid_events_are_refused_by_the_position() -> None:
    cases: list[tuple[list[LoanEvent], str]] = [
        ([Disbursed(date(2024, 1, 5), D("1000.00"))], "must equal the loan principal"),
        ([OUT, Disbursed(date(2024, 1, 6), D("1200.00"))], "already disbursed"),
        ([Disbursed(date(2024, 2, 1), D("1200.00"))], "before the first due date"),
        ([OUT, Repaid(date(2024, 1, 20), D("1300.00"))], "more than is owed"),
        ([OUT, WrittenOff(date(2024, 3, 1), D("100.00"))], "whole outstanding principal"),
        ([OUT, Recovered(date(2024, 3, 1), D("100.00"))], "not written off"),
        ([Repaid(date(2024, 1, 1), D("10.00")), OUT], "has not been disbursed"),
    ]
    for events, message in cases:
        with pytest.raises(LoanError, match=message):
            loan_position(TERMS, events, date(2024, 12, 31))


# --- reschedule -------------------------------------------------------------------------------

NEW_TERMS = LoanTerms(D("1200.00"), "CAD", D("12"), 6, date(2024, 4, 10))


def test_reschedule_keeps_past_installments_and_replaces_later_ones() -> None:
    # Nothing paid by 2024-03-10; the 1,200.00 outstanding is rescheduled over 6 months from
    # 2024-04-10. Installments 1 and 2 keep their unpaid interest (12.00, 8.04); their unpaid
    # principal is in the new schedule, numbered 3 to 8; old installment 3 is gone.
    events: list[LoanEvent] = [OUT, Rescheduled(date(2024, 3, 10), NEW_TERMS)]
    p = loan_position(TERMS, events, date(2024, 3, 10))
    assert p.status == "restructured"
    assert p.terms == NEW_TERMS
    assert p.outstanding_principal == D("1200.00")
    assert p.interest_due_unpaid == D("20.04")
    assert p.principal_due_unpaid == 0
    assert p.days_past_due == 38  # the interest of installment 1 is still unpaid
    kept = [(i.number, i.due, i.principal, i.interest) for i in p.installments[:2]]
    assert kept == [(1, date(2024, 2, 1), D("0.00"), D("12.00")), (2, date(2024, 3, 1), D("0.00"), D("8.04"))]
    new = build_schedule(NEW_TERMS)
    assert [(i.number, i.due, i.principal, i.interest) for i in p.installments[2:]] == [
        (i.number + 2, i.due, i.principal, i.interest) for i in new
    ]
    assert sum(i.principal for i in p.installments) == D("1200.00")
    # Paying the interest arrears brings the loan current.
    assert allocate_repayment(TERMS, events, date(2024, 3, 11), D("20.04")) == Allocation(D("20.04"), D("0.00"))
    events.append(Repaid(date(2024, 3, 11), D("20.04")))
    assert loan_position(TERMS, events, date(2024, 3, 11)).days_past_due == 0
    # Interest falls due per the new schedule: 12.00 on 04-10, 10.05 on 05-10 (balance 1,004.94).
    due = interest_falling_due(TERMS, events, date(2024, 5, 10))
    assert [(d.number, d.due, d.interest) for d in due] == [
        (1, date(2024, 2, 1), D("12.00")),
        (2, date(2024, 3, 1), D("8.04")),
        (3, date(2024, 4, 10), D("12.00")),
        (4, date(2024, 5, 10), D("10.05")),
    ]
    assert interest_falling_due(TERMS, events, date(2024, 5, 10), posted={1, 2}) == due[2:]


def test_reschedule_after_partial_repayments() -> None:
    # 408.03 on time, 600.00 on 2024-03-01 (8.04 interest, 399.99 due, 191.97 prepaid on #3):
    # outstanding 1200.00 - 396.03 - 591.96 = 212.01, rescheduled over 2 quarters.
    events: list[LoanEvent] = [OUT]
    pay(events, date(2024, 2, 1), "408.03")
    assert pay(events, date(2024, 3, 1), "600.00") == Allocation(D("8.04"), D("591.96"))
    assert loan_position(TERMS, events, date(2024, 3, 5)).outstanding_principal == D("212.01")
    terms = LoanTerms(D("212.01"), "CAD", D("8"), 2, date(2024, 6, 5), frequency="quarterly")
    events.append(Rescheduled(date(2024, 3, 5), terms))
    p = loan_position(TERMS, events, date(2024, 3, 5))
    # #3 keeps the 191.97 prepaid on it as a settled line, so the schedule still sums to the
    # loan (invariant 6); the new schedule's two installments follow as #4 and #5.
    assert [i.number for i in p.installments] == [1, 2, 3, 4, 5]
    assert (p.installments[2].principal, p.installments[2].principal_paid) == (D("191.97"), D("191.97"))
    assert p.installments[3].due == date(2024, 6, 5)
    assert sum(i.principal for i in p.installments) == D("1200.00")
    assert sum(i.principal - i.principal_paid for i in p.installments) == D("212.01")
    assert p.principal_repaid == D("987.99")


def test_reschedule_refusals() -> None:
    on = date(2024, 3, 10)
    cases: list[tuple[LoanTerms, str]] = [
        (LoanTerms(D("1000.00"), "CAD", D("12"), 6, date(2024, 4, 10)), "must equal the outstanding principal"),
        (LoanTerms(D("1200"), "XOF", D("12"), 6, date(2024, 4, 10)), "keeps the loan's currency CAD"),
        (LoanTerms(D("1200.00"), "CAD", D("12"), 6, on), "must come after the reschedule date"),
        (LoanTerms(D("1200.00"), "CAD", D("12"), 0, date(2024, 4, 10)), "number of installments"),
    ]
    for terms, message in cases:
        with pytest.raises(LoanError, match=message):
            loan_position(TERMS, [OUT, Rescheduled(on, terms)], on)
    with pytest.raises(LoanError, match="has not been disbursed"):
        loan_position(TERMS, [Rescheduled(on, NEW_TERMS)], on)


# --- write-off and recovery -------------------------------------------------------------------


def test_write_off_removes_principal_and_stops_interest() -> None:
    events: list[LoanEvent] = [OUT]
    pay(events, date(2024, 2, 1), "408.03")
    events.append(WrittenOff(date(2024, 3, 15), D("803.97")))
    p = loan_position(TERMS, events, date(2024, 6, 1))
    assert p.status == "written-off"
    assert p.outstanding_principal == 0
    assert p.written_off == D("803.97")
    assert p.interest_written_off == D("8.04")  # installment 2's interest, due 03-01, unpaid
    assert p.interest_due_unpaid == 0 and p.days_past_due == 0
    assert not any(i.late for i in p.installments)
    assert p.disbursed - p.principal_repaid - p.written_off == p.outstanding_principal
    # Installment 3 (due after the write-off) never falls due.
    assert [d.number for d in interest_falling_due(TERMS, events, date(2025, 1, 1))] == [1, 2]
    # Cash afterwards is a recovery, up to what was written off (803.97 + 8.04 = 812.01).
    events.append(Recovered(date(2024, 7, 1), D("500.00")))
    assert loan_position(TERMS, events, date(2024, 7, 1)).recovered == D("500.00")
    with pytest.raises(LoanError, match=re.escape("more than the 812.01 CAD written off")):
        loan_position(TERMS, [*events, Recovered(date(2024, 8, 1), D("312.02"))], date(2024, 8, 1))
    loan_position(TERMS, [*events, Recovered(date(2024, 8, 1), D("312.01"))], date(2024, 8, 1))
    with pytest.raises(LoanError, match="record the cash as a recovery"):
        allocate_repayment(TERMS, events, date(2024, 9, 1), D("1.00"))
    with pytest.raises(LoanError, match="written off on 2024-03-15"):
        loan_position(TERMS, [*events, WrittenOff(date(2024, 9, 1), D("1.00"))], date(2024, 9, 1))


def test_write_off_of_a_closed_loan_refused() -> None:
    events: list[LoanEvent] = [OUT, Repaid(date(2024, 1, 20), D("1200.00")), WrittenOff(date(2024, 2, 1), D("0.01"))]
    with pytest.raises(LoanError, match="fully repaid on 2024-01-20"):
        loan_position(TERMS, events, date(2024, 2, 1))


# --- portfolio at risk and provisions ---------------------------------------------------------

AS_OF = date(2024, 3, 10)


def unpaid_loan(amount: str, first_due: date) -> Position:
    """A one-installment bullet loan disbursed a month before its due date, never repaid."""
    terms = LoanTerms(D(amount), "CAD", D("0"), 1, first_due, method="bullet")
    return loan_position(terms, [Disbursed(first_due - timedelta(days=30), D(amount))], AS_OF)


def portfolio() -> list[Position]:
    current = unpaid_loan("1000.00", date(2024, 4, 1))  # not yet due
    late_55 = unpaid_loan("500.00", date(2024, 1, 15))  # 16 + 29 + 10 = 55 days
    late_130 = unpaid_loan("250.00", date(2023, 11, 1))  # 30 + 31 + 31 + 29 + 9 = 130 days
    return [current, late_55, late_130]


def test_days_past_due_of_the_portfolio() -> None:
    assert [p.days_past_due for p in portfolio()] == [0, 55, 130]


def test_par() -> None:
    positions = portfolio()
    with localcontext(Context(prec=34)):
        assert par(positions, 30) == D("750.00") / D("1750.00")  # 3/7
        assert par(positions, 90) == D("250.00") / D("1750.00")  # 1/7
    assert par(positions, 130) == 0  # strictly more than 130 days
    assert par([], 30) == 0
    # Closed and written-off loans have nothing outstanding: they do not dilute PAR.
    closed = loan_position(TERMS, [OUT, Repaid(date(2024, 1, 20), D("1200.00"))], AS_OF)
    assert par([*positions, closed], 30) == par(positions, 30)
    assert par([closed], 30) == 0


def test_par_refuses_mixed_currencies() -> None:
    xof = LoanTerms(D("100000"), "XOF", D("5"), 1, date(2024, 4, 1))
    position = loan_position(xof, [Disbursed(date(2024, 3, 1), D("100000"))], AS_OF)
    with pytest.raises(LoanError, match="several currencies"):
        par([*portfolio(), position], 30)
    with pytest.raises(LoanError, match="several currencies"):
        required_allowance([position], currency="CAD")


def test_provision_buckets() -> None:
    assert [provision_rate(d) for d in (0, 1, 30, 31, 90, 91, 180, 181, 10_000)] == [
        D("0.01"), D("0.05"), D("0.05"), D("0.25"), D("0.25"), D("0.50"), D("0.50"), D("1.00"), D("1.00"),
    ]
    assert DEFAULT_PROVISION_RATES[0] == (0, D("0.01"))


def test_required_allowance() -> None:
    # 1,000.00 current x 1 % = 10.00; 500.00 at 55 days x 25 % = 125.00;
    # 250.00 at 130 days x 50 % = 125.00; total 260.00.
    assert required_allowance(portfolio(), currency="CAD") == D("260.00")
    assert required_allowance([], currency="CAD") == D("0.00")


def test_required_allowance_rounds_once_half_even() -> None:
    # Two current loans of 0.50: 0.005 each; rounded separately 0.00 + 0.00, but the exact
    # sum 0.01 is what is rounded.
    loans = [unpaid_loan("0.50", date(2024, 4, 1)), unpaid_loan("0.50", date(2024, 4, 2))]
    assert required_allowance(loans[:1], currency="CAD") == D("0.00")  # 0.005 -> even 0.00
    assert required_allowance(loans, currency="CAD") == D("0.01")


def test_provision_rates_validated() -> None:
    for rates in ([], [(1, D("0.05"))], [(0, D("0.01")), (0, D("0.05"))], [(0, D("1.5"))]):
        with pytest.raises(LoanError):
            required_allowance(portfolio(), rates, "CAD")


# --- properties ---------------------------------------------------------------------------------


@st.composite
def loan_history(draw: st.DrawFn) -> tuple[LoanTerms, list[LoanEvent], list[tuple[Allocation, Position]]]:
    """A random loan and a random history, each repayment checked against the position before it."""
    term = draw(st.integers(min_value=1, max_value=36))
    terms = LoanTerms(
        principal=from_minor(draw(st.integers(min_value=10_000 * term, max_value=100_000_000)), "CAD"),
        currency="CAD",
        annual_rate=draw(st.decimals(min_value=0, max_value=30, places=2)),
        term=term,
        first_due=draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))),
        frequency=draw(st.sampled_from(["monthly", "quarterly"])),
        method=draw(st.sampled_from(["annuity", "equal-principal", "bullet"])),
        grace=draw(st.integers(min_value=0, max_value=term - 1)),
    )
    on = terms.first_due - timedelta(days=draw(st.integers(min_value=1, max_value=60)))
    events: list[LoanEvent] = [Disbursed(on, terms.principal)]
    checked: list[tuple[Allocation, Position]] = []
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        on += timedelta(days=draw(st.integers(min_value=0, max_value=120)))
        before = loan_position(terms, events, on)
        if before.status not in ("active", "restructured"):
            break
        action = draw(st.sampled_from(["repay", "repay", "repay", "reschedule", "write-off"]))
        if action == "repay":
            owed = before.outstanding_principal + before.interest_due_unpaid
            fraction = draw(st.decimals(min_value=D("0.001"), max_value=1, places=3))
            amount = max(quantize(owed * fraction, "CAD"), D("0.01"))
            checked.append((allocate_repayment(terms, events, on, amount), before))
            events.append(Repaid(on, amount))
        elif action == "reschedule":
            n = draw(st.integers(min_value=1, max_value=6))
            new = LoanTerms(before.outstanding_principal, "CAD", terms.annual_rate, n,
                            on + timedelta(days=draw(st.integers(min_value=1, max_value=90))),
                            method=draw(st.sampled_from(["annuity", "equal-principal", "bullet"])))
            try:
                build_schedule(new)
            except LoanError:
                continue  # a few cents left over many installments: not a reschedule anyone makes
            events.append(Rescheduled(on, new))
        else:
            events.append(WrittenOff(on, before.outstanding_principal))
    return terms, events, checked


@FAST
@given(loan_history(), st.data())
def test_replay_gives_what_folding_each_history_again_gives(
    history: tuple[LoanTerms, list[LoanEvent], list[tuple[Allocation, Position]]], data: st.DataObject,
) -> None:
    """`audit verify` replays every event with the events that counted when it was recorded:
    mostly the growing list so far, sometimes with one left out (reversed later) or none for
    the rules (an interest posting), and, in an edited file, anything in any order."""
    terms, events, _ = history
    if data.draw(st.booleans()):
        events = data.draw(st.permutations(events))  # an edited file lists them in any order
    replay = Replay(terms)
    for i, listed in enumerate(events):
        shape = data.draw(st.sampled_from(["so far", "so far", "so far", "one left out", "any"]))
        if shape == "so far":
            before = events[:i]
        elif shape == "one left out":
            left_out = data.draw(st.integers(0, max(0, i - 1)))
            before = [e for j, e in enumerate(events[:i]) if j != left_out]
        else:
            before = data.draw(st.lists(st.sampled_from(events), max_size=len(events)))
        event = None if data.draw(st.integers(0, 4)) == 0 else listed
        try:
            expected = (loan_position(terms, before, listed.date),
                        loan_position(terms, [*before, *([event] if event else [])], listed.date))
        except LoanError:
            with pytest.raises(LoanError):
                replay.around(before, listed.date, event)
            continue
        assert replay.around(before, listed.date, event) == expected


def test_replay_of_events_listed_out_of_date_order() -> None:
    """A later-dated event listed first: folding at an earlier date leaves it out, and the
    state folded so far must not carry it (nor lose it once a later date counts it again)."""
    listed = [OUT, Repaid(date(2024, 3, 1), D("100.00")), Repaid(date(2024, 2, 1), D("100.00")),
              Repaid(date(2024, 3, 15), D("100.00"))]
    replay = Replay(TERMS)
    for i, event in enumerate(listed):
        expected = (loan_position(TERMS, listed[:i], event.date), loan_position(TERMS, listed[: i + 1], event.date))
        assert replay.around(listed[:i], event.date, event) == expected


def test_a_reschedule_numbers_its_installments_after_every_kept_one() -> None:
    """Found by a review: a prepayment skips grace installments (no principal) and lands on a
    later one; the reschedule kept that line but numbered its new ones from the count of kept
    lines, so two installments had number 3 and their interest could not be posted once each."""
    terms = LoanTerms(D("1200.00"), "CAD", D("12"), 4, date(2020, 2, 10), grace=2)
    new = LoanTerms(D("1100.00"), "CAD", D("12"), 3, date(2020, 2, 25))
    events: list[LoanEvent] = [Disbursed(date(2020, 1, 5), D("1200.00")), Repaid(date(2020, 1, 20), D("100.00")),
                               Rescheduled(date(2020, 1, 25), new)]
    p = loan_position(terms, events, date(2020, 6, 1))
    assert [i.number for i in p.installments] == [3, 4, 5, 6]
    due = interest_falling_due(terms, events, date(2020, 6, 1))
    assert [d.number for d in due] == [4, 5, 6]


def check_position(p: Position) -> None:
    numbers = [i.number for i in p.installments]
    assert len(set(numbers)) == len(numbers), numbers  # each installment's interest is posted once, by number
    assert p.outstanding_principal == p.disbursed - p.principal_repaid - p.written_off
    assert p.outstanding_principal >= 0
    assert p.interest_due_unpaid >= 0 and p.principal_due_unpaid >= 0
    assert p.days_past_due >= 0
    for i in p.installments:
        assert 0 <= i.principal_paid <= i.principal
        assert 0 <= i.interest_paid <= i.interest
    assert sum(i.interest_paid for i in p.installments) == p.interest_repaid
    if p.status != "written-off":
        assert sum(i.principal - i.principal_paid for i in p.installments) == p.outstanding_principal
    if p.status in ("closed", "written-off"):
        assert p.outstanding_principal == 0 and p.days_past_due == 0


@FAST
@given(loan_history())
def test_random_histories_keep_the_invariants(
    history: tuple[LoanTerms, list[LoanEvent], list[tuple[Allocation, Position]]],
) -> None:
    terms, events, checked = history
    for allocation, before in checked:
        # Interest due is always paid before any principal.
        assert allocation.interest == min(allocation.total, before.interest_due_unpaid)
        if allocation.principal > 0:
            assert allocation.interest == before.interest_due_unpaid
        assert allocation.interest >= 0 and allocation.principal >= 0
    last = events[-1].date
    dates = sorted({e.date for e in events} | {last + timedelta(days=400)})
    previous: list[InterestDue] = []
    for on in dates:
        p = loan_position(terms, events, on)
        check_position(p)
        # Every interest that fell due is repaid, still due, or written off.
        due = interest_falling_due(terms, events, on)
        assert sum(d.interest for d in due) == p.interest_repaid + p.interest_due_unpaid + p.interest_written_off
        # Once fallen due, an installment's interest never changes: safe to post once.
        assert set(previous) <= set(due)
        assert len({d.number for d in due}) == len(due)
        previous = due


@given(
    capital=st.integers(min_value=0, max_value=10**11).map(lambda m: Decimal(m) / 100),
    share=st.integers(min_value=1, max_value=10_000).map(lambda m: Decimal(m) / 100),
    offset=st.integers(min_value=-2, max_value=2),
)
def test_borrower_limit_agrees_with_the_percentage(capital: Decimal, share: Decimal, offset: int) -> None:
    """The board's limit and the disbursement check are one figure: an exposure in cents is
    within the limit exactly when it is at most `share` percent of the capital paid in.
    Exposures are drawn within two cents of the exact percentage, where rounding decides."""
    limit = borrower_limit(capital, share, "CAD")
    assert limit == limit.quantize(Decimal("0.01"))
    exact = share * capital / 100
    exposure = max(exact.quantize(Decimal("0.01")) + Decimal(offset) / 100, Decimal("0.01"))
    assert (exposure <= limit) == (capital > 0 and exposure * 100 <= share * capital)


def test_a_loan_not_disbursed_owes_nothing_even_past_its_due_dates() -> None:
    """Found by a review: `loan show` of an approved loan listed principal and interest due
    after its first due date, although no money had gone out."""
    p = loan_position(TERMS, [], date(2024, 6, 1))
    assert p.status == "approved"
    assert (p.outstanding_principal, p.principal_due_unpaid, p.interest_due_unpaid, p.days_past_due) == (
        D("0.00"), D("0.00"), D("0.00"), 0)
    assert not any(i.late for i in p.installments)


def test_a_cancelled_loan_owes_nothing_and_takes_no_more_events() -> None:
    p = loan_position(TERMS, [Cancelled(date(2024, 1, 4))], date(2024, 6, 1))
    assert p.status == "cancelled" and p.outstanding_principal == p.interest_due_unpaid == 0
    for event, message in [
        (OUT, "the loan was cancelled on 2024-01-04; approve a new loan instead"),
        (Repaid(date(2024, 2, 1), D("10.00")), "cannot record a repayment on 2024-02-01: the loan was cancelled"),
        (Cancelled(date(2024, 1, 6)), "already cancelled on 2024-01-04"),
    ]:
        with pytest.raises(LoanError, match=re.escape(message)):
            loan_position(TERMS, [Cancelled(date(2024, 1, 4)), event], date(2024, 6, 1))
    with pytest.raises(LoanError, match=re.escape("it was disbursed on 2024-01-05 (reverse the disbursement first")):
        loan_position(TERMS, [OUT, Cancelled(date(2024, 1, 6))], date(2024, 6, 1))
