"""The root of `fisiq`: its help texts and its commands, as plain data.

`fisiq --help` prints these without importing typer (fisiq.cli.roothelp), and fisiq.cli.main
builds the typer app from them, so the two cannot say different things. This module imports
nothing: anything it imported, every start of `fisiq` would pay for.
"""

ROOT_HELP = (
    "fisiq: the double-entry ledger of the FISIQ solidarity investment fund.\n\n"
    "Example: fisiq init && fisiq report trial-balance"
)
DB_HELP = (
    "Ledger: a file path (SQLite) or a URL such as postgresql+psycopg://user@host/db. "
    "Default: ledger/fisiq.db."
)
DB_ENVVAR = "FISIQ_DB"
VERSION_HELP = "Show the version and exit."

# The commands defined with the root in fisiq.cli.main, and their short helps (the first
# sentence of their docstrings: tests/test_cli_startup.py checks they agree).
ROOT_COMMANDS = {
    "init": "Create the ledger and its standard chart of accounts (running it again changes nothing).",
    "upgrade": "Bring an existing ledger's schema up to this version of fisiq (back it up first).",
}

# Every other command, in the order `fisiq --help` lists them: (module, its Typer group or
# command function, short help). Only the command that runs is imported and built, so neither
# `fisiq --help` nor another command imports the modules of the rest. The short help repeats
# the first sentence of the command's own help (a test checks they agree).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "export": (
        "fisiq.cli.export", "export",
        "Write every posting, with its entry's id, date, memo, reference and hash, for auditors.",
    ),
    "restore": (
        "fisiq.cli.export", "restore",
        "Rebuild a new ledger from a jsonl export: its entries, loans, commitments, targets, settings.",
    ),
    "progress": (
        "fisiq.cli.commitments", "progress",
        "The capital campaign per investor category: target, paid, signed, in principle, prospect.",
    ),
    "import": (
        "fisiq.cli.imports", "import_file",
        "Record commitments, stage changes, payments and targets from a CSV file: all rows or none.",
    ),
    "portfolio": (
        "fisiq.cli.loans", "portfolio",
        "The loan portfolio: outstanding, by region, country and sector; impact; PAR30/PAR90.",
    ),
    "backup": ("fisiq.cli.backup", "backup", "Back up the ledger to FILE."),
    "account": ("fisiq.cli.accounts", "app", "The chart of accounts: list accounts, open a new one."),
    "entry": ("fisiq.cli.entries", "app", "Journal entries: record one, reverse one, show one."),
    "report": ("fisiq.cli.reports", "app", "Reports: trial balance, journal, account register, balance sheet, income, board."),
    "audit": ("fisiq.cli.audit", "app", "Audit: verify the hash chain and the invariants of the books."),
    "period": ("fisiq.cli.period", "app", "Accounting periods: close the books through a date."),
    "config": ("fisiq.cli.config", "app", "Settings of the ledger, such as the fiscal year end."),
    "party": (
        "fisiq.cli.parties", "app",
        "Parties: investors (member, labour-fund, government, foundation, investor) and borrowers.",
    ),
    "commitment": (
        "fisiq.cli.commitments", "app",
        "Commitments of capital: prospect -> in principle -> signed -> paid, or cancelled.",
    ),
    "target": (
        "fisiq.cli.commitments", "targets_app",
        "Campaign targets per investor category (member, labour-fund, government, other, total).",
    ),
    "loan": (
        "fisiq.cli.loans", "app",
        "Loans to borrowers: approve or cancel, disburse, accrue interest, repay, reschedule, provision, write off.",
    ),
}
