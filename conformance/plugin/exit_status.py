"""The suite's exit statuses: what a finished (or stopped) run tells the shell.

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

_EXIT_CODES = {0: 0, 1: 1, 2: 2, 3: 3, 4: 2, 5: 2}
"""pytest's exit code -> ours. 2 is the plugin's usage error (pytest.exit at configure); 3 is
the plugin's suite error or pytest's internal error; pytest's own usage error (4, e.g. an
unknown option) and "no tests collected" (5, e.g. a -k that selects nothing) are usage errors.
pytest's "interrupted" (2) does not reach here for a suite run: the plugin turns it into 3."""


def translate_exit_code(code: int) -> int:
    """The documented exit status for a pytest exit code (anything unknown: 3)."""
    return _EXIT_CODES.get(int(code), 3)
