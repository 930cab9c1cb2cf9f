#!/usr/bin/env python3
"""Set up fisiq in a local virtual environment and run its main job or its tests.

    python3 dev.py demo   # build the bundled FISIQ ledger and show the board report
    python3 dev.py test   # run the whole test suite (pytest arguments may follow)

Needs only Python 3.11+. The environment lives in .venv and is reinstalled when
pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    result = subprocess.run([str(a) for a in args], cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(result.returncode)


def setup(extras: str) -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"fisiq needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"Creating the virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / f".fisiq-installed-{extras or 'base'}"
    if not stamp.exists() or stamp.read_text() != digest:
        print("Installing fisiq and its dependencies ...", flush=True)
        run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        spec = f".[{extras}]" if extras else "."
        run(PYTHON, "-m", "pip", "install", "--quiet", "-e", spec)
        stamp.write_text(digest)


def demo() -> None:
    setup("")
    fisiq = BIN / "fisiq"
    run(PYTHON, ROOT / "ledger" / "build.py", "--fisiq", fisiq)


def test(args: list[str]) -> None:
    setup("test")
    run(PYTHON, "-m", "pytest", *(args or ["-q"]))


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ("demo", "test"):
        sys.exit(__doc__)
    if sys.argv[1] == "demo":
        demo()
    else:
        test(sys.argv[2:])


if __name__ == "__main__":
    main()
