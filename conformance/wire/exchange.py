"""One captured HTTP exchange: exactly the bytes that went out and came back.

The suite's evidence. Checks read it, reports attach it, and ``curl()`` turns it into a command a
user can paste to reproduce a failure by hand. A password is kept in ``request_body`` (the bytes
must stay exact) but never shown: ``repr``, ``curl()`` and ``redacted_request_body()`` replace it
with ``***``, whether it sits in a SOAP ``Password`` header or in a control-plane scenario's JSON
(``"password": ...`` of a user), and ``secrets`` lets any text made from the exchange hide it too.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from lxml import etree

from conformance.contract.xmlsafe import parse
from conformance.secrets import PLACEHOLDER, Secrets

Headers = tuple[tuple[str, str], ...]

PASSWORD_ELEMENT = re.compile(
    rb"(<(?:[\w.-]+:)?Password\b[^>]*(?<!/)>)(.*?)(</(?:[\w.-]+:)?Password\s*>)", re.DOTALL
)
"""A SOAP ``Password`` header (any prefix or namespace): opening tag, text, closing tag."""
PASSWORD_MEMBER = re.compile(rb'("[\w-]*password"\s*:\s*")((?:[^"\\]|\\.)*)(")', re.IGNORECASE)
"""A JSON member whose name ends in ``password`` (a control-plane user's): name, text, quote."""
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


def redact(body: bytes, shown: Callable[[bytes], bytes] = lambda _: PLACEHOLDER.encode()) -> bytes:
    """The body with the text of every ``Password`` element and JSON password member replaced
    by ``shown(text)`` (``***``), whatever its length."""

    def replace(match: re.Match[bytes]) -> bytes:
        return match[1] + shown(match[2]) + match[3]

    return PASSWORD_MEMBER.sub(replace, PASSWORD_ELEMENT.sub(replace, body))


def _unescaped(pattern: re.Pattern[bytes], body: bytes, decode: Callable[[str], str]) -> set[str]:
    found: set[str] = set()
    for match in pattern.finditer(body):
        raw = match[2].decode("utf-8", errors="replace")
        if raw.strip():
            found.add(raw)
            with contextlib.suppress(ValueError):  # not valid in its encoding: as written
                found.add(decode(raw))
    return found


@dataclass(frozen=True, repr=False)
class Exchange:
    """A request and its response as seen on the wire (no answer at all raises instead)."""

    operation: str | None
    method: str
    url: str
    request_headers: Headers
    request_body: bytes
    status: int
    reason: str
    response_headers: Headers
    response_body: bytes
    elapsed_s: float
    sent_at: datetime | None = None
    """The local clock (UTC) when the request started out (``None``: an exchange not made by
    the transport, e.g. a replayed golden answer). With ``received_at`` it brackets the moment
    the server handled the call, which is what "now" means to a check without the control
    plane's clock."""

    @property
    def received_at(self) -> datetime | None:
        """The local clock (UTC) when the whole answer had arrived."""
        return None if self.sent_at is None else self.sent_at + timedelta(seconds=self.elapsed_s)

    def response_header(self, name: str) -> str | None:
        """The first response header of that name (case-insensitive), or ``None``."""
        return _header(self.response_headers, name)

    def request_header(self, name: str) -> str | None:
        return _header(self.request_headers, name)

    @cached_property
    def response_tree(self) -> etree._Element:
        """The response body parsed by the hardened parser, once per exchange (read-only!).

        Decoding and every check read the same tree, so an exchange is parsed once however many
        checks look at it. ``UnsafeXmlError`` / ``MalformedXmlError`` when it is not XML.
        """
        return parse(self.response_body)

    def redacted_request_body(self) -> bytes:
        return redact(self.request_body)

    @cached_property
    def secrets(self) -> Secrets:
        """Every password the request carried (SOAP header or scenario JSON), as written and
        unescaped."""
        body = self.request_body
        return Secrets.of(
            _unescaped(PASSWORD_ELEMENT, body, html.unescape)
            | _unescaped(PASSWORD_MEMBER, body, lambda raw: str(json.loads(f'"{raw}"')))
        )

    def redact_text(self, text: str) -> str:
        """``text`` with every password of the request replaced by ``***``.

        For messages built from the response: a target may echo what it was sent (in a
        faultstring, an HTML error page), and a failure report must not leak it.
        """
        return self.secrets.mask(text)

    def curl(self) -> str:
        """A ``curl`` command that repeats the request, with the password shown as ``***``."""
        parts = ["curl", "-sS", "-i", "-X", self.method, shlex.quote(self.url)]
        for name, value in self.request_headers:
            if name.lower() in ("content-length", "host", "connection", "accept-encoding"):
                continue
            shown = PLACEHOLDER if name.lower() in _SECRET_HEADERS else value
            parts += ["-H", shlex.quote(f"{name}: {shown}")]
        if self.request_body:
            body = self.redacted_request_body().decode("utf-8", errors="replace")
            parts += ["--data-binary", shlex.quote(body)]
        return " ".join(parts)

    def __repr__(self) -> str:
        return (
            f"Exchange({self.operation or '-'} {self.method} {self.url} -> {self.status} "
            f"{self.reason}, {len(self.request_body)} B out, {len(self.response_body)} B in, "
            f"{self.elapsed_s * 1000:.1f} ms)"
        )

    __str__ = __repr__


def _header(headers: Headers, name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None
