"""`fisiq --help` without typer: the root's help, from fisiq.cli.catalog, as typer prints it.

Importing typer takes most of a `fisiq` start; the root's help is the one output that needs
nothing of it. The layout is click's (the usage line, the wrapped text, the Options and
Commands lists, their columns and truncations); tests/test_cli_startup.py compares this text
with typer's own at every width the terminal can give.
"""

import shutil
import textwrap

from fisiq.cli import catalog

USAGE = "Usage: fisiq [OPTIONS] COMMAND [ARGS]..."
HELP_HELP = "Show this message and exit."


class _Wrapper(textwrap.TextWrapper):
    """click's wrapper: a word longer than the line is cut where the line ends, hyphen or not."""

    def _handle_long_word(self, reversed_chunks: list[str], cur_line: list[str], cur_len: int, width: int) -> None:
        space_left = max(width - cur_len, 1)
        last = reversed_chunks[-1]
        cur_line.append(last[:space_left])
        reversed_chunks[-1] = last[space_left:]


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    """`text` wrapped to `width`, each paragraph (lines up to a blank one) on its own, a blank
    line between them. As click wraps help, for text whose lines do not start with spaces."""
    wrapper = _Wrapper(width, initial_indent=indent, subsequent_indent=indent, replace_whitespace=False)
    paragraphs: list[list[str]] = [[]]
    for line in text.splitlines():
        if line:
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    lines: list[str] = []
    for paragraph in filter(None, paragraphs):
        if lines:
            lines.append("")
        lines.extend(wrapper.wrap(" ".join(paragraph)))
    return lines


def short_help(text: str, limit: int) -> str:
    """The first sentence of `text` if it fits in `limit`, else its first words and "...".

    As click shortens a command's help for a group's list."""
    words = text.split("\n\n", 1)[0].split()
    length = 0
    for i, word in enumerate(words):
        length += len(word) + (i > 0)
        if length > limit:
            break
        if word.endswith("."):
            return " ".join(words[: i + 1])
    else:
        return " ".join(words)
    length += len("...")
    while i > 0:
        length -= len(words[i]) + (i > 0)
        if length <= limit:
            break
        i -= 1
    return " ".join(words[:i]) + "..."


def _definitions(rows: list[tuple[str, str]], width: int) -> list[str]:
    """A two-column list indented by two, as click writes options and commands."""
    first_col = min(max(len(term) for term, _ in rows), 30) + 2
    lines: list[str] = []
    for term, text in rows:
        wrapped = _wrap(text, max(width - first_col - 2, 10))
        if len(term) <= first_col - 2:
            lines.append(f"  {term:<{first_col}}{wrapped[0]}")
        else:
            lines.extend([f"  {term}", " " * (first_col + 2) + wrapped[0]])
        lines.extend(" " * (first_col + 2) + line for line in wrapped[1:])
    return lines


def render(width: int) -> str:
    """The root's help for a help formatter `width` columns wide, without the final newline."""
    options = [
        ("--db <str>", f"{catalog.DB_HELP}  [env var: {catalog.DB_ENVVAR}]"),
        ("--version", catalog.VERSION_HELP),
        ("--help", HELP_HELP),
    ]
    helps = {**catalog.ROOT_COMMANDS, **{name: spec[2] for name, spec in catalog.COMMANDS.items()}}
    limit = width - 6 - max(len(name) for name in helps)
    commands = [(name, short_help(text, limit)) for name, text in helps.items()]
    return "\n".join([
        USAGE, "", *_wrap(catalog.ROOT_HELP, width, indent="  "),
        "", "Options:", *_definitions(options, width),
        "", "Commands:", *_definitions(commands, width),
    ])


def terminal_width() -> int:
    """click's width for help: the terminal's columns less two, kept between 50 and 78."""
    return max(min(shutil.get_terminal_size().columns, 80) - 2, 50)
