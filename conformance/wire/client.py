"""The SOAP client the suite tests with: build, send, capture, decode.

Every request goes through ``call()``, so every exchange is captured the same way and handed to
``on_exchange`` *before* it is decoded: whoever records or checks exchanges (the plugin) sees
even an answer that cannot be decoded. The helpers only turn Python arguments into wire names;
they add no behaviour, so a test reads as the operation it exercises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from conformance.contract import namespaces as ns
from conformance.contract.operations import Operation, operation
from conformance.wire.credentials import Credentials
from conformance.wire.decode import decode_reply
from conformance.wire.encode import RawMembers, build_envelope
from conformance.wire.exchange import Exchange
from conformance.wire.transport import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_S, Transport
from conformance.wire.values import Reply

OnExchange = Callable[[Exchange], None]


class _Default:
    def __repr__(self) -> str:
        return "<client default>"


DEFAULT: Any = _Default()
"""Marker for "use the client's own setting" (``credentials=None`` means: send no header)."""


class OpenMediaClient:
    """One target's SOAP endpoint (``http://host:port/OpenMediaService``)."""

    def __init__(
        self,
        url: str,
        *,
        credentials: Credentials | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        on_exchange: OnExchange | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.url = url
        self.credentials = credentials
        self.on_exchange = on_exchange
        self.transport = transport or Transport(
            timeout_s=timeout_s, max_response_bytes=max_response_bytes
        )

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> OpenMediaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OpenMediaClient({self.url!r}, credentials={self.credentials!r})"

    # -- the one way out -------------------------------------------------------------------

    def send(
        self,
        method: str,
        url: str,
        body: bytes = b"",
        headers: tuple[tuple[str, str], ...] = (),
        *,
        operation_name: str | None = None,
    ) -> Exchange:
        """Send, capture, and hand the exchange to ``on_exchange``; no decoding."""
        exchange = self.transport.request(method, url, body, headers, operation=operation_name)
        if self.on_exchange is not None:
            self.on_exchange(exchange)
        return exchange

    def call(
        self,
        op: str | Operation,
        params: Mapping[str, Any] | None = None,
        *,
        credentials: Credentials | None = DEFAULT,
        soap_action: str | None = None,
        body: bytes | None = None,
        content_type: str = ns.SOAP11_CONTENT_TYPE,
        raw_members: RawMembers = False,
        header_namespace: str = ns.AUTH_HEADER,
        headers: Mapping[str, str | None] | None = None,
    ) -> Reply:
        """Call one operation and decode its answer.

        ``soap_action`` is the header value exactly as sent (default: the WSDL's, quoted);
        ``body`` sends those bytes instead of a built envelope; ``headers`` adds or (with
        ``None``) removes HTTP headers. Raises ``TransportError`` or ``DecodeError``.
        """
        spec = operation(op) if isinstance(op, str) else op
        creds = self.credentials if credentials is DEFAULT else credentials
        if body is None:
            body = build_envelope(
                spec,
                params,
                credentials=creds,
                raw_members=raw_members,
                header_namespace=header_namespace,
            )
        sent: dict[str, str] = {
            "Content-Type": content_type,
            "SOAPAction": f'"{spec.soap_action}"' if soap_action is None else soap_action,
        }
        for name, value in (headers or {}).items():
            sent.pop(name, None)
            if value is not None:
                sent[name] = value
        exchange = self.send("POST", self.url, body, tuple(sent.items()), operation_name=spec.name)
        return decode_reply(exchange, spec)

    def post_raw(self, body: bytes, headers: Mapping[str, str] | None = None) -> Exchange:
        """POST arbitrary bytes to the service URL (no SOAPAction unless given); no decoding."""
        return self.send("POST", self.url, body, tuple((headers or {}).items()))

    def fetch_wsdl(self) -> Exchange:
        """GET ``?wsdl``: the service description the target publishes."""
        return self.send("GET", f"{self.url}?wsdl", operation_name="wsdl")

    def fetch_xsd(self, name: str) -> Exchange:
        """GET ``?xsd=xsd0`` … ``?xsd=xsd6`` (``name`` with or without ``.xsd``): WCF's naming,
        which the emulator serves; the suite follows the WSDL's locations (``fetch_document``)."""
        name = name.removesuffix(".xsd")
        return self.send("GET", f"{self.url}?xsd={name}", operation_name=f"xsd={name}")

    def fetch_document(self, location: str) -> Exchange:
        """GET a document the WSDL names (a ``schemaLocation``), resolved against ``?wsdl``.

        Only the target is ever asked: a location on another host or port (the name a server
        writes for itself, which SVC-WSDL-ADDRESS judges) is fetched from the target's own
        scheme, host and port, at the path and query it names.
        """
        url = urlsplit(urljoin(f"{self.url}?wsdl", location))
        own = urlsplit(self.url)
        fetched = urlunsplit((own.scheme, own.netloc, url.path, url.query, ""))
        return self.send("GET", fetched, operation_name=f"schema {location}")

    # -- one helper per operation, wire member names as keywords -----------------------------

    def add_request(self, *, credentials: Credentials | None = DEFAULT, **members: Any) -> Reply:
        return self.call("AddRequest", {"request": members}, credentials=credentials)

    def cancel_request(self, *, credentials: Credentials | None = DEFAULT, **members: Any) -> Reply:
        return self.call("CancelRequest", {"request": members}, credentials=credentials)

    def divert_request(self, *, credentials: Credentials | None = DEFAULT, **members: Any) -> Reply:
        return self.call("DivertRequest", {"request": members}, credentials=credentials)

    def modify_request(self, *, credentials: Credentials | None = DEFAULT, **members: Any) -> Reply:
        return self.call("ModifyRequest", {"request": members}, credentials=credentials)

    def set_options(self, *, credentials: Credentials | None = DEFAULT, **members: Any) -> Reply:
        return self.call("SetOptions", {"request": members}, credentials=credentials)

    def get_status_by_id(
        self, open_media_id: int, *, credentials: Credentials | None = DEFAULT
    ) -> Reply:
        return self.call(
            "GetOpenMediaRequestStatusByID", {"openMediaID": open_media_id}, credentials=credentials
        )

    def get_history_by_id(
        self,
        open_media_id: int,
        retrieve_later_than: datetime,
        *,
        credentials: Credentials | None = DEFAULT,
    ) -> Reply:
        return self.call(
            "GetOpenMediaRequestHistoryByID",
            {"openMediaID": open_media_id, "retrieveLaterThan": retrieve_later_than},
            credentials=credentials,
        )

    def get_requests_by_time(
        self, retrieve_later_than: datetime, *, credentials: Credentials | None = DEFAULT
    ) -> Reply:
        return self.call(
            "GetOpenMediaRequestsByTime",
            {"retrieveLaterThan": retrieve_later_than},
            credentials=credentials,
        )

    def get_all_status(self, *, credentials: Credentials | None = DEFAULT) -> Reply:
        return self.call("GetAllOpenMediaRequestStatus", {}, credentials=credentials)

    def get_service_group_status(
        self, service_group_id: int, *, credentials: Credentials | None = DEFAULT
    ) -> Reply:
        return self.call(
            "GetServiceGroupStatus", {"serviceGroupID": service_group_id}, credentials=credentials
        )

    def get_all_service_group_status(
        self, tenant_id: int, *, credentials: Credentials | None = DEFAULT
    ) -> Reply:
        return self.call(
            "GetAllOpenMediaServiceGroupStatus", {"tenantID": tenant_id}, credentials=credentials
        )

    def get_agents_by_group(
        self, service_group_id: int, *, credentials: Credentials | None = DEFAULT
    ) -> Reply:
        return self.call(
            "GetOMAgentsByGroup", {"serviceGroupID": service_group_id}, credentials=credentials
        )
