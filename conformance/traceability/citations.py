"""Which suite tests cite which requirement, from a real collection of the suite.

Markers built from tables of cases (``length_params()`` and friends) count like written ones,
which a text search would miss; nothing runs and no target is needed (a collection of the
installed suite, about two seconds).
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.contract.paths import PACKAGE_PARENT, RUN_INI, SUITE_PACKAGE


@dataclass(frozen=True)
class CitingTest:
    """One collected suite test that cites a requirement, and where its function is written."""

    node_id: str
    """``conformance/suite/test_x.py::test_y[case]``, as every report names it."""
    path: str
    """The module, relative to the folder holding the package: ``conformance/suite/test_x.py``."""
    line: int
    """1-based line of the test function's ``def`` (below its decorators)."""

    @property
    def name(self) -> str:
        """``test_x.py::test_y``: the test without its module folder and parameters."""
        return self.node_id.rsplit("/", 1)[-1].split("[", 1)[0]

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


class _Recorder:
    """A pytest plugin that records, at collection, which tests cite which requirement."""

    def __init__(self) -> None:
        self.cited: dict[str, list[CitingTest]] = {}
        self._sources: dict[Path, list[str]] = {}

    def _def_line(self, path: Path, first: int) -> int:
        """The ``def`` line at or after ``first`` (pytest points at the first decorator)."""
        if path not in self._sources:
            self._sources[path] = path.read_text(encoding="utf-8").splitlines()
        lines = self._sources[path]
        for number in range(first, len(lines) + 1):
            if lines[number - 1].lstrip().startswith(("def ", "async def ")):
                return number
        return first

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            path, line, _ = item.location
            first = self._def_line(item.path, (line or 0) + 1)
            test = CitingTest(item.nodeid, Path(path).as_posix(), first)
            ids = {str(rid) for marker in item.iter_markers("requirement") for rid in marker.args}
            for rid in sorted(ids):
                self.cited.setdefault(rid, []).append(test)


def citing_tests() -> dict[str, tuple[CitingTest, ...]]:
    """Requirement ID -> every collected suite test citing it, in collection order."""
    recorder = _Recorder()
    args = [
        "--collect-only",
        "-qq",
        "-p",
        "no:cacheprovider",
        "-c",
        str(RUN_INI),
        "--rootdir",
        str(PACKAGE_PARENT),
        "--pyargs",
        SUITE_PACKAGE,
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        code = pytest.main(args, plugins=[recorder])
    if code != 0:
        raise RuntimeError(f"collecting {SUITE_PACKAGE} failed (pytest exit {int(code)})")
    return {rid: tuple(tests) for rid, tests in recorder.cited.items()}
