"""The target's fingerprint: URL, sha256 of the WSDL it serves, Server header, control features.

Taken once per session (one ``GET ?wsdl``, recorded as no test's evidence) while the target is
up, so that a report says precisely *what* was tested: two servers behind the same URL, or one
server before and after an upgrade, serve different WSDL bytes or name themselves differently.
The embedded emulator writes its own address into its WSDL, so runs on different ports hash
differently; that is intended, the fingerprint is of the bytes served.

Also a small pytest plugin (loaded with ``conformance.reporting.allure_results``): the first
suite test's teardown that finds the target started takes the fingerprint (before the session's
fixtures stop the embedded emulator); an xdist worker hands its fingerprint to the controller.
:func:`fingerprints` gives them to whoever reports (environment.properties, a certificate).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from conformance.runtime import RUNTIME_KEY, SUITE_ITEM_KEY
from conformance.verdicts import SuiteError

if TYPE_CHECKING:
    from conformance.settings import TargetSession

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

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "wsdl_sha256": self.wsdl_sha256,
            "server": self.server,
            "features": list(self.features),
            "problem": self.problem,
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
        )


def take_fingerprint(target: TargetSession) -> TargetFingerprint:
    """GET the target's ``?wsdl`` once and hash what it served (never raises)."""
    from conformance.wire import OpenMediaClient

    features = tuple(sorted(target.features))
    client = OpenMediaClient(target.url, timeout_s=target.timeout_s)
    try:
        exchange = client.fetch_wsdl()
    except SuiteError as exc:
        return TargetFingerprint(target.url, features=features, problem=f"no WSDL: {exc}")
    finally:
        client.close()
    server = exchange.response_header("Server")
    if exchange.status != 200:
        problem = f"?wsdl answered {exchange.status} {exchange.reason}"
        return TargetFingerprint(target.url, server=server, features=features, problem=problem)
    digest = hashlib.sha256(exchange.response_body).hexdigest()
    return TargetFingerprint(target.url, digest, server, features)


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
        config.stash[_TAKEN_KEY] = True
        _add(config, take_fingerprint(runtime.target))
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
