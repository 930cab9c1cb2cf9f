"""How the loan commands scale with the number of loans: a deterministic portfolio, timed reads.

Builds a ledger with N loans to N/4 borrowers through fisiq's own storage functions (approval,
disbursement, monthly repayments, a few late loans, reschedules, write-offs and cancellations),
then times whole commands as a user runs them: `audit verify` (which replays every loan event
against its entries), `portfolio`, `loan list`, `report board` and `loan show`. Prints figures,
asserts nothing.

    .venv/bin/python benchmarks/bench_loans.py --loans 200,1000
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from dateutil.relativedelta import relativedelta

from fisiq import db, ledger, loans_db, parties_db
from fisiq.entries import EntryDraft, Posting
from fisiq.parties import PartyDraft
from fisiq.schedule import LoanTerms, build_schedule

SEED = 20180323
START = date(2018, 4, 1)
AS_OF = date(2021, 12, 31)
REGIONS = (("SN", "Africa"), ("HT", "Americas"), ("BF", "Africa"), ("PE", "Americas"), ("VN", "Asia"))
SECTORS = ("agriculture", "crafts", "savings and credit", "fair trade", "processing")


def build(path: Path, count: int) -> tuple[float, int]:
    """A ledger with `count` loans in various states; returns (seconds, entries)."""
    rng = random.Random(SEED)
    engine, _ = db.create_ledger(str(path))
    started = time.perf_counter()
    borrowers = [f"Coopérative {i:04d}" for i in range(max(1, count // 4))]
    with db.write_transaction(engine) as conn:
        ledger.ensure_standard_chart(conn)
        drafts = [PartyDraft("Fonds de capital", "investor")]
        for i, name in enumerate(borrowers):
            country, region = REGIONS[i % len(REGIONS)]
            drafts.append(PartyDraft(name, "borrower", country=country, region=region, sector=SECTORS[i % len(SECTORS)],
                                     women_led=i % 3 == 0, youth_led=i % 5 == 0))
        parties_db.add_parties(conn, drafts)
    capital = Decimal(count * 60_000)
    ledger.record_entry(engine, EntryDraft(date(2018, 3, 23), "capital", (
        Posting("Assets:Cash", capital), Posting("Equity:Paid-In-Capital", -capital, party="Fonds de capital"))))
    for i in range(count):
        approved = START + relativedelta(days=rng.randrange(0, 900))
        terms = LoanTerms(
            principal=Decimal(rng.randrange(5, 50) * 1000), currency="CAD",
            annual_rate=Decimal(rng.choice(("4", "5.5", "6", "8"))), term=rng.choice((12, 24, 36)),
            first_due=approved + relativedelta(months=2), method=rng.choice(("annuity", "equal-principal")),
        )
        loan, _ = loans_db.add_loan(engine, rng.choice(borrowers), terms, approved_on=approved, ref=f"L-{i}")
        fate = rng.random()
        if fate < 0.05:
            loans_db.cancel(engine, loan.id, approved + relativedelta(days=20), "project withdrawn")
            continue
        loans_db.disburse(engine, loan.id, approved + relativedelta(days=30))
        late = fate > 0.85  # stops paying after a while: arrears, then perhaps a write-off
        for line in build_schedule(terms):
            if line.due > AS_OF or (late and line.number > terms.term // 3):
                break
            loans_db.repay(engine, loan.id, line.payment, line.due)
        if late and fate > 0.95:
            loans_db.write_off(engine, loan.id, AS_OF - relativedelta(months=1), "borrower closed")
    with db.read_transaction(engine) as conn:
        entries = ledger.chain_head(conn)[0]
    engine.dispose()
    return time.perf_counter() - started, entries


def timed(argv: Sequence[str], repeat: int) -> tuple[float, str]:
    """Median wall time of a command, and its last line of output."""
    times = []
    out = ""
    for _ in range(repeat):
        start = time.perf_counter()
        result = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            sys.exit(f"{' '.join(argv)} failed: {result.stderr.strip()}")
        out = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    times.sort()
    return times[len(times) // 2], out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", default="200,1000", help="comma-separated portfolio sizes")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command (median)")
    args = parser.parse_args(argv)
    fisiq = str(Path(sys.executable).with_name("fisiq"))
    print(f"fisiq loan benchmark: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}, seed {SEED}")
    with tempfile.TemporaryDirectory() as tmp:
        for count in (int(n) for n in args.loans.split(",")):
            path = Path(tmp) / f"loans-{count}.db"
            seconds, entries = build(path, count)
            print(f"\n== {count} loans ==\nledger: {entries:,} entries, built in {seconds:.1f} s")
            base = [fisiq, "--db", str(path)]
            for label, cmd in (
                ("audit verify", ["audit", "verify"]),
                ("portfolio --as-of 2021-12-31", ["portfolio", "--as-of", AS_OF.isoformat()]),
                ("loan list", ["loan", "list"]),
                ("report board --as-of 2021-12-31", ["report", "board", "--as-of", AS_OF.isoformat()]),
                ("loan show 1", ["loan", "show", "1"]),
            ):
                wall, last = timed([*base, *cmd], args.repeat)
                print(f"    fisiq {label:<34}{wall:7.2f} s   {last[:60]}")


if __name__ == "__main__":
    main()
