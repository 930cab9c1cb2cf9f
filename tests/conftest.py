"""Shared fixtures: a fresh ledger on SQLite, and on PostgreSQL when a URL is configured.

Every storage test takes `target` (or `engine`) and so runs on both engines. PostgreSQL
tests get a schema of their own, so test runs and concurrent workers never meet.
Set FISIQ_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run
them; without it they skip, unless FISIQ_REQUIRE_POSTGRES=1 (as in CI), where they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

settings.register_profile(
    "default", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

PG_URL = os.environ.get("FISIQ_TEST_DATABASE_URL", "")
REQUIRE_PG = os.environ.get("FISIQ_REQUIRE_POSTGRES") == "1"
ENGINES = ["sqlite", "postgresql"]


def _pg_unavailable() -> str | None:
    if not PG_URL:
        return "FISIQ_TEST_DATABASE_URL is not set"
    return None


class LedgerFactory:
    """Makes fresh, initialised ledgers on one engine and cleans them up afterwards."""

    def __init__(self, engine_name: str, tmp: Path, template: Path) -> None:
        self.engine_name = engine_name
        self.tmp = tmp
        self.template = template
        self.schemas: list[str] = []
        self.engines: list[Engine] = []

    def target(self, *, initialised: bool = True) -> str:
        if self.engine_name == "sqlite":
            path = self.tmp / f"ledger-{uuid.uuid4().hex[:8]}.db"
            if initialised:
                shutil.copyfile(self.template, path)
            return str(path)
        schema = f"fisiq_t_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_URL, poolclass=NullPool)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        self.schemas.append(schema)
        sep = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
        if initialised:
            _initialise(url)
        return url

    def engine(self) -> Engine:
        from fisiq.db import open_ledger

        engine = open_ledger(self.target())
        self.engines.append(engine)
        return engine

    def scratch(self) -> tuple[str, Engine]:
        """A fresh ledger and an engine on it that the caller gives back with `discard`: the
        state machines make one per example, and kept by `engine` until the test ends, 2,000
        of them (the thorough profile) grew to 1 GB."""
        from fisiq.db import open_ledger

        target = self.target()
        return target, open_ledger(target)

    def discard(self, target: str, engine: Engine) -> None:
        engine.dispose()
        if self.engine_name == "sqlite":  # PostgreSQL schemas are dropped by `close`
            for suffix in ("", "-wal", "-shm"):
                Path(target + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        for engine in self.engines:
            engine.dispose()
        if self.schemas:
            admin = create_engine(PG_URL, poolclass=NullPool)
            # One transaction per schema: dropping hundreds at once (a thorough Hypothesis run
            # makes one per example) takes a lock per object and exhausts the server's lock
            # table ("out of shared memory"), failing every other session's queries meanwhile.
            for schema in self.schemas:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()


def _initialise(target: str) -> None:
    from fisiq import db, ledger

    engine, _ = db.create_ledger(target)
    with db.write_transaction(engine) as conn:
        ledger.ensure_standard_chart(conn)
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One initialised SQLite ledger, copied for each test: migrations run once per session."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    _initialise(str(path))
    return path


@pytest.fixture(params=ENGINES)
def ledgers(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[LedgerFactory]:
    """A factory of fresh ledgers on each engine (parametrized: sqlite, postgresql)."""
    if request.param == "postgresql":
        reason = _pg_unavailable()
        if reason:
            if REQUIRE_PG:
                pytest.fail(f"PostgreSQL tests are required but {reason}")
            pytest.skip(reason)
    factory = LedgerFactory(request.param, tmp_path, sqlite_template)
    yield factory
    factory.close()


@pytest.fixture
def target(ledgers: LedgerFactory) -> str:
    """The address of a fresh, initialised ledger."""
    return ledgers.target()


@pytest.fixture
def engine(ledgers: LedgerFactory) -> Engine:
    """An open engine on a fresh, initialised ledger."""
    return ledgers.engine()


@pytest.fixture
def fisiq(target: str) -> Callable[..., object]:
    """Run a fisiq command against the test's ledger: fisiq("report", "trial-balance")."""
    from fisiq.cli.main import app

    runner = CliRunner()

    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> object:
        return runner.invoke(app, ["--db", target, *args], env=env, input=input)

    run.target = target  # type: ignore[attr-defined]  # for a test that also writes below the CLI
    return run
