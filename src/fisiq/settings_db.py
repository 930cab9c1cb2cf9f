"""Settings in storage: the `setting` table, append-only, the latest row for a key in force.

A key must be known here, with a function that checks (and normalizes) its value, so a typo
never becomes a silent setting. Other modules add their keys to `KNOWN`.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, insert, select

from fisiq.db import utc_now, write_transaction
from fisiq.errors import FisiqError
from fisiq.models import Setting
from fisiq.statements import DEFAULT_YEAR_END, parse_year_end

SETTING = Setting.__table__  # type: ignore[attr-defined]
FISCAL_YEAR_END = "fiscal_year_end"
UNPAID_COMMITMENT_DAYS = "board.unpaid_commitment_days"


class SettingError(FisiqError):
    """An unknown setting key or a value it does not accept."""


def _year_end(value: str) -> str:
    return str(parse_year_end(value))


def _days(value: str) -> str:
    raw = value.strip()
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 36500):
        raise SettingError(f"{UNPAID_COMMITMENT_DAYS} must be a whole number of days from 1 to 36500, not {value!r}")
    return str(int(raw))


# key -> (what it is, checker returning the normalized value, default)
KNOWN: dict[str, tuple[str, Callable[[str], str], str]] = {
    FISCAL_YEAR_END: ("last day of the fiscal year, MM-DD", _year_end, DEFAULT_YEAR_END),
    UNPAID_COMMITMENT_DAYS: ("days a signed commitment may stay unpaid before the board report flags it",
                             _days, "180"),
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
    from fisiq.ledger import current_user

    normalized = check_setting(key, value)
    with write_transaction(engine) as conn:
        row = conn.execute(
            select(SETTING.c.value).where(SETTING.c.key == key).order_by(SETTING.c.id.desc()).limit(1)
        ).first()
        if row is not None and row[0] == normalized:
            return normalized, False
        conn.execute(insert(SETTING), {
            "key": key, "value": normalized, "recorded_at": utc_now(), "recorded_by": recorded_by or current_user(),
        })
    return normalized, True
