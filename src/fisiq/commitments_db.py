"""The capital campaign in storage: commitments, their events, targets, progress. All its SQL.

Every change is an operation (`Op`): add a commitment, agree in principle, sign, pay, cancel,
set a target. `apply_ops` checks a batch of them against the ledger and against each other
(the rules are `fisiq.commitments.check`), and only when every one passes writes them all,
with the entries they post appended in one bulk call. A CLI command is a batch of one; an
import is a batch of a whole file. Run it inside one `db.write_transaction` so the checks and
the writes see the same ledger.

Progress reads paid and signed-unpaid capital from ledger balances, never from a tally of
events: Equity:Commitments:Receivable per party is what is signed and unpaid, and the
instrument accounts on entries linked `commitment:N` are what is paid.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, insert, select

from fisiq import accounts as chart
from fisiq import commitments as rules
from fisiq.commitments import CommitmentError, Event, Figures, State
from fisiq.db import utc_now
from fisiq.entries import EntryDraft, RecordedEntry, last_counted_reversal
from fisiq.errors import FisiqError
from fisiq.ledger import (
    ACCOUNT,
    ENTRY,
    MAX_ID,
    POSTING,
    append_entries,
    as_date,
    balances_by_party,
    closed_through,
    current_user,
    get_entry,
    in_chunks,
    party_names,
    stray_link,
)
from fisiq.models import Commitment, CommitmentEvent, Target
from fisiq.money import from_minor, to_minor, to_str
from fisiq.parties import PartyError
from fisiq.parties_db import PartyRow, get_party, list_parties, require_party

COMMITMENT = Commitment.__table__  # type: ignore[attr-defined]
EVENT = CommitmentEvent.__table__  # type: ignore[attr-defined]
TARGET = Target.__table__  # type: ignore[attr-defined]
CUR = rules.CURRENCY
ACTIONS = ("add", "agree", "sign", "pay", "cancel", "target")
_EVENT_OF = {"agree": rules.IN_PRINCIPLE, "sign": rules.SIGNED, "pay": rules.PAYMENT, "cancel": rules.CANCELLED}
# An event kind as a noun in a sentence ("already the signing of commitment 3").
_EVENT_NOUN = {rules.PROSPECT: "the prospect", rules.IN_PRINCIPLE: "the agreement in principle",
               rules.SIGNED: "the signing", rules.PAYMENT: "a payment", rules.CANCELLED: "the cancellation"}


@dataclass(frozen=True, slots=True)
class Op:
    """One change to the campaign, as a command or a CSV row asks for it (already parsed)."""

    action: str  # add | agree | sign | pay | cancel | target
    date: date
    ref: str | None = None
    party: str | None = None  # add: the investor's name or acronym
    stage: str | None = None  # add: prospect | in-principle | signed
    instrument: str | None = None  # add: equity | debt | grant
    commitment: int | str | None = None  # the others: an id, or the commitment's ref
    category: str | None = None  # target
    amount: Decimal | None = None
    reason: str | None = None  # cancel


@dataclass(frozen=True, slots=True)
class Problem:
    index: int  # position of the op in the batch
    column: str
    message: str


class OpsRefused(FisiqError):
    """One or more operations of a batch are refused; nothing was written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        first = self.problems[0].message if self.problems else "refused"
        more = f" (and {len(self.problems) - 1} more problems)" if len(self.problems) > 1 else ""
        super().__init__(first + more)


@dataclass(slots=True)
class OpResult:
    op: Op
    created: bool  # False: its reference was already recorded with the same content
    commitment_id: int | None = None
    event: Event | None = None
    entry_ids: list[int] = field(default_factory=list)
    stage: str | None = None
    posts: int = 0  # how many entries it posts (known before writing, for a dry run)


@dataclass(slots=True)
class _Commitment:
    id: int  # negative until written
    party: PartyRow
    instrument: str
    ref: str | None
    events: list[Event]
    state: State | None


def _event_of(row: object) -> Event:
    r = row
    return Event(
        kind=r.kind,  # type: ignore[attr-defined]
        date=as_date(r.date),  # type: ignore[attr-defined]
        amount=None if r.amount is None else from_minor(int(r.amount), CUR),  # type: ignore[attr-defined]
        entry_id=r.entry_id,  # type: ignore[attr-defined]
        reason=r.reason,  # type: ignore[attr-defined]
        ref=r.ref,  # type: ignore[attr-defined]
    )


def reversals(conn: Connection, as_of: date | None = None) -> dict[int, date]:
    """Reversed entry id -> date of its reversal (only reversals dated on or before as_of)."""
    query = select(ENTRY.c.reverses, ENTRY.c.date).where(ENTRY.c.reverses.is_not(None))
    if as_of is not None:
        query = query.where(ENTRY.c.date <= as_of)
    return {int(r.reverses): as_date(r.date) for r in conn.execute(query)}


def _events(conn: Connection, commitment_ids: Sequence[int] | None = None) -> dict[int, list[Event]]:
    query = select(EVENT).order_by(EVENT.c.id)
    if commitment_ids is not None:
        query = query.where(EVENT.c.commitment_id.in_(list(commitment_ids)))
    found: dict[int, list[Event]] = defaultdict(list)
    for row in conn.execute(query):
        found[row.commitment_id].append(_event_of(row))
    return found


def _load(conn: Connection, commitment_id: int, reversed_ids: dict[int, date]) -> _Commitment | None:
    row = conn.execute(select(COMMITMENT).where(COMMITMENT.c.id == commitment_id)).first()
    if row is None:
        return None
    party = get_party(conn, row.party_id)
    assert party is not None
    events = _events(conn, [commitment_id]).get(commitment_id, [])
    return _Commitment(row.id, party, row.instrument, row.ref, events, rules.fold(events, reversed_ids))


def _ref_owner(conn: Connection, ref: str) -> str | None:
    """What already carries this reference (a commitment, an event, an entry), or None."""
    row = conn.execute(select(COMMITMENT.c.id).where(COMMITMENT.c.ref == ref)).first()
    if row:
        return f"commitment {row[0]}"
    row = conn.execute(select(EVENT.c.commitment_id, EVENT.c.kind).where(EVENT.c.ref == ref)).first()
    if row:
        return f"the {row[1]} of commitment {row[0]}"
    row = conn.execute(select(ENTRY.c.id).where(ENTRY.c.ref == ref)).first()
    if row:
        return f"entry {row[0]}"
    return None


def _recorded_refs(conn: Connection, refs: Iterable[str]) -> set[str]:
    """Which of `refs` a commitment, a commitment event or an entry already carries.

    One query per table and 500 references: a file of 10,000 rows would otherwise ask the
    database three times per row about references that, in a new file, exist nowhere.
    """
    found: set[str] = set()
    for chunk in in_chunks(refs):
        for column in (COMMITMENT.c.ref, EVENT.c.ref, ENTRY.c.ref):
            found.update(conn.execute(select(column).where(column.in_(chunk))).scalars())
    return found


class _Batch:
    """The checks of a batch of operations, against the ledger and against each other."""

    def __init__(self, conn: Connection, refs: Iterable[str] = (), added_at: dict[str, int] | None = None) -> None:
        self.conn = conn
        self.recorded_refs = _recorded_refs(conn, refs)  # only these need a closer look
        self.reversed = reversals(conn)
        self.closed = closed_through(conn)
        self.commitments: dict[int, _Commitment] = {}
        self.by_ref: dict[str, int] = {}
        self.refs: set[str] = set()
        self.parties: dict[str, PartyRow] = {}
        self.new_commitments: list[_Commitment] = []
        self.new_events: list[tuple[int, Event]] = []  # (commitment id, completed event)
        self.new_targets: list[tuple[str, Decimal, date]] = []
        self.next_id = -1
        # Where the batch adds each ref, for telling "not yet" from "no such": ops are checked in order.
        self.added_at = added_at or {}
        self.checking = 0  # the index of the op being checked

    def party(self, text: str) -> PartyRow:
        if text not in self.parties:
            self.parties[text] = require_party(self.conn, text)
        return self.parties[text]

    def commitment(self, key: int | str) -> _Commitment:
        if isinstance(key, str):
            if key in self.by_ref:
                key = self.by_ref[key]
            else:
                row = self.conn.execute(select(COMMITMENT.c.id).where(COMMITMENT.c.ref == key)).first()
                if row is None and self.added_at.get(key, -1) > self.checking:
                    raise CommitmentError(
                        f"commitment {key!r} is added further down; rows apply in order, so move its add row first",
                        "commitment",
                    )
                if row is None:
                    raise CommitmentError(f"no commitment has the reference {key!r}", "commitment")
                key = int(row[0])
        if key not in self.commitments:
            loaded = _load(self.conn, key, self.reversed) if 0 < key <= MAX_ID else None
            if loaded is None:
                raise CommitmentError(f"there is no commitment {key}", "commitment")
            self.commitments[key] = loaded
        return self.commitments[key]

    def fresh_ref(self, ref: str | None) -> None:
        if ref is None:
            return
        if ref in self.refs:
            raise CommitmentError(f"reference {ref!r} is used twice in this batch", "ref")
        owner = _ref_owner(self.conn, ref) if ref in self.recorded_refs else None
        if owner is not None:
            raise CommitmentError(f"reference {ref!r} is already used by {owner}; use a new reference", "ref")

    def existing(self, op: Op) -> OpResult | None:
        """The result for an op whose reference is already recorded with the same content."""
        if op.ref is None or op.ref not in self.recorded_refs:
            return None
        if op.action == "add":
            row = self.conn.execute(select(COMMITMENT).where(COMMITMENT.c.ref == op.ref)).first()
            if row is None:
                return None
            c = self.commitment(int(row.id))
            first = c.events[0] if c.events else None
            same = (
                first is not None
                and op.party is not None
                and c.party.id == self.party(op.party).id
                and c.instrument == (op.instrument or rules.DEFAULT_INSTRUMENT)
                and first.kind == op.stage
                and first.date == op.date
                and first.amount == op.amount
            )
            if not same:
                raise CommitmentError(f"reference {op.ref!r} is already commitment {c.id} with different content", "ref")
            assert first is not None
            self._not_reversed(op.ref, first)
            return OpResult(op, False, c.id, first, [], c.state.stage if c.state else None)
        if op.action in _EVENT_OF:
            row = self.conn.execute(select(EVENT).where(EVENT.c.ref == op.ref)).first()
            if row is None:
                return None
            event = _event_of(row)
            target = self.commitment(op.commitment) if op.commitment is not None else None
            same = (
                target is not None
                and target.id == row.commitment_id
                and event.kind == _EVENT_OF[op.action]
                and event.date == op.date
                and (op.amount is None or event.amount == op.amount)
                and (op.reason is None or event.reason == op.reason)
            )
            if not same:
                raise CommitmentError(
                    f"reference {op.ref!r} is already {_EVENT_NOUN.get(event.kind, event.kind)} of commitment "
                    f"{row.commitment_id} with different content", "ref",
                )
            self._not_reversed(op.ref, event)
            return OpResult(op, False, int(row.commitment_id), event, [], target.state.stage if target and target.state else None)
        return None

    def _not_reversed(self, ref: str, event: Event) -> None:
        """Saying "already recorded" of an event whose entry was reversed would hide that it
        no longer counts (as for loans)."""
        if event.entry_id is None or event.entry_id not in self.reversed:
            return
        reversal = self.conn.execute(select(ENTRY.c.id).where(ENTRY.c.reverses == event.entry_id)).scalar()
        raise CommitmentError(
            f"reference {ref!r} was entry {event.entry_id}, reversed by entry {reversal}; "
            "record the correction under a new reference", "ref",
        )

    def check(self, op: Op) -> OpResult:
        """Check one op against the state so far and, if it passes, add it to the batch."""
        if op.action == "target":
            return self._target(op)
        if op.action not in ACTIONS:
            raise CommitmentError(f"unknown action {op.action!r}; use {'|'.join(ACTIONS)}", "action")
        already = self.existing(op)
        if already is not None:
            return already
        self.fresh_ref(op.ref)
        if op.action == "add":
            if op.party is None:
                raise CommitmentError("adding a commitment needs a party", "party")
            try:
                party = self.party(op.party)
                rules.category_of(party.kind)
            except (PartyError, CommitmentError) as exc:
                raise CommitmentError(str(exc), "party") from None
            try:
                stage = rules.check_stage(op.stage or "", rules.INITIAL_STAGES)
            except CommitmentError as exc:
                raise CommitmentError(str(exc), "stage") from None
            try:
                instrument = rules.check_instrument(op.instrument or rules.DEFAULT_INSTRUMENT)
            except CommitmentError as exc:
                raise CommitmentError(str(exc), "instrument") from None
            event = Event(stage, op.date, op.amount, ref=None)
            rules.check(None, event, "the new commitment")
            posts = self._open(event, party.name, instrument)
            c = _Commitment(self.next_id, party, instrument, op.ref, [], None)
            self.next_id -= 1
            self.new_commitments.append(c)
            self.commitments[c.id] = c
            if op.ref is not None:
                self.by_ref[op.ref] = c.id
        else:
            if op.commitment is None:
                raise CommitmentError(f"{op.action} needs the commitment it applies to", "commitment")
            c = self.commitment(op.commitment)
            label = f"commitment {c.id}" if c.id > 0 else f"commitment {c.ref or 'new'}"
            self._after_reversals(c, op.date, label)
            event = rules.complete(c.state, Event(_EVENT_OF[op.action], op.date, op.amount, reason=op.reason, ref=op.ref))
            if c.state is None and (event.kind not in rules.INITIAL_STAGES or event.amount is None):
                # Every event it had was undone by `fisiq entry reverse`: it starts again.
                raise CommitmentError(
                    f"{label} is void: the entries it posted were reversed; record it again from its "
                    f"agreement or signing with an amount (`fisiq commitment sign {c.id} --amount A --date D`)"
                )
            rules.check(c.state, event, label)
            posts = self._open(event, c.party.name, c.instrument)
        if op.ref is not None:
            self.refs.add(op.ref)
        c.events.append(event)
        c.state = rules.step(c.state, event)
        self.new_events.append((c.id, event))
        return OpResult(op, True, c.id, event, [], c.state.stage, posts)

    def _open(self, event: Event, party: str, instrument: str) -> int:
        """The number of entries the event posts. Refuse an event dated inside a closed period:
        without an entry (a prospect, an agreement, a cancellation of an unsigned pledge) it
        would change that period's campaign figures; with one, the books would refuse it too,
        but only when writing, where an import could no longer say which row it was."""
        posts = len(rules.drafts_for(event, commitment_id=0, party=party, instrument=instrument))
        if self.closed is not None and event.date <= self.closed:
            raise CommitmentError(f"{event.date} is inside a closed period (closed through {self.closed}); "
                                  f"date it after {self.closed}", "date")
        return posts

    def _after_reversals(self, c: _Commitment, on: date, label: str) -> None:
        """Refuse an event dated before a reversal that left one of the commitment's events
        counting for a while: until that date both would count (a payment twice, say)."""
        undone = last_counted_reversal((e.date, self.reversed.get(e.entry_id)) for e in c.events if e.entry_id is not None)
        if undone is not None and on < undone:
            # The other way, reversing on the event's own date, is only open after a close.
            hint = " (or reverse on the event's own date to record it again on that date)"
            raise CommitmentError(
                f"{on} is before {undone}, when an entry of {label} was reversed; date it on or after "
                f"{undone}{hint if self.closed is None or on > self.closed else ''}", "date",
            )

    def _target(self, op: Op) -> OpResult:
        try:
            category = rules.check_category(op.category or "")
        except CommitmentError as exc:
            raise CommitmentError(str(exc), "category") from None
        if op.amount is None or op.amount <= 0:
            raise CommitmentError("a target needs an amount more than zero", "amount")
        # The same target again is a no-op (a re-imported row), but only if it is the one last
        # set for that day: setting 1000, 2000, then 1000 again on one day makes it 1000.
        set_that_day = [amount for cat, amount, day in self.new_targets if cat == category and day == op.date]
        if set_that_day:
            latest: Decimal | None = set_that_day[-1]
        else:
            minor = self.conn.execute(
                select(TARGET.c.amount).where(TARGET.c.category == category, TARGET.c.date == op.date)
                .order_by(TARGET.c.id.desc()).limit(1)
            ).scalar()
            latest = None if minor is None else from_minor(int(minor), CUR)
        if latest == op.amount:
            return OpResult(op, False)
        # The campaign's reports of a closed period count its targets, as its commitments.
        if self.closed is not None and op.date <= self.closed:
            raise CommitmentError(f"{op.date} is inside a closed period (closed through {self.closed}); "
                                  f"date it after {self.closed}", "date")
        self.new_targets.append((category, op.amount, op.date))
        return OpResult(op, True)

    def write(self, results: list[OpResult]) -> None:
        who, now = current_user(), utc_now()
        real: dict[int, int] = {}
        if self.new_commitments:
            # Ids come back in the order of the rows (one statement on PostgreSQL; SQLAlchemy
            # runs it row by row on SQLite, where ordered RETURNING cannot be batched).
            ids = self.conn.execute(
                insert(COMMITMENT).returning(COMMITMENT.c.id, sort_by_parameter_order=True),
                [{"party_id": c.party.id, "instrument": c.instrument, "currency": CUR, "ref": c.ref,
                  "recorded_at": now, "recorded_by": who} for c in self.new_commitments],
            ).scalars().all()
            real = {c.id: int(new_id) for c, new_id in zip(self.new_commitments, ids, strict=True)}
        drafts: list[EntryDraft] = []
        owners: list[int] = []  # index into new_events for each draft
        for i, (cid, event) in enumerate(self.new_events):
            c = self.commitments[cid]
            for draft in rules.drafts_for(event, commitment_id=real.get(cid, cid), party=c.party.name,
                                          instrument=c.instrument):
                drafts.append(draft)
                owners.append(i)
        entry_of: dict[int, int] = {}
        for i, recorded in zip(owners, append_entries(self.conn, drafts, recorded_by=who), strict=True):
            entry_of[i] = recorded.entry.id
        rows = [
            {
                "commitment_id": real.get(cid, cid), "kind": event.kind, "date": event.date,
                "amount": None if event.amount is None else to_minor(event.amount, CUR),
                "entry_id": entry_of.get(i), "reason": event.reason, "ref": event.ref,
                "recorded_at": now, "recorded_by": who,
            }
            for i, (cid, event) in enumerate(self.new_events)
        ]
        if rows:
            self.conn.execute(insert(EVENT), rows)
        if self.new_targets:
            self.conn.execute(insert(TARGET), [
                {"category": cat, "amount": to_minor(amount, CUR), "currency": CUR, "date": day,
                 "recorded_at": now, "recorded_by": who}
                for cat, amount, day in self.new_targets
            ])
        # Give the results their real ids and entries, in the order the events were checked.
        pending = iter(range(len(self.new_events)))
        for result in results:
            if result.created and result.event is not None:
                i = next(pending)
                result.entry_ids = [entry_of[i]] if i in entry_of else []
            if result.commitment_id is not None:
                result.commitment_id = real.get(result.commitment_id, result.commitment_id)


def apply_ops(
    conn: Connection,
    ops: Sequence[Op],
    *,
    write: bool = True,
    on_checked: Callable[[int], None] | None = None,
) -> list[OpResult]:
    """Check every op (all problems, not just the first), then write them all or nothing.

    Run inside `db.write_transaction`. Raises OpsRefused listing every problem by op index
    and column; then nothing is written. With `write=False` it only checks (a dry run).
    """
    added_at = {op.ref: i for i, op in enumerate(ops) if op.action == "add" and op.ref is not None}
    batch = _Batch(conn, (op.ref for op in ops if op.ref is not None), added_at)
    results: list[OpResult] = []
    problems: list[Problem] = []
    for i, op in enumerate(ops):
        batch.checking = i
        try:
            results.append(batch.check(op))
        except CommitmentError as exc:
            problems.append(Problem(i, exc.column or "action", str(exc)))
        except FisiqError as exc:
            problems.append(Problem(i, "action", str(exc)))
        if on_checked is not None:
            on_checked(i)
    if problems:
        raise OpsRefused(problems)
    if write:
        batch.write(results)
    return results


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommitmentView:
    id: int
    party: PartyRow
    category: str
    instrument: str
    ref: str | None
    state: State

    def json(self) -> dict[str, object]:
        s = self.state
        m = rules.CURRENCY
        return {
            "id": self.id, "party": self.party.name, "category": self.category, "instrument": self.instrument,
            "ref": self.ref, "stage": s.stage, "pledged": to_str(s.pledged, m), "signed": to_str(s.signed, m),
            "paid": to_str(s.paid, m), "cancelled": to_str(s.cancelled, m), "unpaid": to_str(s.rest, m),
            "since": s.first_date.isoformat() if s.first_date else None,
            "last_event": s.last_date.isoformat() if s.last_date else None,
            "reason": s.reason,
        }


def list_commitments(conn: Connection, *, stage: str | None = None, as_of: date | None = None) -> list[CommitmentView]:
    """Every commitment with its state (as of a date when given), optionally of one stage; one
    whose every entry was reversed is `void`."""
    reversed_ids = reversals(conn, as_of)
    events = _events(conn)
    parties = {p.id: p for p in list_parties(conn)}
    views = []
    for row in conn.execute(select(COMMITMENT).order_by(COMMITMENT.c.id)):
        mine = [e for e in events.get(row.id, []) if as_of is None or e.date <= as_of]
        if not mine:
            continue  # not recorded yet on that date
        # Events but no state: every entry was reversed; listed as void, like `commitment show`.
        state = rules.fold(mine, reversed_ids) or State(stage=rules.VOID, pledged=Decimal("0.00"))
        if stage is not None and state.stage != stage:
            continue
        party = parties[row.party_id]
        views.append(CommitmentView(row.id, party, rules.KIND_CATEGORY.get(party.kind, "other"),
                                    row.instrument, row.ref, state))
    return views


@dataclass(frozen=True, slots=True)
class HistoryLine:
    event: Event
    entry: RecordedEntry | None
    reversed_by: int | None


def commitment_history(conn: Connection, commitment_id: int) -> tuple[CommitmentView, list[HistoryLine]]:
    """A commitment and its events; one whose every entry was reversed shows as `void`."""
    loaded = _load(conn, commitment_id, reversals(conn)) if 0 < commitment_id <= MAX_ID else None
    if loaded is None:
        raise CommitmentError(f"there is no commitment {commitment_id}")
    state = loaded.state or State(stage=rules.VOID, pledged=Decimal("0.00"))
    view = CommitmentView(loaded.id, loaded.party, rules.KIND_CATEGORY.get(loaded.party.kind, "other"),
                          loaded.instrument, loaded.ref, state)
    reversed_by = {
        int(r.reverses): int(r.id)
        for r in conn.execute(select(ENTRY.c.id, ENTRY.c.reverses).where(
            ENTRY.c.reverses.is_not(None), ENTRY.c.link == rules.link_of(commitment_id)))
    }
    lines = []
    for event in loaded.events:
        entry = get_entry(conn, event.entry_id) if event.entry_id is not None else None
        lines.append(HistoryLine(event, entry, reversed_by.get(event.entry_id) if event.entry_id else None))
    # Reversals of this commitment's entries, recorded with `fisiq entry reverse`.
    for reversal in sorted(reversed_by.values()):
        entry = get_entry(conn, reversal)
        if entry is not None:
            lines.append(HistoryLine(Event("reversal", entry.date, None, reversal), entry, None))
    # By date, as the journal reads (stable: a reversal comes after the events of its day).
    lines.sort(key=lambda line: line.event.date)
    return view, lines


def disagreement(conn: Connection) -> tuple[int, str] | None:
    """The first commitment whose events break invariant 5 or differ from its entries'
    balances, or whose events do not replay (see `_replay_problem`), as (commitment id, what
    is wrong); None when all agree (`fisiq audit verify`). Each table is read once."""
    stray = stray_link(conn, COMMITMENT, EVENT, "commitment_id")
    if stray is not None:
        return stray
    names = party_names(conn)
    reversed_by = {int(r.reverses): int(r.id) for r in conn.execute(
        select(ENTRY.c.id, ENTRY.c.reverses).where(ENTRY.c.reverses.is_not(None)))}
    entries = _posted(conn, names)
    books: dict[tuple[str, str], Decimal] = defaultdict(lambda: Decimal("0.00"))
    by_link: dict[str, list[int]] = defaultdict(list)
    for entry_id, posted in entries.items():
        by_link[posted.link].append(entry_id)
        for account, amount, currency, _ in posted.legs:
            if currency == CUR:
                books[(posted.link, account)] += amount
    events: dict[int, list[Any]] = defaultdict(list)
    for row in conn.execute(select(EVENT).order_by(EVENT.c.id)):
        events[row.commitment_id].append(row)
    commitments = list(conn.execute(
        select(COMMITMENT.c.id, COMMITMENT.c.party_id, COMMITMENT.c.instrument).order_by(COMMITMENT.c.id)))
    for c in commitments:
        try:
            state = rules.fold([_event_of(r) for r in events.get(c.id, [])], reversed_by)
        except CommitmentError as exc:
            return c.id, f"its events no longer make a commitment ({exc})"
        if state is not None and not state.holds():
            return c.id, (f"its events break invariant 5: paid {state.paid}, signed {state.signed}, "
                          f"cancelled {state.cancelled} {CUR}")
        link = rules.link_of(c.id)
        for account, want in rules.balances_by_events(state, c.instrument).items():
            have = books.get((link, account), Decimal("0.00"))
            if have != want:
                return c.id, (f"its balance on {account} is {want} {CUR} by its events but {have} {CUR} "
                              f"in its entries (link {link})")
    # What the sums cannot see: each event against the rules and against its own entry.
    for c in commitments:
        problem = _replay_problem(c.id, names.get(c.party_id, f"party {c.party_id}"), c.instrument,
                                  events.get(c.id, []), reversed_by, entries, by_link.get(rules.link_of(c.id), []))
        if problem is not None:
            return c.id, problem
    return None


_Leg = tuple[str, Decimal, str, str | None]  # account, amount, currency, party name


@dataclass(frozen=True)
class _Posted:
    """What an entry linked to a commitment holds, as the audit compares it."""

    link: str
    kind: str
    memo: str
    reverses: int | None
    legs: list[_Leg]


def _posted(conn: Connection, names: dict[int, str]) -> dict[int, _Posted]:
    """Every entry linked to a commitment, with its postings (parties by name)."""
    entries: dict[int, _Posted] = {}
    query = (select(ENTRY.c.id, ENTRY.c.link, ENTRY.c.kind, ENTRY.c.memo, ENTRY.c.reverses, ACCOUNT.c.name,
                    POSTING.c.amount, POSTING.c.currency, POSTING.c.party_id)
             .join(POSTING, POSTING.c.entry_id == ENTRY.c.id).join(ACCOUNT, ACCOUNT.c.id == POSTING.c.account_id)
             .where(ENTRY.c.link.like("commitment:%")).order_by(ENTRY.c.id, POSTING.c.line))
    for r in conn.execute(query):
        legs = entries.setdefault(r.id, _Posted(r.link, r.kind, r.memo, r.reverses, [])).legs
        legs.append((r.name, from_minor(int(r.amount), r.currency), r.currency,
                     None if r.party_id is None else names.get(r.party_id)))
    return entries


def _replay_problem(commitment_id: int, party: str, instrument: str, rows: Sequence[Any], reversed_by: dict[int, int],
                    entries: dict[int, _Posted], linked: Sequence[int]) -> str | None:
    """The first of a commitment's events its command would not have recorded so, replayed
    with the events that counted when it was recorded: refused by the rules (out of order, a
    pipeline stage after the signing, an amount not above zero, a cancellation without
    reason), a cancellation releasing other than the signed, unpaid rest, or an entry other
    than the event's own (amount, party, instrument account, memo), or none where it posts one.
    Then an entry linked to the commitment (`linked`) that none of its events posted.

    Events are not hashed; this is what proves them, as `loans_db.event_problem` does loans'.
    (That an event's reference and date are its entry's, `stray_link` has checked.)
    """
    if not rows:
        return "it has no events (a command records a commitment with its first event)"
    for i, row in enumerate(rows):
        problem = _event_problem(commitment_id, party, instrument, rows[:i], row, reversed_by, entries)
        if problem is not None:
            return f"its {row.kind} event {row.id} of {as_date(row.date)} {problem}"
    own = {r.entry_id for r in rows if r.entry_id is not None}
    for entry_id in linked:
        if entry_id not in own and entries[entry_id].reverses not in own:
            return f"entry {entry_id} is linked {rules.link_of(commitment_id)}, but none of its events posted it"
    return None


def _event_problem(commitment_id: int, party: str, instrument: str, earlier: Sequence[Any], row: Any,
                   reversed_by: dict[int, int], entries: dict[int, _Posted]) -> str | None:
    """What is wrong with one stored event, against those before it (see `_replay_problem`)."""
    event = _event_of(row)

    def counted(x: Any) -> bool:
        # As for loans: a reversal recorded after this event's entry did not count for it; an
        # event without an entry allows no later reversal of what came before it.
        undone = reversed_by.get(x.entry_id) if x.entry_id is not None else None
        return undone is None or (event.entry_id is not None and undone > event.entry_id)

    state = rules.fold([_event_of(x) for x in earlier if counted(x)])
    try:
        rules.check(state, event, f"commitment {commitment_id}")
    except CommitmentError as exc:
        return f"breaks the rules: {exc}"
    if event.kind in (rules.PROSPECT, rules.SIGNED, rules.PAYMENT) and event.amount is None:
        return "has no amount"
    if event.kind == rules.CANCELLED:
        releases = rules.complete(state, replace(event, amount=None)).amount
        if event.amount != releases:
            return (f"releases {'nothing' if event.amount is None else to_str(event.amount, CUR)}; the signed, "
                    f"unpaid rest was {'nothing' if releases is None else to_str(releases, CUR)}")
    drafts = rules.drafts_for(event, commitment_id=commitment_id, party=party, instrument=instrument)
    if not drafts:
        return None if event.entry_id is None else f"posts no entry, but points at entry {event.entry_id}"
    if event.entry_id is None or event.entry_id not in entries:
        return "has no entry"
    [draft] = drafts
    posted = entries[event.entry_id]
    want = sorted(((p.account, p.amount, p.currency, p.party) for p in draft.postings), key=repr)
    if (posted.kind, posted.memo, sorted(posted.legs, key=repr)) != (draft.kind, draft.memo, want):
        return (f"is {to_str(event.amount or Decimal(0), CUR)} {CUR} for {party} ({instrument}), but its entry "
                f"{event.entry_id} is a {posted.kind} {posted.memo!r}: "
                + "; ".join(f"{a} {amount} {cur}{' ' + who if who else ''}" for a, amount, cur, who in posted.legs))
    return None


def targets(conn: Connection, as_of: date | None = None) -> dict[str, Decimal]:
    """The target in force per category: the latest dated on or before as_of."""
    query = select(TARGET.c.category, TARGET.c.amount).order_by(TARGET.c.date, TARGET.c.id)
    if as_of is not None:
        query = query.where(TARGET.c.date <= as_of)
    return {r.category: from_minor(int(r.amount), CUR) for r in conn.execute(query)}


def target_history(conn: Connection) -> list[dict[str, object]]:
    rows = conn.execute(select(TARGET).order_by(TARGET.c.date, TARGET.c.id))
    return [
        {"category": r.category, "amount": to_str(from_minor(int(r.amount), r.currency), r.currency),
         "currency": r.currency, "date": as_date(r.date).isoformat(), "recorded_at": r.recorded_at,
         "recorded_by": r.recorded_by}
        for r in rows
    ]


def paid_by_party(conn: Connection, as_of: date | None = None) -> dict[int, Decimal]:
    """Capital paid per investor: the instrument accounts' balances on commitment entries."""
    query = (
        select(POSTING.c.party_id, func.sum(POSTING.c.amount).label("total"))
        .join(ACCOUNT, ACCOUNT.c.id == POSTING.c.account_id)
        .join(ENTRY, ENTRY.c.id == POSTING.c.entry_id)
        .where(ACCOUNT.c.name.in_(list(rules.INSTRUMENTS.values())), ENTRY.c.link.like("commitment:%"),
               POSTING.c.currency == CUR, POSTING.c.party_id.is_not(None))
        .group_by(POSTING.c.party_id)
    )
    if as_of is not None:
        query = query.where(POSTING.c.entry_date <= as_of)
    # Credits are negative (the sign rule): capital received is minus the balance.
    return {int(r.party_id): -from_minor(int(r.total), CUR) for r in conn.execute(query)}


def campaign_progress(
    conn: Connection, as_of: date | None = None, commitments: Sequence[CommitmentView] | None = None
) -> rules.Progress:
    """The campaign as it stood at the end of `as_of` (now, without it).

    `commitments` is `list_commitments(conn, as_of=as_of)` when the caller has read it already.
    """
    receivable = balances_by_party(conn, [chart.COMMITMENTS_RECEIVABLE], as_of=as_of)
    paid = paid_by_party(conn, as_of)
    pipeline: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    views = list_commitments(conn, as_of=as_of) if commitments is None else commitments
    for view in views:
        if view.state.stage in (rules.PROSPECT, rules.IN_PRINCIPLE):
            pipeline[view.party.id][view.state.stage] += view.state.pledged
    investors = []
    for party in list_parties(conn):
        if party.kind not in rules.KIND_CATEGORY:
            continue
        hoped = pipeline.get(party.id, {})
        unpaid = receivable.get((chart.COMMITMENTS_RECEIVABLE, party.id, CUR), Decimal("0.00"))
        f = Figures(
            party.name, rules.KIND_CATEGORY[party.kind], None,
            paid=paid.get(party.id, Decimal("0.00")), signed_unpaid=unpaid,
            in_principle=hoped.get(rules.IN_PRINCIPLE, Decimal(0)) + Decimal("0.00"),
            prospect=hoped.get(rules.PROSPECT, Decimal(0)) + Decimal("0.00"), party_id=party.id,
        )
        if f.paid or f.signed_unpaid or f.in_principle or f.prospect:
            investors.append(f)
    return rules.progress(investors, targets(conn, as_of))
