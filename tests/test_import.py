"""`fisiq import`: the whole file or nothing, errors by row and column, dry run, idempotence."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fisiq.cli import imports
from fisiq.csvfile import CsvError, decode, parse_csv

Run = Callable[..., Any]
REPO = Path(__file__).parents[1]
EXAMPLE = REPO / "ledger" / "examples" / "commitments-example.csv"
HEADER = "ref,date,action,commitment,party,stage,instrument,category,amount,reason,source"


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def head(fisiq: Run) -> tuple[int, str]:
    doc = json.loads(ok(fisiq("audit", "verify", "--json")).stdout)
    return doc["entries"], doc["head"]


def write(tmp_path: Path, text: str | bytes, name: str = "in.csv") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return str(path)


@pytest.fixture
def parties(fisiq: Run) -> Run:
    ok(fisiq("party", "add", "Fondation Exemple", "--kind", "foundation", "--acronym", "FEX"))
    ok(fisiq("party", "add", "Caisse Exemple", "--kind", "investor"))
    return fisiq


def test_example_file_imports_once_and_is_idempotent(parties: Run) -> None:
    fisiq = parties
    dry = json.loads(ok(fisiq("import", str(EXAMPLE), "--dry-run", "--json")).stdout)
    assert dry["dry_run"] and dry["recorded"] == 8 and dry["entries_posted"] == 5 and dry["entries"] == []
    assert head(fisiq)[0] == 0
    done = json.loads(ok(fisiq("import", str(EXAMPLE), "--json")).stdout)
    assert done["recorded"] == 8 and len(done["entries"]) == 5
    before = head(fisiq)
    again = ok(fisiq("import", str(EXAMPLE)))
    assert "Recorded 0 of 8 rows" in again.stdout and "8 already recorded" in again.stdout
    assert head(fisiq) == before
    listed = json.loads(ok(fisiq("commitment", "list", "--json")).stdout)["commitments"]
    assert [(c["ref"], c["stage"], c["paid"], c["cancelled"]) for c in listed] == [
        ("ex-fex", "paid", "80000.00", "0.00"), ("ex-caisse", "cancelled", "0.00", "50000.00")]
    tb = {r["account"]: r["balance"] for r in json.loads(ok(fisiq("report", "trial-balance", "--json")).stdout)["rows"]}
    assert tb["Income:Contributions"] == "-80000.00" and tb["Equity:Commitments:Receivable"] == "0.00"


def test_every_problem_is_named_by_row_and_column_and_nothing_is_written(parties: Run, tmp_path: Path) -> None:
    fisiq = parties
    text = "\n".join([
        HEADER,
        "a1,2019-01-01,add,,FEX,signed,equity,,1000.00,,",
        "a2,2019-02-30,add,,FEX,signed,equity,,1000.00,,",  # row 3: date
        "a3,2019-01-01,add,,Nobody,signed,equity,,10,,",  # row 4: party
        "a4,2019-01-02,pay,a1,,,,,1000.01,,",  # row 5: amount beyond the rest
        "a1,2019-01-02,pay,a1,,,,,1,,",  # row 6: duplicate ref
        "a6,2019-01-02,fly,a1,,,,,1,,",  # row 7: action
        "a7,2019-01-02,pay,a1,,,,,1e3,,",  # row 8: amount
        "a8,2019-01-02,cancel,a1,,,,,,,",  # row 9: reason
        "a9,2019-01-02,pay,a1,,,,,10.00,,",  # fine
    ]) + "\n"
    before = head(fisiq)
    result = fisiq("import", write(tmp_path, text))
    assert result.exit_code == 1
    err = result.stderr
    for fragment in ["row 3, column date", "row 4, column party: unknown party", "row 6, column ref",
                     "row 7, column action", "row 8, column amount", "row 9, column reason"]:
        assert fragment in err, (fragment, err)
    assert "nothing recorded" in err
    assert head(fisiq) == before
    # The rules are checked once the rows parse: a payment beyond the signed rest.
    lines = text.splitlines()
    clean = "\n".join([lines[0], lines[1], lines[4], lines[9]]) + "\n"
    result = fisiq("import", write(tmp_path, clean, "b.csv"))
    assert result.exit_code == 1 and "row 3, column amount: a payment of 1000.01" in result.stderr
    assert head(fisiq) == before


def test_a_cell_the_action_does_not_use_is_refused_not_ignored(parties: Run, tmp_path: Path) -> None:
    """An unquoted decimal comma splits an amount into two cells; each other stray cell could
    be a mistake the administrator believes was recorded (a partial cancellation, a payer)."""
    fisiq = parties
    text = "\n".join([
        HEADER,
        "c1,2019-01-01,add,,FEX,signed,,,1000,50,",  # row 2: 1000,50 unquoted
        "c2,2019-01-02,add,,FEX,signed,,member,2000.00,,",  # row 3: category is for targets
        "c3,2019-01-03,pay,c2,Caisse Exemple,,debt,,500.00,,",  # row 4: party and instrument
        "c4,2019-01-04,cancel,c2,,,,,500.00,retrait partiel,",  # row 5: a cancel takes no amount
        "c5,2019-01-05,target,,FEX,,,member,50000,,",  # row 6: party
        "c6,2019-01-06,add,,Caisse Exemple,prospect,debt,,10.00,,a source is fine on any row",
    ]) + "\n"
    before = head(fisiq)
    result = fisiq("import", write(tmp_path, text))
    assert result.exit_code == 1
    problems = [line.split(": ", 1)[1] for line in result.stderr.splitlines()[:-1]]
    assert problems == [
        "row 2, column reason: an add row does not use reason; leave it empty "
        "(a decimal comma splits an unquoted amount in two: write 1000.50)",
        "row 3, column category: an add row does not use category; leave it empty",
        "row 4, column party: a pay row does not use party; leave it empty",
        "row 4, column instrument: a pay row does not use instrument; leave it empty",
        "row 5, column amount: a cancel row does not use amount; leave it empty "
        "(a cancellation releases the whole unpaid rest)",
        "row 6, column party: a target row does not use party; leave it empty",
    ]
    assert head(fisiq) == before


def test_a_party_written_with_a_typographic_apostrophe_is_pointed_to_the_recorded_one(fisiq: Run, tmp_path: Path) -> None:
    ok(fisiq("party", "add", "L'Entraide missionnaire", "--kind", "member"))
    result = fisiq("import", write(tmp_path, f"{HEADER}\nm1,2019-01-01,add,,L\u2019Entraide missionnaire,signed,,,10,,\n"))
    assert result.exit_code == 1
    assert "row 2, column party: unknown party 'L\u2019Entraide missionnaire'; " \
           "did you mean \"L'Entraide missionnaire\"?" in result.stderr


def test_a_payment_before_its_commitment_says_to_move_the_add_row(parties: Run, tmp_path: Path) -> None:
    text = f"{HEADER}\no1-p,2019-01-02,pay,o1,,,,,10.00,,\no1,2019-01-01,add,,FEX,signed,,,100.00,,\n"
    result = parties("import", write(tmp_path, text))
    assert result.exit_code == 1
    assert "row 2, column commitment: commitment 'o1' is added further down; rows apply in order" in result.stderr


def test_rows_inside_a_closed_period_are_named_by_row(parties: Run, tmp_path: Path) -> None:
    """A row whose entry falls inside a closed period was refused with no row number, when
    the books refused it at writing; every such row is now named, with or without an entry."""
    ok(parties("import", write(tmp_path, f"{HEADER}\nk1,2019-01-01,add,,FEX,signed,,,100.00,,\n")))
    ok(parties("period", "close", "2019-03-31"))
    before = head(parties)
    text = (f"{HEADER}\nk2,2019-02-01,add,,FEX,signed,,,50.00,,\nk1-q,2019-03-15,pay,k1,,,,,10.00,,\n"
            "k3,2019-03-31,add,,FEX,prospect,,,20.00,,\nk1-p,2019-04-01,pay,k1,,,,,10.00,,\n")
    result = parties("import", write(tmp_path, text, "closed.csv"))
    assert result.exit_code == 1
    closed = "is inside a closed period (closed through 2019-03-31); date it after 2019-03-31"
    for row, day in ((2, "2019-02-01"), (3, "2019-03-15"), (4, "2019-03-31")):
        assert f"row {row}, column date: {day} {closed}" in result.stderr, result.stderr
    assert "row 5" not in result.stderr and "3 problem(s)" in result.stderr
    assert head(parties) == before


def test_same_ref_with_other_content_is_refused(parties: Run, tmp_path: Path) -> None:
    fisiq = parties
    ok(fisiq("import", write(tmp_path, f"{HEADER}\nr1,2019-01-01,add,,FEX,signed,,,100,,\n")))
    before = head(fisiq)
    result = fisiq("import", write(tmp_path, f"{HEADER}\nr1,2019-01-01,add,,FEX,signed,,,200,,\n", "b.csv"))
    assert result.exit_code == 1 and "row 2, column ref" in result.stderr and "different content" in result.stderr
    assert head(fisiq) == before


def test_bom_crlf_quoted_newlines_and_comments(parties: Run, tmp_path: Path) -> None:
    fisiq = parties
    text = ("\ufeff# a comment\r\n" + HEADER + "\r\n"
            'q1,2019-01-01,add,,Caisse Exemple,prospect,,,5000,,"a source\r\non two lines, with a comma"\r\n')
    ok(fisiq("import", write(tmp_path, text.encode("utf-8"))))
    listed = json.loads(ok(fisiq("commitment", "list", "--json")).stdout)["commitments"]
    assert listed[0]["ref"] == "q1" and listed[0]["stage"] == "prospect"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"ref,date,action\nx,2019-01-01,add,\"open\n", "never closed"),
        ("ref,date,action\nx,2019-01-01,caf\xe9\n".encode("latin-1"), "not UTF-8"),
        (b"ref,date\nx,2019-01-01\n", "lacks the column(s) action"),
        (b"ref,date,action,colour\n", "unknown column 'colour'"),
        (b"ref,date,action,ref\n", "appears twice"),
        (b"", "is empty"),
        (b"ref,date,action\nx,2019-01-01,add,1,2,3\n", "cells but the header names 3"),
        (b"ref,date,,action\nx,2019-01-01,debt,add\n", "row 2 has a value in column 3, which the header leaves unnamed"),
        # What a French-Canadian spreadsheet saves as "CSV" by default.
        (b"ref;date;action\nx;2019-01-01;add\n", "seems separated by semicolons"),
        (b"ref\tdate\taction\nx\t2019-01-01\tadd\n", "seems separated by tabs"),
    ],
)
def test_unreadable_files_are_refused_in_one_line(fisiq: Run, tmp_path: Path, data: bytes, fragment: str) -> None:
    result = fisiq("import", write(tmp_path, data))
    assert result.exit_code == 1, result.output
    assert fragment in result.output and len(result.output.strip().splitlines()) == 1, result.output


def test_csv_reader_directly() -> None:
    with pytest.raises(CsvError, match="save it as UTF-8"):
        decode(b"\xff\xfe", "f.csv")
    table = parse_csv("ref,date,action\n\n#x\nr,2019-01-01,add\n", "f", allowed=imports.COLUMNS, required=imports.REQUIRED)
    assert [r.number for r in table.rows] == [4]


def test_long_files_import_in_one_transaction(parties: Run, tmp_path: Path) -> None:
    fisiq = parties
    rows = [HEADER]
    for i in range(300):
        rows.append(f"c{i},2019-01-01,add,,FEX,signed,,,{i + 1}.00,,")
        rows.append(f"p{i},2019-01-02,pay,c{i},,,,,{i + 1}.00,,")
    ok(fisiq("import", write(tmp_path, "\n".join(rows) + "\n")))
    assert head(fisiq)[0] == 600
    progress = json.loads(ok(fisiq("progress", "--json")).stdout)
    assert progress["categories"][3]["paid"] == f"{sum(range(1, 301))}.00"


def test_reordered_columns_import_by_their_header(parties: Run, tmp_path: Path) -> None:
    fisiq = parties
    text = "amount,party,action,date,ref,stage\n2500.00,FEX,add,2019-01-01,ro1,signed\n"
    ok(fisiq("import", write(tmp_path, text)))
    listed = json.loads(ok(fisiq("commitment", "list", "--json")).stdout)["commitments"]
    assert [(c["ref"], c["stage"]) for c in listed] == [("ro1", "signed")]


def test_a_one_megabyte_cell_refuses_the_file_naming_its_row(parties: Run, tmp_path: Path) -> None:
    fisiq = parties
    before = head(fisiq)
    big = "x" * 1_000_000
    result = fisiq("import", write(tmp_path, f"{HEADER}\nmb1,2019-01-01,add,,FEX,prospect,,,10,,{big}\n"))
    assert result.exit_code == 1
    assert "row 2: field larger than field limit" in result.output and "Traceback" not in result.output
    assert len(result.output) < 2000  # the message names the cell; it does not echo a megabyte
    assert head(fisiq) == before


def test_fisiqs_own_exports_given_to_import_or_restore_say_what_they_are(parties: Run, tmp_path: Path) -> None:
    """An auditor's files fed back: the ledger and beancount journals were 'separated by
    semicolons', the CSV export had an 'unknown column entry', and restore said 'not JSON'."""
    exports = {}
    for fmt in ("csv", "ledger", "beancount"):
        exports[fmt] = tmp_path / f"books.{fmt}"
        ok(parties("export", "-f", fmt, "-o", str(exports[fmt])))
    before = head(parties)
    expected = {"csv": "is fisiq's CSV export, written for reading; fisiq rebuilds a ledger from a jsonl export",
                "ledger": "is a ledger-cli or beancount journal (its first line is a ';' comment), not a CSV file",
                "beancount": "is a ledger-cli or beancount journal (its first line is a ';' comment), not a CSV file"}
    for fmt, path in exports.items():
        for command in ("import", "party import"):
            result = parties(*command.split(), str(path))
            assert result.exit_code == 1, result.output
            assert result.stderr.startswith(f"error: {path} {expected[fmt]}"), result.stderr
            assert result.stderr.count("\n") == 1 and "semicolons" not in result.stderr
    assert head(parties) == before
    restored = {"csv": "not JSON (fisiq's CSV export: restore takes a jsonl export",
                "ledger": "not JSON (a ledger-cli or beancount journal: restore takes a jsonl export"}
    for fmt, fragment in restored.items():
        from typer.testing import CliRunner

        from fisiq.cli.main import app

        empty = tmp_path / f"empty-{fmt}.db"
        ok(CliRunner().invoke(app, ["--db", str(empty), "init"]))
        result = CliRunner().invoke(app, ["--db", str(empty), "restore", str(exports[fmt])])
        assert result.exit_code == 1 and fragment in result.output, result.output
