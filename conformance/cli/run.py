"""``openmedia-conformance run``: the suite through pytest, with the suite's exit statuses.

The command is ``pytest --pyargs conformance.suite`` with every further argument passed
through (``--om-target-url``, ``-x``, ``-k``, ``-n 2``, ``--junitxml`` …), so the suite behaves
the same whichever way it is started; and the folder it runs in does not matter: the rootdir is
the folder holding the package, the configuration the package's own ``run.ini``
(``conformance.plugin.node_ids`` says why).
Besides, it accepts each suite option also in its spelling from before the ``--om-`` prefix
(``--target-url``, ``--profile``, ``--strict`` …: ``conformance.plugin.options``), lists the
suite's options first in ``--help``, answers an unknown option with a "did you mean", and
translates pytest's exit codes into the documented ones:

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

import difflib
import sys
from collections.abc import Generator, Iterable
from importlib import metadata

import pytest

from conformance.contract.paths import PACKAGE_PARENT, RUN_INI, SUITE_PACKAGE
from conformance.plugin.exit_status import RunFacts, exit_status, translate_exit_code

__all__ = ["plugin_installed", "pytest_args", "run_main", "translate_exit_code"]
from conformance.plugin.options import (
    PASSWORD,
    PROFILE,
    STRICT,
    TARGET_URL,
    help_parser,
    spellings,
)

PROG = "openmedia-conformance run"
USAGE = f"{PROG} [openmedia options] [pytest options] [suite modules]"
DESCRIPTION = (
    "Runs the conformance suite (pytest --pyargs conformance.suite) with these options, then "
    "any of pytest's (listed below them). Exit status: 0 pass, 1 target failures, 2 usage or "
    "profile error, 3 suite or environment error. On this command each option also takes its "
    f"spelling without the prefix ({TARGET_URL.alias}, {PROFILE.alias}, {PASSWORD.alias}, "
    f"{STRICT.alias} ...); plain pytest knows only the prefixed one."
)


def plugin_installed() -> bool:
    """True when the ``openmedia`` pytest11 entry point is installed (pip install)."""
    return any(ep.name == "openmedia" for ep in metadata.entry_points(group="pytest11"))


def translate_aliases(argv: Iterable[str]) -> list[str]:
    """Every option in its ``--om-`` spelling: ``--target-url URL``, ``--profile=FILE`` and
    ``--strict`` (the spellings from before the prefix) become ``--om-target-url URL``,
    ``--om-profile=FILE`` and ``--om-strict``. The value of an option is left alone (a password
    may look like an option), and so is everything after ``--``."""
    spelled = spellings()
    words = list(argv)
    translated: list[str] = []
    for index, word in enumerate(words):
        if word == "--":
            return [*translated, *words[index:]]
        previous = spelled.get(words[index - 1]) if index else None
        if previous is not None and previous.takes_value and translated[-1] == previous.flag:
            translated.append(word)  # the value of the option before it
            continue
        name, equals, value = word.partition("=")
        option = spelled.get(name)
        translated.append(word if option is None else option.flag + equals + value)
    return translated


def pytest_args(argv: list[str]) -> list[str]:
    """The pytest command line for ``run``: the suite package, plus the plugin if needed.

    ``run conformance.suite.test_service`` runs just that module (the whole package is added
    only when no suite module is named). A checkout that was never installed has no entry
    point, so the plugin is named with ``-p`` (naming it when it is installed too would
    register it twice). The rootdir and the configuration file come first: a user's own
    ``--rootdir`` or ``-c`` given after them still wins. The options' spellings without the
    prefix are translated (:func:`translate_aliases`).
    """
    argv = translate_aliases(argv)
    named = [a for a in argv if a == SUITE_PACKAGE or a.startswith(SUITE_PACKAGE + ".")]
    rooted = ["-c", str(RUN_INI), "--rootdir", str(PACKAGE_PARENT)]
    args = [*rooted, "--pyargs", *([] if named else [SUITE_PACKAGE]), *argv]
    if not plugin_installed():
        args = ["-p", "conformance.plugin", *args]
    return args


def suite_help() -> str:
    """What ``run --help`` prints before pytest's own help: the suite's options."""
    return help_parser(PROG, USAGE, DESCRIPTION).format_help()


def run_main(argv: list[str]) -> int:
    """Run the suite with ``argv`` (options for the plugin and for pytest); return the status."""
    if any(arg in ("-h", "--help") for arg in argv):
        sys.stdout.write(suite_help() + "\npytest's options:\n\n")
        sys.stdout.flush()
    interrupt = _InterruptSeen()
    args = pytest_args(list(argv))
    code = int(pytest.main(args, plugins=[interrupt, _UnknownOption()]))
    return exit_status(RunFacts(code, interrupted=interrupt.seen, documented=True))


def unknown_option_line(message: str, known: Iterable[str]) -> str | None:
    """One line for pytest's "unrecognized arguments" usage error, naming the nearest option
    to each unknown one (``None``: the error is another one, left as pytest words it)."""
    found = [line for line in message.splitlines() if "unrecognized arguments:" in line]
    if not found:
        return None
    words = found[0].split("unrecognized arguments:", 1)[1].split()
    unknown = [word.partition("=")[0] for word in words if word.startswith("-")]
    if not unknown:
        return None
    ours = {word: option.flag for word, option in spellings().items()}
    candidates = {**{word: word for word in known}, **ours}
    parts = []
    for word in unknown:
        near = difflib.get_close_matches(word, candidates, n=1)
        hint = f"did you mean {candidates[near[0]]}?" if near else f"`{PROG} --help` lists them"
        parts.append(f"unknown option {word}; {hint}")
    return f"{PROG}: " + "; ".join(parts)


class _UnknownOption:
    """pytest's usage error for an unknown option, as one line with a "did you mean"."""

    def __init__(self) -> None:
        self.parser: pytest.Parser | None = None

    def pytest_addoption(self, parser: pytest.Parser) -> None:
        self.parser = parser  # every plugin's options are in it by the time pytest parses

    @pytest.hookimpl(wrapper=True)
    def pytest_cmdline_parse(self) -> Generator[None, pytest.Config, pytest.Config]:
        try:
            return (yield)
        except pytest.UsageError as exc:
            line = unknown_option_line(str(exc), self._known())
            if line is None:
                raise
            raise pytest.UsageError(line) from None

    def _known(self) -> list[str]:
        """Every option string pytest's parser knows (argparse keeps them in a private map)."""
        optparser = getattr(self.parser, "optparser", None)
        return list(getattr(optparser, "_option_string_actions", {}))


class _InterruptSeen:
    """Tells a Ctrl-C while pytest configures (exit 2, as a usage error would be) from a usage
    error (``RunFacts.interrupted``). From collection on the session's facts say it."""

    seen = False

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        self.seen = self.seen or isinstance(excinfo.value, KeyboardInterrupt)


if __name__ == "__main__":  # pragma: no cover - `python -m conformance.cli.run`
    sys.exit(run_main(sys.argv[1:]))
