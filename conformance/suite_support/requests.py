"""Steps that create and place Open Media requests on a target, shared by the suite's modules."""

from __future__ import annotations

DEFAULT_IVR: tuple[dict[str, str], ...] = ({"Label": "Case", "Data": "conformance"},)
"""The IVR item every request the suite adds carries unless a test needs its own."""
