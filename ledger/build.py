#!/usr/bin/env python3
"""Build the default ledger (ledger/fisiq.db) from the bundled facts and show the reports.

Run by `python3 dev.py demo`. The ledger is rebuilt from scratch each time, so what it shows
always comes from the reviewed files in this folder:

1. `fisiq init` — the ledger and its standard chart;
2. `members.csv` — the AQOCI member organizations, as parties of kind member;
3. `fisiq-2018-parties.csv` — the other investors the annual report names;
4. `fisiq-2018.csv` — the campaign's facts from the 2017-2018 annual report (`fisiq import`);
5. the reports: campaign progress, then the board report once fisiq has one.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# The steps, as fisiq command lines (without --db). Tests run the same list.
BUILD: tuple[tuple[str, ...], ...] = (
    ("init",),
    ("party", "import", str(HERE / "members.csv"), "--kind", "member"),
    ("party", "import", str(HERE / "fisiq-2018-parties.csv")),
    ("import", str(HERE / "fisiq-2018.csv")),
)
SHOW: tuple[tuple[str, ...], ...] = (
    ("progress",),
    ("audit", "verify"),
)
# The board report, shown when this fisiq has it (`fisiq report board`).
BOARD = ("report", "board")


def has_command(fisiq: str, words: tuple[str, ...]) -> bool:
    result = subprocess.run([fisiq, *words, "--help"], capture_output=True)
    return result.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fisiq", default="fisiq", help="the fisiq command to run")
    parser.add_argument("--db", default=str(HERE / "fisiq.db"), help="where to build the ledger: a file (replaced), or the URL of an empty PostgreSQL database")
    args = parser.parse_args()
    target = args.db  # passed on as given: a URL through Path() would lose its "//"
    if "://" not in target:  # a file is built afresh; a database must be empty
        for suffix in ("", "-wal", "-shm"):
            Path(target + suffix).unlink(missing_ok=True)

    def fisiq(*words: str) -> None:
        result = subprocess.run([args.fisiq, "--db", target, *words])
        if result.returncode != 0:
            sys.exit(result.returncode)

    for step in BUILD:
        fisiq(*step)
    for step in SHOW:
        fisiq(*step)
    if has_command(args.fisiq, BOARD):
        fisiq(*BOARD)


if __name__ == "__main__":
    main()
