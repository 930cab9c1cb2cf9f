"""End to end: build the bundled FISIQ ledger as `ledger/build.py` does and check the report's figures."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).parents[1]
Run = Callable[..., Any]


def _build_module() -> Any:
    spec = importlib.util.spec_from_file_location("fisiq_ledger_build", REPO / "ledger" / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def test_bundled_ledger_matches_the_annual_report(fisiq: Run) -> None:
    build = _build_module()
    for step in build.BUILD:
        ok(fisiq(*step))
    doc = json.loads(ok(fisiq("progress", "--json")).stdout)
    at = {c["category"]: c for c in doc["categories"]}
    assert at["member"]["target"] == "1000000.00"
    assert at["member"]["signed"] == "465000.00" and at["member"]["paid"] == "0.00"
    assert at["labour-fund"]["in_principle"] == "4000000.00" and at["labour-fund"]["signed"] == "0.00"
    assert at["government"]["paid"] == "75000.00" and at["government"]["signed"] == "75000.00"
    assert at["government"]["prospect"] == "2000000.00"
    assert at["other"] == {**at["other"], "paid": "0.00", "signed": "0.00", "in_principle": "0.00", "prospect": "0.00"}
    # No target is invented where the report states none.
    assert at["labour-fund"]["target"] is None and at["government"]["target"] is None and doc["total"]["target"] is None
    assert at["member"]["share_signed"] == "46.5"
    assert json.loads(ok(fisiq("progress", "--as-of", "2018-03-30", "--json")).stdout)["total"]["signed"] == "0.00"
    tb = json.loads(ok(fisiq("report", "trial-balance", "--json")).stdout)
    assert tb["total"] == "0.00"
    assert {r["account"]: r["balance"] for r in tb["rows"]} == {
        "Assets:Cash": "75000.00", "Equity:Commitments:Receivable": "465000.00",
        "Equity:Commitments:Subscribed": "-465000.00", "Equity:Paid-In-Capital": "-75000.00"}
    members = json.loads(ok(fisiq("party", "list", "--kind", "member", "--json")).stdout)["parties"]
    assert len(members) == 68  # the 67 organizations and their collective investment
    assert json.loads(ok(fisiq("audit", "verify", "--json")).stdout)["ok"]
    # Building again on the same ledger records nothing new (the files are idempotent).
    head = json.loads(ok(fisiq("audit", "verify", "--json")).stdout)["head"]
    for step in build.BUILD[1:]:
        ok(fisiq(*step))
    assert json.loads(ok(fisiq("audit", "verify", "--json")).stdout)["head"] == head


def test_build_script_runs(tmp_path: Path) -> None:
    fisiq = Path(sys.executable).with_name("fisiq")
    db = tmp_path / "fisiq.db"
    out = subprocess.run([sys.executable, str(REPO / "ledger" / "build.py"), "--fisiq", str(fisiq), "--db", str(db)],
                         capture_output=True, text=True, check=True, env={"COLUMNS": "140", "FISIQ_LANG": "fr"})
    assert "465 000,00 $" in out.stdout and "4 000 000,00 $" in out.stdout and "75 000,00 $" in out.stdout
    assert "OK:" in out.stdout


def test_build_script_builds_on_postgresql(ledgers: Any) -> None:
    """`build.py --db URL` passed the URL through Path(), which made 'postgresql+psycopg:/...' of
    it: a SQLite file built in folders named after the URL, the database left empty."""
    if ledgers.engine_name != "postgresql":
        pytest.skip("the SQLite build is test_build_script_runs")
    fisiq = Path(sys.executable).with_name("fisiq")
    url = ledgers.target(initialised=False)
    out = subprocess.run([sys.executable, str(REPO / "ledger" / "build.py"), "--fisiq", str(fisiq), "--db", url],
                         capture_output=True, text=True, check=True, env={"COLUMNS": "140", "FISIQ_LANG": "fr"})
    assert "465 000,00 $" in out.stdout
    verified = subprocess.run([str(fisiq), "--db", url, "audit", "verify", "--json"], capture_output=True, text=True,
                              check=True)
    assert json.loads(verified.stdout)["ok"] is True and json.loads(verified.stdout)["entries"] > 0
