"""``openmedia-conformance run``: the suite through pytest, with the suite's exit statuses.

The command adds nothing of its own but the target package: ``pytest --pyargs
conformance.suite`` with every further argument passed through (``--target-url``, ``-x``,
``-k``, ``-n 2``, ``--junitxml`` …), so the suite behaves the same whichever way it is started;
and the folder it runs in does not matter: the rootdir is the folder holding the package, the
configuration the package's own ``run.ini`` (``conformance.node_ids`` says why).
It only translates pytest's exit codes into the documented ones:

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
from pathlib import Path

import pytest

SUITE_PACKAGE = "conformance.suite"
PACKAGE_PARENT = Path(__file__).resolve().parent.parent
"""The folder holding the ``conformance`` package (a checkout's root, or ``site-packages``):
``run``'s rootdir, so that every suite test's ID is ``conformance/suite/test_x.py::test_y``."""
RUN_INI = Path(__file__).resolve().parent / "run.ini"
"""``run``'s pytest configuration: none is read from the folder it runs in."""
USAGE = (
    "usage: openmedia-conformance run [openmedia options] [pytest options] [suite modules]\n"
    "Runs the conformance suite (pytest --pyargs conformance.suite); the openmedia options are\n"
    'listed under "Open Media Service conformance" below. Exit status: 0 pass, 1 target\n'
    "failures, 2 usage or profile error, 3 suite or environment error.\n"
)

_EXIT_CODES = {0: 0, 1: 1, 2: 2, 3: 3, 4: 2, 5: 2}
"""pytest's exit code -> ours. 2 is the plugin's usage error (pytest.exit at configure); 3 is
the plugin's suite error or pytest's internal error; pytest's own usage error (4, e.g. an
unknown option) and "no tests collected" (5, e.g. a -k that selects nothing) are usage errors.
pytest's "interrupted" (2) does not reach here for a suite run: the plugin turns it into 3."""


def translate_exit_code(code: int) -> int:
    """The documented exit status for a pytest exit code (anything unknown: 3)."""
    return _EXIT_CODES.get(int(code), 3)


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
    code = translate_exit_code(int(pytest.main(pytest_args(list(argv)), plugins=[interrupt])))
    return 3 if interrupt.seen and code == 2 else code


class _InterruptSeen:
    """Tells a Ctrl-C while pytest configures (exit 2, as a usage error would be) from a usage
    error: an interrupted run is 3. From collection on the plugin maps it itself."""

    seen = False

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        self.seen = self.seen or isinstance(excinfo.value, KeyboardInterrupt)


if __name__ == "__main__":  # pragma: no cover - `python -m conformance.runner`
    sys.exit(run_main(sys.argv[1:]))
