"""`fisiq party`: the investors and borrowers (add, load a list, list, show)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fisiq.cli.common import fail, json_option, ledger, print_json, stdout_console, sub_app

app = sub_app(
    "Parties: investors (member, labour-fund, government, foundation, investor) and borrowers.\n\n"
    "A party is found by its name or its acronym."
)

PARTY_COLUMNS = ("name", "acronym", "kind", "membership", "country", "region", "sector", "women_led",
                 "youth_led", "source")


@app.command("add")
def add_party(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The party's full name (accents kept).")],
    kind: Annotated[str, typer.Option("--kind", help="member|labour-fund|government|foundation|investor|borrower")],
    acronym: Annotated[str | None, typer.Option("--acronym", help="A short name that also finds the party.")] = None,
    country: Annotated[str | None, typer.Option("--country", help="Borrowers: ISO 3166 code, e.g. HT, SN.")] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="Borrowers: Africa, Latin America, Haiti, Asia, Middle East, ...")
    ] = None,
    sector: Annotated[str | None, typer.Option("--sector", help="Borrowers: activity sector.")] = None,
    women_led: Annotated[bool, typer.Option("--women-led", help="Borrowers: led by women.")] = False,
    youth_led: Annotated[bool, typer.Option("--youth-led", help="Borrowers: led by young people.")] = False,
    membership: Annotated[
        str | None, typer.Option("--membership", help="Members: regular|sympathizing.")
    ] = None,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """Add an investor or a borrower; its name (and acronym) must be new and unambiguous.

    Example: fisiq party add "Ministère des Relations internationales et de la Francophonie"
    --kind government --acronym MRIF
    """
    from fisiq import db, parties_db
    from fisiq.parties import make_party

    draft = make_party(name, kind, acronym=acronym, country=country, region=region, sector=sector,
                       women_led=women_led, youth_led=youth_led, membership=membership)
    with ledger(ctx) as engine:
        with db.write_transaction(engine) as conn:
            (party_id,) = parties_db.add_parties(conn, [draft])
        with db.read_transaction(engine) as conn:
            assert party_id is not None
            party = parties_db.get_party(conn, party_id)
    assert party is not None
    if as_json:
        print_json(party.json())
    else:
        typer.echo(f"Added party {party.id}: {party.name} ({party.kind}).")


@app.command("import")
def import_parties(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV with a header: name, and any of acronym, kind, membership, "
                                              "country, region, sector, women_led, youth_led, source.")],
    kind: Annotated[str | None, typer.Option("--kind", help="Kind of rows that have no kind column.")] = None,
) -> None:
    """Add the parties of a CSV file, all or none; parties already recorded the same are skipped.

    Example: fisiq party import ledger/members.csv --kind member
    """
    from fisiq import db, parties_db
    from fisiq.csvfile import CsvProblem, read_csv
    from fisiq.errors import FisiqError
    from fisiq.parties import make_party

    table = read_csv(file, allowed=PARTY_COLUMNS, required=("name",))
    drafts = []
    problems: list[CsvProblem] = []
    for row in table.rows:
        try:
            women_led, youth_led = (_flag(row.get(column, ""), column) for column in ("women_led", "youth_led"))
            drafts.append(make_party(
                row.get("name", ""), row.get("kind") or kind or "",
                acronym=row.get("acronym") or None, membership=row.get("membership") or None,
                country=row.get("country") or None, region=row.get("region") or None,
                sector=row.get("sector") or None, women_led=women_led, youth_led=youth_led,
            ))
        except FisiqError as exc:
            problems.append(CsvProblem(row.number, getattr(exc, "field", "name"), str(exc)))
    if problems:
        for p in problems:
            typer.echo(f"{file}: {p}", err=True)
        fail(f"{len(problems)} problem(s) in {file}; nothing recorded")
    with ledger(ctx) as engine, db.write_transaction(engine) as conn:
        ids = parties_db.add_parties(conn, drafts, skip_existing=True)
    added = sum(1 for i in ids if i is not None)
    typer.echo(f"Added {added} {'party' if added == 1 else 'parties'} from {file}; {len(ids) - added} already recorded.")


def _flag(text: str, column: str) -> bool:
    value = text.strip().lower()
    if value in ("", "0", "no", "false", "non"):
        return False
    if value in ("1", "yes", "true", "oui"):
        return True
    from fisiq.parties import PartyError

    raise PartyError(f"{text!r} is not yes or no", column)


@app.command("list")
def list_parties(
    ctx: typer.Context,
    kind: Annotated[str | None, typer.Option("--kind", help="Only parties of this kind.")] = None,
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """List the parties, by name.

    Example: fisiq party list --kind member --json
    """
    from fisiq import db, parties_db
    from fisiq.parties import check_kind
    from fisiq.render_campaign import render_parties

    wanted = check_kind(kind) if kind else None
    with ledger(ctx) as engine, db.read_transaction(engine) as conn:
        rows = [p.json() for p in parties_db.list_parties(conn, wanted)]
    if as_json:
        print_json({"parties": rows})
    else:
        render_parties(stdout_console(), rows)


@app.command("show")
def show_party(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The party's name or acronym.")],
    as_json: Annotated[bool, json_option()] = False,
) -> None:
    """Show one party, found by name or acronym, with its commitments.

    Example: fisiq party show MRIF
    """
    from fisiq import commitments_db, db, parties_db
    from fisiq.render_campaign import render_commitments, render_party

    with ledger(ctx) as engine, db.read_transaction(engine) as conn:
        party = parties_db.find_party(conn, name)
        if party is None:
            from fisiq.ledger import unknown_party

            fail(unknown_party(conn, name))  # with the recorded name it looks like, if any
        mine = [v.json() for v in commitments_db.list_commitments(conn) if v.party.id == party.id]
    doc = {**party.json(), "commitments": mine}
    if as_json:
        print_json(doc)
        return
    console = stdout_console()
    render_party(console, doc)
    if mine:
        render_commitments(console, mine)
