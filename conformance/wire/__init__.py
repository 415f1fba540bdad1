"""The wire layer: build envelopes, send them, capture the exchange, decode the answer.

It imports only the contract layer. Checks import its values (``Exchange``, ``Reply``, the
decoded dataclasses), never its I/O.
"""

from conformance.wire.client import OpenMediaClient
from conformance.wire.control import ControlClient, ControlError
from conformance.wire.credentials import Credentials
from conformance.wire.decode import DecodeError, decode_reply
from conformance.wire.encode import EncodeError, build_envelope
from conformance.wire.exchange import Exchange
from conformance.wire.transport import Transport, TransportError
from conformance.wire.values import (
    AddOpenMediaResponse,
    DivertOpenMediaResponse,
    GetAllServiceGroupStatusResponse,
    GetOMAgentsByGroupResponse,
    GetOpenMediaResponse,
    OpenMediaRequest,
    Reply,
    ServiceGroupStatus,
    SoapFault,
    WireDateTime,
)

__all__ = [
    "AddOpenMediaResponse",
    "ControlClient",
    "ControlError",
    "Credentials",
    "DecodeError",
    "DivertOpenMediaResponse",
    "EncodeError",
    "Exchange",
    "GetAllServiceGroupStatusResponse",
    "GetOMAgentsByGroupResponse",
    "GetOpenMediaResponse",
    "OpenMediaClient",
    "OpenMediaRequest",
    "Reply",
    "ServiceGroupStatus",
    "SoapFault",
    "Transport",
    "TransportError",
    "WireDateTime",
    "build_envelope",
    "decode_reply",
]
