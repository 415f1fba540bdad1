"""Each of the twelve operations, called validly or made to fail: shared by the "every
operation" sections (``authentication``, ``error-handling``, ``wire``).

Authentication (R16), router loss (R15), licence loss and the wire contract are statements
about *every* operation, so those modules parametrize over
``conformance.contract.operations.OPERATIONS`` and need, for any operation, three things that
only the suite can know:

* ``prepare``: a valid call in the current scenario (an AddRequest first when the operation
  names an OpenMediaID), and ``proceeds``: send it and judge that it was processed normally
  (``conformance.checks.processed``) before the wire rules;
* ``provoke``: a call the operation refuses with a fault of its data (InvalidDataException or
  InvalidOpenMediaIDFault), for every operation that declares one;
* ``authentication_on``: a target that checks the LogonID/Password headers, with the
  credentials of a host administrator (and of a user who is not one, when known).

The tables are keyed by operation name and checked against the WSDL at import: a new operation
in ``schemas/OpenMediaService.wsdl`` is a suite error here, never a silently untested one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from conformance.checks import check_exchange
from conformance.checks.processed import expect_processed
from conformance.checks.status import LONG_AGO
from conformance.contract import schema
from conformance.contract.catalogue import CATALOGUE, req
from conformance.contract.constraints import CONSTRAINTS
from conformance.contract.operations import OPERATION_NAMES, OPERATIONS, Operation, operation
from conformance.profile import Group, Profile, TargetInfo, Tenant
from conformance.profile.session import TargetSession
from conformance.suite_support.requests import DEFAULT_IVR, NEVER_ISSUED, added_id
from conformance.verdicts import NotApplicable, NotApplicableReason, SuiteError
from conformance.wire.client import DEFAULT, OpenMediaClient
from conformance.wire.credentials import Credentials
from conformance.wire.decode import DecodeError
from conformance.wire.values import Reply

INVALID_USER = "InvalidUserFault"
ROUTER_DISCONNECTED = "RouterDisconnectedFault"
NO_LICENSE = "NoLicenseFault"
_ENVIRONMENT_FAULTS = frozenset({INVALID_USER, ROUTER_DISCONNECTED, NO_LICENSE})

SUITE_ADMIN = Credentials("conformance-admin", "conformance-admin-secret")
SUITE_NON_ADMIN = Credentials("conformance-clerk", "conformance-clerk-secret")
"""Users the suite puts into a controllable target's scenario when the profile names none."""


def _takes_open_media_id(op: Operation) -> bool:
    names = [p.name for p in op.parameters]
    if op.wrapped:
        names = [m.name for m in schema.members(op.parameters[0].type_name)]
    return any(name.lower() == "openmediaid" for name in names)


NEEDS_REQUEST = frozenset(op.name for op in OPERATIONS if _takes_open_media_id(op))
"""Operations about one request: their valid call needs an OpenMediaID the target issued."""


def op_id(op: Operation) -> str:
    """The parametrize id of an operation: its name."""
    return op.name


def sends_options(op: Operation, values: str = "in-force") -> list[pytest.MarkDecorator]:
    """The ``sets_options`` mark when ``op`` is SetOptions (``values``: ``in-force``, the
    profile's values in force that ``sample_for`` sends, or ``own``), so that safe mode makes
    the case *not applicable* before it sends anything; no mark for any other operation."""
    return [pytest.mark.sets_options(values)] if op.name == "SetOptions" else []


def op_param(op: Operation, *marks: pytest.MarkDecorator, values: str = "in-force") -> Any:
    """``pytest.param(op, id=op.name)`` with ``marks``, and ``sends_options(op, values)``."""
    return pytest.param(op, id=op_id(op), marks=[*marks, *sends_options(op, values)])


def declaring(fault: str) -> tuple[Operation, ...]:
    """The operations whose WSDL declares ``fault``, in WSDL order."""
    return tuple(op for op in OPERATIONS if op.declares(fault))


def not_declaring(fault: str) -> tuple[Operation, ...]:
    return tuple(op for op in OPERATIONS if not op.declares(fault))


def section_requirement(op: Operation, expects: str) -> str:
    """The requirement of ``op``'s own section that expects ``expects`` (``ADD-FAULT-NO-LICENSE``
    for AddRequest and NoLicenseFault); ``KeyError`` when the catalogue has none."""
    section = CATALOGUE.section_for_operation(op.name)
    if section is not None:
        for item in CATALOGUE.by_section(section.key):
            if expects in item.expects:
                return req(item.id)
    raise KeyError(f"no requirement of {op.name}'s section expects {expects}")


# -- a valid call --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    """A valid call of ``op`` in the current scenario; ``oid`` is the request it is about."""

    op: Operation
    params: dict[str, Any]
    oid: int | None
    group: Group


def open_group(profile: Profile) -> Group:
    return profile.group_with("open")


def other_open_group(profile: Profile, group: Group) -> Group:
    """Another open group of the same tenant (a divert target), else the same one."""
    others = [g for g in profile.groups_with("open", tenant_id=group.tenant_id) if g != group]
    return others[0] if others else group


def not_open_media_id(profile: Profile) -> int:
    """A group that exists but is not Open Media, else an ID that names no group."""
    found = [g.id for g in profile.groups if g.role == "not-open-media"]
    return found[0] if found else NEVER_ISSUED


def add_queued(om: OpenMediaClient, group: Group, credentials: Credentials | None = DEFAULT) -> int:
    """AddRequest as a precondition: Success and queued (QueuePosition > 0), else the suite
    cannot test (a boolean operation on an allocated request answers false, not true)."""
    reply = om.add_request(
        ServiceGroupID=group.id, IVRInfo=list(DEFAULT_IVR), credentials=credentials
    )
    oid = added_id(reply, f"AddRequest to group {group.id}")
    if not getattr(reply.value, "queue_position", 0):
        raise SuiteError(
            f"precondition: the request added to group {group.id} was allocated at once; the "
            "test needs it queued (log the group's agents off on the target)"
        )
    return oid


Params = Callable[[Profile, Group, int], dict[str, Any]]

_SET_OPTIONS_VALID = {
    "MaxNumberOfSessions": int(CONSTRAINTS.defaults["max_number_of_sessions"]),
    "TypeOfSession": CONSTRAINTS.range("SetOptionsRequest", "TypeOfSession").min,
}
"""SetOptions that set what is in force anyway: every type, the default session count."""


def options_in_force(profile: Profile) -> dict[str, Any]:
    """The valid SetOptions: the profile's first ``[[overwrite_server_options]]`` entry (the
    values the server runs with: all safe mode may send), else the defaults in force on a
    target the suite sets up itself."""
    entries = profile.overwrite_server_options
    return dict(entries[0].request()) if entries else dict(_SET_OPTIONS_VALID)


_VALID: dict[str, Params] = {
    "AddRequest": lambda p, g, oid: {
        "request": {"IVRInfo": list(DEFAULT_IVR), "ServiceGroupID": g.id}
    },
    "CancelRequest": lambda p, g, oid: {
        "request": {"CancelIfAllocated": True, "DoNotReport": False, "OpenMediaID": oid}
    },
    "GetOpenMediaRequestStatusByID": lambda p, g, oid: {"openMediaID": oid},
    "GetOpenMediaRequestHistoryByID": lambda p, g, oid: {
        "openMediaID": oid,
        "retrieveLaterThan": LONG_AGO,
    },
    "GetOpenMediaRequestsByTime": lambda p, g, oid: {"retrieveLaterThan": LONG_AGO},
    "GetAllOpenMediaRequestStatus": lambda p, g, oid: {},
    "GetServiceGroupStatus": lambda p, g, oid: {"serviceGroupID": g.id},
    "GetAllOpenMediaServiceGroupStatus": lambda p, g, oid: {"tenantID": g.tenant_id},
    "SetOptions": lambda p, g, oid: {"request": options_in_force(p)},
    "GetOMAgentsByGroup": lambda p, g, oid: {"serviceGroupID": g.id},
    "DivertRequest": lambda p, g, oid: {
        "request": {"OpenMediaID": oid, "ServiceGroupID": other_open_group(p, g).id}
    },
    "ModifyRequest": lambda p, g, oid: {
        "request": {"IVRInfo": [{"Label": "Case", "Data": "modified"}], "OpenMediaID": oid}
    },
}


def sample_for(profile: Profile, op: Operation, oid: int | None = None) -> Sample:
    """The valid call of ``op`` about request ``oid`` (which the caller provides), no I/O."""
    group = open_group(profile)
    return Sample(op, _VALID[op.name](profile, group, oid or 0), oid, group)


def valid_member_names(op: Operation) -> frozenset[str]:
    """The members a wrapped operation's valid call gives (the others are left out, or nil)."""
    stub = Profile(TargetInfo("stub"), Tenant(1), groups=(Group(1, "stub", 1, "open"),))
    return frozenset(_VALID[op.name](stub, stub.groups[0], 1).get("request", {}))


def prepare(
    om: OpenMediaClient,
    profile: Profile,
    op: Operation,
    *,
    credentials: Credentials | None = DEFAULT,
) -> Sample:
    """A valid call of ``op``; adds a queued request first when ``op`` is about one."""
    oid = add_queued(om, open_group(profile), credentials) if op.name in NEEDS_REQUEST else None
    return sample_for(profile, op, oid)


def call(om: OpenMediaClient, sample: Sample, **options: Any) -> Reply:
    """Send the sample (``credentials=``, ``header_namespace=``, ``body=`` … as ``call``)."""
    return om.call(sample.op, sample.params, **options)


def proceeds(raw_om: OpenMediaClient, sample: Sample, requirement: str, **options: Any) -> Reply:
    """Send ``sample`` on the unchecked client and judge it in this order: first that it was
    processed normally (``requirement``), then every wire rule (``check_exchange``).

    A call the target should have served but refused is then reported against the
    requirement under test, not as a malformed fault (what the checked client would say
    first); a served call still has to meet the wire rules.
    """
    try:
        reply = call(raw_om, sample, **options)
    except DecodeError as exc:
        if exc.exchange is not None:
            check_exchange(exc.exchange, sample.op)
        raise
    expect_processed(reply, sample.op, sample.params, requirement)
    check_exchange(reply.exchange, sample.op)
    return reply


# -- a refused call -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Provocation:
    """A call ``op`` must refuse with one of ``faults`` (a fault of its data, not of the
    environment), as ``requirement`` says; ``needs_request``: it is about a request the target
    issued."""

    params: Params
    faults: tuple[str, ...]
    requirement: str
    """What makes the refusal a requirement: a target that carries the call out fails it."""
    needs_request: bool = False


def _label_over_limit() -> list[dict[str, str]]:
    return [{"Label": "L" * (CONSTRAINTS.length("Label").max + 1), "Data": "d"}]


_REFUSED_OPTION = CONSTRAINTS.range(
    "SetOptionsRequest", "MaxNumberOfSessions"
).first_refused_below()

_PROVOKE: dict[str, Provocation] = {
    "AddRequest": Provocation(
        lambda p, g, oid: {"request": {"IVRInfo": _label_over_limit(), "ServiceGroupID": g.id}},
        ("InvalidDataException",),
        req("ADD-LIMIT-LABEL"),
    ),
    "CancelRequest": Provocation(
        lambda p, g, oid: {
            "request": {
                "CancelIfAllocated": True,
                "DoNotReport": False,
                "OpenMediaID": NEVER_ISSUED,
            }
        },
        ("InvalidOpenMediaIDFault",),
        req("CAN-UNKNOWN-ID"),
    ),
    "GetOpenMediaRequestStatusByID": Provocation(
        lambda p, g, oid: {"openMediaID": NEVER_ISSUED},
        ("InvalidOpenMediaIDFault",),
        req("STA-UNKNOWN-ID"),
    ),
    "GetOpenMediaRequestHistoryByID": Provocation(
        lambda p, g, oid: {"openMediaID": NEVER_ISSUED, "retrieveLaterThan": LONG_AGO},
        ("InvalidOpenMediaIDFault",),
        req("HIS-UNKNOWN-ID"),
    ),
    "GetServiceGroupStatus": Provocation(
        lambda p, g, oid: {"serviceGroupID": not_open_media_id(p)},
        ("InvalidDataException",),
        req("SGS-INVALID-GROUP"),
    ),
    "GetAllOpenMediaServiceGroupStatus": Provocation(
        lambda p, g, oid: {"tenantID": NEVER_ISSUED},
        ("InvalidDataException",),
        req("SGA-INVALID-TENANT"),
    ),
    "SetOptions": Provocation(
        lambda p, g, oid: {
            "request": {**_SET_OPTIONS_VALID, "MaxNumberOfSessions": _REFUSED_OPTION}
        },
        ("InvalidDataException",),
        req("OPT-RANGE-MAX-NUMBER-OF-SESSIONS"),
    ),
    "GetOMAgentsByGroup": Provocation(
        lambda p, g, oid: {"serviceGroupID": not_open_media_id(p)},
        ("InvalidDataException",),
        req("AGT-NOT-OPEN-MEDIA"),
    ),
    "DivertRequest": Provocation(
        lambda p, g, oid: {"request": {"OpenMediaID": oid}},
        ("InvalidDataException",),
        req("DIV-MISSING-GROUP"),
        needs_request=True,
    ),
    # R10: an ID never issued is InvalidOpenMediaIDFault (the WSDL) or InvalidDataException.
    "ModifyRequest": Provocation(
        lambda p, g, oid: {"request": {"IVRInfo": list(DEFAULT_IVR), "OpenMediaID": NEVER_ISSUED}},
        ("InvalidOpenMediaIDFault", "InvalidDataException"),
        req("MOD-UNKNOWN-ID"),
    ),
}

DATA_FAULT_OPERATIONS = tuple(op for op in OPERATIONS if op.name in _PROVOKE)
"""The operations that declare a fault of their data (every one but the two listings)."""


def provoke(
    om: OpenMediaClient,
    profile: Profile,
    op: Operation,
    *,
    credentials: Credentials | None = DEFAULT,
) -> tuple[Sample, Provocation]:
    """A call ``op`` refuses, and what it is (the fault names it may answer with, the
    requirement that makes it a refusal)."""
    entry = _PROVOKE[op.name]
    group = open_group(profile)
    oid = add_queued(om, group, credentials) if entry.needs_request else 0
    return Sample(op, entry.params(profile, group, oid), oid or None, group), entry


def _check_tables() -> None:
    """Every operation has a valid call, and every one that declares a data fault a
    provocation; an operation added to the WSDL fails here, at collection."""
    if set(_VALID) != set(OPERATION_NAMES):
        raise SuiteError(f"every_operation: valid calls for {sorted(_VALID)} != the WSDL's")
    data_faults = {op.name for op in OPERATIONS if set(op.fault_names) - _ENVIRONMENT_FAULTS}
    if set(_PROVOKE) != data_faults:
        raise SuiteError(f"every_operation: provocations {sorted(_PROVOKE)} != {data_faults}")
    for name in _VALID:
        operation(name)


_check_tables()


# -- authentication on ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AuthSetup:
    """A target with authentication on, and whose headers it accepts (R16)."""

    profile: Profile
    admin: Credentials
    non_admin: Credentials | None
    no_non_admin: str = "the profile names no user who is not a host administrator"
    """Why ``non_admin`` is None (what a *not applicable* verdict says)."""


def authentication_on(target: TargetSession, make_scenario: Callable[..., Profile]) -> AuthSetup:
    """A controllable target is reset with authentication on and the profile's users (or the
    suite's own); a vendor server is used as its profile describes it: *not applicable* when
    the profile says authentication is off there."""
    profile: Profile = target.profile
    auth = profile.auth
    if target.has("scenario"):
        admin_password = auth.resolved_password()
        admin = (
            Credentials(auth.logon_id, admin_password)
            if auth.logon_id and admin_password is not None
            else SUITE_ADMIN
        )
        other_password = auth.resolved_non_admin_password()
        non_admin = (
            Credentials(auth.non_admin_logon_id, other_password)
            if auth.non_admin_logon_id and other_password is not None
            else SUITE_NON_ADMIN
        )
        variant = make_scenario(
            auth=dataclasses.replace(
                auth,
                enabled=True,
                logon_id=admin.logon_id,
                password=admin.password,
                password_env=None,
                non_admin_logon_id=non_admin.logon_id,
                non_admin_password=non_admin.password,
                non_admin_password_env=None,
            )
        )
        return AuthSetup(variant, admin, non_admin)
    if not auth.enabled:
        raise NotApplicable(NotApplicableReason.AUTH_OFF, "authentication on")
    configured: Credentials | None = target.credentials
    if configured is None or configured.logon_id is None or configured.password is None:
        raise SuiteError("authentication is on but no LogonID/Password is configured")
    other_password = auth.resolved_non_admin_password()
    if auth.non_admin_logon_id and other_password is not None:
        return AuthSetup(profile, configured, Credentials(auth.non_admin_logon_id, other_password))
    if auth.non_admin_logon_id:
        why = (
            f"the profile names the non-admin user {auth.non_admin_logon_id!r} but no password "
            "reached the run: set non_admin_password, or the environment variable its "
            "non_admin_password_env names"
        )
        return AuthSetup(profile, configured, None, why)
    return AuthSetup(profile, configured, None)
