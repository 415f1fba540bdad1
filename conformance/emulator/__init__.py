"""The reference emulator: a real HTTP server implementing the Open Media Service contract.

A separate application that reads the contract layer only (never wire, checks or suite): the
SOAP interface of our WSDL, readings R1-R20 and control plane v1. ``serve_in_thread`` is for
self-tests and integrators who want an in-process test double; the suite starts it as a process.

Modules: ``engine`` (+ ``engine_core``, ``engine_status``, ``engine_control``: the operations,
locked) over ``world`` (state and transitions), ``queues``,
``options``, ``statistics``, ``validation``, ``clock``, ``scenario``, ``model``, ``records``;
``soap_in``/``soap_out``/``service`` (the SOAP codec and dispatch), ``control`` (control plane),
``metadata`` (WSDL/XSD serving), ``app`` (ASGI), ``server`` (uvicorn), ``command`` (CLI),
``faults`` (fault-flag registry).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.emulator.server import RunningEmulator, serve_in_thread

__all__ = ["RunningEmulator", "serve_in_thread"]


def __getattr__(name: str) -> Any:
    """Import the server lazily, so ``conformance.emulator.engine`` needs no uvicorn."""
    if name in __all__:
        from conformance.emulator import server

        return getattr(server, name)
    raise AttributeError(name)
