"""Values the engine takes and returns: the data contracts, in Python words.

Inputs carry exactly the wire members (snake_case of the wire name) with the defaults the
DataContractSerializer gives a member that was not sent (0, false, null), so the SOAP codec can
build them generically and the engine sees precisely what a .NET service would have seen.
Enumerations keep the WSDL's names (R1): their values are what goes on the wire.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar


class Status(str, Enum):
    """OpenMediaStatus, by wire name."""

    UNKNOWN = "Unknown"
    QUEUED = "Queued"
    ALLOCATED = "AllocatedToAgent"
    PROCESSING = "AgentProcessing"
    COMPLETE = "Complete"
    FAILED = "Failed"
    CANCELLED = "Cancelled"
    CLERICAL = "Clerical"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def with_agent(self) -> bool:
        """The statuses whose records name the agent (AgentID, TenantID, LogonID)."""
        return self in _WITH_AGENT


_TERMINAL = frozenset({Status.COMPLETE, Status.FAILED, Status.CANCELLED})
_WITH_AGENT = frozenset({Status.ALLOCATED, Status.PROCESSING, Status.COMPLETE})


class RequestStatus(str, Enum):
    """OpenMediaRequestStatus, by wire name (R1)."""

    SUCCESS = "Success"
    GROUP_CLOSED = "GroupClosed"
    INVALID_GROUP = "InvalidGroup"
    TENANT_DISABLED = "TenantDisabled"
    AGENT_LOGGED_OFF = "AgentLoggedOff"
    INVALID_ID = "InvalidID"
    ERROR = "Error"


@dataclass(frozen=True)
class IvrItem:
    """IVRInformation; members in wire order (Data, Label)."""

    data: str | None = None
    label: str | None = None


_SNAKE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@cache
def snake(wire_name: str) -> str:
    """``PreferredAgentLogonID`` -> ``preferred_agent_logon_id``; ``IVRInfo`` -> ``ivr_info``."""
    return _SNAKE.sub("_", wire_name).lower()


T = TypeVar("T")


def from_wire(cls: type[T], members: dict[str, Any]) -> T:
    """Build an input value from decoded wire members; members it does not know are ignored."""
    names = _field_names(cls)  # type: ignore[arg-type]
    return cls(**{snake(k): v for k, v in members.items() if snake(k) in names})


@cache
def _field_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in fields(cls))  # type: ignore[arg-type]


@dataclass(frozen=True)
class AddInput:
    force_to_preferred_agent: bool = False
    ivr_info: tuple[IvrItem | None, ...] | None = None
    preferred_agent_id: int = 0
    preferred_agent_logon_id: str | None = None
    private_data: str | None = None
    queue_start_time: datetime | None = None
    service_group_id: int = 0
    service_group_name: str | None = None
    session_priority: int = 0
    tenant_id: int = 0
    type_of_session: int = 0


@dataclass(frozen=True)
class CancelInput:
    cancel_if_allocated: bool = False
    do_not_report: bool = False
    open_media_id: int = 0


@dataclass(frozen=True)
class DivertInput:
    open_media_id: int = 0
    service_group_id: int = 0
    service_group_name: str | None = None
    tenant_id: int = 0


@dataclass(frozen=True)
class ModifyInput:
    ivr_info: tuple[IvrItem | None, ...] | None = None
    open_media_id: int = 0
    private_data: str | None = None


@dataclass(frozen=True)
class OptionsInput:
    agent_action_options: int = 0
    allow_different_types: int = 0
    close_tab_options: int = 0
    max_number_of_sessions: int = 0
    reset_all_options: bool = False
    session_link_options: int = 0
    type_of_session: int = 0


@dataclass(frozen=True)
class AddResult:
    ewt: int
    open_media_id: int
    queue_position: int
    request_status: RequestStatus


@dataclass(frozen=True)
class DivertResult:
    open_media_id: int
    request_status: RequestStatus


@dataclass(frozen=True)
class Event:
    """One status update: a state a request entered (R13), as a status record carries it."""

    agent_id: int
    id: int
    logon_id: str
    queue_position: int
    service_group_id: int
    status: Status
    tenant_id: int
    time_stamp: datetime


@dataclass(frozen=True)
class StatusResponse:
    """GetOpenMediaResponse: the records and the moment the answer was made."""

    open_media_requests: tuple[Event, ...]
    time_stamp: datetime


@dataclass(frozen=True)
class GroupStatus:
    open: bool
    service_group_id: int


@dataclass(frozen=True)
class AllGroupStatus:
    """GetAllServiceGroupStatusResponse: the Open Media groups of one tenant."""

    status: tuple[GroupStatus, ...]


@dataclass(frozen=True)
class AgentsByGroup:
    agent_list: tuple[int, ...]
    service_group_id: int
