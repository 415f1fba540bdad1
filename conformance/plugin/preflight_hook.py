"""The pre-flight in a suite run: once, in the main process, before any test.

At the end of configuration (``trylast``: the run's settings are read, the terminal is ready)
and before a session starts, so that a stop leaves no test line, no verdict table and no
baseline entry behind, and before pytest-xdist starts a worker (workers skip it: they run
their own configuration after the main process passed it). ``--om-no-preflight`` skips it.

PYTEST_DONT_REWRITE: the plugin's modules import one another before pytest registers them
(``conformance.plugin``'s ``pytest_plugins``), and pytest would warn that it cannot rewrite the
one imported first; they fail through ``ConformanceFailure``, not plain asserts.
"""

from __future__ import annotations

import pytest

from conformance.plugin.exit_status import ExitStatus
from conformance.plugin.runtime import SETTINGS_KEY


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:

    settings = config.stash.get(SETTINGS_KEY, None)
    if (
        settings is None
        or settings.target_url is None
        or hasattr(config, "workerinput")
        or settings.no_preflight
        or config.getoption("collectonly", False)
    ):
        return
    from conformance.plugin.preflight import run_preflight

    reporter = config.pluginmanager.get_plugin("terminalreporter")
    write = reporter.write_line if reporter is not None else print
    try:
        outcome = run_preflight(settings, write)
    except KeyboardInterrupt:
        message = "openmedia pre-flight interrupted: no test was run"
        pytest.exit(message, returncode=int(ExitStatus.SUITE_ERROR))
    if outcome.stopped:
        # The STOP line above carries the reason; pytest repeats the exit message twice (its
        # "Exit:" line and the interrupted-session banner), so it only points there.
        message = f"openmedia pre-flight stopped the run (exit {int(outcome.code)}): see STOP above"
        pytest.exit(message, returncode=int(outcome.code))
