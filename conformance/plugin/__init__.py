"""The pytest plugin (entry point ``pytest11: openmedia``): every hook, fixture and option.

This module is what the entry point (or ``-p conformance.plugin``) names; it only lists the
plugin's modules, in the order pytest registers them:

==================  =====================================================================
``configuration``   options (defined in ``options``), markers, ``RunSettings`` and
                    ``SessionRuntime`` built at configure
``fixtures``        the fixtures the suite's modules use
``safe_mode``       when safe mode tracks, cleans and audits what the suite created
``verdict_hooks``   how an outcome becomes a verdict; the verdict tally; the exit status
                    (the policy: ``exit_status``)
``allure``          which runs write Allure results, where; each test's result completed
``fingerprint``     the target's fingerprint, taken once, gathered from the xdist workers
``junit``           each JUnit test case's verdict property; ``<error>`` for an error
``summary``         progress, summary table, baseline, reproduction lines, certificate
``run_ids``         one external target shared by the xdist workers of a run
``preflight_hook``  the target checked once, before any test
``node_ids``        stable test IDs wherever a run starts; no cache written
``real_time``       the data cache's real-time tier (``--om-real-time``): started with the
                    test loop, its tests run last
``exchange_log``    each test's verdict and exchanges in ``reports/exchanges.jsonl.gz``
==================  =====================================================================

The reporting hooks come after the verdict hooks (they read the verdict); they hand the run's
records and settings to ``conformance.reporting``, which holds no hook.
"""

from __future__ import annotations

import sys
from typing import Any

pytest_plugins = [
    "conformance.plugin.configuration",
    "conformance.plugin.fixtures",
    "conformance.plugin.safe_mode",
    "conformance.plugin.verdict_hooks",
    "conformance.plugin.allure",
    "conformance.plugin.fingerprint",
    "conformance.plugin.junit",
    "conformance.plugin.summary",
    "conformance.plugin.run_ids",
    "conformance.plugin.preflight_hook",
    "conformance.plugin.node_ids",
    "conformance.plugin.real_time",
    "conformance.plugin.reruns",
    "conformance.plugin.exchange_log",
]

ENTRY_POINT = "openmedia"


def pytest_plugin_registered(plugin: object, plugin_name: str, manager: Any) -> None:
    """Named with ``-p conformance.plugin`` while also installed: keep the entry point out.

    Otherwise pytest would register this module a second time under the entry point's name and
    stop with "Plugin already registered under a different name".
    """
    if plugin is sys.modules[__name__] and plugin_name != ENTRY_POINT:
        manager.set_blocked(ENTRY_POINT)
