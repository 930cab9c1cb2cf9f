"""Money: exact decimal amounts in a currency, parsed strictly and printed for en-CA / fr-CA.

Never a float. An amount is a `decimal.Decimal` in code and an integer count of the
currency's minor unit in storage (`to_minor` / `from_minor`). An amount with more decimals
than its currency allows is refused, never rounded: only the schedule and interest
computations round, and they say so (`quantize`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from fisiq.errors import FisiqError

# ISO 4217 codes with their minor-unit exponents. Kept to the currencies a Québec fund and
# its Southern borrowers meet; an unknown code is refused rather than guessed.
CURRENCIES: dict[str, int] = {
    "CAD": 2, "USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "JPY": 0, "CNY": 2, "INR": 2,
    "HTG": 2, "XOF": 0, "XAF": 0, "MAD": 2, "TND": 3, "DZD": 2, "EGP": 2, "GHS": 2,
    "NGN": 2, "KES": 2, "UGX": 0, "TZS": 2, "RWF": 0, "BIF": 0, "CDF": 2, "ETB": 2,
    "MGA": 2, "MZN": 2, "ZAR": 2, "ZMW": 2, "MWK": 2, "GNF": 0, "SLE": 2, "LRD": 2,
    "GMD": 2, "MRU": 2, "CVE": 2, "KMF": 0, "DJF": 0, "SOS": 2, "SDG": 2, "SSP": 2,
    "BOB": 2, "PEN": 2, "COP": 2, "CLP": 0, "ARS": 2, "BRL": 2, "MXN": 2, "GTQ": 2,
    "HNL": 2, "NIO": 2, "CRC": 2, "PAB": 2, "DOP": 2, "CUP": 2, "JMD": 2, "PYG": 0,
    "UYU": 2, "VES": 2, "XCD": 2, "BZD": 2, "VND": 0, "KHR": 2, "LAK": 2,
    "MMK": 2, "THB": 2, "PHP": 2, "IDR": 2, "BDT": 2, "NPR": 2, "PKR": 2, "LKR": 2,
    "AFN": 2, "LBP": 2, "JOD": 3, "SYP": 2, "IQD": 3, "YER": 2, "ILS": 2, "TRY": 2,
    "KWD": 3, "BHD": 3, "OMR": 3, "AUD": 2, "NZD": 2, "SEK": 2, "NOK": 2, "DKK": 2,
}

DEFAULT_CURRENCY = "CAD"

# Largest amount fisiq stores, in minor units (ten trillion dollars): far above any fund's
# books, and small enough that thousands of them sum inside a signed 64-bit integer. Past
# that, SQLite raises "integer overflow" rather than wrap, so a total is never silently wrong.
MAX_MINOR = 10**15 - 1  # 9,999,999,999,999.99 CAD

_AMOUNT = re.compile(r"^([+-]?)([0-9]+)(?:\.([0-9]+))?$")
_GROUPED_EN = re.compile(r"^([+-]?)([0-9]{1,3}(?:,[0-9]{3})+)(?:\.([0-9]+))?$")
# How French-speaking users write 1000.50 (spaces, no-break or thin, group the thousands): only
# recognised to say how fisiq wants it, never read as an amount.
_FRENCH_SPACES = re.compile("[ \u00a0\u202f]")
_FRENCH_DECIMAL = re.compile("^([+-]?[0-9]{1,3}(?:[ \u00a0\u202f]?[0-9]{3})*),([0-9]{1,2})$")
_GROUPED_SPACES = re.compile("^[+-]?[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+(?:\\.[0-9]+)?$")


class MoneyError(FisiqError):
    """An amount or a currency code that fisiq refuses; the message says why."""


def currency_exponent(code: str) -> int:
    """The number of decimals the ISO 4217 currency allows (CAD 2, XOF 0, TND 3)."""
    if code not in CURRENCIES:
        if code.upper() in CURRENCIES:
            raise MoneyError(f"currency code {code!r} must be upper case: {code.upper()}")
        raise MoneyError(f"unknown currency code {code!r} (ISO 4217, e.g. CAD, USD, XOF)")
    return CURRENCIES[code]


def check_currency(code: str) -> str:
    """Return the code if fisiq knows it, else raise MoneyError."""
    currency_exponent(code)
    return code


def quantum(currency: str) -> Decimal:
    """The currency's minor unit as a Decimal: 0.01 for CAD, 1 for XOF."""
    return Decimal(1).scaleb(-currency_exponent(currency))


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round a computed amount (interest, an installment) to the minor unit, half to even.

    Only computations round; amounts a person types are checked by `parse_amount` instead.
    """
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_EVEN)


def _french_decimal(raw: str) -> str | None:
    """`raw` written as fisiq reads it, if it is an amount in the French style ("1 000,50")."""
    match = _FRENCH_DECIMAL.match(raw)
    if match is None:
        return None
    return f"{_FRENCH_SPACES.sub('', match[1])}.{match[2]}"


def without_spaces(typed: str) -> str | None:
    """How fisiq reads an amount typed with spaces between its digit groups ("1 000,50" ->
    "1000.50", "1 000" -> "1000"), or None if `typed` is not one."""
    if french := _french_decimal(typed):
        return french
    joined = _FRENCH_SPACES.sub("", typed)
    return joined if _GROUPED_SPACES.match(typed) and _AMOUNT.match(joined) else None


def parse_amount(text: str, currency: str = DEFAULT_CURRENCY, *, allow_grouping: bool = False) -> Decimal:
    """Parse an amount a person typed: ASCII digits, an optional sign and decimal point.

    Refused with a MoneyError: NaN, Infinity, exponents, `_`, non-ASCII digits, grouping
    commas (unless `allow_grouping`), more decimals than the currency allows, and amounts
    beyond the storable range.
    """
    currency_exponent(currency)
    raw = text.strip()
    if not raw:
        raise MoneyError("amount is empty")
    if not raw.isascii():
        written_with_point = _french_decimal(raw)
        hint = f" (write {written_with_point})" if written_with_point else ""
        raise MoneyError(f"amount {text!r} has non-ASCII characters; use the digits 0-9{hint}")
    match = _AMOUNT.match(raw)
    if match is None and allow_grouping:
        match = _GROUPED_EN.match(raw)
    if match is None:
        hint = ""
        if written_with_point := _french_decimal(raw):
            hint = f" (decimals follow a point: write {written_with_point})"
        elif "," in raw:
            hint = " (no grouping commas; write 1000.00)"
        elif raw.lower().lstrip("+-") in {"nan", "snan", "inf", "infinity"}:
            hint = " (NaN and Infinity are not amounts)"
        elif "e" in raw.lower():
            hint = " (no exponents; write plain digits)"
        elif "_" in raw:
            hint = " (no underscores)"
        raise MoneyError(f"amount {text!r} is not a number like 1234.56{hint}")
    sign, whole, frac = match.groups()
    frac = frac or ""
    exponent = currency_exponent(currency)
    if len(frac.rstrip("0")) > exponent:
        raise MoneyError(
            f"amount {text!r} has more decimals than {currency} allows ({exponent})"
        )
    try:
        value = Decimal(f"{sign}{whole.replace(',', '')}{'.' + frac if frac else ''}")
    except InvalidOperation:  # pragma: no cover - the regex admits only digits
        raise MoneyError(f"amount {text!r} is not a number") from None
    check_storable(value, currency)
    return from_minor(to_minor(value, currency), currency)  # CAD 10 -> 10.00, -0 -> 0.00


def check_storable(amount: Decimal, currency: str) -> None:
    """Raise MoneyError unless the amount fits the minor-unit column exactly."""
    if not amount.is_finite():
        raise MoneyError(f"amount {amount} is not a finite number")
    exp = currency_exponent(currency)
    minor = amount.scaleb(exp)
    if minor != minor.to_integral_value():
        raise MoneyError(f"amount {amount} has more decimals than {currency} allows ({exp})")
    if abs(minor) > MAX_MINOR:
        limit = from_minor(MAX_MINOR, currency)
        raise MoneyError(f"amount {amount} is beyond the storable range (at most {limit} {currency})")


def to_minor(amount: Decimal, currency: str) -> int:
    """Exact conversion to integer minor units; raises MoneyError rather than round."""
    # The checks of `check_storable`, done once on the scaled value: this runs for every
    # posting of a bulk import. Any failure goes through `check_storable` for its message.
    exponent = currency_exponent(currency)  # an unknown currency is named before the amount
    if amount.is_finite():
        minor = amount.scaleb(exponent)
        if minor == minor.to_integral_value():
            value = int(minor)
            if -MAX_MINOR <= value <= MAX_MINOR:
                return value
    check_storable(amount, currency)
    raise MoneyError(f"amount {amount} cannot be stored in {currency}")  # pragma: no cover - unreachable


def from_minor(minor: int, currency: str) -> Decimal:
    """The Decimal for a stored count of minor units, with the currency's decimals."""
    exp = currency_exponent(currency)
    return Decimal(minor).scaleb(-exp).quantize(quantum(currency))


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency."""

    amount: Decimal
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        check_storable(self.amount, self.currency)

    @property
    def minor(self) -> int:
        return to_minor(self.amount, self.currency)

    def __str__(self) -> str:
        return format_money(self.amount, self.currency)


def to_str(amount: Decimal, currency: str) -> str:
    """Plain machine form with the currency's decimals: `465000.00`, `-12.50`, `1500`."""
    return str(amount.quantize(quantum(currency)) + Decimal(0))


def format_percent(value: Decimal, lang: str = "en") -> str:
    """A percentage as given (46.5 -> 46,5 % in French, 46.5% in English; 10 stays 10)."""
    text = f"{value:f}"
    return f"{text} %".replace(".", ",") if lang == "fr" else f"{text}%"


def format_ratio(ratio: Decimal, lang: str = "en") -> str:
    """A fraction 0..1 as a percentage with two decimals: 0.125 -> 12.50% (en), 12,50 % (fr)."""
    return format_percent((ratio * 100).quantize(Decimal("0.01")), lang)


def format_money(amount: Decimal, currency: str = DEFAULT_CURRENCY, lang: str = "en", *, symbol: bool = True) -> str:
    """Print an amount for people: en `465,000.00 $`, fr `465 000,00 $` (Québec style).

    The `$` sign stands for CAD; other currencies print their code. Negative amounts carry
    a leading minus sign in both languages.
    """
    q = amount.quantize(quantum(currency)) + Decimal(0)
    sign = "-" if q < 0 else ""
    text = f"{abs(q):,f}"
    whole, _, frac = text.partition(".")
    if lang == "fr":
        # Québec style groups with spaces. A plain space, not a no-break one: it is what a
        # reader types when searching a report; tables keep amounts on one line themselves.
        whole = whole.replace(",", " ")
        number = whole + ("," + frac if frac else "")
    else:
        number = whole + ("." + frac if frac else "")
    if not symbol:
        return sign + number
    unit = "$" if currency == "CAD" else currency
    return f"{sign}{number} {unit}"
