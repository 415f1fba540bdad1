"""A test's exchanges as Allure attachments: in full, or as one compact record.

The evidence of a verdict that is not a pass is the bytes on the wire, so such a test gets the
request and response of each exchange it made (SOAP and control plane alike), numbered in the
order it happened. A passed test needs no evidence beyond what it did: one text attachment lists
each exchange (operation, HTTP status, elapsed time, how it ended), which keeps a green run's
results and HTML report small enough for a CI to keep (``--om-attach-all-exchanges`` attaches every
exchange in full, for an audit). What must never appear is the password: the request's
``Password`` element is masked by the wire layer (``Exchange.redacted_request_body``), and the
run's ``redact`` (the configured password wherever it occurs) plus the exchange's own secrets
(what it sent, as a target may echo it back) are applied to both bodies. Pure: the plugin hands
in the exchanges and the run's redaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
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


def shown_body(body: bytes, exchange: Exchange, redact: Callable[[str], str]) -> bytes:
    """A body as reports show it: UTF-8, every password masked, cut at ``MAX_ATTACHED_BYTES``
    (the cut said); the Allure attachments and the exchange log alike."""
    text = body.decode("utf-8", errors="replace")
    text = redact(exchange.redact_text(text))
    data = text.encode("utf-8")
    if len(data) <= MAX_ATTACHED_BYTES:
        return data
    cut = data[:MAX_ATTACHED_BYTES].decode("utf-8", errors="ignore").encode("utf-8")
    return cut + f"\n... ({len(data) - len(cut)} more bytes not attached)".encode()


def exchange_name(exchange: Exchange) -> str:
    """How reports name an exchange: its operation, else its method and URL (control plane)."""
    return exchange.operation or f"{exchange.method} {exchange.url}"


def exchange_attachments(
    exchanges: Sequence[Exchange], redact: Callable[[str], str], *, first: int = 1
) -> list[AttachmentData]:
    """Two attachments per exchange (request, response), numbered from ``first``, redacted."""
    attachments: list[AttachmentData] = []
    for number, exchange in enumerate(exchanges, start=first):
        what = exchange_name(exchange)
        request = shown_body(exchange.redacted_request_body(), exchange, redact)
        if request:
            mime, extension = _kind(exchange.request_header("Content-Type"), request)
            attachments.append(
                AttachmentData(f"{number}. {what}: request", request, mime, extension)
            )
        response = shown_body(exchange.response_body, exchange, redact)
        mime, extension = _kind(exchange.response_header("Content-Type"), response)
        name = f"{number}. {what}: response {exchange.status} {exchange.reason}".rstrip()
        attachments.append(AttachmentData(name, response, mime, extension))
    return attachments


# -- the compact record of a passed test --------------------------------------------------------
RECORD_NAME = "exchanges (compact record)"
"""The name of a passed test's one attachment; its full exchanges are not attached."""
MAX_KINDS_SHOWN = 10
"""Exchanges beyond the listed ones are counted by operation: the ten most frequent are named."""


@dataclass(frozen=True)
class ExchangeNote:
    """One exchange in a line: what it was, how the target answered, and how it ended."""

    number: int
    what: str
    status: int
    reason: str
    elapsed_s: float
    outcome: str

    def line(self) -> str:
        answer = f"{self.status} {self.reason}".rstrip()
        return (
            f"{self.number}. {self.what}: {answer}, {self.elapsed_s * 1000:.1f} ms, {self.outcome}"
        )


def outcome(exchange: Exchange) -> str:
    """How an exchange ended, in a word or two: ``ok``, the SOAP fault it carried (by its
    detail, else its faultcode), or ``refused`` (an error status without a SOAP fault)."""
    if 200 <= exchange.status < 300:
        return "ok"
    if exchange.response_body.lstrip()[:1] == b"<":  # a raw POST's fault too; not JSON
        from conformance.contract.namespaces import SOAP_ENV, qname
        from conformance.wire.decode import body_child, decode_fault

        try:
            child = body_child(exchange.response_tree)
            if child.tag == qname(SOAP_ENV, "Fault"):
                fault = decode_fault(child)
                return f"fault {fault.detail_local or fault.code_local or '(unnamed)'}"
        except ValueError:  # not XML, not SOAP 1.1: the response itself shows what it was
            pass
    return "refused"


def note(number: int, exchange: Exchange) -> ExchangeNote:
    return ExchangeNote(
        number,
        exchange_name(exchange),
        exchange.status,
        exchange.reason,
        exchange.elapsed_s,
        outcome(exchange),
    )


def compact_record(
    notes: Sequence[ExchangeNote],
    unlisted: Mapping[str, int],
    redact: Callable[[str], str],
    *,
    name: str = RECORD_NAME,
) -> AttachmentData:
    """One text attachment: a line per exchange (``unlisted``: how many more, by operation)."""
    lines = [n.line() for n in notes]
    if unlisted:
        more = sum(unlisted.values())
        ranked = sorted(Counter(unlisted).items(), key=lambda item: (-item[1], item[0]))
        shown = ", ".join(f"{what} {count}" for what, count in ranked[:MAX_KINDS_SHOWN])
        others = len(ranked) - MAX_KINDS_SHOWN
        lines.append(
            f"... and {more} more exchange(s) not listed: {shown}"
            + (f", and {others} other kind(s)" if others > 0 else "")
        )
    body = redact("\n".join(lines) + "\n").encode("utf-8")
    return AttachmentData(name, body, "text/plain", "txt")
