"""fisiq: the ledger of the FISIQ solidarity investment fund."""

__version__ = "0.1.0"
