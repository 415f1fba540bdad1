"""The planted defects, as data: one attribute of ``Defect`` per fault flag.

An attribute's name is its flag in upper snake case (``Defect.EWT_NEGATIVE`` is ``--fault
ewt-negative``); its value, a ``Row``, names the catalogue requirement whose check must catch
the defect and, for the table-driven families, what their one hook needs. Hooks in the emulator
name a defect as ``Defect.NAME``, so a misspelt one is an AttributeError and a mypy error, never
a silently dead hook. ``conformance.emulator.faults`` builds the registry (flags, summaries)
from this table and checks it at import; see there for the rules.

``Defect`` is a plain class, iterable over its rows in definition order, rather than an Enum:
the hooks run on every request, and looking up an Enum member costs several times what the
string test it replaced did (Python 3.11), while a class attribute costs the same. Two rows that
say the same thing are refused when the class is defined, as ``enum.unique`` would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any

_ADD, _DIV, _MOD, _OPT = (
    "AddOpenMediaRequest",
    "DivertOpenMediaRequest",
    "ModifyOpenMediaRequest",
    "SetOptionsRequest",
)


class Check(Enum):
    """An admission check an operation can be made to skip."""

    LICENSE = "license"
    ROUTER = "router"
    AUTH = "auth"


class Bend(Enum):
    """How a range defect moves one end of a range by one."""

    MAX_REFUSED = "max-refused"
    OVER_MAX = "over-max"
    MIN_REFUSED = "min-refused"
    BELOW_MIN = "below-min"


@dataclass(frozen=True, eq=False)
class Row:
    """One planted defect: the requirement whose check must catch it (subclassed per family).

    Rows compare and hash by identity: each is defined once, as an attribute of ``Defect``,
    which also gives it its ``name`` (``EWT_NEGATIVE``) and its ``flag`` (``ewt-negative``).
    """

    requirement: str
    seen_through: str | None = field(default=None, kw_only=True)
    """The control feature that alone shows the defect (``"statistics"``: only the control
    plane's counters), where tests of its requirement also run without that feature: the
    mutation matrix's observable run lists it as not observable rather than survived."""
    name: str = field(init=False, default="")
    flag: str = field(init=False, default="")
    """The kebab-case name ``--fault`` takes, in reports and CI logs."""

    def __set_name__(self, owner: type, name: str) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "flag", name.lower().replace("_", "-"))

    def what(self) -> tuple[object, ...]:
        """What the row says (its kind and given fields): two defects must not say the same."""
        return (type(self), *(getattr(self, f.name) for f in fields(self) if f.init))


@dataclass(frozen=True, eq=False)
class OneOff(Row):
    """A defect with its own hook where the behaviour lives."""

    summary: str


@dataclass(frozen=True, eq=False)
class Race(OneOff):
    """A one-off defect that is a race between requests served at the same moment: its hook
    reads, waits ``RACE_WINDOW_S`` without the engine's lock, then writes what it read. The
    emulator serves SOAP requests in parallel threads while one is planted (``Engine.racing``),
    so that requests really overlap; the reference behaviour serves them one after another."""


@dataclass(frozen=True, eq=False)
class Length(Row):
    """A length limit of ``field`` in an input of ``type_name``, moved by ``shift``."""

    type_name: str
    field: str
    shift: int


@dataclass(frozen=True, eq=False)
class Count(Row):
    """The IVRInformation count limit of an input of ``type_name``, moved by ``shift``."""

    type_name: str
    shift: int


@dataclass(frozen=True, eq=False)
class Range(Row):
    """A range of ``field`` in an input of ``type_name``, one end moved by ``bend``."""

    type_name: str
    field: str
    bend: Bend


@dataclass(frozen=True, eq=False)
class Admission(Row):
    """``operation`` skips its ``check`` (licence, router or authentication)."""

    check: Check
    operation: str


class Table(type):
    """The metaclass of ``Defect``: iterating the class gives its rows in definition order;
    a row defined twice, or two rows that say the same, fail when the class is defined."""

    _rows: tuple[Row, ...]

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> Table:
        cls = super().__new__(mcs, name, bases, namespace)
        rows = tuple(value for value in namespace.values() if isinstance(value, Row))
        seen: dict[tuple[object, ...], Row] = {}
        for row in rows:
            if row.what() in seen or row in seen.values():
                first = seen.get(row.what(), row)
                raise ValueError(f"duplicate defects in {name}: {first.name} and {row.name}")
            seen[row.what()] = row
        cls._rows = rows
        return cls

    def __iter__(cls) -> Iterator[Row]:
        return iter(cls._rows)

    def __len__(cls) -> int:
        return len(cls._rows)


class Defect(metaclass=Table):
    """Every planted defect; the order is the registry's (one-off defects, then the families)."""

    # -- one-off defects: each has its own hook where the behaviour lives ---------------------
    # service information and metadata
    ENDPOINT_REFUSES_SOAP = OneOff(
        "SVC-ENDPOINT",
        "a SOAP POST to the service URL answers HTTP 404 (the WSDL and XSDs are still served)")
    WSDL_ADDRESS_NOT_REWRITTEN = OneOff(
        "SVC-WSDL-ADDRESS",
        "the WSDL's soap:address keeps the file's location instead of the URL the client used")
    WSDL_DEFINITIONS_MISNAMED = OneOff(
        "SVC-WSDL", "the served WSDL's definitions are not named OpenMediaService")
    XSD_NOT_SERVED = OneOff("SVC-XSD", "?xsd=xsdN answers 404 for every schema the WSDL imports")
    WSDL_SOAP_ACTION_CHANGED = OneOff(
        "WIRE-WSDL-EQUIVALENT", "the served WSDL declares another SOAPAction for AddRequest")
    WSDL_IMPORT_NOT_SERVED = OneOff(
        "CLIENT-ZEEP",
        "the served WSDL imports a second WSDL document (?wsdl=wsdl0) that answers 404")

    # wire shape
    FAULT_HTTP_200 = OneOff(
        "WIRE-HTTP-STATUS", "a typed SOAP Fault answers HTTP 200 instead of 500")
    CONTENT_TYPE_LATIN1 = OneOff(
        "WIRE-CONTENT-TYPE",
        "SOAP responses say charset=iso-8859-1 (not UTF-8 or UTF-16) for their UTF-8 bodies")
    SOAP12_ENVELOPE = OneOff("WIRE-ENVELOPE", "responses use the SOAP 1.2 envelope namespace")
    QUOTED_SOAP_ACTION_REFUSED = OneOff(
        "WIRE-SOAPACTION", "a request whose SOAPAction is the quoted WSDL action is refused")
    PREFIXED_WRAPPER_REFUSED = OneOff(
        "WIRE-REQUEST-SHAPE",
        "a request whose operation wrapper carries a namespace prefix is refused")
    BARE_PARAMETERS_PASCAL_CASE = OneOff(
        "WIRE-BARE-PARAMETERS",
        "bare parameters are read as OpenMediaID etc. (PascalCase), so camelCase ones are lost")
    RESPONSE_WRAPPER_WRONG_NAMESPACE = OneOff(
        "WIRE-RESPONSE-WRAPPER",
        "the <Op>Response wrapper is written in the DataContracts namespace")
    MEMBERS_OUT_OF_ORDER = OneOff(
        "WIRE-MEMBER-ORDER", "AddOpenMediaResponse writes OpenMediaID before EWT")
    MEMBER_WRONG_NAMESPACE = OneOff(
        "WIRE-MEMBER-NAMESPACE",
        "AddOpenMediaResponse's OpenMediaID is written in the tempuri namespace")
    AGENT_LIST_ITEMS_WRONG_NAMESPACE = OneOff(
        "WIRE-MEMBER-NAMESPACE", "AgentList's int items are written in the DataContracts namespace")
    BOOLEAN_RESULT_WRAPPED = OneOff(
        "WIRE-BOOLEAN-RESULT", "boolean results are wrapped in a child element")
    NIL_MEMBERS_REFUSED = OneOff(
        "WIRE-NIL-NOT-GIVEN", "a request with an xsi:nil member is refused with a Client fault")
    FAULT_DETAIL_EXTRA_CHILD = OneOff(
        "WIRE-SCHEMA", "a Faults detail element carries a child its XSD type does not declare")
    REQUEST_STATUS_AS_NUMBER = OneOff(
        "WIRE-ENUM-NAMES", "RequestStatus travels as its number (Success = 0)")
    STATUS_AS_NUMBER = OneOff("WIRE-ENUM-NAMES", "a status record's Status travels as its number")
    TIMES_WITH_OFFSET = OneOff("WIRE-UTC", "times are written in +01:00 instead of UTC")
    TIMES_WITHOUT_ZONE = OneOff("WIRE-UTC", "times are written without Z or an offset")
    FAULT_CODE_MISSING = OneOff("WIRE-FAULT-CODE", "typed faults carry no faultcode element")
    FAULT_CODE_SERVER = OneOff("WIRE-FAULT-CLIENT", "typed faults carry faultcode s:Server")
    FAULT_STRING_EMPTY = OneOff("WIRE-FAULT-CLIENT", "typed faults carry an empty faultstring")
    FAULT_WITHOUT_DETAIL = OneOff(
        "WIRE-FAULT-DETAIL", "declared faults are sent without their typed detail")
    FAULT_DETAIL_WRONG_NAMESPACE = OneOff(
        "WIRE-FAULT-DETAIL", "Faults details are written in the tempuri namespace")
    INVALID_DATA_DETAIL_IN_FAULTS_NAMESPACE = OneOff(
        "WIRE-FAULT-DETAIL",
        "InvalidDataException's detail is in the Faults namespace, not System.IO")
    GROUP_STATUS_UNDECLARED_FAULT = OneOff(
        "WIRE-FAULT-DECLARED",
        "GetServiceGroupStatus of an invalid group raises InvalidOpenMediaIDFault")

    # robustness
    EMPTY_BODY_ANSWERED = OneOff(
        "ROB-MALFORMED-ENVELOPE",
        "an envelope whose Body is empty is answered as GetAllOpenMediaRequestStatus")
    SECOND_BODY_IGNORED = OneOff(
        "ROB-TWO-BODIES",
        "an envelope with two Body elements is carried out as its first Body says")
    SOAP_ACTION_MISMATCH_IGNORED = OneOff(
        "ROB-SOAPACTION-WRONG",
        "a SOAPAction naming another operation than the Body is ignored: the Body's is carried "
        "out")
    BODY_NAMESPACE_IGNORED = OneOff(
        "ROB-UNKNOWN-OPERATION",
        "a Body element is matched to an operation by its local name in any namespace")
    WRONG_TYPES_READ_AS_DEFAULTS = OneOff(
        "ROB-WRONG-TYPES",
        "a parameter that is not of its XSD type is read as the defaults and carried out")
    INTS_WRAPPED = OneOff(
        "ROB-WRONG-TYPES",
        "an integer past xs:int's range is wrapped modulo 2^32 (4294967306 read as 10) and served")
    CHARACTER_REFERENCES_SKIPPED = OneOff(
        "ROB-CONTROL-CHARACTERS",
        "character references to forbidden characters are dropped (raw bytes still refused), as "
        "WCF's text reader does")
    CONTROL_CHARACTERS_STRIPPED = OneOff(
        "ROB-CONTROL-CHARACTERS",
        "characters XML 1.0 forbids are dropped from the request instead of refusing it")
    OVERSIZED_BODY_ACCEPTED = OneOff(
        "ROB-OVERSIZED-BODY", "a body past max_body_bytes is read and answered")
    OVERSIZED_BODY_400 = OneOff(
        "ROB-OVERSIZED-STATUS", "an oversized body is refused with HTTP 400 instead of 413")
    DOCTYPE_ACCEPTED = OneOff(
        "ROB-ENTITIES",
        "a request with a DOCTYPE is read (its entities left unresolved) and answered")
    STOPS_SERVING_AFTER_REFUSAL = OneOff(
        "ROB-KEEPS-SERVING",
        "after refusing an unreadable request, every later call answers a Server fault")
    REFUSAL_HTTP_400 = OneOff(
        "ROB-REFUSAL-STATUS", "a refusal that is a SOAP fault is sent with HTTP 400 instead of 500")

    # AddRequest
    ADD_SUCCESS_ID_ZERO = OneOff(
        "ADD-VALID-BY-GROUP-ID", "a successful AddRequest answers OpenMediaID 0")
    ADD_BY_NAME_REFUSED = OneOff(
        "ADD-VALID-BY-GROUP-NAME", "AddRequest by TenantID + ServiceGroupName answers InvalidGroup")
    OPENMEDIAID_REUSED_AFTER_RESET = OneOff(
        "ADD-OPENMEDIAID-UNIQUE", "OpenMediaIDs start again at 1 after a reset")
    REFUSED_ADD_RETURNS_ID = OneOff(
        "ADD-FAILURE-CREATES-NOTHING",
        "a refused AddRequest (RequestStatus not Success) answers a fresh OpenMediaID")
    PRIVATE_DATA_MOJIBAKE = OneOff(
        "ADD-STORED-AS-GIVEN", "non-ASCII PrivateData is stored as UTF-8 bytes read as Latin-1")
    TYPE_OF_SESSION_NOT_STORED = OneOff(
        "ADD-STORED-AS-GIVEN", "TypeOfSession is not stored (the agent is handed 0)")
    ADD_QUEUE_POSITION_ZERO_BASED = OneOff(
        "ADD-QUEUE-POSITION-QUEUED",
        "AddRequest answers a queued request's position counted from 0")
    ADD_ALLOCATED_POSITION_ONE = OneOff(
        "ADD-QUEUE-POSITION-ALLOCATED",
        "AddRequest answers QueuePosition 1 for a request allocated at once")
    EWT_NEGATIVE = OneOff("ADD-EWT", "EWT is negative")
    EWT_DECREASES_WITH_POSITION = OneOff(
        "ADD-EWT-PLAUSIBLE", "EWT shrinks as the queue position grows")
    ADD_CLOSED_GROUP_INVALID_GROUP = OneOff(
        "ADD-GROUP-CLOSED", "AddRequest toward a closed group answers InvalidGroup")
    ADD_UNKNOWN_GROUP_ID_ERROR = OneOff(
        "ADD-INVALID-GROUP-ID", "AddRequest with an unknown ServiceGroupID answers Error")
    ADD_NON_OPEN_MEDIA_GROUP_ACCEPTED = OneOff(
        "ADD-INVALID-GROUP-NOT-OPEN-MEDIA",
        "AddRequest toward a group that is not Open Media is queued")
    ADD_NAME_IGNORES_TENANT = OneOff(
        "ADD-INVALID-GROUP-NAME", "AddRequest finds a group by name in any tenant")
    ADD_NO_GROUP_USES_FIRST_GROUP = OneOff(
        "ADD-NO-GROUP", "AddRequest without a usable group is queued at the first open group")
    ADD_DISABLED_TENANT_GROUP_CLOSED = OneOff(
        "ADD-TENANT-DISABLED", "AddRequest toward a disabled tenant answers GroupClosed")
    ADD_ANSWERS_INVALID_ID = OneOff(
        "ADD-STATUS-ERROR",
        "AddRequest toward an unknown group answers InvalidID, a status AddRequest never gives")
    ADD_NAME_WINS_OVER_GROUP_ID = OneOff(
        "ADD-PRECEDENCE-GROUP-ID",
        "AddRequest resolves TenantID + ServiceGroupName before ServiceGroupID")
    LOGON_ID_WINS_OVER_PREFERRED_AGENT_ID = OneOff(
        "ADD-PRECEDENCE-PREFERRED-AGENT-ID",
        "PreferredAgentLogonID takes precedence over PreferredAgentID")
    PREFERRED_LOGON_ID_IGNORED = OneOff(
        "ADD-PREFERRED-AGENT-LOGON-ID", "PreferredAgentLogonID alone names no preferred agent")
    FORCE_TO_LOGGED_OFF_AGENT_QUEUED = OneOff(
        "ADD-FORCE-PREFERRED-LOGGED-OFF",
        "forced to a logged-off preferred agent, the request is queued instead of AgentLoggedOff")
    FORCED_REQUEST_FALLS_BACK = OneOff(
        "ADD-FORCE-PREFERRED-ONLY",
        "a request forced to a busy preferred agent goes to another agent")
    PREFERRED_TIMEOUT_NEVER = OneOff(
        "ADD-FORCE-PREFERRED-TIMEOUT",
        "a forced request never fails when its preferred agent's time has passed")
    PREFERRED_TIMEOUT_EARLY = OneOff(
        "ADD-FORCE-PREFERRED-TIMEOUT", "a forced request fails at half the preferred agent's time")
    LENGTH_COUNTS_UTF8_BYTES = OneOff(
        "ADD-LIMIT-UTF16-UNITS", "AddRequest length limits count UTF-8 bytes")
    LENGTH_COUNTS_CODE_POINTS = OneOff(
        "ADD-LIMIT-UTF16-UNITS", "AddRequest length limits count code points")
    EMPTY_IVR_INFO_ACCEPTED = OneOff(
        "ADD-IVRINFO-AT-LEAST-ONE", "AddRequest without any IVRInformation is accepted")
    MODIFY_WITHOUT_IVR_INFO_ACCEPTED = OneOff(
        "MOD-IVRINFO-AT-LEAST-ONE",
        "ModifyRequest without any IVRInformation (PrivateData alone) is accepted")
    EMPTY_IVR_ITEMS_COUNT = OneOff(
        "ADD-IVRINFO-AT-LEAST-ONE",
        "IVRInformation items whose Label and Data are empty satisfy the at-least-one rule")
    IVR_NEEDS_LABEL_AND_DATA = OneOff(
        "ADD-IVRINFO-LABEL-OR-DATA",
        "an IVRInformation with only a Label or only a Data does not count")
    NOT_GIVEN_MINUS_ONE_REFUSED = OneOff(
        "ADD-NOT-GIVEN", "-1 for TypeOfSession or SessionPriority is refused as out of range")
    QUEUE_START_TIME_PAST_IGNORED = OneOff(
        "ADD-QUEUE-START-TIME-PAST",
        "a QueueStartTime in the past is ignored: the queue time is now")
    FUTURE_QUEUE_START_TIME_USED = OneOff(
        "ADD-QUEUE-START-TIME-NOT-PAST", "a QueueStartTime in the future becomes the queue time")
    SESSION_PRIORITY_BEATS_QUEUE_START_TIME = OneOff(
        "ADD-PRECEDENCE-QUEUE-START-TIME",
        "SessionPriority ranks a request that gave a valid QueueStartTime")

    # CancelRequest
    CANCEL_QUEUED_RETURNS_FALSE = OneOff(
        "CAN-QUEUED-CANCELS", "CancelRequest on a queued request returns false and changes nothing")
    CANCEL_QUEUED_LEFT_IN_QUEUE = OneOff(
        "CAN-QUEUED-CANCELS", "a cancelled queued request keeps its place in the queue")
    CANCEL_QUEUED_COUNTED_COMPLETED = OneOff(
        "CAN-QUEUED-STATISTICS",
        "a request cancelled while queued counts as Completed, not Abandoned")
    DO_NOT_REPORT_IGNORED = OneOff(
        "CAN-DO-NOT-REPORT", "DoNotReport true still reports a queued request's cancel")
    DO_NOT_REPORT_AFTER_ALLOCATION_HONOURED = OneOff(
        "CAN-DO-NOT-REPORT-AFTER-ALLOCATION",
        "DoNotReport suppresses the statistics of an allocated request's cancel")
    CANCEL_ALLOCATED_LEFT_WITH_AGENT = OneOff(
        "CAN-ALLOCATED-CANCELS", "a cancelled allocated request keeps occupying its agent")
    CANCEL_ALLOCATED_AGENT_NOT_OFFERED = OneOff(
        "CAN-ALLOCATED-STATISTICS",
        "an allocated request's cancel is not counted as Offered for the agent")
    CANCEL_IF_ALLOCATED_FALSE_CANCELS_ALLOCATED = OneOff(
        "CAN-ALLOCATED-REFUSED", "CancelIfAllocated false still cancels an allocated request")
    CANCEL_ANSWERED_RETURNS_FALSE = OneOff(
        "CAN-ANSWERED-CANCELS",
        "CancelIfAllocated true on an answered request returns false and changes nothing")
    CANCEL_ANSWERED_COUNTED_ABANDONED = OneOff(
        "CAN-ANSWERED-STATISTICS",
        "an answered request's cancel counts as Abandoned, not Completed")
    CANCEL_ANSWERED_AGENT_NOT_ANSWERED = OneOff(
        "CAN-ANSWERED-STATISTICS",
        "an answered request's cancel is not counted as Answered for the agent")
    CANCEL_IF_ALLOCATED_FALSE_CANCELS_ANSWERED = OneOff(
        "CAN-ANSWERED-REFUSED", "CancelIfAllocated false still cancels an answered request")
    CANCEL_TERMINATED_RETURNS_FALSE = OneOff(
        "CAN-TERMINATED",
        "CancelRequest on a terminated request returns false instead of the terminated fault")
    CANCEL_TERMINATED_INVALID_ID_FAULT = OneOff(
        "CAN-TERMINATED", "CancelRequest on a terminated request raises InvalidOpenMediaIDFault")
    CANCEL_UNKNOWN_ID_RETURNS_FALSE = OneOff(
        "CAN-UNKNOWN-ID", "CancelRequest on an ID never issued returns false")
    CANCEL_EXPIRED_ID_TERMINATED_FAULT = OneOff(
        "CAN-EXPIRED-ID", "CancelRequest on an aged-out ID raises the terminated fault")

    # DivertRequest
    DIVERT_QUEUED_NOT_MOVED = OneOff(
        "DIV-QUEUED-BY-GROUP-ID",
        "DivertRequest of a queued request answers Success and leaves it where it was")
    DIVERT_BY_NAME_INVALID_GROUP = OneOff(
        "DIV-BY-GROUP-NAME", "DivertRequest by TenantID + ServiceGroupName answers InvalidGroup")
    DIVERT_NAME_WINS_OVER_GROUP_ID = OneOff(
        "DIV-PRECEDENCE-GROUP-ID",
        "DivertRequest resolves TenantID + ServiceGroupName before ServiceGroupID")
    DIVERT_ALLOCATED_INVALID_ID = OneOff(
        "DIV-ALLOCATED", "DivertRequest of an allocated request answers InvalidID")
    DIVERT_RESETS_QUEUE_TIME = OneOff(
        "DIV-KEEPS-QUEUE-TIME", "a diverted request's queue time becomes the time of the divert")
    DIVERT_OVERFLOW_IN_NOT_COUNTED = OneOff(
        "DIV-STATISTICS", "a divert is not counted as Overflowed In at the new group")
    DIVERT_COUNTED_ABANDONED = OneOff(
        "DIV-STATISTICS", "a divert counts as Abandoned, not Overflowed Out, at the old group")
    DIVERT_MISSING_GROUP_INVALID_GROUP = OneOff(
        "DIV-MISSING-GROUP",
        "DivertRequest without any group answers InvalidGroup instead of InvalidDataException")
    DIVERT_NON_OPEN_MEDIA_ACCEPTED = OneOff(
        "DIV-INVALID-GROUP", "DivertRequest toward a group that is not Open Media succeeds")
    DIVERT_CLOSED_GROUP_INVALID_GROUP = OneOff(
        "DIV-GROUP-CLOSED", "DivertRequest toward a closed group answers InvalidGroup")
    DIVERT_DISABLED_TENANT_ACCEPTED = OneOff(
        "DIV-TENANT-DISABLED", "DivertRequest toward a group of a disabled tenant succeeds")
    DIVERT_UNKNOWN_ID_ERROR = OneOff(
        "DIV-UNKNOWN-ID", "DivertRequest of an ID never issued answers Error")
    REFUSED_DIVERT_COUNTS_OVERFLOW = OneOff(
        "DIV-FAILURE-CHANGES-NOTHING",
        "a refused DivertRequest still counts Overflowed Out at the request's group",
        seen_through="statistics")
    DIVERT_ANSWERS_AGENT_LOGGED_OFF = OneOff(
        "DIV-NEVER-AGENT-LOGGED-OFF",
        "DivertRequest toward a preferred-agent group with no agent logged on answers "
        "AgentLoggedOff")

    # ModifyRequest
    MODIFY_QUEUED_RETURNS_FALSE = OneOff(
        "MOD-QUEUED", "ModifyRequest on a queued request applies the change but returns false")
    MODIFY_REPLACE_APPENDS = OneOff(
        "MOD-MERGE-REPLACE",
        "an IVRInformation with a known Label is appended instead of replacing its Data")
    MODIFY_REPLACES_WHOLE_IVR = OneOff(
        "MOD-MERGE-REPLACE", "ModifyRequest replaces the whole IVR data, dropping the other labels")
    MODIFY_NEW_LABEL_DROPPED = OneOff(
        "MOD-MERGE-APPEND", "an IVRInformation with a new Label is dropped")
    MODIFY_PRIVATE_DATA_IGNORED = OneOff(
        "MOD-PRIVATE-DATA", "ModifyRequest leaves PrivateData as it was")
    MODIFY_ALLOCATED_APPLIED = OneOff(
        "MOD-NOT-QUEUED", "ModifyRequest on an allocated request returns true and changes it")
    MODIFY_UNKNOWN_ID_RETURNS_FALSE = OneOff(
        "MOD-UNKNOWN-ID", "ModifyRequest on an ID never issued returns false instead of a fault")

    # SetOptions
    SET_OPTIONS_RETURNS_FALSE = OneOff(
        "OPT-VALID", "a valid SetOptions applies the options but returns false")
    PER_TYPE_OPTION_WITHOUT_TYPE_ACCEPTED = OneOff(
        "OPT-NEEDS-TYPE-OF-SESSION",
        "AgentActionOptions / CloseTabOptions that act per type are accepted without "
        "TypeOfSession")
    MAX_SESSIONS_ALL_TYPES_IGNORED = OneOff(
        "OPT-MAX-SESSIONS", "MaxNumberOfSessions set without TypeOfSession is not applied")
    MAX_SESSIONS_PER_TYPE_FOR_ALL = OneOff(
        "OPT-MAX-SESSIONS-PER-TYPE", "MaxNumberOfSessions set for one type applies to every type")
    ALL_TYPES_SETTING_BEATS_OWN_TYPE = OneOff(
        "OPT-TYPE-ZERO-ALL-TYPES", "an all-types setting wins over a type's own setting")
    DIFFERENT_TYPES_REFUSED_BY_DEFAULT = OneOff(
        "OPT-ALLOW-DIFFERENT-TYPES-DEFAULT",
        "by default an agent busy with one type gets no session of another type")
    DONT_ALLOW_IGNORED = OneOff(
        "OPT-ALLOW-DIFFERENT-TYPES-DONT-ALLOW",
        "routing ignores AllowDifferentTypes Don't Allow set for a type")
    ALLOW_DIFFERENT_TYPES_OF_HELD_SESSION = OneOff(
        "OPT-ALLOW-DIFFERENT-TYPES-INCOMING",
        "AllowDifferentTypes is read for the sessions the agent holds, not the incoming one")
    DONT_ALLOW_ALL_TYPES_IGNORED = OneOff(
        "OPT-ALLOW-DIFFERENT-TYPES-ALL",
        "AllowDifferentTypes set without TypeOfSession is not applied")
    RESET_ALL_OPTIONS_IGNORED = OneOff(
        "OPT-RESET-ALL", "ResetAllOptions leaves the options set before in force")

    # status records
    QUEUED_EVENT_RECORDED_TWICE = OneOff(
        "EVT-EVENT-PER-STATE", "entering Queued records two Queued events")
    RESPONSE_TIMESTAMP_AHEAD = OneOff(
        "EVT-RESPONSE-TIMESTAMP",
        "a status answer's TimeStamp is an hour ahead of the target's clock")
    EVENT_TIMESTAMPS_AN_HOUR_EARLY = OneOff(
        "EVT-EVENT-TIMESTAMP", "event TimeStamps are an hour before the moment the event happened")
    BY_TIME_INCLUSIVE = OneOff(
        "EVT-RETRIEVE-LATER-THAN",
        "GetOpenMediaRequestsByTime returns an event stamped exactly at RetrieveLaterThan")
    RESPONSE_TIMESTAMP_BEFORE_EVENTS = OneOff(
        "EVT-TIMESTAMP-NOT-BEFORE-EVENTS",
        "a status answer's TimeStamp is a second before its latest record")
    BY_TIME_TIMESTAMP_AHEAD = OneOff(
        "EVT-TIMESTAMP-FEEDBACK",
        "GetOpenMediaRequestsByTime's TimeStamp is five seconds ahead, so polling skips events")
    STATUS_RECORD_ID_ZERO = OneOff(
        "EVT-RECORD-ID", "GetOpenMediaRequestStatusByID's record carries ID 0")
    ALLOCATED_RECORD_GROUP_ZERO = OneOff(
        "EVT-SERVICE-GROUP-ID", "AllocatedToAgent records carry ServiceGroupID 0")
    CURRENT_POSITION_AS_QUEUED = OneOff(
        "EVT-QUEUE-POSITION-CURRENT",
        "status by ID and all status report the position at queue time, not the current one")
    HISTORY_POSITION_CURRENT = OneOff(
        "EVT-QUEUE-POSITION-HISTORICAL",
        "history and by-time report the current position in Queued records")
    ALLOCATED_RECORD_KEEPS_POSITION = OneOff(
        "EVT-QUEUE-POSITION-NOT-QUEUED", "AllocatedToAgent records carry QueuePosition 1")
    AGENT_LOGON_ID_MISSING = OneOff(
        "EVT-AGENT-FIELDS", "records with an agent carry an empty LogonID")
    AGENT_TENANT_ID_ZERO = OneOff("EVT-AGENT-FIELDS", "records with an agent carry TenantID 0")
    NO_AGENT_LOGON_ID_ZERO = OneOff(
        "EVT-AGENT-FIELDS-NONE", "records without an agent carry LogonID 0 instead of an empty one")
    STATUS_BY_ID_FIRST_EVENT = OneOff(
        "STA-LATEST",
        "GetOpenMediaRequestStatusByID returns the request's first record, not its latest")
    STATUS_BY_ID_TERMINATED_UNKNOWN = OneOff(
        "STA-TERMINATED-CACHED",
        "status by ID of a terminated request raises InvalidOpenMediaIDFault at once")
    STATUS_BY_ID_UNKNOWN_EMPTY = OneOff(
        "STA-UNKNOWN-ID",
        "GetOpenMediaRequestStatusByID of an ID never issued answers an empty list")
    HISTORY_DROPS_FIRST_EVENT = OneOff(
        "HIS-ALL-EVENTS", "the history leaves out the request's first event")
    HISTORY_INCLUDES_OTHER_REQUESTS = OneOff(
        "HIS-ONLY-THIS-REQUEST",
        "the history returns every request's events after RetrieveLaterThan")
    HISTORY_INCLUSIVE = OneOff(
        "HIS-LATER-THAN", "the history returns an event stamped exactly at RetrieveLaterThan")
    HISTORY_NO_EVENTS_INVALID_USER = OneOff(
        "HIS-NO-EVENTS", "a history with no event after RetrieveLaterThan raises InvalidUserFault")
    HISTORY_UNKNOWN_ID_EMPTY = OneOff(
        "HIS-UNKNOWN-ID", "the history of an ID never issued answers an empty list")
    BY_TIME_OMITS_CANCELLED = OneOff(
        "TIM-ALL-REQUESTS",
        "GetOpenMediaRequestsByTime leaves out the events of cancelled requests")
    BY_TIME_NEWEST_FIRST = OneOff(
        "TIM-ORDER", "GetOpenMediaRequestsByTime returns the events newest first")
    BY_TIME_EMPTY_FAULTS = OneOff(
        "TIM-EMPTY", "GetOpenMediaRequestsByTime with nothing to return raises InvalidUserFault")
    ALL_STATUS_OMITS_TERMINATED = OneOff(
        "ALL-EVERY-REQUEST",
        "GetAllOpenMediaRequestStatus leaves out terminated requests still in the cache")
    ALL_STATUS_EMPTY_FAULTS = OneOff(
        "ALL-EMPTY", "GetAllOpenMediaRequestStatus on an empty cache raises InvalidUserFault")

    # service groups and agents
    GROUP_STATUS_ECHOES_ZERO = OneOff("SGS-OPEN", "GetServiceGroupStatus echoes ServiceGroupID 0")
    GROUP_STATUS_ALWAYS_OPEN = OneOff(
        "SGS-CLOSED", "GetServiceGroupStatus answers Open true for a closed group")
    GROUP_STATUS_NON_OPEN_MEDIA_ANSWERED = OneOff(
        "SGS-INVALID-GROUP", "GetServiceGroupStatus answers for a group that is not Open Media")
    ALL_GROUP_STATUS_INCLUDES_NON_OPEN_MEDIA = OneOff(
        "SGA-TENANT-GROUPS",
        "GetAllOpenMediaServiceGroupStatus lists groups that are not Open Media")
    ALL_GROUP_STATUS_INCLUDES_OTHER_TENANTS = OneOff(
        "SGA-TENANT-GROUPS", "GetAllOpenMediaServiceGroupStatus lists other tenants' groups")
    ALL_GROUP_STATUS_CLOSED_OPEN = OneOff(
        "SGA-CLOSED-GROUP", "GetAllOpenMediaServiceGroupStatus lists a closed group with Open true")
    NON_TENANTED_TENANT_ONE_REFUSED = OneOff(
        "SGA-NON-TENANTED", "in a system without tenants, tenantID 1 raises InvalidDataException")
    ALL_GROUP_STATUS_UNKNOWN_TENANT_EMPTY = OneOff(
        "SGA-INVALID-TENANT",
        "GetAllOpenMediaServiceGroupStatus of an unknown tenant answers an empty list")
    ALL_GROUP_STATUS_DISABLED_TENANT_ANSWERED = OneOff(
        "SGA-DISABLED-TENANT",
        "GetAllOpenMediaServiceGroupStatus of a disabled tenant answers its groups")
    AGENTS_BY_GROUP_ECHOES_ZERO = OneOff("AGT-SHAPE", "GetOMAgentsByGroup echoes ServiceGroupID 0")
    AGENTS_BY_GROUP_NON_OPEN_MEDIA_ANSWERED = OneOff(
        "AGT-NOT-OPEN-MEDIA", "GetOMAgentsByGroup answers for a group that is not Open Media")
    AGENTS_BY_GROUP_LISTS_EVERY_AGENT = OneOff(
        "AGT-CONTENT", "GetOMAgentsByGroup lists every agent of the system")

    # authentication
    AUTH_VALID_REFUSED_FOR_DIVERT = OneOff(
        "AUTH-VALID", "DivertRequest refuses a host administrator's valid headers")
    AUTH_PASSWORD_ALONE_ACCEPTED = OneOff(
        "AUTH-MISSING-HEADER",
        "a Password header without LogonID authenticates when it is an administrator's")
    AUTH_PASSWORD_NOT_CHECKED = OneOff(
        "AUTH-WRONG-PASSWORD", "a known administrator's LogonID authenticates with any Password")
    AUTH_UNKNOWN_USER_ACCEPTED = OneOff(
        "AUTH-UNKNOWN-USER", "an unknown LogonID authenticates with an administrator's Password")
    AUTH_NON_ADMIN_ACCEPTED = OneOff(
        "AUTH-NOT-HOST-ADMINISTRATOR", "a user who is not a host administrator authenticates")
    AUTH_HEADERS_ANY_NAMESPACE = OneOff(
        "AUTH-WRONG-NAMESPACE", "LogonID and Password headers are read in any namespace")
    AUTH_REFUSED_ADD_STILL_ADDED = OneOff(
        "AUTH-REFUSED-CHANGES-NOTHING",
        "an AddRequest refused with InvalidUserFault has added the request")
    AUTH_OFF_HEADERS_CHECKED = OneOff(
        "AUTH-OFF-IGNORED", "with authentication off, wrong headers are refused")

    # error handling
    ROUTER_LOSS_SKIPS_ALLOCATED = OneOff(
        "ERR-ROUTER-LOST-FAILED",
        "router loss leaves allocated and answered requests with their agents, not Failed")
    ROUTER_LOSS_KEEPS_QUEUED = OneOff(
        "ERR-ROUTER-LOST-REMOVED",
        "router loss fails queued requests but leaves them in the queues")
    ROUTER_LOSS_FAILS_TERMINATED = OneOff(
        "ERR-ROUTER-LOST-TERMINATED-KEPT",
        "router loss adds a Failed event to terminated requests too")
    ALL_STATUS_EMPTY_WITHOUT_ROUTER = OneOff(
        "ERR-ROUTER-STATUS-FROM-CACHE",
        "GetAllOpenMediaRequestStatus answers an empty list while the router is lost")
    ROUTER_RECONNECT_REQUEUES_FAILED = OneOff(
        "ERR-ROUTER-RECONNECT", "router reconnection queues the failed requests again")
    NO_LICENSE_BLOCKS_STATUS_QUERIES = OneOff(
        "ERR-LICENSE-QUERIES-UNAFFECTED",
        "without the licence GetAllOpenMediaRequestStatus raises NoLicenseFault")
    LICENSE_LOSS_STICKS_FOR_ADD = OneOff(
        "ERR-LICENSE-RESTORED",
        "once the licence was lost, AddRequest keeps raising NoLicenseFault after it is back")
    RESTART_KEEPS_HISTORY = OneOff(
        "ERR-RESTART-HISTORY-CLEARED",
        "a restart empties queues and agents but keeps the requests and their history")
    RESTART_KEEPS_AGENT_SESSIONS = OneOff(
        "ERR-RESTART-REMOVED", "a restart leaves the agents busy with the sessions they held")

    # data cache
    CACHE_EXPIRES_EARLY = OneOff(
        "CACHE-TERMINATED-EXPIRES",
        "a terminated request leaves the cache a minute before DataExpiration")
    CACHE_EXPIRES_LATE = OneOff(
        "CACHE-TERMINATED-EXPIRES",
        "a terminated request leaves the cache a minute after DataExpiration")
    EXPIRED_ANSWERED_BY_ID = OneOff(
        "CACHE-EXPIRED-BY-ID", "status and history by ID still answer for an aged-out request")
    EXPIRED_LISTED_BY_TIME = OneOff(
        "CACHE-EXPIRED-LEFT-OUT",
        "GetOpenMediaRequestsByTime still returns the events of aged-out requests")
    ACTIVE_REQUESTS_EXPIRE = OneOff(
        "CACHE-ACTIVE-NEVER-EXPIRES", "a queued request expires DataExpiration after it was queued")
    DEFAULT_EXPIRATION_SHORTER = OneOff(
        "CACHE-DEFAULT-EXPIRATION",
        "with the default DataExpiration a terminated request leaves a minute early")
    CONFIGURED_EXPIRATION_IGNORED = OneOff(
        "CACHE-CONFIGURED-EXPIRATION", "a configured DataExpiration is ignored for the default")

    # status lifecycle
    QUEUED_STATUS_UNKNOWN = OneOff(
        "LIFE-QUEUED", "a request that enters the queue is recorded with Status Unknown")
    ALLOCATED_EVENT_NOT_RECORDED = OneOff(
        "LIFE-ALLOCATED", "allocation records no AllocatedToAgent event")
    ANSWER_RECORDS_ALLOCATED = OneOff(
        "LIFE-ANSWERED", "answering records AllocatedToAgent again instead of AgentProcessing")
    COMPLETE_RECORDS_CANCELLED = OneOff(
        "LIFE-COMPLETE", "completing records Cancelled instead of Complete")
    IMMEDIATE_ALLOCATION_QUEUED_LAST = OneOff(
        "LIFE-IMMEDIATE-ALLOCATION",
        "a request allocated at once records AllocatedToAgent before Queued")
    CANCEL_TERMINATED_RECORDS_CANCELLED = OneOff(
        "LIFE-TERMINAL-FINAL",
        "CancelRequest on a terminated request records a Cancelled event before the fault")
    ALLOCATION_RECORDS_PROCESSING = OneOff(
        "LIFE-NO-SKIPPED-STATE", "allocation records AgentProcessing, skipping AllocatedToAgent")
    PREFERRED_TIMEOUT_RECORDS_CANCELLED = OneOff(
        "LIFE-CANCELLED-FROM",
        "a forced request whose preferred agent's time passed records Cancelled, not Failed")
    ROUTER_LOSS_COMPLETES_ANSWERED = OneOff(
        "LIFE-FAILED-FROM", "router loss records Complete, not Failed, for answered requests")
    DIVERT_FROM_AGENT_STAYS_ALLOCATED = OneOff(
        "LIFE-DIVERT-REQUEUES",
        "a request diverted from its agent records AllocatedToAgent, not Queued, at the new group")
    STATUS_UNKNOWN_AFTER_ANSWER = OneOff(
        "LIFE-NO-UNKNOWN", "answering records Status Unknown instead of AgentProcessing")

    # routing model
    ROUTING_IGNORES_MEMBERSHIP = OneOff(
        "ROUTE-MEMBER", "a request goes to any logged-on agent, member of its group or not")
    ROUTING_TO_LOGGED_OFF_AGENT = OneOff(
        "ROUTE-MEMBER", "a request goes to a member agent who is logged off")
    CAPACITY_ONE_OVER = OneOff(
        "ROUTE-CAPACITY", "an agent takes one session more than MaxNumberOfSessions")
    ADD_ALLOCATES_AFTER_REPLY = OneOff(
        "ROUTE-IMMEDIATE-ADD",
        "a request an agent can take is answered as queued and allocated only afterwards")
    LOGON_DOES_NOT_ROUTE = OneOff(
        "ROUTE-IMMEDIATE-LOGON", "an agent logging on takes no queued request")
    COMPLETE_DOES_NOT_ROUTE = OneOff(
        "ROUTE-IMMEDIATE-COMPLETE", "an agent completing a session takes no queued request")
    CANCEL_DOES_NOT_ROUTE = OneOff(
        "ROUTE-IMMEDIATE-CANCEL", "an agent freed by a cancel takes no queued request")
    DIVERT_DOES_NOT_ROUTE = OneOff("ROUTE-IMMEDIATE-DIVERT", "a divert allocates nothing at once")
    SET_OPTIONS_DOES_NOT_ROUTE = OneOff(
        "ROUTE-IMMEDIATE-OPTION-CHANGE", "SetOptions allocates nothing at once")
    QUEUE_LAST_IN_FIRST_OUT = OneOff(
        "ROUTE-QUEUE-ORDER", "a group without session priority queues newest first")
    PRIORITY_IGNORED = OneOff(
        "ROUTE-PRIORITY-ORDER", "routing ignores SessionPriority in a group with session priority")
    PRIORITY_INVERTED = OneOff(
        "ROUTE-PRIORITY-ORDER", "a higher SessionPriority number goes ahead of a lower one")
    NO_PRIORITY_RANKS_FIRST = OneOff(
        "ROUTE-PRIORITY-NOT-GIVEN",
        "a request without SessionPriority ranks ahead of those with one")
    PRIORITY_APPLIED_WITHOUT_GROUP_FLAG = OneOff(
        "ROUTE-PRIORITY-DISABLED",
        "SessionPriority orders the queue of a group without session priority")
    QUEUE_START_TIME_PLACED_LAST = OneOff(
        "ROUTE-QUEUE-START-TIME-ORDER",
        "a request with a valid QueueStartTime is placed at the tail of the queue")
    DIVERTED_PLACED_LAST = OneOff(
        "ROUTE-DIVERTED-ORDER", "a diverted request is placed at the tail of the new group's queue")
    PREFERRED_AGENT_IGNORED = OneOff(
        "ROUTE-PREFERRED-AGENT", "a request that is not forced ignores its preferred agent")
    PREFERRED_UNAVAILABLE_WAITS = OneOff(
        "ROUTE-PREFERRED-FALLBACK", "a request that is not forced waits for its preferred agent")
    PREFERRED_AGENT_STEERS_UNCONFIGURED_GROUP = OneOff(
        "ROUTE-PREFERRED-NOT-CONFIGURED",
        "a preferred agent steers routing in a group without Preferred Agent")
    ROUTING_MOST_SESSIONS_FIRST = OneOff(
        "ROUTE-FEWEST-SESSIONS", "a request goes to the agent holding the most sessions")
    ROUTING_LATEST_FREE_FIRST = OneOff(
        "ROUTE-EARLIEST-FREE", "a request goes to the agent that became free last")
    ROUTING_HIGHEST_ID_FIRST = OneOff(
        "ROUTE-LOWEST-ID",
        "agents freed at once (by a restart) are offered requests highest ID first")

    # concurrency: races made wide enough (RACE_WINDOW_S) that a burst of clients hits them
    ADD_ID_RACE = Race(
        "CONC-ADD-IDS-UNIQUE",
        "AddRequest reads the next OpenMediaID, waits, then stores it: AddRequests arriving "
        "together are handed the same ID (the later one overwrites the earlier)")
    ADD_POSITION_RACE = Race(
        "CONC-ADD-QUEUE-POSITIONS",
        "AddRequest reads its group's queue length, waits, then answers it plus one: AddRequests "
        "arriving together answer the same QueuePosition")
    DIVERT_LOST_UPDATE = Race(
        "CONC-CANCEL-DIVERT-ONE-OUTCOME",
        "DivertRequest reads the request, waits, then moves it without looking again: a "
        "CancelRequest in between answers true and is undone (the request is queued again)")
    MODIFY_LOST_UPDATE = Race(
        "CONC-MODIFY-LABELS-KEPT",
        "ModifyRequest reads the IVR data, waits, then writes its merge of what it read: of "
        "ModifyRequests arriving together only the last one's Label is kept")
    BY_TIME_EVENT_STORED_LATE = Race(
        "CONC-BY-TIME-NO-GAP",
        "CancelRequest stamps its Cancelled event, waits, then stores it: a by-time answer in "
        "between carries a later TimeStamp without it, so a client feeding it back skips it")
    BUSY_HTTP_503 = OneOff(
        "CONC-NO-HTTP-ERROR",
        "a SOAP request arriving while two others are in progress answers HTTP 503 (text)")
    BUSY_UNDECLARED_FAULT = OneOff(
        "CONC-DECLARED-FAULTS-ONLY",
        "a SOAP request arriving while two others are in progress answers a ServerTooBusyFault, "
        "which no operation declares")

    # -- length limits off by one: read by faults.length_limit (engine/validation.py) ----------
    ADD_SERVICE_GROUP_NAME_LIMIT_REFUSED = Length(
        "ADD-LIMIT-SERVICE-GROUP-NAME", _ADD, "ServiceGroupName", -1)
    ADD_SERVICE_GROUP_NAME_OVER_LIMIT_ACCEPTED = Length(
        "ADD-LIMIT-SERVICE-GROUP-NAME", _ADD, "ServiceGroupName", 1)
    ADD_LABEL_LIMIT_REFUSED = Length("ADD-LIMIT-LABEL", _ADD, "Label", -1)
    ADD_LABEL_OVER_LIMIT_ACCEPTED = Length("ADD-LIMIT-LABEL", _ADD, "Label", 1)
    ADD_DATA_LIMIT_REFUSED = Length("ADD-LIMIT-DATA", _ADD, "Data", -1)
    ADD_DATA_OVER_LIMIT_ACCEPTED = Length("ADD-LIMIT-DATA", _ADD, "Data", 1)
    ADD_PRIVATE_DATA_LIMIT_REFUSED = Length("ADD-LIMIT-PRIVATE-DATA", _ADD, "PrivateData", -1)
    ADD_PRIVATE_DATA_OVER_LIMIT_ACCEPTED = Length("ADD-LIMIT-PRIVATE-DATA", _ADD, "PrivateData", 1)
    DIVERT_SERVICE_GROUP_NAME_LIMIT_REFUSED = Length(
        "DIV-LIMIT-SERVICE-GROUP-NAME", _DIV, "ServiceGroupName", -1)
    DIVERT_SERVICE_GROUP_NAME_OVER_LIMIT_ACCEPTED = Length(
        "DIV-LIMIT-SERVICE-GROUP-NAME", _DIV, "ServiceGroupName", 1)
    MODIFY_LABEL_LIMIT_REFUSED = Length("MOD-LIMIT-LABEL", _MOD, "Label", -1)
    MODIFY_LABEL_OVER_LIMIT_ACCEPTED = Length("MOD-LIMIT-LABEL", _MOD, "Label", 1)
    MODIFY_DATA_LIMIT_REFUSED = Length("MOD-LIMIT-DATA", _MOD, "Data", -1)
    MODIFY_DATA_OVER_LIMIT_ACCEPTED = Length("MOD-LIMIT-DATA", _MOD, "Data", 1)
    MODIFY_PRIVATE_DATA_LIMIT_REFUSED = Length("MOD-LIMIT-PRIVATE-DATA", _MOD, "PrivateData", -1)
    MODIFY_PRIVATE_DATA_OVER_LIMIT_ACCEPTED = Length(
        "MOD-LIMIT-PRIVATE-DATA", _MOD, "PrivateData", 1)

    # -- IVRInformation count limits off by one: faults.count_limit (engine/validation.py) -----
    ADD_IVR_COUNT_LIMIT_REFUSED = Count("ADD-LIMIT-IVRINFO-COUNT", _ADD, -1)
    ADD_IVR_COUNT_OVER_LIMIT_ACCEPTED = Count("ADD-LIMIT-IVRINFO-COUNT", _ADD, 1)
    MODIFY_IVR_COUNT_LIMIT_REFUSED = Count("MOD-LIMIT-IVRINFO-COUNT", _MOD, -1)
    MODIFY_IVR_COUNT_OVER_LIMIT_ACCEPTED = Count("MOD-LIMIT-IVRINFO-COUNT", _MOD, 1)

    # -- ranges with one end moved: faults.bend_range (engine/validation.py) --------------------
    ADD_SESSION_PRIORITY_MAX_REFUSED = Range(
        "ADD-RANGE-SESSION-PRIORITY", _ADD, "SessionPriority", Bend.MAX_REFUSED)
    ADD_SESSION_PRIORITY_OVER_MAX_ACCEPTED = Range(
        "ADD-RANGE-SESSION-PRIORITY", _ADD, "SessionPriority", Bend.OVER_MAX)
    ADD_SESSION_PRIORITY_MIN_REFUSED = Range(
        "ADD-RANGE-SESSION-PRIORITY", _ADD, "SessionPriority", Bend.MIN_REFUSED)
    ADD_SESSION_PRIORITY_BELOW_MIN_ACCEPTED = Range(
        "ADD-RANGE-SESSION-PRIORITY", _ADD, "SessionPriority", Bend.BELOW_MIN)
    ADD_TYPE_OF_SESSION_MIN_REFUSED = Range(
        "ADD-RANGE-TYPE-OF-SESSION", _ADD, "TypeOfSession", Bend.MIN_REFUSED)
    ADD_TYPE_OF_SESSION_BELOW_MIN_ACCEPTED = Range(
        "ADD-RANGE-TYPE-OF-SESSION", _ADD, "TypeOfSession", Bend.BELOW_MIN)
    OPTIONS_TYPE_OF_SESSION_MIN_REFUSED = Range(
        "OPT-RANGE-TYPE-OF-SESSION", _OPT, "TypeOfSession", Bend.MIN_REFUSED)
    OPTIONS_TYPE_OF_SESSION_BELOW_MIN_ACCEPTED = Range(
        "OPT-RANGE-TYPE-OF-SESSION", _OPT, "TypeOfSession", Bend.BELOW_MIN)
    OPTIONS_AGENT_ACTION_MAX_REFUSED = Range(
        "OPT-RANGE-AGENT-ACTION-OPTIONS", _OPT, "AgentActionOptions", Bend.MAX_REFUSED)
    OPTIONS_AGENT_ACTION_OVER_MAX_ACCEPTED = Range(
        "OPT-RANGE-AGENT-ACTION-OPTIONS", _OPT, "AgentActionOptions", Bend.OVER_MAX)
    OPTIONS_CLOSE_TAB_MIN_REFUSED = Range(
        "OPT-RANGE-CLOSE-TAB-OPTIONS", _OPT, "CloseTabOptions", Bend.MIN_REFUSED)
    OPTIONS_CLOSE_TAB_OVER_MAX_ACCEPTED = Range(
        "OPT-RANGE-CLOSE-TAB-OPTIONS", _OPT, "CloseTabOptions", Bend.OVER_MAX)
    OPTIONS_ALLOW_DIFFERENT_TYPES_MAX_REFUSED = Range(
        "OPT-RANGE-ALLOW-DIFFERENT-TYPES", _OPT, "AllowDifferentTypes", Bend.MAX_REFUSED)
    OPTIONS_ALLOW_DIFFERENT_TYPES_OVER_MAX_ACCEPTED = Range(
        "OPT-RANGE-ALLOW-DIFFERENT-TYPES", _OPT, "AllowDifferentTypes", Bend.OVER_MAX)
    OPTIONS_SESSION_LINK_MIN_REFUSED = Range(
        "OPT-RANGE-SESSION-LINK-OPTIONS", _OPT, "SessionLinkOptions", Bend.MIN_REFUSED)
    OPTIONS_SESSION_LINK_OVER_MAX_ACCEPTED = Range(
        "OPT-RANGE-SESSION-LINK-OPTIONS", _OPT, "SessionLinkOptions", Bend.OVER_MAX)
    OPTIONS_MAX_SESSIONS_MIN_REFUSED = Range(
        "OPT-RANGE-MAX-NUMBER-OF-SESSIONS", _OPT, "MaxNumberOfSessions", Bend.MIN_REFUSED)
    OPTIONS_MAX_SESSIONS_BELOW_MIN_ACCEPTED = Range(
        "OPT-RANGE-MAX-NUMBER-OF-SESSIONS", _OPT, "MaxNumberOfSessions", Bend.BELOW_MIN)

    # -- operations that skip an admission check: faults.skips (engine/engine.py) --------------
    ADD_IGNORES_LICENSE_LOSS = Admission("ADD-FAULT-NO-LICENSE", Check.LICENSE, "AddRequest")
    CANCEL_IGNORES_LICENSE_LOSS = Admission("CAN-FAULT-NO-LICENSE", Check.LICENSE, "CancelRequest")
    DIVERT_IGNORES_LICENSE_LOSS = Admission("DIV-FAULT-NO-LICENSE", Check.LICENSE, "DivertRequest")
    MODIFY_IGNORES_LICENSE_LOSS = Admission("MOD-FAULT-NO-LICENSE", Check.LICENSE, "ModifyRequest")
    OPTIONS_IGNORES_LICENSE_LOSS = Admission("OPT-FAULT-NO-LICENSE", Check.LICENSE, "SetOptions")
    ADD_IGNORES_ROUTER_LOSS = Admission("ADD-FAULT-ROUTER-DISCONNECTED", Check.ROUTER, "AddRequest")
    CANCEL_IGNORES_ROUTER_LOSS = Admission(
        "CAN-FAULT-ROUTER-DISCONNECTED", Check.ROUTER, "CancelRequest")
    DIVERT_IGNORES_ROUTER_LOSS = Admission(
        "DIV-FAULT-ROUTER-DISCONNECTED", Check.ROUTER, "DivertRequest")
    MODIFY_IGNORES_ROUTER_LOSS = Admission(
        "MOD-FAULT-ROUTER-DISCONNECTED", Check.ROUTER, "ModifyRequest")
    OPTIONS_IGNORES_ROUTER_LOSS = Admission(
        "OPT-FAULT-ROUTER-DISCONNECTED", Check.ROUTER, "SetOptions")
    GROUP_STATUS_IGNORES_ROUTER_LOSS = Admission(
        "SGS-FAULT-ROUTER-DISCONNECTED", Check.ROUTER, "GetServiceGroupStatus")
    ALL_GROUP_STATUS_IGNORES_ROUTER_LOSS = Admission(
        "SGA-FAULT-ROUTER-DISCONNECTED", Check.ROUTER, "GetAllOpenMediaServiceGroupStatus")
    AGENTS_BY_GROUP_IGNORES_ROUTER_LOSS = Admission(
        "AGT-FAULT-ROUTER-DISCONNECTED", Check.ROUTER, "GetOMAgentsByGroup")
    STATUS_BY_ID_SKIPS_AUTHENTICATION = Admission(
        "AUTH-MISSING-HEADER", Check.AUTH, "GetOpenMediaRequestStatusByID")
    AGENTS_BY_GROUP_SKIPS_AUTHENTICATION = Admission(
        "AUTH-MISSING-HEADER", Check.AUTH, "GetOMAgentsByGroup")
    MODIFY_SKIPS_AUTHENTICATION = Admission("AUTH-MISSING-HEADER", Check.AUTH, "ModifyRequest")
