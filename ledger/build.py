#!/usr/bin/env python3
"""Build the default ledger (ledger/fisiq.db) from the bundled facts and show the reports.

Run by `python3 dev.py demo`. The ledger is rebuilt from scratch each time, so what it shows
always comes from the reviewed files in this folder.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fisiq", default="fisiq", help="the fisiq command to run")
    parser.add_argument("--db", default=str(HERE / "fisiq.db"), help="where to build the ledger")
    args = parser.parse_args()
    db = Path(args.db)
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)

    def fisiq(*words: str) -> None:
        result = subprocess.run([args.fisiq, "--db", str(db), *words])
        if result.returncode != 0:
            sys.exit(result.returncode)

    fisiq("init")
    # A small example until the fund's 2018 facts are bundled: the Québec ministry's first
    # investment of 75 000 $ (annual report 2017-2018, FISIQ section).
    fisiq("entry", "add", "--date", "2018-03-31", "--memo", "MRIF: premier investissement de 75 000 $",
          "-p", "Assets:Cash 75000.00", "-p", "Equity:Paid-In-Capital -75000.00", "--ref", "fisiq-2018-mrif")
    fisiq("report", "trial-balance")
    fisiq("audit", "verify")


if __name__ == "__main__":
    main()
