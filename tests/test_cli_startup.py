"""`fisiq --help` stays about as cheap as importing typer: a command's module loads when it is used.

The root lists its commands from a static registry (fisiq.cli.main.COMMANDS); these tests keep
that registry true to the commands it stands for, and check what a start-up really imports.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from fisiq.cli.main import COMMANDS, app

# What `fisiq --help` may import of fisiq; loading any other module would make every start pay for it.
STARTUP_MODULES = {"fisiq", "fisiq.cli", "fisiq.cli.main", "fisiq.cli.common"}
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


@pytest.mark.parametrize("width", [60, 80, 120, 200])
def test_root_help_lists_the_same_before_and_after_every_command_is_loaded(width: int) -> None:
    def root_help(load_all: bool) -> str:
        root = typer.main.get_command(app)
        ctx = typer.Context(root, info_name="fisiq", terminal_width=width, max_content_width=width)
        if load_all:
            for name in root.list_commands(ctx):
                root.get_command(ctx, name)
        return root.get_help(ctx)

    lazy = root_help(load_all=False)
    assert lazy == root_help(load_all=True)
    listed = [line.split()[0] for line in lazy.split("Commands:\n", 1)[1].splitlines() if line.startswith("  ")]
    assert listed == ["init", "upgrade", *COMMANDS]


def test_a_mistyped_command_is_still_suggested() -> None:
    result = CliRunner().invoke(app, ["portfolo"])
    assert result.exit_code == 2
    assert "Did you mean 'portfolio'?" in result.output


def _loaded_by(*args: str) -> tuple[str, set[str]]:
    """The help printed by `fisiq ARGS` in a fresh interpreter, and the modules it imported."""
    code = (
        "import sys\n"
        "from fisiq.cli.main import app\n"
        f"sys.argv = ['fisiq', *{list(args)!r}]\n"
        "try:\n"
        "    app(prog_name='fisiq')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('MODULES', *sorted(sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    text, modules = out.rsplit("MODULES ", 1)
    return text, set(modules.split())


def test_help_imports_no_command_module_and_no_database_layer() -> None:
    text, modules = _loaded_by("--help")
    assert "Commands:" in text and "loan" in text
    assert {m for m in modules if m.split(".")[0] == "fisiq"} == STARTUP_MODULES
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
