"""Reading the CSV files people hand to fisiq, strictly, with errors a person can act on.

UTF-8 (a byte order mark is accepted), LF or CRLF line endings, quoted fields may hold commas
and line breaks. A row whose first cell starts with `#` is a comment, for a reader. Refused,
with the row: bytes that are not UTF-8, an unclosed quote, a header missing a required column
or naming an unknown or repeated one, a row with more cells than the header or with a value
under a column the header leaves unnamed.

Rows are numbered as a spreadsheet shows them: the header is row 1 (comment rows count too).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fisiq.errors import FisiqError

MAX_FIELD = 100_000


class CsvError(FisiqError):
    """A file that cannot be read as the expected CSV; nothing was recorded."""


@dataclass(frozen=True, slots=True)
class CsvProblem:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


@dataclass(frozen=True, slots=True)
class CsvRow:
    number: int
    cells: dict[str, str]

    def get(self, column: str, default: str = "") -> str:
        return self.cells.get(column, default)


@dataclass(frozen=True, slots=True)
class CsvTable:
    columns: tuple[str, ...]
    rows: tuple[CsvRow, ...]


def decode(data: bytes, name: str) -> str:
    """The file's text; a clear refusal for bytes that are not UTF-8."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CsvError(
            f"{name} is not UTF-8 (byte 0x{data[exc.start]:02x} on line {line}); "
            "save it as UTF-8 (CSV UTF-8 in a spreadsheet) and try again"
        ) from None
    if "\x00" in text:
        raise CsvError(f"{name} holds NUL bytes; it is not a text CSV file")
    return text


def parse_csv(text: str, name: str, *, allowed: Sequence[str], required: Sequence[str]) -> CsvTable:
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    header: list[str] | None = None
    rows: list[CsvRow] = []
    number = 0
    try:
        for cells in reader:
            number += 1
            if not cells or all(not c.strip() for c in cells):
                continue
            if cells[0].lstrip().startswith("#"):
                continue
            if any(len(c) > MAX_FIELD for c in cells):
                raise CsvError(f"{name}: row {number} has a field longer than {MAX_FIELD} characters")
            if header is None:
                header = [c.strip().lower() for c in cells]
                _check_header(header, name, number, allowed, required)
                continue
            if len(cells) > len(header):
                extra = [c for c in cells[len(header):] if c.strip()]
                if extra:
                    raise CsvError(f"{name}: row {number} has {len(cells)} cells but the header names {len(header)}")
            padded = [*cells, *[""] * (len(header) - len(cells))]
            unnamed = [i for i, col in enumerate(header) if not col and padded[i].strip()]
            if unnamed:
                raise CsvError(f"{name}: row {number} has a value in column {unnamed[0] + 1}, "
                               "which the header leaves unnamed")
            rows.append(CsvRow(number, {col: padded[i].strip() for i, col in enumerate(header) if col}))
    except csv.Error as exc:
        hint = " (a quote \" is opened but never closed)" if "unexpected end" in str(exc) or "EOF" in str(exc) else ""
        raise CsvError(f"{name}: row {number + 1}: {exc}{hint}") from None
    if header is None:
        raise CsvError(f"{name} is empty: it needs a header row ({', '.join(required)}, ...)")
    return CsvTable(tuple(header), tuple(rows))


JOURNAL_EXPORT = "a ledger-cli or beancount journal"
CSV_EXPORT = "fisiq's CSV export"


def fisiq_export(first_line: str) -> str | None:
    """Which of fisiq's own exports other than jsonl a file is, told by its first line
    (JOURNAL_EXPORT or CSV_EXPORT), or None."""
    if first_line.startswith(";"):
        return JOURNAL_EXPORT
    if first_line.startswith("entry,line,") and ",hash" in first_line:
        return CSV_EXPORT
    return None


def _check_header(header: list[str], name: str, number: int, allowed: Sequence[str], required: Sequence[str]) -> None:
    # Files fisiq writes itself, given back to an import: say what they are, not which column
    # is unknown (an auditor's export is for reading; only a jsonl export rebuilds a ledger).
    export = fisiq_export(",".join(header))
    if export == JOURNAL_EXPORT:
        raise CsvError(f"{name} is {export} (its first line is a ';' comment), not a CSV file; fisiq rebuilds a "
                       "ledger from a jsonl export (fisiq restore FILE.jsonl)")
    if export is not None:
        raise CsvError(f"{name} is {export}, written for reading; fisiq rebuilds a ledger from a jsonl export "
                       "(fisiq export --format jsonl, then fisiq restore FILE.jsonl)")
    seen: set[str] = set()
    for col in header:
        if not col:
            continue
        if col in seen:
            raise CsvError(f"{name}: row {number}: column {col!r} appears twice in the header")
        seen.add(col)
        if col not in allowed:
            separator = next((f" (the file seems separated by {word}: save it as CSV with commas)"
                              for sep, word in ((";", "semicolons"), ("\t", "tabs")) if sep in col), "")
            raise CsvError(
                f"{name}: row {number}: unknown column {col!r}; the columns are {', '.join(allowed)}{separator}"
            )
    missing = [c for c in required if c not in seen]
    if missing:
        raise CsvError(f"{name}: the header lacks the column(s) {', '.join(missing)}")


def read_csv(path: Path, *, allowed: Sequence[str], required: Sequence[str]) -> CsvTable:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CsvError(f"no file {path}") from None
    except IsADirectoryError:
        raise CsvError(f"{path} is a directory, not a CSV file") from None
    return parse_csv(decode(data, str(path)), str(path), allowed=allowed, required=required)
