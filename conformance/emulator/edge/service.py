"""One SOAP exchange: decode, admit, call the engine, write the answer.

The only place that knows which engine method serves which operation. Admission (R15, R16) and
the operation run under the engine's lock together, so a router or licence change can never fall
between the check and the work (but for a planted race, ``Engine.racing``: its hook must wait
without the lock). Anything unexpected becomes a ``Server`` fault, never a crash.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from conformance.contract.operations import OPERATION_NAMES
from conformance.emulator.edge import soap_out
from conformance.emulator.edge.soap_in import ClientFault, decode
from conformance.emulator.engine import Engine
from conformance.emulator.engine.errors import INVALID_USER, ServiceFault
from conformance.emulator.engine.model import (
    AddInput,
    CancelInput,
    DivertInput,
    ModifyInput,
    OptionsInput,
    from_wire,
)
from conformance.emulator.faults import Defect

_LOG = logging.getLogger("conformance.emulator")

Handler = Callable[[Engine, dict[str, Any]], Any]


def _request(params: dict[str, Any]) -> dict[str, Any]:
    """The wrapped ``request`` member; nil or absent reads as every member absent."""
    return params.get("request") or {}


HANDLERS: dict[str, Handler] = {
    "AddRequest": lambda e, p: e.add_request(from_wire(AddInput, _request(p))),
    "CancelRequest": lambda e, p: e.cancel_request(from_wire(CancelInput, _request(p))),
    "GetOpenMediaRequestStatusByID": lambda e, p: e.status_by_id(p["openMediaID"]),
    "GetOpenMediaRequestHistoryByID": lambda e, p: e.history_by_id(
        p["openMediaID"], p["retrieveLaterThan"]
    ),
    "GetOpenMediaRequestsByTime": lambda e, p: e.requests_by_time(p["retrieveLaterThan"]),
    "GetAllOpenMediaRequestStatus": lambda e, p: e.all_status(),
    "GetServiceGroupStatus": lambda e, p: e.service_group_status(p["serviceGroupID"]),
    "GetAllOpenMediaServiceGroupStatus": lambda e, p: e.all_service_group_status(p["tenantID"]),
    "SetOptions": lambda e, p: e.set_options(from_wire(OptionsInput, _request(p))),
    "GetOMAgentsByGroup": lambda e, p: e.agents_by_group(p["serviceGroupID"]),
    "DivertRequest": lambda e, p: e.divert_request(from_wire(DivertInput, _request(p))),
    "ModifyRequest": lambda e, p: e.modify_request(from_wire(ModifyInput, _request(p))),
}
if set(HANDLERS) != set(OPERATION_NAMES):  # pragma: no cover - a WSDL change not followed here
    raise RuntimeError(f"emulator handlers {sorted(HANDLERS)} != WSDL {sorted(OPERATION_NAMES)}")


def exchange(engine: Engine, body: bytes, soap_action: str | None) -> tuple[int, bytes]:
    """HTTP status and response body for one POST to the service endpoint."""
    faults = engine.faults
    # implements ROB-KEEPS-SERVING
    if engine.refused_before and Defect.STOPS_SERVING_AFTER_REFUSAL in faults:
        return 500, soap_out.fault("Server", "The service is unavailable.", faults=faults)
    try:
        call = decode(body, soap_action, faults)
    except ClientFault as exc:
        engine.refused_before = True
        # implements ROB-REFUSAL-STATUS
        status = 400 if Defect.REFUSAL_HTTP_400 in faults else 500
        return status, soap_out.fault(exc.code, exc.message, faults=faults)
    try:
        # implements CONC-ADD-IDS-UNIQUE, CONC-CANCEL-DIVERT-ONE-OUTCOME
        with engine.lock if not engine.racing else contextlib.nullcontext():
            try:
                engine.admit(call.operation.name, call.logon_id, call.password)
            except ServiceFault as exc:  # fault hook: the refused call still takes effect
                refused = exc.detail == INVALID_USER and call.operation.name == "AddRequest"
                # implements AUTH-REFUSED-CHANGES-NOTHING
                if Defect.AUTH_REFUSED_ADD_STILL_ADDED in faults and refused:
                    HANDLERS["AddRequest"](engine, call.params)
                raise
            value = HANDLERS[call.operation.name](engine, call.params)
        return 200, soap_out.response(call.operation, value, faults)
    # implements CONC-DECLARED-FAULTS-ONLY
    except ServiceFault as exc:
        # implements WIRE-HTTP-STATUS
        status = 200 if Defect.FAULT_HTTP_200 in faults else 500
        return status, soap_out.typed_fault(exc.detail, exc.message, faults)
    except Exception:
        _LOG.exception("internal error in %s", call.operation.name)
        return 500, soap_out.fault("Server", "The server was unable to process the request.")
