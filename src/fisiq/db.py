"""Where the ledger lives: opening SQLite files and PostgreSQL URLs, schema and migrations.

A target is a SQLAlchemy URL (`postgresql+psycopg://...`, `sqlite:///...`) or a file path
(SQLite). fisiq opens an existing ledger without ever creating a file; only `fisiq init`
creates one. It refuses a file that is not a fisiq ledger and a schema newer than itself.
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest schema this fisiq knows. Every migration in migrations/versions is listed, in
# order, so an unknown (newer) revision in a database is recognised without loading Alembic.
REVISIONS = ("0001", "0002")
HEAD = REVISIONS[-1]
APPLICATION = "fisiq"
DEFAULT_TARGET = "ledger/fisiq.db"
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 60_000
# Page cache of a write transaction, in KiB (SQLite's default is 2 MiB). An import inserts
# into the posting table's party index at one place per party: with hundreds of parties
# those pages no longer fit in 2 MiB, and each is spilled and read back again and again.
# 64 MiB took 6.5 % off the database's part of a 1M-entry import (benchmarks/README.md);
# SQLite allocates the pages only as they are used. Reads keep the default.
WRITE_CACHE_KIB = 65_536


class LedgerOpenError(Exception):
    """The target is not a fisiq ledger fisiq can open (missing, foreign, too new, unreachable)."""


def default_target() -> str:
    return os.environ.get("FISIQ_DB") or DEFAULT_TARGET


def is_url(target: str) -> bool:
    return "://" in target


# A database URL missing its "//" ("postgresql+psycopg:/anne@host/db"): as a file path it
# would quietly become an SQLite ledger in folders named after the URL.
_BROKEN_URL = re.compile(r"^(?:postgres(?:ql)?|sqlite)(?:\+\w+)?:(?!//)", re.IGNORECASE)


def is_sqlite(target: str) -> bool:
    """Whether the target is an SQLite ledger (a file path or a sqlite:// URL)."""
    return not is_url(target) or target.startswith("sqlite")


def display_target(target: str) -> str:
    """The target without any password, for messages."""
    if is_url(target):
        from sqlalchemy.engine import make_url

        return make_url(target).render_as_string(hide_password=True)
    return target


def _sqlite_url(path: Path, *, create: bool) -> str:
    mode = "rwc" if create else "rw"
    return f"sqlite:///file:{path.resolve()}?mode={mode}&uri=true"


def make_engine(target: str, *, create: bool = False) -> Engine:
    """An engine for the target, configured for safe concurrent writers.

    SQLite: WAL, a long busy timeout, foreign keys on, and write transactions that begin
    IMMEDIATE (see `write_transaction`), so two writers queue instead of failing.
    """
    if _BROKEN_URL.match(target):
        raise LedgerOpenError(f"{target}: a database URL needs '://' after its scheme, as in "
                              "postgresql+psycopg://USER@HOST/DATABASE")
    if not is_sqlite(target):
        if not target.startswith("postgresql"):
            raise LedgerOpenError(
                f"{display_target(target)}: fisiq keeps its books in SQLite (a file) or PostgreSQL "
                "(postgresql+psycopg://...)")
        # psycopg logs, at exit, a pipeline that a refused statement left aborted ("error
        # ignored terminating <psycopg.Pipeline ...>"): a second line after fisiq's one error line.
        logging.getLogger("psycopg").addHandler(logging.NullHandler())
        try:
            return create_engine(target, poolclass=NullPool)
        except ModuleNotFoundError as exc:
            install = "pip install 'fisiq[postgres]' (in a checkout: .venv/bin/pip install -e '.[postgres]')"
            if exc.name == "psycopg":
                raise LedgerOpenError(f"PostgreSQL needs the psycopg driver, which is not installed: {install}") from None
            raise LedgerOpenError(
                f"{display_target(target)}: its driver {exc.name} is not installed; fisiq speaks to PostgreSQL "
                f"through psycopg, as postgresql+psycopg://... after {install}") from None
        except ArgumentError as exc:
            raise LedgerOpenError(f"{display_target(target)}: {exc}") from None
    if is_url(target):
        url = target
    else:
        path = Path(target)
        if path.is_dir():
            raise LedgerOpenError(f"{target} is a directory, not a ledger file")
        if not create and not path.exists():
            raise LedgerOpenError(f"no ledger at {target}; create one with `fisiq init`")
        if path.exists() and path.stat().st_size > 0:
            with path.open("rb") as fh:
                if fh.read(16) != SQLITE_HEADER:
                    raise LedgerOpenError(f"{target} is not a fisiq ledger (not an SQLite database)")
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        url = _sqlite_url(path, create=create)
    engine = create_engine(url, poolclass=NullPool)
    _configure_sqlite(engine, wal=create)
    return engine


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's events, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = FULL")
        if wal:
            # WAL lets readers work while one administrator writes; it is a property of
            # the file, so setting it when creating the ledger is enough.
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("fisiq_write"):
            conn.exec_driver_sql(f"PRAGMA cache_size = -{WRITE_CACHE_KIB}")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the ledger's write lock from its first statement.

    SQLite: BEGIN IMMEDIATE. PostgreSQL: a transaction-scoped advisory lock per schema, taken
    before anything is read, so checks (cash available, chain head) and the write that
    depends on them cannot interleave with another writer's. Commits on success, rolls back
    on any error: nothing is ever half-written.
    """
    with engine.connect() as conn:
        conn = conn.execution_options(fisiq_write=True)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"SELECT pg_advisory_xact_lock(hashtext(COALESCE(({LEDGER_SCHEMA}), current_schema())"
                                  " || '.fisiq.chain'))"))
            yield conn


# The schema that holds the ledger's tables, as the search_path finds them: the first schema
# of the path may exist and hold nothing ("?options=-csearch_path=scratch,public"). Two URLs
# that reach the same tables must take the same lock, and a dump must take that schema.
LEDGER_SCHEMA = ("SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
                 " WHERE c.oid = to_regclass('fisiq_meta')")


def ledger_schema(conn: Connection) -> str | None:
    """PostgreSQL: the schema holding the ledger the connection reaches, or None."""
    return conn.execute(text(LEDGER_SCHEMA)).scalar()


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A consistent snapshot for reports (one transaction, repeatable on PostgreSQL)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def schema_revision(conn: Connection) -> str | None:
    """The Alembic revision of the database, or None if it has no fisiq schema at all."""
    try:
        with conn.begin_nested():
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    except (OperationalError, ProgrammingError):
        return None
    return row[0] if row else None


def check_ledger(conn: Connection, target: str) -> None:
    """Refuse a database that is not a fisiq ledger, or whose schema fisiq cannot read."""
    revision = schema_revision(conn)
    app = None
    if revision is not None:
        row = conn.execute(text("SELECT value FROM fisiq_meta WHERE key = 'application'")).first()
        app = row[0] if row else None
    if revision is None or app != APPLICATION:
        raise LedgerOpenError(f"{display_target(target)} is not a fisiq ledger{_what_to_do(conn)}")
    if revision not in REVISIONS:
        raise LedgerOpenError(
            f"{display_target(target)} has schema {revision}, newer than this fisiq knows ({HEAD}); upgrade fisiq"
        )
    if revision != HEAD:
        raise LedgerOpenError(
            f"{display_target(target)} has schema {revision}; run `fisiq upgrade` to bring it to {HEAD} "
            "(back it up first with `fisiq backup`)"
        )


def _what_to_do(conn: Connection) -> str:
    """For a database that is no fisiq ledger, what to do: `fisiq init` only where it would work."""
    if _no_schema(conn):
        return f": {_NO_SCHEMA}"
    if _has_tables(conn):
        return (": it holds other tables (point --db or FISIQ_DB at a fisiq ledger, or `fisiq init` an empty "
                "database)")
    return "; create one with `fisiq init`"


def _no_schema(conn: Connection) -> bool:
    """PostgreSQL: whether no schema of the search_path exists (nowhere to create tables)."""
    return conn.dialect.name == "postgresql" and conn.execute(text("SELECT current_schema()")).scalar() is None


_NO_SCHEMA = ("no schema of its search_path exists (create it first with CREATE SCHEMA, as in "
              "docs/operations.md, then `fisiq init`)")


def open_ledger(target: str) -> Engine:
    """Open an existing fisiq ledger, checking that it is one and that its schema is current."""
    engine = make_engine(target)
    try:
        with engine.connect() as conn, conn.begin():
            check_ledger(conn, target)
    except LedgerOpenError:
        engine.dispose()
        raise
    except (OperationalError, DBAPIError) as exc:
        engine.dispose()
        raise LedgerOpenError(f"cannot open {display_target(target)}: {_first_line(exc)}") from None
    return engine


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


def _alembic_config(conn: Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


@contextmanager
def migration_transaction(conn: Connection) -> Iterator[None]:
    """The transaction a migration runs in; on SQLite, with foreign-key enforcement off.

    SQLite cannot drop a table constraint: a migration rebuilds the table (rename aside,
    create, copy, drop). With enforcement on, a rename rewrites the other tables' references
    to follow the old table, and the drop checks them. The pragma takes effect only outside a
    transaction, so it is set here, on the driver connection, before BEGIN; migrations end
    with `PRAGMA foreign_key_check`.
    """
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
    try:
        with conn.begin():
            yield
    finally:
        if sqlite:
            conn.connection.driver_connection.execute("PRAGMA foreign_keys = ON")  # type: ignore[union-attr]


def migrate(conn: Connection) -> None:
    """Bring the schema to HEAD with Alembic, on the caller's connection."""
    from alembic import command

    command.upgrade(_alembic_config(conn), "head")


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def create_ledger(target: str) -> tuple[Engine, bool]:
    """Create the schema (or find it complete) and return (engine, created).

    Running it on an existing fisiq ledger changes nothing. On a non-empty database that is
    not a fisiq ledger it refuses rather than mix tables.
    """
    engine = make_engine(target, create=True)
    try:
        with engine.connect() as conn:
            with conn.begin():
                revision = schema_revision(conn)
            if revision is not None:
                with conn.begin():
                    check_ledger(conn, target)
                return engine, False
            with conn.begin():
                if _no_schema(conn):
                    raise LedgerOpenError(f"cannot create a ledger in {display_target(target)}: {_NO_SCHEMA}")
                if _has_tables(conn):
                    raise LedgerOpenError(
                        f"{display_target(target)} already holds tables that are not a fisiq ledger; "
                        "choose an empty database or a new file"
                    )
            with migration_transaction(conn):
                migrate(conn)
                conn.execute(
                    text("INSERT INTO fisiq_meta (key, value) VALUES (:k, :v)"),
                    [
                        {"k": "application", "v": APPLICATION},
                        {"k": "ledger_id", "v": str(uuid.uuid4())},
                        {"k": "created_at", "v": utc_now()},
                    ],
                )
    except LedgerOpenError:
        engine.dispose()
        raise
    except (OperationalError, DBAPIError) as exc:
        engine.dispose()
        raise LedgerOpenError(f"cannot open {display_target(target)}: {_first_line(exc)}") from None
    return engine, True


def _has_tables(conn: Connection) -> bool:
    from sqlalchemy import inspect

    return bool(inspect(conn).get_table_names())


def upgrade_ledger(target: str) -> tuple[str, str]:
    """Apply pending migrations to an existing ledger; returns (from revision, to revision)."""
    engine = make_engine(target)
    try:
        with engine.connect() as conn:
            with conn.begin():
                before = schema_revision(conn)
                if before is None:
                    raise LedgerOpenError(f"{display_target(target)} is not a fisiq ledger")
                if before not in REVISIONS:
                    raise LedgerOpenError(f"{display_target(target)} has schema {before}, newer than this fisiq")
            with migration_transaction(conn):
                migrate(conn)
        return before, HEAD
    finally:
        engine.dispose()
