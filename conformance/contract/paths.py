"""Where the contract files live, in a checkout and in an installed wheel.

The wheel carries ``schemas/`` and ``fixtures/`` under ``conformance/_data/``; a checkout (or an
editable install) reads them from the repository root. One function each, so nothing else needs
to know which case it is in.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


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
