"""The refusals fisiq reports to a person: each is one clear line, never a traceback.

Every module's error derives from `FisiqError`, so the CLI maps them all to a message on
stderr and a non-zero exit without knowing each one.
"""


class FisiqError(ValueError):
    """Something fisiq refuses to do; the message says what is wrong in one line."""


class LedgerError(FisiqError):
    """A write the books refuse: a closed period, a conflicting reference, a missing entry."""
