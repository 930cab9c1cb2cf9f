"""Commitments, targets and progress as a user types them, on SQLite and PostgreSQL.

Every refusal is one line and leaves the chain head unchanged. Progress's paid and signed
figures equal the ledger's balances at every --as-of date, including for random sequences
of add / sign / pay / cancel (invariant 5 of DESIGN.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fisiq import accounts as chart
from fisiq import commitments as rules

Run = Callable[..., Any]


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def refused(result: Any, fragment: str) -> None:
    assert result.exit_code == 1, result.output
    assert fragment in result.output, result.output
    assert "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1, result.output


def head(fisiq: Run) -> tuple[int, str]:
    doc = json.loads(ok(fisiq("audit", "verify", "--json")).stdout)
    return doc["entries"], doc["head"]


def js(fisiq: Run, *args: str) -> Any:
    return json.loads(ok(fisiq(*args, "--json")).stdout)


def setup_parties(fisiq: Run) -> None:
    ok(fisiq("party", "add", "Ministère des Relations internationales et de la Francophonie", "--kind", "government",
             "--acronym", "MRIF"))
    ok(fisiq("party", "add", "Membres de l'AQOCI (investissement collectif)", "--kind", "member"))
    ok(fisiq("party", "add", "Fondation Solidarité", "--kind", "foundation"))
    ok(fisiq("party", "add", "Coopérative du Sud", "--kind", "borrower", "--country", "HT", "--women-led"))


def balances_by(fisiq: Run, as_of: str | None = None) -> dict[str, Decimal]:
    args = ["report", "trial-balance"] + (["--as-of", as_of] if as_of else [])
    return {r["account"]: Decimal(r["balance"]) for r in js(fisiq, *args)["rows"]}


def test_lifecycle_posts_entries_and_show_tells_the_history(fisiq: Run) -> None:
    setup_parties(fisiq)
    added = js(fisiq, "commitment", "add", "MRIF", "100000", "--stage", "in-principle", "--date", "2018-03-01")
    assert added == {"created": True, "commitment": 1, "stage": "in-principle", "entries": []}
    signed = js(fisiq, "commitment", "sign", "1", "--date", "2018-03-10", "--amount", "75000")
    assert signed["stage"] == "signed" and signed["entries"] == [1]
    ok(fisiq("commitment", "pay", "1", "25000", "--date", "2018-03-20", "--ref", "MRIF-1"))
    again = ok(fisiq("commitment", "pay", "1", "25000", "--date", "2018-03-20", "--ref", "MRIF-1"))
    assert "already recorded" in again.stdout
    paid = js(fisiq, "commitment", "pay", "1", "50000", "--date", "2018-03-31")
    assert paid["stage"] == "paid"
    tb = balances_by(fisiq)
    assert tb[chart.CASH] == Decimal("75000.00") and tb[chart.PAID_IN_CAPITAL] == Decimal("-75000.00")
    assert tb[chart.COMMITMENTS_RECEIVABLE] == 0 and tb[chart.COMMITMENTS_SUBSCRIBED] == 0
    shown = js(fisiq, "commitment", "show", "1")
    assert [(h["event"], h["amount"], h["entry"]) for h in shown["history"]] == [
        ("in-principle", "100000.00", None), ("signed", "75000.00", 1), ("payment", "25000.00", 2),
        ("payment", "50000.00", 3)]
    assert shown["history"][2]["postings"][0] == {"account": "Assets:Cash", "party": None, "amount": "25000.00",
                                                  "currency": "CAD"}
    assert "Equity:Paid-In-Capital" in ok(fisiq("commitment", "show", "1")).stdout
    listed = js(fisiq, "commitment", "list", "--stage", "paid")["commitments"]
    assert [(c["id"], c["paid"], c["party"]) for c in listed] == [
        (1, "75000.00", "Ministère des Relations internationales et de la Francophonie")]
    assert js(fisiq, "commitment", "list", "--as-of", "2018-03-05")["commitments"][0]["stage"] == "in-principle"


def test_refusals_write_nothing(fisiq: Run) -> None:
    setup_parties(fisiq)
    ok(fisiq("commitment", "add", "MRIF", "1000", "--stage", "prospect", "--date", "2018-03-01"))
    ok(fisiq("commitment", "add", "Fondation Solidarité", "500", "--stage", "signed", "--date", "2018-03-01"))
    ok(fisiq("commitment", "pay", "2", "500", "--date", "2018-03-02"))
    ok(fisiq("commitment", "add", "MRIF", "300", "--stage", "signed", "--date", "2018-03-05", "--instrument", "grant"))
    before = head(fisiq)
    for args, fragment in [
        (("commitment", "pay", "1", "10", "--date", "2018-03-02"), "only a prospect"),
        (("commitment", "pay", "3", "300.01", "--date", "2018-03-06"), "more than the signed, unpaid rest"),
        (("commitment", "pay", "2", "1", "--date", "2018-03-06"), "fully paid"),
        (("commitment", "sign", "3", "--date", "2018-03-06"), "already signed"),
        (("commitment", "pay", "3", "10", "--date", "2018-03-04"), "before commitment 3 was signed"),
        (("commitment", "cancel", "2", "--date", "2018-03-06", "--reason", "x"), "reverse its entry first"),
        (("commitment", "pay", "9", "10", "--date", "2018-03-06"), "there is no commitment 9"),
        (("commitment", "add", "Nobody", "10", "--stage", "signed", "--date", "2018-03-06"), "unknown party"),
        (("commitment", "add", "Coopérative du Sud", "10", "--stage", "signed", "--date", "2018-03-06"),
         "makes no commitments"),
        (("commitment", "add", "MRIF", "10", "--stage", "paid", "--date", "2018-03-06"), "unknown stage"),
        (("commitment", "add", "MRIF", "10", "--stage", "signed", "--date", "2018-03-06", "--instrument", "gift"),
         "unknown instrument"),
        (("commitment", "add", "MRIF", "10.001", "--stage", "signed", "--date", "2018-03-06"), "more decimals"),
        (("commitment", "add", "MRIF", "0", "--stage", "signed", "--date", "2018-03-06"), "more than zero"),
        (("commitment", "cancel", "3", "--date", "2018-03-06", "--reason", "a\u202eb"), "U+202E"),
        (("target", "set", "borrowers", "10", "--date", "2018-03-06"), "unknown category"),
    ]:
        refused(fisiq(*args), fragment)
        assert head(fisiq) == before, args
    # Reverse the payment, then the commitment can be cancelled: its rest is released.
    ok(fisiq("entry", "reverse", "2", "--date", "2018-03-07"))
    cancelled = js(fisiq, "commitment", "cancel", "2", "--date", "2018-03-08", "--reason", "paid by mistake")
    assert cancelled["stage"] == "cancelled" and len(cancelled["entries"]) == 1
    refused(fisiq("commitment", "cancel", "2", "--date", "2018-03-09", "--reason", "again"), "was cancelled")
    shown = js(fisiq, "commitment", "show", "2")
    assert shown["history"][1]["reversed_by"] == 4
    assert balances_by(fisiq)[chart.COMMITMENTS_RECEIVABLE] == Decimal("300.00")  # commitment 3 only


def test_a_negative_amount_is_fisiqs_refusal_not_an_unknown_option(fisiq: Run) -> None:
    ok(fisiq("party", "add", "Fondation Exemple", "--kind", "foundation"))
    ok(fisiq("commitment", "add", "Fondation Exemple", "100", "--stage", "signed", "--date", "2019-01-01"))
    before = head(fisiq)
    for args in (["commitment", "add", "Fondation Exemple", "-5", "--stage", "signed", "--date", "2019-01-02"],
                 ["commitment", "pay", "1", "-5", "--date", "2019-01-02"],
                 ["target", "set", "member", "-5", "--date", "2019-01-02"]):
        refused(fisiq(*args), "more than zero")
    assert head(fisiq) == before


def test_a_payment_reversed_later_is_not_recorded_again_before_the_reversal(fisiq: Run) -> None:
    """Reversed on 04-01, a payment of 03-02 still counts until then (in the books too): a
    payment recorded again on 03-02 would count twice in between (invariant 5: paid <= signed)."""
    setup_parties(fisiq)
    ok(fisiq("commitment", "add", "MRIF", "1000", "--stage", "signed", "--date", "2018-03-01"))
    ok(fisiq("commitment", "pay", "1", "1000", "--date", "2018-03-02"))
    ok(fisiq("entry", "reverse", "2", "--date", "2018-04-01"))
    before = head(fisiq)
    refused(fisiq("commitment", "pay", "1", "1000", "--date", "2018-03-02"),
            "2018-03-02 is before 2018-04-01, when an entry of commitment 1 was reversed; date it on or after 2018-04-01")
    assert head(fisiq) == before
    ok(fisiq("commitment", "pay", "1", "1000", "--date", "2018-04-01"))
    for day in ("2018-03-15", "2018-04-01", "2018-06-01"):
        [c] = js(fisiq, "commitment", "list", "--as-of", day)["commitments"]
        assert (c["paid"], c["unpaid"]) == ("1000.00", "0.00"), day
        assert balances_by(fisiq, day).get("Equity:Commitments:Receivable", Decimal(0)) == 0, day
    # Reversed on its own date, a payment never counted: recorded again on that date.
    ok(fisiq("commitment", "add", "MRIF", "500", "--stage", "signed", "--date", "2018-03-01"))
    ok(fisiq("commitment", "pay", "2", "500", "--date", "2018-05-02"))
    [entry] = [e["id"] for e in js(fisiq, "report", "journal")["entries"] if e["kind"] == "commitment-payment"][-1:]
    ok(fisiq("entry", "reverse", str(entry), "--date", "2018-05-02"))
    ok(fisiq("commitment", "pay", "2", "500", "--date", "2018-05-02"))


def test_a_signing_is_not_reversed_while_a_payment_of_it_counts(fisiq: Run) -> None:
    """Invariant 5 (paid <= signed) against a reversal in the middle: latest first."""
    setup_parties(fisiq)
    ok(fisiq("commitment", "add", "MRIF", "1000", "--stage", "signed", "--date", "2018-03-01"))
    ok(fisiq("commitment", "pay", "1", "400", "--date", "2018-03-02"))
    before = head(fisiq)
    refused(fisiq("entry", "reverse", "1", "--date", "2018-03-03"),
            "entry 1 is commitment 1's signing of 2018-03-01; reverse the commitment's later entries first, latest first: 2")
    refused(fisiq("entry", "reverse", "2", "--date", "2018-03-01"),
            "date its reversal on or after 2018-03-02 (the event's own date)")
    assert head(fisiq) == before
    ok(fisiq("entry", "reverse", "2", "--date", "2018-03-02"))
    [c] = js(fisiq, "commitment", "list")["commitments"]
    assert (c["signed"], c["paid"], c["unpaid"]) == ("1000.00", "0.00", "1000.00")
    ok(fisiq("entry", "reverse", "1", "--date", "2018-03-02"))
    assert balances_by(fisiq).get("Equity:Commitments:Receivable", Decimal(0)) == 0



def test_a_commitment_whose_entries_were_all_reversed_shows_as_void(fisiq: Run) -> None:
    """It used to vanish ("there is no commitment 1") although its entries are in the journal,
    and a payment on it was refused with "a new commitment starts as ...". Now it is shown,
    void, with its history, and it is recorded again from its signing."""
    setup_parties(fisiq)
    ok(fisiq("commitment", "add", "MRIF", "50000", "--stage", "signed", "--date", "2018-03-01"))
    ok(fisiq("entry", "reverse", "1", "--date", "2018-03-01"))
    shown = js(fisiq, "commitment", "show", "1")
    assert (shown["stage"], shown["signed"], shown["unpaid"]) == ("void", "0.00", "0.00")
    assert [(h["event"], h["entry"], h["reversed_by"]) for h in shown["history"]] == [
        ("signed", 1, 2), ("reversal", 2, None)]
    assert "void" in ok(fisiq("commitment", "show", "1")).stdout
    # Listed as void too (it was left out of every list), and in its party's commitments.
    assert [c["id"] for c in js(fisiq, "commitment", "list", "--stage", "void")["commitments"]] == [1]
    assert [c["stage"] for c in js(fisiq, "commitment", "list")["commitments"]] == ["void"]
    assert js(fisiq, "commitment", "list", "--stage", "signed")["commitments"] == []
    assert js(fisiq, "commitment", "list", "--as-of", "2018-02-28")["commitments"] == []  # not yet recorded
    assert [c["stage"] for c in js(fisiq, "party", "show", "MRIF")["commitments"]] == ["void"]
    before = head(fisiq)
    void = "commitment 1 is void: the entries it posted were reversed; record it again from its agreement or signing"
    refused(fisiq("commitment", "pay", "1", "100", "--date", "2018-04-01"), void)
    refused(fisiq("commitment", "sign", "1", "--date", "2018-04-01"), void)
    refused(fisiq("commitment", "show", "2"), "there is no commitment 2")
    assert head(fisiq) == before
    ok(fisiq("commitment", "sign", "1", "--date", "2018-04-01", "--amount", "40000"))
    shown = js(fisiq, "commitment", "show", "1")
    assert (shown["stage"], shown["signed"], shown["unpaid"]) == ("signed", "40000.00", "40000.00")
    assert balances_by(fisiq)["Equity:Commitments:Receivable"] == Decimal("40000.00")


def test_progress_equals_ledger_balances_at_every_date(fisiq: Run) -> None:
    setup_parties(fisiq)
    ok(fisiq("target", "set", "member", "1000000", "--date", "2018-01-01"))
    ok(fisiq("target", "set", "member", "1200000", "--date", "2018-06-01"))
    ok(fisiq("target", "set", "total", "7000000", "--date", "2018-01-01"))
    ok(fisiq("commitment", "add", "Membres de l'AQOCI (investissement collectif)", "465000", "--stage", "signed",
             "--date", "2018-03-31"))
    ok(fisiq("commitment", "add", "MRIF", "75000", "--stage", "prospect", "--date", "2018-02-01"))
    ok(fisiq("commitment", "sign", "2", "--date", "2018-03-15"))
    ok(fisiq("commitment", "pay", "2", "75000", "--date", "2018-03-31"))
    ok(fisiq("commitment", "add", "Fondation Solidarité", "20000", "--stage", "in-principle", "--date", "2018-04-10",
             "--instrument", "debt"))
    ok(fisiq("commitment", "pay", "1", "100000", "--date", "2018-07-01"))
    ok(fisiq("commitment", "cancel", "1", "--date", "2018-09-01", "--reason", "tour ended"))
    for as_of in ("2018-01-31", "2018-02-15", "2018-03-20", "2018-03-31", "2018-05-01", "2018-07-01", "2018-12-31"):
        doc = js(fisiq, "progress", "--as-of", as_of)
        tb = balances_by(fisiq, as_of)
        paid = sum((-tb.get(acc, Decimal(0)) for acc in rules.INSTRUMENTS.values()), Decimal(0))
        assert Decimal(doc["total"]["paid"]) == paid, as_of
        assert Decimal(doc["total"]["signed"]) - paid == tb.get(chart.COMMITMENTS_RECEIVABLE, Decimal(0)), as_of
        assert Decimal(doc["total"]["signed"]) == sum(Decimal(c["signed"]) for c in doc["categories"])
    at = {d: {c["category"]: c for c in js(fisiq, "progress", "--as-of", d)["categories"]}
          for d in ("2018-02-15", "2018-03-31", "2018-07-01", "2018-12-31")}
    assert at["2018-02-15"]["government"]["prospect"] == "75000.00"
    assert at["2018-03-31"]["government"]["paid"] == "75000.00"
    assert at["2018-03-31"]["member"] | {} == at["2018-03-31"]["member"]
    assert (at["2018-03-31"]["member"]["target"], at["2018-03-31"]["member"]["signed"],
            at["2018-03-31"]["member"]["share_signed"], at["2018-03-31"]["member"]["gap"]) == (
        "1000000.00", "465000.00", "46.5", "535000.00")
    assert at["2018-07-01"]["member"]["target"] == "1200000.00"
    assert (at["2018-07-01"]["member"]["paid"], at["2018-07-01"]["member"]["signed"]) == ("100000.00", "465000.00")
    assert at["2018-12-31"]["member"]["signed"] == "100000.00"  # the rest was cancelled
    assert at["2018-12-31"]["other"]["in_principle"] == "20000.00"
    full = js(fisiq, "progress", "--by-investor")
    assert full["total"]["target"] == "7000000.00"
    assert {i["party"] for i in full["investors"]} == {
        "Membres de l'AQOCI (investissement collectif)", "Ministère des Relations internationales et de la Francophonie",
        "Fondation Solidarité"}
    fr = ok(fisiq("progress", "--lang", "fr", "--as-of", "2018-03-31")).stdout
    assert "465 000,00 $" in fr and "█" in fr and "▓" in fr
    assert "1,000,000.00 $" in ok(fisiq("progress", "--lang", "en", "--as-of", "2018-03-31")).stdout
    history = js(fisiq, "target", "list")["targets"]
    assert [(t["category"], t["amount"]) for t in history] == [
        ("member", "1000000.00"), ("total", "7000000.00"), ("member", "1200000.00")]


ops = st.lists(
    st.tuples(st.sampled_from(["add", "sign", "pay", "cancel", "reverse"]), st.integers(0, 3), st.integers(1, 500_000),
              st.integers(0, 20), st.sampled_from(rules.INITIAL_STAGES)),
    min_size=1, max_size=14,
)


# A fresh ledger per example: a third of the profile's examples (13 by default, more when thorough).
@settings(max_examples=max(1, settings.default.max_examples // 3), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(steps=ops)
def test_random_sequences_keep_invariant_5_and_progress_equals_balances(ledgers: Any, steps: list[Any]) -> None:
    from contextlib import suppress

    from sqlalchemy import select

    from fisiq import commitments_db, db, ledger, parties_db
    from fisiq.commitments_db import Op, OpsRefused
    from fisiq.errors import LedgerError
    from fisiq.parties import make_party

    engine = ledgers.engine()
    with db.write_transaction(engine) as conn:
        parties_db.add_parties(conn, [make_party("Alpha", "member"), make_party("Beta", "government")])
    day = date(2018, 1, 1)
    dates = []
    for action, which, cents, gap, stage in steps:
        day += timedelta(days=gap)
        dates.append(day)
        amount = Decimal(cents).scaleb(-2)
        if action == "reverse":  # `fisiq entry reverse` on one of the commitments' entries
            with db.read_transaction(engine) as conn:
                posted = list(conn.execute(select(commitments_db.EVENT.c.entry_id).where(
                    commitments_db.EVENT.c.entry_id.is_not(None)).order_by(commitments_db.EVENT.c.id)).scalars())
            if posted:
                with suppress(LedgerError):  # refused: not the latest of its commitment, or reversed
                    ledger.reverse_entry(engine, posted[which % len(posted)], day)
            continue
        if action == "add":
            op = Op("add", day, party=["Alpha", "Beta"][which % 2], stage=stage, amount=amount)
        else:
            op = Op(action, day, commitment=which + 1, amount=amount if action != "sign" else None,
                    reason="r" if action == "cancel" else None)
        try:
            with db.write_transaction(engine) as conn:
                commitments_db.apply_ops(conn, [op])
        except OpsRefused:
            pass
    with db.read_transaction(engine) as conn:
        for view in commitments_db.list_commitments(conn):
            assert view.state.holds(), view
        for as_of in [None, *dates]:
            assert all(v.state.holds() for v in commitments_db.list_commitments(conn, as_of=as_of)), as_of
            p = commitments_db.campaign_progress(conn, as_of)
            tb = {b.account: b.amount for b in ledger.balances(conn, as_of=as_of)}
            paid = -sum((tb.get(a, Decimal(0)) for a in rules.INSTRUMENTS.values()), Decimal(0))
            assert p.total.paid == paid
            assert p.total.signed_unpaid == tb.get(chart.COMMITMENTS_RECEIVABLE, Decimal(0))
            assert p.total.signed_unpaid >= 0 and p.total.paid >= 0
            assert sum((v.state.paid for v in commitments_db.list_commitments(conn, as_of=as_of)), Decimal(0)) == paid
        assert ledger.verify(conn) is None
        assert commitments_db.disagreement(conn) is None  # what `fisiq audit verify` checks of commitments



def test_a_reference_whose_entry_was_reversed_is_refused_not_taken_as_recorded(fisiq: Run) -> None:
    """Found by a reviewer: the same command again answered "already recorded" with exit 0,
    although the event no longer counts; loans refused it already."""
    setup_parties(fisiq)
    ok(fisiq("commitment", "add", "MRIF", "10000", "--stage", "signed", "--date", "2018-02-01", "--ref", "al"))
    ok(fisiq("commitment", "pay", "1", "4000", "--date", "2018-03-01", "--ref", "bank-1"))
    ok(fisiq("entry", "reverse", "2", "--date", "2018-03-01"))
    before = head(fisiq)
    refused(fisiq("commitment", "pay", "1", "4000", "--date", "2018-03-01", "--ref", "bank-1"),
            "reference 'bank-1' was entry 2, reversed by entry 3; record the correction under a new reference")
    ok(fisiq("entry", "reverse", "1", "--date", "2018-03-01"))
    refused(fisiq("commitment", "add", "MRIF", "10000", "--stage", "signed", "--date", "2018-02-01", "--ref", "al"),
            "reference 'al' was entry 1, reversed by entry 4; record the correction under a new reference")
    assert head(fisiq)[0] == before[0] + 1  # the reversal of entry 1, nothing else
    refused(fisiq("commitment", "pay", "1", "4000", "--date", "2018-03-01", "--ref", "bank-1-bis"),
            "commitment 1 is void")  # a new reference is no longer the question
    ok(fisiq("commitment", "sign", "1", "--amount", "10000", "--date", "2018-03-01", "--ref", "al-bis"))
    assert js(fisiq, "commitment", "show", "1")["stage"] == "signed"


def test_audit_verify_finds_a_commitment_apart_from_its_entries(fisiq: Run, target: str) -> None:
    """Invariant 5 against the books: a payment written beside the commands (raw SQL, no entry)
    is caught by `fisiq audit verify`, which names the commitment and what differs."""
    from fisiq import commitments_db, db

    setup_parties(fisiq)
    ok(fisiq("commitment", "add", "MRIF", "1000", "--stage", "signed", "--date", "2018-03-01"))
    ok(fisiq("commitment", "pay", "1", "400", "--date", "2018-03-02"))
    ok(fisiq("commitment", "add", "Fondation Solidarité", "500", "--stage", "signed", "--date", "2018-03-01",
             "--instrument", "grant"))
    ok(fisiq("entry", "reverse", "3", "--date", "2018-03-01"))  # commitment 2: void, and still agrees
    assert "every loan and commitment agrees with its entries" in ok(fisiq("audit", "verify")).output
    engine = db.open_ledger(target)

    def forge_payment(minor: int) -> None:
        with db.write_transaction(engine) as conn:
            conn.execute(commitments_db.EVENT.insert(), {
                "commitment_id": 1, "kind": "payment", "date": date(2018, 3, 5), "amount": minor,
                "recorded_at": db.utc_now(), "recorded_by": "forger",
            })

    try:
        forge_payment(10000)
        failed = fisiq("audit", "verify")
        assert failed.exit_code == 1
        assert failed.output.strip() == (
            "FAILED at commitment 1: its balance on Equity:Commitments:Receivable is 500.00 CAD by its events "
            "but 600.00 CAD in its entries (link commitment:1)")
        forge_payment(60000)
    finally:
        engine.dispose()
    failed = fisiq("audit", "verify")
    assert failed.exit_code == 1
    assert failed.output.strip() == ("FAILED at commitment 1: its events break invariant 5: paid 1100.00, "
                                     "signed 1000.00, cancelled 0.00 CAD")
    doc = json.loads(fisiq("audit", "verify", "--json").output)
    assert doc["ok"] is False and doc["problem"]["commitment"] == 1 and doc["problem"]["loan"] is None


def test_audit_verify_finds_a_commitment_entry_none_of_its_events_posted(fisiq: Run, target: str) -> None:
    """An entry linked to a commitment that moves none of the accounts its figures sum (here
    cash against interest income) would sit in its history unexplained."""
    from fisiq import db, ledger
    from fisiq.entries import EntryDraft, Posting

    setup_parties(fisiq)
    ok(fisiq("commitment", "add", "MRIF", "1000", "--stage", "signed", "--date", "2018-03-01"))
    engine = db.open_ledger(target)
    try:
        stray = ledger.record_entry(engine, EntryDraft(date(2018, 3, 4), "beside the commands", (
            Posting(chart.CASH, Decimal("10.00")), Posting("Income:Interest:Loans", Decimal("-10.00"))),
            link="commitment:1")).entry.id
    finally:
        engine.dispose()
    failed = fisiq("audit", "verify")
    assert failed.exit_code == 1
    assert failed.output.strip() == (f"FAILED at commitment 1: entry {stray} is linked commitment:1, "
                                     "but none of its events posted it")


def test_audit_verify_names_a_commitment_event_it_cannot_read(fisiq: Run, target: str) -> None:
    from fisiq import commitments_db, db

    setup_parties(fisiq)
    ok(fisiq("commitment", "add", "MRIF", "1000", "--stage", "signed", "--date", "2018-03-01"))
    engine = db.open_ledger(target)
    try:
        with db.write_transaction(engine) as conn:
            conn.execute(commitments_db.EVENT.insert(), {
                "commitment_id": 1, "kind": "paid", "date": date(2018, 3, 5), "amount": 100,
                "recorded_at": db.utc_now(), "recorded_by": "forger",
            })
    finally:
        engine.dispose()
    failed = fisiq("audit", "verify")
    assert failed.exit_code == 1 and "Traceback" not in failed.output
    assert failed.output.strip() == ("FAILED at commitment 1: its events no longer make a commitment "
                                     "(unknown commitment event 'paid')")


def test_records_without_entries_are_refused_inside_a_closed_period(fisiq: Run) -> None:
    """A prospect, an agreement or a loan approval has no entry, but the closed period's
    campaign and board figures count it: dated inside the period, it is refused like an entry."""
    setup_parties(fisiq)
    ok(fisiq("commitment", "add", "MRIF", "1000", "--stage", "prospect", "--date", "2018-02-01"))
    ok(fisiq("period", "close", "2018-03-31"))
    before = (head(fisiq), js(fisiq, "commitment", "list"), js(fisiq, "progress", "--as-of", "2018-03-31"))
    closed = "is inside a closed period (closed through 2018-03-31)"
    refused(fisiq("commitment", "add", "MRIF", "500", "--stage", "prospect", "--date", "2018-03-15"),
            f"2018-03-15 {closed}; date it after 2018-03-31")
    refused(fisiq("commitment", "agree", "1", "--date", "2018-03-20"), f"2018-03-20 {closed}")
    refused(fisiq("loan", "add", "Coopérative du Sud", "1200", "--rate", "12", "--term", "3", "--first-due",
                  "2018-05-01", "--date", "2018-03-31"), f"the approval date 2018-03-31 {closed}")
    assert (head(fisiq), js(fisiq, "commitment", "list"), js(fisiq, "progress", "--as-of", "2018-03-31")) == before
    ok(fisiq("commitment", "agree", "1", "--date", "2018-04-01"))
    ok(fisiq("loan", "add", "Coopérative du Sud", "1200", "--rate", "12", "--term", "3", "--first-due", "2018-05-01",
             "--date", "2018-04-01", "--ref", "L-1"))
    ok(fisiq("period", "close", "2018-04-30"))
    again = ok(fisiq("loan", "add", "Coopérative du Sud", "1200", "--rate", "12", "--term", "3", "--first-due",
                     "2018-05-01", "--date", "2018-04-01", "--ref", "L-1"))
    assert "already" in again.stdout  # the same reference again is still a no-op, not a refusal


def test_the_advice_to_reverse_on_the_event_date_is_not_given_for_a_closed_date(fisiq: Run) -> None:
    setup_parties(fisiq)
    ok(fisiq("commitment", "add", "MRIF", "1000", "--stage", "signed", "--date", "2018-03-01"))
    ok(fisiq("commitment", "pay", "1", "400", "--date", "2018-03-02"))
    ok(fisiq("entry", "reverse", "2", "--date", "2018-04-01"))  # the payment counted until 04-01
    open_books = fisiq("commitment", "pay", "1", "400", "--date", "2018-03-20")
    refused(open_books, "date it on or after 2018-04-01 (or reverse on the event's own date")
    ok(fisiq("period", "close", "2018-04-15"))
    closed = fisiq("commitment", "pay", "1", "400", "--date", "2018-03-20")
    refused(closed, "date it on or after 2018-04-01")
    assert "own date" not in closed.output


def test_commitment_history_reads_in_date_order(fisiq: Run) -> None:
    """A reversal shows where it happened, between the events before and after it, not at the end."""
    setup_parties(fisiq)
    ok(fisiq("commitment", "add", "MRIF", "1000", "--stage", "signed", "--date", "2018-03-01"))
    ok(fisiq("commitment", "pay", "1", "400", "--date", "2018-03-02"))
    ok(fisiq("entry", "reverse", "2", "--date", "2018-03-02"))  # a mistake, undone on its own date
    ok(fisiq("commitment", "pay", "1", "300", "--date", "2018-03-10"))
    history = js(fisiq, "commitment", "show", "1")["history"]
    assert [(h["event"], h["date"], h["entry"]) for h in history] == [
        ("signed", "2018-03-01", 1), ("payment", "2018-03-02", 2), ("reversal", "2018-03-02", 3),
        ("payment", "2018-03-10", 4)]


def test_a_target_set_back_on_the_same_day_is_recorded(fisiq: Run) -> None:
    """Setting 1000, 2000, then 1000 again on one day said 'already recorded; nothing recorded'
    and left 2000 in force: the check looked for any earlier 1000, not the target in force."""
    day = "2019-06-01"
    assert ok(fisiq("target", "set", "member", "1000", "--date", day)).stdout == \
        f"Target for member set to 1000.00 CAD from {day}.\n"
    ok(fisiq("target", "set", "member", "2000", "--date", day))
    assert "set to 1000.00 CAD" in ok(fisiq("target", "set", "member", "1000", "--date", day)).stdout
    assert js(fisiq, "progress", "--as-of", day)["categories"][0]["target"] == "1000.00"
    again = ok(fisiq("target", "set", "member", "1000", "--date", day)).stdout
    assert again == f"That target for member is already recorded on {day}; nothing recorded.\n"
    history = js(fisiq, "target", "list")["targets"]
    assert [t["amount"] for t in history if t["category"] == "member"] == ["1000.00", "2000.00", "1000.00"]


def test_a_target_inside_a_closed_period_is_refused(fisiq: Run) -> None:
    """docs/cli.md (Periods): records without an entry that a closed period's reports count are
    refused there; a target changed the closed period's campaign figures."""
    ok(fisiq("target", "set", "member", "1000", "--date", "2019-06-01"))
    ok(fisiq("period", "close", "2019-12-31"))
    refused(fisiq("target", "set", "member", "3000", "--date", "2019-06-01"), "2019-06-01 is inside a closed period")
    assert js(fisiq, "progress", "--as-of", "2019-06-01")["categories"][0]["target"] == "1000.00"
    ok(fisiq("target", "set", "member", "1000", "--date", "2019-06-01"))  # the same again: nothing to refuse
    ok(fisiq("target", "set", "member", "3000", "--date", "2020-01-01"))


def test_a_reused_event_ref_names_the_event_in_words(fisiq: Run) -> None:
    """'reference 'gc1s' is already the signed of commitment 1' read as a typo."""
    setup_parties(fisiq)
    ok(fisiq("commitment", "add", "MRIF", "1000", "--stage", "prospect", "--date", "2018-03-01"))
    ok(fisiq("commitment", "sign", "1", "--date", "2018-03-05", "--ref", "gc1s"))
    refused(fisiq("commitment", "sign", "1", "--date", "2018-03-06", "--ref", "gc1s"),
            "reference 'gc1s' is already the signing of commitment 1 with different content")
    refused(fisiq("commitment", "pay", "1", "10", "--date", "2018-03-07", "--ref", "gc1s"),
            "reference 'gc1s' is already the signing of commitment 1 with different content")
