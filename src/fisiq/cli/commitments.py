"""`fisiq commitment`, `fisiq target` and `fisiq progress`: the capital campaign."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from fisiq.cli.common import (
    AMOUNT_COMMAND,
    LangOption,
    json_option,
    ledger,
    parse_date_option,
    print_json,
    resolve_lang,
    stdout_console,
    sub_app,
)

if TYPE_CHECKING:
    from fisiq.commitments_db import Op, OpResult

app = sub_app(
    "Commitments of capital: prospect -> in principle -> signed -> paid, or cancelled.\n\n"
    "Signing, payments and the cancellation of a signed rest post entries; the pipeline does not."
)
targets_app = sub_app("Campaign targets per investor category (member, labour-fund, government, other, total).")

DateOpt = Annotated[str, typer.Option("--date", help="When it happened, YYYY-MM-DD.")]
RefOpt = Annotated[
    str | None, typer.Option("--ref", help="External reference (idempotency key): recording it again is a no-op.")
]


def _run(ctx: typer.Context, op: Op) -> OpResult:
    from fisiq import commitments_db, db

    with ledger(ctx) as engine, db.write_transaction(engine) as conn:
        return commitments_db.apply_ops(conn, [op])[0]


def _amount(text: str | None) -> Any:
    from fisiq.commitments import CURRENCY
    from fisiq.money import parse_amount

    return None if text is None else parse_amount(text, CURRENCY)


def _ref(ref: str | None) -> str | None:
    from fisiq.names import clean_text

    return None if ref is None else clean_text(ref, what="reference", max_length=200)


def _day(text: str) -> Any:
    day = parse_date_option(text)
    assert day is not None
    return day


def _say(result: OpResult, done: str, as_json: bool) -> None:
    doc = {
        "created": result.created, "commitment": result.commitment_id, "stage": result.stage,
        "entries": result.entry_ids,
    }
    if as_json:
        print_json(doc)
    elif not result.created:
        typer.echo(f"Reference {result.op.ref} is already recorded with the same content; nothing recorded.")
    else:
        posted = f"; posted entry {', '.join(map(str, result.entry_ids))}" if result.entry_ids else "; no entry (pipeline only)"
        typer.echo(f"Commitment {result.commitment_id} {done} (now {result.stage}){posted}.")


@app.command("add", context_settings=AMOUNT_COMMAND)
def add(
    ctx: typer.Context,
    party: Annotated[str, typer.Argument(help="The investor's name or acronym.")],
    amount: Annotated[str, typer.Argument(help="Amount in CAD, e.g. 465000.00.")],
    stage: Annotated[str, typer.Option("--stage", help="prospect|in-principle|signed")],
    on: DateOpt,
    instrument: Annotated[
        str, typer.Option("--instrument", help="equity|debt|grant: where paid capital lands.")
    ] = "equity",
    ref: RefOpt = None,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """Record a pledge of capital: hoped for, agreed in principle, or signed (which posts an entry).

    Example: fisiq commitment add MRIF 75000 --stage signed --date 2018-03-31 --instrument equity
    """
    from fisiq.commitments_db import Op

    op = Op("add", _day(on), _ref(ref), party=party, stage=stage, instrument=instrument, amount=_amount(amount))
    _say(_run(ctx, op), "recorded", as_json)


@app.command("agree", context_settings=AMOUNT_COMMAND)
def agree(
    ctx: typer.Context,
    commitment_id: Annotated[int, typer.Argument(help="The commitment's number.")],
    on: DateOpt,
    amount: Annotated[str | None, typer.Option("--amount", help="Amount agreed (default: the pledge).")] = None,
    ref: RefOpt = None,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """Move a prospect to "agreed in principle" (still pipeline only, no entry).

    Example: fisiq commitment agree 4 --date 2018-09-15
    """
    from fisiq.commitments_db import Op

    _say(_run(ctx, Op("agree", _day(on), _ref(ref), commitment=commitment_id, amount=_amount(amount))),
         "agreed in principle", as_json)


@app.command("sign", context_settings=AMOUNT_COMMAND)
def sign(
    ctx: typer.Context,
    commitment_id: Annotated[int, typer.Argument(help="The commitment's number.")],
    on: DateOpt,
    amount: Annotated[str | None, typer.Option("--amount", help="Amount signed (default: the pledge).")] = None,
    ref: RefOpt = None,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """Sign a pledge: posts Equity:Commitments:Receivable / Subscribed for the investor.

    Example: fisiq commitment sign 2 --date 2018-11-01 --amount 4000000
    """
    from fisiq.commitments_db import Op

    _say(_run(ctx, Op("sign", _day(on), _ref(ref), commitment=commitment_id, amount=_amount(amount))),
         "signed", as_json)


@app.command("pay", context_settings=AMOUNT_COMMAND)
def pay(
    ctx: typer.Context,
    commitment_id: Annotated[int, typer.Argument(help="The commitment's number.")],
    amount: Annotated[str, typer.Argument(help="Amount received in CAD.")],
    on: DateOpt,
    ref: RefOpt = None,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """Record a payment on a signed commitment (at most its signed, unpaid rest).

    Example: fisiq commitment pay 1 75000 --date 2018-03-31 --ref MRIF-2018-1
    """
    from fisiq.commitments_db import Op

    _say(_run(ctx, Op("pay", _day(on), _ref(ref), commitment=commitment_id, amount=_amount(amount))),
         "payment recorded", as_json)


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    commitment_id: Annotated[int, typer.Argument(help="The commitment's number.")],
    on: DateOpt,
    reason: Annotated[str, typer.Option("--reason", help="Why it is cancelled.")],
    ref: RefOpt = None,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """Cancel a commitment; a signed, unpaid rest is released by an entry. Paid capital is not.

    Example: fisiq commitment cancel 3 --date 2019-01-15 --reason "board decision of 2019-01-10"
    """
    from fisiq.commitments_db import Op
    from fisiq.names import clean_text

    why = clean_text(reason, what="reason")
    _say(_run(ctx, Op("cancel", _day(on), _ref(ref), commitment=commitment_id, reason=why)), "cancelled", as_json)


@app.command("list")
def list_commitments(
    ctx: typer.Context,
    stage: Annotated[str | None, typer.Option("--stage", help="prospect|in-principle|signed|paid|cancelled|void")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="As they stood at the end of this date.")] = None,
    lang: LangOption = None,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """List commitments with their stage and amounts.

    Example: fisiq commitment list --stage signed --json
    """
    from fisiq import commitments_db, db
    from fisiq.commitments import STAGES, VOID, check_stage
    from fisiq.render_campaign import render_commitments

    wanted = check_stage(stage, (*STAGES, VOID)) if stage else None
    day = parse_date_option(as_of, "as-of")
    with ledger(ctx) as engine, db.read_transaction(engine) as conn:
        rows = [v.json() for v in commitments_db.list_commitments(conn, stage=wanted, as_of=day)]
    if as_json:
        print_json({"as_of": day and day.isoformat(), "commitments": rows})
    else:
        render_commitments(stdout_console(), rows, resolve_lang(lang))


@app.command("show")
def show(
    ctx: typer.Context,
    commitment_id: Annotated[int, typer.Argument(help="The commitment's number.")],
    lang: LangOption = None,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """Show a commitment: its stage changes and payments, with the entries they posted.

    Example: fisiq commitment show 1 --json
    """
    from fisiq import commitments_db, db
    from fisiq.commitments import CURRENCY
    from fisiq.money import to_str
    from fisiq.render_campaign import render_commitment

    with ledger(ctx) as engine, db.read_transaction(engine) as conn:
        view, lines = commitments_db.commitment_history(conn, commitment_id)
    history = []
    for line in lines:
        e = line.event
        history.append({
            "event": e.kind, "date": e.date.isoformat(),
            "amount": None if e.amount is None else to_str(e.amount, CURRENCY),
            "reason": e.reason, "ref": e.ref, "entry": line.entry.id if line.entry else None,
            "reversed_by": line.reversed_by,
            "postings": [
                {"account": p.account, "party": p.party, "amount": to_str(p.amount, p.currency), "currency": p.currency}
                for p in (line.entry.postings if line.entry else ())
            ],
        })
    doc = {**view.json(), "history": history}
    if as_json:
        print_json(doc)
    else:
        render_commitment(stdout_console(), doc, resolve_lang(lang))


@targets_app.command("set", context_settings=AMOUNT_COMMAND)
def set_target(
    ctx: typer.Context,
    category: Annotated[str, typer.Argument(help="member|labour-fund|government|other|total")],
    amount: Annotated[str, typer.Argument(help="Target in CAD.")],
    on: DateOpt,
) -> None:
    """Set the target of an investor category (or of the whole fund: total) from a date on.

    Example: fisiq target set member 1000000 --date 2018-03-31
    """
    from fisiq.commitments_db import Op
    from fisiq.money import to_str

    result = _run(ctx, Op("target", _day(on), category=category, amount=_amount(amount)))
    if result.created:
        assert result.op.amount is not None  # a target's amount is required
        typer.echo(f"Target for {result.op.category} set to {to_str(result.op.amount, 'CAD')} CAD from {on}.")
    else:
        typer.echo(f"That target for {result.op.category} is already recorded on {on}; nothing recorded.")


@targets_app.command("list")
def list_targets(ctx: typer.Context, as_json: Annotated[bool, json_option()] = False) -> None:
    """The history of targets, oldest first; the latest per category is in force.

    Example: fisiq target list --json
    """
    from rich.table import Table

    from fisiq import commitments_db, db

    with ledger(ctx) as engine, db.read_transaction(engine) as conn:
        rows = commitments_db.target_history(conn)
    if as_json:
        print_json({"targets": rows})
        return
    table = Table(title="Targets")
    for name in ("Date", "Category", "Amount", "Recorded by", "Recorded at"):
        table.add_column(name)
    for r in rows:
        table.add_row(*(str(r[k]) for k in ("date", "category", "amount", "recorded_by", "recorded_at")))
    stdout_console().print(table)


def progress(
    ctx: typer.Context,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The campaign as it stood at the end of this date.")] = None,
    by_investor: Annotated[bool, typer.Option("--by-investor", help="Also show each investor's figures.")] = False,
    lang: LangOption = None,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """The capital campaign per investor category: target, paid, signed, in principle, prospect.

    Paid and signed come from the ledger's balances; in principle and prospect from the pipeline.
    Example: fisiq progress --as-of 2018-03-31 --lang fr
    """
    from fisiq import commitments_db, db
    from fisiq.commitments import progress_json
    from fisiq.render_campaign import render_progress

    day = parse_date_option(as_of, "as-of")
    with ledger(ctx) as engine, db.read_transaction(engine) as conn:
        figures = commitments_db.campaign_progress(conn, day)
    if as_json:
        print_json(progress_json(figures, day, by_investor=by_investor))
    else:
        render_progress(stdout_console(), figures, day, resolve_lang(lang), by_investor=by_investor)
