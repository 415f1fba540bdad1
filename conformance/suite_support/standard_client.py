"""A standard SOAP client, zeep, built from the target's own ``?wsdl`` (requirement CLIENT-ZEEP).

The wire checks judge each rule of the contract one by one; a generated client judges them
all at once, the way a customer meets the server: it loads ``?wsdl``, follows every
``wsdl:import`` and ``xs:import`` it names, builds types from them, writes each call from those
types and reads each answer back into them. A server can keep every rule the suite states and
still serve a WSDL or an answer a real client cannot consume; this is where that shows, with
zeep's own error.

zeep never touches the network itself: ``SuiteTransport`` is a zeep transport whose every GET
and POST is one ``OpenMediaClient.send``, so each exchange is recorded, masked, paced and
journalled (safe mode's ledger sees the requests zeep adds) like any other of the suite, and a
URL that is not on the target is never fetched. Documents are parsed with no DTD and no
entities (``SETTINGS``). zeep writes the run's credentials as the LogonID/Password
headers, and, because the WSDL's ``wsam:Action`` says so, WS-Addressing Action/MessageID/To
headers without ``mustUnderstand``: what zeep sends to the live product too. What zeep made of
an answer is judged by ``conformance.checks.standard_client``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import zeep
import zeep.exceptions
from lxml import etree
from requests.structures import CaseInsensitiveDict
from zeep.wsdl import Document
from zeep.wsdl.bindings.soap import Soap11Binding

from conformance.checks.standard_client import not_consumed
from conformance.contract import namespaces as ns
from conformance.contract import schema
from conformance.contract.operations import OPERATIONS, Operation
from conformance.verdicts import ConformanceFailure, NotApplicable, SuiteError
from conformance.wire.client import OpenMediaClient
from conformance.wire.credentials import Credentials
from conformance.wire.exchange import Exchange

SETTINGS = zeep.Settings(
    strict=True,
    raw_response=False,
    xml_huge_tree=False,
    forbid_dtd=True,
    forbid_entities=True,
    forbid_external=False,
)
"""Strict reading (an element the types do not declare is an error), no DTD and no entity
resolution. ``forbid_external`` stays off: it would stop zeep following the WSDL's own imports,
and ``SuiteTransport`` is what keeps every fetch on the target."""

_OUR_ERRORS = (SuiteError, NotApplicable, ConformanceFailure)
"""What the suite itself raises inside zeep (no answer, safe mode's gate): never zeep's error."""

_HARDENING = (zeep.exceptions.DTDForbidden, zeep.exceptions.EntitiesForbidden)
"""What ``SETTINGS`` refuses in the metadata. In an answer it is the target's fault: an
envelope must not hold a DTD (WS-I BP R1008)."""

_BY_ACTION = {f'"{op.soap_action}"': op.name for op in OPERATIONS}


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


class SuiteTransport(zeep.Transport):  # type: ignore[misc]
    """zeep's transport over the suite's client: target URLs only, every exchange kept."""

    def __init__(self, om: OpenMediaClient) -> None:
        super().__init__(timeout=om.transport.timeout_s)
        self.session.close()  # never used: every request goes through ``om``
        self.om = om
        self.exchanges: list[Exchange] = []

    @property
    def last(self) -> Exchange | None:
        return self.exchanges[-1] if self.exchanges else None

    def _send(self, method: str, url: str, body: bytes, headers: Mapping[str, str]) -> Exchange:
        if _origin(url) != _origin(self.om.url):
            raise SuiteError(
                f"the target's WSDL makes a client {method} {url}, which is not on the target "
                f"({self.om.url}); the suite sends nothing anywhere else, so it cannot run zeep"
            )
        # named as the suite's own fetches and calls are: "wsdl", "xsd=xsd0", "AddRequest"
        name = _BY_ACTION.get(headers.get("SOAPAction", "")) or urlsplit(url).query or None
        exchange = self.om.send(method, url, body, tuple(headers.items()), operation_name=name)
        self.exchanges.append(exchange)
        return exchange

    def load(self, url: str) -> bytes:
        """A document the WSDL names (itself, a ``wsdl:import``, an ``xs:import``)."""
        exchange = self._send("GET", url, b"", {})
        if exchange.status != 200:
            raise zeep.exceptions.TransportError(
                f"GET {url} answered HTTP {exchange.status} {exchange.reason}".rstrip(),
                status_code=exchange.status,
                content=exchange.response_body,
            )
        return exchange.response_body

    def _load_remote_data(self, url: str) -> bytes:
        return self.load(url)

    def get(self, address: str, params: Any, headers: Mapping[str, str]) -> requests.Response:
        raise SuiteError(f"zeep asked for an HTTP GET binding call of {address}; none is declared")

    def post(
        self, address: str, message: bytes | str, headers: Mapping[str, str]
    ) -> requests.Response:
        body = message.encode("utf-8") if isinstance(message, str) else message
        return _response(self._send("POST", address, body, headers))


def _response(exchange: Exchange) -> requests.Response:
    """The exchange as the ``requests.Response`` zeep reads its answer from."""
    response = requests.Response()
    response.status_code = exchange.status
    response.reason = exchange.reason
    response.url = exchange.url
    response._content = exchange.response_body
    response.headers = CaseInsensitiveDict(dict(exchange.response_headers))
    return response


# -- the served contract, loaded once per target ------------------------------------------------
@dataclass(frozen=True)
class Loaded:
    """zeep's reading of the served WSDL, or why it could not read it."""

    document: Document | None
    error: str = ""
    exchange: Exchange | None = None

    def or_fail(self) -> Document:
        if self.document is None:
            raise not_consumed(
                "zeep loads the served ?wsdl and every document it imports",
                f"zeep: {self.error}",
                self.exchange,
            )
        return self.document


_LOADED = pytest.StashKey[dict[str, Loaded]]()


def zeep_error(exc: BaseException) -> str:
    """zeep's own message, with its class (``TransportError: GET … answered HTTP 404``)."""
    text = str(exc).strip() or repr(exc)
    return f"{type(exc).__name__}: {text}"


def load(om: OpenMediaClient) -> Loaded:
    """zeep reads ``om``'s ``?wsdl``; a failure of the target's documents is kept, not raised."""
    transport = SuiteTransport(om)
    try:
        wsdl = f"{om.url}?wsdl"
        document = Document(wsdl, transport, settings=SETTINGS)  # type: ignore[arg-type]
    except _OUR_ERRORS:
        raise
    except _HARDENING as exc:  # our refusal, not zeep's: a default zeep would read on
        raise SuiteError(
            "the target's WSDL or a schema it imports holds a DTD or an entity "
            f"({zeep_error(exc)}); the suite never resolves them, so it cannot build a client"
        ) from None
    except Exception as exc:  # whatever zeep raises on the target's documents is the finding
        return Loaded(None, zeep_error(exc), transport.last)
    return Loaded(document)


def loaded(config: pytest.Config, om: OpenMediaClient) -> Loaded:
    """``load`` once per target and test process: every operation's test reuses it."""
    cache = config.stash.setdefault(_LOADED, {})
    if om.url not in cache:
        cache[om.url] = load(om)
    return cache[om.url]


# -- one call ------------------------------------------------------------------------------------
def zeep_arguments(op: Operation, params: Mapping[str, Any]) -> dict[str, Any]:
    """The suite's parameters as zeep takes them: an array as ``{item: [...]}``, no ``None``."""
    if not op.wrapped:
        return {k: v for k, v in params.items() if v is not None}
    (param,) = op.parameters
    return {param.name: _value(params[param.name], param.type_name)}


def _value(value: Any, type_name: str) -> Any:
    if not isinstance(value, Mapping):
        return value
    members = {m.name: m for m in schema.members(type_name)}
    return {k: _member(v, members[k]) for k, v in value.items() if v is not None}


def _member(value: Any, member: schema.Member) -> Any:
    if isinstance(value, (list, tuple)):
        (item,) = schema.members(member.type_name)
        return {item.name: [_value(v, item.type_name) for v in value]}
    return _value(value, member.type_name)


def auth_headers(credentials: Credentials | None) -> list[etree._Element]:
    """LogonID / Password in the OpenMediaService namespace (R16), as zeep's ``_soapheaders``."""
    headers = []
    if credentials is not None:
        for name, value in (("LogonID", credentials.logon_id), ("Password", credentials.password)):
            if value is not None:
                element = etree.Element(ns.qname(ns.AUTH_HEADER, name))
                element.text = value
                headers.append(element)
    return headers


@dataclass(frozen=True)
class Answer:
    """What zeep made of one call: the result read into its type, or a Fault it read."""

    result: Any
    fault: zeep.exceptions.Fault | None
    exchange: Exchange | None


def call(
    document: Document, om: OpenMediaClient, op: Operation, params: Mapping[str, Any]
) -> Answer:
    """Call ``op`` through zeep on ``om``'s service URL (not the WSDL's ``soap:address``:
    where that points is SVC-WSDL-ADDRESS's finding, and a user points a client at the URL);
    ``ConformanceFailure`` of CLIENT-ZEEP, with zeep's error, when zeep cannot."""
    transport = SuiteTransport(om)
    client = zeep.Client(document, transport=transport, settings=SETTINGS)
    bindings = [b for b in document.bindings.values() if isinstance(b, Soap11Binding)]
    if not bindings:
        raise not_consumed("a SOAP 1.1 binding in the served WSDL", "none zeep can bind")
    try:
        service = client.create_service(bindings[0].name, om.url)
        result = getattr(service, op.name)(
            **zeep_arguments(op, params), _soapheaders=auth_headers(om.credentials)
        )
    except zeep.exceptions.Fault as fault:  # a fault is a legitimate answer zeep has read
        return Answer(None, fault, transport.last)
    except _OUR_ERRORS:
        raise
    except Exception as exc:  # whatever zeep raises on the target's answer is the finding
        raise not_consumed(
            f"zeep calls {op.name} and reads its {op.output_element} into the WSDL's types",
            f"zeep: {zeep_error(exc)}",
            transport.last,
        ) from None
    return Answer(result, None, transport.last)
