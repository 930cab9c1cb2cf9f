"""The core commands as a user types them: output, JSON shapes, refusals, help texts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import typer
import typer.main
from typer.core import TyperGroup
from typer.testing import CliRunner

from fisiq.cli.main import app

Run = Callable[..., Any]


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def refused(result: Any, fragment: str) -> None:
    assert result.exit_code != 0, result.output
    assert fragment in result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, lines


def head(fisiq: Run) -> tuple[int, str]:
    doc = json.loads(ok(fisiq("audit", "verify", "--json")).stdout)
    return doc["entries"], doc["head"]


def test_entry_add_show_reverse_and_trial_balance(fisiq: Run) -> None:
    ok(fisiq("party", "add", "Ministère des Relations internationales et de la Francophonie",
             "--kind", "government", "--acronym", "MRIF")) if _has_party_command() else None
    party = " @ MRIF" if _has_party_command() else ""
    out = ok(fisiq("entry", "add", "--date", "2018-03-31", "--memo", "MRIF first investment",
                   "-p", "Assets:Cash 75000", "-p", f"Equity:Paid-In-Capital{party}", "--ref", "MRIF-1"))
    assert "Recorded entry 1" in out.stdout
    again = ok(fisiq("entry", "add", "--date", "2018-03-31", "--memo", "MRIF first investment",
                     "-p", "Assets:Cash 75000", "-p", f"Equity:Paid-In-Capital{party}", "--ref", "MRIF-1"))
    assert "already entry 1" in again.stdout
    tb = json.loads(ok(fisiq("report", "trial-balance", "--json")).stdout)
    assert {r["account"]: r["balance"] for r in tb["rows"]} == {
        "Assets:Cash": "75000.00",
        "Equity:Paid-In-Capital": "-75000.00",
    }
    assert tb["total"] == "0.00"
    shown = json.loads(ok(fisiq("entry", "show", "1", "--json")).stdout)
    assert shown["postings"][0] == {"account": "Assets:Cash", "party": None, "amount": "75000.00", "currency": "CAD"}
    assert len(shown["hash"]) == 64 and shown["reversed_by"] is None
    ok(fisiq("entry", "reverse", "1", "--date", "2018-04-02"))
    tb = json.loads(ok(fisiq("report", "trial-balance", "--json")).stdout)
    assert all(r["balance"] == "0.00" for r in tb["rows"])
    before = json.loads(ok(fisiq("report", "trial-balance", "--as-of", "2018-04-01", "--json")).stdout)
    assert {r["account"]: r["balance"] for r in before["rows"]}["Assets:Cash"] == "75000.00"
    text = ok(fisiq("report", "trial-balance", "--lang", "fr", "--as-of", "2018-04-01")).stdout
    assert "75 000,00 $" in text


def _has_party_command() -> bool:
    root = typer.main.get_command(app)
    return "party" in root.list_commands(typer.Context(root))


def test_one_posting_may_leave_out_its_amount(fisiq: Run) -> None:
    ok(fisiq("entry", "add", "--date", "2018-06-01", "-m", "fees",
             "-p", "Expenses:Operations 12.50", "-p", "Assets:Cash"))
    doc = json.loads(ok(fisiq("report", "account", "Assets:Cash", "--json")).stdout)
    assert doc["closing"] == {"CAD": "-12.50"}
    assert doc["lines"][0]["amount"] == "-12.50"


def test_journal_json_and_date_range(fisiq: Run) -> None:
    for day in ("2018-01-10", "2018-02-10", "2018-03-10"):
        ok(fisiq("entry", "add", "--date", day, "-m", f"op {day}", "-p", "Expenses:Operations 1", "-p", "Assets:Cash -1"))
    doc = json.loads(ok(fisiq("report", "journal", "--from", "2018-02-01", "--to", "2018-02-28", "--json")).stdout)
    assert [e["date"] for e in doc["entries"]] == ["2018-02-10"]
    assert set(doc["entries"][0]) >= {"id", "date", "memo", "kind", "ref", "hash", "prev_hash", "postings"}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["-p", "Assets:Cash NaN", "-p", "Equity:Paid-In-Capital"], "NaN"),
        (["-p", "Assets:Cash 1e3", "-p", "Equity:Paid-In-Capital"], "exponent"),
        (["-p", "Assets:Cash 1_000", "-p", "Equity:Paid-In-Capital"], "underscore"),
        (["-p", "Assets:Cash １０", "-p", "Equity:Paid-In-Capital"], "non-ASCII"),
        (["-p", "Assets:Cash 1,000.00", "-p", "Equity:Paid-In-Capital"], "grouping"),
        (["-p", "Assets:Cash 10.5 XOF", "-p", "Equity:Paid-In-Capital -10.5 XOF"], "more decimals than XOF"),
        (["-p", "Assets:Cash 10 usd", "-p", "Equity:Paid-In-Capital"], "upper case"),
        (["-p", "Assets:Cash 10 XXX", "-p", "Equity:Paid-In-Capital"], "unknown currency"),
        (["-p", "Assets:Cash 0", "-p", "Equity:Paid-In-Capital 0"], "zero"),
        (["-p", "Assets:Cash 10"], "at least two"),
        (["-p", "Assets:Cash 10", "-p", "Equity:Paid-In-Capital -9"], "does not balance"),
        (["-p", "Assets:Nowhere 10", "-p", "Equity:Paid-In-Capital"], "unknown account"),
        (["-p", "Assets:Cash 10", "-p", "Equity:Paid-In-Capital @ Nobody"], "unknown party"),
        (["-p", "Assets:Cash 99999999999999999999", "-p", "Equity:Paid-In-Capital"], "storable range"),
        # Written as in French, the digit groups were read as a currency code ("unknown currency code '000,00'").
        (["-p", "Assets:Cash 1 000,00", "-p", "Equity:Paid-In-Capital"],
         "write the amount without spaces, decimals after a point: 1000.00"),
        (["-p", "Assets:Cash 1 000 000", "-p", "Equity:Paid-In-Capital"],
         "write the amount without spaces, decimals after a point: 1000000"),
        (["-p", "Assets:Cash -2 500.50 USD", "-p", "Equity:Paid-In-Capital"],
         "write the amount without spaces, decimals after a point: -2500.50"),
    ],
)
def test_bad_entries_are_refused_with_one_line(fisiq: Run, args: list[str], fragment: str) -> None:
    before = head(fisiq)
    refused(fisiq("entry", "add", "--date", "2018-06-01", "-m", "bad", *args), fragment)
    assert head(fisiq) == before


@pytest.mark.parametrize(
    ("day", "fragment"),
    [("2023-02-29", "does not exist"), ("2024-02-30", "does not exist"), ("0000-01-01", "does not exist"),
     ("03/04/2024", "ISO date"), ("2018-6-1", "ISO date")],
)
def test_bad_dates_are_refused(fisiq: Run, day: str, fragment: str) -> None:
    before = head(fisiq)
    refused(fisiq("entry", "add", "--date", day, "-m", "x", "-p", "Assets:Cash 1", "-p", "Equity:Paid-In-Capital"),
            fragment)
    assert head(fisiq) == before


@pytest.mark.parametrize(
    ("memo", "fragment"),
    [("", "empty"), ("x" * 10_000, "too long"), ("a\x00b", "U+0000"), ("pay\u202eevil", "U+202E"),
     ("zero\u200bwidth", "U+200B"), ("\x1b[31mred", "U+001B")],
)
def test_bad_memos_are_refused(fisiq: Run, memo: str, fragment: str) -> None:
    before = head(fisiq)
    refused(fisiq("entry", "add", "--date", "2018-06-01", "-m", memo, "-p", "Assets:Cash 1",
                  "-p", "Equity:Paid-In-Capital"), fragment)
    assert head(fisiq) == before


def test_markup_and_sql_in_memos_are_stored_and_shown_literally(fisiq: Run) -> None:
    memo = "[bold]x[/bold]'); DROP TABLE entry; --"
    ok(fisiq("entry", "add", "--date", "2018-06-01", "-m", memo, "-p", "Assets:Cash 1", "-p", "Equity:Paid-In-Capital"))
    assert memo in ok(fisiq("entry", "show", "1")).stdout
    assert json.loads(ok(fisiq("entry", "show", "1", "--json")).stdout)["memo"] == memo


def test_account_add_and_list(fisiq: Run) -> None:
    ok(fisiq("account", "add", "Expenses:Audit-Fees", "--type", "expense"))
    names = [a["name"] for a in json.loads(ok(fisiq("account", "list", "--json")).stdout)["accounts"]]
    assert "Expenses:Audit-Fees" in names and "Assets:Loans:Allowance" in names and len(names) == 16
    refused(fisiq("account", "add", "Expenses:Audit-Fees", "--type", "expense"), "already exists")
    refused(fisiq("account", "add", "Expenses:Gifts", "--type", "asset"), "type is expense")
    refused(fisiq("account", "add", "Stuff:Things", "--type", "asset"), "must start with")
    refused(fisiq("account", "add", "Assets:bad name", "--type", "asset"), "capital letter")


def test_audit_verify_reports_ok(fisiq: Run) -> None:
    ok(fisiq("entry", "add", "--date", "2018-06-01", "-m", "x", "-p", "Assets:Cash 1", "-p", "Equity:Paid-In-Capital"))
    result = ok(fisiq("audit", "verify"))
    assert result.stdout.startswith("OK: 1 entries")


def test_period_close_refuses_backdated_entries(fisiq: Run) -> None:
    ok(fisiq("period", "close", "2019-03-31"))
    refused(fisiq("entry", "add", "--date", "2019-03-31", "-m", "late", "-p", "Assets:Cash 1",
                  "-p", "Equity:Paid-In-Capital"), "closed period")


@pytest.mark.parametrize(
    ("account", "kept_by"),
    [("Assets:Loans:Principal", "the loan commands"), ("Assets:Loans:Interest-Receivable", "the loan commands"),
     ("Equity:Commitments:Receivable", "the commitment commands"),
     ("Equity:Commitments:Subscribed", "the commitment commands")],
)
def test_entry_add_refuses_the_accounts_loans_and_commitments_keep(fisiq: Run, account: str, kept_by: str) -> None:
    """A manual loan of 1,000 showed in the balance sheet but in no portfolio, board or loan
    list, and a manual commitment in `progress` but not in `commitment list` (found by a
    helper): the books and the loans or commitments disagreed, and nothing said which was right."""
    ok(fisiq("party", "add", "Coop A", "--kind", "borrower"))
    before = head(fisiq)
    refused(fisiq("entry", "add", "--date", "2018-06-01", "-m", "manual", "-p", f"{account} 1000 @ Coop A",
                  "-p", "Assets:Cash"), f"{account} is kept by {kept_by}")
    refused(fisiq("entry", "add", "--date", "2018-06-01", "-m", "manual", "-p", "Assets:Cash 1000",
                  "-p", account), f"{account} is kept by {kept_by}")
    assert head(fisiq) == before
    # The accounts a fund adjusts by hand stay open: a provision, the allowance, cash.
    ok(fisiq("entry", "add", "--date", "2018-06-01", "-m", "provision", "-p", "Expenses:Loan-Loss-Provision 10",
             "-p", "Assets:Loans:Allowance"))


def test_db_option_refuses_non_ledgers(tmp_path: Any) -> None:
    runner = CliRunner()
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a ledger")
    for target, fragment in [
        (str(text_file), "not a fisiq ledger"),
        (str(tmp_path), "directory"),
        (str(tmp_path / "missing.db"), "fisiq init"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2", "cannot open"),
        ("mysql://nobody@127.0.0.1:1/none", "SQLite (a file) or PostgreSQL"),
        ("postgresql+nosuch://nobody@127.0.0.1:1/none", "postgresql+nosuch://nobody@127.0.0.1:1/none: Can't load"),
        ("postgresql+pg8000://nobody@127.0.0.1:1/none", "its driver pg8000 is not installed"),
    ]:
        result = runner.invoke(app, ["--db", target, "report", "trial-balance"])
        refused(result, fragment)
    assert not (tmp_path / "missing.db").exists()
    assert text_file.read_text() == "not a ledger"


def test_a_url_missing_its_slashes_is_refused_not_made_a_file(tmp_path: Any, monkeypatch: Any) -> None:
    """`--db postgresql+psycopg:/anne@host/db init` made an SQLite ledger in folders named after the URL."""
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    for target in ("postgresql+psycopg:/postgres@127.0.0.1:5432/mydb", "postgresql+psycopg:postgres@127.0.0.1/mydb",
                   "postgres:/x@h/db", "sqlite:/tmp/x.db", "PostgreSQL:db"):
        for command in (["init"], ["report", "trial-balance"]):
            refused(runner.invoke(app, ["--db", target, *command]), f"{target}: a database URL needs '://' after its scheme")
    assert list(tmp_path.iterdir()) == []


def test_an_id_beyond_what_postgresql_stores_is_no_such_record(fisiq: Run) -> None:
    """On PostgreSQL, ids from 2**31 on said 'the database refused the operation: integer out of range'."""
    for args, fragment in ((["entry", "show", "2147483648"], "there is no entry 2147483648"),
                           (["entry", "reverse", "2147483648", "--date", "2018-06-01"], "there is no entry 2147483648"),
                           (["loan", "show", "2147483648"], "there is no loan 2147483648"),
                           (["loan", "repay", "2147483648", "10", "--date", "2018-06-01"], "there is no loan 2147483648"),
                           (["commitment", "show", "2147483648"], "there is no commitment 2147483648"),
                           (["commitment", "pay", "2147483648", "10", "--date", "2018-06-01"],
                            "there is no commitment 2147483648")):
        refused(fisiq(*args), fragment)


def test_a_postgresql_url_without_psycopg_says_how_to_install_it(monkeypatch: Any) -> None:
    """Installed without the [postgres] extra, a URL gave a hundred-line traceback."""
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` now fails as if absent
    result = CliRunner().invoke(app, ["--db", "postgresql+psycopg://nobody@127.0.0.1:1/none", "report",
                                      "trial-balance"])
    refused(result, "PostgreSQL needs the psycopg driver, which is not installed: pip install 'fisiq[postgres]'")
    assert len(result.stderr.strip().splitlines()) == 1


def test_fisiq_db_environment_variable(tmp_path: Any) -> None:
    runner = CliRunner()
    path = str(tmp_path / "env.db")
    ok(runner.invoke(app, ["init"], env={"FISIQ_DB": path}))
    assert "Chart of accounts" in ok(runner.invoke(app, ["account", "list"], env={"FISIQ_DB": path})).stdout


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every command of the tree, asked for as click asks (the root builds its commands on demand)."""
    click_group = typer.main.get_command(app) if group is None else group
    found = []
    if isinstance(click_group, TyperGroup):
        ctx = typer.Context(click_group)
        for name in click_group.list_commands(ctx):
            command = click_group.get_command(ctx, name)
            found.append(((*prefix, name), command))
            found.extend(_commands(command, (*prefix, name)))
    return found


def test_every_command_has_help_with_an_example() -> None:
    commands = _commands(None)
    assert len(commands) >= 12
    for path, command in commands:
        assert command.help and command.help.strip(), f"fisiq {' '.join(path)} has no help text"
        if not isinstance(command, TyperGroup):
            assert "Example:" in command.help, f"fisiq {' '.join(path)} has no example in its help"
        result = CliRunner().invoke(app, [*path, "--help"])
        assert result.exit_code == 0, path


def test_help_does_not_load_the_database_layer() -> None:
    import subprocess
    import sys

    code = "import sys; from fisiq.cli.main import app; print(any(m.startswith('sqlalchemy') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_french_titles_write_their_dates_out(fisiq: Run) -> None:
    """'Balance de vérification au 2018-12-31' beside the board's 'au 31 décembre 2018'."""
    ok(fisiq("entry", "add", "--date", "2018-06-01", "-m", "capital", "-p", "Assets:Cash 10", "-p", "Equity:Paid-In-Capital"))
    wide = {"COLUMNS": "160"}
    out = ok(fisiq("report", "trial-balance", "--lang", "fr", "--from", "2018-04-01", "--to", "2019-03-31", env=wide)).stdout
    assert "Balance de vérification du 1er avril 2018 au 31 mars 2019" in out and "actifs nets" in out, out
    out = ok(fisiq("report", "trial-balance", "--lang", "en", "--as-of", "2019-03-31", env=wide)).stdout
    assert "Trial balance as of March 31, 2019" in out, out
    out = ok(fisiq("report", "journal", "--lang", "fr", "--to", "2019-03-31", env=wide)).stdout
    assert "Journal au 31 mars 2019" in out, out
    out = ok(fisiq("report", "account", "Assets:Cash", "--lang", "fr", "--from", "2018-04-01", env=wide)).stdout
    assert "Compte Assets:Cash depuis le 1er avril 2018" in out, out
    out = ok(fisiq("progress", "--lang", "fr", "--as-of", "2018-12-31", env=wide)).stdout
    assert "Campagne de capitalisation — au 31 décembre 2018" in out, out


def test_loan_event_details_read_in_order() -> None:
    from fisiq.render_loans import _details

    details = {"due": "2018-08-01", "installment": 4, "principal": "975.29", "interest": "60.00"}
    assert _details(details, "CAD", "fr") == ["échéance : 4", "échue le 1er août 2018", "intérêts : 60,00 $",
                                              "capital : 975,29 $"]
    assert _details(details, "CAD", "en") == ["installment: 4", "due: 2018-08-01", "interest: 60.00",
                                              "principal: 975.29"]


def test_a_bad_close_date_names_no_option(fisiq: Run) -> None:
    """`period close DATE` takes an argument: its error said '--through:', an option it has not."""
    before = head(fisiq)
    result = fisiq("period", "close", "2018-13-01")
    assert result.exit_code == 1 and result.stderr == "error: date '2018-13-01' does not exist\n", result.output
    assert head(fisiq) == before


def test_a_close_is_never_dated_after_today_and_a_retried_close_records_nothing(fisiq: Run) -> None:
    """One typo (2099 for 2019) closed the books for seventy years, and no command reopens them;
    closing again through the same date blamed the date for being 'inside a closed period'."""
    from datetime import date, timedelta

    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    before = head(fisiq)
    result = fisiq("period", "close", tomorrow)
    assert result.exit_code == 1 and result.stderr.startswith(f"error: {tomorrow} is after today"), result.output
    assert head(fisiq) == before
    assert ok(fisiq("period", "close", "2019-03-31")).stdout == "Closed the books through 2019-03-31 (entry 1).\n"
    again = ok(fisiq("period", "close", "2019-03-31")).stdout
    assert again == "The books are already closed through 2019-03-31 (entry 1); nothing recorded.\n"
    refused(fisiq("period", "close", "2019-03-30"), "inside a closed period")
    assert head(fisiq)[0] == 1


def test_no_account_under_one_fisiq_reads_by_its_exact_name(fisiq: Run) -> None:
    """Money moved to Assets:Cash:Desjardins left the board's cash and made a disbursement the
    fund could pay 'go negative'; a sub-account of Assets:Loans:Principal took manual entries."""
    for name, kind in (("Assets:Cash:Desjardins", "asset"), ("Assets:Loans:Principal:Sub", "asset"),
                       ("Equity:Paid-In-Capital:Members", "equity")):
        refused(fisiq("account", "add", name, "--type", kind), f"account '{name}' would sit under")
    ok(fisiq("account", "add", "Expenses:Operations:Audit", "--type", "expense"))  # counted by type, not by name
    ok(fisiq("account", "add", "Assets:Bank-Term-Deposit", "--type", "asset"))
    refused(fisiq("account", "add", "Expenses:Frais-Vérification", "--type", "expense"), "ASCII letters")
