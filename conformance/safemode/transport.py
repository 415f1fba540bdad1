"""The transport of every client in safe mode: it keeps the pace, admits only the SetOptions the
profile allows, and records in the ledger what each answer tells of the suite's requests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.profile import describe_options
from conformance.safemode.interrupts import GUARD
from conformance.safemode.ledger import Ledger
from conformance.verdicts import NotApplicable, NotApplicableReason
from conformance.wire import Transport

if TYPE_CHECKING:
    from conformance.wire import Exchange


# -- pace --------------------------------------------------------------------------------------
class RateLimiter:
    """At most ``per_second`` request starts per second, shared by the process's clients."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


# -- SetOptions --------------------------------------------------------------------------------
SET_OPTIONS = "SetOptions"


@dataclass(frozen=True)
class OptionsGate:
    """Which SetOptions may leave this process: exactly the profile's values in force.

    The tests that send SetOptions are *not applicable* in safe mode before they send anything
    (their ``sets_options`` marker); this gate, in the transport every suite client uses, is
    what makes that a guarantee: a SetOptions that is not one of ``allowed`` (member for member,
    as the wire writes them) is never sent, whoever builds it, property tests and raw robustness
    bodies included. Anything that might be taken for a SetOptions (its SOAPAction, or its name
    anywhere in the body) must parse as one of the allowed ones.
    """

    allowed: tuple[dict[str, str], ...]
    refusal: str
    """The *not applicable* reason for a SetOptions the gate stops."""

    def admit(self, body: bytes, headers: Any) -> dict[str, str] | None:
        """``None`` when the request is no SetOptions; its members when it is an allowed one;
        ``NotApplicable`` (nothing sent) otherwise."""
        action = " ".join(v for k, v in headers if k.lower() == "soapaction")
        if SET_OPTIONS.encode() not in body and SET_OPTIONS not in action:
            return None
        members = _set_options_members(body)
        if members is not None and members in self.allowed:
            return members
        shown = describe_options(members) if members is not None else "not one the gate can read"
        raise NotApplicable(
            NotApplicableReason.SAFE_MODE,
            SET_OPTIONS,
            f"{self.refusal}; stopped before sending ({shown})",
        )


def _set_options_members(body: bytes) -> dict[str, str] | None:
    """The members of a well-formed SetOptions envelope as wire texts; ``None`` for anything
    else (an unparsable body, another operation, a nil, an attribute, a nested element)."""
    from lxml import etree

    from conformance.contract.xmlsafe import parse

    try:
        root = parse(body)
    except Exception:
        return None
    bodies = [e for e in root if isinstance(e.tag, str) and etree.QName(e).localname == "Body"]
    calls = [e for b in bodies for e in b if isinstance(e.tag, str)]
    if len(calls) != 1 or etree.QName(calls[0]).localname != SET_OPTIONS:
        return None
    wrapped = [e for e in calls[0] if isinstance(e.tag, str)]
    if len(wrapped) != 1 or wrapped[0].attrib:
        return None
    members: dict[str, str] = {}
    for element in wrapped[0]:
        if not isinstance(element.tag, str) or element.attrib or len(element):
            return None
        members[etree.QName(element).localname] = (element.text or "").strip()
    return members


def options_texts(members: dict[str, int | bool]) -> dict[str, str]:
    """SetOptions members as the wire writes them (``4``, ``true``), for ``OptionsGate``."""
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in members.items()}


# -- the transport -----------------------------------------------------------------------------
class SafeTransport(Transport):
    """Keeps the pace; with a gate, sends only the SetOptions it admits (and journals
    them); with a ledger, records what each answer tells of the suite's requests, holding
    a signal back until it has."""

    def __init__(
        self,
        ledger: Ledger | None,
        limiter: RateLimiter | None,
        timeout_s: float,
        gate: OptionsGate | None,
    ) -> None:
        super().__init__(timeout_s=timeout_s)
        self.ledger = ledger
        self.limiter = limiter
        self.gate = gate

    def request(
        self,
        method: str,
        url: str,
        body: bytes = b"",
        headers: Iterable[tuple[str, str]] = (),
        **kwargs: Any,
    ) -> Exchange:
        headers = tuple(headers)
        if self.gate is not None:
            options = self.gate.admit(body, headers)
            if options is not None and self.ledger is not None:
                self.ledger.note_options(options)
        if self.limiter is not None:
            self.limiter.wait()
        if self.ledger is None:
            return super().request(method, url, body, headers, **kwargs)
        with GUARD.deferring():
            exchange = super().request(method, url, body, headers, **kwargs)
            self.ledger.observe(exchange)
        return exchange


def safe_transport(
    ledger: Ledger | None,
    limiter: RateLimiter | None,
    timeout_s: float,
    gate: OptionsGate | None = None,
) -> Transport:
    """A transport that keeps ``limiter``'s pace; given a gate, sends only the SetOptions it
    admits; given a ledger, tracks requests and the SetOptions sent."""
    return SafeTransport(ledger, limiter, timeout_s, gate)
