"""``openmedia-conformance run``: the suite through pytest, with the suite's exit statuses.

The command adds nothing of its own but the target package: ``pytest --pyargs
conformance.suite`` with every further argument passed through (``--target-url``, ``-x``,
``-k``, ``-n 2``, ``--junitxml`` …), so the suite behaves the same whichever way it is started;
and the folder it runs in does not matter: the rootdir is the folder holding the package, the
configuration the package's own ``run.ini`` (``conformance.plugin.node_ids`` says why).
It only asks ``conformance.plugin.exit_status`` for the documented status of pytest's exit code:

====  ======================================================================================
0     every test passed (warnings and not-applicable tests included)
1     the target failed at least one requirement
2     usage error: a wrong option, a broken profile, or nothing selected; or the pre-flight
      found the credentials refused or the profile not matching the server
3     suite or environment error only: unreachable target or no Open Media service there (the
      pre-flight), collection error, interrupted
====  ======================================================================================
"""

from __future__ import annotations

import sys
from importlib import metadata

import pytest

from conformance.contract.paths import PACKAGE_PARENT, RUN_INI, SUITE_PACKAGE
from conformance.plugin.exit_status import RunFacts, exit_status, translate_exit_code

__all__ = ["plugin_installed", "pytest_args", "run_main", "translate_exit_code"]

USAGE = (
    "usage: openmedia-conformance run [openmedia options] [pytest options] [suite modules]\n"
    "Runs the conformance suite (pytest --pyargs conformance.suite); the openmedia options are\n"
    'listed under "Open Media Service conformance" below. Exit status: 0 pass, 1 target\n'
    "failures, 2 usage or profile error, 3 suite or environment error.\n"
)


def plugin_installed() -> bool:
    """True when the ``openmedia`` pytest11 entry point is installed (pip install)."""
    return any(ep.name == "openmedia" for ep in metadata.entry_points(group="pytest11"))


def pytest_args(argv: list[str]) -> list[str]:
    """The pytest command line for ``run``: the suite package, plus the plugin if needed.

    ``run conformance.suite.test_service`` runs just that module (the whole package is added
    only when no suite module is named). A checkout that was never installed has no entry
    point, so the plugin is named with ``-p`` (naming it when it is installed too would
    register it twice). The rootdir and the configuration file come first: a user's own
    ``--rootdir`` or ``-c`` given after them still wins.
    """
    named = [a for a in argv if a == SUITE_PACKAGE or a.startswith(SUITE_PACKAGE + ".")]
    rooted = ["-c", str(RUN_INI), "--rootdir", str(PACKAGE_PARENT)]
    args = [*rooted, "--pyargs", *([] if named else [SUITE_PACKAGE]), *argv]
    if not plugin_installed():
        args = ["-p", "conformance.plugin", *args]
    return args


def run_main(argv: list[str]) -> int:
    """Run the suite with ``argv`` (options for the plugin and for pytest); return the status."""
    if any(arg in ("-h", "--help") for arg in argv):
        sys.stdout.write(USAGE + "\n")
        sys.stdout.flush()
    interrupt = _InterruptSeen()
    code = int(pytest.main(pytest_args(list(argv)), plugins=[interrupt]))
    return exit_status(RunFacts(code, interrupted=interrupt.seen, documented=True))


class _InterruptSeen:
    """Tells a Ctrl-C while pytest configures (exit 2, as a usage error would be) from a usage
    error (``RunFacts.interrupted``). From collection on the session's facts say it."""

    seen = False

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        self.seen = self.seen or isinstance(excinfo.value, KeyboardInterrupt)


if __name__ == "__main__":  # pragma: no cover - `python -m conformance.cli.run`
    sys.exit(run_main(sys.argv[1:]))
