"""Parties in storage: add (one or many), find, list. The only SQL about parties.

Uniqueness is checked here and by the database: `name_key` and `acronym_key` are unique
columns. A new name that looks like an existing one (same `skeleton`) is refused, and so is
an acronym that is another party's name (or the other way round), so that a name or an
acronym always finds exactly one party.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, insert, or_, select

from fisiq.db import utc_now
from fisiq.ledger import PARTY, current_user, unknown_party
from fisiq.names import sort_key
from fisiq.parties import PartyDraft, PartyError


@dataclass(frozen=True, slots=True)
class PartyRow:
    id: int
    name: str
    kind: str
    acronym: str | None
    country: str | None
    region: str | None
    sector: str | None
    women_led: bool
    youth_led: bool
    membership: str | None
    recorded_at: str
    recorded_by: str

    def as_draft(self) -> PartyDraft:
        return PartyDraft(self.name, self.kind, self.acronym, self.country, self.region, self.sector,
                          self.women_led, self.youth_led, self.membership)

    def json(self) -> dict[str, object]:
        return {
            "id": self.id, "name": self.name, "kind": self.kind, "acronym": self.acronym,
            "country": self.country, "region": self.region, "sector": self.sector,
            "women_led": self.women_led, "youth_led": self.youth_led, "membership": self.membership,
            "recorded_at": self.recorded_at, "recorded_by": self.recorded_by,
        }


def _row(r: object) -> PartyRow:
    return PartyRow(
        r.id, r.name, r.kind, r.acronym, r.country, r.region, r.sector,  # type: ignore[attr-defined]
        bool(r.women_led), bool(r.youth_led), r.membership, r.recorded_at, r.recorded_by,  # type: ignore[attr-defined]
    )


def list_parties(conn: Connection, kind: str | None = None) -> list[PartyRow]:
    # Sorted here, not by the database: its order would follow the engine's collation.
    query = select(PARTY)
    if kind is not None:
        query = query.where(PARTY.c.kind == kind)
    return sorted((_row(r) for r in conn.execute(query)), key=lambda party: sort_key(party.name))


def get_party(conn: Connection, party_id: int) -> PartyRow | None:
    row = conn.execute(select(PARTY).where(PARTY.c.id == party_id)).first()
    return _row(row) if row else None


def find_party(conn: Connection, name_or_acronym: str) -> PartyRow | None:
    """A party by name (after normalization) or acronym, or None."""
    from fisiq.ledger import find_party_id

    party_id = find_party_id(conn, name_or_acronym)
    return get_party(conn, party_id) if party_id is not None else None


def require_party(conn: Connection, name_or_acronym: str) -> PartyRow:
    party = find_party(conn, name_or_acronym)
    if party is None:
        raise PartyError(unknown_party(conn, name_or_acronym, "see `fisiq party list`; add it with `fisiq party add`"))
    return party


def _columns(draft: PartyDraft) -> dict[str, object]:
    """The party row's columns for a draft, but its id, time and author."""
    return {
        "name": draft.name, "name_key": draft.name_key, "skeleton": draft.skeleton, "kind": draft.kind,
        "acronym": draft.acronym, "acronym_key": draft.acronym_key, "country": draft.country,
        "region": draft.region, "sector": draft.sector, "women_led": draft.women_led,
        "youth_led": draft.youth_led, "membership": draft.membership,
    }


class _Batch:
    """The parties accepted so far in one call, indexed by what a new one may not share.

    Keys and skeletons are computed once per party: comparing each new party with every
    earlier one made loading a few hundred parties take seconds.
    """

    def __init__(self) -> None:
        self.by_name_key: dict[str, PartyDraft] = {}
        self.by_key: dict[str, PartyDraft] = {}  # name keys and acronym keys
        self.by_skeleton: dict[str, PartyDraft] = {}

    def add(self, draft: PartyDraft, keys: list[str], shape: str) -> None:
        self.by_name_key[keys[0]] = draft
        for key in keys:
            self.by_key.setdefault(key, draft)
        self.by_skeleton.setdefault(shape, draft)


def _clash(conn: Connection, draft: PartyDraft, keys: list[str], shape: str, batch: _Batch) -> str | None:
    """Why the draft cannot be added beside the recorded parties and the batch, or None.

    `keys` are its name key then its acronym key (if any); `shape` its skeleton.
    """
    if keys[0] in batch.by_name_key:
        return f"party {draft.name!r} appears twice"
    other = next((batch.by_key[k] for k in keys if k in batch.by_key), None)
    if other is not None:
        return f"{draft.name!r}: its name or acronym is already used by {other.name!r} in this batch"
    other = batch.by_skeleton.get(shape)
    if other is not None:
        return f"name {draft.name!r} looks like {other.name!r} in this batch; use a distinct name"
    found = conn.execute(
        select(PARTY.c.name, PARTY.c.name_key, PARTY.c.acronym_key).where(
            or_(PARTY.c.name_key.in_(keys), PARTY.c.acronym_key.in_(keys), PARTY.c.skeleton == shape)
        )
    ).all()
    for name, key, acronym_key in found:
        if key == keys[0]:
            return f"party {draft.name!r} already exists"
        if key in keys or acronym_key in keys:
            return f"{draft.name!r}: its name or acronym is already used by party {name!r}"
        return f"name {draft.name!r} looks like the existing party {name!r}; use a distinct name"
    return None


def add_parties(conn: Connection, drafts: Sequence[PartyDraft], *, skip_existing: bool = False) -> list[int | None]:
    """Add parties on a connection holding the write lock; returns new ids (None: skipped).

    With `skip_existing`, a party already recorded with exactly the same description is
    skipped (so loading a file twice adds nothing); with a different description it is
    refused. Raises PartyError and writes nothing on any refusal (the caller rolls back).
    """
    who = current_user()
    now = utc_now()
    accepted: list[PartyDraft] = []
    batch = _Batch()
    results: list[int | None] = []
    for draft in drafts:
        if skip_existing:
            existing = conn.execute(select(PARTY).where(PARTY.c.name_key == draft.name_key)).first()
            if existing is not None:
                if _row(existing).as_draft() != draft:
                    raise PartyError(f"party {draft.name!r} already exists with a different description")
                results.append(None)
                continue
        keys = [draft.name_key] + ([draft.acronym_key] if draft.acronym_key else [])
        shape = draft.skeleton
        problem = _clash(conn, draft, keys, shape, batch)
        if problem:
            raise PartyError(problem)
        batch.add(draft, keys, shape)
        accepted.append(draft)
        results.append(-1)
    ids: list[int] = []
    for draft in accepted:
        new_id = conn.execute(
            insert(PARTY).returning(PARTY.c.id), {**_columns(draft), "recorded_at": now, "recorded_by": who},
        ).scalar_one()
        ids.append(int(new_id))
    it = iter(ids)
    return [next(it) if r == -1 else None for r in results]


class RecordedParties:
    """The party lines of a restore, each checked as `party add` would have checked it.

    A line must hold what `party add` records for its fields (the name and fields as cleaned,
    the keys derived from them, a known country, membership only for members) and may not
    share a name, acronym or look-alike name with another party; it keeps its recorded time
    and author. A party the ledger already has with the same description is skipped. Raises
    PartyError saying what is wrong.
    """

    _FLAGS = ("women_led", "youth_led")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.batch = _Batch()

    def add(self, body: dict[str, object]) -> bool:
        """Check one party line and insert it; False when the ledger already had it."""
        from fisiq.names import TextError
        from fisiq.parties import make_party

        label = f"party {body.get('name')!r}"
        for column in ("name", "kind", "recorded_at", "recorded_by"):
            if not isinstance(body.get(column), str):
                raise PartyError(f"{label}: {column} must be text")
        for column in self._FLAGS:
            if not isinstance(body.get(column, False), bool):
                raise PartyError(f"{label}: {column} must be true or false, not {body[column]!r}")
        texts = {c: body.get(c) for c in ("acronym", "country", "region", "sector", "membership")}
        if any(v is not None and not isinstance(v, str) for v in texts.values()):
            raise PartyError(f"{label}: acronym, country, region, sector and membership must be text")
        try:
            draft = make_party(str(body["name"]), str(body["kind"]), women_led=bool(body.get("women_led", False)),
                               youth_led=bool(body.get("youth_led", False)), **texts)  # type: ignore[arg-type]
        except (PartyError, TextError) as exc:
            raise PartyError(f"{label}: {exc}") from None
        recorded = _columns(draft)
        for column, value in recorded.items():
            if body.get(column, False if column in self._FLAGS else None) != value:
                raise PartyError(f"{label}: {column} is {body.get(column)!r}, where `party add` records {value!r}")
        if draft.name_key in self.batch.by_name_key:
            raise PartyError(f"{label} appears twice")
        keys = [draft.name_key] + ([draft.acronym_key] if draft.acronym_key else [])
        existing = self.conn.execute(select(PARTY).where(PARTY.c.name_key == draft.name_key)).first()
        if existing is not None:
            if _row(existing).as_draft() != draft:
                raise PartyError(f"{label} is already in the ledger with another description")
            self.batch.add(draft, keys, draft.skeleton)
            return False
        problem = _clash(self.conn, draft, keys, draft.skeleton, self.batch)
        if problem:
            raise PartyError(problem)
        self.batch.add(draft, keys, draft.skeleton)
        self.conn.execute(insert(PARTY), {**recorded, "recorded_at": body["recorded_at"],
                                          "recorded_by": body["recorded_by"]})
        return True
