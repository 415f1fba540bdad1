"""A test's exchanges as Allure attachments: request and response of each, password redacted.

The evidence of a verdict is the bytes on the wire, so every exchange a test made (SOAP and
control plane alike) is attached, numbered in the order it happened. What must never appear is
the password: the request's ``Password`` element is masked by the wire layer
(``Exchange.redacted_request_body``), and the run's ``redact`` (the configured password wherever
it occurs) plus the exchange's own secrets (what it sent, as a target may echo it back) are
applied to both bodies. Pure: the plugin hands in the exchanges and the run's redaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.wire import Exchange

MAX_ATTACHED_BYTES = 512 * 1024
"""A body larger than this is cut (a report of megabytes helps nobody); the cut is said."""

_KINDS: tuple[tuple[str, str, str], ...] = (
    ("xml", "text/xml", "xml"),
    ("json", "application/json", "json"),
    ("html", "text/html", "html"),
)


@dataclass(frozen=True)
class AttachmentData:
    """One file to attach: what Allure names it, its bytes, its MIME type and extension."""

    name: str
    body: bytes
    mime: str
    extension: str


def _kind(content_type: str | None, body: bytes) -> tuple[str, str]:
    lowered = (content_type or "").lower()
    for marker, mime, extension in _KINDS:
        if marker in lowered:
            return mime, extension
    if body.lstrip()[:1] == b"<":
        return "text/xml", "xml"
    return "text/plain", "txt"


def _text(body: bytes, exchange: Exchange, redact: Callable[[str], str]) -> bytes:
    text = body.decode("utf-8", errors="replace")
    text = redact(exchange.redact_text(text))
    data = text.encode("utf-8")
    if len(data) <= MAX_ATTACHED_BYTES:
        return data
    cut = data[:MAX_ATTACHED_BYTES].decode("utf-8", errors="ignore").encode("utf-8")
    return cut + f"\n... ({len(data) - len(cut)} more bytes not attached)".encode()


def exchange_attachments(
    exchanges: Sequence[Exchange], redact: Callable[[str], str]
) -> list[AttachmentData]:
    """Two attachments per exchange (request, response), numbered from 1, bodies redacted."""
    attachments: list[AttachmentData] = []
    for number, exchange in enumerate(exchanges, start=1):
        what = exchange.operation or f"{exchange.method} {exchange.url}"
        request = _text(exchange.redacted_request_body(), exchange, redact)
        if request:
            mime, extension = _kind(exchange.request_header("Content-Type"), request)
            attachments.append(
                AttachmentData(f"{number}. {what}: request", request, mime, extension)
            )
        response = _text(exchange.response_body, exchange, redact)
        mime, extension = _kind(exchange.response_header("Content-Type"), response)
        name = f"{number}. {what}: response {exchange.status} {exchange.reason}".rstrip()
        attachments.append(AttachmentData(name, response, mime, extension))
    return attachments
