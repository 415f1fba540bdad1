"""Typed values decoded from Open Media responses.

Frozen dataclasses with snake-case fields, one per data contract the service returns, plus the
``Reply`` and ``SoapFault`` every call produces. Checks and strategies import these (and only
these) from the wire layer, so they carry no behaviour beyond a readable ``repr``.

A member that was absent or ``xsi:nil`` is ``None`` (scalars) or an empty tuple (arrays): the
suite must be able to tell "0" from "not sent". Enumerations stay names (``str``), exactly as
they travelled, so that a target sending a number is visible to the checks (R1). Datetimes are
timezone-aware and in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.wire.exchange import Exchange


class WireDateTime(datetime):
    """A dateTime read from the wire that remembers the text it travelled as.

    xs:dateTime allows any number of fraction digits and .NET writes seven (100 ns ticks), one
    more than ``datetime`` holds. A TimeStamp fed back as RetrieveLaterThan must be exactly the
    server's (R12: feeding it back never repeats an event), so the encoder writes ``lexical``
    instead of the truncated value. Arithmetic and ``replace`` give a new value whose
    ``lexical`` is ``None``: only the value as read carries the text.
    """

    lexical: str | None = None

    @classmethod
    def read(cls, value: datetime, lexical: str) -> WireDateTime:
        wire = cls(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            tzinfo=value.tzinfo,
        )
        wire.lexical = lexical
        return wire


@dataclass(frozen=True)
class AddOpenMediaResponse:
    ewt: int | None
    open_media_id: int | None
    queue_position: int | None
    request_status: str | None


@dataclass(frozen=True)
class DivertOpenMediaResponse:
    open_media_id: int | None
    request_status: str | None


@dataclass(frozen=True)
class OpenMediaRequest:
    agent_id: int | None
    id: int | None
    logon_id: str | None
    queue_position: int | None
    service_group_id: int | None
    status: str | None
    tenant_id: int | None
    timestamp: datetime | None


@dataclass(frozen=True)
class GetOpenMediaResponse:
    requests: tuple[OpenMediaRequest, ...]
    timestamp: datetime | None


@dataclass(frozen=True)
class ServiceGroupStatus:
    open: bool | None
    service_group_id: int | None


@dataclass(frozen=True)
class GetAllServiceGroupStatusResponse:
    statuses: tuple[ServiceGroupStatus, ...]


@dataclass(frozen=True)
class GetOMAgentsByGroupResponse:
    agent_list: tuple[int, ...]
    service_group_id: int | None


Value = (
    AddOpenMediaResponse
    | DivertOpenMediaResponse
    | GetOpenMediaResponse
    | ServiceGroupStatus
    | GetAllServiceGroupStatusResponse
    | GetOMAgentsByGroupResponse
    | bool
    | None
)
"""What ``Reply.value`` holds: the decoded ``<Op>Result`` (``None`` when absent or nil)."""


@dataclass(frozen=True)
class SoapFault:
    """A SOAP 1.1 fault, with its code resolved by namespace (never by prefix) and its detail named.

    ``detail_local`` / ``detail_namespace`` name the first element child of ``<detail>``; both are
    empty strings when the fault has no typed detail.
    """

    code_namespace: str
    code_local: str
    string: str
    detail_local: str
    detail_namespace: str

    def describe(self) -> str:
        """A one-line human summary for Expected / Actual messages."""
        detail = self.detail_local or "no detail"
        text = self.string if len(self.string) <= 120 else self.string[:117] + "..."
        return f"fault {detail} (faultcode {self.code_local or '?'}, faultstring {text!r})"


@dataclass(frozen=True)
class Reply:
    """One call's outcome: the captured exchange and either a decoded value or a fault."""

    exchange: Exchange
    value: Value
    fault: SoapFault | None

    @property
    def is_fault(self) -> bool:
        return self.fault is not None
