"""Authentication (section ``authentication``): the LogonID/Password SOAP headers on every one
of the twelve operations (R16).

With authentication on, a call is processed only when it carries both headers, in the literal
namespace ``OpenMediaService``, as direct children of the SOAP Header, naming a host
administrator with the right password; any other call raises InvalidUserFault and has no
effect. With authentication off the headers are ignored, even wrong ones.

Every failure mode is sent to every operation (parametrized over ``OPERATIONS``). A
controllable target is reset with authentication on and the profile's users (the suite's own
when the profile names none) and put back to the profile afterwards; a vendor server is used
as its profile says: the auth-on tests are *not applicable* when authentication is off there,
the auth-off tests when it is on. There they need no control feature: the administrator is the
run's LogonID/Password, the user who is not one the profile's ``non_admin_logon_id`` with its
password (``non_admin_password_env``); only the effect of a refused ModifyRequest or SetOptions
is seen by an agent alone (control feature ``agents``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from lxml import etree

from conformance.checks import expect_equal, expect_fault, expect_value
from conformance.contract import namespaces as ns
from conformance.contract.constraints import CONSTRAINTS
from conformance.contract.operations import OPERATIONS, operation
from conformance.contract.xmlsafe import parse
from conformance.profile import Profile
from conformance.profile.session import TargetSession
from conformance.suite_support.every_operation import (
    INVALID_USER,
    SUITE_ADMIN,
    AuthSetup,
    Sample,
    add_queued,
    authentication_on,
    call,
    op_param,
    prepare,
    proceeds,
)
from conformance.verdicts import NotApplicable, NotApplicableReason, SuiteError
from conformance.wire.client import OpenMediaClient
from conformance.wire.control import ControlClient
from conformance.wire.credentials import Credentials
from conformance.wire.encode import build_envelope


# -- targets ---------------------------------------------------------------------------------------
def _restore(target: TargetSession, request: pytest.FixtureRequest) -> Callable[[], None]:
    """Put a controllable target back to the profile (authentication as the profile says)."""
    if not target.has("scenario"):
        return lambda: None
    control = request.getfixturevalue("control")
    return lambda: control.reset(target.profile.to_scenario())


@pytest.fixture
def auth_on(
    target: TargetSession, make_scenario: Callable[..., Profile], request: pytest.FixtureRequest
) -> Iterator[AuthSetup]:
    restore = _restore(target, request)
    setup = authentication_on(target, make_scenario)
    yield setup
    restore()


@pytest.fixture
def auth_off(
    target: TargetSession, make_scenario: Callable[..., Profile], scenario: Profile
) -> AuthSetup:
    """Authentication off; ``admin`` is whom the headers would name (they are ignored)."""
    auth = scenario.auth
    if target.has("scenario"):
        scenario = make_scenario(auth=dataclasses.replace(auth, enabled=False))
    elif auth.enabled:
        raise NotApplicable(NotApplicableReason.AUTH_ON, "authentication off")
    password = auth.resolved_password()
    admin = (
        Credentials(auth.logon_id, password)
        if auth.logon_id and password is not None
        else SUITE_ADMIN
    )
    return AuthSetup(scenario, admin, None)


# -- how the headers are sent ----------------------------------------------------------------------
@dataclass(frozen=True)
class Mode:
    """One way of sending (or not sending) the headers; ``options`` become ``call`` keywords."""

    name: str
    requirement: str
    options: Callable[[AuthSetup, Sample], dict[str, Any]]


def _as(credentials: Credentials) -> Callable[[AuthSetup, Sample], dict[str, Any]]:
    return lambda setup, sample: {"credentials": credentials}


def _non_admin(setup: AuthSetup, sample: Sample) -> dict[str, Any]:
    if setup.non_admin is None:
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE, "profile non-admin user", setup.no_non_admin
        )
    return {"credentials": setup.non_admin}


def _nested(setup: AuthSetup, sample: Sample) -> dict[str, Any]:
    """Both headers right, but inside an ``Authentication`` element of the Header."""
    root = parse(build_envelope(sample.op, sample.params, credentials=setup.admin))
    header = root.find(ns.qname(ns.SOAP_ENV, "Header"))
    if header is None:
        raise SuiteError("build_envelope wrote no SOAP Header for the credentials")
    headers = list(header)
    wrapper = etree.SubElement(header, ns.qname(ns.AUTH_HEADER, "Authentication"))
    for item in headers:
        wrapper.append(item)
    return {"body": etree.tostring(root, encoding="utf-8"), "credentials": None}


def _modes() -> list[Mode]:
    def admin(setup: AuthSetup) -> Credentials:
        return setup.admin

    return [
        Mode("no-headers", "AUTH-MISSING-HEADER", lambda s, _: {"credentials": None}),
        Mode(
            "logon-id-only",
            "AUTH-MISSING-HEADER",
            lambda s, _: {"credentials": Credentials(admin(s).logon_id, None)},
        ),
        Mode(
            "password-only",
            "AUTH-MISSING-HEADER",
            lambda s, _: {"credentials": Credentials(None, admin(s).password)},
        ),
        Mode("nested-in-header", "AUTH-MISSING-HEADER", _nested),
        Mode(
            "wrong-password",
            "AUTH-WRONG-PASSWORD",
            lambda s, _: {
                "credentials": Credentials(admin(s).logon_id, f"{admin(s).password}-wrong")
            },
        ),
        Mode(
            "unknown-user",
            "AUTH-UNKNOWN-USER",
            lambda s, _: {
                "credentials": Credentials(f"no-such-user-{admin(s).logon_id}", admin(s).password)
            },
        ),
        Mode("not-host-administrator", "AUTH-NOT-HOST-ADMINISTRATOR", _non_admin),
        Mode(
            "no-namespace",
            "AUTH-WRONG-NAMESPACE",
            lambda s, _: {"credentials": admin(s), "header_namespace": ""},
        ),
        Mode(
            "tempuri-namespace",
            "AUTH-WRONG-NAMESPACE",
            lambda s, _: {"credentials": admin(s), "header_namespace": ns.TEMPURI},
        ),
    ]


MODES = {mode.name: mode for mode in _modes()}
_IGNORED_WHEN_OFF = ("no-headers", "wrong-password", "unknown-user", "tempuri-namespace")


def _mode_params(names: tuple[str, ...] | None = None, *, cite: bool = True) -> list[Any]:
    chosen = [MODES[name] for name in names] if names else list(MODES.values())
    return [
        pytest.param(m, id=m.name, marks=[pytest.mark.requirement(m.requirement)] if cite else [])
        for m in chosen
    ]


_OPERATIONS = [op_param(op) for op in OPERATIONS]


# -- authentication on ---------------------------------------------------------------------------
@pytest.mark.requirement("AUTH-VALID")
@pytest.mark.parametrize("op", _OPERATIONS)
def test_host_administrator_is_served(om, raw_om, auth_on, op):
    """Auth on, LogonID+Password of a host administrator (OpenMediaService ns) → processed."""
    sample = prepare(om, auth_on.profile, op, credentials=auth_on.admin)
    proceeds(raw_om, sample, "AUTH-VALID", credentials=auth_on.admin)


@pytest.mark.parametrize("mode", _mode_params())
@pytest.mark.parametrize("op", _OPERATIONS)
def test_refused_without_valid_headers(om, auth_on, op, mode):
    """Auth on, headers missing / incomplete / wrong / misplaced → InvalidUserFault."""
    sample = prepare(om, auth_on.profile, op, credentials=auth_on.admin)
    reply = call(om, sample, **mode.options(auth_on, sample))
    expect_fault(reply, mode.requirement, INVALID_USER)


# -- a refused call has no effect ------------------------------------------------------------------
@dataclass(frozen=True)
class Refused:
    """What a no-effect check needs: the clients, the auth setup and the refused sample."""

    om: OpenMediaClient
    setup: AuthSetup
    sample: Sample
    request: pytest.FixtureRequest

    @property
    def oid(self) -> int:
        """The request the refused call is about (each operation with an effect but AddRequest
        names one)."""
        if self.sample.oid is None:
            raise SuiteError(f"precondition: {self.sample.op.name} is about no request")
        return self.sample.oid

    def send(self) -> None:
        """The sample with a wrong password: must be InvalidUserFault (precondition)."""
        reply = call(
            self.om, self.sample, **MODES["wrong-password"].options(self.setup, self.sample)
        )
        expect_fault(reply, "AUTH-REFUSED-CHANGES-NOTHING", INVALID_USER)

    def status(self) -> tuple[str, int] | None:
        reply = self.om.get_status_by_id(self.oid, credentials=self.setup.admin)
        value = expect_value(reply, "AUTH-REFUSED-CHANGES-NOTHING")
        records = getattr(value, "requests", ())
        return (records[-1].status, records[-1].service_group_id) if records else None

    def control(self, feature: str) -> ControlClient:
        target: TargetSession = self.request.getfixturevalue("target")
        if not target.has(feature):
            raise NotApplicable(
                target.why_missing(feature),
                feature,
                "the effect of this operation is seen only there",
            )
        control: ControlClient = self.request.getfixturevalue("control")
        return control


def _ids(env: Refused) -> frozenset[int]:
    reply = env.om.get_all_status(credentials=env.setup.admin)
    value = expect_value(reply, "AUTH-REFUSED-CHANGES-NOTHING")
    return frozenset(r.id for r in getattr(value, "requests", ()))


def _no_request_added(env: Refused) -> None:
    """No new OpenMediaID in the cache, leaving out those others added meanwhile (another
    worker of a ``-n`` run, another client: ``not_ours``); an ID that aged out meanwhile
    is not the call's doing."""
    before = _ids(env)
    env.send()
    new = _ids(env) - before
    new -= env.request.getfixturevalue("not_ours")(new)
    expect_equal(
        "AUTH-REFUSED-CHANGES-NOTHING",
        [],
        sorted(new),
        "OpenMediaIDs the refused AddRequest added to the cache",
    )


def _record_unchanged(env: Refused) -> None:
    before = env.status()
    env.send()
    expect_equal(
        "AUTH-REFUSED-CHANGES-NOTHING",
        before,
        env.status(),
        f"(Status, ServiceGroupID) of request {env.sample.oid}",
    )


def _ivr_unchanged(env: Refused) -> None:
    control = env.control("agents")
    before = control.request(env.oid)
    env.send()
    expect_equal(
        "AUTH-REFUSED-CHANGES-NOTHING",
        before,
        control.request(env.oid),
        f"request {env.sample.oid} as an agent would be handed it",
    )


def _options_unchanged(env: Refused) -> None:
    """The refused SetOptions raised MaxNumberOfSessions: one agent still takes one request."""
    control = env.control("agents")
    group = env.sample.group
    agents = env.setup.profile.agents_in(group.id)
    if not agents:
        raise NotApplicable(
            NotApplicableReason.NOT_IN_PROFILE,
            "profile agents",
            f"no agent serves group {group.id}",
        )
    more = int(CONSTRAINTS.defaults["max_number_of_sessions"]) + 1
    sample = dataclasses.replace(
        env.sample,
        params={"request": {**env.sample.params["request"], "MaxNumberOfSessions": more}},
    )
    dataclasses.replace(env, sample=sample).send()
    add_queued(env.om, group, env.setup.admin)
    control.logon(agents[0].id)
    second = env.om.add_request(
        ServiceGroupID=group.id,
        IVRInfo=[{"Label": "Case", "Data": "2"}],
        credentials=env.setup.admin,
    )
    value = expect_value(second, "AUTH-REFUSED-CHANGES-NOTHING")
    expect_equal(
        "AUTH-REFUSED-CHANGES-NOTHING",
        True,
        bool(getattr(value, "queue_position", 0)),
        f"second request queued while agent {agents[0].id} holds one session (the default)",
        second.exchange,
    )


_EFFECTS: dict[str, Callable[[Refused], None]] = {
    "AddRequest": _no_request_added,
    "CancelRequest": _record_unchanged,
    "DivertRequest": _record_unchanged,
    "ModifyRequest": _ivr_unchanged,
    "SetOptions": _options_unchanged,
}


@pytest.mark.requirement("AUTH-REFUSED-CHANGES-NOTHING")
@pytest.mark.parametrize("op", [op_param(operation(n), values="own") for n in _EFFECTS])
def test_refused_call_has_no_effect(om, auth_on, op, request):
    """Auth on, a wrong password on a call that would change something → InvalidUserFault and
    nothing changed (no request added, none cancelled/diverted/modified, no option set)."""
    sample = prepare(om, auth_on.profile, op, credentials=auth_on.admin)
    _EFFECTS[op.name](Refused(om, auth_on, sample, request))


# -- authentication off --------------------------------------------------------------------------
@pytest.mark.requirement("AUTH-OFF-IGNORED")
@pytest.mark.parametrize("mode", _mode_params(_IGNORED_WHEN_OFF, cite=False))
@pytest.mark.parametrize("op", _OPERATIONS)
def test_headers_ignored_when_off(om, raw_om, auth_off, op, mode):
    """Auth off, no headers or wrong ones (password, user, namespace) → processed normally."""
    sample = prepare(om, auth_off.profile, op, credentials=None)
    proceeds(raw_om, sample, "AUTH-OFF-IGNORED", **mode.options(auth_off, sample))
