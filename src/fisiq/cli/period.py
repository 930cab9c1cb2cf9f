"""`fisiq period`: close the books through a date."""

from __future__ import annotations

from typing import Annotated

import typer

from fisiq.cli.common import fail, ledger, sub_app, today

app = sub_app("Accounting periods: close the books through a date.")


@app.command("close")
def close(
    ctx: typer.Context,
    through: Annotated[str, typer.Argument(help="Last day of the closed period, YYYY-MM-DD.")],
) -> None:
    """From now on, refuse any entry dated on or before this date (corrections go after it).

    Example: fisiq period close 2019-03-31
    """
    from fisiq import ledger as books
    from fisiq.entries import EntryError, parse_date

    try:
        day = parse_date(through)
    except EntryError as exc:
        fail(str(exc))  # an argument, not an option: no --through to name
    if day > today():
        # A close cannot be undone: one dated 2099 for 2019 would refuse every entry until then.
        fail(f"{day} is after today ({today()}); a period is closed once it has ended, and a close cannot be undone")
    with ledger(ctx) as engine:
        result = books.close_period(engine, day)
    if result.created:
        typer.echo(f"Closed the books through {day} (entry {result.entry.id}).")
    else:
        typer.echo(f"The books are already closed through {day} (entry {result.entry.id}); nothing recorded.")
