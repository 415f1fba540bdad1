"""The fixtures the section modules share.

``env``: the test's SOAP client and profile, and (fetched only when used) its control plane,
target and unchecked client, as ``suite_support.requests.Env``. ``routing`` and ``world``: what
the routing tests (``test_routing``, ``test_set_options``) act and build worlds with
(``suite_support.routing``).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance.profile import Profile
from conformance.profile.session import TargetSession
from conformance.suite_support.requests import Env
from conformance.suite_support.routing import Routing, Topology, world_factory
from conformance.wire import ControlClient, OpenMediaClient


@pytest.fixture
def env(om: OpenMediaClient, scenario: Profile, request: pytest.FixtureRequest) -> Env:
    return Env(om, scenario, request)


@pytest.fixture
def routing(om: OpenMediaClient, control: ControlClient) -> Routing:
    return Routing(om, control)


@pytest.fixture
def world(make_scenario: Callable[..., Profile], target: TargetSession) -> Callable[..., Topology]:
    """``world(groups, serves, reverse_listing=False)``: a world built from the profile
    (``suite_support.routing.build``)."""
    return world_factory(make_scenario, target.profile)
