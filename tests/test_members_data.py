"""The bundled AQOCI member list (ledger/members.csv): complete, clean, unambiguous."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from fisiq.names import clean_name, name_key, skeleton

REPO = Path(__file__).parents[1]
MEMBERS = REPO / "ledger" / "members.csv"
SEED = Path(__file__).parents[2] / "shared" / "seed"
SECTIONS = {"## MEMBRES RÉGULIERS": "regular", "## MEMBRES SYMPATHISANTS": "sympathizing"}


def _rows() -> list[dict[str, str]]:
    with MEMBERS.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _seed_bullets() -> dict[str, int]:
    """Bullet lines per membership in the report's member list, or {} without the seed."""
    reports = [
        p for p in sorted(SEED.glob("*.txt")) if "# LISTE DES MEMBRES DE L'AQOCI" in p.read_text("utf-8")
    ]
    if not reports:
        return {}
    counts = dict.fromkeys(SECTIONS.values(), 0)
    section = None
    for line in reports[0].read_text("utf-8").splitlines():
        if line.startswith("#"):
            section = SECTIONS.get(line.strip())
        elif section and line.startswith("- "):
            counts[section] += 1
    return counts


def test_file_is_utf8_without_bom_with_lf_endings() -> None:
    data = MEMBERS.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    assert b"\r" not in data
    assert data.endswith(b"\n")
    assert data.decode("utf-8").splitlines()[0] == "name,acronym,membership"


def test_one_row_per_member_listed_in_the_report() -> None:
    if not SEED.is_dir():
        pytest.skip("seed folder absent: cannot compare with the AQOCI report")
    expected = _seed_bullets()
    assert expected, "member list not found in the seed folder"
    rows = _rows()
    found = {kind: sum(r["membership"] == kind for r in rows) for kind in expected}
    assert found == expected
    assert len(rows) == sum(expected.values())


def test_membership_values() -> None:
    assert {r["membership"] for r in _rows()} == {"regular", "sympathizing"}


def test_every_name_and_acronym_is_clean() -> None:
    for row in _rows():
        assert clean_name(row["name"]) == row["name"]
        if row["acronym"]:
            assert clean_name(row["acronym"], what="acronym", max_length=20) == row["acronym"]


def test_names_are_unique_and_lookalike_free() -> None:
    names = [r["name"] for r in _rows()]
    keys = [name_key(n) for n in names]
    assert len(set(keys)) == len(keys)
    shapes = [skeleton(n) for n in names]
    assert len(set(shapes)) == len(shapes)


def test_acronyms_are_unique() -> None:
    acronyms = [name_key(r["acronym"]) for r in _rows() if r["acronym"]]
    assert len(set(acronyms)) == len(acronyms)
    # Two members print "CSI"; neither carries it (see ledger/README.md).
    assert "csi" not in acronyms
