"""PostgreSQL roles for several administrators (docs/operations.md), shown to work.

An owner role creates the ledger (`fisiq init`) in its own schema; an append-only role
records entries through fisiq but is refused UPDATE, DELETE and TRUNCATE by privileges (before
any trigger is even reached) and cannot disable the triggers; an auditor role reads reports
and verifies the chain but cannot write. The roles are created with unique names for the run
and dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from fisiq import db, ledger
from fisiq.entries import EntryDraft, Posting
from fisiq.models import APPEND_ONLY_TABLES

PG_URL = os.environ.get("FISIQ_TEST_DATABASE_URL", "")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="FISIQ_TEST_DATABASE_URL is not set"),
]


def grant_sql(schema: str, writer: str, auditor: str) -> list[str]:
    """The grants of docs/operations.md, run by the owner after `fisiq init` and each upgrade."""
    books = ", ".join(f'"{schema}".{t}' for t in APPEND_ONLY_TABLES)
    return [
        f'GRANT USAGE ON SCHEMA "{schema}" TO "{writer}", "{auditor}"',
        f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{writer}", "{auditor}"',
        f'GRANT INSERT ON {books} TO "{writer}"',
        f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{writer}"',
        f'GRANT SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{auditor}"',
    ]


@dataclass
class Roles:
    schema: str
    owner: str
    writer: str
    auditor: str

    def url(self, role: str) -> str:
        base = make_url(PG_URL).set(username=role, password=None, query={"options": f"-csearch_path={self.schema}"})
        return base.render_as_string(hide_password=False)


@pytest.fixture
def roles() -> Iterator[Roles]:
    suffix = uuid.uuid4().hex[:10]
    r = Roles(f"fisiq_roles_{suffix}", f"fisiq_owner_{suffix}", f"fisiq_writer_{suffix}", f"fisiq_auditor_{suffix}")
    admin = create_engine(PG_URL, poolclass=NullPool)
    with admin.begin() as conn:
        for role in (r.owner, r.writer, r.auditor):
            conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(text(f'CREATE SCHEMA "{r.schema}" AUTHORIZATION "{r.owner}"'))
    try:
        yield r
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{r.schema}" CASCADE'))
            for role in (r.writer, r.auditor, r.owner):
                conn.execute(text(f'DROP OWNED BY "{role}"'))
                conn.execute(text(f'DROP ROLE "{role}"'))
        admin.dispose()


def _draft(ref: str) -> EntryDraft:
    return EntryDraft(date(2018, 6, 1), "MRIF first investment",
                      (Posting("Assets:Cash", Decimal("75000.00")), Posting("Equity:Paid-In-Capital", Decimal("-75000.00"))),
                      ref=ref)


def _refused(engine: Engine, sql: str) -> str:
    with pytest.raises(DBAPIError) as caught, engine.begin() as conn:
        conn.execute(text(sql))
    return str(caught.value.orig)


def test_owner_writer_and_auditor_roles(roles: Roles, tmp_path: Path) -> None:
    from fisiq.cli.main import app

    runner = CliRunner()
    created = runner.invoke(app, ["--db", roles.url(roles.owner), "init"])
    assert created.exit_code == 0, created.output
    owner = create_engine(roles.url(roles.owner), poolclass=NullPool)
    with owner.begin() as conn:
        for sql in grant_sql(roles.schema, roles.writer, roles.auditor):
            conn.execute(text(sql))
    owner.dispose()

    # The append-only role records through fisiq: its write lock is an advisory lock, which
    # needs no privilege on any table.
    writer = db.open_ledger(roles.url(roles.writer))
    try:
        assert ledger.record_entry(writer, _draft("MRIF-2018-1")).created
        assert not ledger.record_entry(writer, _draft("MRIF-2018-1")).created
        added = runner.invoke(app, ["--db", roles.url(roles.writer), "party", "add", "Fondaction", "--kind", "labour-fund"])
        assert added.exit_code == 0, added.output
        cli = runner.invoke(app, ["--db", roles.url(roles.writer), "entry", "add", "--date", "2018-06-02", "--memo",
                                  "Fondaction", "-p", "Assets:Cash 10.00", "-p", "Equity:Paid-In-Capital -10.00 @ Fondaction"])
        assert cli.exit_code == 0, cli.output
        ledger.reverse_entry(writer, 2, date(2018, 6, 3))
        # ...but rewriting history is refused by privileges, not only by the triggers
        for sql in ("UPDATE entry SET memo = 'changed'", "DELETE FROM posting", "TRUNCATE entry CASCADE",
                    "UPDATE party SET name = 'x'", "DELETE FROM account", "TRUNCATE setting"):
            assert "permission denied" in _refused(writer, sql), sql
        # nor can it switch the triggers off, touch fisiq's own tables, or change the schema
        for sql in ("ALTER TABLE entry DISABLE TRIGGER ALL", "DROP TRIGGER entry_append_only ON entry",
                    "UPDATE fisiq_meta SET value = 'x'", "INSERT INTO fisiq_meta (key, value) VALUES ('k', 'v')",
                    "UPDATE alembic_version SET version_num = '9999'", "CREATE TABLE extra (id int)"):
            message = _refused(writer, sql)
            assert "permission denied" in message or "must be owner" in message, (sql, message)
    finally:
        writer.dispose()

    # The auditor reads, verifies, reports; it cannot write, through fisiq or SQL.
    auditor_url = roles.url(roles.auditor)
    verified = runner.invoke(app, ["--db", auditor_url, "audit", "verify"])
    assert verified.exit_code == 0 and "OK: 3 entries" in verified.output, verified.output
    report = runner.invoke(app, ["--db", auditor_url, "report", "trial-balance", "--json"])
    assert report.exit_code == 0 and '"total": "0.00"' in report.output, report.output
    refused = runner.invoke(app, ["--db", auditor_url, "entry", "add", "--date", "2018-06-04", "--memo", "x",
                                  "-p", "Assets:Cash 1.00", "-p", "Equity:Paid-In-Capital -1.00"])
    assert refused.exit_code == 1 and "permission denied" in refused.output, refused.output
    auditor = db.open_ledger(auditor_url)
    try:
        with pytest.raises(DBAPIError, match="permission denied"):
            ledger.record_entry(auditor, _draft("AUDITOR-1"))
        for sql in ("INSERT INTO setting (key, value, recorded_at, recorded_by) VALUES ('k', 'v', 'now', 'me')",
                    "UPDATE entry SET memo = 'x'", "DELETE FROM entry"):
            assert "permission denied" in _refused(auditor, sql), sql
        with db.read_transaction(auditor) as conn:
            assert ledger.verify(conn) is None
            assert ledger.chain_head(conn)[0] == 3
    finally:
        auditor.dispose()
    # ...and backs it up (docs/operations.md: pg_dump reads the sequences too).
    if shutil.which("pg_dump"):
        dump = tmp_path / "auditor.dump"
        done = runner.invoke(app, ["--db", auditor_url, "backup", "--dump", str(dump)])
        assert done.exit_code == 0 and dump.read_bytes()[:5] == b"PGDMP", done.output
