"""The registers in a jsonl export: loans, commitments, their events, targets and settings.

The entries hold the books, but not what only these tables know: a loan's terms and the
events its figures fold from, a commitment's stages, the capital targets, the settings. An
export of the whole ledger writes them after the entries, one line per row, so that
`fisiq restore` rebuilds a ledger whose `loan` and `commitment` commands carry on (and which
can move from SQLite to PostgreSQL).

A row is written with every stored column, in the file's own terms:
- loans, commitments and their events keep their ids: entries point at them (`loan:N`,
  `commitment:N`) and events point at entries, whose ids a restore keeps;
- a party is named (`borrower`, `party`), not numbered: a restore maps names to its own ids;
- amounts are decimal strings in the row's currency (an event's is its owner's), as the
  entries' are; dates are ISO dates.

`RegisterWriter` checks each row on its own (fields, types, terms, ids in order) and writes
them; `loans_db.disagreement` and `commitments_db.disagreement` then check them against the
entries before the restore commits.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, insert, select, text

from fisiq import commitments as pledges
from fisiq.commitments_db import COMMITMENT, TARGET
from fisiq.commitments_db import EVENT as COMMITMENT_EVENT
from fisiq.entries import parse_date
from fisiq.errors import FisiqError
from fisiq.ledger import MAX_ID, PARTY
from fisiq.loans_db import EVENT as LOAN_EVENT
from fisiq.loans_db import LOAN, LOAN_EVENT_KINDS, terms_from_json
from fisiq.money import MoneyError, from_minor, parse_amount, to_minor, to_str
from fisiq.schedule import LoanTerms, validate_terms
from fisiq.settings_db import SETTING, check_setting


@dataclass(frozen=True, slots=True)
class Register:
    """How one table's rows are written as lines of kind `kind`."""

    kind: str
    table: Table
    keeps_id: bool
    party: tuple[str, str] | None = None  # (column, field): a party id written as its name
    money: str | None = None  # the column of minor units written as a decimal string
    owner: tuple[str, str] | None = None  # (column, owner kind): an event's amount is in its owner's currency


# In the order they are written and must be restored: owners before their events.
REGISTERS = (
    Register("target", TARGET, keeps_id=False, money="amount"),
    Register("setting", SETTING, keeps_id=False),
    Register("commitment", COMMITMENT, keeps_id=True, party=("party_id", "party")),
    Register("commitment_event", COMMITMENT_EVENT, keeps_id=True, money="amount", owner=("commitment_id", "commitment")),
    Register("loan", LOAN, keeps_id=True, party=("borrower_id", "borrower"), money="principal"),
    Register("loan_event", LOAN_EVENT, keeps_id=True, money="amount", owner=("loan_id", "loan")),
)
BY_KIND = {r.kind: r for r in REGISTERS}


class RegisterError(FisiqError):
    """A register line that cannot be restored; the message says what is wrong with it."""


def _fields(reg: Register) -> dict[str, Any]:
    """The file's field name for each stored column."""
    out = {}
    for col in reg.table.c:
        if col.name == "id" and not reg.keeps_id:
            continue
        out[reg.party[1] if reg.party and col.name == reg.party[0] else col.name] = col
    return out


def register_lines(conn: Connection) -> Iterator[tuple[str, dict[str, object]]]:
    """Every register row as (kind, fields), in the order of REGISTERS and of their ids."""
    party_names = {pid: name for pid, name in conn.execute(select(PARTY.c.id, PARTY.c.name))}
    currencies: dict[str, dict[int, str]] = {}
    for reg in REGISTERS:
        fields = _fields(reg)
        if "currency" in fields:
            currencies[reg.kind] = {}
        for row in conn.execute(select(reg.table).order_by(reg.table.c.id)):
            values = row._mapping
            doc: dict[str, object] = {}
            for field, col in fields.items():
                value = values[col.name]
                if reg.party and col.name == reg.party[0]:
                    value = party_names[value]
                elif isinstance(value, date):
                    value = value.isoformat()
                doc[field] = value
            if reg.kind in currencies:
                currencies[reg.kind][values["id"]] = values["currency"]
            if reg.money and doc[reg.money] is not None:
                currency = currencies[reg.owner[1]][values[reg.owner[0]]] if reg.owner else values["currency"]
                doc[reg.money] = to_str(from_minor(int(values[reg.money]), currency), currency)
            yield reg.kind, doc


def has_registers(conn: Connection) -> bool:
    """Whether any register table has a row (a restore needs them empty: it keeps ids)."""
    return any(conn.execute(select(reg.table.c.id).limit(1)).first() for reg in REGISTERS)


class RegisterWriter:
    """Checks register lines of a restore one by one and writes them, a table at a time."""

    def __init__(self, conn: Connection, entries: int) -> None:
        self.conn = conn
        self.entries = entries
        self.parties: dict[str, int] = {}
        self.kinds: dict[int, str] = {}  # party id -> its kind
        for pid, name, kind in conn.execute(select(PARTY.c.id, PARTY.c.name, PARTY.c.kind)):
            self.parties[name], self.kinds[pid] = pid, kind
        self.currencies: dict[str, dict[int, str]] = {"commitment": {}, "loan": {}}
        self.last_id: dict[str, int] = {}
        self.refs: dict[str, set[str]] = {}
        self.settings: dict[str, str] = {}  # the value in force per key so far
        self.rows: list[dict[str, Any]] = []
        self.current: Register | None = None
        self.counts = {reg.kind: 0 for reg in REGISTERS}

    def add(self, kind: str, body: dict[str, Any]) -> None:
        reg = BY_KIND[kind]
        if reg is not self.current:
            self.flush()
            self.current = reg
        self.rows.append(self._row(reg, body))
        self.counts[kind] += 1

    def _row(self, reg: Register, body: dict[str, Any]) -> dict[str, Any]:
        fields = _fields(reg)
        if set(body) != set(fields):
            missing, unknown = sorted(set(fields) - set(body)), sorted(set(body) - set(fields))
            raise RegisterError(f"a {reg.kind} line needs the fields {sorted(fields)}"
                                + (f"; missing {missing}" if missing else "") + (f"; unknown {unknown}" if unknown else ""))
        row: dict[str, Any] = {}
        for field, col in fields.items():
            value = body[field]
            if value is None:
                if not col.nullable:
                    raise RegisterError(f"{reg.kind} field {field!r} cannot be empty")
            elif reg.party and col.name == reg.party[0]:
                value = self._party(reg, field, value)
            elif field == reg.money:
                pass  # parsed below, once the currency is known
            elif col.type.python_type is int:
                low = 1 if col.name in ("id", "term") or col.name.endswith("_id") else 0
                if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= MAX_ID:
                    raise RegisterError(f"{reg.kind} field {field!r} must be a whole number from {low}, not {value!r}")
            elif col.type.python_type is date:
                value = self._date(reg, field, value)
            elif not isinstance(value, str):
                raise RegisterError(f"{reg.kind} field {field!r} must be text, not {value!r}")
            elif getattr(col.type, "length", None) and len(value) > col.type.length:
                raise RegisterError(f"{reg.kind} field {field!r} is longer than {col.type.length} characters")
            row[col.name] = value
        if reg.keeps_id:
            self._check_id(reg, row["id"])
        if row.get("ref") is not None:
            refs = self.refs.setdefault(reg.kind, set())
            if row["ref"] in refs:
                raise RegisterError(f"{reg.kind} reference {row['ref']!r} is given twice")
            refs.add(row["ref"])
        currency = self._currency(reg, row)
        if reg.money and row[reg.money] is not None:
            row[reg.money] = self._minor(reg, row[reg.money], currency)
        self._check_meaning(reg, row, currency)
        return row

    def _party(self, reg: Register, field: str, name: object) -> int:
        found = self.parties.get(name) if isinstance(name, str) else None
        if found is None:
            raise RegisterError(f"{reg.kind} {field} {name!r} is not among the file's parties")
        return int(found)

    @staticmethod
    def _date(reg: Register, field: str, value: object) -> date:
        if not isinstance(value, str):
            raise RegisterError(f"{reg.kind} field {field!r} must be an ISO date, not {value!r}")
        try:
            return parse_date(value)
        except FisiqError as exc:
            raise RegisterError(f"{reg.kind} field {field!r}: {exc}") from None

    def _check_id(self, reg: Register, row_id: int) -> None:
        if row_id <= self.last_id.get(reg.kind, 0):
            raise RegisterError(f"{reg.kind} {row_id} comes after {reg.kind} {self.last_id[reg.kind]}; "
                                "ids must rise through the file")
        self.last_id[reg.kind] = row_id

    def _currency(self, reg: Register, row: dict[str, Any]) -> str:
        if reg.owner is not None:
            column, owner = reg.owner
            currency = self.currencies[owner].get(row[column])
            if currency is None:
                raise RegisterError(f"{reg.kind} {row['id']} belongs to {owner} {row[column]}, "
                                    f"which the file does not hold before it")
            return currency
        currency = str(row.get("currency", ""))
        if reg.kind in self.currencies:
            self.currencies[reg.kind][row["id"]] = currency
        return currency

    @staticmethod
    def _minor(reg: Register, text_amount: object, currency: str) -> int:
        if not isinstance(text_amount, str):
            raise RegisterError(f"{reg.kind} field {reg.money!r} must be a decimal string, not {text_amount!r}")
        try:
            return to_minor(parse_amount(text_amount, currency), currency)
        except MoneyError as exc:
            raise RegisterError(f"{reg.kind} field {reg.money!r}: {exc}") from None

    def _check_meaning(self, reg: Register, row: dict[str, Any], currency: str) -> None:
        """What the commands would have refused; the rest (events) is the audit's check."""
        try:
            if reg.kind == "setting":
                # As `config set` stores it: every reader parses the stored form only.
                stored = check_setting(row["key"], row["value"])
                if stored != row["value"]:
                    raise RegisterError(f"setting {row['key']} holds {row['value']!r}; fisiq stores that value "
                                        f"as {stored!r}")
                if self.settings.get(row["key"]) == stored:
                    raise RegisterError(f"setting {row['key']} is set to {stored!r} twice in a row; "
                                        "`config set` records a change only")
                self.settings[row["key"]] = stored
            elif reg.kind in ("target", "commitment") and currency != pledges.CURRENCY:
                raise RegisterError(f"a {reg.kind} is in {pledges.CURRENCY}, not {currency}")
            elif reg.kind == "target":
                pledges.check_category(row["category"])
                if row["amount"] <= 0:
                    raise RegisterError(f"a target of {from_minor(row['amount'], currency)} is not more than zero")
            elif reg.kind == "commitment":
                pledges.check_instrument(row["instrument"])
                pledges.category_of(self.kinds[row["party_id"]])
            elif reg.kind == "loan":
                kind = self.kinds[row["borrower_id"]]
                if kind != "borrower":
                    raise RegisterError(f"loan {row['id']}'s borrower is a {kind}, not a borrower")
                validate_terms(LoanTerms(
                    from_minor(row["principal"], currency), currency, Decimal(row["annual_rate"]), row["term"],
                    row["first_due"], row["frequency"], row["method"], row["grace"],
                ))
                if row["approved_on"] >= row["first_due"]:
                    raise RegisterError(f"loan {row['id']} is approved on {row['approved_on']}, "
                                        f"not before its first due date {row['first_due']}")
            elif reg.kind == "loan_event":
                self._check_loan_event(row)
            if row.get("entry_id") is not None and row["entry_id"] > self.entries:
                raise RegisterError(f"{reg.kind} {row['id']} points at entry {row['entry_id']}, "
                                    f"beyond the file's {self.entries} entries")
        except RegisterError:
            raise
        except (FisiqError, ArithmeticError, ValueError, TypeError, LookupError) as exc:
            raise RegisterError(f"{reg.kind}{' ' + str(row['id']) if 'id' in row else ''}: "
                                f"{exc if isinstance(exc, FisiqError) else repr(exc)}") from None

    @staticmethod
    def _check_loan_event(row: dict[str, Any]) -> None:
        """The details the loan commands read back: an interest posting's installment, a
        reschedule's terms."""
        if row["kind"] not in LOAN_EVENT_KINDS:
            raise RegisterError(f"loan_event {row['id']} is of kind {row['kind']!r}, not one of {', '.join(LOAN_EVENT_KINDS)}")
        try:
            details = json.loads(row["details"]) if row["details"] is not None else {}
        except ValueError:
            details = None
        if not isinstance(details, dict):
            raise RegisterError(f"loan_event {row['id']}: its details are not a JSON object")
        installment = details.get("installment")
        if row["kind"] == "interest" and (not isinstance(installment, int) or isinstance(installment, bool)):
            raise RegisterError(f"loan_event {row['id']}: an interest posting names its installment in its details")
        if row["kind"] == "rescheduled":
            if not isinstance(details.get("terms"), dict):
                raise RegisterError(f"loan_event {row['id']}: a reschedule's details hold its new terms")
            validate_terms(terms_from_json(details["terms"]))

    def flush(self) -> None:
        if self.current is not None and self.rows:
            self.conn.execute(insert(self.current.table), self.rows)
            if self.current.keeps_id and self.conn.dialect.name == "postgresql":
                # Rows written with their ids leave the id sequence behind; the next
                # `loan add` would take id 1 again.
                name = self.current.table.name
                self.conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                       f"(SELECT max(id) FROM {name}))"))
        self.rows = []

