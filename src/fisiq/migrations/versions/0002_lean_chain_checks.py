"""Lean chain checks: drop two redundant unique indexes on entry, fewer trigger statements.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

`entry.prev_hash` and `entry.hash` were UNIQUE. Their indexes cost more than every other part
of recording: the keys are random, so each insert lands on a random page (at 100,000
entries, 2 of the 5 seconds the database spent on an import). Nothing looks entries up by
hash. What goes with them, said plainly:
- the chain cannot fork: the trigger requires an entry's id to be the next one and its
  prev_hash to be the stored hash of the entry before it, and ids are the primary key;
- a raw-SQL writer can now store a `hash` equal to an earlier entry's. The UNIQUE index was
  the only database check on that column, and a weak one: the database cannot recompute
  SHA-256, so any other made-up value passed it too. `fisiq audit verify` recomputes every
  hash and names the first entry whose stored hash is not its content's, duplicates
  included.

On SQLite the checks on a new entry move from one trigger body into the WHEN clauses of five
triggers, one per rule (see SQLITE_ENTRY_RULES); the posting count, the period-close rule and
the posting dates are now one rule, with one message naming the three. Every rule refuses
what it refused before.

SQLite cannot drop a table constraint, so the entry table is rebuilt: renamed aside with
foreign-key enforcement off (see `db.migration_transaction`; so the tables that reference
`entry` keep pointing at the name, not at the old table), recreated, copied in id order, and
the old one dropped; `PRAGMA foreign_key_check` then confirms every reference holds.
Nothing else changes; the rows, and so every hash, are the same.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
ENTRY_COLUMNS = "id, date, memo, kind, ref, link, reverses, recorded_by, recorded_at, prev_hash, hash"

# The SQLite checks on a new entry as of this revision: one trigger per rule, each with its
# rule in the WHEN clause. SQLite evaluates a WHEN clause in the inserting statement and runs
# the trigger's program only when the rule is broken; 0001's single trigger ran its program
# (seven statements) for every row, which cost more than the row itself.
SQLITE_ENTRY_RULES = {
    "entry_next_id": (
        "NEW.id <> (SELECT COALESCE(MAX(id), 0) + 1 FROM entry)",
        "entry id must be the next in the chain",
    ),
    "entry_follows_head": (
        f"NEW.prev_hash <> COALESCE((SELECT hash FROM entry WHERE id = NEW.id - 1), '{GENESIS}')",
        "entry must follow the previous entry''s hash",
    ),
    "entry_after_close": (
        "NEW.date <= (SELECT MAX(date) FROM entry WHERE kind = 'period-close')",
        "entry is dated inside a closed period",
    ),
    "entry_balances": (
        "EXISTS (SELECT 1 FROM posting WHERE entry_id = NEW.id GROUP BY currency HAVING SUM(amount) <> 0)",
        "entry does not balance",
    ),
    "entry_postings": (
        "(SELECT TOTAL(entry_date <> NEW.date) > 0"
        " OR CASE WHEN NEW.kind = 'period-close' THEN COUNT(*) > 0 ELSE COUNT(*) < 2 END"
        " FROM posting WHERE entry_id = NEW.id)",
        "an entry needs at least two postings, dated as the entry; a period close carries none",
    ),
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("entry_prev_hash_key", "entry", type_="unique")
        op.drop_constraint("entry_hash_key", "entry", type_="unique")
        return
    _rebuild_sqlite_entry()


def _rebuild_sqlite_entry() -> None:
    bind = op.get_bind()
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        # db.migration_transaction turns enforcement off; with it on, the rename below would
        # point posting, commitment_event and loan_event at the old table.
        raise RuntimeError("fisiq: migration 0002 must run with SQLite foreign keys off (use `fisiq upgrade`)")
    # Legacy renaming leaves the triggers that read `entry` (posting_for_next_entry) as written.
    op.execute("PRAGMA legacy_alter_table = ON")
    op.execute("ALTER TABLE entry RENAME TO entry_0001")
    for trigger in ("entry_no_update", "entry_no_delete", "entry_checks"):
        op.execute(f"DROP TRIGGER {trigger}")
    op.execute("DROP INDEX ix_entry_kind")
    op.execute("DROP INDEX ix_entry_link")
    op.create_table(
        "entry",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("memo", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False, index=True),
        sa.Column("ref", sa.String(200), unique=True),
        sa.Column("link", sa.String(60), index=True),
        sa.Column("reverses", sa.Integer, sa.ForeignKey("entry.id"), unique=True),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", sa.String(40), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint("id > 0", name="entry_id_positive"),
        sa.CheckConstraint("reverses IS NULL OR reverses < id", name="entry_reverses_earlier"),
    )
    op.execute(f"INSERT INTO entry ({ENTRY_COLUMNS}) SELECT {ENTRY_COLUMNS} FROM entry_0001 ORDER BY id")
    op.execute("DROP TABLE entry_0001")
    op.execute("PRAGMA legacy_alter_table = OFF")
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER entry_no_{action.lower()} BEFORE {action} ON entry "
            f"BEGIN SELECT RAISE(ABORT, 'fisiq: {action} on entry is refused: the books are append-only'); END"
        )
    # SQLite runs the most recently created trigger first: create them in reverse, so a row
    # that breaks several rules is told about the first one listed.
    for name, (broken, message) in reversed(SQLITE_ENTRY_RULES.items()):
        op.execute(
            f"CREATE TRIGGER {name} BEFORE INSERT ON entry WHEN {broken} "
            f"BEGIN SELECT RAISE(ABORT, 'fisiq: {message}'); END"
        )
    problems = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise RuntimeError(f"fisiq: rebuilding the entry table broke references: {problems[:5]}")


def downgrade() -> None:
    raise RuntimeError("fisiq never downgrades a ledger: restore a backup instead")
