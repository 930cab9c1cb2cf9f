"""Arbitrary text in every argument of every command: no traceback, nothing written on refusal.

For each command, Hypothesis fills its arguments and options with arbitrary text (control
characters, escapes, markup, digits of other scripts, SQL, huge strings). A refusal must be
a clean exit (no exception escapes, no traceback printed) and must leave the ledger exactly
as it was: same chain head, same row counts in every table.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from typer.core import TyperGroup
from typer.testing import CliRunner

from fisiq import db
from fisiq.cli.main import app
from fisiq.models import APPEND_ONLY_TABLES

# Commands that would legitimately create or replace a ledger are left out: `init` and
# `restore` make new ledgers, and `upgrade` changes the schema on purpose.
SKIPPED = {("init",), ("upgrade",), ("restore",)}


def _leaf_commands() -> list[tuple[tuple[str, ...], Any]]:
    found: list[tuple[tuple[str, ...], Any]] = []

    def walk(group: Any, prefix: tuple[str, ...]) -> None:
        # As click asks for commands: the root builds each one on demand.
        ctx = typer.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            path = (*prefix, name)
            if isinstance(command, TyperGroup):
                walk(command, path)
            elif path not in SKIPPED:
                found.append((path, command))

    walk(typer.main.get_command(app), ())
    return found


COMMANDS = _leaf_commands()
EXAMPLES = 200 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 15

junk = st.one_of(
    st.text(max_size=40),
    st.sampled_from([
        "NaN", "-0", "1e3", "１２", "٣", "2023-02-29", "0000-01-01", "\x00", "\u202eabc", "\x1b[31m",
        "[bold]x[/bold]", "'; DROP TABLE entry; --", "=SUM(A1)", "x" * 5000, "Assets:Cash", "1",
        "-5", "2018-03-31", "../../etc/passwd", "", " ",
    ]),
)


def _args_for(command: Any, data: st.DataObject) -> list[str]:
    args: list[str] = []
    for param in command.params:
        if param.param_type_name == "argument":
            args.append(data.draw(junk))
        elif param.is_flag:
            if data.draw(st.booleans()):
                args.append(param.opts[0])
        elif param.required or data.draw(st.booleans()):
            args.extend([param.opts[0], data.draw(junk)])
    return args


def _snapshot(target: str) -> tuple[object, ...]:
    engine = db.open_ledger(target)
    try:
        with engine.connect() as conn:
            counts = tuple(conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in APPEND_ONLY_TABLES)
            head = conn.execute(text("SELECT MAX(id), MAX(hash) FROM entry")).first()
    finally:
        engine.dispose()
    return (*counts, tuple(head) if head else None)


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_arbitrary_arguments_never_crash(
    path: tuple[str, ...], command: Any, sqlite_template: Path, tmp_path: Path
) -> None:
    import shutil

    target = str(tmp_path / "fuzz.db")
    shutil.copyfile(sqlite_template, target)
    runner = CliRunner()
    work = tmp_path / "cwd"
    work.mkdir()

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        args = _args_for(command, data)
        before = _snapshot(target)
        cwd = os.getcwd()
        os.chdir(work)  # a file name drawn as an argument lands in the test's folder
        try:
            result = runner.invoke(app, ["--db", target, *path, *args])
        finally:
            os.chdir(cwd)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"fisiq {' '.join(path)} {args!r} raised {result.exception!r}")
        assert "Traceback" not in result.output
        if result.exit_code != 0:
            assert _snapshot(target) == before, f"fisiq {' '.join(path)} {args!r} refused but changed the ledger"

    check()
