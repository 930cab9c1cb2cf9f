"""`fisiq --help` costs less than importing typer: a command's module loads when it is used.

The root lists its commands from a static registry (fisiq.cli.catalog), and `fisiq --help`
alone is printed from it without typer (fisiq.cli.roothelp). These tests keep the registry true
to the commands it stands for, that help true to typer's, and check what a start-up imports.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import typer.main
from hypothesis import example, given
from hypothesis import strategies as st
from typer._click.formatting import wrap_text
from typer._click.utils import make_default_short_help
from typer.testing import CliRunner

from fisiq.cli import catalog, roothelp
from fisiq.cli.main import COMMANDS, app

# What every command imports of fisiq before its own module; any other would make every start pay for it.
STARTUP_MODULES = {"fisiq", "fisiq.cli", "fisiq.cli.catalog", "fisiq.cli.main", "fisiq.cli.common"}
# The database layer and what it brings (pydantic alone costs more than typer).
HEAVY = ("sqlalchemy", "sqlmodel", "pydantic", "alembic")


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_registry_short_help_is_the_commands_own(name: str) -> None:
    command = COMMANDS[name].build(name)
    assert command.name == name
    # The first sentence, uncut: shorter limits truncate both the same way.
    assert COMMANDS[name].help == command.get_short_help_str(limit=10_000), (
        f"fisiq.cli.main.COMMANDS[{name!r}].help differs from the command's own help; update one of them"
    )


@pytest.mark.parametrize("name", list(catalog.ROOT_COMMANDS))
def test_the_catalog_short_help_of_a_root_command_is_its_own(name: str) -> None:
    root = typer.main.get_group(app)
    command = root.get_command(typer.Context(root), name)
    assert command is not None
    assert catalog.ROOT_COMMANDS[name] == command.get_short_help_str(limit=10_000)


def _typer_root_help(width: int, load_all: bool = False) -> str:
    root = typer.main.get_group(app)
    ctx = typer.Context(root, info_name="fisiq", terminal_width=width, max_content_width=width)
    if load_all:
        for name in root.list_commands(ctx):
            root.get_command(ctx, name)
    return root.get_help(ctx)


@pytest.mark.parametrize("width", [60, 80, 120, 200])
def test_root_help_lists_the_same_before_and_after_every_command_is_loaded(width: int) -> None:
    lazy = _typer_root_help(width)
    assert lazy == _typer_root_help(width, load_all=True)
    listed = [line.split()[0] for line in lazy.split("Commands:\n", 1)[1].splitlines() if line.startswith("  ")]
    assert listed == ["init", "upgrade", *COMMANDS]


def test_the_help_printed_without_typer_is_typers_at_every_width() -> None:
    # click's help formatter is never narrower than 50 columns nor wider than 78 unless asked.
    for width in range(40, 121):
        assert roothelp.render(width) == _typer_root_help(width), f"at width {width}"


@pytest.mark.parametrize("columns", ["20", "51", "60", "79", "81", "300"])
def test_fisiq_help_in_a_terminal_is_what_typer_prints_there(columns: str) -> None:
    # In subprocesses: typer's CliRunner forces click's width to 80 whatever the terminal says.
    def run(code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", code, "--help"],
            capture_output=True, text=True, env={**os.environ, "COLUMNS": columns},
        )

    typer_says = run("from fisiq.cli.main import main; main()")
    fast = run("from fisiq.cli import main; main()")
    assert (fast.returncode, fast.stderr) == (typer_says.returncode, typer_says.stderr) == (0, "")
    assert fast.stdout == typer_says.stdout


def _loaded_by(*args: str) -> tuple[str, set[str]]:
    """What `fisiq ARGS` printed in a fresh interpreter, and the modules it imported."""
    code = (
        "import sys\n"
        "from fisiq.cli import main\n"  # the console script's entry point
        f"sys.argv = ['fisiq', *{list(args)!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('MODULES', *sorted(sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    text, modules = out.rsplit("MODULES ", 1)
    return text, set(modules.split())


def test_help_imports_neither_typer_nor_a_command_module_nor_the_database_layer() -> None:
    text, modules = _loaded_by("--help")
    assert "Commands:" in text and "loan" in text
    assert {m for m in modules if m.split(".")[0] == "fisiq"} == {"fisiq", "fisiq.cli", "fisiq.cli.catalog", "fisiq.cli.roothelp"}
    assert not {m for m in modules if m.split(".")[0] in ("typer", "rich", *HEAVY)}


def test_help_with_an_option_is_typers() -> None:
    text, modules = _loaded_by("--db", "elsewhere.db", "--help")
    assert "Commands:" in text and "typer" in modules
    assert not {m for m in modules if m.split(".")[0] in HEAVY}


def test_a_group_imports_its_own_module_only() -> None:
    text, modules = _loaded_by("audit", "--help")
    assert "verify" in text
    assert {m for m in modules if m.startswith("fisiq.cli")} == {*STARTUP_MODULES, "fisiq.cli.audit"} - {"fisiq"}


def test_a_report_loads_neither_the_model_classes_nor_pydantic(tmp_path: Path) -> None:
    """Reports read through SQLAlchemy Core; SQLModel's classes and pydantic would add a fifth
    to their start-up. (typer 0.29 imports pydantic for every parameter: pyproject keeps < 0.29.)"""
    target = str(tmp_path / "books.db")
    assert CliRunner().invoke(app, ["--db", target, "init"]).exit_code == 0
    text, modules = _loaded_by("--db", target, "report", "trial-balance", "--json")
    assert '"total"' in text
    assert "sqlalchemy" in modules
    assert not {m for m in modules if m.split(".")[0] in ("sqlmodel", "pydantic", "pydantic_core")}


# Lines as fisiq writes help: words (hyphenated or long ones included) separated by one space.
_words = st.text(alphabet="ab-.", min_size=1, max_size=12).filter(lambda w: w.strip())
_lines = st.lists(_words, min_size=1, max_size=12).map(" ".join)
_texts = st.lists(st.one_of(_lines, st.just("")), min_size=1, max_size=8).map("\n".join)


@given(text=_texts, limit=st.integers(min_value=1, max_value=40))
@example(text="aaaa bbbb", limit=5)  # the first word and "..." do not fit: only "..." does
def test_short_help_shortens_as_click_does(text: str, limit: int) -> None:
    assert roothelp.short_help(text, limit) == make_default_short_help(text, limit)


@given(text=_texts, width=st.integers(min_value=1, max_value=90), indent=st.sampled_from(["", "  "]))
def test_help_text_wraps_as_click_wraps_it(text: str, width: int, indent: str) -> None:
    click_wraps = wrap_text(text, width, initial_indent=indent, subsequent_indent=indent, preserve_paragraphs=True)
    assert "\n".join(roothelp._wrap(text, width, indent)) == click_wraps


def test_help_into_a_closed_pipe_exits_as_typer_does_without_a_traceback() -> None:
    # `fisiq --help | head -1`: the reader is gone before fisiq writes (it starts in ~50 ms).
    def run(code: str) -> tuple[int, bytes]:
        proc = subprocess.Popen([sys.executable, "-c", code, "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        stderr = proc.stderr.read()
        proc.stderr.close()
        return proc.wait(), stderr

    assert run("from fisiq.cli import main; main()") == run("from fisiq.cli.main import main; main()") == (1, b"")
