"""The chart of accounts: account types, names, and the fund's standard chart.

Sign rule, stated once for all of fisiq: a posting's amount is positive for a debit and
negative for a credit, and an account's balance is the plain sum of its postings. So assets
and expenses carry positive balances, liabilities, equity and income negative ones, and
contra accounts (the loan-loss allowance, commitments receivable) the opposite of their
type's usual sign. The ledger sums to zero.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from fisiq.errors import FisiqError


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"


# The root of an account name fixes its type, as in beancount and hledger: exports to those
# tools stay valid only if the two agree.
ROOTS: dict[str, AccountType] = {
    "Assets": AccountType.ASSET,
    "Liabilities": AccountType.LIABILITY,
    "Equity": AccountType.EQUITY,
    "Income": AccountType.INCOME,
    "Expenses": AccountType.EXPENSE,
}

# Each segment starts with an upper-case ASCII letter or a digit and continues with
# letters, digits or hyphens: names every ledger tool accepts unchanged.
_SEGMENT = re.compile(r"^[A-Z0-9][A-Za-z0-9-]*$")
MAX_NAME_LENGTH = 120


class AccountError(FisiqError):
    """An account name or type that fisiq refuses."""


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    type: AccountType
    description: str = ""


def parse_type(text: str) -> AccountType:
    try:
        return AccountType(text.strip().lower())
    except ValueError:
        choices = "|".join(t.value for t in AccountType)
        raise AccountError(f"unknown account type {text!r}; use {choices}") from None


def check_account_name(name: str, account_type: AccountType | None = None) -> AccountType:
    """Validate an account name and return its type (from its root).

    When `account_type` is given it must agree with the root.
    """
    if not name or len(name) > MAX_NAME_LENGTH:
        raise AccountError(f"account name must be 1 to {MAX_NAME_LENGTH} characters")
    segments = name.split(":")
    root = segments[0]
    if root not in ROOTS:
        raise AccountError(
            f"account {name!r} must start with one of {', '.join(ROOTS)} (e.g. Assets:Cash)"
        )
    if len(segments) < 2:
        raise AccountError(f"account {name!r} needs a sub-account (e.g. {root}:Something)")
    for segment in segments[1:]:
        if not _SEGMENT.match(segment):
            raise AccountError(
                f"account {name!r}: each part after {root}: starts with a capital letter or digit "
                "and holds only ASCII letters (A-Z, a-z, no accents), digits and hyphens"
            )
    derived = ROOTS[root]
    if account_type is not None and account_type != derived:
        raise AccountError(f"account {name!r} is under {root}, so its type is {derived.value}, not {account_type.value}")
    return derived


CASH = "Assets:Cash"
INVESTMENTS = "Assets:Investments"
LOAN_PRINCIPAL = "Assets:Loans:Principal"
INTEREST_RECEIVABLE = "Assets:Loans:Interest-Receivable"
LOAN_ALLOWANCE = "Assets:Loans:Allowance"
INVESTOR_LOANS = "Liabilities:Investor-Loans"
PAID_IN_CAPITAL = "Equity:Paid-In-Capital"
COMMITMENTS_RECEIVABLE = "Equity:Commitments:Receivable"
COMMITMENTS_SUBSCRIBED = "Equity:Commitments:Subscribed"
CONTRIBUTIONS = "Income:Contributions"
LOAN_INTEREST = "Income:Interest:Loans"
INVESTMENT_INTEREST = "Income:Interest:Investments"
RECOVERIES = "Income:Recoveries"
OPERATIONS = "Expenses:Operations"
LOAN_LOSS_PROVISION = "Expenses:Loan-Loss-Provision"

# Accounts whose balance, per party, is what the loans or the commitments say: only their
# commands (and reversals of their entries) post there. A manual entry would make `progress`,
# `portfolio` and the board disagree with the books, with nothing to say which is right.
KEPT_BY: dict[str, str] = {
    LOAN_PRINCIPAL: "the loan commands (fisiq loan disburse, repay, write-off)",
    INTEREST_RECEIVABLE: "the loan commands (fisiq loan accrue, repay, write-off)",
    COMMITMENTS_RECEIVABLE: "the commitment commands (fisiq commitment sign, pay, cancel)",
    COMMITMENTS_SUBSCRIBED: "the commitment commands (fisiq commitment sign, pay, cancel)",
}


# Accounts the commands and reports read by their exact name: the board's cash and what a
# loan may draw on, the loans' and the commitments' own accounts, the instruments a payment is
# credited to. What a sub-account of one of them holds would count nowhere (money moved to
# Assets:Cash:Desjardins left the board's cash and refused a disbursement it could pay).
READ_BY_NAME = (CASH, LOAN_PRINCIPAL, INTEREST_RECEIVABLE, LOAN_ALLOWANCE, INVESTOR_LOANS, PAID_IN_CAPITAL,
                COMMITMENTS_RECEIVABLE, COMMITMENTS_SUBSCRIBED, CONTRIBUTIONS, RECOVERIES)


def check_new_account(name: str, account_type: AccountType | None = None) -> AccountType:
    """`check_account_name`, and no new account under one fisiq reads by its exact name."""
    derived = check_account_name(name, account_type)
    parent = next((p for p in READ_BY_NAME if name.startswith(p + ":")), None)
    if parent is not None:
        raise AccountError(f"account {name!r} would sit under {parent}, which fisiq reads by its exact name: what "
                           f"is posted to {name} would not count as {parent} anywhere; post to {parent} itself "
                           "(the party or the memo tells the rest)")
    return derived


def refuse_kept_accounts(names: Iterable[str]) -> None:
    """Raise AccountError if a manual entry names an account kept by the loans or commitments."""
    for name in names:
        if name in KEPT_BY:
            raise AccountError(
                f"{name} is kept by {KEPT_BY[name]}; a manual entry there would make the books disagree "
                "with them (to undo one of their entries: fisiq entry reverse ID)")


STANDARD_CHART: tuple[Account, ...] = (
    Account(CASH, AccountType.ASSET, "bank"),
    Account(INVESTMENTS, AccountType.ASSET, "short-term placements"),
    Account(LOAN_PRINCIPAL, AccountType.ASSET, "loans outstanding, by borrower"),
    Account(INTEREST_RECEIVABLE, AccountType.ASSET, "interest due not yet paid, by borrower"),
    Account(LOAN_ALLOWANCE, AccountType.ASSET, "allowance for loan losses (contra)"),
    Account(INVESTOR_LOANS, AccountType.LIABILITY, "capital received as debt, by investor"),
    Account(PAID_IN_CAPITAL, AccountType.EQUITY, "capital received as equity, by investor"),
    Account(COMMITMENTS_RECEIVABLE, AccountType.EQUITY, "signed, unpaid commitments (contra), by investor"),
    Account(COMMITMENTS_SUBSCRIBED, AccountType.EQUITY, "signed commitments not yet paid, by investor"),
    Account(CONTRIBUTIONS, AccountType.INCOME, "non-repayable government contributions"),
    Account(LOAN_INTEREST, AccountType.INCOME, "loan interest"),
    Account(INVESTMENT_INTEREST, AccountType.INCOME, "interest on placements"),
    Account(RECOVERIES, AccountType.INCOME, "recoveries after write-off"),
    Account(OPERATIONS, AccountType.EXPENSE, "running the fund"),
    Account(LOAN_LOSS_PROVISION, AccountType.EXPENSE, "provisions and write-offs"),
)
