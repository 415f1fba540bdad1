"""The project's generated documents (``docs/requirements.md``, ``docs/faults.md``): one command
shape for each, ``python -m MODULE`` writes the file and ``--check`` (a self-test runs it) fails
when the file is not what its source gives."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def write_or_check(
    document: Path,
    render: Callable[[], str],
    module: str,
    description: str | None,
    argv: list[str] | None = None,
) -> int:
    """``python -m module [--check]`` for ``document``: write what ``render`` gives, or check it
    is current (exit 1 naming the command that updates it)."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=description)
    parser.add_argument("--check", action="store_true", help="fail if the file is not current")
    args = parser.parse_args(argv)
    wanted = render()
    if args.check:
        current = document.read_text(encoding="utf-8") if document.is_file() else ""
        if current != wanted:
            print(f"{document} is not current: run python -m {module}")
            return 1
        print(f"{document} is current")
        return 0
    document.write_text(wanted, encoding="utf-8")
    print(f"wrote {document}")
    return 0
