"""Exports for auditors: CSV, JSON Lines, beancount and ledger-cli/hledger files.

Formatting is pure (entries in, lines out); `export_ledger` reads the books through
`ledger.iter_entries` in one read transaction and streams, so a million-entry ledger never
sits in memory. Every file ends with a checkpoint, the number of entries in the ledger and
the chain head's hash at the time of the export; `fisiq audit verify --checkpoint FILE` later
proves the ledger still extends it.

- csv: one row per posting (an entry without postings, a period close, gets one row with
  empty posting cells). Text cells that a spreadsheet would run as a formula (starting with
  `=`, `+`, `-`, `@`, a tab or a carriage return) are prefixed with a single quote `'`;
  amounts are plain numbers (`-12.50`). Last line: `# fisiq checkpoint entries=N head=H`.
- jsonl: one JSON object per line, each with one key naming what it is: `fisiq` (the
  header), `account`, `party`, `entry` (every stored field, hashes included), then, in an
  export of the whole ledger, the registers (`target`, `setting`, `commitment`,
  `commitment_event`, `loan`, `loan_event`: see `registers.py`), and `checkpoint` (last;
  with the registers, it also counts each one's rows, the accounts and the parties, and
  keeps a digest of their lines).
  `fisiq restore` rebuilds a ledger from it, byte for byte.
- beancount: passes `bean-check`; parties are `party:` metadata strings on postings.
- ledger: read the same by `ledger` and `hledger`; parties are `; party: NAME` tags.
  Both end with the comment `; fisiq checkpoint entries=N head=H`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, TextIO

from fisiq.accounts import Account, check_account_name
from fisiq.entries import RecordedEntry
from fisiq.errors import FisiqError
from fisiq.money import to_str
from fisiq.reports import entry_json

if TYPE_CHECKING:
    from sqlalchemy import Connection

FORMATS = ("csv", "jsonl", "beancount", "ledger")
JOURNAL_FORMAT = "journal"
# Version 2 added the register lines; a version 1 file holds the books alone. Version 3 writes
# the accounts in the order they were opened and digests them and the parties in its
# checkpoint: a fisiq that reads only version 2 would take the new digests for an edit.
JOURNAL_VERSION = 3
JOURNAL_VERSIONS = (1, 2, 3)
CSV_COLUMNS = (
    "entry", "line", "date", "kind", "account", "party", "amount", "currency",
    "memo", "ref", "link", "reverses", "hash",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CHECKPOINT = re.compile(r"^(?:;|#) fisiq checkpoint entries=([0-9]+) head=([0-9a-f]{64})$")


class ExportError(FisiqError):
    """An export that cannot be written or a file whose checkpoint cannot be read."""


RegisterMark = tuple[str, int, str]  # register kind, rows, SHA-256 of their export lines


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """How far the chain went when a file was exported: N entries, entry N's hash; and, for a
    whole jsonl export, how many rows each register had and a digest of their lines.

    Register rows are not chained like entries; append-only, their first rows never change,
    so a digest of them, kept with the checkpoint, shows later whether one was edited.
    """

    entries: int
    head: str
    registers: tuple[RegisterMark, ...] | None = None

    def chain(self) -> tuple[int, str]:
        return self.entries, self.head


def register_line(kind: str, row: Mapping[str, object]) -> str:
    """A register row as a jsonl export writes it (without the newline)."""
    return _json({kind: dict(row)})


# Append-only tables a whole jsonl export's checkpoint digests besides the registers. The
# entries' hashes cover an account's or a party's name only: its type, a party's kind or
# whether a borrower is led by women, which the reports count by, only this digest covers.
BOOK_KINDS = ("account", "party")


def account_doc(account: Account) -> dict[str, object]:
    """An account's fields as a jsonl export writes them."""
    return {"name": account.name, "type": account.type.value, "description": account.description}


def book_lines(accounts: Iterable[Account], parties: Iterable[Mapping[str, object]]) -> Iterator[tuple[str, Mapping[str, object]]]:
    """The account and party lines of a jsonl export, as (kind, fields), in that order."""
    for account in accounts:
        yield "account", account_doc(account)
    for party in parties:
        yield "party", party


class RegisterDigests:
    """Per kind (BOOK_KINDS, then the registers), its rows and the SHA-256 of their lines
    (each followed by a newline), fed one row at a time: what a whole jsonl export's
    checkpoint records."""

    def __init__(self) -> None:
        from fisiq.registers import REGISTERS

        self._digests = {kind: hashlib.sha256() for kind in (*BOOK_KINDS, *(reg.kind for reg in REGISTERS))}
        self._rows = dict.fromkeys(self._digests, 0)

    def add(self, kind: str, row: Mapping[str, object]) -> None:
        self._digests[kind].update((register_line(kind, row) + "\n").encode("utf-8"))
        self._rows[kind] += 1

    def marks(self) -> tuple[RegisterMark, ...]:
        """Every kind, in REGISTERS order (no rows gives the digest of nothing)."""
        return tuple((kind, self._rows[kind], digest.hexdigest()) for kind, digest in self._digests.items())


def register_marks(lines: Iterable[tuple[str, Mapping[str, object]]]) -> tuple[RegisterMark, ...]:
    """The checkpoint's marks of these register lines (see `RegisterDigests`)."""
    digests = RegisterDigests()
    for kind, row in lines:
        digests.add(kind, row)
    return digests.marks()


@dataclass(frozen=True, slots=True)
class ExportStats:
    entries: int
    postings: int
    checkpoint: Checkpoint


# --- checkpoints -------------------------------------------------------------------------


def checkpoint_line(fmt: str, cp: Checkpoint) -> str:
    if fmt == "jsonl":
        doc: dict[str, object] = {"entries": cp.entries, "head": cp.head}
        if cp.registers is not None:
            doc["registers"] = {kind: [rows, digest] for kind, rows, digest in cp.registers}
        return _json({"checkpoint": doc})
    mark = "#" if fmt == "csv" else ";"
    return f"{mark} fisiq checkpoint entries={cp.entries} head={cp.head}"


def parse_checkpoint(line: str) -> Checkpoint | None:
    """The checkpoint a line holds (any export format), or None."""
    text = line.strip()
    match = _CHECKPOINT.match(text)
    if match:
        return Checkpoint(int(match.group(1)), match.group(2))
    if text.startswith('{"checkpoint"'):
        try:
            doc = json.loads(text)["checkpoint"]
            entries, head = doc["entries"], doc["head"]
        except (ValueError, KeyError, TypeError):
            return None
        if isinstance(entries, int) and not isinstance(entries, bool) and entries >= 0 \
                and isinstance(head, str) and re.fullmatch(r"[0-9a-f]{64}", head):
            if "registers" not in doc:
                return Checkpoint(entries, head)
            marks = _parse_register_marks(doc["registers"])
            return None if marks is None else Checkpoint(entries, head, marks)
    return None


def _parse_register_marks(doc: object) -> tuple[RegisterMark, ...] | None:
    if not isinstance(doc, dict):
        return None
    marks = []
    for kind, value in doc.items():
        if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int)
                and not isinstance(value[0], bool) and value[0] >= 0 and isinstance(value[1], str)
                and re.fullmatch(r"[0-9a-f]{64}", value[1])):
            return None
        marks.append((str(kind), value[0], value[1]))
    return tuple(marks)


_BEANCOUNT_ENTRY = re.compile(r'^  entry: "([0-9]+)"$')
_BEANCOUNT_HASH = re.compile(r'^  hash: "([0-9a-f]{64})"$')
_LEDGER_ENTRY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [*!] \(([0-9]+)\) ")
_LEDGER_HASH = re.compile(r"^    ; hash: ([0-9a-f]{64})$")


def recorded_hashes(path: str) -> Iterator[tuple[int, str]]:
    """Each entry's (id, hash) as an export file of any format recorded them, in its order;
    what it cannot read is skipped (`read_checkpoint` has already judged the file)."""
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        first = fh.readline()
        fh.seek(0)
        if first.startswith("entry,"):  # csv: a row per posting
            last = None
            hash_at = CSV_COLUMNS.index("hash")
            with suppress(csv.Error):  # a damaged file: what was read before is compared
                for row in csv.reader(fh):
                    if len(row) == len(CSV_COLUMNS) and row[0].isascii() and row[0].isdigit() and row[0] != last:
                        last = row[0]
                        yield int(row[0]), row[hash_at]
            return
        entry: int | None = None
        for line in fh:
            line = line.rstrip("\r\n")
            if line.startswith('{"entry"'):
                try:
                    doc = json.loads(line)["entry"]
                    yield int(doc["id"]), str(doc["hash"])
                except (ValueError, KeyError, TypeError):
                    continue
            elif match := _BEANCOUNT_ENTRY.match(line) or _LEDGER_ENTRY.match(line):
                entry = int(match.group(1))
            elif entry is not None and (match := _BEANCOUNT_HASH.match(line) or _LEDGER_HASH.match(line)):
                yield entry, match.group(1)
                entry = None


def read_checkpoint(path: str) -> Checkpoint:
    """The checkpoint on the last non-empty line of an export file (read from its end)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - 4096))
            tail = fh.read().decode("utf-8", errors="replace")
    except OSError as exc:
        raise ExportError(f"cannot read {path}: {exc.strerror or exc}") from None
    lines = [line for line in tail.splitlines() if line.strip()]
    found = parse_checkpoint(lines[-1]) if lines else None
    if found is None:
        raise ExportError(f"{path} does not end with a fisiq checkpoint (is it a complete fisiq export?)")
    return found


# --- helpers -----------------------------------------------------------------------------


def _json(doc: object) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def neutralize(cell: str | None) -> str:
    """A text cell a spreadsheet shows as text: a leading `'` before a formula character."""
    if cell is None:
        return ""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def _tool_account(name: str) -> str:
    """Account names go to beancount, ledger and hledger unchanged: fisiq's naming rule
    (`Root:Part` with parts starting with a capital or a digit, then letters, digits and
    hyphens) is already what those tools accept. A name that breaks it cannot be in a fisiq
    ledger; refuse rather than write a file the tools reject."""
    try:
        check_account_name(name)
    except FisiqError as exc:
        raise ExportError(f"cannot export: {exc}") from None
    return name


def _bean_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


# Characters a ledger/hledger tag value cannot hold (hledger ends a value at a comma and
# reads `word:` as another tag; `;` starts a comment; line breaks end it), written %XX.
_LEDGER_UNSAFE = re.compile(r"[%,:;\x00-\x1f\x7f]|^\s|\s$")


def ledger_party(name: str) -> str:
    """A party name as a ledger tag value: unchanged, or percent-encoded where unsafe."""
    return _LEDGER_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group(0).encode("utf-8")), name)


def _ledger_text(text: str) -> str:
    """A memo on a transaction line: one line, no `;` (it would start a comment)."""
    return re.sub(r"[\x00-\x1f\x7f]", " ", text).replace(";", ",").strip()


# --- writers -----------------------------------------------------------------------------


def _range_words(start: date | None, end: date | None) -> str:
    if start is None and end is None:
        return "every entry"
    return f"entries dated {start or 'from the start'} to {end or 'the end'}"


def write_csv(out: TextIO, entries: Iterable[RecordedEntry]) -> tuple[int, int]:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = postings = 0
    for e in entries:
        count += 1
        common = [neutralize(e.memo), neutralize(e.ref), neutralize(e.link),
                  "" if e.reverses is None else e.reverses, e.hash]
        if not e.postings:
            writer.writerow([e.id, "", e.date.isoformat(), neutralize(e.kind), "", "", "", "", *common])
        for line, p in enumerate(e.postings, start=1):
            postings += 1
            writer.writerow([
                e.id, line, e.date.isoformat(), neutralize(e.kind), neutralize(p.account),
                neutralize(p.party), to_str(p.amount, p.currency), p.currency, *common,
            ])
    return count, postings


def write_jsonl(
    out: TextIO,
    entries: Iterable[RecordedEntry],
    accounts: Sequence[Account],
    parties: Iterable[Mapping[str, object]],
    start: date | None,
    end: date | None,
    registers: Iterable[tuple[str, Mapping[str, object]]] = (),
) -> tuple[int, int]:
    out.write(_json({"fisiq": {"format": JOURNAL_FORMAT, "version": JOURNAL_VERSION,
                               "from": start and start.isoformat(), "to": end and end.isoformat()}}) + "\n")
    for kind, row in book_lines(accounts, parties):
        out.write(register_line(kind, row) + "\n")
    count = postings = 0
    for e in entries:
        count += 1
        postings += len(e.postings)
        out.write(_json({"entry": entry_json(e)}) + "\n")
    for kind, row in registers:
        out.write(register_line(kind, row) + "\n")
    return count, postings


def write_beancount(
    out: TextIO, entries: Iterable[RecordedEntry], accounts: Sequence[Account], start: date | None, end: date | None,
) -> tuple[int, int]:
    out.write(
        f"; fisiq export for beancount: {_range_words(start, end)}.\n"
        "; Account names are fisiq's, unchanged (they follow beancount's rules); each posting's\n"
        "; party is its `party:` metadata, an exact string. Entry fields are transaction metadata.\n"
        "; Period closes carry no postings; they are comments.\n"
        'option "title" "FISIQ"\n'
        'option "operating_currency" "CAD"\n\n'
    )
    for a in accounts:
        out.write(f"1900-01-01 open {_tool_account(a.name)}\n")
    out.write("\n")
    count = postings = 0
    for e in entries:
        count += 1
        if not e.postings:
            out.write(f"; {e.date.isoformat()} entry {e.id} {e.kind}: {_ledger_text(e.memo)} (hash {e.hash})\n\n")
            continue
        out.write(f"{e.date.isoformat()} * {_bean_string(e.memo)}\n")
        meta = [("entry", str(e.id)), ("kind", e.kind), ("ref", e.ref), ("link", e.link),
                ("reverses", None if e.reverses is None else str(e.reverses)),
                ("recorded-by", e.recorded_by), ("recorded-at", e.recorded_at), ("hash", e.hash)]
        for key, value in meta:
            if value is not None:
                out.write(f"  {key}: {_bean_string(value)}\n")
        for p in e.postings:
            postings += 1
            out.write(f"  {_tool_account(p.account)}  {to_str(p.amount, p.currency)} {p.currency}\n")
            if p.party is not None:
                out.write(f"    party: {_bean_string(p.party)}\n")
        out.write("\n")
    return count, postings


def write_ledger(
    out: TextIO,
    entries: Iterable[RecordedEntry],
    accounts: Sequence[Account],
    party_names: Iterable[str],
    start: date | None,
    end: date | None,
) -> tuple[int, int]:
    out.write(
        f"; fisiq export for ledger-cli and hledger: {_range_words(start, end)}.\n"
        "; Account names are fisiq's, unchanged (both tools accept them). Each posting's party is\n"
        "; its `; party: NAME` tag; in a name, the characters a tag value cannot hold\n"
        "; (% , : ; and control characters, leading or trailing spaces) are written %XX (UTF-8).\n"
        "; The transaction code is the fisiq entry id; memos are the description, on one line\n"
        "; with `;` written `,` (the jsonl export keeps them exactly).\n"
    )
    mapped = sorted({(ledger_party(n), n) for n in party_names if ledger_party(n) != n})
    if mapped:
        out.write("; Party names written differently here (as written = exact name, JSON):\n")
        for written, name in mapped:
            out.write(f";   party-map: {written} = {_json(name)}\n")
    else:
        out.write("; Every party name is written unchanged.\n")
    for a in accounts:
        out.write(f"account {_tool_account(a.name)}\n")
    out.write("\n")
    count = postings = 0
    for e in entries:
        count += 1
        memo = _ledger_text(e.memo)
        if not e.postings:
            out.write(f"; {e.date.isoformat()} entry {e.id} {e.kind}: {memo} (hash {e.hash})\n\n")
            continue
        out.write(f"{e.date.isoformat()} * ({e.id}) {memo}".rstrip() + "\n")
        tags = [("kind", e.kind), ("reverses", None if e.reverses is None else str(e.reverses)), ("hash", e.hash)]
        for key, value in tags:
            if value is not None:
                out.write(f"    ; {key}: {value}\n")
        for p in e.postings:
            postings += 1
            line = f"    {_tool_account(p.account)}  {to_str(p.amount, p.currency)} {p.currency}"
            if p.party is not None:
                line += f"  ; party: {ledger_party(p.party)}"
            out.write(line + "\n")
        out.write("\n")
    return count, postings


def write_export(
    out: TextIO,
    fmt: str,
    entries: Iterable[RecordedEntry],
    *,
    accounts: Sequence[Account],
    parties: Sequence[Mapping[str, object]],
    checkpoint: Checkpoint,
    start: date | None = None,
    end: date | None = None,
    registers: Iterable[tuple[str, Mapping[str, object]]] = (),
) -> ExportStats:
    """Write one export in `fmt` to `out`, ending with the checkpoint line (`registers`: the
    register rows a jsonl export carries after the entries)."""
    if fmt == "csv":
        count, postings = write_csv(out, entries)
        out.write(checkpoint_line(fmt, checkpoint) + "\r\n")
        return ExportStats(count, postings, checkpoint)
    if fmt == "jsonl":
        count, postings = write_jsonl(out, entries, accounts, parties, start, end, registers)
    elif fmt == "beancount":
        count, postings = write_beancount(out, entries, accounts, start, end)
    elif fmt == "ledger":
        names = [str(p["name"]) for p in parties]
        count, postings = write_ledger(out, entries, accounts, names, start, end)
    else:
        raise ExportError(f"unknown export format {fmt!r}; use {'|'.join(FORMATS)}")
    out.write(checkpoint_line(fmt, checkpoint) + "\n")
    return ExportStats(count, postings, checkpoint)


# --- from storage ------------------------------------------------------------------------


def export_ledger(
    conn: Connection, out: TextIO, fmt: str, *, start: date | None = None, end: date | None = None
) -> ExportStats:
    """Export the books read on `conn` (one read transaction: a consistent snapshot)."""
    from fisiq import ledger as books
    from fisiq.journal_import import party_rows
    from fisiq.registers import register_lines

    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; use {'|'.join(FORMATS)}")
    head_id, head_hash = books.chain_head(conn)
    entries: Iterator[RecordedEntry] = books.iter_entries(conn, start=start, end=end, ids=(1, head_id))
    # In the order they were recorded, as the registers: a checkpoint's digest covers the
    # rows that were there then, and rows added later come after them.
    accounts, parties = books.list_accounts(conn, as_opened=True), party_rows(conn)
    # A slice of the dates is for reading; only a whole export can be restored, and carries
    # the registers a restore needs, with their digest (and the accounts' and parties') in
    # its checkpoint.
    registers = list(register_lines(conn)) if start is None and end is None and fmt == "jsonl" else None
    checkpoint = Checkpoint(head_id, head_hash, None if registers is None else
                            register_marks([*book_lines(accounts, parties), *registers]))
    return write_export(
        out, fmt, entries, accounts=accounts, parties=parties, checkpoint=checkpoint, start=start, end=end,
        registers=registers or (),
    )
