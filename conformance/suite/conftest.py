"""The ``env`` fixture the section modules share: the test's SOAP client, profile and (fetched
only when used) control plane, as ``request_support.Env``.

A module whose tests need more (a raw client, a target) defines an ``env`` of its own, which
pytest prefers to this one.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.profile import Profile
from conformance.suite_support.request_steps import Env


@pytest.fixture
def env(om: Any, scenario: Profile, request: pytest.FixtureRequest) -> Env:
    return Env(om, scenario, request)
