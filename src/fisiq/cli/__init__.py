"""The command-line interface: thin commands that parse, call one storage function, render."""

import os
import sys


def main() -> None:
    """The `fisiq` console command.

    `fisiq --help` alone is answered from the catalog (fisiq.cli.roothelp) without importing
    typer, which costs more than the rest of the answer; everything else runs the typer app.
    """
    if sys.argv[1:] == ["--help"]:
        from fisiq.cli import roothelp

        try:
            print(roothelp.render(roothelp.terminal_width()), flush=True)
        except BrokenPipeError:
            # `fisiq --help | head -1`: the reader left. Say nothing and exit 1, as click does
            # for every other command; stdout goes to devnull so that the flush at exit cannot fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        return
    from fisiq.cli.main import main as run_app

    run_app()
