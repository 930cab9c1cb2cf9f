"""`fisiq loan`: approve, disburse, accrue, repay, reschedule, provision, write off, recover;
and `fisiq portfolio`. Thin: each command parses, makes one call to `fisiq.loans_db`, prints.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated

import typer

from fisiq.cli.common import (
    AMOUNT_COMMAND,
    LangOption,
    fail,
    json_option,
    ledger,
    parse_date_option,
    print_json,
    resolve_lang,
    stdout_console,
    sub_app,
    today,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from fisiq.loans_db import EventRow

app = sub_app(
    "Loans to borrowers: approve or cancel, disburse, accrue interest, repay, reschedule, provision, write off.\n\n"
    "Every operation posts its entries with link loan:N (see docs/loans.md)."
)


LoanId = Annotated[int, typer.Argument(help="The loan's number (see `fisiq loan list`).")]
On = Annotated[str, typer.Option("--date", help="Date of the event, YYYY-MM-DD.")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="Figures at the end of this date (default: today).")]
Ref = Annotated[str | None, typer.Option("--ref", help="External reference (idempotency key).")]


def _after_close(day: date | None) -> str:
    """What a command says when it posted interest fallen due inside a closed period."""
    if day is None:
        return ""
    return f" Interest that fell due inside the closed period is dated {day}, after the close."


def _date(value: str | None, what: str = "date") -> date:
    day = parse_date_option(value, what)
    return day if day is not None else today()


def _rate(text: str) -> Decimal:
    from fisiq.schedule import LoanError

    try:
        value = Decimal(text.strip().rstrip("%").strip())
    except InvalidOperation:
        raise LoanError(f"--rate {text!r} is not a percentage like 6.5") from None
    if not value.is_finite():
        raise LoanError(f"--rate {text!r} is not a percentage like 6.5")
    return value


def _amount(text: str, currency: str, what: str) -> Decimal:
    from fisiq.money import parse_amount
    from fisiq.schedule import LoanError

    value = parse_amount(text, currency)
    if value <= 0:
        raise LoanError(f"{what} amount must be positive, not {text.strip()}")
    return value


def _ref(ref: str | None) -> str | None:
    from fisiq.names import clean_text

    return clean_text(ref, what="reference", max_length=200) if ref is not None else None


def _currency_of(engine: Engine, loan_id: int) -> str:
    from fisiq.loans_db import read_loan

    return read_loan(engine, loan_id).currency


@app.command("add", context_settings=AMOUNT_COMMAND)
def add(
    ctx: typer.Context,
    borrower: Annotated[str, typer.Argument(help="The borrower's name or acronym (a party of kind borrower).")],
    amount: Annotated[str, typer.Argument(help="The principal, e.g. 25000.00.")],
    rate: Annotated[str, typer.Option("--rate", help="Annual interest rate in percent, e.g. 6.5.")],
    term: Annotated[int, typer.Option("--term", help="Number of installments, grace included.")],
    first_due: Annotated[str, typer.Option("--first-due", help="Due date of the first installment.")],
    frequency: Annotated[str, typer.Option("--frequency", help="monthly or quarterly.")] = "monthly",
    method: Annotated[str, typer.Option("--method", help="annuity, equal-principal or bullet.")] = "annuity",
    grace: Annotated[int, typer.Option("--grace", help="Leading interest-only installments.")] = 0,
    currency: Annotated[str, typer.Option("--currency", help="The loan's currency.")] = "CAD",
    approved: Annotated[str | None, typer.Option("--date", help="Approval date (default: today).")] = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help="What the loan finances.")] = None,
    ref: Ref = None,
) -> None:
    """Record an approved loan (no entry until it is disbursed).

    Example: fisiq loan add "Coopérative Femmes de Thiès" 25000 --rate 6 --term 24 --first-due 2018-08-01 --date 2018-06-15
    """
    from fisiq.loans_db import add_loan
    from fisiq.money import check_currency
    from fisiq.names import clean_text
    from fisiq.schedule import LoanTerms

    check_currency(currency)
    terms = LoanTerms(_amount(amount, currency, "loan"), currency, _rate(rate), term,
                      _date(first_due, "first-due"), frequency, method, grace)
    with ledger(ctx) as engine:
        loan, created = add_loan(engine, borrower, terms, approved_on=_date(approved), ref=_ref(ref),
                                 purpose=clean_text(purpose, what="purpose") if purpose else None)
    if created:
        from fisiq.money import format_percent

        typer.echo(f"Recorded loan {loan.id} to {loan.borrower}: {terms.principal} {currency}, "
                   f"{terms.term} {terms.frequency} {terms.method} installments at {format_percent(terms.annual_rate)}.")
    else:
        typer.echo(f"Reference {ref} is already loan {loan.id} with the same terms; nothing recorded.")


@app.command("schedule")
def schedule(
    ctx: typer.Context,
    loan_id: LoanId,
    as_of: AsOf = None,
    lang: LangOption = None,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """The installments: due date, principal, interest, payment, balance; what is paid and late.

    Example: fisiq loan schedule 1 --as-of 2019-01-31 --json
    """
    from fisiq.loans_db import read_loan
    from fisiq.render_loans import render_schedule, schedule_json

    day = _date(as_of, "as-of")
    with ledger(ctx) as engine:
        loan = read_loan(engine, loan_id)
    position = loan.position(day)
    if as_json:
        print_json(schedule_json(loan.id, position))
        return
    render_schedule(stdout_console(), loan.id, loan.borrower, position, resolve_lang(lang))


@app.command("disburse")
def disburse(ctx: typer.Context, loan_id: LoanId, on: On) -> None:
    """Pay the loan out (refused if cash would go negative or the borrower limit is broken).

    Example: fisiq loan disburse 1 --date 2018-07-01
    """
    from fisiq.loans_db import disburse as run

    with ledger(ctx) as engine:
        out = run(engine, loan_id, _date(on))
    typer.echo(f"Disbursed loan {out.loan.id}: {out.figures['amount']} {out.loan.currency} to {out.loan.borrower} "
               f"(entry {out.entry_ids[0]}).")


@app.command("accrue")
def accrue(
    ctx: typer.Context,
    through: Annotated[str, typer.Option("--through", help="Post interest falling due up to this date.")],
) -> None:
    """Post the interest of every installment fallen due through a date, once.

    Example: fisiq loan accrue --through 2019-03-31
    """
    from fisiq.loans_db import accrue as run

    day = _date(through, "through")
    with ledger(ctx) as engine:
        posted = run(engine, day)
    if not posted:
        typer.echo(f"No interest left to post through {day}.")
    for accrual in posted:
        line = f"Loan {accrual.loan_id}: posted {accrual.amount} of interest fallen due through {day}."
        if accrual.after_close is not None:
            line += _after_close(accrual.after_close)
        typer.echo(line)


@app.command("repay", context_settings=AMOUNT_COMMAND)
def repay(
    ctx: typer.Context,
    loan_id: LoanId,
    amount: Annotated[str, typer.Argument(help="The amount received, e.g. 1250.00.")],
    on: On,
    ref: Ref = None,
) -> None:
    """Record a repayment: interest due first, then principal due, then prepayment.

    Example: fisiq loan repay 1 1250.00 --date 2018-08-01 --ref BANK-2018-08-01-3
    """
    from fisiq.loans_db import repay as run

    with ledger(ctx) as engine:
        value = _amount(amount, _currency_of(engine, loan_id), "repayment")
        out = run(engine, loan_id, value, _date(on), _ref(ref))
    if not out.created:
        typer.echo(f"Reference {ref} is already recorded (entry {out.entry_ids[0]}); nothing recorded.")
        return
    cur = out.loan.currency
    typer.echo(f"Recorded a repayment of {value} {cur} on loan {out.loan.id}: {out.figures['interest']} interest, "
               f"{out.figures['principal']} principal (entry {out.entry_ids[0]}).{_after_close(out.interest_after_close)}")


@app.command("reschedule")
def reschedule(
    ctx: typer.Context,
    loan_id: LoanId,
    on: On,
    term: Annotated[int, typer.Option("--term", help="Number of new installments.")],
    first_due: Annotated[str, typer.Option("--first-due", help="Due date of the first new installment.")],
    rate: Annotated[str | None, typer.Option("--rate", help="New annual rate in percent (default: unchanged).")] = None,
    frequency: Annotated[str | None, typer.Option("--frequency", help="monthly or quarterly (default: unchanged).")] = None,
    method: Annotated[str | None, typer.Option("--method", help="annuity, equal-principal or bullet.")] = None,
    grace: Annotated[int, typer.Option("--grace", help="Leading interest-only installments.")] = 0,
    ref: Ref = None,
) -> None:
    """A new schedule for the outstanding principal; the loan is marked restructured.

    Example: fisiq loan reschedule 1 --date 2019-02-01 --term 18 --first-due 2019-03-01 --ref BOARD-2019-01
    """
    from fisiq.loans_db import reschedule as run

    with ledger(ctx) as engine:
        out = run(engine, loan_id, _date(on), annual_rate=_rate(rate) if rate is not None else None, term=term,
                  first_due=_date(first_due, "first-due"), frequency=frequency, method=method, grace=grace,
                  ref=_ref(ref))
    if not out.created:
        typer.echo(f"Reference {ref} is already this reschedule of loan {out.loan.id}; nothing recorded.")
        return
    typer.echo(f"Rescheduled loan {out.loan.id}: {out.figures['principal']} {out.loan.currency} over {term} "
               f"installments from {first_due}; the loan is restructured.{_after_close(out.interest_after_close)}")


@app.command("provision")
def provision(ctx: typer.Context, as_of: Annotated[str, typer.Option("--as-of", help="Provision as of this date.")]) -> None:
    """Set the allowance for loan losses from days-past-due buckets, posting only the change.

    Example: fisiq loan provision --as-of 2019-03-31
    """
    from fisiq.loans_db import provision as run

    day = _date(as_of, "as-of")
    with ledger(ctx) as engine:
        results = run(engine, day)
    if not results:
        typer.echo(f"No loans outstanding as of {day}; nothing to provision.")
    for r in results:
        if r.entry_id is None:
            typer.echo(f"Allowance as of {day} is already {r.required} {r.currency}; nothing posted.")
        else:
            verb = "raised" if r.change > 0 else "released"
            typer.echo(f"Allowance as of {day}: {r.before} -> {r.required} {r.currency} ({verb} {abs(r.change)}, "
                       f"entry {r.entry_id}).")


@app.command("write-off")
def write_off(
    ctx: typer.Context,
    loan_id: LoanId,
    on: On,
    reason: Annotated[str, typer.Option("--reason", help="Why the fund gives up (kept in the entry).")],
) -> None:
    """Write off the whole outstanding principal (and the unpaid interest receivable).

    Example: fisiq loan write-off 3 --date 2020-03-31 --reason "cooperative dissolved"
    """
    from fisiq.loans_db import write_off as run
    from fisiq.names import clean_text

    with ledger(ctx) as engine:
        out = run(engine, loan_id, _date(on), clean_text(reason, what="reason"))
    f, cur = out.figures, out.loan.currency
    typer.echo(f"Wrote off loan {out.loan.id}: {f['principal']} {cur} principal ({f['from_allowance']} from the "
               f"allowance) and {f['interest']} {cur} interest receivable (entry {out.entry_ids[0]})."
               f"{_after_close(out.interest_after_close)}")


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    loan_id: LoanId,
    on: On,
    reason: Annotated[str, typer.Option("--reason", help="Why the approval is withdrawn (kept with the event).")],
) -> None:
    """Withdraw the approval of a loan never paid out; to change its terms, approve a new one.

    A disbursed loan cannot be cancelled (reverse the disbursement first). No entry: the loan
    stops counting as approved, and nothing can be recorded on it afterwards.
    Example: fisiq loan cancel 4 --date 2019-02-01 --reason "disbursement delayed; new dates"
    """
    from fisiq.loans_db import cancel as run
    from fisiq.names import clean_text

    with ledger(ctx) as engine:
        out = run(engine, loan_id, _date(on), clean_text(reason, what="reason"))
    typer.echo(f"Cancelled loan {out.loan.id} ({out.loan.borrower}, {out.loan.terms.principal} {out.loan.currency}); "
               "no entry.")


@app.command("recover", context_settings=AMOUNT_COMMAND)
def recover(
    ctx: typer.Context,
    loan_id: LoanId,
    amount: Annotated[str, typer.Argument(help="Cash received after the write-off.")],
    on: On,
    ref: Ref = None,
) -> None:
    """Record cash received on a written-off loan (Income:Recoveries).

    Example: fisiq loan recover 3 500.00 --date 2020-09-30
    """
    from fisiq.loans_db import recover as run

    with ledger(ctx) as engine:
        value = _amount(amount, _currency_of(engine, loan_id), "recovery")
        out = run(engine, loan_id, value, _date(on), _ref(ref))
    if not out.created:
        typer.echo(f"Reference {ref} is already recorded (entry {out.entry_ids[0]}); nothing recorded.")
        return
    typer.echo(f"Recorded a recovery of {value} {out.loan.currency} on loan {out.loan.id} (entry {out.entry_ids[0]}).")


@app.command("list")
def list_loans(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="approved, active, restructured, closed, written-off or cancelled.")] = None,
    as_of: AsOf = None,
    lang: LangOption = None,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """Every loan with its status, outstanding principal and days past due.

    Example: fisiq loan list --status active --json
    """
    from fisiq.loans_db import STATUSES, read_loans
    from fisiq.render_loans import position_doc, render_loan_list, terms_doc

    if status is not None and status not in STATUSES:
        fail(f"--status must be one of {', '.join(STATUSES)}, not {status!r}")
    day = _date(as_of, "as-of")
    with ledger(ctx) as engine:
        records = read_loans(engine)
    rows = [(r, r.position(day)) for r in records]
    rows = [(r, p) for r, p in rows if status is None or p.status == status]
    if as_json:
        print_json({"as_of": day.isoformat(), "loans": [
            {"id": r.id, "borrower": r.borrower, "ref": r.ref, "approved_on": r.approved_on.isoformat(),
             "terms": terms_doc(r.terms), "position": position_doc(p)} for r, p in rows]})
        return
    render_loan_list(stdout_console(), [(r.id, r.borrower, p) for r, p in rows], day, resolve_lang(lang))


@app.command("show")
def show(
    ctx: typer.Context,
    loan_id: LoanId,
    as_of: AsOf = None,
    lang: LangOption = None,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """One loan: terms, figures, and its history of events with their entries.

    Example: fisiq loan show 1 --json
    """
    from fisiq import db
    from fisiq.loans_db import get_loan, ledger_figures
    from fisiq.money import to_str
    from fisiq.render_loans import position_doc, render_loan_detail, terms_doc

    day = _date(as_of, "as-of")
    with ledger(ctx) as engine, db.read_transaction(engine) as conn:
        loan = get_loan(conn, loan_id)
        books = ledger_figures(conn, loan, day)
    p = loan.position(day)
    cur = loan.currency
    events = [e for e in loan.events if e.date <= day]

    def reversed_by(e: EventRow) -> int | None:
        return None if e.counts(day) else e.reversed_by

    if as_json:
        print_json({
            "id": loan.id, "borrower": loan.borrower, "ref": loan.ref, "purpose": loan.purpose,
            "approved_on": loan.approved_on.isoformat(), "terms": terms_doc(loan.terms),
            "terms_in_force": terms_doc(p.terms), "position": position_doc(p),
            "ledger": {k: to_str(v, cur) for k, v in books.items()},
            "events": [{"kind": e.kind, "date": e.date.isoformat(),
                        "amount": to_str(e.amount, cur) if e.amount is not None else None,
                        "entry": e.entry_id, "ref": e.ref, "details": e.details,
                        "reversed_by": reversed_by(e)} for e in events],
        })
        return
    render_loan_detail(
        stdout_console(), loan.id, loan.borrower, p,
        [(e.kind, e.date, e.amount, e.entry_id, e.details, reversed_by(e)) for e in events],
        resolve_lang(lang),
    )


@app.command("limits")
def limits(
    ctx: typer.Context,
    max_borrower_share: Annotated[str | None, typer.Option(
        "--max-borrower-share", help="Largest share (percent) of the capital paid in one borrower may owe.")] = None,
    provision_rates: Annotated[str | None, typer.Option(
        "--provision-rates", help="Days-past-due buckets and rates, e.g. 0:1,1:5,31:25,91:50,181:100.")] = None,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """Show or set the lending limits and provision rates (recorded as settings).

    Example: fisiq loan limits --max-borrower-share 15 --provision-rates 0:1,1:5,31:25,91:50,181:100
    """
    from fisiq.loans_db import parse_rates, parse_share, read_settings, set_limits

    share = parse_share(max_borrower_share) if max_borrower_share is not None else None
    rates = parse_rates(provision_rates) if provision_rates is not None else None
    with ledger(ctx) as engine:
        current = read_settings(engine) if share is None and rates is None else set_limits(
            engine, max_share=share, rates=rates)
    if as_json:
        print_json({"max_borrower_share": str(current.max_borrower_share),
                    "provision_rates": [[d, str(r)] for d, r in current.provision_rates]})
        return
    from fisiq.money import format_percent

    typer.echo(f"Largest borrower's share of the capital paid in: {format_percent(current.max_borrower_share)}")
    typer.echo("Provision rates (days past due: rate): " + ", ".join(
        f"{d}+: {format_percent((r * 100).normalize())}" for d, r in current.provision_rates))


def portfolio(
    ctx: typer.Context,
    as_of: AsOf = None,
    currency: Annotated[str, typer.Option("--currency", help="Currency of the loans counted.")] = "CAD",
    lang: LangOption = None,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """The loan portfolio: outstanding, by region, country and sector; impact; PAR30/PAR90.

    Example: fisiq portfolio --as-of 2019-03-31 --lang fr
    """
    from fisiq.loans_db import loan_facts, portfolio_input
    from fisiq.money import check_currency
    from fisiq.portfolio import compute, portfolio_json
    from fisiq.render_loans import render_portfolio

    check_currency(currency)
    day = _date(as_of, "as-of")
    with ledger(ctx) as engine:
        records, people = portfolio_input(engine, day)
    figures = compute(loan_facts(records, people, day), day, currency)
    if as_json:
        print_json(portfolio_json(figures))
        return
    render_portfolio(stdout_console(), figures, resolve_lang(lang))
