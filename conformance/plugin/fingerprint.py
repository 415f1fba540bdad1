"""When the target's fingerprint is taken, and how it reaches the process that reports it.

The first suite test's teardown that finds the target started takes the fingerprint
(``conformance.reporting.fingerprint``: the served WSDL and what it names, hashed), before the
session's fixtures stop the embedded emulator; an xdist worker hands its fingerprint to the
controller. :func:`fingerprints` gives them to whoever reports (environment.properties, a
certificate).

PYTEST_DONT_REWRITE: the plugin's modules import one another before pytest registers them
(``conformance.plugin``'s ``pytest_plugins``), and pytest would warn that it cannot rewrite the
one imported first; they fail through ``ConformanceFailure``, not plain asserts.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.plugin.runtime import RUNTIME_KEY, SUITE_ITEM_KEY
from conformance.plugin.safe_mode import transport_for
from conformance.reporting.fingerprint import TargetFingerprint, take_fingerprint

FINGERPRINTS_KEY = pytest.StashKey[list[TargetFingerprint]]()
WORKER_OUTPUT_KEY = "openmedia_fingerprint"
_TAKEN_KEY = pytest.StashKey[bool]()


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
        target = runtime.target
        transport = transport_for(config, target)
        fingerprint = take_fingerprint(
            target.url, timeout_s=target.timeout_s, features=target.features, transport=transport
        )
        _add(config, fingerprint)
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
