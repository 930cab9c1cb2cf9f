"""Checkpoints: proof that the ledger still extends a chain head seen earlier.

An export ends with a checkpoint (how many entries the ledger had, and the last one's hash).
`fisiq audit verify` alone proves the chain is internally consistent; it cannot see that the
last entries were removed, or that someone recomputed every hash after changing an entry.
Comparing with a checkpoint kept elsewhere catches both.
"""

from __future__ import annotations

from itertools import chain

from sqlalchemy import Connection, select

from fisiq.entries import GENESIS_HASH
from fisiq.export import RegisterMark
from fisiq.ledger import ENTRY, chain_head


def extends_checkpoint(conn: Connection, count: int, head_hash: str) -> str | None:
    """None when the ledger has at least `count` entries and entry `count` has `head_hash`;
    otherwise the problem, in one sentence."""
    have, _ = chain_head(conn)
    if count == 0:
        return None if head_hash == GENESIS_HASH else "a checkpoint of 0 entries must carry the genesis hash"
    if have < count:
        return (f"the ledger has {have} entries but the checkpoint recorded {count}: "
                f"entries {have + 1} to {count} were removed")
    found = conn.execute(select(ENTRY.c.hash).where(ENTRY.c.id == count)).scalar()
    if found != head_hash:
        return (f"entry {count} has hash {str(found)[:12]}… but the checkpoint recorded {head_hash[:12]}…: "
                "the chain was rewritten since the checkpoint")
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
