"""`fisiq report board`: the one-screen report for the board, in French or English.

Figures from `fisiq.board` (one read transaction), rendering from `fisiq.render_board`.
`--html` / `--svg` write the same report through rich's export for a board packet; each file
is written beside its destination first and renamed into place, so an error never leaves a
half-written file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fisiq.cli.common import (
    LangOption,
    check_destination,
    fail,
    json_option,
    ledger,
    parse_date_option,
    print_json,
    resolve_lang,
    stdout_console,
    today,
)

if TYPE_CHECKING:
    from rich.console import Console


def _write_whole(path: Path, text: str, option: str) -> None:
    from fisiq.files import whole_file

    try:
        with whole_file(path) as out:
            out.write(text)
    except OSError as exc:
        fail(f"{option} {path}: {exc.strerror or exc}")


def _html_format(lang: str, title: str) -> str:
    """rich's HTML page, with the report's language and a title (for screen readers and tabs)."""
    from html import escape

    from rich._export_format import CONSOLE_HTML_FORMAT

    safe = escape(title).replace("{", "{{").replace("}", "}}")
    return CONSOLE_HTML_FORMAT.replace("<html>", f'<html lang="{lang}">', 1).replace(
        '<meta charset="UTF-8">', f'<meta charset="UTF-8">\n<title>{safe}</title>', 1)


def _svg_format() -> str:
    """rich's SVG image without the fonts it would fetch from cdnjs.cloudflare.com when opened:
    a board packet is read offline and should not call out (the locally installed Fira Code,
    else any monospace font, draws it)."""
    from rich._export_format import CONSOLE_SVG_FORMAT

    return re.sub(r',\s*url\("https://[^"]*"\) format\("[^"]*"\)', "", CONSOLE_SVG_FORMAT)


# The red, yellow and green buttons of a terminal window that rich draws: not in a report.
_WINDOW_BUTTONS = re.compile(r'\s*<g transform="translate\(26,22\)">\s*(?:<circle [^>]*/>\s*){3}</g>')


def _recording_console() -> Console:
    import io

    from rich.console import Console

    from fisiq.render_board import WIDTH  # the report's layout width: exports use exactly that

    return Console(record=True, width=WIDTH, file=io.StringIO(), force_terminal=True, color_system="truecolor",
                   highlight=False)


def board(
    ctx: typer.Context,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The report at the end of this date "
                                              "(YYYY-MM-DD; default: today).")] = None,
    lang: LangOption = None,
    as_json: Annotated[bool, json_option()] = False,
    html: Annotated[Path | None, typer.Option("--html", help="Write the report as an HTML page to this "
                                              "file, instead of printing it.")] = None,
    svg: Annotated[Path | None, typer.Option("--svg", help="Write the report as an SVG image to this "
                                             "file, instead of printing it.")] = None,
) -> None:
    """The board report on one screen: campaign, cash free to lend, portfolio, the year, alerts.

    Alerts: loans in arrears, a borrower near (80 %) or above the largest-borrower limit, approved
    loans exceeding the cash, signed commitments unpaid after board.unpaid_commitment_days days.
    Example: fisiq report board --lang fr --html board-2019.html
    """
    from fisiq import db
    from fisiq.board import board_json, gather
    from fisiq.render_board import labels, render_board
    from fisiq.statements import long_date

    words = resolve_lang(lang)
    day = parse_date_option(as_of, "as-of") or today()
    for path, option in ((html, "--html"), (svg, "--svg")):
        if path is not None:
            check_destination(path, option, f"board.{option[2:]}")
    with ledger(ctx) as engine, db.read_transaction(engine) as conn:
        figures = gather(conn, day)
    written = []
    if html is not None or svg is not None:
        from rich.terminal_theme import DEFAULT_TERMINAL_THEME

        title = labels(words)["title"].format(date=long_date(day, words))
        recorder = _recording_console()
        render_board(recorder, figures, words)
        if html is not None:
            page = recorder.export_html(theme=DEFAULT_TERMINAL_THEME, clear=False, code_format=_html_format(words, title))
            _write_whole(html, page, "--html")
            written.append(html)
        if svg is not None:
            image = _WINDOW_BUTTONS.sub("", recorder.export_svg(theme=DEFAULT_TERMINAL_THEME, clear=False, title=title,
                                                                code_format=_svg_format()))
            _write_whole(svg, image, "--svg")
            written.append(svg)
    if as_json:
        print_json(board_json(figures, words))
        return
    if written:
        for path in written:
            typer.echo(("Rapport écrit dans " if words == "fr" else "Wrote the report to ") + str(path))
        return
    render_board(stdout_console(), figures, words)
