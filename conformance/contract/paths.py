"""Where the project's files live, in a checkout and in an installed wheel: the contract files,
the suite package and the configuration ``openmedia-conformance run`` gives pytest.

The wheel carries ``schemas/`` and ``fixtures/`` under ``conformance/_data/``; a checkout (or an
editable install) reads them from the repository root. One function each, so nothing else needs
to know which case it is in.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent

PACKAGE_PARENT = _PACKAGE.parent
"""The folder holding the ``conformance`` package (a checkout's root, or ``site-packages``):
``run``'s rootdir, so that every suite test's ID is ``conformance/suite/test_x.py::test_y``."""
SUITE_PACKAGE = "conformance.suite"
SUITE_DIR = _PACKAGE / "suite"
RUN_INI = _PACKAGE / "plugin" / "run.ini"
"""``run``'s pytest configuration: none is read from the folder it runs in."""


def _data_dir(name: str) -> Path:
    packaged = _PACKAGE / "_data" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / name


def schemas_dir() -> Path:
    """The project's own WSDL, XSDs, constraints file and requirement catalogue."""
    return _data_dir("schemas")


def fixtures_dir() -> Path:
    """Target profiles and golden envelopes."""
    return _data_dir("fixtures")


def shared_reference_dir() -> Path | None:
    """``../shared/reference`` beside a checkout, if present (self-tests compare against it)."""
    candidate = _PACKAGE.parent.parent / "shared" / "reference"
    return candidate if candidate.is_dir() else None
