"""The pre-flight: before about a thousand tests, is the target what the command line says?

A user's own mistake (a wrong URL, a wrong password, a profile that describes another system)
used to surface as hundreds of vendor failures after minutes. The pre-flight asks the target a
few questions that change nothing on it, prints one line per check with its time, and stops the
run at once when the answer is plainly not the setup the user described:

* **service** (exit 3): ``GetAllOpenMediaServiceGroupStatus`` of the profile's tenant must come
  back as a SOAP 1.1 answer of this contract (its response, or one of its faults). Anything else
  is named: an HTML page and its title, HTTP 404/405, SOAP 1.2, malformed XML, a DOCTYPE, a body
  over the size cap, another operation's answer, no answer within the timeout. ``?wsdl`` is
  fetched too, but only reported: a real server may not publish it, so an odd WSDL stops nothing
  unless the query fails as well.
* **credentials** (exit 2): an InvalidUserFault on that query names the refused LogonID and
  where the password came from, never the password.
* **profile** (exit 2): every group answers GetServiceGroupStatus as its role says, the tenant's
  Open Media groups are listed for it, the disabled tenant is refused; a mismatch names the
  profile's file and line.

Deliberately lenient: a subtly wrong wire shape (media type, HTTP status, a fault without typed
detail, an undecodable group status) is the suite's verdict to give, so it is reported and the
run goes on. Group names are not checked: only AddRequest and DivertRequest resolve TenantID +
name, and neither is harmless on a server that carries real traffic.

It runs for a target given by URL only. The embedded emulator is loaded from the profile by the
suite itself, and its planted defects (the mutation matrix) must be *judged* by tests, not
stopped here. A target the suite resets through its control plane (``scenario``, outside safe
mode) gets the service check only: its users and groups are the profile's once a test starts.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from conformance.plugin.exit_status import ExitStatus
from conformance.plugin.options import (
    CONTROL_URL,
    NO_PREFLIGHT,
    PASSWORD,
    TARGET_URL,
    add_argument,
    add_credential_arguments,
    credential_options,
)
from conformance.profile.loading import group_line, profile_line
from conformance.verdicts import SuiteError, UsageError

if TYPE_CHECKING:
    from conformance.plugin.settings import RunSettings
    from conformance.profile import Group
    from conformance.wire import Exchange, OpenMediaClient, Reply, SoapFault

PROBE = "GetAllOpenMediaServiceGroupStatus"
"""The harmless query of the service check: it reads, names only the profile's tenant, and its
answer lists the tenant's groups for the profile check."""
WSDL_AFTER_STOP_S = 3.0
"""The most the ``?wsdl`` of a target already found wrong may add to the stop (for its message)."""
INVALID_USER = "InvalidUserFault"
INVALID_DATA = "InvalidDataException"
ROUTER_DISCONNECTED = "RouterDisconnectedFault"
NOT_IN_SERVICE = (404, 405)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
ESCAPE_HATCH = (
    f"if the profile is right and the server wrong, {NO_PREFLIGHT.flag} lets the suite judge it"
)


class Exit(int, Enum):
    """The documented exit statuses (``conformance.plugin.exit_status``) the pre-flight can end
    with: a fact the run's status is decided from."""

    PASSED = ExitStatus.PASSED
    SETUP = ExitStatus.USAGE_ERROR
    """usage or profile error: the credentials or the profile do not match the server"""
    NOT_THE_SERVICE = ExitStatus.SUITE_ERROR
    """environment error: the URL does not answer as this SOAP service"""


class Stop(Exception):
    """The pre-flight found the setup wrong: the run must not start."""

    def __init__(self, code: Exit, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Outcome:
    """How the pre-flight ended: its exit status and, when it stopped, why."""

    code: Exit
    message: str = ""
    elapsed_s: float = 0.0

    @property
    def stopped(self) -> bool:
        return self.code is not Exit.PASSED


Write = Callable[[str], None]


class Verdict(str, Enum):
    """What a check's line says."""

    OK = "ok"
    NOTE = "note"
    """reported, not a stop: the suite judges it"""
    NOT_CHECKED = "not checked"
    STOP = "STOP"


@dataclass
class Said:
    """What one check found, filled in while its line is timed (``said(verdict, detail)``)."""

    verdict: Verdict = Verdict.OK
    details: list[str] = field(default_factory=list)

    def __call__(self, verdict: Verdict, *details: str) -> None:
        self.verdict, self.details = verdict, list(details)


def _group_name(group: Group) -> str:
    return f"group {group.id} ({group.name!r}, role {group.role})"


# -- what came back --------------------------------------------------------------------------
def describe_answer(exchange: Exchange, problem: str) -> str:
    """What the target sent instead of a SOAP 1.1 answer, in words a user can act on."""
    from conformance.checks.wire import media_type

    kind, _ = media_type(exchange.response_header("Content-Type"))
    status = f"HTTP {exchange.status} {exchange.reason}".rstrip()
    title = _TITLE.search(exchange.response_body[:65536])
    head = exchange.response_body[:512].lstrip().lower()
    if kind == "text/html" or head.startswith((b"<!doctype html", b"<html")):
        shown = " ".join(title.group(1).decode("utf-8", "replace").split())[:80] if title else ""
        page = f"an HTML page titled {shown!r}" if shown else "an HTML page without a title"
        return f"{page} ({status})"
    if exchange.status in NOT_IN_SERVICE:
        return f"{status} ({kind or 'no content type'}): nothing answers SOAP at this path"
    return f"{status}, {kind or 'no content type'}: {problem}"


def _wsdl_line(exchange: Exchange) -> str:
    """What ``?wsdl`` gave: a WSDL of this service, or what instead (reported, never a stop)."""
    from conformance.contract import namespaces as ns

    if exchange.status != 200:
        return describe_answer(exchange, "no WSDL")
    try:
        root = exchange.response_tree
    except ValueError as exc:
        return describe_answer(exchange, str(exc))
    if root.tag != ns.qname(ns.WSDL, "definitions"):
        return describe_answer(exchange, f"root element {root.tag}, no WSDL definitions")
    if PROBE.encode() not in exchange.response_body:
        return f"a WSDL that does not describe {PROBE}"
    return "a WSDL of this service"


# -- the checks ------------------------------------------------------------------------------
class Preflight:
    """One pre-flight against one target; ``run()`` prints its lines and returns the outcome."""

    def __init__(self, settings: RunSettings, write: Write) -> None:
        assert settings.target_url is not None
        self.settings = settings
        self.profile = settings.profile
        self.url = settings.target_url
        self.write = write

    @contextmanager
    def _check(self, name: str) -> Iterator[Said]:
        """Time one check and print its line: its verdict, its time, what it found."""
        said = Said()
        start = time.monotonic()
        try:
            yield said
        except Stop as stop:
            said(Verdict.STOP, stop.message)
            self._line(name, said, start)
            raise
        self._line(name, said, start)

    def _line(self, name: str, said: Said, start: float) -> None:
        took = time.monotonic() - start
        text = "".join(f"; {detail}" for detail in said.details)
        self.write(f"openmedia pre-flight {name:<12} {said.verdict.value} ({took:.2f} s){text}")

    def run(self) -> Outcome:
        start = time.monotonic()
        logon = self.settings.logon_id if self.settings.credentials() is not None else None
        self.write(
            f"openmedia pre-flight of {self.url}: profile {self.settings.profile_path}, "
            f"logon {logon or 'none'} ({NO_PREFLIGHT.flag} skips it)"
        )
        try:
            controllable = self._control_plane()
            with self._client() as client:
                probe = self._service(client)
                if controllable:
                    with self._check("credentials") as said:
                        said(Verdict.NOT_CHECKED, "the suite loads the profile's users first")
                    with self._check("profile") as said:
                        said(Verdict.NOT_CHECKED, "the suite loads the profile into the target")
                else:
                    self._credentials(probe)
                    self._profile(client, probe)
        except Stop as stop:
            return Outcome(stop.code, stop.message, time.monotonic() - start)
        took = time.monotonic() - start
        self.write(f"openmedia pre-flight passed in {took:.2f} s")
        return Outcome(Exit.PASSED, elapsed_s=took)

    @contextmanager
    def _client(self) -> Iterator[OpenMediaClient]:
        from conformance.safemode.transport import RateLimiter, safe_transport
        from conformance.wire import OpenMediaClient

        rate = self.profile.target.rate_limit
        transport = safe_transport(
            None, RateLimiter(rate) if rate else None, self.settings.timeout_s
        )
        client = OpenMediaClient(
            self.url, credentials=self.settings.credentials(), transport=transport
        )
        try:
            yield client
        finally:
            client.close()

    def _control_plane(self) -> bool:
        """True when the suite will load the profile into the target (its ``scenario``)."""
        control_url = self.settings.control_url
        if control_url is None:
            return False
        from conformance.wire import ControlClient

        with self._check("control") as said:
            client = ControlClient(control_url, self.settings.timeout_s)
            try:
                features = client.discover()
            except SuiteError as exc:
                raise Stop(
                    Exit.NOT_THE_SERVICE,
                    f"the control plane at {control_url} did not answer its discovery: {exc}; "
                    f"check {CONTROL_URL.flag} (or leave it out for a target without one)",
                ) from None
            finally:
                client.close()
            said(Verdict.OK, f"features {', '.join(sorted(features)) or 'none'}")
        return "scenario" in features and not self.profile.target.safe_mode

    # (a) the service ------------------------------------------------------------------------
    def _service(self, client: OpenMediaClient) -> Reply:
        from conformance.wire import DecodeError, TransportError

        tenant = self.profile.tenant.id
        with self._check("service") as said:
            try:
                reply = client.get_all_service_group_status(tenant)
            except TransportError as exc:
                raise Stop(Exit.NOT_THE_SERVICE, f"{PROBE}({tenant}): {exc}") from None
            except DecodeError as exc:
                assert exc.exchange is not None
                wsdl = self._wsdl(client, min(self.settings.timeout_s, WSDL_AFTER_STOP_S))
                raise Stop(
                    Exit.NOT_THE_SERVICE,
                    f"{self.url} is not the Open Media SOAP service: {PROBE}({tenant}) got "
                    f"{describe_answer(exc.exchange, exc.what)}; ?wsdl got {wsdl}; check "
                    f"{TARGET_URL.flag} (e.g. http://host:12615/OpenMediaService)",
                ) from None
            said(Verdict.OK, f"{PROBE}({tenant}) answers SOAP 1.1")
            if reply.fault is not None and reply.fault.detail_local == ROUTER_DISCONNECTED:
                raise Stop(
                    Exit.NOT_THE_SERVICE,
                    f"{PROBE}({tenant}) answers {ROUTER_DISCONNECTED}: the service has lost "
                    "its router, so every test would only see that; reconnect it and run again",
                )
            if reply.fault is not None and _another_service(reply.fault):
                raise Stop(
                    Exit.NOT_THE_SERVICE,
                    f"{self.url} is a SOAP service that does not know {PROBE}: it answers "
                    f"{reply.fault.describe()}; check {TARGET_URL.flag} (another service there?)",
                )
            if reply.fault is not None and reply.fault.detail_local not in _declared(PROBE):
                said.details.append(f"note: {reply.fault.describe()} (the suite judges it)")
        with self._check("wsdl") as said:
            wsdl = self._wsdl(client)
            if wsdl != "a WSDL of this service":
                said(Verdict.NOTE, f"?wsdl got {wsdl} (reported only: the service answers)")
        return reply

    def _wsdl(self, client: OpenMediaClient, timeout_s: float | None = None) -> str:
        """What ``?wsdl`` gives; ``timeout_s`` bounds it when it only adds to a stop's message."""
        from conformance.wire import TransportError

        url = f"{self.url}?wsdl"
        try:
            exchange = client.transport.request("GET", url, operation="wsdl", timeout_s=timeout_s)
            return _wsdl_line(exchange)
        except TransportError as exc:
            return exc.reason

    # (b) the credentials --------------------------------------------------------------------
    def _credentials(self, probe: Reply) -> None:
        settings, auth = self.settings, self.profile.auth
        with self._check("credentials") as said:
            if probe.fault is None or probe.fault.detail_local != INVALID_USER:
                said(
                    Verdict.OK,
                    f"LogonID {settings.logon_id!r} accepted"
                    if auth.enabled
                    else "authentication off in the profile, and the server agrees",
                )
                return
            assert self.profile.source is not None
            off = ""
            if not auth.enabled:
                where = profile_line(self.profile.source, "auth", "enabled")
                off = (
                    f"the server demands authentication, but the profile turns it off ([auth] "
                    f"enabled = false, {where}): set enabled = true and name a host "
                    f"administrator (logon_id, and the password by password_env, {PASSWORD.flag} "
                    "or OPENMEDIA_PASSWORD); "
                )
            if settings.logon_id is None:
                raise Stop(Exit.SETUP, f"{off}{INVALID_USER} on {PROBE}, no LogonID sent")
            origin = settings.password_origin or "nowhere (no password given)"
            raise Stop(
                Exit.SETUP,
                f"{off}the server refused LogonID {settings.logon_id!r} ({INVALID_USER} on "
                f"{PROBE}); the password came from {origin}; check both, and "
                "that the user is a host administrator",
            )

    # (c) the profile ------------------------------------------------------------------------
    def _profile(self, client: OpenMediaClient, probe: Reply) -> None:
        from conformance.wire import GetAllServiceGroupStatusResponse

        profile = self.profile
        assert profile.source is not None
        tenant = profile.tenant
        with self._check("tenant") as said:
            if probe.fault is not None and probe.fault.detail_local == INVALID_DATA:
                where = profile_line(profile.source, "tenant", "id")
                raise Stop(
                    Exit.SETUP,
                    f"[tenant] id = {tenant.id} ({where}): the server refuses it ({INVALID_DATA} "
                    f"on {PROBE}), so it names no enabled tenant; {ESCAPE_HATCH}",
                )
            listing = probe.value
            if isinstance(listing, GetAllServiceGroupStatusResponse):
                listed = frozenset(status.service_group_id for status in listing.statuses)
                said(Verdict.OK, f"tenant {tenant.id} lists {len(listed)} Open Media group(s)")
            else:
                listed = None
                said(Verdict.NOT_CHECKED, f"{PROBE} gave no listing")
        for group in profile.groups:
            with self._check(f"group {group.id}") as said:
                said(*self._group(client, group))
                if listed is not None and group.tenant_id == tenant.id and group.is_open_media:
                    self._listed(group, listed)
        if tenant.disabled_id is not None:
            with self._check("disabled") as said:
                said(*self._disabled(client, tenant.disabled_id))
        with self._check("names") as said:
            said(
                Verdict.NOT_CHECKED,
                "only AddRequest and DivertRequest resolve TenantID + name, and neither is "
                "harmless on a live server: a wrong name fails ADD-VALID-BY-GROUP-NAME, naming "
                "the profile line",
            )

    def _group(self, client: OpenMediaClient, group: Group) -> tuple[Verdict, str]:
        from conformance.wire import DecodeError, ServiceGroupStatus, TransportError

        try:
            reply = client.get_service_group_status(group.id)
        except (TransportError, DecodeError) as exc:
            return Verdict.NOTE, f"no usable answer ({exc}); the suite judges it"
        where = group_line(self.profile, group)
        value = reply.value if isinstance(reply.value, ServiceGroupStatus) else None
        if reply.fault is not None and reply.fault.detail_local == INVALID_DATA:
            if not group.is_open_media:
                return Verdict.OK, f"not Open Media ({INVALID_DATA})"
            raise Stop(
                Exit.SETUP,
                f"{_group_name(group)} ({where}): GetServiceGroupStatus answers {INVALID_DATA}, "
                f"so the server has no Open Media group {group.id}; check its id and role; "
                f"{ESCAPE_HATCH}",
            )
        if value is None:
            shown = reply.fault.describe() if reply.fault is not None else "no status"
            return Verdict.NOTE, f"{shown}; the suite judges it"
        state = "open" if value.open else "closed"
        if not group.is_open_media:
            raise Stop(
                Exit.SETUP,
                f"{_group_name(group)} ({where}): GetServiceGroupStatus answers Open "
                f"{str(value.open).lower()}, so it is an Open Media group ({state}), not "
                f'not-open-media; give role = "{state}" or the id of a group of another media; '
                f"{ESCAPE_HATCH}",
            )
        if value.open != group.is_open:
            raise Stop(
                Exit.SETUP,
                f"{_group_name(group)} ({where}): GetServiceGroupStatus answers Open "
                f'{str(value.open).lower()}, so it is {state}; give role = "{state}" (or open '
                f"the group on the server); {ESCAPE_HATCH}",
            )
        return Verdict.OK, state

    def _listed(self, group: Group, listed: frozenset[int | None]) -> None:
        """A group of the profile's tenant is in that tenant's listing (its tenant_id is right)."""
        if group.id in listed:
            return
        tenant = self.profile.tenant.id
        raise Stop(
            Exit.SETUP,
            f"{_group_name(group)} ({group_line(self.profile, group)}) answers "
            f"GetServiceGroupStatus, but {PROBE}({tenant}) does not list it: it is not a group "
            f"of tenant {tenant}; give its tenant_id; {ESCAPE_HATCH}",
        )

    def _disabled(self, client: OpenMediaClient, tenant_id: int) -> tuple[Verdict, str]:
        from conformance.wire import DecodeError, GetAllServiceGroupStatusResponse, TransportError

        try:
            reply = client.get_all_service_group_status(tenant_id)
        except (TransportError, DecodeError) as exc:
            return Verdict.NOTE, f"no usable answer ({exc}); the suite judges it"
        if reply.fault is not None and reply.fault.detail_local == INVALID_DATA:
            return Verdict.OK, f"tenant {tenant_id} refused ({INVALID_DATA}: disabled or unknown)"
        if isinstance(reply.value, GetAllServiceGroupStatusResponse):
            assert self.profile.source is not None
            where = profile_line(self.profile.source, "tenant", "disabled_id")
            raise Stop(
                Exit.SETUP,
                f"[tenant] disabled_id = {tenant_id} ({where}): the server lists "
                f"{len(reply.value.statuses)} group(s) for it ({PROBE}), so it is enabled; name "
                f"a disabled tenant or leave disabled_id out; {ESCAPE_HATCH}",
            )
        shown = reply.fault.describe() if reply.fault is not None else "no listing"
        return Verdict.NOTE, f"{shown}; the suite judges it"


def _another_service(fault: SoapFault) -> bool:
    """A WCF endpoint of another contract: the action is unknown to its dispatcher."""
    return fault.code_local == "ActionNotSupported" or "ContractFilter mismatch" in fault.string


def _declared(operation_name: str) -> frozenset[str]:
    from conformance.contract.operations import operation

    return frozenset(fault.local for fault in operation(operation_name).faults)


def run_preflight(settings: RunSettings, write: Write) -> Outcome:
    """The pre-flight against ``settings.target_url``, one line per check through ``write``."""
    return Preflight(settings, write).run()


# -- `openmedia-conformance check` -------------------------------------------------------------
def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "check",
        help="only the pre-flight of a run: does the target answer as the Open Media service, "
        "with these credentials, as the profile describes it? (exit 0, 2 or 3)",
        description="Run the pre-flight checks of `openmedia-conformance run` against a target "
        "and stop: exit 0 when they pass, 2 when the credentials or the profile do not match "
        "the server, 3 when the URL does not answer as the Open Media SOAP service.",
    )
    add_argument(parser, TARGET_URL, help="the SOAP endpoint to check")
    add_argument(parser, CONTROL_URL, help="the target's control plane")
    add_credential_arguments(parser)
    parser.set_defaults(handler=check_command, subparser=parser)


def check_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from conformance.plugin.settings import build_settings

    options = credential_options(args, target_url=args.target_url, control_url=args.control_url)
    try:
        settings = build_settings(options, os.environ)
        if settings.target_url is None:
            raise UsageError(
                f"check needs a target: pass {TARGET_URL.flag} (or set [target] url in the profile)"
            )
    except UsageError as exc:
        print(f"openmedia usage error: {exc}", file=sys.stderr)
        return int(Exit.SETUP)
    try:
        outcome = run_preflight(settings, lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        print("openmedia pre-flight interrupted", file=sys.stderr)
        return int(Exit.NOT_THE_SERVICE)
    if outcome.stopped:
        print(f"openmedia pre-flight stopped: {outcome.message}", file=sys.stderr)
    return int(outcome.code)
