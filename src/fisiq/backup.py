"""Backups of a ledger: a consistent copy, taken while other administrators keep writing.

SQLite: the SQLite online backup API (`sqlite3.Connection.backup`) copies the file page by
page, from one read snapshot held open for the whole copy. In WAL mode (every ledger fisiq
creates) a reader never blocks a writer, so writers keep appending while the copy runs; the
copy is the ledger exactly as it was when the backup began. The copy is written beside the
destination under a temporary name, checked (`PRAGMA integrity_check`, the hash chain, and
that its head is the source's entry of the same number), and only then renamed into place:
a backup file that exists is a complete, verified ledger.

PostgreSQL: `pg_dump` is the tool (it dumps from one snapshot too). fisiq prints the exact
command for the ledger's host, port, user, database and schema — never a password — and runs
it when asked (`fisiq backup --dump FILE`).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy import text
from sqlalchemy.engine import make_url

from fisiq import db
from fisiq.errors import FisiqError

PAGES_PER_STEP = 256  # 1 MiB at SQLite's default page size: short steps, progress between them


class BackupError(FisiqError):
    """A backup fisiq refuses or could not complete; nothing is left at the destination."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    """What was copied: where, how many entries, the copy's chain head, and how long it took."""

    path: Path
    entries: int
    head_hash: str
    pages: int
    seconds: float


def sqlite_path(target: str) -> Path:
    """The file of an SQLite target (a path, or a `sqlite:///` URL)."""
    if not db.is_url(target):
        return Path(target)
    database = make_url(target).database
    if not database:
        raise BackupError("an in-memory SQLite database cannot be backed up")
    if database.startswith("file:"):
        database = unquote(database[5:].split("?", 1)[0])
    return Path(database)


def _check_destination(dest: Path, *, force: bool) -> None:
    if dest.is_dir():
        raise BackupError(f"{dest} is a directory; give the backup file's name")
    if dest.exists() and not force:
        raise BackupError(f"{dest} already exists; choose another name or add --force to replace it")
    if not dest.parent.is_dir():
        raise BackupError(f"directory {dest.parent} does not exist")


def _remove_partial(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            candidate.unlink()


def backup_sqlite(target: str, dest: Path, *, force: bool = False) -> BackupResult:
    """Copy an SQLite ledger to `dest` with the online backup API, then verify the copy."""
    source = sqlite_path(target)
    if not source.exists():
        raise BackupError(f"no ledger at {source}")
    _check_destination(dest, force=force)
    if dest.exists() and dest.resolve() == source.resolve():
        raise BackupError("the backup file cannot be the ledger itself")
    engine = db.make_engine(str(source))
    try:
        with engine.connect() as conn, conn.begin():
            if db.schema_revision(conn) is None:
                raise BackupError(f"{source} is not a fisiq ledger")
            app = conn.execute(text("SELECT value FROM fisiq_meta WHERE key = 'application'")).scalar()
            if app != db.APPLICATION:
                raise BackupError(f"{source} is not a fisiq ledger")
    finally:
        engine.dispose()

    partial = dest.with_name(f".{dest.name}.partial-{uuid.uuid4().hex[:8]}")
    began = time.perf_counter()
    src = sqlite3.connect(f"file:{source.resolve()}?mode=rw", uri=True, isolation_level=None)
    try:
        src.execute(f"PRAGMA busy_timeout = {db.BUSY_TIMEOUT_MS}")
        # One read snapshot for the whole copy: every page comes from the same moment, and
        # writers (WAL) carry on meanwhile. The snapshot starts with the first read.
        src.execute("BEGIN")
        src.execute("SELECT value FROM fisiq_meta").fetchone()
        pages = int(src.execute("PRAGMA page_count").fetchone()[0])
        dst = sqlite3.connect(str(partial), isolation_level=None)
        try:
            src.backup(dst, pages=PAGES_PER_STEP, sleep=0.01)
        finally:
            dst.close()
        result = _check_copy(partial, dest, pages, began, src)
        src.execute("COMMIT")
    except BaseException:
        src.close()
        _remove_partial(partial)
        raise
    src.close()
    try:
        with partial.open("rb") as fh:
            os.fsync(fh.fileno())
        _check_destination(dest, force=force)  # again: it may have appeared while copying
        os.replace(partial, dest)
        _fsync_dir(dest.parent)
    except BaseException:
        _remove_partial(partial)
        raise
    return result


def _check_copy(partial: Path, dest: Path, pages: int, began: float, src: sqlite3.Connection) -> BackupResult:
    from fisiq import ledger

    engine = db.make_engine(str(partial))
    try:
        with db.read_transaction(engine) as conn:
            status = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
            if status != "ok":
                raise BackupError(f"the copy failed SQLite's integrity check ({status}); nothing was written")
            problem = ledger.verify(conn)
            head_id, head_hash = ledger.chain_head(conn)
    finally:
        engine.dispose()
    if problem is not None:
        raise BackupError(
            f"the copy does not verify (entry {problem.entry_id}: {problem.message}); "
            "run `fisiq audit verify` on the ledger"
        )
    if head_id:
        row = src.execute("SELECT hash FROM entry WHERE id = ?", (head_id,)).fetchone()
        if row is None or row[0] != head_hash:
            raise BackupError(f"the copy's entry {head_id} differs from the ledger's; nothing was written")
    return BackupResult(dest, head_id, head_hash, pages, time.perf_counter() - began)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - some platforms cannot open a directory
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


# --- PostgreSQL ---------------------------------------------------------------------------


def pg_dump_argv(target: str, dest: Path, schema: str | None = None) -> list[str]:
    """The pg_dump command for a PostgreSQL ledger URL: custom format; if the URL sets a
    search_path, one schema: `schema` (the one holding the ledger, `db.ledger_schema`), else
    the path's first. Never carries the password (pg_dump reads PGPASSWORD or ~/.pgpass)."""
    url = make_url(target)
    argv = ["pg_dump", "--format=custom", "--no-owner", "--file", str(dest)]
    if url.host:
        argv += ["--host", url.host]
    if url.port:
        argv += ["--port", str(url.port)]
    if url.username:
        argv += ["--username", url.username]
    named = _search_path_schema(url.query.get("options"))
    if named:
        argv += ["--schema", schema or named]
    argv += ["--dbname", url.database or "postgres"]
    return argv


def _search_path_schema(options: object) -> str | None:
    """The schema of `options=-csearch_path=NAME` in a libpq URL, if any."""
    values = options if isinstance(options, tuple) else (options,) if options else ()
    for value in values:
        for part in str(value).split():
            if part.startswith("-csearch_path="):
                first = part.split("=", 1)[1].split(",")[0].strip().strip('"')
                return first or None
    return None


def pg_dump_guidance(target: str, dest: Path, schema: str | None = None) -> str:
    argv = pg_dump_argv(target, dest, schema)
    restore = ["pg_restore", "--no-owner", "--dbname", "NEW_DATABASE", str(dest)]
    return (
        "a PostgreSQL ledger is backed up with pg_dump (one consistent snapshot, writers keep going):\n"
        f"  {shlex.join(argv)}\n"
        "(the password comes from PGPASSWORD or ~/.pgpass; restore with "
        f"`{shlex.join(restore)}`). `fisiq backup --dump {shlex.quote(str(dest))}` runs it for you."
    )


def pg_dump_failure(output: str, returncode: int) -> str:
    """One line for a failed pg_dump: its "error:" line, which says why (the lines after it
    show the query that failed), else its last line."""
    detail = output.strip().splitlines()
    errors = [line for line in detail if "error:" in line]
    return f"pg_dump failed: {errors[0] if errors else detail[-1] if detail else f'exit {returncode}'}"


def run_pg_dump(target: str, dest: Path, *, schema: str | None = None, force: bool = False) -> Path:
    """Run pg_dump for the ledger into `dest` (through a temporary file, renamed when done);
    `schema`: as `pg_dump_argv` takes it."""
    _check_destination(dest, force=force)
    executable = shutil.which("pg_dump")
    if executable is None:
        raise BackupError("pg_dump is not on PATH; install the PostgreSQL client tools (e.g. postgresql-client)")
    partial = dest.with_name(f".{dest.name}.partial-{uuid.uuid4().hex[:8]}")
    argv = pg_dump_argv(target, partial, schema)
    argv[0] = executable
    env = dict(os.environ)
    password = make_url(target).password
    if password:
        env["PGPASSWORD"] = str(password)
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BackupError(pg_dump_failure(done.stderr or done.stdout, done.returncode))
        os.replace(partial, dest)
    except BaseException:
        _remove_partial(partial)
        raise
    return dest
