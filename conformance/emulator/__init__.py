"""The reference emulator: a real HTTP server implementing the Open Media Service contract.

A separate application that reads the contract layer only (never wire, checks or suite): the
SOAP interface of our WSDL, readings R1-R20 and control plane v1. ``serve_in_thread`` is for
self-tests and integrators who want an in-process test double; the suite starts it as a process.

Layout: ``engine/`` is the emulated service and the system behind it (no HTTP: ``Engine`` over
``World``, queues, options, statistics, validation, clock, scenario); ``edge/`` is everything
between the socket and the engine (the ASGI app on uvicorn, the SOAP codec, WSDL/XSD serving,
the control plane's HTTP layer); ``faults`` (+ ``fault_table``, the ``Defect`` table) is the
registry of planted defects; ``traceability`` finds what implements a requirement;
``fault_docs`` writes docs/faults.md; ``command`` is the command line. The edge calls the
engine, never the other way round; both read ``faults``.

Requirement tags: code that implements a catalogue requirement says so in a comment on the
line above it (or at its end), ``# implements ID[, ID ...]``, e.g. ``# implements
ADD-LIMIT-LABEL``. Every planted-defect hook carries the tag of its defect's requirement, and
each operation's main implementation the tags of its rules; a self-test keeps them so, and
``traceability.implementations(ID)`` lists them (``openmedia-conformance requirement ID``).
Planted-defect hooks name their defect as ``Defect.NAME`` (see ``faults``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.emulator.edge.server import RunningEmulator, serve_in_thread

__all__ = ["RunningEmulator", "serve_in_thread"]


def __getattr__(name: str) -> Any:
    """Import the server lazily, so ``conformance.emulator.engine`` needs no uvicorn."""
    if name in __all__:
        from conformance.emulator.edge import server

        return getattr(server, name)
    raise AttributeError(name)
