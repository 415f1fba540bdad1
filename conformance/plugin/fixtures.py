"""The fixtures the suite's modules use (loaded by ``conformance.plugin`` via ``pytest_plugins``).

=================  =========  ===============================================================
fixture            scope      what a test gets
=================  =========  ===============================================================
``target``         session    ``TargetSession``: url, control_url, profile, features, strict,
                              timeout_s, credentials, embedded, safe_mode, has(), missing()
``profile``        session    ``Profile`` as loaded (no target started for it)
``om``             function   ``OpenMediaClient`` whose every SOAP exchange is checked by
                              ``conformance.checks.check_exchange`` and recorded as evidence
``raw_om``         function   the same client, unchecked (negative wire tests), still recorded
``om_clients``     function   ``om_clients(k)``: k more clients like ``om``, one per thread of
                              a test that calls from several clients at once (same pace)
``control``        session    ``ControlClient``; *not applicable* ("scenario") without one
``requires``       function   ``requires(*features)``: *not applicable* unless all offered
``scenario``       function   resets a controllable target to ``profile.to_scenario()``;
                              returns the ``Profile`` the test should use
``make_scenario``  function   ``make_scenario(**profile_overrides) -> Profile``: the same
                              with a variant of the profile (``data_expiration_minutes=1`` …)
``not_ours``       function   ``not_ours(ids)``: of these OpenMediaIDs, those another
                              xdist worker of this run created (one shared external target)
                              or another client, in a group outside the profile
``observe``        function   ``observe(name, value)``: what the target chose where a reading
                              leaves it a choice, kept as a property of the test's JUnit case
=================  =========  ===============================================================

In safe mode (``[target] safe_mode``) the clients' transport keeps the rate limit, sends only the
SetOptions the profile allows and tracks every request the suite creates, for the cleanup when
its test ends (``conformance.safemode``; its hooks, loaded from here, are in
``conformance.plugin.safe_mode``). A test that sends SetOptions says so with
``@pytest.mark.sets_options("own" | "in-force")``, so safe mode makes it *not applicable* first.

Each fixture only delegates: to the runtime (target start), to the wire layer (clients) and to
the checks (``check_exchange``), so the same checks run whatever test sends the request.

PYTEST_DONT_REWRITE: the plugin's modules import one another before pytest registers them
(``conformance.plugin``'s ``pytest_plugins``), and pytest would warn that it cannot rewrite the
one imported first; they fail through ``ConformanceFailure``, not plain asserts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from conformance.plugin.runtime import runtime_of
from conformance.profile import Profile
from conformance.profile.session import OptionsSent, TargetSession
from conformance.verdicts import NotApplicable, NotApplicableReason, SuiteError

if TYPE_CHECKING:
    from conformance.wire import ControlClient, Exchange, OpenMediaClient


def _runtime(config: pytest.Config) -> Any:

    return runtime_of(config)


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> Iterator[TargetSession]:
    """The target under test, started (embedded emulator) and discovered once per session."""
    runtime = _runtime(pytestconfig)
    try:
        yield runtime.target_session()
    finally:
        runtime.close()


@pytest.fixture(scope="session")
def profile(pytestconfig: pytest.Config) -> Profile:
    """The profile as loaded from ``--om-profile`` (default: the emulator's)."""
    return _runtime(pytestconfig).settings.profile


def _checker() -> Callable[[Exchange], None]:
    try:
        from conformance.checks import check_exchange
        from conformance.contract.operations import OPERATIONS
    except ImportError as exc:  # pragma: no cover - only while the checks layer is missing
        raise SuiteError(f"the checks layer cannot be imported: {exc}") from exc
    names = frozenset(op.name for op in OPERATIONS)

    def check(exchange: Exchange) -> None:
        if exchange.operation in names:
            check_exchange(exchange, exchange.operation)

    return check


_RECORDING = threading.Lock()
"""Exchanges of clients in several threads (``om_clients``) are recorded one at a time."""


def _client(target: TargetSession, config: pytest.Config, *, checked: bool) -> OpenMediaClient:
    from conformance.plugin.run_ids import state_of as run_ids_of
    from conformance.plugin.safe_mode import transport_for
    from conformance.wire import OpenMediaClient

    runtime = _runtime(config)
    check = _checker() if checked else None
    run_ids = run_ids_of(config, target.embedded)

    def on_exchange(exchange: Exchange) -> None:
        with _RECORDING:
            runtime.record(exchange)
            if run_ids is not None:  # before the check: a failing answer may still have made one
                run_ids.observe(exchange)
        if check is not None:
            check(exchange)

    return OpenMediaClient(
        target.url,
        credentials=target.credentials,
        timeout_s=target.timeout_s,
        on_exchange=on_exchange,
        transport=transport_for(config, target),
    )


@pytest.fixture
def om(target: TargetSession, pytestconfig: pytest.Config) -> Iterator[OpenMediaClient]:
    """A SOAP client whose every answer passes the wire checks before the test sees it."""
    client = _client(target, pytestconfig, checked=True)
    yield client
    client.close()


@pytest.fixture
def raw_om(target: TargetSession, pytestconfig: pytest.Config) -> Iterator[OpenMediaClient]:
    """A SOAP client without the wire checks, for tests that send what a client must not."""
    client = _client(target, pytestconfig, checked=False)
    yield client
    client.close()


@pytest.fixture
def om_clients(
    target: TargetSession, pytestconfig: pytest.Config
) -> Iterator[Callable[[int], list[OpenMediaClient]]]:
    """``om_clients(k)``: k more checked, recorded clients like ``om`` (section concurrency:
    one per thread); in safe mode they share the run's one pace and ledger, so a burst is paced
    and its requests cleaned up like any other."""
    made: list[OpenMediaClient] = []

    def make(count: int) -> list[OpenMediaClient]:
        clients = [_client(target, pytestconfig, checked=True) for _ in range(count)]
        made.extend(clients)
        return clients

    yield make
    for client in made:
        client.close()


@pytest.fixture(scope="session")
def control(target: TargetSession, pytestconfig: pytest.Config) -> Iterator[ControlClient]:
    """The target's control plane; *not applicable* ("scenario") when it has none, and in safe
    mode, which withholds every feature that changes the server (``SAFE_MODE_WITHHELD``)."""
    if target.control_url is None or not target.has("scenario"):
        raise target.lacking("scenario")
    from conformance.wire import ControlClient

    client = ControlClient(
        target.control_url, target.timeout_s, on_exchange=_runtime(pytestconfig).record
    )
    yield client
    client.close()


@pytest.fixture
def requires(target: TargetSession) -> Callable[..., None]:
    """``requires("agents", "clock")``: *not applicable* unless the target offers them all."""

    def check(*features: str) -> None:
        missing = target.missing(*features)
        if missing:
            raise target.lacking(missing[0])

    return check


@pytest.fixture(autouse=True)
def _openmedia_requires_control(request: pytest.FixtureRequest) -> None:
    """Honour ``@pytest.mark.requires_control(...)`` before any other fixture of the test."""
    features = [f for mark in request.node.iter_markers("requires_control") for f in mark.args]
    if not features:
        return
    session: TargetSession = request.getfixturevalue("target")
    missing = session.missing(*features)
    if missing:
        raise session.lacking(missing[0])


@pytest.fixture(autouse=True)
def _openmedia_sets_options(request: pytest.FixtureRequest) -> None:
    """Honour ``@pytest.mark.sets_options(...)``: in safe mode a test that sends SetOptions is
    *not applicable* before it sends anything, unless the profile opts in and the test sends
    only the values it names (``TargetSession.why_no_set_options``)."""
    mark = request.node.get_closest_marker("sets_options")
    if mark is None:
        return
    session: TargetSession = request.getfixturevalue("target")
    why = session.why_no_set_options(OptionsSent(mark.args[0] if mark.args else "own"))
    if why is not None:
        raise NotApplicable(NotApplicableReason.SAFE_MODE, "SetOptions", why)


def _reset(request: pytest.FixtureRequest, profile: Profile) -> None:
    client: ControlClient = request.getfixturevalue("control")
    client.reset(profile.to_scenario())


@pytest.fixture
def scenario(target: TargetSession, request: pytest.FixtureRequest) -> Profile:
    """A known starting state: a controllable target is reset to the profile's scenario.

    On a target without a control plane nothing is sent: the profile describes how the vendor
    configured it, and that is the state the test starts from.
    """
    if target.has("scenario"):
        _reset(request, target.profile)
    return target.profile


@pytest.fixture
def make_scenario(target: TargetSession, request: pytest.FixtureRequest) -> Callable[..., Profile]:
    """``make_scenario(**overrides)``: reset to a variant of the profile and return it.

    ``overrides`` are ``Profile`` fields (``data_expiration_minutes=1``,
    ``auth=dataclasses.replace(profile.auth, enabled=True)``, ``groups=(...)``). The state stays
    changed after the test: a later test that needs a known state asks for ``scenario``.
    """

    def make(**overrides: Any) -> Profile:
        if not target.has("scenario"):
            raise target.lacking("scenario")
        variant = target.profile.with_changes(**overrides) if overrides else target.profile
        _reset(request, variant)
        return variant

    return make


@pytest.fixture
def observe(request: pytest.FixtureRequest) -> Callable[[str, object], None]:
    """``observe(name, value)``: record what the target chose where an OPEN reading leaves it a
    choice (R10, R11, R19), as a property of the test's JUnit case.

    Through ``user_properties`` directly: pytest's ``record_property`` fixture warns under the
    default ``junit_family`` (xunit2), and pytest writes the properties either way.
    """

    def note(name: str, value: object) -> None:
        request.node.user_properties.append((name, str(value)))

    return note


@pytest.fixture
def not_ours(
    target: TargetSession, pytestconfig: pytest.Config, om: OpenMediaClient
) -> Callable[[frozenset[int]], frozenset[int]]:
    """``not_ours(ids)``: those of ``ids`` that others created, not the test's call.

    A check that compares the target's whole request list (a refused AddRequest created
    nothing) leaves them out: IDs another xdist worker of this run was given (under ``-n``
    against one external target, ``conformance.plugin.run_ids``), and requests of other clients of a
    server in use: in an Open Media group the target serves that the profile does not name (a
    refused call would have created its request in the group it named: one of the profile's,
    or one the target does not have). Always empty on a target nobody else uses.
    """
    from conformance.plugin.run_ids import created_by_run, state_of

    state = state_of(pytestconfig, target.embedded)
    ours = frozenset(group.id for group in target.profile.groups)

    def elsewhere(oid: int) -> bool:
        records = getattr(om.get_status_by_id(oid).value, "requests", ())
        group = records[-1].service_group_id if records else None
        if group is None or group in ours:
            return False
        return om.get_service_group_status(group).fault is None

    def others(ids: frozenset[int]) -> frozenset[int]:
        of_run = created_by_run(state, ids)
        return of_run | frozenset(oid for oid in ids - of_run if elsewhere(oid))

    return others
