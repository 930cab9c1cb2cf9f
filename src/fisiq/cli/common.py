"""What every command group shares: the ledger target, consoles, errors, JSON, dates.

Kept free of database imports: `fisiq --help` must not load SQLAlchemy. Commands import
storage modules inside their bodies, when they actually run; command modules themselves are
imported only when one of their commands is asked for (see FisiqGroup).
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from datetime import date
from gettext import gettext as _
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, NamedTuple, NoReturn

import typer
import typer.main
from typer._click import Command, Context, HelpFormatter
from typer._click.utils import make_default_short_help
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
    from fisiq.cli.console import WholeTablesConsole

    # Not a terminal (a pipe, a test): wide enough that most tables keep their columns.
    width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "120"))
    return WholeTablesConsole(width=width, highlight=False)


def print_json(doc: Any) -> None:
    """Machine-readable output: plain JSON on stdout, UTF-8, stable key order."""
    import json  # here, not at the top: `fisiq --help` does not need it

    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")


def fail(message: str) -> NoReturn:
    """One clear line on stderr and a non-zero exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_REFUSED)


def check_destination(path: Path, option: str, example: str) -> None:
    """Refuse, before reading anything, a file destination that cannot be written (`example`:
    a file name to suggest instead of a folder)."""
    if path.is_dir():
        fail(f"{option} {path}: is a directory; give a file name such as {example}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        fail(f"{option} {path}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        fail(f"{option} {path}: permission denied")


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
    """The report language: FISIQ_LANG, else the system locale (fr_* gives French).

    FISIQ_LANG is fisiq's own setting: a value that is neither French nor English (fr, en,
    fr_CA.UTF-8...) is refused like a bad --lang, not silently read as English.
    """
    chosen = os.environ.get("FISIQ_LANG")
    if chosen:
        language = re.split(r"[_.\-@]", chosen.strip().lower(), maxsplit=1)[0]
        if language not in ("fr", "en"):
            fail(f"FISIQ_LANG must be fr or en, not {chosen!r}")
        return language
    env = os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
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
    if isinstance(exc, ValueError) and "null byte" in str(exc):
        # What the operating system says of a path holding NUL (only a program can pass one).
        return "a file name cannot contain the NUL character"
    return None


class LazyCommand(NamedTuple):
    """A top-level command known by name and short help until it is used.

    Building a command makes typer inspect every signature of its module, and importing the
    module loads its dependencies: `fisiq --help` does neither, it prints `help` instead.
    """

    module: str
    """The module that defines it, such as "fisiq.cli.loans"."""
    attr: str
    """The typer.Typer of a group, or the function of a single command, in that module."""
    help: str
    """Its short help as `fisiq --help` shows it: the first sentence of its own help, which
    tests/test_cli_startup.py checks so that the two cannot drift apart."""

    def build(self, name: str) -> Command:
        """The command exactly as `app.add_typer(...)` or `app.command(name)(...)` on the root made it.

        Going through a root-like Typer matters: a Typer with one command built on its own
        would be that command, not a group (`fisiq audit verify` would become `fisiq audit`).
        """
        target = getattr(importlib.import_module(self.module), self.attr)
        root = typer.Typer(rich_markup_mode=None, add_completion=False)  # as fisiq.cli.main.app
        if isinstance(target, typer.Typer):
            root.add_typer(target, name=name)
        else:
            root.command(name)(target)
        return typer.main.get_group(root).commands[name]


class LazyCommands(MutableMapping[str, Command]):
    """A group's commands: those built already, then the lazy ones, built on first read.

    Names, `in` and `len` import nothing, so typer's "Did you mean ...?" still sees every
    command; reading one (`get`, `[]`, `items()`) builds it once.
    """

    def __init__(self, built: Mapping[str, Command], lazy: Mapping[str, LazyCommand]) -> None:
        self._built = dict(built)
        self._lazy = lazy
        self._names = [*self._built, *(name for name in lazy if name not in self._built)]

    def __getitem__(self, name: str) -> Command:
        if name not in self._built:
            if name not in self._names:
                raise KeyError(name)
            self._built[name] = self._lazy[name].build(name)
        return self._built[name]

    def __setitem__(self, name: str, command: Command) -> None:
        if name not in self._names:
            self._names.append(name)
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self._names:
            raise KeyError(name)
        self._names.remove(name)
        self._built.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names))

    def __len__(self) -> int:
        return len(self._names)

    def short_help(self, name: str, limit: int) -> str:
        """What a group's help lists for `name`, without building it if it is lazy."""
        if name in self._lazy and name not in self._built:
            return make_default_short_help(self._lazy[name].help, limit)
        return self[name].get_short_help_str(limit)


class FisiqGroup(TyperGroup):
    """The root group: turns every expected refusal into one line on stderr and exit 1.

    Its commands are those typer built (defined with the root, such as `init`) followed by
    `lazy_commands`, whose modules are imported only when one of them is used.
    """

    lazy_commands: ClassVar[Mapping[str, LazyCommand]] = {}
    commands: LazyCommands

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(self.commands, self.lazy_commands)

    def list_commands(self, ctx: Context) -> list[str]:
        return list(self.commands)  # typer's reads every command, which would build them all

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        """As typer lists commands (same columns, same truncation), from the short helps."""
        names = self.list_commands(ctx)
        if names:
            limit = formatter.width - 6 - max(len(name) for name in names)
            with formatter.section(_("Commands")):
                formatter.write_dl([(name, self.commands.short_help(name, limit)) for name in names])

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


# Amount arguments may be typed negative ("-5"): let them reach fisiq's own refusal (exit 1)
# instead of click's "no such option" (exit 2).
AMOUNT_COMMAND = {"ignore_unknown_options": True}


def sub_app(help_text: str) -> typer.Typer:
    """A command group with the conventions every fisiq group follows."""
    return typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=None, add_completion=False)


def json_option() -> Any:
    return typer.Option("--json", help="Print machine-readable JSON instead of a table.")


Renderer = Callable[..., None]
