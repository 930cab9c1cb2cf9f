"""The journal in storage: recording entries on the chain, reversals, balances, verification.

This module and `db.py` are the only places that speak SQL for the journal. Every write
runs inside `db.write_transaction`, which holds the ledger's write lock from the first
statement, so the chain head read here is still the head when the entry is appended.
"""

from __future__ import annotations

import gc
import getpass
import os
import queue
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from itertools import chain, pairwise
from typing import Any, ClassVar, NamedTuple, TypeVar

from sqlalchemy import Connection, Date, Engine, Select, and_, column, func, insert, select, table

from fisiq import accounts as chart
from fisiq.db import read_transaction, utc_now, write_transaction
from fisiq.entries import (
    GENESIS_HASH,
    PERIOD_CLOSE,
    ChainProblem,
    EntryDraft,
    RecordedEntry,
    last_counted_reversal,
    reversal_of,
    same_content,
    seal,
    validate_entry,
    verify_chain,
)
from fisiq.errors import LedgerError
from fisiq.money import from_minor
from fisiq.reports import Balance, RegisterLine
from fisiq.statements import FiscalYear, YearFigures

K = TypeVar("K", str, int)
# Ids are INTEGER columns: 32-bit on PostgreSQL, where a larger one makes the query fail
# ("integer out of range"), 64-bit on SQLite. A ledger moves between the two, so both
# engines hold the smaller range.
MAX_ID = 2**31 - 1


class _Tables:
    """The journal's tables from `fisiq.models`, loaded on first use.

    Importing SQLModel and building the model classes costs about a third of a command's
    start-up; loading them only when a query needs them keeps `--help` and argument errors
    fast. `T.ENTRY` is the real `Table`, usable anywhere SQLAlchemy takes one.
    """

    _MODELS: ClassVar[dict[str, str]] = {
        "ACCOUNT": "Account", "ENTRY": "Entry", "POSTING": "Posting", "PARTY": "Party", "LOAN_EVENT": "LoanEvent",
        "COMMITMENT_EVENT": "CommitmentEvent",
    }

    def __getattr__(self, name: str) -> Any:
        if name not in self._MODELS:
            raise AttributeError(name)
        from fisiq import models

        table = getattr(models, self._MODELS[name]).__table__
        setattr(self, name, table)
        return table


T: Any = _Tables()


def __getattr__(name: str) -> Any:
    """`from fisiq.ledger import ENTRY` keeps working for the other storage modules."""
    if name in _Tables._MODELS:
        return getattr(T, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def current_user() -> str:
    """Who records: FISIQ_USER, else the operating-system user."""
    user = os.environ.get("FISIQ_USER", "").strip()
    if user:
        return user[:100]
    try:
        return getpass.getuser()[:100]
    except Exception:  # no login name in some containers
        return "unknown"


# --- chart of accounts -------------------------------------------------------------------


def ensure_standard_chart(conn: Connection) -> int:
    """Add the accounts of the standard chart that are missing; returns how many were added."""
    existing = set(conn.execute(select(T.ACCOUNT.c.name)).scalars())
    now = utc_now()
    rows = [
        {"name": a.name, "type": a.type.value, "description": a.description, "recorded_at": now}
        for a in chart.STANDARD_CHART
        if a.name not in existing
    ]
    if rows:
        conn.execute(insert(T.ACCOUNT), rows)
    return len(rows)


def add_account(engine: Engine, name: str, account_type: chart.AccountType, description: str = "") -> None:
    """Open a new account; its type must agree with the root of its name."""
    chart.check_new_account(name, account_type)
    with write_transaction(engine) as conn:
        if conn.execute(select(T.ACCOUNT.c.id).where(T.ACCOUNT.c.name == name)).first():
            raise LedgerError(f"account {name} already exists")
        conn.execute(
            insert(T.ACCOUNT),
            {"name": name, "type": account_type.value, "description": description, "recorded_at": utc_now()},
        )


def list_accounts(conn: Connection, *, as_opened: bool = False) -> list[chart.Account]:
    """Every account, by name (`as_opened`: in the order they were opened)."""
    order = T.ACCOUNT.c.id if as_opened else T.ACCOUNT.c.name
    rows = conn.execute(select(T.ACCOUNT.c.name, T.ACCOUNT.c.type, T.ACCOUNT.c.description).order_by(order))
    return [chart.Account(r.name, chart.AccountType(r.type), r.description) for r in rows]


def account_ids(conn: Connection) -> dict[str, int]:
    return {r.name: r.id for r in conn.execute(select(T.ACCOUNT.c.id, T.ACCOUNT.c.name))}


# --- parties -----------------------------------------------------------------------------


def unknown_party(conn: Connection, name: str, hint: str = "see `fisiq party list`") -> str:
    """What to say of a name no party has: the party it looks like, if one does (a typographic
    apostrophe or a Cyrillic letter where the recorded name has a plain one)."""
    from fisiq.names import lookalike_of

    names = conn.execute(select(T.PARTY.c.name)).scalars()
    similar = lookalike_of(name, names)
    if similar is not None:
        return f"unknown party {name!r}; did you mean {similar!r}? ({hint})"
    return f"unknown party {name!r} ({hint})"


def find_party_id(conn: Connection, name_or_acronym: str) -> int | None:
    """A party's id by its name (after normalization) or its acronym, or None."""
    from fisiq.names import name_key

    key = name_key(name_or_acronym)
    row = conn.execute(
        select(T.PARTY.c.id).where((T.PARTY.c.name_key == key) | (T.PARTY.c.acronym_key == key))
    ).first()
    return row[0] if row else None


def party_names(conn: Connection) -> dict[int, str]:
    return {r.id: r.name for r in conn.execute(select(T.PARTY.c.id, T.PARTY.c.name))}


# --- recording ---------------------------------------------------------------------------


class Recorded(NamedTuple):
    """The outcome of a write: the entry, and whether it is new (False: same ref, no-op)."""

    # A NamedTuple for the reason RecordedEntry is one: one per entry of a bulk import.

    entry: RecordedEntry
    created: bool


def chain_head(conn: Connection) -> tuple[int, str]:
    """(id, hash) of the last entry, or (0, genesis) for an empty journal."""
    row = conn.execute(select(T.ENTRY.c.id, T.ENTRY.c.hash).order_by(T.ENTRY.c.id.desc()).limit(1)).first()
    return (row.id, row.hash) if row else (0, GENESIS_HASH)


def closed_through(conn: Connection) -> date | None:
    """The last date of the closed periods, or None when no period is closed."""
    value = conn.execute(select(func.max(T.ENTRY.c.date)).where(T.ENTRY.c.kind == PERIOD_CLOSE)).scalar()
    return None if value is None else as_date(value)


def in_chunks(values: Iterable[K], size: int = 500) -> Iterator[list[K]]:
    """The distinct values, sorted, `size` at a time: one `IN (...)` query per chunk instead of
    one query per value, within every engine's limit on bound parameters."""
    wanted = sorted(set(values))
    for start in range(0, len(wanted), size):
        yield wanted[start : start + size]


def _resolve_parties(conn: Connection, drafts: Sequence[EntryDraft]) -> tuple[dict[str, int], dict[str, str]]:
    """Each party name the drafts use, mapped to its party id; and the names typed otherwise
    than recorded (an acronym, another case), mapped to the recorded name.

    One query per 500 distinct names (by name or acronym, as `find_party_id`), not one per
    name: an import of many borrowers would otherwise spend its time in round trips.
    """
    from fisiq.names import name_key

    typed = list(dict.fromkeys(p.party for d in drafts for p in d.postings if p.party is not None))
    keys = {name: name_key(name) for name in typed}
    by_name: dict[str, tuple[int, str]] = {}
    by_acronym: dict[str, tuple[int, str]] = {}
    for chunk in in_chunks(keys.values()):
        rows = conn.execute(
            select(T.PARTY.c.id, T.PARTY.c.name, T.PARTY.c.name_key, T.PARTY.c.acronym_key).where(
                T.PARTY.c.name_key.in_(chunk) | T.PARTY.c.acronym_key.in_(chunk)
            )
        )
        for r in rows:
            by_name[r.name_key] = (r.id, r.name)
            if r.acronym_key is not None:
                by_acronym[r.acronym_key] = (r.id, r.name)
    ids: dict[str, int] = {}
    renamed: dict[str, str] = {}
    for name in typed:  # in the order the drafts name them, so the first unknown is reported
        found = by_name.get(keys[name], by_acronym.get(keys[name]))
        if found is None:
            raise LedgerError(unknown_party(conn, name))
        ids[name] = found[0]
        if found[1] != name:
            renamed[name] = found[1]
    return ids, renamed


def _canonical_party_names(draft: EntryDraft, renamed: dict[str, str]) -> EntryDraft:
    """Postings name parties by their recorded name (an acronym typed becomes the name).

    `renamed` maps each name as typed to the recorded one, for the names that differ.
    """
    if not renamed or all(p.party not in renamed for p in draft.postings):
        return draft  # the usual case: names typed as recorded, nothing to copy
    postings = tuple(replace(p, party=renamed[p.party]) if p.party in renamed else p for p in draft.postings)
    return replace(draft, postings=postings)


def _recorded_refs(conn: Connection, refs: Iterable[str]) -> dict[str, RecordedEntry]:
    """The entries already recorded under these references: two queries per 500 references."""
    found: dict[str, RecordedEntry] = {}
    for chunk in in_chunks(refs):
        matched = T.ENTRY.c.ref.in_(chunk)
        by_ref = _with_postings(conn, matched, T.POSTING.c.entry_id.in_(select(T.ENTRY.c.id).where(matched)))
        found.update({e.ref: e for e in by_ref if e.ref is not None})
    return found


@dataclass(frozen=True, slots=True)
class _EventFact:
    """An event of a loan or a commitment, as `_Reversible` needs it."""

    id: int
    owner: str  # "loan 3", "commitment 1"
    kind: str
    day: date
    entry_id: int | None
    reversed_on: date | None  # the date of the recorded entry that reverses its entry


# How `fisiq entry reverse` names an event in its messages.
_EVENT_NAMES = {
    "disbursed": "disbursement", "repaid": "repayment", "interest": "interest posting",
    "rescheduled": "reschedule", "written-off": "write-off", "recovered": "recovery",
    "signed": "signing", "payment": "payment", "cancelled": "cancellation",
}


def _named(event: _EventFact) -> str:
    return f"{event.owner}'s {_EVENT_NAMES.get(event.kind, event.kind)}"


@dataclass
class _Reversible:
    """What decides whether a draft may reverse an entry: the recorded kinds and reversals of
    the entries the batch reverses, and what the batch itself has added so far.

    A loan or a commitment is its events folded in date order (each repayment's split between
    interest and principal depends on those before it; a payment needs the signing before
    it), and an event counts from its date until the date of the entry that reverses it. So
    that the loan or commitment and its entries agree on every date, an entry that records
    one of its events is reversed only when no later event of it still counts, dated on or
    after the event and after every later event's span of counting; and a reversal of such
    an entry is final (the event is recorded again instead).
    """

    kinds: dict[int, str]  # entry id -> kind, for the recorded entries the batch reverses
    reversed_by: dict[int, int]  # entry id -> the recorded entry that reverses it
    # entry id -> (the entry it reverses, what that one records, the command that records it)
    # when that one is a loan's or a commitment's event
    reverses_an_event: dict[int, tuple[int, str, str]] = field(default_factory=dict)
    events: dict[int, _EventFact] = field(default_factory=dict)  # entry id -> the event it records
    series: dict[str, list[_EventFact]] = field(default_factory=dict)  # owner -> its events, in order
    closes_in_batch: set[int] = field(default_factory=set)
    reversed_in_batch: dict[int, date] = field(default_factory=dict)  # entry id -> the reversal's date

    @classmethod
    def read(cls, conn: Connection, targets: Iterable[int]) -> _Reversible:
        kinds: dict[int, str] = {}
        reversed_by: dict[int, int] = {}
        reverses: dict[int, int] = {}
        facts = cls(kinds, reversed_by)
        for chunk in in_chunks(targets):
            for r in conn.execute(select(T.ENTRY.c.id, T.ENTRY.c.kind, T.ENTRY.c.reverses).where(T.ENTRY.c.id.in_(chunk))):
                kinds[r.id] = r.kind
                if r.reverses is not None:
                    reverses[r.reverses] = r.id
            reversed_by.update({r.reverses: r.id for r in conn.execute(
                select(T.ENTRY.c.reverses, T.ENTRY.c.id).where(T.ENTRY.c.reverses.in_(chunk)))})
        if not kinds:  # the batch reverses nothing recorded
            return facts
        # The events of every loan and commitment that a target, or what a target reverses, records.
        for events_table, owner_column, owner in (
            (T.LOAN_EVENT, "loan_id", "loan"), (T.COMMITMENT_EVENT, "commitment_id", "commitment"),
        ):
            owners: set[int] = set()
            for chunk in in_chunks(sorted({*kinds, *reverses})):
                owners.update(conn.execute(select(events_table.c[owner_column])
                                           .where(events_table.c.entry_id.in_(chunk)).distinct()).scalars())
            for chunk in in_chunks(sorted(owners)):
                reversal = T.ENTRY.alias("reversal")
                rows = conn.execute(
                    select(events_table.c.id, events_table.c[owner_column].label("owner_id"), events_table.c.kind,
                           events_table.c.date, events_table.c.entry_id, reversal.c.date.label("reversed_on"))
                    .outerjoin(reversal, reversal.c.reverses == events_table.c.entry_id)
                    .where(events_table.c[owner_column].in_(chunk)).order_by(events_table.c.id)
                )
                for r in rows:
                    fact = _EventFact(r.id, f"{owner} {r.owner_id}", r.kind, as_date(r.date), r.entry_id,
                                      None if r.reversed_on is None else as_date(r.reversed_on))
                    facts.series.setdefault(fact.owner, []).append(fact)
                    if fact.entry_id is not None:
                        facts.events[fact.entry_id] = fact
        for original, reversing in reverses.items():
            if original in facts.events:
                facts._note_reversal(reversing, original)
        return facts

    def _note_reversal(self, reversing: int, original: int) -> None:
        event = self.events[original]
        command = "fisiq loan" if event.owner.startswith("loan") else "fisiq commitment"
        self.reverses_an_event[reversing] = (original, _named(event), command)

    def check(self, entry_id: int, head_id: int, on: date) -> None:
        """Raise LedgerError unless entry `entry_id` exists, is not reversed, is no period
        close nor a final reversal, and, for a loan's or a commitment's event, may be undone
        on `on`."""
        if not (0 < entry_id <= head_id):
            raise LedgerError(f"there is no entry {entry_id}")
        if entry_id in self.reversed_by or entry_id in self.reversed_in_batch:
            by = self.reversed_by.get(entry_id, "this batch")
            raise LedgerError(f"entry {entry_id} is already reversed (by entry {by})")
        if self.kinds.get(entry_id) == PERIOD_CLOSE or entry_id in self.closes_in_batch:
            raise LedgerError(f"entry {entry_id} is a period close; it cannot be reversed")
        if entry_id in self.reverses_an_event:
            # The loan or commitment would still count the event as undone; the books would not.
            original, what, command = self.reverses_an_event[entry_id]
            raise LedgerError(
                f"entry {entry_id} reverses entry {original} ({what}) and cannot itself be reversed; "
                f"record the event again with `{command}`"
            )
        event = self.events.get(entry_id)
        if event is not None:
            self._check_event(entry_id, event, on)

    def _check_event(self, entry_id: int, event: _EventFact, on: date) -> None:
        this = f"entry {entry_id} is {_named(event)} of {event.day}"
        later = [e for e in self.series[event.owner] if e.id > event.id]
        undone = {e.entry_id: self.reversed_in_batch.get(e.entry_id, e.reversed_on) for e in later if e.entry_id is not None}
        counting = [e for e in later if e.entry_id is None or undone[e.entry_id] is None]
        lasting = [e for e in counting if e.entry_id is None]  # a reschedule: no entry to reverse
        if lasting:
            raise LedgerError(
                f"{this}; {_named(lasting[-1])} of {lasting[-1].day} came after it and cannot be undone, "
                "so neither can this entry"
            )
        if counting:
            entries = ", ".join(str(e.entry_id) for e in reversed(counting))
            raise LedgerError(f"{this}; reverse the {event.owner.split()[0]}'s later entries first, latest first: {entries}")
        # A later event reversed after its own date counted until then, reckoned with this one.
        floor = max(event.day, last_counted_reversal((e.day, undone[e.entry_id]) for e in later if e.entry_id is not None)
                    or event.day)
        if on < floor:
            why = "the event's own date" if floor == event.day else f"the date the {event.owner.split()[0]}'s later entries were reversed"
            raise LedgerError(f"{this}; date its reversal on or after {floor} ({why})")

    def record(self, new_id: int, entry_id: int, on: date) -> None:
        """Note that the batch's entry `new_id`, dated `on`, reverses entry `entry_id`."""
        self.reversed_in_batch[entry_id] = on
        if entry_id in self.events:
            self._note_reversal(new_id, entry_id)


def append_entries(
    conn: Connection, drafts: Sequence[EntryDraft], *, recorded_by: str | None = None
) -> list[Recorded]:
    """Validate and append drafts in order on a connection that holds the write lock.

    The bulk path: what the checks need from the ledger is read first; then every draft is
    checked and sealed, and the rows go in many per statement (see `_insert`), on a second
    thread while the next drafts are sealed when the batch is large (see `_Writer`). A draft
    whose ref is already recorded with the same content is a no-op (`created=False`); with
    different content it is refused. Raises LedgerError/EntryError and writes nothing on any
    refusal (the caller's transaction rolls back).
    """
    with _without_cycle_collection(), rows_checked_as_a_batch(conn, enabled=len(drafts) > _Writer.ROWS):
        return _append_entries(conn, drafts, recorded_by or current_user())


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (reference counting still frees everything).

    A large batch allocates several objects per posting (rows, sealed entries, results) and
    keeps them until it is written. The cyclic collector, triggered by those allocations,
    would walk them and every other live object again and again: 18 % of a 100,000-entry
    import here. None of them forms a cycle. Left as it was found: a caller that had it off
    keeps it off.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# The SQLite triggers that check every inserted row (migrations 0001 and 0002), with the rule
# each one enforces.
ROW_CHECKS = {
    "posting_for_next_entry": "a posting can only be added to the entry being recorded",
    "entry_next_id": "entry id must be the next in the chain",
    "entry_follows_head": "entry must follow the previous entry's hash",
    "entry_after_close": "entry is dated inside a closed period",
    "entry_balances": "entry does not balance",
    "entry_postings": "an entry needs at least two postings, dated as the entry; a period close carries none",
}


@contextmanager
def rows_checked_as_a_batch(conn: Connection, *, enabled: bool) -> Iterator[None]:
    """On SQLite, check a large batch's rows with a few set-wise queries instead of per-row triggers.

    The insert triggers of ROW_CHECKS look up the entry table once or twice for every row:
    a quarter to a third of the database's time in a large import. Inside the write transaction,
    which no other connection can write to until it ends, they are dropped; the rows written
    meanwhile are checked against the same rules by `_batch_problem` in a few scans; then the
    triggers are created again, as they were and in the same order. Another writer never
    finds them missing: it waits for the write lock, and a rollback restores them too. A
    broken rule raises LedgerError naming the first entry that breaks it (the domain checks
    before writing, so that would be fisiq's own bug). PostgreSQL keeps its triggers.

    The checks judge the rows as they stand when the batch ends, which is all that is ever
    committed: no posting for an entry recorded before the batch, and every new entry
    balanced, dated, chained and after the closes over its final postings. Unlike the
    per-posting trigger, they cannot see that one of the batch's own postings was written
    after its entry's row (fisiq writes each entry's postings before it).
    """
    if not enabled or conn.dialect.name != "sqlite":
        yield
        return
    names = ", ".join(f"'{name}'" for name in ROW_CHECKS)
    triggers = conn.exec_driver_sql(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({names}) ORDER BY rowid"
    ).all()
    if len(triggers) != len(ROW_CHECKS):  # a schema this code does not know: leave it alone
        yield
        return
    head_id, head_hash = chain_head(conn)
    closed = closed_through(conn)
    last_posting = conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM posting").scalar_one()
    for name, _ in triggers:
        conn.exec_driver_sql(f"DROP TRIGGER {name}")
    try:
        yield
        problem = _batch_problem(conn, head_id, head_hash, closed, last_posting)
        if problem is not None:
            entry_id, rule = problem
            raise LedgerError(f"the database refused entry {entry_id}: {ROW_CHECKS[rule]}")
    except BaseException:
        # The caller's transaction rolls back, which restores them; a caller that carries
        # on regardless must still find them.
        with suppress(Exception):
            _create_triggers(conn, triggers)
        raise
    _create_triggers(conn, triggers)


def _create_triggers(conn: Connection, triggers: Sequence[Any]) -> None:
    # SQLite fires the most recently created trigger first: the original order keeps which
    # rule a row breaking several is told about.
    for _, sql in triggers:
        conn.exec_driver_sql(sql)


def _batch_problem(conn: Connection, head_id: int, head_hash: str, closed: date | None,
                   last_posting: int) -> tuple[int, str] | None:
    """The first (entry id, rule of ROW_CHECKS) broken by the rows written after the head
    (`head_id`, `head_hash`; postings after id `last_posting`), or None.

    Each query reads the new rows once, in key order, so the whole costs a fraction of the
    triggers' lookups row by row (benchmarks/README.md, ninth session).
    """
    def first(sql: str, **params: object) -> int | None:
        return conn.exec_driver_sql(sql, {"head_id": head_id, **params}).scalar()

    found: list[tuple[int, str]] = []
    stray = first("SELECT entry_id FROM posting WHERE id > :last AND (entry_id <= :head_id"
                  " OR entry_id > (SELECT COALESCE(MAX(id), 0) FROM entry)) ORDER BY id LIMIT 1", last=last_posting)
    if stray is not None:
        return stray, "posting_for_next_entry"
    count, last_id = conn.exec_driver_sql("SELECT COUNT(*), MAX(id) FROM entry WHERE id > ?", (head_id,)).one()
    if count != (last_id or head_id) - head_id:  # ids are unique: a gap, or a first id too far
        ids = conn.exec_driver_sql("SELECT id FROM entry WHERE id > ? ORDER BY id", (head_id,)).scalars()
        found.append((next(i for n, i in enumerate(ids, start=head_id + 1) if i != n), "entry_next_id"))
    broken_link = first(
        "SELECT e.id FROM entry AS e LEFT JOIN entry AS p ON p.id = e.id - 1"
        " WHERE e.id > :head_id AND e.prev_hash IS NOT COALESCE(p.hash, :genesis) ORDER BY e.id LIMIT 1",
        genesis=GENESIS_HASH)
    if broken_link is not None:
        found.append((broken_link, "entry_follows_head"))
    # The closed date changes only at a period close: the entries between two closes are
    # checked against the later of them in one range scan.
    closes = conn.exec_driver_sql("SELECT id, date FROM entry WHERE kind = ? AND id > ? ORDER BY id",
                                  (PERIOD_CLOSE, head_id)).all()
    bounds = [head_id, *(c.id for c in closes), last_id or head_id]
    through = closed.isoformat() if closed else None
    for (low, high), close in zip(pairwise(bounds), [None, *closes], strict=True):
        if close is not None:
            through = max(through or close.date, close.date)
        if through is not None:
            early = first("SELECT MIN(id) FROM entry WHERE id > :low AND id <= :high AND date <= :through",
                          low=low, high=high, through=through)
            if early is not None:
                found.append((early, "entry_after_close"))
                break
    # Postings grouped by entry in the (entry_id, line) index's order; an entry in several
    # currencies has its postings summed again per currency.
    legs = conn.exec_driver_sql("""
        SELECT entry_id, rule FROM (
          SELECT l.entry_id,
                 CASE WHEN CASE WHEN l.mixed THEN EXISTS (SELECT 1 FROM posting WHERE entry_id = l.entry_id
                                                          GROUP BY currency HAVING SUM(amount) <> 0)
                                ELSE l.total <> 0 END THEN 'entry_balances'
                      WHEN e.kind = :close OR l.n < 2 OR l.first_day <> e.date OR l.last_day <> e.date
                      THEN 'entry_postings' END AS rule
          FROM (SELECT entry_id, COUNT(*) AS n, MIN(entry_date) AS first_day, MAX(entry_date) AS last_day,
                       MIN(currency) <> MAX(currency) AS mixed, SUM(amount) AS total
                FROM posting WHERE entry_id > :head_id GROUP BY entry_id) AS l
          JOIN entry AS e ON e.id = l.entry_id)
        WHERE rule IS NOT NULL ORDER BY entry_id LIMIT 1""", {"head_id": head_id, "close": PERIOD_CLOSE}).first()
    if legs is not None:
        found.append((legs.entry_id, legs.rule))
    with_postings = first("SELECT COUNT(DISTINCT entry_id) FROM posting WHERE entry_id > :head_id")
    # A close with postings can hide an entry without any from the counts: look then too.
    if with_postings != count - len(closes) or legs is not None:
        bare = first("SELECT MIN(id) FROM entry AS e WHERE id > :head_id AND kind <> :close"
                     " AND NOT EXISTS (SELECT 1 FROM posting WHERE entry_id = e.id)", close=PERIOD_CLOSE)
        if bare is not None:
            found.append((bare, "entry_postings"))
    # The first entry; for one that breaks several rules, the first rule listed, as the triggers tell.
    order = list(ROW_CHECKS)
    return min(found, key=lambda f: (f[0], order.index(f[1]))) if found else None


def _append_entries(conn: Connection, drafts: Sequence[EntryDraft], who: str) -> list[Recorded]:
    known = account_ids(conn)
    party_ids, renamed = _resolve_parties(conn, drafts)
    recorded_refs = _recorded_refs(conn, (d.ref for d in drafts if d.ref is not None))
    closed = closed_through(conn)
    head_id, head_hash = chain_head(conn)
    # Only ids that are recorded: others are the batch's own or do not exist (check() says
    # so), and an id beyond the column's range would fail in the query.
    reversible = _Reversible.read(conn, (d.reverses for d in drafts if d.reverses is not None and 0 < d.reverses <= head_id))
    now = utc_now()
    results: list[Recorded] = []
    posting_rows: list[tuple[object, ...]] = []
    entry_rows: list[tuple[object, ...]] = []
    row_date = date_for_rows(conn)
    refs_in_batch: dict[str, RecordedEntry] = {}
    # From here on the connection belongs to the writer: the loop makes no query.
    writer = _Writer(conn) if len(drafts) > _Writer.ROWS else None
    put_at = _Writer.FIRST_ROWS
    try:
        for raw in drafts:
            minors = validate_entry(raw, known)
            draft = _canonical_party_names(raw, renamed)
            if draft.ref is not None:
                previous = refs_in_batch.get(draft.ref) or recorded_refs.get(draft.ref)
                if previous is not None:
                    if same_content(previous.draft(), draft):
                        results.append(Recorded(previous, created=False))
                        continue
                    raise LedgerError(
                        f"reference {draft.ref!r} is already entry {previous.id} with different content; "
                        "use a new reference"
                    )
            if closed is not None and draft.date <= closed:
                raise LedgerError(
                    f"{draft.date} is inside a closed period (closed through {closed}); date it after {closed}"
                )
            if draft.reverses is not None:
                reversible.check(draft.reverses, head_id, draft.date)
            head_id += 1
            if draft.reverses is not None:
                reversible.record(head_id, draft.reverses, draft.date)
            entry = seal(draft, head_id, head_hash, who, now, minors)
            head_hash = entry.hash
            if draft.ref is not None:
                refs_in_batch[draft.ref] = entry
            if draft.kind == PERIOD_CLOSE:
                closed = draft.date
                reversible.closes_in_batch.add(head_id)
            day = row_date(entry.date)
            # Party ids by the name as typed (`party_ids` is keyed so; an acronym became the name).
            for line, (p, minor) in enumerate(zip(raw.postings, minors, strict=True), start=1):
                party_id = None if p.party is None else party_ids[p.party]
                posting_rows.append((head_id, line, day, known[p.account], party_id, p.currency, minor))
            entry_rows.append(entry_row(entry, day))
            results.append(Recorded(entry, created=True))
            if writer is not None and len(entry_rows) == put_at:
                writer.put(posting_rows, entry_rows)
                posting_rows, entry_rows = [], []
                put_at = _Writer.ROWS
            elif writer is not None and head_id % 64 == 0:
                time.sleep(0)  # see _Writer
        if writer is None:
            insert_rows(conn, posting_rows, entry_rows)
        else:
            writer.put(posting_rows, entry_rows)
            writer.finish()
    except BaseException:
        if writer is not None:
            writer.stop()
        raise
    return results


def date_for_rows(conn: Connection) -> Callable[[date], object]:
    """How a date goes into the rows `insert_rows` takes: ISO text on SQLite, whose rows go to
    the driver as they are (see `_insert`); the date itself elsewhere."""
    return date.isoformat if conn.dialect.name == "sqlite" else _as_is


def _as_is(day: date) -> date:
    return day


def entry_row(entry: RecordedEntry, day: object) -> tuple[object, ...]:
    """The entry's row for `insert_rows`, in ENTRY_COLUMNS order, its date given as
    `date_for_rows` gives it."""
    return (entry.id, day, entry.memo, entry.kind, entry.ref, entry.link, entry.reverses,
            entry.recorded_by, entry.recorded_at, entry.prev_hash, entry.hash)


def insert_rows(conn: Connection, posting_rows: list[tuple[object, ...]], entry_rows: list[tuple[object, ...]]) -> None:
    """Insert checked rows (tuples in POSTING_COLUMNS and ENTRY_COLUMNS order, dates as
    `date_for_rows` gives them), many per statement."""
    # Postings first, entries last: each entry's insert triggers check its postings.
    _insert(conn, T.POSTING, POSTING_COLUMNS, posting_rows)
    _insert(conn, T.ENTRY, ENTRY_COLUMNS, entry_rows)


class _Writer:
    """Inserts a large batch's rows on a second thread while `append_entries` seals the next.

    Sealing is pure Python; SQLite and psycopg release the GIL while the database works, so
    on two cores the two overlap (about 15 % off a 100,000-entry import here, see
    benchmarks/README.md). The rows go in ROWS entries at a time, in order, on the caller's
    connection and transaction, which only this thread uses between start and `finish`/`stop`.
    The sealing loop yields the GIL every 64 entries: a thread holding it otherwise keeps it
    for the interpreter's switch interval (5 ms), and the writer, whose statements take about
    as long, would spend half its time waiting to start the next one.
    """

    ROWS = 2000
    # The first rows go sooner: until they are sealed the database has nothing to do, and
    # with 2,000 that idle start was a tenth of a 10,000-entry batch here.
    FIRST_ROWS = 250

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._queue: queue.Queue[tuple[list[tuple[object, ...]], list[tuple[object, ...]]] | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="fisiq-writer")
        self._thread.start()

    def _run(self) -> None:
        while (rows := self._queue.get()) is not None:
            if self._error is None and not self._stopped:
                try:
                    insert_rows(self._conn, *rows)
                except BaseException as exc:  # handed to the caller's thread by finish/put
                    self._error = exc

    def put(self, posting_rows: list[tuple[object, ...]], entry_rows: list[tuple[object, ...]]) -> None:
        """Queue rows for insertion; raise at once if an earlier insert failed."""
        if self._error is not None:
            raise self._error
        self._queue.put((posting_rows, entry_rows))

    def finish(self) -> None:
        """Wait until every queued row is in; raise the first insert's error, if any."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        """Wait for the thread to end (the caller is raising; its transaction will roll back).

        Safe to call after `finish` or a failed `put`, and more than once.
        """
        self._stopped = True  # what is still queued is skipped
        if self._thread.is_alive():
            self._queue.put(None)
        while self._thread.is_alive():
            # A second Ctrl-C must not let the rollback start while the writer is inside a
            # statement on the same connection; it ends within one statement.
            try:
                self._thread.join()
            except KeyboardInterrupt:
                continue


POSTING_COLUMNS = ("entry_id", "line", "entry_date", "account_id", "party_id", "currency", "amount")
ENTRY_COLUMNS = ("id", "date", "memo", "kind", "ref", "link", "reverses", "recorded_by", "recorded_at",
                 "prev_hash", "hash")


def _insert(conn: Connection, table: Any, columns: Sequence[str], rows: list[tuple[object, ...]]) -> None:
    """Insert `rows` (tuples in `columns` order) into `table`, many rows per statement.

    On SQLite, multi-row VALUES statements straight to the driver, dates already ISO text (the
    form SQLAlchemy stores them in). Row by row (executemany), SQLite sets up the insert
    triggers' statements once per row, which cost more than the inserts themselves;
    SQLAlchemy's per-row parameter processing would cost as much again. Other engines take
    the Core insert (psycopg batches it).
    """
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    # Bound parameters per statement: what this SQLite allows (32,766 by default since 3.32,
    # 999 before), at most 16,000, beyond which longer statements gain nothing.
    allowed = conn.connection.driver_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)  # type: ignore[union-attr]
    per = max(1, min(allowed, 16_000) // len(columns))
    head = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
    one = "(" + ", ".join("?" * len(columns)) + ")"
    for start in range(0, len(rows), per):
        part = rows[start : start + per]
        conn.exec_driver_sql(head + ", ".join([one] * len(part)), tuple(chain.from_iterable(part)))


def append_entry(conn: Connection, draft: EntryDraft, *, recorded_by: str | None = None) -> Recorded:
    """Append one entry on a connection that holds the write lock (see `append_entries`)."""
    return append_entries(conn, [draft], recorded_by=recorded_by)[0]


def record_entry(engine: Engine, draft: EntryDraft, *, recorded_by: str | None = None) -> Recorded:
    """Record one entry in its own write transaction."""
    with write_transaction(engine) as conn:
        return append_entry(conn, draft, recorded_by=recorded_by)


def reverse_entry(engine: Engine, entry_id: int, on: date, memo: str | None = None) -> Recorded:
    """Record the reversal of an entry, dated `on`; an entry can be reversed once."""
    with write_transaction(engine) as conn:
        original = get_entry(conn, entry_id)
        if original is None:
            raise LedgerError(f"there is no entry {entry_id}")
        if original.kind == PERIOD_CLOSE:
            raise LedgerError(f"entry {entry_id} is a period close; it cannot be reversed")
        return append_entry(conn, reversal_of(original, on, memo))


def close_period(engine: Engine, through: date, memo: str | None = None) -> Recorded:
    """Close the books through a date: the close is itself an entry on the chain.

    Closing again through the date the books are closed through records nothing
    (`created=False`, the close that did it): a retried command is not an error.
    """
    with write_transaction(engine) as conn:
        latest = conn.execute(select(T.ENTRY.c.id, T.ENTRY.c.date).where(T.ENTRY.c.kind == PERIOD_CLOSE)
                              .order_by(T.ENTRY.c.date.desc(), T.ENTRY.c.id.desc()).limit(1)).first()
        if latest is not None and as_date(latest.date) == through:
            entry = get_entry(conn, latest.id)
            assert entry is not None
            return Recorded(entry, created=False)
        draft = EntryDraft(through, memo or f"Period closed through {through.isoformat()}", (), kind=PERIOD_CLOSE)
        return append_entry(conn, draft)


# --- reading -----------------------------------------------------------------------------


def _entry_query() -> Select[Any]:
    return select(T.ENTRY).order_by(T.ENTRY.c.id)


def _posting_query() -> Select[Any]:
    return (
        select(
            T.POSTING.c.entry_id,
            T.ACCOUNT.c.name.label("account"),
            T.PARTY.c.name.label("party"),
            T.POSTING.c.currency,
            T.POSTING.c.amount,
        )
        .join(T.ACCOUNT, T.ACCOUNT.c.id == T.POSTING.c.account_id)
        .outerjoin(T.PARTY, T.PARTY.c.id == T.POSTING.c.party_id)
        .order_by(T.POSTING.c.entry_id, T.POSTING.c.line)
    )


def as_date(value: object) -> date:
    """A DATE column's value as a date (the SQLite driver may hand back its ISO text)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _build(row: object, postings: Sequence[object]) -> RecordedEntry:
    from fisiq.entries import Posting as DomainPosting

    r = row  # a Row with the entry's columns
    return RecordedEntry(
        id=r.id,  # type: ignore[attr-defined]
        date=as_date(r.date),  # type: ignore[attr-defined]
        memo=r.memo,  # type: ignore[attr-defined]
        kind=r.kind,  # type: ignore[attr-defined]
        ref=r.ref,  # type: ignore[attr-defined]
        link=r.link,  # type: ignore[attr-defined]
        reverses=r.reverses,  # type: ignore[attr-defined]
        recorded_by=r.recorded_by,  # type: ignore[attr-defined]
        recorded_at=r.recorded_at,  # type: ignore[attr-defined]
        prev_hash=r.prev_hash,  # type: ignore[attr-defined]
        hash=r.hash,  # type: ignore[attr-defined]
        postings=tuple(
            DomainPosting(p.account, from_minor(p.amount, p.currency), p.currency, p.party)  # type: ignore[attr-defined]
            for p in postings
        ),
    )


def get_entry(conn: Connection, entry_id: int) -> RecordedEntry | None:
    if not 0 < entry_id <= MAX_ID:  # beyond the column's range the driver would raise
        return None
    row = conn.execute(select(T.ENTRY).where(T.ENTRY.c.id == entry_id)).first()
    if row is None:
        return None
    postings = conn.execute(_posting_query().where(T.POSTING.c.entry_id == entry_id)).all()
    return _build(row, postings)


def iter_entries(
    conn: Connection,
    *,
    start: date | None = None,
    end: date | None = None,
    ids: tuple[int, int] | None = None,
    batch: int = 5000,
) -> Iterator[RecordedEntry]:
    """Entries in chain order with their postings, optionally limited by date or id range.

    Streams in batches of ids so a million-entry ledger never sits in memory at once.
    """
    low, high = ids or (1, chain_head(conn)[0])
    while low <= high:
        top = min(low + batch - 1, high)
        conds = [T.ENTRY.c.id >= low, T.ENTRY.c.id <= top]
        pconds = [T.POSTING.c.entry_id >= low, T.POSTING.c.entry_id <= top]
        if start is not None:
            conds.append(T.ENTRY.c.date >= start)
            pconds.append(T.POSTING.c.entry_date >= start)
        if end is not None:
            conds.append(T.ENTRY.c.date <= end)
            pconds.append(T.POSTING.c.entry_date <= end)
        yield from _with_postings(conn, and_(*conds), and_(*pconds))
        low = top + 1


def _with_postings(conn: Connection, entry_filter: Any, posting_filter: Any) -> Iterator[RecordedEntry]:
    """The entries `entry_filter` selects, in chain order, with their postings, read in one
    query (`posting_filter` selects at least theirs). Entry rows are read one at a time, so a
    stored value that cannot be read is met at its own entry (`verify` names it)."""
    by_entry: dict[int, list[object]] = defaultdict(list)
    for p in conn.execute(_posting_query().where(posting_filter)):
        by_entry[p.entry_id].append(p)
    for row in conn.execute(_entry_query().where(entry_filter)):
        yield _build(row, by_entry.get(row.id, []))


# The columns a balance reads, as light table clauses: the most asked question (trial balance,
# progress, the board) is answered without loading the SQLModel classes at all.
_POSTING = table(
    "posting", column("entry_id"), column("account_id"), column("party_id"), column("currency"),
    column("entry_date", Date), column("amount"),
)
_ACCOUNT = table("account", column("id"), column("name"), column("type"))
_ENTRY = table("entry", column("id"), column("link"))


def balances(
    conn: Connection,
    *,
    as_of: date | None = None,
    start: date | None = None,
    party_id: int | None = None,
    accounts: Iterable[str] | None = None,
    link: str | None = None,
) -> list[Balance]:
    """Sum of postings per account and currency, dated within [start, as_of].

    Accounts with no postings in the range are left out; a zero balance from postings that
    cancel is kept, so a reader sees the account moved.
    """
    query = (
        select(_ACCOUNT.c.name, _ACCOUNT.c.type, _POSTING.c.currency, func.sum(_POSTING.c.amount).label("total"))
        .join(_ACCOUNT, _ACCOUNT.c.id == _POSTING.c.account_id)
        .group_by(_ACCOUNT.c.name, _ACCOUNT.c.type, _POSTING.c.currency)
        .order_by(_ACCOUNT.c.name, _POSTING.c.currency)
    )
    if as_of is not None:
        query = query.where(_POSTING.c.entry_date <= as_of)
    if start is not None:
        query = query.where(_POSTING.c.entry_date >= start)
    if party_id is not None:
        query = query.where(_POSTING.c.party_id == party_id)
    if accounts is not None:
        query = query.where(_ACCOUNT.c.name.in_(list(accounts)))
    if link is not None:
        query = query.join(_ENTRY, _ENTRY.c.id == _POSTING.c.entry_id).where(_ENTRY.c.link == link)
    return [
        Balance(r.name, chart.AccountType(r.type), r.currency, from_minor(int(r.total), r.currency))
        for r in conn.execute(query)
    ]


def year_figures(conn: Connection, year: FiscalYear) -> YearFigures:
    """One column of the financial statements: balances at the year's end, and its movements."""
    return YearFigures(year, tuple(balances(conn, as_of=year.end)),
                       tuple(balances(conn, start=year.start, as_of=year.end)))


def balances_by_party(
    conn: Connection, accounts: Iterable[str], *, as_of: date | None = None
) -> dict[tuple[str, int | None, str], Decimal]:
    """Balances per (account, party id, currency) for the given accounts: subsidiary ledgers."""
    query = (
        select(T.ACCOUNT.c.name, T.POSTING.c.party_id, T.POSTING.c.currency, func.sum(T.POSTING.c.amount).label("total"))
        .join(T.ACCOUNT, T.ACCOUNT.c.id == T.POSTING.c.account_id)
        .where(T.ACCOUNT.c.name.in_(list(accounts)))
        .group_by(T.ACCOUNT.c.name, T.POSTING.c.party_id, T.POSTING.c.currency)
    )
    if as_of is not None:
        query = query.where(T.POSTING.c.entry_date <= as_of)
    return {
        (r.name, r.party_id, r.currency): from_minor(int(r.total), r.currency) for r in conn.execute(query)
    }


def account_register(
    conn: Connection, account: str, *, start: date | None = None, end: date | None = None
) -> tuple[dict[str, Decimal], list[RegisterLine]]:
    """An account's postings in date order with a running balance per currency.

    Returns (opening balance per currency before `start`, lines).
    """
    ids = account_ids(conn)
    if account not in ids:
        raise LedgerError(f"unknown account {account!r} (see `fisiq account list`)")
    opening: dict[str, Decimal] = {}
    if start is not None:
        before = conn.execute(
            select(T.POSTING.c.currency, func.sum(T.POSTING.c.amount))
            .where(T.POSTING.c.account_id == ids[account], T.POSTING.c.entry_date < start)
            .group_by(T.POSTING.c.currency)
        )
        opening = {cur: from_minor(int(total), cur) for cur, total in before}
    query = (
        select(T.POSTING.c.entry_id, T.ENTRY.c.date, T.ENTRY.c.memo, T.PARTY.c.name, T.POSTING.c.currency, T.POSTING.c.amount)
        .join(T.ENTRY, T.ENTRY.c.id == T.POSTING.c.entry_id)
        .outerjoin(T.PARTY, T.PARTY.c.id == T.POSTING.c.party_id)
        .where(T.POSTING.c.account_id == ids[account])
        .order_by(T.POSTING.c.entry_date, T.POSTING.c.entry_id, T.POSTING.c.line)
    )
    if start is not None:
        query = query.where(T.POSTING.c.entry_date >= start)
    if end is not None:
        query = query.where(T.POSTING.c.entry_date <= end)
    running = dict(opening)
    lines: list[RegisterLine] = []
    for entry_id, day, memo, party, currency, minor in conn.execute(query):
        amount = from_minor(int(minor), currency)
        running[currency] = running.get(currency, Decimal(0)) + amount
        lines.append(RegisterLine(entry_id, as_date(day), memo, party, currency, amount, running[currency]))
    return opening, lines


# --- verification ------------------------------------------------------------------------


def stray_link(conn: Connection, owners: Any, events: Any, owner_column: str) -> tuple[int, str] | None:
    """The first break between a register and the entries that carry its links.

    `owners` is a register (loan, commitment) whose entries are linked `NAME:ID`; `events`
    its events table, whose `entry_id` names the entry an event posted. Returns (owner id,
    what is wrong) for an entry linked to an owner the register does not hold (it would take
    that id's next owner's figures), an event pointing at another owner's entry, or one dated
    or referenced otherwise than its entry; else None.
    """
    name = owners.name
    ids = set(conn.execute(select(owners.c.id)).scalars())
    query = (select(_ENTRY.c.link, func.min(_ENTRY.c.id)).where(_ENTRY.c.link.like(f"{name}:%"))
             .group_by(_ENTRY.c.link))
    strays = []
    for link, first in conn.execute(query):
        number = link.partition(":")[2]
        owner = int(number) if number.isascii() and number.isdigit() else 0
        if owner not in ids:
            strays.append((first, owner, link))
    if strays:
        first, owner, link = min(strays)
        return owner, f"entry {first} is linked {link}, but there is no {name} {owner} in the register"
    entry = T.ENTRY
    query = (select(events.c.id, events.c[owner_column], events.c.entry_id, events.c.date, events.c.ref, entry.c.link,
                    entry.c.date, entry.c.ref)
             .join(entry, entry.c.id == events.c.entry_id).order_by(events.c.id))
    rows: list[Any] = list(conn.execute(query))
    for event_id, owner, entry_id, day, ref, link, entry_day, entry_ref in rows:
        if link != f"{name}:{owner}":
            linked = "is not linked" if link is None else f"is linked {link}"
            return owner, f"its event {event_id} points at entry {entry_id}, which {linked}, not {name}:{owner}"
        if as_date(day) != as_date(entry_day):
            # Its figures would count from another date than the books'.
            return owner, f"its event {event_id} is dated {as_date(day)}, its entry {entry_id} {as_date(entry_day)}"
        if ref != entry_ref:
            # A reference is how a command knows it was already recorded: one the entry does not
            # carry would answer "already recorded" for another payment, or record one twice.
            return owner, f"its event {event_id} has the reference {ref!r}, its entry {entry_id} {entry_ref!r}"
    return None


def verify(conn: Connection) -> ChainProblem | None:
    """Check the hash chain, each entry's rules, and the books as a whole.

    Returns the first problem found (naming the entry), or None when everything holds.
    A stored value that no longer reads as what fisiq wrote (a date or an amount edited by
    hand) is such a problem too, never an exception.
    """
    read_through = 0

    def entries_read() -> Iterator[RecordedEntry]:
        nonlocal read_through
        for entry in iter_entries(conn):
            yield entry
            read_through = entry.id

    try:
        problem = verify_chain(entries_read())
    except (ValueError, ArithmeticError, TypeError, KeyError) as exc:
        # The first entry not yet read is the one whose row (or posting) would not decode.
        bad = conn.execute(select(func.min(T.ENTRY.c.id)).where(T.ENTRY.c.id > read_through)).scalar()
        return ChainProblem(
            int(bad) if bad is not None else read_through + 1,
            f"a stored value cannot be read (altered after recording): {str(exc)[:200]}",
        )
    if problem is not None:
        return problem
    orphan = conn.execute(
        select(T.POSTING.c.entry_id)
        .outerjoin(T.ENTRY, T.ENTRY.c.id == T.POSTING.c.entry_id)
        .where(T.ENTRY.c.id.is_(None))
        .limit(1)
    ).first()
    if orphan is not None:
        return ChainProblem(orphan[0], "has postings but no entry row (the entry was removed)")
    # A posting's date is a copy of its entry's, kept so balances "as of" need no join; the
    # hash covers the entry's date only, so a copy changed afterwards is caught here.
    misdated = conn.execute(
        select(T.POSTING.c.entry_id)
        .join(T.ENTRY, T.ENTRY.c.id == T.POSTING.c.entry_id)
        .where(T.POSTING.c.entry_date != T.ENTRY.c.date)
        .order_by(T.POSTING.c.entry_id)
        .limit(1)
    ).first()
    if misdated is not None:
        return ChainProblem(misdated[0], "a posting's date differs from its entry's (altered after recording)")
    # What the hash cannot see: a posting's line numbers (only their order is hashed), a
    # reference to an account or party row that does not exist (the hash sees no name), and,
    # on SQLite, an amount stored as something other than an integer (it would be rounded).
    structural = [
        (
            select(T.POSTING.c.entry_id)
            .group_by(T.POSTING.c.entry_id)
            .having((func.min(T.POSTING.c.line) != 1) | (func.max(T.POSTING.c.line) != func.count()))
            .order_by(T.POSTING.c.entry_id),
            "its postings' line numbers are not 1, 2, 3, ... (altered after recording)",
        ),
        (
            select(T.POSTING.c.entry_id)
            .outerjoin(T.ACCOUNT, T.ACCOUNT.c.id == T.POSTING.c.account_id)
            .where(T.ACCOUNT.c.id.is_(None))
            .order_by(T.POSTING.c.entry_id),
            "a posting names an account that does not exist (altered after recording)",
        ),
        (
            select(T.POSTING.c.entry_id)
            .outerjoin(T.PARTY, T.PARTY.c.id == T.POSTING.c.party_id)
            .where(T.POSTING.c.party_id.is_not(None), T.PARTY.c.id.is_(None))
            .order_by(T.POSTING.c.entry_id),
            "a posting names a party that does not exist (altered after recording)",
        ),
    ]
    if conn.dialect.name == "sqlite":
        structural.append((
            select(T.POSTING.c.entry_id).where(func.typeof(T.POSTING.c.amount) != "integer").order_by(T.POSTING.c.entry_id),
            "a posting's amount is not a whole number of minor units (altered after recording)",
        ))
    found = [
        (row[0], message)
        for query, message in structural
        if (row := conn.execute(query.limit(1)).first()) is not None
    ]
    if found:
        entry_id, message = min(found, key=lambda f: f[0])
        return ChainProblem(entry_id, message)
    off = conn.execute(
        select(T.POSTING.c.currency, func.sum(T.POSTING.c.amount)).group_by(T.POSTING.c.currency).having(
            func.sum(T.POSTING.c.amount) != 0
        )
    ).first()
    if off is not None:
        return ChainProblem(chain_head(conn)[0], f"the ledger does not sum to zero in {off[0]}")
    # The hash names accounts, not their types; a type edited by hand would move an account
    # between the statements' sections, so it must still agree with the name's root.
    for name, kind in conn.execute(select(T.ACCOUNT.c.name, T.ACCOUNT.c.type).order_by(T.ACCOUNT.c.id)):
        if chart.ROOTS.get(name.split(":")[0]) != kind:
            first = conn.execute(
                select(func.min(T.POSTING.c.entry_id))
                .join(T.ACCOUNT, T.ACCOUNT.c.id == T.POSTING.c.account_id)
                .where(T.ACCOUNT.c.name == name)
            ).scalar()
            return ChainProblem(first or 0, f"account {name} is stored as {kind!r}, which its name contradicts")
    return None


def verify_ledger(engine: Engine) -> ChainProblem | None:
    with read_transaction(engine) as conn:
        return verify(conn)

