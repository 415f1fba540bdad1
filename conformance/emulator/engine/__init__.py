"""The emulator's engine: the emulated Open Media Service and the system behind it, no HTTP.

``Engine`` (``engine``) carries out the twelve SOAP operations and the control plane under one
lock, over ``World`` (``world``: requests, queues, agents, events, cache expiry and routing).
Beside them: ``queues`` (where a request goes in its group's queue), ``options`` (what
SetOptions leaves behind), ``statistics`` (the report counters), ``validation`` (limits, counts
and ranges of the inputs), ``clock`` (strictly increasing UTC time), ``scenario`` (the
configuration a reset installs), ``model`` (the values operations take and return), ``records``
(the mutable per-request, agent and group state) and ``errors`` (what the engine raises instead
of answering). The edge (``conformance.emulator.edge``) decodes SOAP and HTTP into calls here.
"""

from __future__ import annotations

from conformance.emulator.engine.engine import Engine

__all__ = ["Engine"]
