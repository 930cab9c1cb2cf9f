"""Exports for auditors: CSV safe in a spreadsheet, jsonl restored byte for byte, checkpoints."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
from sqlalchemy import Engine, insert
from typer.testing import CliRunner

from fisiq import db
from fisiq import ledger as books
from fisiq.accounts import STANDARD_CHART
from fisiq.cli.main import app
from fisiq.db import open_ledger, utc_now
from fisiq.entries import EntryDraft, Posting
from fisiq.export import BOOK_KINDS, neutralize, parse_checkpoint, read_checkpoint, register_marks
from fisiq.names import name_key, skeleton
from fisiq.registers import REGISTERS

runner = CliRunner()


def cli(target: str, *args: str) -> Any:
    return runner.invoke(app, ["--db", target, *args])


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def add_party(engine: Engine, name: str, kind: str = "investor") -> None:
    """A party as stored (written directly, so names a person could not type are possible)."""
    with db.write_transaction(engine) as conn:
        conn.execute(insert(books.PARTY), {
            "name": name, "name_key": name_key(name) or name, "skeleton": skeleton(name) or name, "kind": kind,
            "recorded_at": utc_now(), "recorded_by": "test",
        })


def record(engine: Engine, day: str, memo: str, *legs: tuple[str, str, str, str | None], ref: str | None = None) -> int:
    postings = tuple(Posting(a, Decimal(amount), cur, party) for a, amount, cur, party in legs)
    return books.record_entry(engine, EntryDraft(date.fromisoformat(day), memo, postings, ref=ref)).entry.id


def small_ledger_at(target: str) -> str:
    """`target` with `small_ledger` written into it."""
    engine = open_ledger(target)
    try:
        small_ledger(engine)
    finally:
        engine.dispose()
    return target


def small_ledger(engine: Engine) -> None:
    add_party(engine, "Ministère des Relations internationales et de la Francophonie", "government")
    add_party(engine, "Coopérative d'Épargne, Jacmel: Femmes", "borrower")
    record(engine, "2018-03-31", "MRIF: premier investissement",
           ("Assets:Cash", "75000.00", "CAD", None),
           ("Equity:Paid-In-Capital", "-75000.00", "CAD", "Ministère des Relations internationales et de la Francophonie"),
           ref="MRIF-1")
    record(engine, "2018-06-01", "Prêt \"Jacmel\" ; 1er décaissement",
           ("Assets:Loans:Principal", "1500", "XOF", "Coopérative d'Épargne, Jacmel: Femmes"),
           ("Assets:Cash", "-1500", "XOF", None),
           ("Assets:Loans:Principal", "20.00", "USD", "Coopérative d'Épargne, Jacmel: Femmes"),
           ("Assets:Cash", "-20.00", "USD", None))


def test_neutralize_rule() -> None:
    for bad in ("=1+2", "+33 1", "-12", "@SUM(A1)", "\tx", "\rx"):
        assert neutralize(bad) == "'" + bad
    for good in ("Ministère", "12", "", "'quoted", " =spaced"):
        assert neutralize(good) == good
    assert neutralize(None) == ""


def test_csv_neutralizes_text_cells_and_keeps_amounts_numbers(ledgers: Any, tmp_path: Path) -> None:
    target = ledgers.target()
    engine = open_ledger(target)
    try:
        for name in ("=HYPERLINK(\"http://x\")", "+Plus", "-Moins", "@Arobase"):
            add_party(engine, name)
        memos = ["=1+2", "+33", "-minus", "@cmd", "\tTab", "\rReturn", "plain"]
        for i, memo in enumerate(memos):
            party = ["=HYPERLINK(\"http://x\")", "+Plus", "-Moins", "@Arobase", None, None, None][i]
            record(engine, "2018-05-01", memo, ("Expenses:Operations", "12.50", "CAD", party),
                   ("Assets:Cash", "-12.50", "CAD", None), ref=f"=ref-{i}")
    finally:
        engine.dispose()
    out = tmp_path / "x.csv"
    ok(cli(target, "export", "--format", "csv", "-o", str(out)))
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body, last = rows[0], rows[1:-1], rows[-1]
    assert header[:9] == ["entry", "line", "date", "kind", "account", "party", "amount", "currency", "memo"]
    col = {name: i for i, name in enumerate(header)}
    assert len(body) == 2 * len(memos)
    for row in body:
        for name in ("kind", "account", "party", "memo", "ref", "link"):
            assert not row[col[name]].startswith(("=", "+", "-", "@", "\t", "\r")), row
        Decimal(row[col["amount"]])  # a plain number
        assert row[col["amount"]] in ("12.50", "-12.50")
    assert [row[col["memo"]] for row in body[::2]] == ["'=1+2", "'+33", "'-minus", "'@cmd", "'\tTab", "'\rReturn", "plain"]
    assert body[0][col["party"]] == "'=HYPERLINK(\"http://x\")"
    assert body[0][col["ref"]] == "'=ref-0"
    assert parse_checkpoint(last[0]) is not None and len(last) == 1


def test_period_close_is_a_csv_row_without_amount(fisiq: Any, tmp_path: Path, target: str) -> None:
    ok(fisiq("entry", "add", "--date", "2018-03-01", "-m", "ops", "-p", "Expenses:Operations 1", "-p", "Assets:Cash"))
    ok(fisiq("period", "close", "2018-03-31"))
    out = tmp_path / "x.csv"
    ok(fisiq("export", "-f", "csv", "-o", str(out)))
    rows = list(csv.reader(out.open(encoding="utf-8", newline="")))
    assert rows[3][:8] == ["2", "", "2018-03-31", "period-close", "", "", "", ""]
    assert read_checkpoint(str(out)).entries == 2


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "beancount", "ledger"])
def test_every_format_ends_with_the_chain_head(ledgers: Any, tmp_path: Path, fmt: str) -> None:
    target = ledgers.target()
    engine = open_ledger(target)
    try:
        small_ledger(engine)
        with db.read_transaction(engine) as conn:
            head = books.chain_head(conn)
    finally:
        engine.dispose()
    out = tmp_path / f"x.{fmt}"
    result = ok(cli(target, "export", "--format", fmt, "-o", str(out)))
    assert "Exported 2 entries (6 postings)" in result.stdout
    mark = read_checkpoint(str(out))
    assert mark.chain() == head
    assert (mark.registers is not None) == (fmt == "jsonl")  # only a jsonl export carries the registers
    ok(cli(target, "audit", "verify", "--checkpoint", str(out)))


def test_date_range_and_usage_errors(fisiq: Any, tmp_path: Path) -> None:
    for day in ("2018-01-10", "2018-02-10", "2018-03-10"):
        ok(fisiq("entry", "add", "--date", day, "-m", f"op {day}", "-p", "Expenses:Operations 1", "-p", "Assets:Cash"))
    out = tmp_path / "feb.jsonl"
    ok(fisiq("export", "-f", "jsonl", "--from", "2018-02-01", "--to", "2018-02-28", "-o", str(out)))
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [d["entry"]["date"] for d in lines if "entry" in d] == ["2018-02-10"]
    assert lines[0]["fisiq"]["from"] == "2018-02-01"
    assert lines[-1] == {"checkpoint": {"entries": 3, "head": lines[-1]["checkpoint"]["head"]}}
    bad = fisiq("export", "-f", "xlsx", "-o", str(out))
    assert bad.exit_code == 1 and "--format" in bad.output
    assert fisiq("export", "-f", "csv", "-o", str(out), "--from", "2018-03-01", "--to", "2018-01-01").exit_code == 1


def test_jsonl_restore_is_byte_identical(ledgers: Any, tmp_path: Path) -> None:
    source = ledgers.target()
    engine = open_ledger(source)
    try:
        small_ledger(engine)
        books.reverse_entry(engine, 2, date(2018, 7, 1), "recorded twice")
        books.close_period(engine, date(2018, 12, 31))
        record(engine, "2019-01-15", "after the close", ("Expenses:Operations", "3.00", "CAD", None),
               ("Assets:Cash", "-3.00", "CAD", None))
    finally:
        engine.dispose()
    first = tmp_path / "first.jsonl"
    ok(cli(source, "export", "-f", "jsonl", "-o", str(first)))
    copy = ledgers.target()
    result = ok(cli(copy, "restore", str(first)))
    assert "Restored 5 entries" in result.stdout and "Note" not in result.stdout
    second = tmp_path / "second.jsonl"
    ok(cli(copy, "export", "-f", "jsonl", "-o", str(second)))
    assert first.read_bytes() == second.read_bytes()
    heads = [json.loads(ok(cli(t, "audit", "verify", "--json")).stdout)["head"] for t in (source, copy)]
    assert heads[0] == heads[1]
    shown = [json.loads(ok(cli(t, "entry", "show", "3", "--json")).stdout) for t in (source, copy)]
    assert shown[0] == shown[1] and shown[0]["reverses"] == 2
    # A non-empty ledger is refused, and nothing is written.
    again = cli(copy, "restore", str(first))
    assert again.exit_code == 1 and "already has 5 entries" in again.output



def registers_ledger(target: str) -> None:
    """A ledger that uses every register: commitments (one paid, one in the pipeline, one
    signed as debt then cancelled), a target, a setting, two loans (one disbursed and repaid, its repayment reversed; one
    cancelled). Loan events: 1 disbursed, 2 interest, 3 repaid (reversed), 4 cancelled."""
    ok(cli(target, "party", "add", "MRIF", "--kind", "government"))
    ok(cli(target, "party", "add", "Coop Jacmel", "--kind", "borrower"))
    ok(cli(target, "party", "add", "Fondation Test", "--kind", "foundation"))
    ok(cli(target, "commitment", "add", "MRIF", "1000", "--stage", "signed", "--date", "2018-03-01"))
    ok(cli(target, "commitment", "pay", "1", "400", "--date", "2018-03-02"))
    ok(cli(target, "commitment", "add", "MRIF", "500", "--stage", "prospect", "--date", "2018-03-05"))
    ok(cli(target, "target", "set", "total", "465000", "--date", "2018-01-01"))
    ok(cli(target, "config", "set", "fiscal_year_end", "12-31"))
    ok(cli(target, "entry", "add", "--date", "2018-01-05", "-m", "seed", "-p", "Assets:Cash 200000 CAD",
           "-p", "Equity:Paid-In-Capital"))
    ok(cli(target, "loan", "add", "Coop Jacmel", "10000", "--rate", "6", "--term", "12", "--first-due", "2018-05-01",
           "--date", "2018-03-10"))
    ok(cli(target, "loan", "disburse", "1", "--date", "2018-04-01"))
    ok(cli(target, "loan", "repay", "1", "900", "--date", "2018-05-01"))
    ok(cli(target, "loan", "add", "Coop Jacmel", "5000", "--rate", "5", "--term", "6", "--first-due", "2018-06-01",
           "--date", "2018-03-10"))
    ok(cli(target, "entry", "reverse", "6", "--date", "2018-05-02"))
    ok(cli(target, "loan", "cancel", "2", "--date", "2018-05-03", "--reason", "withdrawn"))
    ok(cli(target, "commitment", "add", "MRIF", "300", "--stage", "signed", "--date", "2018-05-04",
           "--instrument", "debt"))
    ok(cli(target, "commitment", "cancel", "3", "--date", "2018-05-05", "--reason", "withdrawn"))


def test_restore_brings_back_loans_commitments_targets_and_settings(ledgers: Any, tmp_path: Path) -> None:
    """A restored ledger carries on: its loans and commitments show as before, and the next
    ones take new ids instead of joining the restored entries (which broke `audit verify`)."""
    source = ledgers.target()
    registers_ledger(source)
    first = tmp_path / "first.jsonl"
    ok(cli(source, "export", "-f", "jsonl", "-o", str(first)))
    copy = ledgers.target()
    out = ok(cli(copy, "restore", str(first))).stdout
    assert "Restored 9 entries" in out and "registers: 2 loans, 3 commitments, 1 target, 1 setting" in out
    second = tmp_path / "second.jsonl"
    ok(cli(copy, "export", "-f", "jsonl", "-o", str(second)))
    assert first.read_bytes() == second.read_bytes()
    for args in (("loan", "show", "1", "--json"), ("loan", "list", "--json"), ("commitment", "list", "--json"),
                 ("commitment", "show", "1", "--json"), ("target", "list", "--json"), ("config", "show", "--json"),
                 ("progress", "--json", "--as-of", "2018-12-31")):
        shown = [json.loads(ok(cli(t, *args)).stdout) for t in (source, copy)]
        assert shown[0] == shown[1], args
    for t in (source, copy):
        ok(cli(t, "loan", "add", "Coop Jacmel", "700", "--rate", "5", "--term", "6", "--first-due", "2018-09-01",
               "--date", "2018-08-01"))
        ok(cli(t, "loan", "disburse", "3", "--date", "2018-08-02"))
        ok(cli(t, "commitment", "add", "MRIF", "70", "--stage", "signed", "--date", "2018-08-03"))
        ok(cli(t, "commitment", "pay", "4", "70", "--date", "2018-08-04"))
        assert json.loads(ok(cli(t, "audit", "verify", "--json")).stdout)["ok"] is True
    shown = [json.loads(ok(cli(t, "loan", "show", "3", "--json")).stdout) for t in (source, copy)]
    assert shown[0]["position"]["outstanding_principal"] == shown[1]["position"]["outstanding_principal"] == "700.00"


def _rewrite(path: Path, dest: Path, change: Any, *, redigest: bool = True) -> Path:
    """`path` with each line's JSON passed through `change` (None drops the line). With
    `redigest`, as a careful forger would, the checkpoint's register digest is made again
    from the changed lines: what is left to catch them is the checks of their meaning."""
    docs = [d for d in (change(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines())
            if d is not None]
    kinds = {*BOOK_KINDS, *(reg.kind for reg in REGISTERS)}
    for doc in docs:
        if redigest and "checkpoint" in doc and "registers" in doc["checkpoint"]:
            marks = register_marks([(k, v) for d in docs for k, v in d.items() if k in kinds])
            doc["checkpoint"]["registers"] = {kind: [rows, digest] for kind, rows, digest in marks}
    dest.write_text("".join(json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n" for d in docs),
                    encoding="utf-8")
    return dest


def _one(kind: str, number: int, edit: Any) -> Any:
    """A change of the line of `kind` with id `number` (or the number-th such line, from 1)."""
    seen = {"n": 0}

    def change(doc: dict[str, Any]) -> dict[str, Any] | None:
        if kind in doc:
            seen["n"] += 1
            if doc[kind].get("id", seen["n"]) == number:
                return edit(doc)
        return doc
    return change


def test_restore_refuses_registers_that_do_not_hold(ledgers: Any, tmp_path: Path) -> None:
    """Register lines are not covered by the hashes: each is checked on its own, and every loan
    and commitment against its entries, before anything is committed."""
    source = ledgers.target()
    registers_ledger(source)
    full = tmp_path / "full.jsonl"
    ok(cli(source, "export", "-f", "jsonl", "-o", str(full)))

    def field(kind: str, number: int, name: str, value: object) -> Any:
        return _one(kind, number, lambda d: {kind: {**d[kind], name: value}})

    def drop(kind: str, number: int) -> Any:
        return _one(kind, number, lambda d: None)

    def first_setting_before_entries() -> Any:
        lines: list[dict[str, Any]] = []

        def change(doc: dict[str, Any]) -> dict[str, Any] | None:
            if "party" in doc and not any("party" in d for d in lines):
                lines.append(doc)
                return {"setting": {"key": "fiscal_year_end", "value": "12-31", "recorded_at": "x", "recorded_by": "y"}}
            return doc
        return change
    cases = {
        "forged interest": (field("loan_event", 2, "amount", "60.00"), "loan 1: its interest"),
        "forged payment": (field("commitment_event", 2, "amount", "450.00"), "commitment 1: its balance"),
        "event of a missing loan": (drop("loan", 1), "loan_event 1 belongs to loan 1, which the file does not hold"),
        "event pointing elsewhere": (field("loan_event", 1, "entry_id", 1), "points at entry 1, which is linked commitment:1"),
        "unknown borrower": (field("loan", 2, "borrower", "Nobody"), "'Nobody' is not among the file's parties"),
        "bad rate": (field("loan", 2, "annual_rate", "abc"), "loan 2"),
        "loan ids out of order": (field("loan", 2, "id", 1), "loan 1 comes after loan 1"),
        "commitment entry missing": (drop("commitment", 1), "belongs to commitment 1"),
        "amount as a number": (field("target", 1, "amount", 465000), "must be a decimal string"),
        "unknown setting": (field("setting", 1, "key", "colour"), "unknown setting"),
        "unknown field": (field("loan", 1, "colour", "red"), "unknown ['colour']"),
        "unknown entry field": (_one("entry", 2, lambda d: {"entry": {**d["entry"], "colour": "red"}}),
                                "entry fields ['colour'] are unknown"),
        "event pointing at an unlinked entry": (field("loan_event", 1, "entry_id", 3),
                                                "points at entry 3, which is not linked, not loan:1"),
        "entry beyond the file": (field("loan_event", 1, "entry_id", 99), "beyond the file's 9 entries"),
        "unknown event kind": (field("loan_event", 1, "kind", "gift"), "is of kind 'gift'"),
        "details not an object": (field("loan_event", 2, "details", "[1]"), "details are not a JSON object"),
        "interest without its installment": (field("loan_event", 2, "details", "{}"), "names its installment"),
        "register before the entries": (first_setting_before_entries(), "party lines must come before setting lines"),
        # Event details the commands read back, which no entry total would show (found by a review)
        "edited repayment split": (field("loan_event", 3, "details", '{"interest": "0.04", "principal": "899.96"}'),
                                   "is split 0.04 interest, 899.96 principal; the schedule gives 50.00, 850.00"),
        "installment beyond the schedule": (field("loan_event", 2, "details", '{"installment": 99}'),
                                            "is not the interest of an installment due"),
        "cancellation before approval": (field("loan_event", 4, "date", "2018-03-01"), "is before its approval on 2018-03-10"),
        "cancellation with an amount": (field("loan_event", 4, "amount", "5.00"), "has an amount"),
        "cancellation of a paid-out loan": (field("loan_event", 4, "loan_id", 1),
                                            "breaks the rules: cannot cancel the loan on 2018-05-03: it was disbursed"),
        "investor as borrower": (field("loan", 2, "borrower", "MRIF"), "borrower is a government, not a borrower"),
        "reference given twice": (field("loan_event", 1, "ref", "loan-1-interest-1"), "is given twice"),
        "details not JSON": (field("loan_event", 2, "details", "{oops"), "details are not a JSON object"),
        "term of zero": (field("loan", 2, "term", 0), "'term' must be a whole number from 1"),
        "event moved off its entry's date": (field("loan_event", 1, "date", "2018-04-10"),
                                             "its event 1 is dated 2018-04-10, its entry 4 2018-04-01"),
        "commitment event moved": (field("commitment_event", 2, "date", "2018-03-20"),
                                   "its event 2 is dated 2018-03-20, its entry 2 2018-03-02"),
        # Settings as the readers parse them; commitment events replayed (found by a review)
        "setting as typed": (field("setting", 1, "value", "12-31 "),
                             "setting fiscal_year_end holds '12-31 '; fisiq stores that value as '12-31'"),
        "provision rates as typed": (_one("setting", 1, lambda d: {"setting": {
            **d["setting"], "key": "loan.provision_rates", "value": "0:1,1:5,31:25,91:50,181:100"}}),
            """fisiq stores that value as '[[0, "0.01"], [1, "0.05"]"""),
        "signed commitment cancelled as a pipeline": (_one("commitment_event", 3, lambda d: {"commitment_event": {
            **d["commitment_event"], "commitment_id": 1, "kind": "cancelled", "amount": None, "reason": "x"}}),
            "its cancelled event 3 of 2018-03-05 releases nothing; the signed, unpaid rest was 600.00"),
        "payment without its entry": (field("commitment_event", 2, "entry_id", None),
                                      "its payment event 2 of 2018-03-02 has no entry"),
        "commitment given to another investor": (field("commitment", 1, "party", "Fondation Test"),
                                                 "1000.00 CAD for Fondation Test (equity), but its entry 1"),
        "negative prospect": (field("commitment_event", 3, "amount", "-500.00"),
                              "breaks the rules: the amount must be more than zero"),
        "prospect after the signing": (field("commitment_event", 3, "commitment_id", 1),
                                       "its prospect event 3 of 2018-03-05 breaks the rules: commitment 1 is already"),
        "event reference not its entry's": (field("commitment_event", 1, "ref", "other-ref"),
                                            "commitment 1: its event 1 has the reference 'other-ref', its entry 1 None"),
        "loan event reference not its entry's": (field("loan_event", 1, "ref", "D-1"),
                                                 "loan 1: its event 1 has the reference 'D-1', its entry"),
        # Party lines as `party add` records them (found by the same review)
        "party key not its name's": (field("party", 3, "name_key", "zzz"),
                                     "party 'Fondation Test': name_key is 'zzz', where `party add` records"),
        "look-alike party": (_one("party", 3, lambda d: {"party": {  # a Cyrillic М
            **d["party"], "name": "\u041cRIF", "name_key": name_key("\u041cRIF"), "skeleton": skeleton("\u041cRIF")}}),
            "name mixes Latin and Cyrillic letters"),
        "party twice": (_one("party", 3, lambda d: {"party": {
            **d["party"], "name": "MRIF", "name_key": "mrif", "skeleton": "mrif", "kind": "government"}}),
            "party 'MRIF' appears twice"),
        "unknown country": (field("party", 2, "country", "XX"), "unknown country code 'XX'"),
        "instrument no payment shows": (field("commitment", 3, "instrument", "equity"),
                                        "for MRIF (equity), but its entry 8 is a commitment-signed "
                                        "'Commitment 3 signed (debt): MRIF'"),
        "membership of a borrower": (field("party", 2, "membership", "full"), "membership applies to members"),
        "flag as text": (field("party", 2, "women_led", "yes"), "women_led must be true or false, not 'yes'"),
    }
    for name, (change, message) in cases.items():
        bad = _rewrite(full, tmp_path / f"{name.replace(' ', '-')}.jsonl", change)
        assert bad.read_bytes() != full.read_bytes(), name
        target = ledgers.target()
        result = cli(target, "restore", str(bad))
        assert result.exit_code == 1, (name, result.output)
        assert message in result.output, (name, result.output)
        assert len(result.output.strip().splitlines()) == 1, (name, result.output)
        assert json.loads(ok(cli(target, "audit", "verify", "--json")).stdout)["entries"] == 0, name
        assert json.loads(ok(cli(target, "loan", "list", "--json")).stdout)["loans"] == [], name
        assert json.loads(ok(cli(target, "config", "show", "--json")).stdout) == \
            json.loads(ok(cli(ledgers.target(), "config", "show", "--json")).stdout), name
    # A ledger with registers of its own is refused: restored ids would collide with them.
    busy = ledgers.target()
    ok(cli(busy, "target", "set", "total", "1000", "--date", "2018-01-01"))
    result = cli(busy, "restore", str(full))
    assert result.exit_code == 1 and "already has loans, commitments, targets or settings" in result.output


def test_a_version_1_export_restores_only_without_loans_and_commitments(ledgers: Any, tmp_path: Path) -> None:
    """Version 1 files hold no registers: their loan and commitment entries would be orphans
    whose ids the next `loan add` takes, so such a file is refused; one without them restores."""
    source = ledgers.target()
    registers_ledger(source)
    full = tmp_path / "full.jsonl"
    ok(cli(source, "export", "-f", "jsonl", "-o", str(full)))

    def as_version_1(doc: dict[str, Any]) -> dict[str, Any] | None:
        if "fisiq" in doc:
            return {"fisiq": {**doc["fisiq"], "version": 1}}
        return None if set(doc) & {"target", "setting", "commitment", "commitment_event", "loan", "loan_event"} else doc
    old = _rewrite(full, tmp_path / "v1.jsonl", as_version_1)
    target = ledgers.target()
    result = cli(target, "restore", str(old))
    assert result.exit_code == 1 and "version 1 does not hold" in result.output, result.output
    assert json.loads(ok(cli(target, "audit", "verify", "--json")).stdout)["entries"] == 0
    plain = small_ledger_at(ledgers.target())
    books_only = tmp_path / "books.jsonl"
    ok(cli(plain, "export", "-f", "jsonl", "-o", str(books_only)))
    old = _rewrite(books_only, tmp_path / "v1-books.jsonl", as_version_1)
    assert "Restored 2 entries" in ok(cli(ledgers.target(), "restore", str(old))).stdout
    # A version 1 file with a register line is not a version 1 file.
    mixed = _rewrite(full, tmp_path / "v1-mixed.jsonl",
                     lambda d: {"fisiq": {**d["fisiq"], "version": 1}} if "fisiq" in d else d)
    result = cli(ledgers.target(), "restore", str(mixed))
    assert result.exit_code == 1 and "unknown line kind 'target'" in result.output


def test_restore_refuses_altered_truncated_and_partial_files(ledgers: Any, tmp_path: Path) -> None:
    source = small_ledger_at(ledgers.target())
    full = tmp_path / "full.jsonl"
    ok(cli(source, "export", "-f", "jsonl", "-o", str(full)))
    lines = full.read_text(encoding="utf-8").splitlines(keepends=True)
    cases = {
        "altered": "".join(line.replace("premier investissement", "premier investissemenT") for line in lines),
        "truncated": "".join(lines[:-2]),
        "no checkpoint": "".join(lines[:-1]),
        "dropped entry": "".join(line for line in lines if '"id":1,' not in line),
        # values of the wrong JSON type, which the hash cannot be computed over as they are
        "number as ref": "".join(line.replace('"ref":"MRIF-1"', '"ref":5') for line in lines),
        "true as reverses": "".join(line.replace('"reverses":null', '"reverses":true', 1)
                                    if '"id":1,' in line else line for line in lines),
    }
    messages = {"altered": "does not match its hash", "truncated": "no checkpoint",
                "no checkpoint": "no checkpoint", "dropped entry": "entry 1 was expected",
                "number as ref": "wrong field types", "true as reverses": "wrong field types"}
    for name, text in cases.items():
        assert text != "".join(lines), name
        bad = tmp_path / f"{name.replace(' ', '-')}.jsonl"
        bad.write_text(text, encoding="utf-8")
        target = ledgers.target()
        result = cli(target, "restore", str(bad))
        assert result.exit_code == 1, (name, result.output)
        assert messages[name] in result.output, (name, result.output)
        assert json.loads(ok(cli(target, "audit", "verify", "--json")).stdout)["entries"] == 0, name
    partial = tmp_path / "partial.jsonl"
    ok(cli(source, "export", "-f", "jsonl", "--to", "2018-04-30", "-o", str(partial)))
    result = cli(ledgers.target(), "restore", str(partial))
    assert result.exit_code == 1 and "whole ledger" in result.output


def test_import_dispatches_a_jsonl_file_to_restore(ledgers: Any, tmp_path: Path) -> None:
    root = typer.main.get_command(app)
    if "import" not in root.list_commands(typer.Context(root)):
        pytest.skip("no `fisiq import` command")
    source = small_ledger_at(ledgers.target())
    full = tmp_path / "full.jsonl"
    ok(cli(source, "export", "-f", "jsonl", "-o", str(full)))
    result = ok(cli(ledgers.target(), "import", str(full)))
    assert "Restored 2 entries" in result.stdout


def test_checkpoint_catches_a_removed_tail_and_a_recomputed_chain(ledgers: Any, tmp_path: Path) -> None:
    """A ledger that verifies on its own still fails against a checkpoint it no longer extends."""
    source = ledgers.target()
    engine = open_ledger(source)
    try:
        small_ledger(engine)
        early = tmp_path / "early.jsonl"
        ok(cli(source, "export", "-f", "jsonl", "-o", str(early)))
        record(engine, "2018-09-01", "third", ("Expenses:Operations", "5.00", "CAD", None),
               ("Assets:Cash", "-5.00", "CAD", None))
    finally:
        engine.dispose()
    later = tmp_path / "later.beancount"
    ok(cli(source, "export", "-f", "beancount", "-o", str(later)))
    ok(cli(source, "audit", "verify", "--checkpoint", str(early)))  # the ledger extends an older checkpoint

    # The same books without their last entry: the chain verifies, the checkpoint does not.
    shortened = ledgers.target()
    ok(cli(shortened, "restore", str(early)))
    ok(cli(shortened, "audit", "verify"))
    result = cli(shortened, "audit", "verify", "--checkpoint", str(later), "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["ok"] is False and doc["problem"]["entry"] == 3 and "removed" in doc["problem"]["message"]
    assert doc["checkpoint"]["entries"] == 3

    # The same two entries, then a different third one with every hash recomputed.
    rewritten = ledgers.target()
    ok(cli(rewritten, "restore", str(early)))
    engine = open_ledger(rewritten)
    try:
        record(engine, "2018-09-01", "third, changed", ("Expenses:Operations", "500.00", "CAD", None),
               ("Assets:Cash", "-500.00", "CAD", None))
    finally:
        engine.dispose()
    ok(cli(rewritten, "audit", "verify"))
    result = cli(rewritten, "audit", "verify", "--checkpoint", str(later))
    assert result.exit_code == 1 and "rewritten" in result.output and "entry 3" in result.output


def test_verify_refuses_a_file_without_checkpoint(fisiq: Any, tmp_path: Path) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_text("hello\n", encoding="utf-8")
    result = fisiq("audit", "verify", "--checkpoint", str(junk))
    assert result.exit_code == 1 and "does not end with a fisiq checkpoint" in result.output


def test_a_file_name_holding_nul_is_one_clear_line(fisiq: Any, tmp_path: Path) -> None:
    """No shell passes NUL in an argument, but a program driving fisiq can: not a traceback."""
    result = fisiq("export", "-f", "jsonl", "-o", str(tmp_path / "a\x00b.jsonl"))
    assert result.exit_code == 1
    assert result.output.strip() == "error: a file name cannot contain the NUL character"
    assert list(tmp_path.glob("*.jsonl")) == []


def test_a_ledger_moves_from_sqlite_to_postgresql_and_back(ledgers: Any, tmp_path: Path, sqlite_template: Path) -> None:
    """The documented way to change engines: export jsonl, restore into a new ledger there."""
    if ledgers.engine_name != "postgresql":
        pytest.skip("moves a SQLite ledger to PostgreSQL")
    from conftest import LedgerFactory

    on_sqlite = LedgerFactory("sqlite", tmp_path, sqlite_template)
    source = on_sqlite.target()
    registers_ledger(source)
    exported = tmp_path / "sqlite.jsonl"
    ok(cli(source, "export", "-f", "jsonl", "-o", str(exported)))
    moved = ledgers.target()
    ok(cli(moved, "restore", str(exported)))
    again = tmp_path / "postgresql.jsonl"
    ok(cli(moved, "export", "-f", "jsonl", "-o", str(again)))
    assert exported.read_bytes() == again.read_bytes()
    back = on_sqlite.target()
    ok(cli(back, "restore", str(again)))
    for args in (("loan", "show", "1", "--json", "--as-of", "2018-12-31"), ("report", "board", "--json", "--as-of", "2018-12-31"),
                 ("audit", "verify", "--json")):
        shown = [json.loads(ok(cli(t, *args)).stdout) for t in (source, moved, back)]
        assert shown[0] == shown[1] == shown[2], args
    ok(cli(moved, "loan", "repay", "1", "300", "--date", "2018-06-01"))  # the PostgreSQL ledger carries on
    assert json.loads(ok(cli(moved, "audit", "verify", "--json")).stdout)["ok"] is True


def test_the_checkpoint_digest_of_the_registers_shows_an_edit(ledgers: Any, tmp_path: Path) -> None:
    """Register rows are not chained like entries. A whole jsonl export's checkpoint counts
    them and keeps a digest of their lines: restore refuses lines edited after the export,
    and an auditor who kept the export finds a forger who made the digest again."""
    source = ledgers.target()
    registers_ledger(source)
    kept = tmp_path / "kept.jsonl"
    ok(cli(source, "export", "-f", "jsonl", "-o", str(kept)))
    mark = read_checkpoint(str(kept))
    assert mark.registers is not None and ("target", 1) in [(k, n) for k, n, _ in mark.registers]
    def raise_target() -> Any:  # a new one per file: _one counts the lines it has seen
        return _one("target", 1, lambda d: {"target": {**d["target"], "amount": "500000.00"}})

    edited = _rewrite(kept, tmp_path / "edited.jsonl", raise_target(), redigest=False)
    result = cli(ledgers.target(), "restore", str(edited))
    assert result.exit_code == 1
    assert "its target lines are not those its checkpoint's digest was made of" in result.output

    forged = ledgers.target()
    ok(cli(forged, "restore", str(_rewrite(kept, tmp_path / "forged.jsonl", raise_target()))))
    assert "500000.00" in ok(cli(forged, "target", "list")).stdout
    ok(cli(forged, "audit", "verify"))  # on its own, a consistent ledger
    failed = cli(forged, "audit", "verify", "--checkpoint", str(kept))
    assert failed.exit_code == 1
    assert failed.output.strip() == ("FAILED at the registers: the first 1 target rows are not those the "
                                     "checkpoint's digest was made of: changed since")

    honest = ledgers.target()
    ok(cli(honest, "restore", str(kept)))
    ok(cli(honest, "target", "set", "total", "600000", "--date", "2019-01-01"))  # later rows are fine
    shown = ok(cli(honest, "audit", "verify", "--checkpoint", str(kept))).stdout
    assert "and still holds the register rows it counted" in shown

    # An export made before checkpoints carried the digest still restores.
    older = _rewrite(kept, tmp_path / "older.jsonl", lambda d: {"checkpoint": {
        k: v for k, v in d["checkpoint"].items() if k != "registers"}} if "checkpoint" in d else d)
    ok(cli(ledgers.target(), "restore", str(older)))


def _behind_fisiq(target: str, table: str, sql: str) -> None:
    """Run `sql` as someone with the database's own tools could: the table's append-only
    trigger set aside for the time of it."""
    engine = open_ledger(target)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                kept = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = ?",
                                            (f"{table}_no_update",)).scalar_one()
                conn.exec_driver_sql(f"DROP TRIGGER {table}_no_update")
                conn.exec_driver_sql(sql)
                conn.exec_driver_sql(kept)
            else:
                conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
                conn.exec_driver_sql(sql)
                conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")
    finally:
        engine.dispose()


def test_the_checkpoint_digest_covers_accounts_and_parties(ledgers: Any, tmp_path: Path) -> None:
    """The entries' hashes cover a party's name, not its kind or whether a borrower is led by
    women, nor an account's type; the reports count by them. Turning the members' signed
    capital into a government's, behind fisiq's back, passed `audit verify --checkpoint`, and
    restore took such an edit in the file."""
    source = ledgers.target()
    registers_ledger(source)
    kept = tmp_path / "kept.jsonl"
    ok(cli(source, "export", "-f", "jsonl", "-o", str(kept)))
    marks = {kind: rows for kind, rows, _ in read_checkpoint(str(kept)).registers or ()}
    assert marks["party"] == 3 and marks["account"] == len(STANDARD_CHART)
    ok(cli(source, "party", "add", "Coop Thiès", "--kind", "borrower"))  # later rows are fine
    ok(cli(source, "account", "add", "Expenses:Travel", "--type", "expense"))
    ok(cli(source, "audit", "verify", "--checkpoint", str(kept)))

    _behind_fisiq(source, "party", "UPDATE party SET kind = 'member' WHERE name = 'MRIF'")
    ok(cli(source, "audit", "verify"))  # on its own, a consistent ledger
    failed = cli(source, "audit", "verify", "--checkpoint", str(kept))
    assert failed.exit_code == 1
    assert failed.output.strip() == ("FAILED at the registers: the first 3 party rows are not those the "
                                     "checkpoint's digest was made of: changed since")
    _behind_fisiq(source, "party", "UPDATE party SET kind = 'government' WHERE name = 'MRIF'")
    ok(cli(source, "audit", "verify", "--checkpoint", str(kept)))
    # (An account's type follows from its name, which `audit verify` checks on its own.)
    _behind_fisiq(source, "account", "UPDATE account SET description = 'Dons' WHERE name = 'Income:Contributions'")
    failed = cli(source, "audit", "verify", "--checkpoint", str(kept))
    assert failed.exit_code == 1
    assert f"the first {len(STANDARD_CHART)} account rows are not those" in failed.output, failed.output

    # A party line edited in the file is refused by restore, as a register line is.
    edited = _rewrite(kept, tmp_path / "edited.jsonl", lambda d: {"party": {**d["party"], "kind": "member"}}
                      if d.get("party", {}).get("name") == "MRIF" else d, redigest=False)
    result = cli(ledgers.target(), "restore", str(edited))
    assert result.exit_code == 1 and "its party lines are not those its checkpoint's digest was made of" in result.output

    # A version 2 export, whose checkpoint digests the registers only, still restores and verifies.
    def older(doc: dict[str, Any]) -> dict[str, Any]:
        if "fisiq" in doc:
            return {"fisiq": {**doc["fisiq"], "version": 2}}
        if "checkpoint" in doc:
            registers = {k: v for k, v in doc["checkpoint"]["registers"].items() if k not in BOOK_KINDS}
            return {"checkpoint": {**doc["checkpoint"], "registers": registers}}
        return doc

    version2 = _rewrite(kept, tmp_path / "v2.jsonl", older, redigest=False)
    restored = ledgers.target()
    ok(cli(restored, "restore", str(version2)))
    ok(cli(restored, "audit", "verify", "--checkpoint", str(version2)))
    ok(cli(restored, "audit", "verify", "--checkpoint", str(kept)))


def test_export_destination_errors_name_the_file_asked_for(ledgers: Any, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """`export -o /nonexistent/x.csv` said "No such file or directory: /nonexistent/.x.csv.r88p984c.tmp"."""
    import fisiq.files

    target = ledgers.target()
    ok(cli(target, "entry", "add", "--date", "2018-01-05", "-m", "seed", "-p", "Assets:Cash 10", "-p", "Income:Contributions"))
    for dest, message in ((tmp_path / "missing" / "x.csv", f"the folder {tmp_path / 'missing'} does not exist"),
                          (tmp_path, "is a directory; give a file name such as fisiq.csv")):
        result = cli(target, "export", "-f", "csv", "-o", str(dest))
        assert result.exit_code == 1
        assert result.output == f"error: --output {dest}: {message}\n"
    kept = tmp_path / "fisiq.csv"
    kept.write_text("the previous export", encoding="utf-8")

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fisiq.files.os, "fsync", full)
    result = cli(target, "export", "-f", "csv", "-o", str(kept))
    assert result.exit_code == 1 and result.output == f"error: No space left on device: {kept}\n"
    assert kept.read_text(encoding="utf-8") == "the previous export"
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "beancount", "ledger"])
def test_a_rewritten_chain_is_named_where_the_rewriting_starts(ledgers: Any, tmp_path: Path, fmt: str) -> None:
    """Every hash recomputed after changing entry 1: `--checkpoint` said 'FAILED at entry 3',
    the checkpoint's own entry, though the export holds every entry's hash."""
    def books_with(first_memo: str) -> str:
        target = ledgers.target()
        engine = open_ledger(target)
        try:
            record(engine, "2018-03-31", first_memo, ("Assets:Cash", "100.00", "CAD", None),
                   ("Income:Contributions", "-100.00", "CAD", None))
            for n in (2, 3):
                record(engine, f"2018-04-0{n}", f"entry {n}", ("Expenses:Operations", "1.00", "CAD", None),
                       ("Assets:Cash", "-1.00", "CAD", None))
        finally:
            engine.dispose()
        return target

    kept = tmp_path / f"kept.{fmt}"
    ok(cli(books_with("don"), "export", "-f", fmt, "-o", str(kept)))
    forged = books_with("don, autrement")
    ok(cli(forged, "audit", "verify"))
    result = cli(forged, "audit", "verify", "--checkpoint", str(kept), "--json")
    assert result.exit_code == 1
    problem = json.loads(result.stdout)["problem"]
    assert problem["entry"] == 1 and problem["message"].startswith("entry 1 has hash"), problem
    assert "the chain was rewritten from there since the checkpoint" in problem["message"]


def test_one_removed_entry_is_said_so(ledgers: Any, tmp_path: Path) -> None:
    source = small_ledger_at(ledgers.target())
    early = tmp_path / "early.jsonl"
    ok(cli(source, "export", "-f", "jsonl", "-o", str(early)))
    engine = open_ledger(source)
    try:
        record(engine, "2018-09-01", "third", ("Expenses:Operations", "5.00", "CAD", None), ("Assets:Cash", "-5.00", "CAD", None))
    finally:
        engine.dispose()
    later = tmp_path / "later.jsonl"
    ok(cli(source, "export", "-f", "jsonl", "-o", str(later)))
    shortened = ledgers.target()
    ok(cli(shortened, "restore", str(early)))
    result = cli(shortened, "audit", "verify", "--checkpoint", str(later))
    assert result.exit_code == 1
    assert result.output.strip() == ("FAILED at entry 3: the ledger has 2 entries but the checkpoint recorded 3: "
                                     "entry 3 was removed")


def test_an_account_type_changed_behind_fisiqs_back_fails_verify(ledgers: Any) -> None:
    """The hashes name accounts, not their types; a type that contradicts the name would move
    the account between the statements' sections. Unused, it was reported 'at entry 0'."""
    source = small_ledger_at(ledgers.target())
    _behind_fisiq(source, "account", "UPDATE account SET type = 'income' WHERE name = 'Assets:Cash'")
    failed = cli(source, "audit", "verify")
    assert failed.exit_code == 1
    assert failed.output.strip() == "FAILED at entry 1: account Assets:Cash is stored as 'income', which its name contradicts"
    _behind_fisiq(source, "account", "UPDATE account SET type = 'asset' WHERE name = 'Assets:Cash'")
    _behind_fisiq(source, "account", "UPDATE account SET type = 'expense' WHERE name = 'Income:Interest:Investments'")
    failed = cli(source, "audit", "verify", "--json")
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)["problem"] == {
        "entry": None, "loan": None, "commitment": None,
        "message": "account Income:Interest:Investments is stored as 'expense', which its name contradicts"}
    assert cli(source, "audit", "verify").output.startswith("FAILED at the chart of accounts: account Income:Interest")
