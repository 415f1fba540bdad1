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

Also a small pytest plugin (loaded with ``conformance.reporting.allure_results``): the first
suite test's teardown that finds the target started takes the fingerprint (before the session's
fixtures stop the embedded emulator); an xdist worker hands its fingerprint to the controller.
:func:`fingerprints` gives them to whoever reports (environment.properties, a certificate).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import pytest

from conformance.plugin.runtime import RUNTIME_KEY, SUITE_ITEM_KEY
from conformance.verdicts import SuiteError

if TYPE_CHECKING:
    from conformance.profile.session import TargetSession
    from conformance.wire import OpenMediaClient, Transport

MAX_DOCUMENTS = 32
"""At most this many documents beyond the WSDL are fetched (a WSDL that names itself in a loop,
or hundreds of imports, must not stall the run)."""
FINGERPRINTS_KEY = pytest.StashKey[list["TargetFingerprint"]]()
WORKER_OUTPUT_KEY = "openmedia_fingerprint"
_TAKEN_KEY = pytest.StashKey[bool]()


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
    target: TargetSession, transport: Transport | None = None
) -> TargetFingerprint:
    """GET the target's ``?wsdl`` and the documents it names, hash what it served (never
    raises). ``transport``: the suite's own (paced in safe mode), else a plain one."""
    from conformance.wire import OpenMediaClient

    features = tuple(sorted(target.features))
    client = OpenMediaClient(target.url, timeout_s=target.timeout_s, transport=transport)
    try:
        try:
            exchange = client.fetch_wsdl()
        except SuiteError as exc:
            return TargetFingerprint(target.url, features=features, problem=f"no WSDL: {exc}")
        server = exchange.response_header("Server")
        if exchange.status != 200:
            problem = f"?wsdl answered {exchange.status} {exchange.reason}"
            return TargetFingerprint(target.url, server=server, features=features, problem=problem)
        digest = hashlib.sha256(exchange.response_body).hexdigest()
        documents = tuple(_named_documents(client, f"{target.url}?wsdl", exchange.response_body))
    finally:
        client.close()
    return TargetFingerprint(target.url, digest, server, features, documents=documents)


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


def fingerprints(config: pytest.Config) -> tuple[TargetFingerprint, ...]:
    """The run's fingerprints: one per process that reached a target (xdist: per worker)."""
    taken: list[TargetFingerprint] = config.stash.get(FINGERPRINTS_KEY, [])
    return tuple(taken)


def _add(config: pytest.Config, fingerprint: TargetFingerprint) -> None:
    config.stash.setdefault(FINGERPRINTS_KEY, []).append(fingerprint)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """Before the fixtures' teardown (the last one stops the embedded emulator)."""
    config = item.config
    runtime = config.stash.get(RUNTIME_KEY, None)
    if (
        runtime is not None
        and runtime.target is not None
        and item.stash.get(SUITE_ITEM_KEY, False)
        and not config.stash.get(_TAKEN_KEY, False)
    ):
        from conformance.plugin.safe_mode import transport_for

        config.stash[_TAKEN_KEY] = True
        target = runtime.target
        _add(config, take_fingerprint(target, transport_for(config, target)))
    return (yield)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """An xdist worker sends its fingerprint to the controller (``workeroutput``)."""
    output = getattr(session.config, "workeroutput", None)
    taken = fingerprints(session.config)
    if output is not None and taken:
        output[WORKER_OUTPUT_KEY] = taken[0].as_dict()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """The xdist controller receives a worker's fingerprint."""
    data = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY)
    if data:
        _add(node.config, TargetFingerprint.from_dict(data))
