"""`fisiq entry`: record, reverse and show journal entries."""

from __future__ import annotations

from typing import Annotated

import typer

from fisiq.cli.common import (
    fail,
    json_option,
    ledger,
    parse_date_option,
    print_json,
    stdout_console,
    sub_app,
    today,
)

app = sub_app(
    "Journal entries: record one, reverse one, show one.\n\n"
    "A posting is written ACCOUNT AMOUNT [CURRENCY] [@ PARTY]: debit positive, credit negative."
)


@app.command("add")
def add_entry(
    ctx: typer.Context,
    on: Annotated[str, typer.Option("--date", help="The entry's date, YYYY-MM-DD.")],
    memo: Annotated[str, typer.Option("--memo", "-m", help="What happened, in words.")],
    postings: Annotated[
        list[str],
        typer.Option(
            "--posting",
            "-p",
            help='"ACCOUNT AMOUNT [CURRENCY] [@ PARTY]"; give two or more. One posting may leave out '
            "its amount: it gets what balances the entry.",
        ),
    ],
    ref: Annotated[
        str | None, typer.Option("--ref", help="External reference (idempotency key): recording it again is a no-op.")
    ] = None,
    currency: Annotated[str, typer.Option("--currency", help="Currency of postings that name none.")] = "CAD",
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """Record a balanced entry of two or more postings.

    Example: fisiq entry add --date 2018-06-01 --memo "MRIF first investment"
    -p "Assets:Cash 75000.00" -p "Equity:Paid-In-Capital -75000.00 @ MRIF" --ref MRIF-2018-1
    """
    from fisiq import ledger as books
    from fisiq.accounts import refuse_kept_accounts
    from fisiq.entries import EntryDraft, complete_postings, parse_posting
    from fisiq.money import check_currency
    from fisiq.names import clean_text
    from fisiq.reports import entry_json

    day = parse_date_option(on)
    assert day is not None
    check_currency(currency)
    draft = EntryDraft(
        date=day,
        memo=clean_text(memo, what="memo"),
        postings=complete_postings([parse_posting(p, currency) for p in postings]),
        ref=clean_text(ref, what="reference", max_length=200) if ref is not None else None,
    )
    refuse_kept_accounts(p.account for p in draft.postings)
    with ledger(ctx) as engine:
        result = books.record_entry(engine, draft)
    if as_json:
        print_json({"created": result.created, "entry": entry_json(result.entry)})
    elif result.created:
        typer.echo(f"Recorded entry {result.entry.id} on {result.entry.date} ({len(result.entry.postings)} postings).")
    else:
        typer.echo(f"Reference {ref} is already entry {result.entry.id} with the same content; nothing recorded.")


@app.command("reverse")
def reverse_entry(
    ctx: typer.Context,
    entry_id: Annotated[int, typer.Argument(help="The entry to reverse.")],
    on: Annotated[str | None, typer.Option("--date", help="Date of the reversal (default: today).")] = None,
    memo: Annotated[str | None, typer.Option("--memo", "-m", help="Why (default: 'Reversal of entry N').")] = None,
) -> None:
    """Undo an entry by recording its opposite; the original stays, untouched.

    Example: fisiq entry reverse 12 --date 2018-07-01 --memo "recorded twice"
    """
    from fisiq import ledger as books
    from fisiq.names import clean_text

    day = parse_date_option(on) or today()
    text = clean_text(memo, what="memo") if memo is not None else None
    with ledger(ctx) as engine:
        result = books.reverse_entry(engine, entry_id, day, text)
    typer.echo(f"Recorded entry {result.entry.id}, reversing entry {entry_id}.")


@app.command("show")
def show_entry(
    ctx: typer.Context,
    entry_id: Annotated[int, typer.Argument(help="The entry's number.")],
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """Show one entry: postings, who recorded it and when, its hash, its reversal if any.

    Example: fisiq entry show 1 --json
    """
    from sqlalchemy import select

    from fisiq import db
    from fisiq import ledger as books
    from fisiq.render import render_entry_detail
    from fisiq.reports import entry_json

    with ledger(ctx) as engine, db.read_transaction(engine) as conn:
        entry = books.get_entry(conn, entry_id)
        reversed_by = None if entry is None else conn.execute(
            select(books.ENTRY.c.id).where(books.ENTRY.c.reverses == entry_id)).scalar()
    if entry is None:
        fail(f"there is no entry {entry_id}")
    if as_json:
        print_json({**entry_json(entry), "reversed_by": reversed_by})
    else:
        render_entry_detail(stdout_console(), entry, reversed_by)
