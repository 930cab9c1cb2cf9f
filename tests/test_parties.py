"""Parties: unique names after normalization, lookalikes refused, found by name or acronym."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fisiq.parties import PartyError, make_party

Run = Callable[..., Any]
MEMBERS = Path(__file__).parents[1] / "ledger" / "members.csv"


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def refused(result: Any, fragment: str) -> None:
    assert result.exit_code == 1, result.output
    assert fragment in result.output, result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1, result.output


def test_add_find_by_name_or_acronym_list_and_show(fisiq: Run) -> None:
    doc = json.loads(ok(fisiq("party", "add", "Ministère des Relations internationales et de la Francophonie",
                              "--kind", "government", "--acronym", "MRIF", "--json")).stdout)
    assert doc["id"] == 1 and doc["acronym"] == "MRIF" and doc["kind"] == "government"
    ok(fisiq("party", "add", "Coopérative  Femmes\u00a0du Sud", "--kind", "borrower", "--country", "HT",
             "--region", "Haiti", "--sector", "agriculture", "--women-led"))
    for key in ("MRIF", "mrif", "ministère des relations internationales et de la francophonie"):
        assert json.loads(ok(fisiq("party", "show", key, "--json")).stdout)["id"] == 1
    borrower = json.loads(ok(fisiq("party", "show", "Coopérative Femmes du Sud", "--json")).stdout)
    assert borrower["name"] == "Coopérative Femmes du Sud" and borrower["women_led"] and borrower["country"] == "HT"
    listed = json.loads(ok(fisiq("party", "list", "--kind", "borrower", "--json")).stdout)["parties"]
    assert [p["name"] for p in listed] == ["Coopérative Femmes du Sud"]
    assert "MRIF" in ok(fisiq("party", "list")).stdout
    refused(fisiq("party", "show", "Nobody"), "unknown party")
    # Typed with a typographic apostrophe, it is pointed to the recorded name, as `entry add` does.
    ok(fisiq("party", "add", "Centre d'étude", "--kind", "foundation"))
    refused(fisiq("party", "show", "Centre d’étude"), "did you mean \"Centre d'étude\"?")
    shown = ok(fisiq("party", "show", "Coopérative Femmes du Sud", env={"COLUMNS": "120"})).stdout
    assert "Women led" in shown and "yes" in shown and "True" not in shown, shown


def test_names_are_unique_after_normalization_and_lookalikes_refused(fisiq: Run) -> None:
    ok(fisiq("party", "add", "Oxfam-Québec", "--kind", "member", "--acronym", "OQ"))
    refused(fisiq("party", "add", "OXFAM-QUÉBEC", "--kind", "member"), "already exists")
    refused(fisiq("party", "add", "Oxfam-Que\u0301bec", "--kind", "member"), "already exists")  # decomposed é
    refused(fisiq("party", "add", "Oxfаm-Québec", "--kind", "member"), "mixes")  # Cyrillic а
    refused(fisiq("party", "add", "Oxfam–Québec", "--kind", "member"), "looks like")  # en dash
    refused(fisiq("party", "add", "Oxfam\u200b-Québec", "--kind", "member"), "U+200B")
    refused(fisiq("party", "add", "OQ", "--kind", "member"), "already used")  # a name equal to an acronym
    refused(fisiq("party", "add", "Autre", "--kind", "member", "--acronym", "oq"), "already used")
    refused(fisiq("party", "add", "Oxfam-Quebec", "--kind", "member", "--acronym", "Oxfam-Québec"), "already used")
    ok(fisiq("party", "add", "Oxfam-Quebec", "--kind", "member"))  # accents kept: a different name


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"kind": "bank"}, "unknown party kind"),
        ({"kind": "member", "country": "HT"}, "--country describes borrowers"),
        ({"kind": "member", "country": "HT", "women_led": True}, "--country, --women-led describe borrowers"),
        ({"kind": "borrower", "country": "ht"}, "upper case"),
        ({"kind": "borrower", "country": "XX"}, "unknown country"),
        ({"kind": "government", "membership": "regular"}, "applies to members"),
        ({"kind": "member", "membership": "honorary"}, "unknown membership"),
    ],
)
def test_bad_descriptions(kwargs: dict[str, Any], fragment: str) -> None:
    kind = kwargs.pop("kind")
    with pytest.raises(PartyError, match=fragment):
        make_party("Un organisme", kind, **kwargs)


def test_parties_are_listed_in_french_order_on_every_engine(fisiq: Run) -> None:
    """Not in the database's collation: SQLite's byte order put every accented initial after Z."""
    for name in ("Zeta", "Éco-Village", "education Plus", "Œuvre Léger", "Fondaction", "ECO Bâtir"):
        ok(fisiq("party", "add", name, "--kind", "member"))
    listed = json.loads(ok(fisiq("party", "list", "--json")).stdout)["parties"]
    assert [p["name"] for p in listed] == [
        "ECO Bâtir", "Éco-Village", "education Plus", "Fondaction", "Œuvre Léger", "Zeta"]


def test_member_list_loads_once(fisiq: Run, tmp_path: Path) -> None:
    out = ok(fisiq("party", "import", str(MEMBERS), "--kind", "member")).stdout
    assert "Added 67 parties" in out
    assert "Added 0 parties" in ok(fisiq("party", "import", str(MEMBERS), "--kind", "member")).stdout
    members = json.loads(ok(fisiq("party", "list", "--kind", "member", "--json")).stdout)["parties"]
    assert len(members) == 67 and {p["membership"] for p in members} == {"regular", "sympathizing"}
    assert json.loads(ok(fisiq("party", "show", "AIPE", "--json")).stdout)["name"] == "Aide internationale pour l'enfance"
    bad = tmp_path / "bad.csv"
    bad.write_text("name,kind\nUn,member\nDeux,bank\nUn,member\n", encoding="utf-8")
    result = fisiq("party", "import", str(bad))
    assert result.exit_code == 1 and "row 3" in result.output
    bad.write_text("name,kind\nUn,member\nun,member\n", encoding="utf-8")
    refused(fisiq("party", "import", str(bad)), "appears twice")
    assert len(json.loads(ok(fisiq("party", "list", "--json")).stdout)["parties"]) == 67


@pytest.mark.parametrize(
    ("rows", "fragment"),
    [
        ("Oxfam-Québec,member,\nOxfam–Québec,member,\n", "looks like 'Oxfam-Québec' in this batch"),  # en dash
        ("Coopérative Kènè,borrower,CK\nCaisse Kènè,borrower,ck\n", "already used by 'Coopérative Kènè' in this batch"),
        ("Coopérative Kènè,borrower,CK\nCK,borrower,\n", "already used by 'Coopérative Kènè' in this batch"),
    ],
    ids=["lookalike", "same acronym", "name equal to an acronym"],
)
def test_an_import_refuses_clashes_within_the_file(fisiq: Run, tmp_path: Path, rows: str, fragment: str) -> None:
    """The checks between parties of one file, not only against those already recorded."""
    csv = tmp_path / "parties.csv"
    csv.write_text("name,kind,acronym\n" + "".join(f"Partie {n},borrower,\n" for n in range(300)) + rows,
                   encoding="utf-8")
    refused(fisiq("party", "import", str(csv)), fragment)
    assert json.loads(ok(fisiq("party", "list", "--json")).stdout)["parties"] == []


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("Coop H,borrower,XX,,,,,", "country"),
        ("Coop H,borrower,sn,,,,,", "country"),
        ("Coop I,borrower,,,,maybe,,", "women_led"),
        ("Coop I,borrower,,,,,peut-être,", "youth_led"),
        ("Coop J,member,,Haiti,,,,", "region"),
        ("Coop K,borrower,,,,,,ABCDEFGHIJKLMNOPQRSTUVWXYZ", "acronym"),
        ("Coop L,bank,,,,,,", "kind"),
        ("Coop M,borrower,,,Agri\x07culture,,,", "sector"),
        ("Coop N,investor,,,,,,,regular", "membership"),
        ("Co\x07op,borrower,,,,,,", "name"),
    ],
)
def test_an_import_names_the_column_at_fault(fisiq: Run, tmp_path: Path, row: str, column: str) -> None:
    """A bad country used to be reported as 'row 2, column name'."""
    csv = tmp_path / "parties.csv"
    csv.write_text("name,kind,country,region,sector,women_led,youth_led,acronym,membership\n" + row + "\n",
                   encoding="utf-8")
    result = fisiq("party", "import", str(csv))
    assert result.exit_code == 1 and f"parties.csv: row 2, column {column}: " in result.stderr, result.stderr
    assert json.loads(ok(fisiq("party", "list", "--json")).stdout)["parties"] == []


def test_an_import_without_kinds_says_how_to_give_them(fisiq: Run, tmp_path: Path) -> None:
    """A file with no kind column, imported without --kind, said "unknown party kind ''"."""
    csv = tmp_path / "names.csv"
    csv.write_text("name\nCoop X\n", encoding="utf-8")
    result = fisiq("party", "import", str(csv))
    assert result.exit_code == 1
    assert "row 2, column kind: no kind given; use member|" in result.stderr and "or --kind" in result.stderr
    assert ok(fisiq("party", "import", str(csv), "--kind", "member")).stdout == \
        f"Added 1 party from {csv}; 0 already recorded.\n"
