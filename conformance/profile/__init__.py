"""The target profile: what the suite must know about a target that the wire cannot tell it.

``model`` is the vocabulary (frozen dataclasses, the cross-checks), ``loading`` reads a TOML file
strictly; the names a test or the plugin needs are handed on here.
"""

from conformance.profile.loading import bundled_profile, load_profile
from conformance.profile.model import (
    CONTROL_FEATURES,
    ROLES,
    SAFE_MODE_RATE,
    Agent,
    Auth,
    Group,
    Profile,
    ServerOptions,
    TargetInfo,
    Tenant,
    describe_options,
)

__all__ = [
    "CONTROL_FEATURES",
    "ROLES",
    "SAFE_MODE_RATE",
    "Agent",
    "Auth",
    "Group",
    "Profile",
    "ServerOptions",
    "TargetInfo",
    "Tenant",
    "bundled_profile",
    "describe_options",
    "load_profile",
]
