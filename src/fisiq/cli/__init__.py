"""The command-line interface: thin commands that parse, call one storage function, render."""

import sys


def main() -> None:
    """The `fisiq` console command.

    `fisiq --help` alone is answered from the catalog (fisiq.cli.roothelp) without importing
    typer, which costs more than the rest of the answer; everything else runs the typer app.
    """
    if sys.argv[1:] == ["--help"]:
        from fisiq.cli import roothelp

        print(roothelp.render(roothelp.terminal_width()))
        return
    from fisiq.cli.main import main as run_app

    run_app()
