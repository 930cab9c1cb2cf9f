"""`fisiq import`: commitments, stage changes, payments and targets from a CSV file, in bulk.

The whole file or nothing: every row is checked first (problems named by row and column,
all of them), then everything is written in one write transaction with one bulk append of
entries. A row whose `ref` is already recorded with the same content is skipped, so importing
a file twice records nothing new; with different content it is refused.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fisiq.cli.common import fail, json_option, ledger, print_json

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.progress import Progress

    from fisiq.commitments_db import Op
    from fisiq.csvfile import CsvProblem, CsvRow

COLUMNS = ("ref", "date", "action", "commitment", "party", "stage", "instrument", "category", "amount",
           "reason", "source")
REQUIRED = ("ref", "date", "action")
PROGRESS_THRESHOLD = 500  # rows; a progress bar below that would only flicker
COMMON = ("ref", "date", "action", "source")
# What each action reads besides COMMON, and of that what it needs. A cell in any other column
# is refused rather than ignored: "1000,50" unquoted is two cells, amount 1000 and a stray 50,
# and a cancel row's amount would otherwise read as a partial cancellation.
USES = {
    "add": ("party", "stage", "instrument", "amount"), "agree": ("commitment", "amount"),
    "sign": ("commitment", "amount"), "pay": ("commitment", "amount"), "cancel": ("commitment", "reason"),
    "target": ("category", "amount"),
}
NEEDS = {
    "add": ("party", "stage", "amount"), "agree": ("commitment",), "sign": ("commitment",),
    "pay": ("commitment", "amount"), "cancel": ("commitment", "reason"), "target": ("category", "amount"),
}


def _an(action: str) -> str:
    return f"{'an' if action[0] in 'aeiou' else 'a'} {action}"


def _unused(action: str, column: str, row: CsvRow) -> str:
    message = f"{_an(action)} row does not use {column}; leave it empty"
    if action == "cancel" and column == "amount":
        return f"{message} (a cancellation releases the whole unpaid rest)"
    after_amount = COLUMNS.index(column) == COLUMNS.index("amount") + 1
    if after_amount and row.get("amount") and row.get(column).isdigit():
        return f"{message} (a decimal comma splits an unquoted amount in two: write {row.get('amount')}.{row.get(column)})"
    return message


def parse_rows(rows: tuple[CsvRow, ...]) -> tuple[list[Op], list[CsvProblem]]:
    """Turn CSV rows into operations, collecting every problem a row has on its own."""
    from fisiq.commitments import CURRENCY
    from fisiq.commitments_db import ACTIONS, Op
    from fisiq.csvfile import CsvProblem
    from fisiq.entries import parse_date
    from fisiq.errors import FisiqError
    from fisiq.money import parse_amount
    from fisiq.names import clean_text

    ops: list[Op] = []
    problems: list[CsvProblem] = []
    seen: dict[str, int] = {}
    for row in rows:
        bad: list[CsvProblem] = []

        def field(column: str, convert, row: CsvRow = row, bad: list[CsvProblem] = bad):  # type: ignore[no-untyped-def]
            text = row.get(column)
            if not text:
                return None
            try:
                return convert(text)
            except FisiqError as exc:
                bad.append(CsvProblem(row.number, column, str(exc)))
                return None

        ref = field("ref", lambda t: clean_text(t, what="reference", max_length=200))
        if not row.get("ref"):
            bad.append(CsvProblem(row.number, "ref", "every row needs a reference (its idempotency key)"))
        elif ref is not None:
            if ref in seen:
                bad.append(CsvProblem(row.number, "ref", f"reference {ref!r} is already used on row {seen[ref]}"))
            else:
                seen[ref] = row.number
        day = field("date", parse_date)
        if not row.get("date"):
            bad.append(CsvProblem(row.number, "date", "the date is missing (YYYY-MM-DD)"))
        action = row.get("action").lower()
        if action not in ACTIONS:
            bad.append(CsvProblem(row.number, "action", f"unknown action {row.get('action')!r}; use {'|'.join(ACTIONS)}"))
        amount = field("amount", lambda t: parse_amount(t, CURRENCY))
        reason = field("reason", lambda t: clean_text(t, what="reason"))
        field("source", lambda t: clean_text(t, what="source", max_length=2000))
        party = field("party", lambda t: clean_text(t, what="party", max_length=200))
        commitment_text = row.get("commitment")
        commitment: int | str | None = commitment_text or None
        if commitment_text.startswith("#"):
            if commitment_text[1:].isdigit():
                commitment = int(commitment_text[1:])
            else:
                bad.append(CsvProblem(row.number, "commitment", f"{commitment_text!r}: write #N or the commitment's ref"))
        for column in NEEDS.get(action, ()):
            if not row.get(column):
                bad.append(CsvProblem(row.number, column, f"{_an(action)} row needs a {column}"))
        if action in USES:
            bad += [CsvProblem(row.number, column, _unused(action, column, row)) for column in COLUMNS
                    if row.get(column) and column not in (*COMMON, *USES[action])]
        if bad:
            problems.extend(bad)
            continue
        assert day is not None
        ops.append(Op(action, day, ref, party=party, stage=row.get("stage") or None,
                      instrument=row.get("instrument") or None, commitment=commitment,
                      category=row.get("category") or None, amount=amount, reason=reason))
    return ops, problems


def import_file(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV: ref,date,action,... (see docs/cli.md).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row and report; record nothing.")] = False,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """Record commitments, stage changes, payments and targets from a CSV file: all rows or none.

    Rows already recorded (same ref, same content) are skipped, so a file can be imported twice.
    A .jsonl file (a `fisiq export --format jsonl`) is restored instead, as `fisiq restore` does.
    Example: fisiq import ledger/examples/commitments-example.csv --dry-run
    """
    if file.suffix.lower() == ".jsonl":  # a journal export: rebuild an empty ledger from it
        from fisiq.cli.export import restore

        return restore(ctx, file)
    from fisiq import commitments_db, db
    from fisiq.csvfile import CsvProblem, read_csv

    table = read_csv(file, allowed=COLUMNS, required=REQUIRED)
    ops, problems = parse_rows(table.rows)
    numbers = [r.number for r in table.rows if not any(p.row == r.number for p in problems)]
    # The rules are checked even when some rows do not parse, so one run names every problem;
    # then only a clean file with a real run writes, in the same transaction as its checks.
    write = not dry_run and not problems
    results = []
    with ledger(ctx) as engine:
        transaction = db.write_transaction(engine) if write else db.read_transaction(engine)
        with transaction as conn, _progress(len(ops)) as tick:
            try:
                results = commitments_db.apply_ops(conn, ops, write=write, on_checked=tick)
            except commitments_db.OpsRefused as refused:
                problems += [CsvProblem(numbers[p.index], p.column, p.message) for p in refused.problems]
    problems.sort(key=lambda p: p.row)
    if problems:
        for problem in problems:
            typer.echo(f"{file}: {problem}", err=True)
        fail(f"{len(problems)} problem(s) in {file}; nothing recorded")
    created = [r for r in results if r.created]
    entries = [e for r in created for e in r.entry_ids]
    posted = sum(r.posts for r in created)
    counts = {a: sum(1 for r in created if r.op.action == a) for a in commitments_db.ACTIONS}
    if as_json:
        print_json({"file": str(file), "dry_run": dry_run, "rows": len(ops), "recorded": len(created),
                    "skipped": len(results) - len(created), "by_action": counts, "entries_posted": posted,
                    "entries": entries})
        return
    verb = "Would record" if dry_run else "Recorded"
    detail = ", ".join(f"{n} {a}" for a, n in counts.items() if n) or "nothing new"
    typer.echo(f"{verb} {len(created)} of {len(ops)} rows from {file} ({detail}); "
               f"{len(results) - len(created)} already recorded; {posted} entries"
               f"{' would be' if dry_run else ''} posted.")
    if dry_run:
        typer.echo("Dry run: nothing was recorded.")


class _progress:
    """A rich progress bar while checking a long file on a terminal; a no-op otherwise."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.bar: Progress | None = None

    def __enter__(self) -> Callable[[int], None]:
        if self.total <= PROGRESS_THRESHOLD or not sys.stdout.isatty():
            return lambda _i: None
        from rich.progress import Progress

        bar = self.bar = Progress(transient=True)
        bar.start()
        task = bar.add_task("Checking rows", total=self.total)
        return lambda _i: bar.advance(task)

    def __exit__(self, *_exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
