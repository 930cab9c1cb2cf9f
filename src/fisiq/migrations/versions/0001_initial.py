"""The first schema: chart, parties, journal, commitments, targets, loans, settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-27

A frozen copy of the tables as they were at this revision (not an import of models.py, which
will move on), with the triggers that keep the books append-only and balanced.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY = (
    "account", "party", "entry", "posting", "commitment", "commitment_event",
    "target", "loan", "loan_event", "setting",
)
GENESIS = "0" * 64


def _who() -> list[sa.Column[str]]:
    return [sa.Column("recorded_at", sa.String(40), nullable=False),
            sa.Column("recorded_by", sa.String(100), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "fisiq_meta",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )
    op.create_table(
        "account",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False, unique=True),
        sa.Column("type", sa.String(10), nullable=False),
        sa.Column("description", sa.String(200), nullable=False, server_default=""),
        sa.Column("recorded_at", sa.String(40), nullable=False),
        sa.CheckConstraint("type IN ('asset','liability','equity','income','expense')", name="account_type"),
    )
    op.create_table(
        "party",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_key", sa.String(200), nullable=False, unique=True),
        sa.Column("skeleton", sa.String(200), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False, index=True),
        sa.Column("acronym", sa.String(40)),
        sa.Column("acronym_key", sa.String(40), unique=True),
        sa.Column("country", sa.String(2)),
        sa.Column("region", sa.String(40)),
        sa.Column("sector", sa.String(80)),
        sa.Column("women_led", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("youth_led", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("membership", sa.String(20)),
        *_who(),
    )
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
        sa.Column("prev_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        sa.CheckConstraint("id > 0", name="entry_id_positive"),
        sa.CheckConstraint("reverses IS NULL OR reverses < id", name="entry_reverses_earlier"),
    )
    op.create_table(
        "posting",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entry_id", sa.Integer,
                  sa.ForeignKey("entry.id", deferrable=True, initially="DEFERRED"), nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("entry_date", sa.Date, nullable=False),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("account.id"), nullable=False),
        sa.Column("party_id", sa.Integer, sa.ForeignKey("party.id"), index=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("entry_id", "line"),
        sa.CheckConstraint("amount <> 0", name="posting_not_zero"),
    )
    # Balances by account (and as of a date) read only this index.
    op.create_index("posting_balance", "posting", ["account_id", "currency", "entry_date", "amount"])
    op.create_table(
        "commitment",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("party_id", sa.Integer, sa.ForeignKey("party.id"), nullable=False, index=True),
        sa.Column("instrument", sa.String(10), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("ref", sa.String(200), unique=True),
        *_who(),
    )
    op.create_table(
        "commitment_event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("commitment_id", sa.Integer, sa.ForeignKey("commitment.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("amount", sa.BigInteger),
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("entry.id")),
        sa.Column("reason", sa.String(500)),
        sa.Column("ref", sa.String(200), unique=True),
        *_who(),
    )
    op.create_table(
        "target",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("category", sa.String(20), nullable=False, index=True),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        *_who(),
    )
    op.create_table(
        "loan",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("borrower_id", sa.Integer, sa.ForeignKey("party.id"), nullable=False, index=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("principal", sa.BigInteger, nullable=False),
        sa.Column("annual_rate", sa.String(20), nullable=False),
        sa.Column("term", sa.Integer, nullable=False),
        sa.Column("frequency", sa.String(10), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("grace", sa.Integer, nullable=False),
        sa.Column("first_due", sa.Date, nullable=False),
        sa.Column("approved_on", sa.Date, nullable=False),
        sa.Column("ref", sa.String(200), unique=True),
        sa.Column("purpose", sa.String(500)),
        *_who(),
        sa.CheckConstraint("principal > 0", name="loan_principal_positive"),
    )
    op.create_table(
        "loan_event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("loan_id", sa.Integer, sa.ForeignKey("loan.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("amount", sa.BigInteger),
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("entry.id")),
        sa.Column("details", sa.String(4000)),
        sa.Column("ref", sa.String(200), unique=True),
        *_who(),
    )
    op.create_table(
        "setting",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(60), nullable=False, index=True),
        sa.Column("value", sa.String(500), nullable=False),
        *_who(),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def _sqlite_triggers() -> None:
    for table in APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'fisiq: {action} on {table} is refused: the books are append-only'); END"
            )
    # A posting may only be written for an entry not yet appended (a bulk write inserts the
    # postings of several new entries before their entry rows), never for a recorded one.
    op.execute(
        "CREATE TRIGGER posting_for_next_entry BEFORE INSERT ON posting "
        "WHEN NEW.entry_id <= (SELECT COALESCE(MAX(id), 0) FROM entry) "
        "BEGIN SELECT RAISE(ABORT, 'fisiq: a posting can only be added to the entry being recorded'); END"
    )
    op.execute(f"""
        CREATE TRIGGER entry_checks BEFORE INSERT ON entry
        BEGIN
          SELECT RAISE(ABORT, 'fisiq: entry id must be the next in the chain')
            WHERE NEW.id <> (SELECT COALESCE(MAX(id), 0) + 1 FROM entry);
          SELECT RAISE(ABORT, 'fisiq: entry must follow the previous entry''s hash')
            WHERE NEW.prev_hash <> COALESCE((SELECT hash FROM entry WHERE id = NEW.id - 1), '{GENESIS}');
          SELECT RAISE(ABORT, 'fisiq: entry is dated inside a closed period')
            WHERE NEW.date <= (SELECT MAX(date) FROM entry WHERE kind = 'period-close');
          SELECT RAISE(ABORT, 'fisiq: entry does not balance')
            WHERE EXISTS (SELECT 1 FROM posting WHERE entry_id = NEW.id
                          GROUP BY currency HAVING SUM(amount) <> 0);
          SELECT RAISE(ABORT, 'fisiq: entry needs at least two postings')
            WHERE NEW.kind <> 'period-close'
              AND (SELECT COUNT(*) FROM posting WHERE entry_id = NEW.id) < 2;
          SELECT RAISE(ABORT, 'fisiq: a period close carries no postings')
            WHERE NEW.kind = 'period-close' AND EXISTS (SELECT 1 FROM posting WHERE entry_id = NEW.id);
          SELECT RAISE(ABORT, 'fisiq: a posting''s date differs from its entry''s')
            WHERE EXISTS (SELECT 1 FROM posting WHERE entry_id = NEW.id AND entry_date <> NEW.date);
        END
    """)


def _postgresql_triggers() -> None:
    op.execute("""
        CREATE FUNCTION fisiq_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'fisiq: % on % is refused: the books are append-only', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
        END $$
    """)
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION fisiq_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION fisiq_refuse_change()"
        )
    op.execute(f"""
        CREATE FUNCTION fisiq_entry_checks() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          last_id integer;
          last_hash text;
          closed date;
        BEGIN
          SELECT id, hash INTO last_id, last_hash FROM entry ORDER BY id DESC LIMIT 1;
          IF NEW.id <> COALESCE(last_id, 0) + 1 THEN
            RAISE EXCEPTION 'fisiq: entry id must be the next in the chain';
          END IF;
          IF NEW.prev_hash <> COALESCE(last_hash, '{GENESIS}') THEN
            RAISE EXCEPTION 'fisiq: entry must follow the previous entry''s hash';
          END IF;
          SELECT MAX(date) INTO closed FROM entry WHERE kind = 'period-close';
          IF closed IS NOT NULL AND NEW.date <= closed THEN
            RAISE EXCEPTION 'fisiq: entry is dated inside a closed period';
          END IF;
          RETURN NEW;
        END $$
    """)
    op.execute(
        "CREATE TRIGGER entry_checks BEFORE INSERT ON entry "
        "FOR EACH ROW EXECUTE FUNCTION fisiq_entry_checks()"
    )
    op.execute("""
        CREATE FUNCTION fisiq_posting_for_next_entry() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.entry_id <= (SELECT COALESCE(MAX(id), 0) FROM entry) THEN
            RAISE EXCEPTION 'fisiq: a posting can only be added to the entry being recorded';
          END IF;
          RETURN NEW;
        END $$
    """)
    op.execute(
        "CREATE TRIGGER posting_for_next_entry BEFORE INSERT ON posting "
        "FOR EACH ROW EXECUTE FUNCTION fisiq_posting_for_next_entry()"
    )
    # Balance is checked again at commit (as django-hordak does), so an entry row written
    # without its postings, or before them, cannot commit either.
    op.execute("""
        CREATE FUNCTION fisiq_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          eid integer;
          ekind text;
          edate date;
          n integer;
        BEGIN
          IF TG_TABLE_NAME = 'entry' THEN eid := NEW.id; ELSE eid := NEW.entry_id; END IF;
          SELECT kind, date INTO ekind, edate FROM entry WHERE id = eid;
          IF NOT FOUND THEN
            RAISE EXCEPTION 'fisiq: posting belongs to no entry %', eid;
          END IF;
          IF EXISTS (SELECT 1 FROM posting WHERE entry_id = eid GROUP BY currency HAVING SUM(amount) <> 0) THEN
            RAISE EXCEPTION 'fisiq: entry % does not balance', eid;
          END IF;
          SELECT COUNT(*) INTO n FROM posting WHERE entry_id = eid;
          IF ekind <> 'period-close' AND n < 2 THEN
            RAISE EXCEPTION 'fisiq: entry % needs at least two postings', eid;
          END IF;
          IF ekind = 'period-close' AND n > 0 THEN
            RAISE EXCEPTION 'fisiq: a period close carries no postings';
          END IF;
          IF EXISTS (SELECT 1 FROM posting WHERE entry_id = eid AND entry_date <> edate) THEN
            RAISE EXCEPTION 'fisiq: a posting''s date differs from its entry''s';
          END IF;
          RETURN NULL;
        END $$
    """)
    for table in ("entry", "posting"):
        op.execute(
            f"CREATE CONSTRAINT TRIGGER {table}_balanced AFTER INSERT ON {table} "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fisiq_check_balanced()"
        )


def downgrade() -> None:
    raise RuntimeError("fisiq never downgrades a ledger: restore a backup instead")
