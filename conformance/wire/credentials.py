"""The LogonID / Password pair a target with authentication on expects in the SOAP header (R16).

Frozen, and its ``repr`` never shows the password: credentials travel through fixtures, profiles
and failure reports, and none of those may leak a secret into a log.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.secrets import PLACEHOLDER


@dataclass(frozen=True)
class Credentials:
    """A host administrator's logon. Either part may be ``None`` to leave its header out (R16)."""

    logon_id: str | None
    password: str | None = field(repr=False)

    def __repr__(self) -> str:
        shown = None if self.password is None else PLACEHOLDER
        return f"Credentials(logon_id={self.logon_id!r}, password={shown!r})"

    __str__ = __repr__
