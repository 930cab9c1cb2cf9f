"""Loans under concurrent writers (issue 6), on SQLite and PostgreSQL. Run with `pytest -s -m slow`.

* 1,000 repayments of 1.00 $ on one loan from several OS processes at once: every one is
  recorded, the interest fallen due is posted exactly once, and the balances are exact.
* 100 disbursements of 1,000.00 $ competing for 50,000.00 $ of cash: exactly 50 succeed, the
  others are refused, and the cash balance is never negative at any point of the chain.

Workers are separate processes (multiprocessing, spawn) calling the storage functions the
CLI calls, each with its own engine, released together by an event.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from _loans_support import D, add_capital, add_party, balance, trial_total
from fisiq import db, ledger, loans_db
from fisiq.money import from_minor
from fisiq.schedule import LoanTerms

pytestmark = pytest.mark.slow
PROCESSES = 4


def _repay_worker(target: str, loan_id: int, count: int, start: Any, out: Any) -> None:
    engine = db.open_ledger(target)
    start.wait()
    done = 0
    errors: list[str] = []
    for _ in range(count):
        try:
            loans_db.repay(engine, loan_id, Decimal("1.00"), date(2018, 5, 1))
            done += 1
        except Exception as exc:  # reported, and the test fails on any
            errors.append(f"{type(exc).__name__}: {exc}")
    engine.dispose()
    out.put((done, errors))


def _disburse_worker(target: str, loan_ids: list[int], start: Any, out: Any) -> None:
    from fisiq.schedule import LoanError

    engine = db.open_ledger(target)
    start.wait()
    ok = refused = 0
    errors: list[str] = []
    for loan_id in loan_ids:
        try:
            loans_db.disburse(engine, loan_id, date(2018, 4, 1))
            ok += 1
        except LoanError as exc:
            if "cash would go negative" not in str(exc):
                errors.append(str(exc))
            refused += 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    engine.dispose()
    out.put((ok, refused, errors))


def _run(target: Any, jobs: list[tuple[Any, tuple[Any, ...]]]) -> tuple[list[Any], float]:
    ctx = mp.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=fn, args=(*args, start, out)) for fn, args in jobs]
    for p in procs:
        p.start()
    time.sleep(3.0)  # let every process import fisiq and open its engine
    began = time.perf_counter()
    start.set()
    results = [out.get(timeout=1800) for _ in procs]
    elapsed = time.perf_counter() - began
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return results, elapsed


def test_1000_concurrent_repayments_of_one_dollar(ledgers: Any) -> None:
    target = ledgers.target()
    engine = db.open_ledger(target)
    add_capital(engine, D("10000.00"))
    loans_db.set_limits(engine, max_share=D("100"))
    add_party(engine, "Coopérative Femmes de Thiès")
    # 1,200.00 at 12 % over 12 months: the first installment's interest is 1,200.00 x 1 % = 12.00,
    # due 2018-05-01, the date of every repayment.
    loan, _ = loans_db.add_loan(engine, "Coopérative Femmes de Thiès",
                                LoanTerms(D("1200.00"), "CAD", D("12"), 12, date(2018, 5, 1)),
                                approved_on=date(2018, 3, 31))
    loans_db.disburse(engine, loan.id, date(2018, 4, 1))
    total = 1000
    results, elapsed = _run(target, [(_repay_worker, (target, loan.id, total // PROCESSES))
                                     for _ in range(PROCESSES)])
    errors = [e for _, errs in results for e in errs]
    assert errors == []
    assert sum(done for done, _ in results) == total
    record = loans_db.read_loan(engine, loan.id)
    p = record.position(date(2018, 5, 1))
    # 1,000.00 received: 12.00 of interest first (posted once), then 988.00 of principal.
    assert (p.interest_repaid, p.principal_repaid, p.outstanding_principal) == (D("12.00"), D("988.00"), D("212.00"))
    assert [e.kind for e in record.events].count("interest") == 1
    assert [e.kind for e in record.events].count("repaid") == total
    assert balance(engine, "Assets:Cash") == D("9800.00")  # 10,000 - 1,200 + 1,000
    assert balance(engine, "Assets:Loans:Principal") == D("212.00")
    assert balance(engine, "Assets:Loans:Interest-Receivable") == D("0.00")
    assert balance(engine, "Income:Interest:Loans") == D("-12.00")
    assert trial_total(engine) == 0
    with db.read_transaction(engine) as conn:
        assert ledger.verify(conn) is None
    engine.dispose()
    print(f"\n[{ledgers.engine_name}] {total} repayments of 1.00 $ from {PROCESSES} processes in {elapsed:.1f} s "
          f"({total / elapsed:.0f}/s): interest 12.00, principal 988.00, outstanding 212.00, cash 9,800.00")


def test_100_disbursements_competing_for_cash_for_50(ledgers: Any) -> None:
    target = ledgers.target()
    engine = db.open_ledger(target)
    add_capital(engine, D("50000.00"))
    loans_db.set_limits(engine, max_share=D("100"))
    ids: list[int] = []
    for b in range(10):
        name = f"Emprunteur {chr(65 + b)}"
        add_party(engine, name)
        for _ in range(10):
            loan, _ = loans_db.add_loan(engine, name, LoanTerms(D("1000.00"), "CAD", D("6"), 12, date(2018, 5, 1)),
                                        approved_on=date(2018, 3, 31))
            ids.append(loan.id)
    chunks = [ids[i::PROCESSES] for i in range(PROCESSES)]
    results, elapsed = _run(target, [(_disburse_worker, (target, chunk)) for chunk in chunks])
    errors = [e for _, _, errs in results for e in errs]
    assert errors == []
    succeeded = sum(ok for ok, _, _ in results)
    refused = sum(r for _, r, _ in results)
    assert (succeeded, refused) == (50, 50)
    assert balance(engine, "Assets:Cash") == D("0.00")
    assert balance(engine, "Assets:Loans:Principal") == D("50000.00")
    # Never negative: the running cash balance along the chain.
    with db.read_transaction(engine) as conn:
        rows = conn.execute(
            select(ledger.POSTING.c.entry_id, func.sum(ledger.POSTING.c.amount))
            .join(ledger.ACCOUNT, ledger.ACCOUNT.c.id == ledger.POSTING.c.account_id)
            .where(ledger.ACCOUNT.c.name == "Assets:Cash")
            .group_by(ledger.POSTING.c.entry_id).order_by(ledger.POSTING.c.entry_id)
        ).all()
        assert ledger.verify(conn) is None
    running, lowest = 0, 0
    for _, amount in rows:
        running += int(amount)
        lowest = min(lowest, running)
    assert lowest == 0
    disbursed = sum(1 for loan_id in ids if loans_db.read_loan(engine, loan_id).disbursed_on() is not None)
    assert disbursed == 50
    engine.dispose()
    print(f"\n[{ledgers.engine_name}] 100 disbursements of 1,000.00 $ for 50,000.00 $ of cash from {PROCESSES} "
          f"processes in {elapsed:.1f} s: {succeeded} succeeded, {refused} refused, cash "
          f"{from_minor(running, 'CAD')} $, lowest {from_minor(lowest, 'CAD')} $")
