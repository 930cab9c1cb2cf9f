"""What every command group shares: the ledger target, consoles, errors, JSON, dates.

Kept free of database imports: `fisiq --help` must not load SQLAlchemy. Commands import
storage modules inside their bodies, when they actually run.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy import Engine

EXIT_REFUSED = 1


class State:
    """Options of the root command, shared with every sub-command through the context."""

    def __init__(self, target: str | None = None) -> None:
        self.target = target


def target_from(ctx: typer.Context) -> str:
    from fisiq.db import default_target

    root = ctx.find_root()
    state = root.obj if isinstance(root.obj, State) else None
    return (state.target if state and state.target else None) or default_target()


def open_engine(ctx: typer.Context) -> Engine:
    """Open the ledger the user pointed at (refusing anything that is not a fisiq ledger)."""
    from fisiq.db import open_ledger

    return open_ledger(target_from(ctx))


@contextmanager
def ledger(ctx: typer.Context) -> Iterator[Engine]:
    engine = open_engine(ctx)
    try:
        yield engine
    finally:
        engine.dispose()


def stdout_console() -> Console:
    from rich.console import Console

    # Not a terminal (a pipe, a test): wide enough that tables keep their columns.
    width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "120"))
    return Console(width=width, highlight=False)


def print_json(doc: Any) -> None:
    """Machine-readable output: plain JSON on stdout, UTF-8, stable key order."""
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")


def fail(message: str) -> NoReturn:
    """One clear line on stderr and a non-zero exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_REFUSED)


def parse_date_option(value: str | None, what: str = "date") -> date | None:
    from fisiq.entries import EntryError, parse_date

    if value is None:
        return None
    try:
        return parse_date(value)
    except EntryError as exc:
        fail(f"--{what}: {exc}")


def today() -> date:
    return date.today()


def lang_option_default() -> str:
    """The report language: FISIQ_LANG, else the system locale (fr_* gives French)."""
    env = os.environ.get("FISIQ_LANG") or os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
    return "fr" if env.lower().startswith("fr") else "en"


LangOption = Annotated[
    str | None, typer.Option("--lang", help="fr or en (default: FISIQ_LANG or the system locale).")
]


def resolve_lang(lang: str | None) -> str:
    """The report language asked for, else the default; one clear refusal for anything else."""
    value = (lang or lang_option_default()).lower()
    if value not in ("fr", "en"):
        fail(f"--lang must be fr or en, not {lang!r}")
    return value


def _message_for(exc: BaseException) -> str | None:
    """The one line a person sees for an error fisiq expects, or None for a real bug."""
    from fisiq.errors import FisiqError

    if isinstance(exc, FisiqError):
        return str(exc)
    module = type(exc).__module__
    if module.startswith("fisiq.db") or type(exc).__name__ == "LedgerOpenError":
        return str(exc)
    if module.startswith("sqlalchemy"):
        orig = getattr(exc, "orig", None) or exc
        text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        if "database is locked" in text:
            return "the ledger is busy with another writer; try again"
        return f"the database refused the operation: {text}"
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}: {getattr(exc, 'filename', '') or ''}".rstrip(": ")
    return None


class FisiqGroup(TyperGroup):
    """The root group: turns every expected refusal into one line on stderr and exit 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            # Usage errors and typer.Exit are not ours to translate: they get None here.
            message = _message_for(exc)
            if message is None:
                raise
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(EXIT_REFUSED) from None


def sub_app(help_text: str) -> typer.Typer:
    """A command group with the conventions every fisiq group follows."""
    return typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=None, add_completion=False)


def json_option() -> Any:
    return typer.Option("--json", help="Print machine-readable JSON instead of a table.")


Renderer = Callable[..., None]
