"""Invariant 7: exported to beancount, ledger-cli and hledger, the books give the same balances.

The real tools run: `bean-check` must accept the beancount file and `bean-query` must give
the same balance as fisiq's trial balance for every account and currency; `ledger bal` and
`hledger bal` must give the same balances from the one ledger file. Ledgers come from
Hypothesis (accounts of every type, a custom account, parties with accents, apostrophes,
spaces, commas and colons, CAD/USD/XOF, awkward memos, reversals, period closes) and the
bundled FISIQ ledger. A missing tool skips these tests, unless FISIQ_REQUIRE_TOOLS=1 (CI),
where it fails them.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert
from typer.testing import CliRunner

from fisiq import db
from fisiq import ledger as books
from fisiq.accounts import STANDARD_CHART, AccountType
from fisiq.entries import EntryDraft, Posting
from fisiq.export import export_ledger
from fisiq.money import from_minor

pytestmark = pytest.mark.tools

REQUIRE = os.environ.get("FISIQ_REQUIRE_TOOLS") == "1"
ROOT = Path(__file__).resolve().parents[1]
Balances = dict[tuple[str, str], Decimal]


def tool(name: str) -> str:
    """The path of a tool (the virtualenv's scripts first), or skip / fail when it is missing."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        message = f"{name} is not installed (ledger and hledger: apt-get; bean-check/bean-query: pip beancount beanquery)"
        if REQUIRE:
            pytest.fail(f"FISIQ_REQUIRE_TOOLS=1 but {message}")
        pytest.skip(message)
    return found


def run(args: Sequence[str]) -> str:
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{args[0]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result.stdout


def nonzero(pairs: list[tuple[str, str, Decimal]]) -> Balances:
    out: Balances = {}
    for account, currency, amount in pairs:
        out[(account, currency)] = out.get((account, currency), Decimal(0)) + amount
    return {key: value for key, value in out.items() if value != 0}


def fisiq_balances(engine: Engine) -> Balances:
    with db.read_transaction(engine) as conn:
        return nonzero([(b.account, b.currency, b.amount) for b in books.balances(conn)])


def bean_balances(path: Path) -> Balances:
    out = run([tool("bean-query"), "-f", "csv", str(path),
               "SELECT account, currency, sum(number) AS total GROUP BY account, currency"])
    rows = list(csv.DictReader(io.StringIO(out)))
    return nonzero([(r["account"], r["currency"], Decimal(r["total"].strip())) for r in rows])


def ledger_balances(path: Path) -> Balances:
    out = run([tool("ledger"), "-f", str(path), "bal", "--flat", "--no-total", "--empty",
               "--balance-format", "%(account)\n%(display_amount)\n@@\n"])
    pairs: list[tuple[str, str, Decimal]] = []
    for block in out.split("@@\n"):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        account, *amounts = lines
        for amount in amounts:
            if amount == "0":
                continue
            number, commodity = amount.split()
            pairs.append((account, commodity, Decimal(number)))
    return nonzero(pairs)


def hledger_balances(path: Path) -> Balances:
    out = run([tool("hledger"), "-f", str(path), "bal", "--flat", "-N", "-O", "csv", "--layout=bare"])
    rows = list(csv.DictReader(io.StringIO(out)))
    return nonzero([(r["account"], r["commodity"], Decimal(r["balance"])) for r in rows if r["commodity"]])


def export_to(engine: Engine, path: Path, fmt: str) -> None:
    with db.read_transaction(engine) as conn, path.open("w", encoding="utf-8", newline="\n") as fh:
        export_ledger(conn, fh, fmt)


def check_tools(engine: Engine, where: Path) -> Balances:
    """Export, run every tool, and compare each with fisiq's trial balance; returns it."""
    expected = fisiq_balances(engine)
    bean, led = where / "books.beancount", where / "books.ledger"
    export_to(engine, bean, "beancount")
    export_to(engine, led, "ledger")
    checked = subprocess.run([tool("bean-check"), str(bean)], capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0 and not checked.stdout.strip() and not checked.stderr.strip(), \
        checked.stdout + checked.stderr
    assert bean_balances(bean) == expected
    assert ledger_balances(led) == expected
    assert hledger_balances(led) == expected
    return expected


# --- Hypothesis-generated ledgers --------------------------------------------------------

PARTIES = (
    "Ministère des Relations internationales et de la Francophonie",
    "L'ŒUVRE LÉGER",
    "Coopérative d'Épargne, Jacmel: Femmes",
    "Fonds de solidarité FTQ",
    "Association 50 % ; Sénégal",
    "Développement et Paix — Caritas",
)
EXTRA_ACCOUNT = "Expenses:Audit-Fees-2019"
ACCOUNTS = [a.name for a in STANDARD_CHART] + [EXTRA_ACCOUNT]
CURRENCIES = {"CAD": 2, "USD": 2, "XOF": 0}
MEMO = st.text(alphabet=st.sampled_from(list("aéÉ' \"\\;|()#%:,=-+@\t\n\r*!0123456789{}[]^~")), max_size=30)


@st.composite
def entry_specs(draw: st.DrawFn) -> list[tuple[str, object]]:
    """Operations: ("entry", EntryDraft), ("reverse", index), ("close", None)."""
    ops: list[tuple[str, object]] = []
    day = date(2017, 1, 1)
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        day += timedelta(days=draw(st.integers(min_value=0, max_value=200)))
        choice = draw(st.sampled_from(["entry", "entry", "entry", "reverse", "close"]))
        if choice == "entry":
            postings: list[Posting] = []
            for currency in draw(st.lists(st.sampled_from(sorted(CURRENCIES)), min_size=1, max_size=2, unique=True)):
                legs = draw(st.integers(min_value=1, max_value=3))
                total = 0
                for _ in range(legs):
                    minor = draw(st.integers(min_value=1, max_value=10**12)) * draw(st.sampled_from([1, -1]))
                    total += minor
                    postings.append(Posting(draw(st.sampled_from(ACCOUNTS)), from_minor(minor, currency), currency,
                                            draw(st.none() | st.sampled_from(PARTIES))))
                if total == 0:
                    continue
                postings.append(Posting(draw(st.sampled_from(ACCOUNTS)), from_minor(-total, currency), currency,
                                        draw(st.none() | st.sampled_from(PARTIES))))
            if len(postings) >= 2:
                ops.append(("entry", EntryDraft(day, draw(MEMO), tuple(postings))))
        elif choice == "reverse":
            ops.append(("reverse", draw(st.integers(min_value=0, max_value=20))))
        else:
            ops.append(("close", None))
            day += timedelta(days=1)
    return ops


def build(engine: Engine, ops: list[tuple[str, object]]) -> None:
    from fisiq.names import name_key, skeleton

    books.add_account(engine, EXTRA_ACCOUNT, AccountType.EXPENSE, "audit")
    with db.write_transaction(engine) as conn:
        conn.execute(insert(books.PARTY), [
            {"name": n, "name_key": name_key(n), "skeleton": skeleton(n), "kind": "investor",
             "recorded_at": db.utc_now(), "recorded_by": "test"} for n in PARTIES
        ])
    recorded: list[int] = []
    last_day = date(2017, 1, 1)
    for kind, value in ops:
        if kind == "entry":
            assert isinstance(value, EntryDraft)
            recorded.append(books.record_entry(engine, value).entry.id)
            last_day = value.date
        elif kind == "reverse" and recorded:
            target = recorded.pop(int(value) % len(recorded))  # type: ignore[call-overload]
            last_day += timedelta(days=1)
            books.reverse_entry(engine, target, last_day)
        elif kind == "close":
            last_day += timedelta(days=1)
            books.close_period(engine, last_day)


@settings(max_examples=int(os.environ.get("FISIQ_TOOLS_EXAMPLES", "10")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(ops=entry_specs())
def test_tools_agree_with_fisiq_on_generated_ledgers(
    ops: list[tuple[str, object]], sqlite_template: Path, tmp_path: Path
) -> None:
    for name in ("bean-check", "bean-query", "ledger", "hledger"):
        tool(name)
    where = tmp_path / uuid.uuid4().hex[:8]
    where.mkdir()
    target = where / "books.db"
    shutil.copyfile(sqlite_template, target)
    engine = db.open_ledger(str(target))
    try:
        build(engine, ops)
        check_tools(engine, where)
    finally:
        engine.dispose()


def test_party_names_survive_in_the_tools(sqlite_template: Path, tmp_path: Path) -> None:
    """Party names are readable back: beancount metadata exactly, ledger tags through the map."""
    import json

    target = tmp_path / "books.db"
    shutil.copyfile(sqlite_template, target)
    engine = db.open_ledger(str(target))
    try:
        legs = [Posting("Assets:Loans:Principal", Decimal("10.00"), "CAD", name) for name in PARTIES]
        legs.append(Posting("Assets:Cash", Decimal("-60.00"), "CAD", None))
        build(engine, [("entry", EntryDraft(date(2018, 5, 1), "prêt", tuple(legs)))])
        check_tools(engine, tmp_path)
    finally:
        engine.dispose()
    from beancount import loader

    entries, errors, _ = loader.load_file(str(tmp_path / "books.beancount"))
    assert not errors
    parties = [p.meta.get("party") for e in entries if hasattr(e, "postings") for p in e.postings]
    assert parties == [*PARTIES, None]
    text = (tmp_path / "books.ledger").read_text(encoding="utf-8")
    mapping = {}
    for line in text.splitlines():
        if line.startswith(";   party-map: "):
            written, _, exact = line.removeprefix(";   party-map: ").partition(" = ")
            mapping[written] = json.loads(exact)
    tagged = run([tool("hledger"), "-f", str(tmp_path / "books.ledger"), "tags", "party", "--values"]).split("\n")
    assert sorted(mapping.get(v, v) for v in tagged if v) == sorted(PARTIES)


# --- the bundled FISIQ ledger ------------------------------------------------------------


def test_tools_agree_with_fisiq_on_the_bundled_ledger(tmp_path: Path) -> None:
    for name in ("bean-check", "bean-query", "ledger", "hledger"):
        tool(name)
    target = tmp_path / "fisiq.db"
    spec = importlib.util.spec_from_file_location("fisiq_ledger_build", ROOT / "ledger" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    steps = getattr(module, "BUILD", None)
    if steps is not None:
        from fisiq.cli.main import app

        runner = CliRunner()
        for step in steps:
            result = runner.invoke(app, ["--db", str(target), *step])
            assert result.exit_code == 0, (step, result.output)
    else:
        fisiq = Path(sys.executable).with_name("fisiq")
        run([sys.executable, str(ROOT / "ledger" / "build.py"), "--fisiq", str(fisiq), "--db", str(target)])
    engine = db.open_ledger(str(target))
    try:
        expected = check_tools(engine, tmp_path)
    finally:
        engine.dispose()
    assert expected, "the bundled ledger has balances"
