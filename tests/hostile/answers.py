"""The bytes a hostile target answers: HTTP framing and the bodies of each misbehaviour.

Every body pretends to answer GetServiceGroupStatus (the call of the suite test the matrix
runs), so that what is wrong with each is exactly one thing: the framing, the XML, a DTD,
the size, the media type or the SOAP version. Namespaces come from the contract module.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from conformance.contract import namespaces as ns
from conformance.contract.operations import operation
from conformance.emulator.edge import soap_out
from conformance.emulator.engine.model import GroupStatus

from .servers import Request

OPERATION = operation("GetServiceGroupStatus")
_GROUP = re.compile(rb"serviceGroupID[^>]*>\s*(-?[0-9]+)\s*<")


def http(status: int, reason: str, content_type: str | None, body: bytes) -> bytes:
    """A complete HTTP/1.1 response that closes the connection."""
    head = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}", "Connection: close"]
    if content_type is not None:
        head.append(f"Content-Type: {content_type}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def group_of(request: Request) -> int:
    """The serviceGroupID the client asked about (0 when it sent none)."""
    found = _GROUP.search(request.body)
    return int(found.group(1)) if found else 0


def valid_answer(request: Request) -> bytes:
    """A correct GetServiceGroupStatusResponse (the group is open), as the emulator writes it."""
    return soap_out.response(OPERATION, GroupStatus(True, group_of(request)))


def _envelope(inner: str, prolog: str = "") -> bytes:
    return (
        f'{prolog}<s:Envelope xmlns:s="{ns.SOAP_ENV}"><s:Body>{inner}</s:Body></s:Envelope>'
    ).encode()


def _result(open_text: str, group: str = "1") -> str:
    return (
        f'<GetServiceGroupStatusResponse xmlns="{ns.TEMPURI}">'
        f'<GetServiceGroupStatusResult xmlns:a="{ns.DATA}" xmlns:i="{ns.XSI}">'
        f"<a:Open>{open_text}</a:Open><a:ServiceGroupID>{group}</a:ServiceGroupID>"
        "</GetServiceGroupStatusResult></GetServiceGroupStatusResponse>"
    )


HTML_500 = http(
    500,
    "Internal Server Error",
    "text/html; charset=utf-8",
    b"<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body>"
    b"<h1>Internal Server Error</h1><p>The server encountered an unexpected condition.</p>"
    b"</body></html>",
)

MALFORMED = http(
    200,
    "OK",
    ns.SOAP11_CONTENT_TYPE,
    _envelope(_result("true").replace("</a:Open>", "</a:Closed>")),
)
"""An envelope whose end tag does not match its start tag: not well-formed."""


def external_entity(*paths: str) -> bytes:
    """A DOCTYPE declaring one SYSTEM entity per file, each referenced in the answer."""
    entities = "".join(f'<!ENTITY xxe{i} SYSTEM "file://{p}">' for i, p in enumerate(paths))
    refs = "".join(f"&xxe{i};" for i in range(len(paths)))
    prolog = f'<?xml version="1.0" encoding="utf-8"?><!DOCTYPE s:Envelope [{entities}]>'
    return http(200, "OK", ns.SOAP11_CONTENT_TYPE, _envelope(_result("true", refs), prolog))


def entity_bomb(levels: int = 10) -> bytes:
    """The billion laughs: ten levels of ten references, 10**10 "lol"s once expanded."""
    decls = ['<!ENTITY lol0 "lol">']
    for level in range(1, levels):
        refs = f"&lol{level - 1};" * 10
        decls.append(f'<!ENTITY lol{level} "{refs}">')
    prolog = f'<?xml version="1.0"?><!DOCTYPE s:Envelope [{"".join(decls)}]>'
    return http(
        200, "OK", ns.SOAP11_CONTENT_TYPE, _envelope(_result("true", f"&lol{levels - 1};"), prolog)
    )


def wrong_media_type(content_type: str) -> Callable[[Request], bytes]:
    """A builder of a correct answer sent under another Content-Type."""

    def build(request: Request) -> bytes:
        return http(200, "OK", content_type, valid_answer(request))

    return build


SOAP12_FAULT = http(
    500,
    "Internal Server Error",
    "application/soap+xml; charset=utf-8",
    (
        f'<env:Envelope xmlns:env="{ns.SOAP12_ENV}"><env:Body><env:Fault>'
        "<env:Code><env:Value>env:Sender</env:Value></env:Code>"
        '<env:Reason><env:Text xml:lang="en">SOAP 1.2 only here</env:Text></env:Reason>'
        "</env:Fault></env:Body></env:Envelope>"
    ).encode(),
)

HUGE_HEAD_CHUNKED = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\n"
    b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
)


def huge_head_declared(total: int) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n" % total
    )


HUGE_FIRST = _envelope("").split(b"</s:Body>")[0] + b"<GetServiceGroupStatusResponse>"
"""The start of an envelope, then filler: nothing in it ever closes."""
HUGE_FILLER = b"<a:Open>true</a:Open>" * 3000
"""One ~63 KiB block, sent again and again: the server never holds the whole body."""

DRIP = http(200, "OK", ns.SOAP11_CONTENT_TYPE, _envelope(_result("true")))
