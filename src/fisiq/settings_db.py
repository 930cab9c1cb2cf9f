"""Settings in storage: the `setting` table, append-only, the latest row for a key in force.

A key must be known here, with a function that checks (and normalizes) its value, so a typo
never becomes a silent setting. Other modules add their keys to `KNOWN`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import Connection, Engine, insert, select

from fisiq.db import utc_now, write_transaction
from fisiq.errors import FisiqError
from fisiq.loans import DEFAULT_PROVISION_RATES, check_new_rates, rates_json
from fisiq.models import Setting
from fisiq.statements import DEFAULT_YEAR_END, parse_year_end

SETTING = Setting.__table__  # type: ignore[attr-defined]
FISCAL_YEAR_END = "fiscal_year_end"
UNPAID_COMMITMENT_DAYS = "board.unpaid_commitment_days"
MAX_BORROWER_SHARE = "loan.max_borrower_share"
PROVISION_RATES = "loan.provision_rates"


class SettingError(FisiqError):
    """An unknown setting key or a value it does not accept."""


def _year_end(value: str) -> str:
    return str(parse_year_end(value))


def _days(value: str) -> str:
    raw = value.strip()
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 36500):
        raise SettingError(f"{UNPAID_COMMITMENT_DAYS} must be a whole number of days from 1 to 36500, not {value!r}")
    return str(int(raw))


def _share(value: str) -> str:
    from fisiq.loans_db import parse_share  # loans_db reads its settings here: import late

    return str(parse_share(value))


def _rates(value: str) -> str:
    """Provision rates typed `0:1,1:5,...` (days: percent) or as stored (JSON); stored as JSON."""
    from fisiq.loans_db import parse_rates

    raw = value.strip()
    if not raw.startswith("["):
        return rates_json(parse_rates(raw))
    try:
        rates = tuple((int(days), Decimal(str(rate))) for days, rate in json.loads(raw))
    except (ValueError, TypeError, ArithmeticError):
        raise SettingError(f"{PROVISION_RATES}: {value!r} is not a list of [days, rate] pairs") from None
    check_new_rates(rates)
    return rates_json(rates)


# key -> (what it is, checker returning the normalized value, default)
KNOWN: dict[str, tuple[str, Callable[[str], str], str]] = {
    FISCAL_YEAR_END: ("last day of the fiscal year, MM-DD", _year_end, DEFAULT_YEAR_END),
    UNPAID_COMMITMENT_DAYS: ("days a signed commitment may stay unpaid before the board report flags it",
                             _days, "180"),
    MAX_BORROWER_SHARE: ("largest share of the capital paid in that one borrower may owe, percent", _share, "10"),
    PROVISION_RATES: ("loan-loss provision rates by days past due, e.g. 0:1,1:5,31:25,91:50,181:100",
                      _rates, rates_json(DEFAULT_PROVISION_RATES)),
}


def check_setting(key: str, value: str) -> str:
    if key not in KNOWN:
        raise SettingError(f"unknown setting {key!r}; known: {', '.join(sorted(KNOWN))}")
    return KNOWN[key][1](value)


def get_setting(conn: Connection, key: str) -> str:
    """The value in force for a known key (its default when never set)."""
    if key not in KNOWN:
        raise SettingError(f"unknown setting {key!r}; known: {', '.join(sorted(KNOWN))}")
    row = conn.execute(
        select(SETTING.c.value).where(SETTING.c.key == key).order_by(SETTING.c.id.desc()).limit(1)
    ).first()
    return row[0] if row else KNOWN[key][2]


def all_settings(conn: Connection) -> dict[str, tuple[str, bool]]:
    """Every known key -> (value in force, whether it was set rather than the default)."""
    latest: dict[str, str] = {}
    for key, value in conn.execute(select(SETTING.c.key, SETTING.c.value).order_by(SETTING.c.id)):
        latest[key] = value
    return {key: (latest[key], True) if key in latest else (default, False)
            for key, (_, _, default) in sorted(KNOWN.items())}


def set_setting(engine: Engine, key: str, value: str, *, recorded_by: str | None = None) -> tuple[str, bool]:
    """Record a new value for a key; returns (normalized value, changed). Same value: no row."""
    with write_transaction(engine) as conn:
        return record_setting(conn, key, value, recorded_by=recorded_by)


def record_setting(conn: Connection, key: str, value: str, *, recorded_by: str | None = None) -> tuple[str, bool]:
    """`set_setting` on a connection that already holds the write lock (for a larger write)."""
    from fisiq.ledger import current_user

    normalized = check_setting(key, value)
    row = conn.execute(
        select(SETTING.c.value).where(SETTING.c.key == key).order_by(SETTING.c.id.desc()).limit(1)
    ).first()
    if row is not None and row[0] == normalized:
        return normalized, False
    conn.execute(insert(SETTING), {
        "key": key, "value": normalized, "recorded_at": utc_now(), "recorded_by": recorded_by or current_user(),
    })
    return normalized, True
