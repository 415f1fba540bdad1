"""The target's fingerprint: URL, sha256 of the contract it serves, Server header, features.

Taken once per session (``GET ?wsdl`` and every document it names, recorded as no test's
evidence) while the target is up, so that a report says precisely *what* was tested: two servers
behind the same URL, or one server before and after an upgrade, serve different WSDL or XSD
bytes or name themselves differently. The served documents are the WSDL and those its
``wsdl:import location`` and ``xs:import``/``xs:include schemaLocation`` name, at the URLs they
name (whatever the server's naming: ``?xsd=xsd0``, ``?xsd=1``), on the target's own host and port
only. The embedded emulator writes its own address into its WSDL, so runs on different ports
hash differently; that is intended, the fingerprint is of the bytes served.
:func:`bundled_contract` hashes the suite's own copy of the contract (``schemas/``), which a
certificate records beside it.

When it is taken, and how an xdist worker's reaches the controller:
``conformance.plugin.fingerprint``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from conformance.verdicts import SuiteError

if TYPE_CHECKING:
    from conformance.wire import OpenMediaClient, Transport

MAX_DOCUMENTS = 32
"""At most this many documents beyond the WSDL are fetched (a WSDL that names itself in a loop,
or hundreds of imports, must not stall the run)."""


@dataclass(frozen=True)
class TargetFingerprint:
    """What identifies the target; ``problem`` says why the WSDL could not be read."""

    url: str
    wsdl_sha256: str | None = None
    server: str | None = None
    features: tuple[str, ...] = ()
    problem: str | None = None
    documents: tuple[tuple[str, str], ...] = ()
    """The documents the WSDL names, in the order found: ``(url, sha256)``, or ``(url, "not
    fetched: why")``."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "wsdl_sha256": self.wsdl_sha256,
            "server": self.server,
            "features": list(self.features),
            "problem": self.problem,
            "documents_sha256": dict(self.documents),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TargetFingerprint:
        """The inverse of :meth:`as_dict` (how an xdist worker's fingerprint travels)."""
        return cls(
            url=str(data["url"]),
            wsdl_sha256=data.get("wsdl_sha256"),
            server=data.get("server"),
            features=tuple(data.get("features") or ()),
            problem=data.get("problem"),
            documents=tuple((data.get("documents_sha256") or {}).items()),
        )


def take_fingerprint(
    url: str,
    *,
    timeout_s: float,
    features: Iterable[str] = (),
    transport: Transport | None = None,
) -> TargetFingerprint:
    """GET the target's ``?wsdl`` at ``url`` and the documents it names, hash what it served
    (never raises). ``features``: its control features, as discovered; ``transport``: the
    suite's own (paced in safe mode), else a plain one."""
    from conformance.wire import OpenMediaClient

    offered = tuple(sorted(features))
    client = OpenMediaClient(url, timeout_s=timeout_s, transport=transport)
    try:
        try:
            exchange = client.fetch_wsdl()
        except SuiteError as exc:
            return TargetFingerprint(url, features=offered, problem=f"no WSDL: {exc}")
        server = exchange.response_header("Server")
        if exchange.status != 200:
            problem = f"?wsdl answered {exchange.status} {exchange.reason}"
            return TargetFingerprint(url, server=server, features=offered, problem=problem)
        digest = hashlib.sha256(exchange.response_body).hexdigest()
        documents = tuple(_named_documents(client, f"{url}?wsdl", exchange.response_body))
    finally:
        client.close()
    return TargetFingerprint(url, digest, server, offered, documents=documents)


def _named_documents(
    client: OpenMediaClient, wsdl_url: str, wsdl: bytes
) -> Iterator[tuple[str, str]]:
    """``(url, sha256)`` of every document the WSDL names, transitively, on the same origin.

    After a document that could not be fetched at all (timeout, reset), the rest are not asked
    for: a target that stopped answering must not cost one exchange timeout per document.
    """
    origin = urlsplit(wsdl_url)[:2]
    seen = {wsdl_url}
    pending = [(wsdl_url, wsdl)]
    silent: str | None = None
    while pending:
        base, body = pending.pop(0)
        for location in _locations(body):
            url = urljoin(base, location)
            if url in seen:
                continue
            seen.add(url)
            if urlsplit(url)[:2] != origin:
                yield url, "not fetched: not on the target's host and port"
            elif len(seen) > MAX_DOCUMENTS + 1:
                yield url, f"not fetched: more than {MAX_DOCUMENTS} documents"
            elif silent is not None:
                yield url, f"not fetched: an earlier document was not answered ({silent})"
            else:
                try:
                    exchange = client.send("GET", url, operation_name="contract document")
                except SuiteError as exc:
                    silent = str(exc)
                    yield url, f"not fetched: {exc}"
                    continue
                if exchange.status != 200:
                    yield url, f"not fetched: {exchange.status} {exchange.reason}"
                    continue
                yield url, hashlib.sha256(exchange.response_body).hexdigest()
                pending.append((url, exchange.response_body))


def _locations(body: bytes) -> list[str]:
    from conformance.contract.documents import named_locations
    from conformance.contract.xmlsafe import parse

    try:
        return named_locations(parse(body))
    except ValueError:
        return []


def bundled_contract() -> dict[str, str]:
    """``{file: sha256}`` of the contract the suite carries (``schemas/``: WSDL and XSDs)."""
    from conformance.contract.paths import schemas_dir

    base = schemas_dir()
    files = sorted([*base.glob("*.wsdl"), *base.glob("*.xsd")])
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in files}
