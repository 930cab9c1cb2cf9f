"""Repayment schedules: worked examples by hand, due dates, and the guarantees under Hypothesis."""

from __future__ import annotations

import decimal
import itertools
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fisiq.money import check_storable, from_minor, quantize, to_minor
from fisiq.schedule import (
    Installment,
    LoanError,
    LoanTerms,
    build_schedule,
    due_dates,
    periodic_rate,
    validate_terms,
)

D = Decimal
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def terms(**kw: object) -> LoanTerms:
    base: dict[str, object] = {
        "principal": D("1200.00"),
        "currency": "CAD",
        "annual_rate": D("12"),
        "term": 3,
        "first_due": date(2024, 2, 1),
    }
    base.update(kw)
    return LoanTerms(**base)  # type: ignore[arg-type]


def rows(schedule: tuple[Installment, ...]) -> list[tuple[str, str, str, str]]:
    return [(str(i.principal), str(i.interest), str(i.payment), str(i.balance)) for i in schedule]


# --- worked examples, computed by hand ------------------------------------------------------


def test_annuity_worked_example() -> None:
    # 1,200.00 CAD at 12 % a year, 3 monthly installments.
    # r = 12 / 100 / 12 = 0.01
    # (1 + r)^3 = 1.01^3 = 1.030301
    # A = P r (1+r)^3 / ((1+r)^3 - 1) = 1200 x 0.01 x 1.030301 / 0.030301
    #   = 12.363612 / 0.030301 = 408.0265...   (0.030301 x 408 = 12.362808; the rest
    #     0.000804 / 0.030301 = 0.0265)                        -> A = 408.03
    # 1: interest 1200.00 x 0.01 = 12.00;  principal 408.03 - 12.00 = 396.03; balance 803.97
    # 2: interest  803.97 x 0.01 = 8.0397 -> 8.04; principal 399.99;        balance 403.98
    # 3: interest  403.98 x 0.01 = 4.0398 -> 4.04; principal = the balance 403.98,
    #    payment 403.98 + 4.04 = 408.02 (the last absorbs the rounding);    balance 0.00
    # Check: 396.03 + 399.99 + 403.98 = 1200.00.
    s = build_schedule(terms())
    assert rows(s) == [
        ("396.03", "12.00", "408.03", "803.97"),
        ("399.99", "8.04", "408.03", "403.98"),
        ("403.98", "4.04", "408.02", "0.00"),
    ]
    assert [i.due for i in s] == [date(2024, 2, 1), date(2024, 3, 1), date(2024, 4, 1)]
    assert [i.number for i in s] == [1, 2, 3]


def test_equal_principal_worked_example() -> None:
    # 1,000.00 CAD at 6 % a year, 3 monthly installments: r = 6 / 1200 = 0.005.
    # principal 1000 / 3 = 333.333... -> 333.33 each, the last takes 1000 - 666.66 = 333.34.
    # 1: interest 1000.00 x 0.005 = 5.00;               payment 338.33; balance 666.67
    # 2: interest  666.67 x 0.005 = 3.33335 -> 3.33;    payment 336.66; balance 333.34
    # 3: interest  333.34 x 0.005 = 1.6667  -> 1.67;    payment 335.01; balance 0.00
    s = build_schedule(terms(principal=D("1000.00"), annual_rate=D("6"), method="equal-principal"))
    assert rows(s) == [
        ("333.33", "5.00", "338.33", "666.67"),
        ("333.33", "3.33", "336.66", "333.34"),
        ("333.34", "1.67", "335.01", "0.00"),
    ]


def test_bullet_worked_example_quarterly_month_end() -> None:
    # 10,000.00 CAD at 6.5 % a year, 4 quarterly installments from 2024-03-31.
    # r = 6.5 / 100 / 4 = 0.01625; interest 10000 x 0.01625 = 162.50 every quarter;
    # all the principal with the last: payment 10,162.50. Month ends stay month ends.
    s = build_schedule(
        terms(principal=D("10000.00"), annual_rate=D("6.5"), term=4, first_due=date(2024, 3, 31),
              frequency="quarterly", method="bullet")
    )
    assert rows(s) == [
        ("0.00", "162.50", "162.50", "10000.00"),
        ("0.00", "162.50", "162.50", "10000.00"),
        ("0.00", "162.50", "162.50", "10000.00"),
        ("10000.00", "162.50", "10162.50", "0.00"),
    ]
    assert [i.due for i in s] == [date(2024, 3, 31), date(2024, 6, 30), date(2024, 9, 30), date(2024, 12, 31)]


def test_annuity_xof_zero_decimals_worked_example() -> None:
    # 1,000,000 XOF (no decimals) at 10 % a year, 4 quarterly installments: r = 0.025.
    # 1.025^4 = 1.103812890625
    # A = 1,000,000 x 0.025 x 1.103812890625 / 0.103812890625
    #   = 27,595.322265625 / 0.103812890625 = 265,817.88 -> 265,818 XOF
    # 1: interest 1,000,000 x 0.025 = 25,000; principal 240,818; balance 759,182
    # 2: interest 759,182 x 0.025 = 18,979.55 -> 18,980; principal 246,838; balance 512,344
    # 3: interest 512,344 x 0.025 = 12,808.6  -> 12,809; principal 253,009; balance 259,335
    # 4: interest 259,335 x 0.025 = 6,483.375 -> 6,483; principal 259,335; payment 265,818
    s = build_schedule(
        terms(principal=D("1000000"), currency="XOF", annual_rate=D("10"), term=4,
              first_due=date(2024, 3, 31), frequency="quarterly")
    )
    assert rows(s) == [
        ("240818", "25000", "265818", "759182"),
        ("246838", "18980", "265818", "512344"),
        ("253009", "12809", "265818", "259335"),
        ("259335", "6483", "265818", "0"),
    ]


def test_grace_then_annuity_worked_example() -> None:
    # 1,200.00 CAD at 12 %, 5 monthly installments of which 2 of grace: installments 1 and 2
    # pay the interest only (12.00 each), then the 3-installment annuity of the first example.
    s = build_schedule(terms(term=5, grace=2))
    assert rows(s) == [
        ("0.00", "12.00", "12.00", "1200.00"),
        ("0.00", "12.00", "12.00", "1200.00"),
        ("396.03", "12.00", "408.03", "803.97"),
        ("399.99", "8.04", "408.03", "403.98"),
        ("403.98", "4.04", "408.02", "0.00"),
    ]


def test_zero_rate_annuity_is_equal_payments() -> None:
    # 100.00 over 3 at 0 %: A = 100 / 3 = 33.33; the last takes 33.34.
    s = build_schedule(terms(principal=D("100.00"), annual_rate=D("0")))
    assert rows(s) == [("33.33", "0.00", "33.33", "66.67"), ("33.33", "0.00", "33.33", "33.34"),
                       ("33.34", "0.00", "33.34", "0.00")]


@pytest.mark.parametrize(
    ("principal", "interest"),
    [
        # 1 % a year monthly: balance / 1200. Exact ties round half to even.
        ("6.00", "0.00"),  # 0.005  -> 0.00
        ("18.00", "0.02"),  # 0.015 -> 0.02
        ("30.00", "0.02"),  # 0.025 -> 0.02
        ("42.00", "0.04"),  # 0.035 -> 0.04
    ],
)
def test_interest_ties_round_half_even(principal: str, interest: str) -> None:
    # r = 1/1200 = 0.000833... never terminates; the tie must still be seen as a tie.
    s = build_schedule(terms(principal=D(principal), annual_rate=D("1"), term=1, method="bullet"))
    assert str(s[0].interest) == interest


def test_results_do_not_depend_on_the_callers_decimal_context() -> None:
    expected = build_schedule(terms(principal=D("987654.32"), annual_rate=D("7.25"), term=60))
    with decimal.localcontext() as ctx:
        ctx.prec = 5
        ctx.rounding = decimal.ROUND_DOWN
        assert build_schedule(terms(principal=D("987654.32"), annual_rate=D("7.25"), term=60)) == expected


def test_periodic_rate() -> None:
    assert periodic_rate(terms(annual_rate=D("12"))) == D("0.01")
    assert periodic_rate(terms(annual_rate=D("6.5"), frequency="quarterly")) == D("0.01625")


# --- due dates --------------------------------------------------------------------------------


def test_due_dates_month_end_stays_month_end() -> None:
    assert due_dates(date(2024, 1, 31), 4) == (
        date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30))
    assert due_dates(date(2023, 1, 31), 3) == (date(2023, 1, 31), date(2023, 2, 28), date(2023, 3, 31))
    assert due_dates(date(2024, 4, 30), 3) == (date(2024, 4, 30), date(2024, 5, 31), date(2024, 6, 30))
    assert due_dates(date(2024, 2, 29), 13)[1:3] == (date(2024, 3, 31), date(2024, 4, 30))
    assert due_dates(date(2024, 2, 29), 13)[12] == date(2025, 2, 28)
    assert due_dates(date(2023, 11, 30), 2, "quarterly") == (date(2023, 11, 30), date(2024, 2, 29))


def test_due_dates_counted_from_the_first_not_chained() -> None:
    # Jan 30 -> Feb 29 -> Mar 30 (chaining would drift to Mar 29).
    assert due_dates(date(2024, 1, 30), 3) == (date(2024, 1, 30), date(2024, 2, 29), date(2024, 3, 30))
    assert due_dates(date(2024, 1, 15), 3, "quarterly") == (date(2024, 1, 15), date(2024, 4, 15), date(2024, 7, 15))
    assert due_dates(date(2024, 1, 15), 0) == ()


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"principal": D("0")},
        {"principal": D("-5.00")},
        {"principal": D("10.001")},
        {"principal": D("10.5"), "currency": "XOF"},
        {"principal": D("1e20")},
        {"principal": D("NaN")},
        {"currency": "cad"},
        {"currency": "ZZZ"},
        {"annual_rate": D("-0.1")},
        {"annual_rate": D("100.01")},
        {"annual_rate": D("Infinity")},
        {"term": 0},
        {"term": 601},
        {"term": True},
        {"grace": -1},
        {"grace": 3},
        {"frequency": "weekly"},
        {"method": "balloon"},
    ],
)
def test_invalid_terms_refused(bad: dict[str, object]) -> None:
    with pytest.raises(LoanError) as info:
        validate_terms(terms(**bad))
    assert "\n" not in str(info.value)
    with pytest.raises(LoanError):
        build_schedule(terms(**bad))


def test_limits_accepted() -> None:
    validate_terms(terms(annual_rate=D("100"), term=600, grace=599))
    validate_terms(terms(annual_rate=D("0"), term=1))


def test_tiny_principal_over_many_installments_refused() -> None:
    # 0.04 over 6 at 0 %: 0.04 / 6 = 0.0067 -> 0.01 a month would repay 0.05 > 0.04 by the 5th.
    for method in ("annuity", "equal-principal"):
        with pytest.raises(LoanError, match="before the last one"):
            build_schedule(terms(principal=D("0.04"), annual_rate=D("0"), term=6, method=method))
    # ... while bullet has no regular principal and always works.
    assert build_schedule(terms(principal=D("0.04"), annual_rate=D("0"), term=6, method="bullet"))[-1].principal == D(
        "0.04")


# --- guarantees under Hypothesis --------------------------------------------------------------

FIRST_DUES = st.one_of(
    st.sampled_from([date(2024, 1, 31), date(2024, 2, 29), date(2024, 4, 30), date(2023, 2, 28), date(2024, 1, 30)]),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
)


@st.composite
def loan_terms(draw: st.DrawFn) -> LoanTerms:
    currency = draw(st.sampled_from(["CAD", "XOF"]))
    if currency == "CAD":
        minor = draw(st.integers(min_value=1, max_value=1_000_000_000))  # 0.01 .. 10,000,000.00
    else:
        minor = draw(st.integers(min_value=1, max_value=10_000_000_000))
    term = draw(st.integers(min_value=1, max_value=120))
    return LoanTerms(
        principal=from_minor(minor, currency),
        currency=currency,
        annual_rate=draw(st.decimals(min_value=0, max_value=30, places=3)),
        term=term,
        first_due=draw(FIRST_DUES),
        frequency=draw(st.sampled_from(["monthly", "quarterly"])),
        method=draw(st.sampled_from(["annuity", "equal-principal", "bullet"])),
        grace=draw(st.integers(min_value=0, max_value=min(term - 1, 12))),
    )


def exact_interest(balance: Decimal, t: LoanTerms) -> Decimal:
    """Independent check: the exact rational interest, rounded half to even by hand."""
    per_year = 12 if t.frequency == "monthly" else 4
    value = Fraction(balance) * Fraction(t.annual_rate) / (100 * per_year)
    scale = 10 ** (2 if t.currency == "CAD" else 0)
    scaled = value * scale
    return from_minor(round(scaled), t.currency)  # Python's round on a Fraction is half to even


def schedule_or_refusal(t: LoanTerms) -> tuple[Installment, ...] | None:
    try:
        return build_schedule(t)
    except LoanError as exc:
        # Only the pathological case may be refused: a principal below what rounding can
        # drift by (see refusal_bound).
        assert "before the last one" in str(exc)
        assert t.method != "bullet"
        assert to_minor(t.principal, t.currency) < refusal_bound(t)
        return None


def refusal_bound(t: LoanTerms) -> Fraction:
    """Minor units below which rounding may repay the loan early, so a refusal is justified.

    Each amortizing installment moves the balance off the exact one by at most one minor
    unit (half from rounding A, half from rounding the interest), and an annuity's error
    compounds at r: after m installments |error| <= FV(m) = ((1+r)^m - 1) / r (m if r = 0).
    The exact balance before the last installment is A / (1 + r) >= P / (n (1 + r)), so a
    negative balance needs P < n (1 + r) FV(n - 1). Equal principal does not compound: n^2.
    """
    n = t.term - t.grace
    if t.method == "equal-principal":
        return Fraction(n * n)
    r = Fraction(t.annual_rate) / (100 * (12 if t.frequency == "monthly" else 4))
    fv = Fraction(n - 1) if r == 0 else ((1 + r) ** (n - 1) - 1) / r
    return n * (1 + r) * fv


@FAST
@given(loan_terms())
def test_schedule_guarantees(t: LoanTerms) -> None:
    s = schedule_or_refusal(t)
    if s is None:
        return
    assert len(s) == t.term
    assert [i.number for i in s] == list(range(1, t.term + 1))
    assert tuple(i.due for i in s) == due_dates(t.first_due, t.term, t.frequency)
    assert sum(i.principal for i in s) == t.principal
    assert s[-1].balance == 0
    balance = t.principal
    for i in s:
        for amount in (i.principal, i.interest, i.payment, i.balance):
            check_storable(amount, t.currency)
            assert amount == quantize(amount, t.currency)
            assert amount.as_tuple().exponent == (-2 if t.currency == "CAD" else 0)
        assert i.principal >= 0
        assert i.interest >= 0
        assert i.balance >= 0
        assert i.payment == i.principal + i.interest
        assert i.interest == exact_interest(balance, t)
        balance -= i.principal
        assert i.balance == balance
    for i in s[: t.grace]:
        assert i.principal == 0
    amortizing = s[t.grace:]
    if t.method == "annuity" and len(amortizing) > 1:
        assert len({i.payment for i in amortizing[:-1]}) == 1
    if t.method == "equal-principal" and len(amortizing) > 1:
        assert len({i.principal for i in amortizing[:-1]}) == 1
    if t.method == "bullet":
        assert all(i.principal == 0 for i in s[:-1])
        assert s[-1].principal == t.principal


@FAST
@given(loan_terms())
def test_realistic_loans_are_never_refused(t: LoanTerms) -> None:
    # At least 100.00 CAD / 10,000 XOF per installment, at most 30 %, at most ten years:
    # never the pathological case (refusal_bound stays far below the principal).
    assume(t.frequency == "monthly" or t.term <= 40)
    n = t.term - t.grace
    minor = max(to_minor(t.principal, t.currency), n * 10_000)
    build_schedule(LoanTerms(from_minor(minor, t.currency), t.currency, t.annual_rate, t.term, t.first_due,
                             t.frequency, t.method, t.grace))


@FAST
@given(st.sampled_from([date(2024, 1, 31), date(2024, 2, 29), date(2024, 4, 30), date(2023, 2, 28)]),
       st.integers(min_value=1, max_value=120), st.sampled_from(["monthly", "quarterly"]))
def test_month_end_first_due_keeps_month_ends(first: date, n: int, frequency: str) -> None:
    dates = due_dates(first, n, frequency)
    for d in dates:
        assert (d + timedelta(days=1)).month != d.month  # the next day is in another month
    assert all(a < b for a, b in itertools.pairwise(dates))
