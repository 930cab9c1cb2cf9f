"""Money: strict parsing, exact minor units, en-CA and fr-CA printing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fisiq.money import (
    MAX_MINOR,
    MoneyError,
    check_currency,
    format_money,
    from_minor,
    parse_amount,
    quantize,
    to_minor,
)


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [
        ("465000", "CAD", Decimal("465000.00")),
        ("465000.5", "CAD", Decimal("465000.50")),
        ("-12.34", "CAD", Decimal("-12.34")),
        ("+7", "USD", Decimal("7.00")),
        ("1500", "XOF", Decimal("1500")),
        ("2.500", "TND", Decimal("2.500")),
        ("10.00", "XOF", Decimal("10")),  # zeros past the currency's decimals change nothing
    ],
)
def test_accepted_amounts(text: str, currency: str, expected: Decimal) -> None:
    assert parse_amount(text, currency) == expected


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("1000,50", "(decimals follow a point: write 1000.50)"),
        ("1 000,50", "(decimals follow a point: write 1000.50)"),
        ("-12 345,5", "(decimals follow a point: write -12345.5)"),
        ("1\u00a0000,50", "has non-ASCII characters; use the digits 0-9 (write 1000.50)"),
        ("1\u202f000,50", "has non-ASCII characters; use the digits 0-9 (write 1000.50)"),
        ("1,000", "(no grouping commas; write 1000.00)"),  # three digits: a grouping, not decimals
    ],
)
def test_a_french_style_amount_is_refused_saying_how_to_write_it(text: str, hint: str) -> None:
    with pytest.raises(MoneyError) as refused:
        parse_amount(text, "CAD")
    assert str(refused.value).endswith(hint)


@pytest.mark.parametrize(
    ("text", "currency", "fragment"),
    [
        ("NaN", "CAD", "NaN"),
        ("sNaN", "CAD", "NaN"),
        ("Infinity", "CAD", "Infinity"),
        ("-inf", "CAD", "Infinity"),
        ("1e3", "CAD", "exponent"),
        ("1_000", "CAD", "underscore"),
        ("１２３", "CAD", "non-ASCII"),
        ("١٢٣", "CAD", "non-ASCII"),
        ("1,000.00", "CAD", "grouping"),
        ("10.5", "XOF", "more decimals than XOF"),
        ("1.005", "CAD", "more decimals than CAD"),
        ("", "CAD", "empty"),
        ("12.", "CAD", "not a number"),
        ("99999999999999999999", "CAD", "amount 99999999999999999999 is beyond the storable range"),
        ("10", "cad", "upper case"),
        ("10", "US$", "unknown currency"),
        ("10", "XXX", "unknown currency"),
    ],
)
def test_refused_amounts(text: str, currency: str, fragment: str) -> None:
    with pytest.raises(MoneyError, match=fragment):
        parse_amount(text, currency)


def test_zero_forms_are_plain_zero() -> None:
    assert str(parse_amount("-0")) == "0.00"
    assert str(parse_amount("0.000")) == "0.00"


def test_formats_en_and_fr() -> None:
    assert format_money(Decimal("465000"), "CAD", "en") == "465,000.00 $"
    assert format_money(Decimal("465000"), "CAD", "fr") == "465 000,00 $"
    assert format_money(Decimal("-1234.5"), "CAD", "fr") == "-1 234,50 $"
    assert format_money(Decimal("1500"), "XOF", "fr") == "1 500 XOF"
    assert format_money(Decimal("0.1"), "USD", "en") == "0.10 USD"


def test_quantize_rounds_half_even_only_when_computing() -> None:
    assert quantize(Decimal("0.125"), "CAD") == Decimal("0.12")
    assert quantize(Decimal("0.135"), "CAD") == Decimal("0.14")


def test_to_minor_refuses_to_round() -> None:
    with pytest.raises(MoneyError):
        to_minor(Decimal("0.001"), "CAD")
    with pytest.raises(MoneyError):
        to_minor(Decimal("1"), "NOPE")


def test_check_currency() -> None:
    assert check_currency("HTG") == "HTG"
    with pytest.raises(MoneyError):
        check_currency("usd")


@given(st.integers(min_value=-MAX_MINOR, max_value=MAX_MINOR), st.sampled_from(["CAD", "XOF", "TND"]))
def test_minor_units_round_trip_exactly(minor: int, currency: str) -> None:
    amount = from_minor(minor, currency)
    assert to_minor(amount, currency) == minor
    assert parse_amount(str(amount), currency) == amount


@given(st.text(max_size=30))
def test_parse_amount_never_crashes(text: str) -> None:
    try:
        value = parse_amount(text)
    except MoneyError:
        return
    assert value.is_finite()
    assert abs(to_minor(value, "CAD")) <= MAX_MINOR
