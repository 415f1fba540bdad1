"""The run's configuration, resolved once: command line over environment over profile.

``RunSettings`` is built when pytest configures (before any test) from the option values the
plugin read (``conformance.plugin.options``: every option, its spelling and its help), so a
wrong option or a broken profile stops the run at once with a usage error.
Its profile is the run's: the logon and passwords the run was given (from whatever source) are
put into ``[auth]``, so a scenario loaded into a controllable target names the same
administrator as the suite's requests. ``secrets`` holds every password of every source, for
the masking of every output (``conformance.secrets``).
``TargetSession`` is what tests see: the settings plus what only the live target can tell (the
embedded emulator's URLs, the control features it offers). Both are frozen: a test cannot
change the run's configuration under another test's feet.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from conformance.plugin.options import (
    CONTROL_URL,
    DEFAULT_RERUNS,
    DEFAULT_TIMEOUT_S,
    EMBEDDED_EMULATOR,
    EMBEDDED_MODES,
    EMULATOR_FAULT,
    ENV_LOGON_ID,
    EXCHANGE_TIMEOUT,
    LOGON_ID,
    PASSWORD,
    PROFILE,
    REAL_TIME,
    RERUNS,
    SIGN_WITH,
    STRICT,
    TARGET_URL,
    OptionValues,
)
from conformance.profile import Profile, bundled_profile, load_profile
from conformance.profile.model import REAL_TIME_MAX_MINUTES
from conformance.secrets import ENV_PASSWORD, Secrets
from conformance.verdicts import UsageError

if TYPE_CHECKING:
    from conformance.reporting.baseline import Baseline
    from conformance.reporting.signature import SigningKey
    from conformance.wire.credentials import Credentials


class PasswordSource(Enum):
    """Where the run's (host administrator's) password came from, first found wins."""

    OPTION = PASSWORD.flag
    ENVIRONMENT = f"${ENV_PASSWORD}"
    PROFILE = "[auth] password"
    PROFILE_ENVIRONMENT = "[auth] password_env"


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
    """``--om-embedded-emulator``: the embedded emulator as a child ``process`` or a ``thread``."""
    baseline: Baseline | None = None
    """The expected-failure baseline (``--om-baseline``), checked when the run starts."""
    certificate_dir: Path | None = None
    """``--om-certificate DIR``; without it only a full-suite run writes one
    (reports/certificate)."""
    signing_key: SigningKey | None = field(default=None, repr=False)
    """``--om-sign-with KEY``: the private key that signs the certificate, read when the run starts
    (a wrong key stops it at once, not after the run)."""
    hypothesis_seed: str | None = None
    """Hypothesis' own ``--hypothesis-seed`` as given (the reporting plugin picks one if not)."""
    no_preflight: bool = False
    """``--om-no-preflight``: a run against a target URL starts without the pre-flight."""
    password_source: PasswordSource | None = None
    """Where ``password`` came from (``None``: no password given)."""
    secrets: Secrets = field(default_factory=Secrets, repr=False)
    """Every password the run was given, from every source, used or not (masked everywhere)."""

    password_origin: str | None = None
    """Where the password came from, in words for a message (``None``: none given); never the
    value. Made by :func:`password_origin`."""
    real_time: bool = False
    """``--om-real-time`` or ``[target] real_time``: on a target whose clock the suite cannot
    drive, the data cache is tested by waiting (``conformance.plugin.real_time``)."""
    reruns: int = DEFAULT_RERUNS
    """``--om-reruns N``: how many times more a failed suite test runs (``plugin.reruns``)."""

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
        """The password came from outside the profile (``--om-password`` or the environment): a
        repeat of the run must be given it again, as ``$OPENMEDIA_PASSWORD``."""
        return self.password is not None and self.password_source is not PasswordSource.PROFILE

    @property
    def command_options(self) -> tuple[str, ...]:
        """The suite options that point a new run at this target the same way (the reproduce
        lines): the profile by its absolute path, so the command works from any folder; never
        the password (a repeat reads ``$OPENMEDIA_PASSWORD``)."""
        options: list[str] = []
        profile = self.profile_path.resolve()
        if profile != bundled_profile("emulator").resolve():
            options += [PROFILE.flag, str(profile)]
        if self.target_url:
            options += [TARGET_URL.flag, self.target_url]
        if self.control_url:
            options += [CONTROL_URL.flag, self.control_url]
        if self.logon_id:
            options += [LOGON_ID.flag, self.logon_id]
        if self.timeout_s != DEFAULT_TIMEOUT_S:
            options += [EXCHANGE_TIMEOUT.flag, f"{self.timeout_s:g}"]
        for fault in self.emulator_faults:
            options += [EMULATOR_FAULT.flag, fault]
        if self.strict:
            options.append(STRICT.flag)
        if self.real_time:
            options.append(REAL_TIME.flag)
        return tuple(options)

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


def build_settings(options: OptionValues, environ: Mapping[str, str]) -> RunSettings:
    """Resolve options, environment and profile into settings; ``UsageError`` on a mistake."""
    if options.timeout_s <= 0:
        raise UsageError(f"{EXCHANGE_TIMEOUT.flag} must be positive, got {options.timeout_s:g}")
    if options.reruns < 0:
        raise UsageError(f"{RERUNS.flag} must be 0 (no re-run) or more, got {options.reruns}")
    path = Path(options.profile) if options.profile else bundled_profile("emulator")
    profile = load_profile(path)
    target_url = _url(TARGET_URL.flag, options.target_url) or _url(
        f"profile {path}: [target] url", profile.target.url
    )
    control_url = _url(CONTROL_URL.flag, options.control_url) or _url(
        f"profile {path}: [target] control_url", profile.target.control_url
    )
    if target_url is None and control_url is not None:
        raise UsageError(
            f"{CONTROL_URL.flag} needs {TARGET_URL.flag}: the embedded emulator brings its own "
            "control plane; give both URLs, or neither"
        )
    if options.emulator_faults and target_url is not None:
        raise UsageError(
            f"{EMULATOR_FAULT.flag} plants a defect in the embedded emulator and cannot be "
            f"combined with a target URL ({target_url}); drop one of them"
        )
    _check_faults(options.emulator_faults)
    if options.embedded_mode not in EMBEDDED_MODES:
        raise UsageError(
            f"{EMBEDDED_EMULATOR.flag} {options.embedded_mode!r}: "
            f"choose {' or '.join(EMBEDDED_MODES)}"
        )
    if options.embedded_mode != EMBEDDED_MODES[0] and target_url is not None:
        raise UsageError(
            f"{EMBEDDED_EMULATOR.flag} {options.embedded_mode} chooses how the embedded emulator "
            f"runs and cannot be combined with a target URL ({target_url}); drop one of them"
        )
    real_time = _real_time(options, profile, path)
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
        no_preflight=options.no_preflight,
        password_source=source,
        password_origin=origin,
        secrets=secrets,
        real_time=real_time,
        reruns=options.reruns,
    )


def _real_time(options: OptionValues, profile: Profile, path: Path) -> bool:
    """Whether the data cache is tested in real time; a ``UsageError`` when the profile's
    DataExpiration would make the run wait too long or its margin leaves nothing to observe."""
    if not (options.real_time or profile.target.real_time):
        return False
    asked = REAL_TIME.flag if options.real_time else f"[target] real_time of profile {path}"
    minutes = profile.data_expiration_minutes
    if minutes > REAL_TIME_MAX_MINUTES:
        raise UsageError(
            f"{asked} waits DataExpiration in real time, and profile {path} says "
            f"data_expiration_minutes = {minutes}: a run would wait over {minutes} minutes. "
            f"Configure the test system's DataExpiration to 1 or 2 minutes (at most "
            f"{REAL_TIME_MAX_MINUTES}; README, 'The data cache in real time') and write it in "
            f"the profile, or leave {REAL_TIME.flag} out"
        )
    margin = profile.target.real_time_margin_s
    if margin >= minutes * 60 / 2:
        raise UsageError(
            f"profile {path}: [target] real_time_margin_s = {margin:g} is not less than half of "
            f"DataExpiration ({minutes} min): the tier checks a terminated request present at "
            "DataExpiration minus the margin, which must leave it time in the cache; lower the "
            "margin (default 25 s) or configure a longer DataExpiration"
        )
    return True


def _signing_key(path: str | None) -> SigningKey | None:
    if not path:
        return None
    from conformance.reporting.signature import KeyFileError, load_signing_key

    try:
        return load_signing_key(path)
    except KeyFileError as exc:
        raise UsageError(f"{SIGN_WITH.flag}: {exc}") from None


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
    """``--om-password``, ``$OPENMEDIA_PASSWORD``, the profile's literal or its variable, named."""
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
                f"logon: pass {LOGON_ID.flag}, set {ENV_LOGON_ID}, or set [auth] logon_id"
            )
        if password is None:
            via = f", or set ${profile.auth.password_env}" if profile.auth.password_env else ""
            raise UsageError(
                f"profile {path} turns authentication on ([auth] enabled = true) but no password "
                f"is given: pass {PASSWORD.flag}, set {ENV_PASSWORD}{via}"
            )
    return logon_id, password, source


def _check_faults(names: tuple[str, ...]) -> None:
    """Every ``--om-emulator-fault`` names a planted defect; else a usage error with the nearest."""
    import difflib

    from conformance.emulator.faults import FAULTS

    for name in names:
        if name not in FAULTS:
            near = difflib.get_close_matches(name, FAULTS, n=3)
            hint = f"did you mean {', '.join(near)}? " if near else ""
            raise UsageError(
                f"{EMULATOR_FAULT.flag} {name!r} is not a planted defect; {hint}"
                "`openmedia-conformance emulator --help` lists them all"
            )
