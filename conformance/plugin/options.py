"""Every option of the suite: its spelling, its help, and the one place each is read.

The plugin loads into every pytest run where the package is installed, so its options must
clash with nobody's: each carries the one prefix ``--om-`` (``--om-profile``, not
pytest-profiling's ``--profile``; ``--om-strict``, not pytest's own ``--strict``, which since
pytest 9 also makes markers, configuration, xfail and parametrization ids strict).

* :data:`SUITE_OPTIONS`: the openmedia group (``pytest --help`` lists it last, ``run --help``
  first), registered by ``conformance.plugin.configuration`` through :func:`add_suite_options`;
* :data:`MUTATION_OPTIONS`: the group of ``-p conformance.mutation.select`` (the matrix's runs),
  registered by that plugin through :func:`add_mutation_options`;
* ``openmedia-conformance run`` still accepts each option's spelling from before the prefix
  (:attr:`SuiteOption.alias`: ``--target-url``, ``--profile``, ``--strict`` …) and translates
  it before pytest sees it (``conformance.cli.run``); plain ``pytest`` knows only ``--om-``.

Where a value is read: :func:`option_values` is the only reader of these options (no other
module calls ``config.getoption`` for one); the plugin resolves its :class:`OptionValues` with
the environment and the profile into ``RunSettings`` (``conformance.plugin.settings``), which
is what every hook and fixture uses. The Allure switches are read through
:func:`option_values` by ``conformance.reporting.allure_results``, which decides before the
settings exist; the matrix's options through :func:`mutation_values`.

``check`` and ``cleanup`` (argparse, outside pytest) take the credential options with the same
meaning, in both spellings: :func:`add_credential_arguments`.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

from conformance.profile.model import REAL_TIME_MAX_MINUTES
from conformance.secrets import ENV_PASSWORD

if TYPE_CHECKING:  # only for the annotations: ``check`` and ``cleanup`` run without pytest
    import pytest

PREFIX = "--om-"
"""The one prefix of every suite option."""
GROUP = "openmedia"
GROUP_TITLE = (
    "Open Media Service conformance (exit status: 0 pass, 1 target failures, 2 usage/profile "
    f"error, 3 suite/environment error; {PREFIX}strict turns SHOULD/OPEN warnings into failures)"
)
GROUP_HELP_TITLE = "Open Media Service conformance options"
"""The group's title where its description says the rest (``run --help``)."""
MUTATION_GROUP = "openmedia-mutation"
MUTATION_GROUP_TITLE = "Open Media mutation matrix (self-tests)"

ENV_LOGON_ID = "OPENMEDIA_LOGON_ID"
DEFAULT_TIMEOUT_S = 10.0
EMBEDDED_MODES = ("process", "thread")
"""How the embedded emulator runs: a child process (the default) or a thread of the run."""


class Kind(Enum):
    """How an option takes its value on the command line."""

    VALUE = "store"
    """``--om-x VALUE`` (or ``--om-x=VALUE``); not given: ``None``."""
    REPEATED = "append"
    """``--om-x A --om-x B``: every value, in order; not given: none."""
    SWITCH = "store_true"
    """``--om-x`` alone: on."""


@dataclass(frozen=True)
class SuiteOption:
    """One option: ``name`` without the prefix (``"target-url"``), how it is given, its help."""

    name: str
    help: str
    kind: Kind = Kind.VALUE
    metavar: str | None = None
    type: type[float] | type[int] | None = None
    choices: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        """The spelling on the command line: ``--om-target-url``."""
        return PREFIX + self.name

    @property
    def alias(self) -> str:
        """The spelling from before the prefix (``--target-url``), kept on ``run`` only."""
        return "--" + self.name

    @property
    def dest(self) -> str:
        """Where pytest keeps the value (``config.option.om_target_url``)."""
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def takes_value(self) -> bool:
        return self.kind is not Kind.SWITCH

    def argparse_kwargs(self) -> dict[str, Any]:
        """The keywords of ``addoption`` / ``add_argument`` (the same for pytest and argparse)."""
        kwargs: dict[str, Any] = {"action": self.kind.value, "dest": self.dest, "help": self.help}
        if self.kind is Kind.SWITCH:
            kwargs["default"] = False
        elif self.kind is Kind.REPEATED:
            kwargs["default"] = []
        if self.metavar is not None:
            kwargs["metavar"] = self.metavar
        if self.type is not None:
            kwargs["type"] = self.type
        if self.choices:
            kwargs["choices"] = self.choices
            kwargs["default"] = self.choices[0]
        return kwargs


# -- the openmedia group ------------------------------------------------------------------------
TARGET_URL = SuiteOption(
    "target-url",
    "the SOAP endpoint to test, e.g. http://host:12615/OpenMediaService "
    "(default: start the reference emulator on a free loopback port)",
    metavar="URL",
)
CONTROL_URL = SuiteOption(
    "control-url",
    "the target's control plane (contract v1), e.g. http://host:port/control; "
    f"without it a {TARGET_URL.flag} is tested on the observable profile",
    metavar="URL",
)
PROFILE = SuiteOption(
    "profile",
    "the target profile (TOML); default: fixtures/profiles/emulator.toml",
    metavar="FILE",
)
LOGON_ID = SuiteOption(
    "logon-id", f"LogonID header (else ${ENV_LOGON_ID}, else the profile)", metavar="ID"
)
PASSWORD = SuiteOption(
    "password",
    f"Password header (else ${ENV_PASSWORD}, else the profile's password or password_env); "
    "never shown in any output",
    metavar="SECRET",
)
EXCHANGE_TIMEOUT = SuiteOption(
    "exchange-timeout",
    f"deadline of one HTTP exchange with the target (default {DEFAULT_TIMEOUT_S:g})",
    metavar="SECONDS",
    type=float,
)
STRICT = SuiteOption(
    "strict",
    "fail a SHOULD requirement or an OPEN reading the target does not meet (by default a "
    "warning that passes)",
    kind=Kind.SWITCH,
)
EMULATOR_FAULT = SuiteOption(
    "emulator-fault",
    f"plant a defect in the embedded emulator (repeatable; not with {TARGET_URL.flag})",
    kind=Kind.REPEATED,
    metavar="NAME",
)
EMBEDDED_EMULATOR = SuiteOption(
    "embedded-emulator",
    "how the embedded emulator runs: 'process' (default: a child process, isolated from the "
    "suite) or 'thread' (inside the pytest process: starts faster, for many short runs such as "
    "the mutation matrix)",
    choices=EMBEDDED_MODES,
)
NO_PREFLIGHT = SuiteOption(
    "no-preflight",
    f"skip the pre-flight of a {TARGET_URL.flag} (service, credentials and profile checked "
    "before any test; `openmedia-conformance check` runs it alone): the suite then judges "
    "whatever answers",
    kind=Kind.SWITCH,
)
BASELINE = SuiteOption(
    "baseline",
    "expected-failure baseline (TOML [[expected]] entries: requirement or test, reason, owner, "
    "expires); a listed failure does not fail the run, a stale or expired entry does",
    metavar="FILE",
)
CERTIFICATE = SuiteOption(
    "certificate",
    "write the run's certificate (certificate.json + .html) into DIR (default: "
    "reports/certificate for a complete run of the whole suite; an incomplete run, e.g. -k, -x "
    "or interrupted, writes one only into DIR, marked INCOMPLETE)",
    metavar="DIR",
)
SIGN_WITH = SuiteOption(
    "sign-with",
    "sign the run's certificate with this Ed25519 private key (PEM, from "
    "`openmedia-conformance certificate keygen`); the key never appears in any output",
    metavar="KEY",
)
NO_ALLURE = SuiteOption(
    "no-allure",
    "write no Allure results (a suite run writes them to reports/allure-results, emptied "
    "first, unless allure-pytest's --alluredir DIR names another folder)",
    kind=Kind.SWITCH,
)
ATTACH_ALL_EXCHANGES = SuiteOption(
    "attach-all-exchanges",
    "attach every exchange in full to every test's Allure result, for an audit (by default a "
    "passed test carries a one-line-per-exchange record; a test that did not pass always gets "
    "its full exchanges)",
    kind=Kind.SWITCH,
)
REAL_TIME = SuiteOption(
    "real-time",
    "test the data cache by waiting in real time, on a target whose clock the suite cannot "
    f"drive: the profile's data_expiration_minutes (at most {REAL_TIME_MAX_MINUTES}) must be "
    "what the server has "
    "configured; about DataExpiration plus a margin is added to a run (also: [target] "
    "real_time = true)",
    kind=Kind.SWITCH,
)

DEFAULT_RERUNS = 1
RERUNS = SuiteOption(
    "reruns",
    f"re-run a suite test that failed, or lost an exchange in transport (timed out, refused, "
    f"reset), up to N more times (default {DEFAULT_RERUNS}; 0: never); one that passes on a "
    "re-run is flaky, which fails the run only under --om-strict",
    metavar="N",
    type=int,
)

EXCHANGE_LOG = SuiteOption(
    "exchange-log",
    "write the run's exchange log, which `openmedia-conformance compare` reads, to FILE (a "
    f"suite run writes reports/exchanges.jsonl.gz unless given {PREFIX}no-allure); 'none': "
    "write none",
    metavar="FILE",
)

SUITE_OPTIONS = (
    TARGET_URL,
    CONTROL_URL,
    PROFILE,
    LOGON_ID,
    PASSWORD,
    EXCHANGE_TIMEOUT,
    STRICT,
    EMULATOR_FAULT,
    EMBEDDED_EMULATOR,
    NO_PREFLIGHT,
    BASELINE,
    CERTIFICATE,
    SIGN_WITH,
    NO_ALLURE,
    ATTACH_ALL_EXCHANGES,
    REAL_TIME,
    RERUNS,
    EXCHANGE_LOG,
)
"""The openmedia group, in the order ``--help`` lists it."""

# -- the mutation matrix's group (``-p conformance.mutation.select``) ---------------------------
ONLY_REQUIREMENT = SuiteOption(
    "only-requirement",
    "run only the suite tests whose requirement marker cites ID",
    metavar="ID",
)
STOP_ON_REQUIREMENT = SuiteOption(
    "stop-on-requirement",
    "stop at the first failure citing ID (marker or ConformanceFailure)",
    metavar="ID",
)
MUTATION_JSON = SuiteOption(
    "mutation-json",
    "write collected tests and failures (with the requirements they cite) as JSON",
    metavar="FILE",
)
MUTATION_OPTIONS = (ONLY_REQUIREMENT, STOP_ON_REQUIREMENT, MUTATION_JSON)

ALL_OPTIONS = (*SUITE_OPTIONS, *MUTATION_OPTIONS)


def spellings() -> dict[str, SuiteOption]:
    """Every spelling ``run`` accepts (each option's flag and its alias) → the option."""
    return {word: option for option in ALL_OPTIONS for word in (option.flag, option.alias)}


# -- registering ---------------------------------------------------------------------------------
class _AddOption(Protocol):
    def __call__(self, *opts: str, **attrs: Any) -> Any: ...


def _add(add: _AddOption, options: Iterable[SuiteOption]) -> None:
    for option in options:
        add(option.flag, **option.argparse_kwargs())


def add_suite_options(parser: pytest.Parser) -> None:
    """The openmedia group and the plugin's ini option (``pytest_addoption`` of
    ``conformance.plugin.configuration``)."""
    _add(parser.getgroup(GROUP, GROUP_TITLE).addoption, SUITE_OPTIONS)
    parser.addini(
        "openmedia_suite_dirs",
        type="paths",
        default=[],
        help="extra folders whose tests must cite requirements (besides conformance/suite)",
    )


def add_mutation_options(parser: pytest.Parser) -> None:
    """The options of ``-p conformance.mutation.select`` (its ``pytest_addoption``)."""
    _add(parser.getgroup(MUTATION_GROUP, MUTATION_GROUP_TITLE).addoption, MUTATION_OPTIONS)


def help_parser(prog: str, usage: str, description: str) -> argparse.ArgumentParser:
    """An argparse parser holding only the openmedia group, for ``run --help`` to print first."""
    parser = argparse.ArgumentParser(prog=prog, usage=usage, add_help=False)
    _add(parser.add_argument_group(GROUP_HELP_TITLE, description).add_argument, SUITE_OPTIONS)
    return parser


# -- reading -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OptionValues:
    """The openmedia options exactly as the command line gave them (``None``: not given)."""

    target_url: str | None = None
    control_url: str | None = None
    profile: str | None = None
    logon_id: str | None = None
    password: str | None = field(default=None, repr=False)
    strict: bool = False
    timeout_s: float = DEFAULT_TIMEOUT_S
    emulator_faults: tuple[str, ...] = ()
    embedded_mode: str = EMBEDDED_MODES[0]
    baseline: str | None = None
    certificate: str | None = None
    sign_with: str | None = None
    hypothesis_seed: str | None = None
    """Hypothesis' own ``--hypothesis-seed`` (absent when its plugin is off), as text."""
    no_preflight: bool = False
    no_allure: bool = False
    attach_all_exchanges: bool = False
    real_time: bool = False
    reruns: int = DEFAULT_RERUNS
    exchange_log: str | None = None


def option_values(config: pytest.Config) -> OptionValues:
    """Every openmedia option of this run (the one place they are read)."""

    def get(option: SuiteOption) -> Any:
        return config.getoption(option.dest)

    timeout = get(EXCHANGE_TIMEOUT)
    seed = config.getoption("hypothesis_seed", None)
    return OptionValues(
        target_url=get(TARGET_URL),
        control_url=get(CONTROL_URL),
        profile=get(PROFILE),
        logon_id=get(LOGON_ID),
        password=get(PASSWORD),
        strict=bool(get(STRICT)),
        timeout_s=DEFAULT_TIMEOUT_S if timeout is None else timeout,
        emulator_faults=tuple(get(EMULATOR_FAULT) or ()),
        embedded_mode=get(EMBEDDED_EMULATOR),
        baseline=get(BASELINE),
        certificate=get(CERTIFICATE),
        sign_with=get(SIGN_WITH),
        hypothesis_seed=None if seed is None else str(seed),
        no_preflight=bool(get(NO_PREFLIGHT)),
        no_allure=bool(get(NO_ALLURE)),
        attach_all_exchanges=bool(get(ATTACH_ALL_EXCHANGES)),
        real_time=bool(get(REAL_TIME)),
        reruns=DEFAULT_RERUNS if get(RERUNS) is None else get(RERUNS),
        exchange_log=get(EXCHANGE_LOG),
    )


@dataclass(frozen=True)
class MutationValues:
    """The options of ``-p conformance.mutation.select`` (``None``: not given)."""

    only_requirement: str | None = None
    stop_on_requirement: str | None = None
    mutation_json: str | None = None


def mutation_values(config: pytest.Config) -> MutationValues:
    """The matrix's options of this run (the one place they are read)."""
    return MutationValues(
        only_requirement=config.getoption(ONLY_REQUIREMENT.dest),
        stop_on_requirement=config.getoption(STOP_ON_REQUIREMENT.dest),
        mutation_json=config.getoption(MUTATION_JSON.dest),
    )


# -- the same options on commands outside pytest --------------------------------------------------
def add_argument(
    parser: argparse.ArgumentParser, option: SuiteOption, help: str | None = None, **extra: Any
) -> None:
    """``option`` on an argparse command (``check``, ``cleanup``), in both spellings; the value
    lands in ``args.<name>`` (``args.target_url``)."""
    kwargs = {
        **option.argparse_kwargs(),
        "dest": option.name.replace("-", "_"),
        "help": help or option.help,
        **extra,
    }
    parser.add_argument(option.flag, option.alias, **kwargs)


def add_credential_arguments(parser: argparse.ArgumentParser) -> None:
    """``--om-profile``, ``--om-logon-id``, ``--om-password`` and ``--om-exchange-timeout`` of
    a command that talks to a target outside pytest (``check``, ``cleanup``): the same meaning
    as ``run``'s options, resolved by ``build_settings`` in the same order."""
    add_argument(parser, PROFILE, help="the target profile (TOML)")
    add_argument(parser, LOGON_ID)
    add_argument(
        parser,
        PASSWORD,
        help=f"Password header (else ${ENV_PASSWORD}, else the profile's password or password_env)",
    )
    add_argument(
        parser,
        EXCHANGE_TIMEOUT,
        help=f"deadline of one HTTP exchange (default {DEFAULT_TIMEOUT_S:g})",
        default=DEFAULT_TIMEOUT_S,
    )


def credential_options(
    args: argparse.Namespace, target_url: str | None, control_url: str | None = None
) -> OptionValues:
    """The :class:`OptionValues` of :func:`add_credential_arguments`, for the target's URLs."""
    return OptionValues(
        target_url=target_url,
        control_url=control_url,
        profile=args.profile,
        logon_id=args.logon_id,
        password=args.password,
        timeout_s=args.exchange_timeout,
    )
