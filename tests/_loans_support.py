"""Helpers shared by the loan tests: borrowers, capital, and the ledger-vs-loan check."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Engine, insert

from fisiq import db, ledger, loans_db
from fisiq.entries import EntryDraft, Posting
from fisiq.models import Party
from fisiq.names import name_key, skeleton

PARTY = Party.__table__  # type: ignore[attr-defined]
D = Decimal


def add_party(
    engine: Engine, name: str, kind: str = "borrower", *, country: str | None = None, region: str | None = None,
    sector: str | None = None, women_led: bool = False, youth_led: bool = False,
) -> int:
    """Insert a party row directly (the loan tests do not depend on `fisiq party add`)."""
    with db.write_transaction(engine) as conn:
        return int(conn.execute(insert(PARTY).returning(PARTY.c.id), {
            "name": name, "name_key": name_key(name), "skeleton": skeleton(name), "kind": kind,
            "country": country, "region": region, "sector": sector, "women_led": women_led, "youth_led": youth_led,
            "recorded_at": db.utc_now(), "recorded_by": "test",
        }).scalar_one())


def add_capital(engine: Engine, amount: Decimal, on: date = date(2018, 3, 23), investor: str = "Fonds test") -> None:
    """The fund receives paid-in capital in cash."""
    with db.read_transaction(engine) as conn:
        known = ledger.find_party_id(conn, investor) is not None
    if not known:
        add_party(engine, investor, "investor")
    ledger.record_entry(engine, EntryDraft(on, "capital", (
        Posting("Assets:Cash", amount), Posting("Equity:Paid-In-Capital", -amount, party=investor))))


def balance(engine: Engine, account: str, *, as_of: date | None = None, party: int | None = None,
            link: str | None = None) -> Decimal:
    with db.read_transaction(engine) as conn:
        rows = ledger.balances(conn, as_of=as_of, party_id=party, accounts=[account], link=link)
    return sum((b.amount for b in rows), D("0.00"))


def trial_total(engine: Engine) -> Decimal:
    with db.read_transaction(engine) as conn:
        return sum((b.amount for b in ledger.balances(conn)), D(0))


def chain_head(engine: Engine) -> tuple[int, str]:
    with db.read_transaction(engine) as conn:
        return ledger.chain_head(conn)


def assert_loan_matches_ledger(engine: Engine, loan_id: int, as_of: date) -> None:
    """The loan's principal in the ledger (its own entries, its borrower) equals its position."""
    with db.read_transaction(engine) as conn:
        loan = loans_db.get_loan(conn, loan_id)
        books = loans_db.ledger_figures(conn, loan, as_of)
        by_borrower = sum((b.amount for b in ledger.balances(
            conn, as_of=as_of, party_id=loan.borrower_id, accounts=["Assets:Loans:Principal"], link=loan.link)),
            D("0.00"))
    p = loan.position(as_of)
    assert books["principal"] == by_borrower == p.outstanding_principal
    assert p.outstanding_principal == p.disbursed - p.principal_repaid - p.written_off >= 0
