"""The secrets a run knows, and the one way every output hides them.

A run is given passwords from many places: ``--om-password``, ``$OPENMEDIA_PASSWORD``, the
profile's ``password`` / ``password_env`` and ``non_admin_password`` / ``non_admin_password_env``,
and the users a test puts into a scenario it loads. Each of them can reach an output: a request
body in a ``curl`` line, a scenario's JSON in an Allure attachment, a server's echo in a failure
message. ``Secrets`` is the registry of them all (a value: a run's is the union of the
configured ones and those its exchanges carried), and ``mask`` is the only function that hides
them, in every encoding an output may give a secret (as written, XML-, JSON-, URL-escaped).

Standard library only: the plugin builds it while configuring, before any test, and the wire
layer uses it for each exchange.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import quote, quote_plus

ENV_PASSWORD = "OPENMEDIA_PASSWORD"
"""The environment variable a run's password may come from (and a re-run command reads it from)."""
PLACEHOLDER = "***"
"""What every output shows instead of a secret."""
MIN_MASKED_LENGTH = 3
"""Shorter values are not masked in free text: replacing every ``a`` of a report would hide
the report, not a secret. (Where a password sits in a request, its element or JSON member, it
is masked whatever its length: ``conformance.wire.exchange.redact``.)"""


def encodings(secret: str) -> frozenset[str]:
    """The secret as written and as XML, JSON and URL encoding would write it."""
    return frozenset(
        {
            secret,
            html.escape(secret, quote=False),
            html.escape(secret),
            json.dumps(secret)[1:-1],
            json.dumps(secret, ensure_ascii=False)[1:-1],
            quote(secret, safe=""),
            quote(secret),
            quote_plus(secret),
        }
    )


@dataclass(frozen=True, repr=False)
class Secrets:
    """A set of secrets, and ``mask()`` to hide each of them in a text."""

    values: frozenset[str] = frozenset()

    @classmethod
    def of(cls, values: Iterable[str | None]) -> Secrets:
        """The secrets among ``values`` (``None`` and blank ones are no secret)."""
        return cls(frozenset(v for v in values if v is not None and v.strip()))

    def __or__(self, other: Secrets) -> Secrets:
        return Secrets(self.values | other.values)

    @cached_property
    def _forms(self) -> tuple[str, ...]:
        """Every encoding of every secret worth masking, longest first (a secret that contains
        another is masked whole, not around the shorter one)."""
        forms = {
            form
            for secret in self.values
            if len(secret) >= MIN_MASKED_LENGTH
            for form in encodings(secret)
        }
        return tuple(sorted(forms, key=lambda f: (-len(f), f)))

    def mask(self, text: str) -> str:
        """``text`` with each secret, in each of its encodings, replaced by ``***``."""
        for form in self._forms:
            if form in text:
                text = text.replace(form, PLACEHOLDER)
        return text

    def __repr__(self) -> str:
        return f"Secrets({len(self.values)} value(s))"

    __str__ = __repr__
