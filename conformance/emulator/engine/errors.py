"""What the engine raises instead of answering: SOAP faults and control-plane refusals.

The engine names a fault by the local name of its detail element (R4); the SOAP layer decides
the namespace and the envelope. Control-plane refusals carry the HTTP status they map to, so the
engine never knows about HTTP and the control handler never guesses.
"""

from __future__ import annotations

INVALID_USER = "InvalidUserFault"
NO_LICENSE = "NoLicenseFault"
ROUTER_DISCONNECTED = "RouterDisconnectedFault"
INVALID_OPEN_MEDIA_ID = "InvalidOpenMediaIDFault"
INVALID_DATA = "InvalidDataException"
REQUEST_TERMINATED = "OpenMediaRequestTerminatedFault"
"""Named by the description, absent from the WSDL: recognised by name (R4)."""


class ServiceFault(Exception):
    """A typed SOAP fault the operation raises; ``detail`` is the detail element's local name."""

    def __init__(self, detail: str, message: str) -> None:
        super().__init__(message)
        self.detail = detail
        self.message = message


class ControlError(Exception):
    """A control-plane call that cannot be done; ``status`` is 400, 404 or 409."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def not_found(what: str) -> ControlError:
    return ControlError(404, f"unknown {what}")


def conflict(why: str) -> ControlError:
    return ControlError(409, why)
