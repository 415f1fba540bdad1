"""The real-time tier of the data cache in a run (``--om-real-time`` / ``[target] real_time``).

On a target whose clock the suite may not drive (no control plane, or safe mode, which withholds
``clock``), cache expiry is observed by waiting (``conformance.suite_support.real_time_cache``).
The waiting runs beside the rest of the suite, so it adds about DataExpiration + margin to a
run at most, not that much per test:

* the tests that judge the tier (those using the ``real_time_cache`` fixture) are moved to the
  end of the run when the tier is asked for (the same order in every xdist worker);
* as the run's test loop starts, each process that has such tests (under ``-n`` every worker:
  each runs its own tier, two requests, and its cache tests judge that one; the controller
  runs none) starts its tier, unless the target offers the clock after all (the tests then
  keep their clock-driven form);
* the tier's client is made like every suite client (safe mode paces it and tracks what it
  creates, under an owner of its own, so no test's end cancels the tier's requests; the run's
  ID journal sees them), but records into the tier, not into whichever test runs meanwhile;
  each cache test replays the tier's exchanges as its evidence, wire-checked;
* when the loop ends (also by Ctrl-C, or ``-x``) the tier stops at once and its queued request
  is cancelled; in safe mode what is still pending is then cleaned like a fixture's requests.

PYTEST_DONT_REWRITE: the plugin's modules import one another before pytest registers them
(``conformance.plugin``'s ``pytest_plugins``), and pytest would warn that it cannot rewrite the
one imported first; they fail through ``ConformanceFailure``, not plain asserts.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from conformance.plugin.options import REAL_TIME
from conformance.plugin.runtime import RUNTIME_KEY, runtime_of
from conformance.profile.model import REAL_TIME_MAX_MINUTES
from conformance.profile.session import TargetSession
from conformance.verdicts import NotApplicable, NotApplicableReason, SuiteError

if TYPE_CHECKING:
    from conformance.suite_support.real_time_cache import RealTimeCache
    from conformance.wire import Exchange

FIXTURE = "real_time_cache"
"""The fixture of the tests the tier serves; a test using it runs at the end of a tier's run."""
OWNER = "session:openmedia-real-time-cache"
"""Safe mode's owner of the tier's requests (``Ledger.owner``): cleaned when the tier stops."""
TIER_KEY = pytest.StashKey["RealTimeCache | None"]()
"""This process's tier (``None``: none was started)."""
README_SECTION = "README, 'The data cache in real time'"


def _asked(config: pytest.Config) -> bool:
    runtime = config.stash.get(RUNTIME_KEY, None)  # none: not configured (``--help``)
    return runtime is not None and runtime.settings.real_time


def _why_not(target: TargetSession) -> str | None:
    """Why the tier cannot run on this target (``None``: it can)."""
    if target.has("scenario"):
        return (
            "the target's control plane resets it between tests (feature 'scenario'), which "
            "would wipe the real-time tier's requests; offer 'clock' too, or test in safe mode"
        )
    return None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With the tier asked for, its tests run last: by then most of the wait is over."""
    if not _asked(config):
        return
    waiting = [item for item in items if FIXTURE in getattr(item, "fixturenames", ())]
    if waiting:
        items[:] = [item for item in items if item not in waiting] + waiting


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Iterator[None]:
    """Start the tier before the first test; stop it (and cancel its requests) after the last,
    also when the loop ends by Ctrl-C, ``-x`` or an error, even one during the start."""
    tier = _tier(session)
    try:
        if tier is not None:
            _begin(session.config, tier)
        return (yield)
    finally:
        if tier is not None:
            tier.stop()
            _clean(session.config)


def _tier(session: pytest.Session) -> RealTimeCache | None:
    """This process's tier, made but not started (``None``: the run needs none)."""
    config = session.config
    if config.option.collectonly or session.testsfailed:  # no test loop to run beside
        return None
    if not _asked(config) or not any(
        FIXTURE in getattr(item, "fixturenames", ()) for item in session.items
    ):
        return None
    runtime = runtime_of(config)
    try:
        target = runtime.target_session()
    except SuiteError:
        return None  # every test reports it through the ``target`` fixture
    if target.has("clock") or _why_not(target) is not None:
        return None
    from conformance.plugin.run_ids import state_of as run_ids_of
    from conformance.plugin.safe_mode import transport_for
    from conformance.suite_support.real_time_cache import RealTimeCache
    from conformance.wire import OpenMediaClient

    check = _checker()

    def replay(exchange: Exchange) -> None:
        runtime.record(exchange)
        check(exchange)

    om = OpenMediaClient(
        target.url,
        credentials=target.credentials,
        timeout_s=target.timeout_s,
        transport=transport_for(config, target),
    )
    tier = RealTimeCache(om, target.profile, replay=replay, say=_say(config))
    run_ids = run_ids_of(config, target.embedded)

    def on_exchange(exchange: Exchange) -> None:
        """Like every suite client's, but kept in the tier: not the running test's evidence."""
        if run_ids is not None:
            run_ids.observe(exchange)
        tier.log(exchange)

    om.on_exchange = on_exchange
    config.stash[TIER_KEY] = tier
    return tier


def _begin(config: pytest.Config, tier: RealTimeCache) -> None:
    """Start the tier, its requests owned by the tier in safe mode's ledger."""
    from conformance.plugin.safe_mode import state_of

    safety = state_of(config)
    if safety is not None:
        safety.ledger.scopes.append(OWNER)
    try:
        tier.start()
    finally:
        if safety is not None:
            safety.ledger.scopes.remove(OWNER)


def _checker() -> Callable[[Exchange], None]:
    from conformance.plugin.fixtures import _checker as checker

    return checker()


def _say(config: pytest.Config) -> Callable[[str], None]:
    """A progress line on the terminal, past pytest's capture (a test is running)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")

    def say(line: str) -> None:
        if reporter is None:
            return
        suspended = (
            capture.global_and_fixture_disabled()
            if capture is not None
            else contextlib.nullcontext()
        )
        module = reporter.currentfspath  # the line of results being written (none with -q)
        with suspended:
            if reporter._tw.width_of_current_line:  # after the progress characters
                reporter._tw.line()
            reporter.currentfspath = None  # (so ``write_line`` adds no blank line)
            reporter.write_line(line)
            if module is not None:  # the waiting test's result goes on a line naming its file
                reporter._tw.write(f"{os.path.relpath(module, reporter.startpath)} ")
                reporter.currentfspath = module

    return say


def _clean(config: pytest.Config) -> None:
    from conformance.plugin.safe_mode import state_of

    safety = state_of(config)
    if safety is not None and not safety.finished:
        safety.clean_owned(OWNER)


@pytest.fixture
def real_time_cache(target: TargetSession, pytestconfig: pytest.Config) -> RealTimeCache | None:
    """The run's real-time tier for a data-cache test; ``None`` when the target's clock can be
    driven (the test keeps its clock-driven form); *not applicable* when neither is possible,
    the reason naming ``--om-real-time``."""
    if target.has("clock"):
        return None
    if not runtime_of(pytestconfig).settings.real_time:
        raise NotApplicable(
            target.why_missing("clock"),
            "clock",
            f"to test it by waiting instead, run with {REAL_TIME.flag} on a test system whose "
            f"DataExpiration is at most {REAL_TIME_MAX_MINUTES} minutes ({README_SECTION})",
        )
    why = _why_not(target)
    if why is not None:
        raise NotApplicable(NotApplicableReason.CONTROL_FEATURE_MISSING, "clock", why)
    tier = pytestconfig.stash.get(TIER_KEY, None)
    if tier is None:
        raise SuiteError("the real-time cache tier was not started in this process")
    return tier
