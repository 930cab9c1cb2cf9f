"""Storage tables (SQLModel): the only description of the schema the code reads and writes.

Design overview:
- Money is stored as integers in the currency's minor unit (`amount`) beside its ISO code;
  never NUMERIC, which SQLite keeps as floating point.
- The books are append-only. `entry` and `posting` hold the journal; every other table that
  records a fact (parties, commitments and their events, loans and their events, targets,
  settings) is append-only too. Database triggers refuse UPDATE and DELETE (and TRUNCATE on
  PostgreSQL), so a writer that bypasses fisiq cannot rewrite history.
- An entry's postings are inserted first and the entry row last; the entry's insert trigger
  refuses it unless its postings balance per currency, its id is the next in the chain and
  its `prev_hash` is the previous entry's hash. A posting can only be added for the entry
  about to be written. On PostgreSQL a deferred constraint trigger checks balance again at
  commit. The whole migration with its triggers is in `fisiq/migrations/versions/`.
- Entry ids are the chain positions, 1, 2, 3, ... without gaps.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel


class Meta(SQLModel, table=True):
    __tablename__ = "fisiq_meta"
    key: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=200)


class Account(SQLModel, table=True):
    __tablename__ = "account"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    type: str = Field(max_length=10)
    description: str = Field(default="", max_length=200)
    recorded_at: str = Field(max_length=40)


class Party(SQLModel, table=True):
    __tablename__ = "party"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200, unique=True)
    skeleton: str = Field(max_length=200, index=True)
    kind: str = Field(max_length=20, index=True)
    acronym: str | None = Field(default=None, max_length=40)
    acronym_key: str | None = Field(default=None, max_length=40, unique=True)
    country: str | None = Field(default=None, max_length=2)
    region: str | None = Field(default=None, max_length=40)
    sector: str | None = Field(default=None, max_length=80)
    women_led: bool = False
    youth_led: bool = False
    membership: str | None = Field(default=None, max_length=20)
    recorded_at: str = Field(max_length=40)
    recorded_by: str = Field(max_length=100)


class Entry(SQLModel, table=True):
    __tablename__ = "entry"
    # Assigned by fisiq as the next chain position, never by a sequence.
    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    date: date
    memo: str = Field(max_length=500)
    kind: str = Field(max_length=40, index=True)
    ref: str | None = Field(default=None, max_length=200, unique=True)
    link: str | None = Field(default=None, max_length=60, index=True)
    reverses: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("entry.id"), unique=True))
    recorded_by: str = Field(max_length=100)
    recorded_at: str = Field(max_length=40)
    # Not UNIQUE since 0002: the chain trigger and the primary key keep the chain one line;
    # `audit verify` recomputes each hash (see migrations/versions/0002).
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class Posting(SQLModel, table=True):
    __tablename__ = "posting"
    __table_args__ = (UniqueConstraint("entry_id", "line"),)
    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("entry.id", deferrable=True, initially="DEFERRED"),
            nullable=False,
            index=True,
        )
    )
    line: int
    # The entry's date, repeated so that balances as of a date need no join; the entry's
    # insert trigger refuses a posting whose date differs from its entry's.
    entry_date: date
    account_id: int = Field(foreign_key="account.id")
    party_id: int | None = Field(default=None, foreign_key="party.id", index=True)
    currency: str = Field(max_length=3)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))


class Commitment(SQLModel, table=True):
    __tablename__ = "commitment"
    id: int | None = Field(default=None, primary_key=True)
    party_id: int = Field(foreign_key="party.id", index=True)
    instrument: str = Field(max_length=10)
    currency: str = Field(max_length=3)
    ref: str | None = Field(default=None, max_length=200, unique=True)
    recorded_at: str = Field(max_length=40)
    recorded_by: str = Field(max_length=100)


class CommitmentEvent(SQLModel, table=True):
    """A stage change or payment of a commitment; `entry_id` when it posted an entry."""

    __tablename__ = "commitment_event"
    id: int | None = Field(default=None, primary_key=True)
    commitment_id: int = Field(foreign_key="commitment.id", index=True)
    kind: str = Field(max_length=20)
    date: date
    amount: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    entry_id: int | None = Field(default=None, foreign_key="entry.id")
    reason: str | None = Field(default=None, max_length=500)
    ref: str | None = Field(default=None, max_length=200, unique=True)
    recorded_at: str = Field(max_length=40)
    recorded_by: str = Field(max_length=100)


class Target(SQLModel, table=True):
    __tablename__ = "target"
    id: int | None = Field(default=None, primary_key=True)
    category: str = Field(max_length=20, index=True)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    date: date
    recorded_at: str = Field(max_length=40)
    recorded_by: str = Field(max_length=100)


class Loan(SQLModel, table=True):
    __tablename__ = "loan"
    id: int | None = Field(default=None, primary_key=True)
    borrower_id: int = Field(foreign_key="party.id", index=True)
    currency: str = Field(max_length=3)
    principal: int = Field(sa_column=Column(BigInteger, nullable=False))
    annual_rate: str = Field(max_length=20)  # a decimal percent as text, e.g. "6.5"
    term: int
    frequency: str = Field(max_length=10)
    method: str = Field(max_length=20)
    grace: int = 0
    first_due: date
    approved_on: date
    ref: str | None = Field(default=None, max_length=200, unique=True)
    purpose: str | None = Field(default=None, max_length=500)
    recorded_at: str = Field(max_length=40)
    recorded_by: str = Field(max_length=100)


class LoanEvent(SQLModel, table=True):
    """Something that happened to a loan; `details` is JSON (e.g. a reschedule's new terms)."""

    __tablename__ = "loan_event"
    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="loan.id", index=True)
    kind: str = Field(max_length=20)
    date: date
    amount: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    entry_id: int | None = Field(default=None, foreign_key="entry.id")
    details: str | None = Field(default=None, sa_column=Column(String(4000), nullable=True))
    ref: str | None = Field(default=None, max_length=200, unique=True)
    recorded_at: str = Field(max_length=40)
    recorded_by: str = Field(max_length=100)


class Setting(SQLModel, table=True):
    """A configurable value (a limit, a rate); the latest row for a key is in force."""

    __tablename__ = "setting"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=60, index=True)
    value: str = Field(max_length=500)
    recorded_at: str = Field(max_length=40)
    recorded_by: str = Field(max_length=100)


APPEND_ONLY_TABLES = (
    "account",
    "party",
    "entry",
    "posting",
    "commitment",
    "commitment_event",
    "target",
    "loan",
    "loan_event",
    "setting",
)
