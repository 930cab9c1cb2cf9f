"""Checkpoints: proof that the ledger still extends a chain head seen earlier.

An export ends with a checkpoint (how many entries the ledger had, and the last one's hash).
`fisiq audit verify` alone proves the chain is internally consistent; it cannot see that the
last entries were removed, or that someone recomputed every hash after changing an entry.
Comparing with a checkpoint kept elsewhere catches both.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain, islice

from sqlalchemy import Connection, select

from fisiq.entries import GENESIS_HASH
from fisiq.export import RegisterMark
from fisiq.ledger import ENTRY, MAX_ID, chain_head


def extends_checkpoint(conn: Connection, count: int, head_hash: str) -> str | None:
    """None when the ledger has at least `count` entries and entry `count` has `head_hash`;
    otherwise the problem, in one sentence."""
    have, _ = chain_head(conn)
    if count == 0:
        return None if head_hash == GENESIS_HASH else "a checkpoint of 0 entries must carry the genesis hash"
    if have < count:
        gone = f"entry {count} was" if have + 1 == count else f"entries {have + 1} to {count} were"
        return f"the ledger has {have} entries but the checkpoint recorded {count}: {gone} removed"
    found = conn.execute(select(ENTRY.c.hash).where(ENTRY.c.id == count)).scalar()
    if found != head_hash:
        return (f"entry {count} has hash {str(found)[:12]}… but the checkpoint recorded {head_hash[:12]}…: "
                "the chain was rewritten since the checkpoint")
    return None


def first_rewritten(conn: Connection, recorded: Iterable[tuple[int, str]]) -> tuple[int, str] | None:
    """The first entry whose hash is not the one an export recorded (`export.recorded_hashes`),
    as (entry id, the problem), or None; entries the ledger no longer has are not compared."""
    pairs = ((i, h) for i, h in recorded if 0 < i <= MAX_ID)  # a forged file's ids may not fit the column
    while chunk := list(islice(pairs, 1000)):
        rows = conn.execute(select(ENTRY.c.id, ENTRY.c.hash).where(ENTRY.c.id.in_([i for i, _ in chunk])))
        stored: dict[int, str] = {row.id: row.hash for row in rows}
        for entry_id, recorded_hash in chunk:
            found = stored.get(entry_id)
            if found is not None and found != recorded_hash:
                return entry_id, (f"entry {entry_id} has hash {found[:12]}… but the export recorded "
                                  f"{recorded_hash[:12]}…: the chain was rewritten from there since the checkpoint")
    return None


def registers_since(conn: Connection, marks: tuple[RegisterMark, ...]) -> str | None:
    """None when each register (and the accounts and the parties) still begins with the rows
    a checkpoint counted, unchanged (the digest of their export lines is the same); otherwise
    the first problem. A kind the checkpoint does not count (an older export's) is not checked."""
    from fisiq.export import RegisterDigests, book_lines
    from fisiq.journal_import import party_rows
    from fisiq.ledger import list_accounts
    from fisiq.registers import register_lines

    left = {kind: rows for kind, rows, _ in marks}
    digests = RegisterDigests()
    books = book_lines(list_accounts(conn, as_opened=True), party_rows(conn))
    for kind, row in chain(books, register_lines(conn)):
        if left.get(kind, 0) > 0:  # rows added since the checkpoint do not count
            digests.add(kind, row)
            left[kind] -= 1
    now = {kind: (rows, digest) for kind, rows, digest in digests.marks()}
    for kind, rows, digest in marks:
        have, found = now.get(kind, (0, ""))
        if have < rows:
            return f"the ledger has {have} {kind} rows but the checkpoint recorded {rows}: rows were removed"
        if found != digest:
            return f"the first {rows} {kind} rows are not those the checkpoint's digest was made of: changed since"
    return None
