"""Files fisiq writes for people (exports, board packets): there whole, or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


@contextmanager
def whole_file(path: Path, *, newline: str = "\n") -> Iterator[TextIO]:
    """A UTF-8 text file that appears at `path` only once completely written and on disk.

    It is written beside `path` under a temporary name (`.NAME.XXXX.tmp`), flushed, then
    renamed over `path`; on any error the temporary file goes and `path` is as it was. The
    file gets the permissions it would have if written directly (mkstemp's are private).
    """
    parent = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise _about(exc, path) from None
    try:
        os.chmod(tmp, _mode_for(path))
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _about(exc, path) from None
        raise


def _about(exc: OSError, path: Path) -> OSError:
    """The error as of `path`: the temporary file's name means nothing to the person who
    asked for `path` (a full disk said "No space left on device: .fisiq.csv.x8a1.tmp")."""
    return OSError(exc.errno, exc.strerror or str(exc), str(path))


def _mode_for(path: Path) -> int:
    """The mode the file would get if written directly: the existing file's, else 0o666 less the umask."""
    if path.exists():
        return path.stat().st_mode & 0o777
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask
