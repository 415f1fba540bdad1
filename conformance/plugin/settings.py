"""The run's configuration, resolved once: command line over environment over profile.

``RunSettings`` is built when pytest configures (before any test) from the option values the
plugin read, so a wrong option or a broken profile stops the run at once with a usage error.
Its profile is the run's: the logon and passwords the run was given (from whatever source) are
put into ``[auth]``, so a scenario loaded into a controllable target names the same
administrator as the suite's requests. ``secrets`` holds every password of every source, for
the masking of every output (``conformance.secrets``).
``TargetSession`` is what tests see: the settings plus what only the live target can tell (the
embedded emulator's URLs, the control features it offers). Both are frozen: a test cannot
change the run's configuration under another test's feet.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from conformance.profile import Profile, bundled_profile, load_profile
from conformance.secrets import ENV_PASSWORD, Secrets
from conformance.verdicts import UsageError

if TYPE_CHECKING:
    from conformance.reporting.baseline import Baseline
    from conformance.reporting.signature import SigningKey
    from conformance.wire.credentials import Credentials

ENV_LOGON_ID = "OPENMEDIA_LOGON_ID"
DEFAULT_TIMEOUT_S = 10.0
EMBEDDED_MODES = ("process", "thread")
"""How the embedded emulator runs: a child process (the default) or a thread of the run."""


class PasswordSource(Enum):
    """Where the run's (host administrator's) password came from, first found wins."""

    OPTION = "--password"
    ENVIRONMENT = f"${ENV_PASSWORD}"
    PROFILE = "[auth] password"
    PROFILE_ENVIRONMENT = "[auth] password_env"


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


@dataclass(frozen=True)
class RunSettings:
    """Everything the run knows before it touches the target."""

    target_url: str | None
    control_url: str | None
    profile: Profile
    profile_path: Path
    logon_id: str | None
    password: str | None = field(repr=False)
    strict: bool = False
    timeout_s: float = DEFAULT_TIMEOUT_S
    emulator_faults: tuple[str, ...] = ()
    embedded_mode: str = EMBEDDED_MODES[0]
    """``--embedded-emulator``: the embedded emulator as a child ``process`` or a ``thread``."""
    baseline: Baseline | None = None
    """The expected-failure baseline (``--baseline``), checked when the run starts."""
    certificate_dir: Path | None = None
    """``--certificate DIR``; without it only a full-suite run writes one (reports/certificate)."""
    signing_key: SigningKey | None = field(default=None, repr=False)
    """``--sign-with KEY``: the private key that signs the certificate, read when the run starts
    (a wrong key stops it at once, not after the run)."""
    hypothesis_seed: str | None = None
    """Hypothesis' own ``--hypothesis-seed`` as given (the reporting plugin picks one if not)."""
    password_source: PasswordSource | None = None
    """Where ``password`` came from (``None``: no password given)."""
    secrets: Secrets = field(default_factory=Secrets, repr=False)
    """Every password the run was given, from every source, used or not (masked everywhere)."""

    password_origin: str | None = None
    """Where the password came from, in words for a message (``None``: none given); never the
    value. Made by :func:`password_origin`."""

    def credentials(self) -> Credentials | None:
        """The SOAP header credentials, or ``None`` when neither part is known.

        Built on demand: importing the wire layer is not free, and the plugin reads settings in
        every pytest run, including runs that never touch a target.
        """
        if self.logon_id is None and self.password is None:
            return None
        from conformance.wire.credentials import Credentials

        return Credentials(self.logon_id, self.password)

    @property
    def password_from_outside(self) -> bool:
        """The password came from outside the profile (``--password`` or the environment): a
        repeat of the run must be given it again, as ``$OPENMEDIA_PASSWORD``."""
        return self.password is not None and self.password_source is not PasswordSource.PROFILE

    @property
    def embedded(self) -> bool:
        """True when the plugin starts the reference emulator itself (no target URL given)."""
        return self.target_url is None

    def header_lines(self) -> list[str]:
        """What ``pytest_report_header`` shows. Never the password (nor its length)."""
        faults = f" with faults {', '.join(self.emulator_faults)}" if self.emulator_faults else ""
        target = self.target_url or f"embedded reference emulator (loopback, on first use){faults}"
        control = self.control_url or (
            "the embedded emulator's /control" if self.embedded else "none (observable profile)"
        )
        logon = self.logon_id
        safe = "on" if self.profile.target.safe_mode else "off"
        features = ", ".join(sorted(self.profile.control_features)) or "none"
        return [
            f"openmedia target: {target}",
            f"openmedia control: {control}",
            f"openmedia profile: {self.profile_path} ({self.profile.target.name}); "
            f"logon {logon or 'none'}; safe mode {safe}",
            f"openmedia features expected: {features}; strict {'on' if self.strict else 'off'}; "
            f"exchange timeout {self.timeout_s:g} s",
        ]


def add_credential_arguments(parser: argparse.ArgumentParser) -> None:
    """``--profile``, ``--logon-id``, ``--password`` and ``--exchange-timeout`` of a command that
    talks to a target outside pytest (``check``, ``cleanup``): the same meaning as ``run``'s
    options, resolved by :func:`build_settings` in the same order."""
    parser.add_argument("--profile", metavar="FILE", help="the target profile (TOML)")
    parser.add_argument(
        "--logon-id", metavar="ID", help=f"LogonID header (else ${ENV_LOGON_ID}, else the profile)"
    )
    parser.add_argument(
        "--password",
        metavar="SECRET",
        help=f"Password header (else ${ENV_PASSWORD}, else the profile's password or password_env)",
    )
    parser.add_argument(
        "--exchange-timeout",
        metavar="SECONDS",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"deadline of one HTTP exchange (default {DEFAULT_TIMEOUT_S:g})",
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


def build_settings(options: OptionValues, environ: Mapping[str, str]) -> RunSettings:
    """Resolve options, environment and profile into settings; ``UsageError`` on a mistake."""
    if options.timeout_s <= 0:
        raise UsageError(f"--exchange-timeout must be positive, got {options.timeout_s:g}")
    path = Path(options.profile) if options.profile else bundled_profile("emulator")
    profile = load_profile(path)
    target_url = _url("--target-url", options.target_url) or _url(
        f"profile {path}: [target] url", profile.target.url
    )
    control_url = _url("--control-url", options.control_url) or _url(
        f"profile {path}: [target] control_url", profile.target.control_url
    )
    if target_url is None and control_url is not None:
        raise UsageError(
            "--control-url needs --target-url: the embedded emulator brings its own control "
            "plane; give both URLs, or neither"
        )
    if options.emulator_faults and target_url is not None:
        raise UsageError(
            "--emulator-fault plants a defect in the embedded emulator and cannot be combined "
            f"with a target URL ({target_url}); drop one of them"
        )
    _check_faults(options.emulator_faults)
    if options.embedded_mode not in EMBEDDED_MODES:
        raise UsageError(
            f"--embedded-emulator {options.embedded_mode!r}: choose {' or '.join(EMBEDDED_MODES)}"
        )
    if options.embedded_mode != EMBEDDED_MODES[0] and target_url is not None:
        raise UsageError(
            f"--embedded-emulator {options.embedded_mode} chooses how the embedded emulator "
            f"runs and cannot be combined with a target URL ({target_url}); drop one of them"
        )
    logon_id, password, source = _credentials(options, profile, path, environ)
    baseline = None
    if options.baseline:
        from conformance.reporting.baseline import load_baseline

        baseline = load_baseline(options.baseline)
    auth = profile.auth
    secrets = Secrets.of(
        (
            options.password,
            environ.get(ENV_PASSWORD),
            auth.resolved_password(environ),
            auth.resolved_non_admin_password(environ),
        )
    )
    origin = password_origin(source, profile, path)  # before the profile's auth is resolved
    profile = dataclasses.replace(profile, auth=auth.resolved(logon_id, password, environ))
    return RunSettings(
        target_url=target_url,
        control_url=control_url,
        profile=profile,
        profile_path=path,
        logon_id=logon_id,
        password=password,
        strict=options.strict,
        timeout_s=options.timeout_s,
        emulator_faults=options.emulator_faults,
        embedded_mode=options.embedded_mode,
        baseline=baseline,
        certificate_dir=Path(options.certificate) if options.certificate else None,
        signing_key=_signing_key(options.sign_with),
        hypothesis_seed=options.hypothesis_seed,
        password_source=source,
        password_origin=origin,
        secrets=secrets,
    )


def _signing_key(path: str | None) -> SigningKey | None:
    if not path:
        return None
    from conformance.reporting.signature import KeyFileError, load_signing_key

    try:
        return load_signing_key(path)
    except KeyFileError as exc:
        raise UsageError(f"--sign-with: {exc}") from None


def _url(what: str, value: str | None) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"{what} {value!r} is not an http(s) URL; give e.g. http://host:12615/OpenMediaService"
        )
    return value


def password_origin(source: PasswordSource | None, profile: Profile, path: Path) -> str | None:
    """``--password``, ``$OPENMEDIA_PASSWORD``, the profile's literal or its variable, named."""
    if source is PasswordSource.PROFILE:
        return f"{source.value} of profile {path}"
    if source is PasswordSource.PROFILE_ENVIRONMENT:
        return f"${profile.auth.password_env} (the profile's {source.value}, {path})"
    return None if source is None else source.value


def _credentials(
    options: OptionValues, profile: Profile, path: Path, environ: Mapping[str, str]
) -> tuple[str | None, str | None, PasswordSource | None]:
    logon_id = options.logon_id or environ.get(ENV_LOGON_ID) or profile.auth.logon_id
    auth = profile.auth
    given = (
        (options.password, PasswordSource.OPTION),
        (environ.get(ENV_PASSWORD), PasswordSource.ENVIRONMENT),
        (auth.password, PasswordSource.PROFILE),
        (environ.get(auth.password_env or ""), PasswordSource.PROFILE_ENVIRONMENT),
    )
    # the first one given; an empty one only when no other is (as ``a or b or c`` would have it)
    found = [(p, s) for p, s in given if p is not None]
    password, source = next((f for f in found if f[0]), found[-1] if found else (None, None))
    if profile.auth.enabled:
        if not logon_id:
            raise UsageError(
                f"profile {path} turns authentication on ([auth] enabled = true) but names no "
                f"logon: pass --logon-id, set {ENV_LOGON_ID}, or set [auth] logon_id"
            )
        if password is None:
            via = f", or set ${profile.auth.password_env}" if profile.auth.password_env else ""
            raise UsageError(
                f"profile {path} turns authentication on ([auth] enabled = true) but no password "
                f"is given: pass --password, set {ENV_PASSWORD}{via}"
            )
    return logon_id, password, source


def _check_faults(names: tuple[str, ...]) -> None:
    """Every ``--emulator-fault`` names a planted defect; else a usage error with the nearest."""
    import difflib

    from conformance.emulator.faults import FAULTS

    for name in names:
        if name not in FAULTS:
            near = difflib.get_close_matches(name, FAULTS, n=3)
            hint = f"did you mean {', '.join(near)}? " if near else ""
            raise UsageError(
                f"--emulator-fault {name!r} is not a planted defect; {hint}"
                "`openmedia-conformance emulator --help` lists them all"
            )
