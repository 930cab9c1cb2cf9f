"""Restoring a ledger from a jsonl export: the same entries, hashes, authors and times.

`restore_journal` reads the file line by line (streaming), checks every entry's hash and its
link to the previous one before anything is written, and writes in one write transaction:
all or nothing. Rows go in as `ledger.append_entries` writes them, postings before their
entry, so the database's triggers check each entry again (next id, previous hash, balance,
closed periods). It refuses a ledger that already has entries.

The file carries the chart of accounts (accounts missing from the ledger are opened; one with
another type is refused), the parties (checked as `party add` checks them, inserted with
their recorded fields; one already present with the same description is kept), the entries, the registers (loans, commitments, their
events, targets, settings: `registers.py`; written with their ids, so the ledger must have
none), and the checkpoint, which must match the last entry: a truncated file is refused.
Before committing, every loan and commitment is checked against its entries as `fisiq audit
verify` does. A version 1 file has no registers: it restores only when no entry was posted by
a loan or a commitment.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from fisiq import accounts as chart
from fisiq.csvfile import fisiq_export
from fisiq.db import utc_now, write_transaction
from fisiq.entries import (
    GENESIS_HASH,
    PERIOD_CLOSE,
    EntryError,
    Posting,
    RecordedEntry,
    compute_hash,
    parse_date,
    validate_entry,
)
from fisiq.errors import LedgerError
from fisiq.export import (
    BOOK_KINDS,
    JOURNAL_FORMAT,
    JOURNAL_VERSION,
    JOURNAL_VERSIONS,
    Checkpoint,
    RegisterDigests,
    parse_checkpoint,
)
from fisiq.ledger import (
    ACCOUNT,
    PARTY,
    account_ids,
    chain_head,
    date_for_rows,
    entry_row,
    insert_rows,
    rows_checked_as_a_batch,
)
from fisiq.money import MoneyError, parse_amount
from fisiq.parties import PartyError
from fisiq.parties_db import RecordedParties
from fisiq.registers import BY_KIND, REGISTERS, RegisterError, RegisterWriter, has_registers

BATCH = 1000


class RestoreError(LedgerError):
    """A journal file that cannot be restored; the message names the line."""


@dataclass(frozen=True, slots=True)
class Restored:
    entries: int
    head: str
    accounts_added: int
    parties_added: int
    loans: int = 0
    commitments: int = 0
    targets: int = 0
    settings: int = 0


def party_rows(conn: Connection) -> list[dict[str, object]]:
    """Every party with every stored column but its id, in the order they were recorded."""
    columns = [c for c in PARTY.c if c.name != "id"]
    rows = conn.execute(select(*columns).order_by(PARTY.c.id))
    out = []
    for row in rows:
        doc = dict(row._mapping)
        for col in columns:
            if isinstance(doc[col.name], int) and col.type.python_type is bool:
                doc[col.name] = bool(doc[col.name])
        out.append(doc)
    return out


_POSTING_FIELDS = {"account", "party", "amount", "currency"}
_ENTRY_FIELDS = {"id", "date", "memo", "kind", "ref", "link", "reverses", "recorded_by", "recorded_at", "prev_hash",
                 "hash", "postings"}


def _entry(doc: Any, where: str) -> RecordedEntry:
    unknown = sorted(set(doc) - _ENTRY_FIELDS) if isinstance(doc, dict) else []
    if unknown:
        raise RestoreError(f"{where}: entry fields {unknown} are unknown to this fisiq")
    try:
        postings = []
        for p in doc["postings"]:
            unknown = sorted(set(p) - _POSTING_FIELDS) if isinstance(p, dict) else []
            if unknown:
                raise RestoreError(f"{where}: posting fields {unknown} are unknown to this fisiq")
            currency = p["currency"]
            postings.append(Posting(p["account"], parse_amount(p["amount"], currency), currency, p["party"]))
        entry = RecordedEntry(
            id=doc["id"],
            date=parse_date(doc["date"]),
            memo=doc["memo"],
            kind=doc["kind"],
            ref=doc["ref"],
            link=doc["link"],
            reverses=doc["reverses"],
            recorded_by=doc["recorded_by"],
            recorded_at=doc["recorded_at"],
            prev_hash=doc["prev_hash"],
            hash=doc["hash"],
            postings=tuple(postings),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise RestoreError(f"{where}: not a fisiq entry ({type(exc).__name__}: {exc})") from None
    except (MoneyError, EntryError) as exc:
        raise RestoreError(f"{where}: {exc}") from None
    # The hash is computed over these values as they are: a number where text belongs (or
    # true where a number belongs) must be named here, not fail inside the hashing.
    def whole(v: object) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    texts = (entry.memo, entry.kind, entry.recorded_by, entry.recorded_at, entry.prev_hash, entry.hash,
             *(p.account for p in entry.postings))
    optional_texts = (entry.ref, entry.link, *(p.party for p in entry.postings))
    if (not whole(entry.id) or not (entry.reverses is None or whole(entry.reverses))
            or not all(isinstance(v, str) for v in texts)
            or not all(v is None or isinstance(v, str) for v in optional_texts)):
        raise RestoreError(f"{where}: not a fisiq entry (wrong field types)")
    return entry


class _Writer:
    """Buffers rows of checked entries and writes them in batches, postings first, as the bulk
    path does (`ledger.insert_rows`)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.accounts = account_ids(conn)
        self.parties = {name: pid for pid, name in conn.execute(select(PARTY.c.id, PARTY.c.name))}
        self.row_date = date_for_rows(conn)
        self.postings: list[tuple[object, ...]] = []
        self.entries: list[tuple[object, ...]] = []

    def add(self, e: RecordedEntry, minors: Sequence[int], where: str) -> None:
        day = self.row_date(e.date)
        for line, (p, minor) in enumerate(zip(e.postings, minors, strict=True), start=1):
            party_id = None
            if p.party is not None:
                party_id = self.parties.get(p.party)
                if party_id is None:
                    raise RestoreError(f"{where}: party {p.party!r} is not among the file's parties")
            self.postings.append((e.id, line, day, self.accounts[p.account], party_id, p.currency, minor))
        self.entries.append(entry_row(e, day))
        if len(self.entries) >= BATCH:
            self.flush()

    def flush(self) -> None:
        insert_rows(self.conn, self.postings, self.entries)
        self.postings, self.entries = [], []


def restore_journal(engine: Engine, lines: Iterable[str], *, source: str = "file") -> Restored:
    """Rebuild a jsonl export into a ledger without entries or registers (see the module doc)."""
    with write_transaction(engine) as conn:
        count, _ = chain_head(conn)
        if count:
            raise RestoreError(f"the ledger already has {count} entries; restore into a new ledger (`fisiq init`)")
        if has_registers(conn):
            raise RestoreError("the ledger already has loans, commitments, targets or settings; "
                               "restore into a new ledger (`fisiq init`)")
        # Every entry is checked here first; the database checks the restored rows as a batch.
        with rows_checked_as_a_batch(conn, enabled=True):
            return _restore(conn, lines, source)


# The sections of a file, in the order they must come; the checkpoint ends it.
SECTIONS = ("account", "party", "entry", *(r.kind for r in REGISTERS))


def _restore(conn: Connection, lines: Iterable[str], source: str) -> Restored:
    writer: _Writer | None = None
    registers: RegisterWriter | None = None
    section = 0
    version: object = JOURNAL_VERSION
    accounts_added = parties_added = 0
    expected_id, head = 1, GENESIS_HASH
    closed: date | None = None
    reversed_ids: set[int] = set()
    checkpoint: Checkpoint | None = None
    started = False
    party_columns = {c.name for c in PARTY.c} - {"id"}
    recorded_parties: RecordedParties | None = None
    register_digests = RegisterDigests()  # of the lines as read, for the checkpoint's
    for number, raw in enumerate(lines, start=1):
        where = f"{source} line {number}"
        if not raw.strip():
            continue
        if checkpoint is not None:
            raise RestoreError(f"{where}: text after the checkpoint line")
        try:
            doc = json.loads(raw)
        except ValueError:
            export = None if started else fisiq_export(raw)
            seems = "" if export is None else f" ({export}: restore takes a jsonl export, fisiq export --format jsonl)"
            raise RestoreError(f"{where}: not JSON{seems}") from None
        if not isinstance(doc, dict) or len(doc) != 1:
            raise RestoreError(f"{where}: not a line of a fisiq jsonl export")
        (kind, body), = doc.items()
        if not started:
            if kind != "fisiq" or not isinstance(body, dict) or body.get("format") != JOURNAL_FORMAT:
                raise RestoreError(f"{where}: not a fisiq jsonl export (no header line)")
            version = body.get("version")
            if version not in JOURNAL_VERSIONS:
                raise RestoreError(f"{where}: journal version {version} is not one this fisiq reads")
            if body.get("from") is not None or body.get("to") is not None:
                raise RestoreError(f"{where}: this export covers only some dates (--from/--to); "
                                   "restore needs an export of the whole ledger")
            started = True
            continue
        if not isinstance(body, dict):
            raise RestoreError(f"{where}: not a line of a fisiq jsonl export")
        if kind == "checkpoint":
            checkpoint = parse_checkpoint(raw)
            if checkpoint is None:
                raise RestoreError(f"{where}: a checkpoint needs entries, head and, if any, register digests")
            continue
        if kind not in SECTIONS or (version == 1 and kind in BY_KIND):
            raise RestoreError(f"{where}: unknown line kind {kind!r}")
        if SECTIONS.index(kind) < section:
            raise RestoreError(f"{where}: {kind} lines must come before {SECTIONS[section]} lines")
        section = SECTIONS.index(kind)
        if kind in BOOK_KINDS:
            register_digests.add(kind, body)
        if kind == "account":
            accounts_added += _account(conn, body, where)
        elif kind == "party":
            unknown = set(body) - party_columns
            if unknown:
                raise RestoreError(f"{where}: party fields {sorted(unknown)} are unknown to this fisiq")
            recorded_parties = recorded_parties or RecordedParties(conn)
            try:
                parties_added += recorded_parties.add(body)
            except PartyError as exc:
                raise RestoreError(f"{where}: {exc}") from None
        elif kind == "entry":
            writer = writer or _Writer(conn)
            entry = _entry(body, where)
            minors = _check(entry, expected_id, head, closed, reversed_ids, writer.accounts, where)
            if entry.kind == PERIOD_CLOSE:
                closed = entry.date if closed is None else max(closed, entry.date)
            if entry.reverses is not None:
                reversed_ids.add(entry.reverses)
            writer.add(entry, minors, where)
            expected_id, head = entry.id + 1, entry.hash
        else:
            if registers is None:
                if writer is not None:
                    writer.flush()  # events point at entries
                registers = RegisterWriter(conn, expected_id - 1)
            register_digests.add(kind, body)
            try:
                registers.add(kind, body)
            except RegisterError as exc:
                raise RestoreError(f"{where}: {exc}") from None
    if not started:
        raise RestoreError(f"{source} is empty")
    if checkpoint is None:
        raise RestoreError(f"{source} has no checkpoint line: it is incomplete (cut short?); nothing restored")
    if checkpoint.chain() != (expected_id - 1, head):
        raise RestoreError(
            f"{source}: its checkpoint says {checkpoint.entries} entries ending in {checkpoint.head[:12]}…, "
            f"the file holds {expected_id - 1} ending in {head[:12]}…; nothing restored"
        )
    if checkpoint.registers is not None:
        recorded = {kind: (rows, digest) for kind, rows, digest in checkpoint.registers}
        # A kind the checkpoint does not count is not checked: an export made before its
        # checkpoint covered the accounts and the parties restores as it did.
        changed = [kind for kind, rows, digest in register_digests.marks()
                   if kind in recorded and recorded[kind] != (rows, digest)]
        changed += sorted(set(recorded) - {kind for kind, _, _ in register_digests.marks()})
        if changed:
            raise RestoreError(f"{source}: its {', '.join(changed)} lines are not those its checkpoint's digest "
                               "was made of (edited after the export?); nothing restored")
    if writer is not None:
        writer.flush()
    if registers is not None:
        registers.flush()
    _check_registers(conn, source, version)
    counts = registers.counts if registers is not None else {}
    return Restored(expected_id - 1, head, accounts_added, parties_added,
                    loans=counts.get("loan", 0), commitments=counts.get("commitment", 0),
                    targets=counts.get("target", 0), settings=counts.get("setting", 0))


def _check_registers(conn: Connection, source: str, version: object) -> None:
    """The audit's check of loans and commitments against their entries, before committing."""
    from fisiq.commitments_db import disagreement as commitment_disagreement
    from fisiq.loans_db import disagreement as loan_disagreement

    for what, check in (("loan", loan_disagreement), ("commitment", commitment_disagreement)):
        try:
            problem = check(conn)
        except (LookupError, ValueError, TypeError, ArithmeticError) as exc:
            # A field the file holds in a shape fisiq never writes (details without a key, say).
            raise RestoreError(f"{source}: the {what}s it holds cannot be read as fisiq writes them "
                               f"({type(exc).__name__}: {exc}); nothing restored") from None
        if problem is None:
            continue
        if version == 1:
            raise RestoreError(
                f"{source}: entries in it were posted by loans or commitments, whose registers an export of "
                "version 1 does not hold; export the ledger again with this fisiq (or copy it with "
                "`fisiq backup`); nothing restored"
            )
        raise RestoreError(f"{source}: {what} {problem[0]}: {problem[1]}; nothing restored")


def _account(conn: Connection, body: dict[str, Any], where: str) -> int:
    name, type_text = body.get("name"), body.get("type")
    if not isinstance(name, str) or not isinstance(type_text, str):
        raise RestoreError(f"{where}: an account needs a name and a type")
    try:
        account_type = chart.parse_type(type_text)
        chart.check_account_name(name, account_type)
    except chart.AccountError as exc:
        raise RestoreError(f"{where}: {exc}") from None
    found = conn.execute(select(ACCOUNT.c.type).where(ACCOUNT.c.name == name)).first()
    if found is not None:
        if found[0] != account_type.value:
            raise RestoreError(f"{where}: account {name} is a {found[0]} in this ledger, a {type_text} in the file")
        return 0
    description = body.get("description") or ""
    conn.execute(insert(ACCOUNT), {"name": name, "type": account_type.value, "description": str(description),
                                   "recorded_at": utc_now()})
    return 1


def _check(
    e: RecordedEntry, expected_id: int, head: str, closed: date | None, reversed_ids: set[int],
    accounts: dict[str, int], where: str,
) -> tuple[int, ...]:
    """Everything `verify_chain` and `append_entries` check, before the entry is written.

    Returns the postings' amounts in minor units, as `validate_entry` does.
    """
    if e.id != expected_id:
        raise RestoreError(f"{where}: entry {e.id} where entry {expected_id} was expected "
                           "(the file must hold the whole chain from entry 1)")
    if e.prev_hash != head:
        raise RestoreError(f"{where}: entry {e.id} does not follow the previous entry's hash")
    if compute_hash(e) != e.hash:
        raise RestoreError(f"{where}: entry {e.id}'s content does not match its hash (altered)")
    try:
        minors = validate_entry(e.draft(), accounts)
    except EntryError as exc:
        raise RestoreError(f"{where}: entry {e.id}: {exc}") from None
    if closed is not None and e.date <= closed:
        raise RestoreError(f"{where}: entry {e.id} is dated inside a closed period (closed through {closed})")
    if e.reverses is not None and (not 0 < e.reverses < e.id or e.reverses in reversed_ids):
        raise RestoreError(f"{where}: entry {e.id} reverses entry {e.reverses}, which it cannot")
    return minors
