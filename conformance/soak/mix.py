"""The soak's random, valid mix of the twelve operations: how often each is drawn, and the
members of a valid call of each in the profile's world.

Only what the profile names is used: AddRequest and DivertRequest go to the open groups of the
profile's tenant, the group queries to its Open Media groups, and nothing names an agent (the
soak cannot know which agents a real server has logged on). SetOptions sends only the values in
force: in safe mode the profile's ``[[overwrite_server_options]]`` (none: SetOptions is not
sent at all, as in a suite run), otherwise the defaults a target set up by the suite runs with.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate
from typing import Any

from conformance.contract.operations import OPERATION_NAMES
from conformance.profile import Group, Profile
from conformance.suite_support.every_operation import options_in_force
from conformance.verdicts import UsageError

ADD = "AddRequest"
CANCEL = "CancelRequest"
DIVERT = "DivertRequest"
MODIFY = "ModifyRequest"
SET_OPTIONS = "SetOptions"
STATUS = "GetOpenMediaRequestStatusByID"
HISTORY = "GetOpenMediaRequestHistoryByID"
BY_TIME = "GetOpenMediaRequestsByTime"
ALL_STATUS = "GetAllOpenMediaRequestStatus"
GROUP_STATUS = "GetServiceGroupStatus"
ALL_GROUPS = "GetAllOpenMediaServiceGroupStatus"
AGENTS = "GetOMAgentsByGroup"

WEIGHTS: dict[str, int] = {
    ADD: 8,
    CANCEL: 6,
    DIVERT: 4,
    MODIFY: 8,
    SET_OPTIONS: 1,
    STATUS: 16,
    HISTORY: 8,
    BY_TIME: 12,
    ALL_STATUS: 2,
    GROUP_STATUS: 14,
    ALL_GROUPS: 11,
    AGENTS: 10,
}
"""Relative frequencies. AddRequest is kept rare enough that the cache (which keeps a cancelled
request DataExpiration minutes) stays listable; GetAllOpenMediaRequestStatus, which answers the
whole cache, is also paced by the runner."""
assert set(WEIGHTS) == set(OPERATION_NAMES), "every WSDL operation has a weight"

SOAK_LABEL = "soak"
"""The one IVR label the soak writes: ModifyRequest replaces it, so the merged set never grows
past what AddRequest sent (MOD-MERGED-OVER-LIMIT is OPEN)."""


@dataclass(frozen=True)
class Mix:
    """The operations this soak sends, with their weights, in the profile's world."""

    profile: Profile
    safe_mode: bool
    open_groups: tuple[Group, ...]
    media_groups: tuple[Group, ...]
    options: tuple[dict[str, int | bool], ...]
    """The SetOptions values it may send (empty: none is sent)."""

    @classmethod
    def of(cls, profile: Profile) -> Mix:
        """The mix for ``profile``; ``UsageError`` when it names no open group to add to."""
        open_groups = profile.groups_with("open")
        if not open_groups:
            raise UsageError(
                f'profile {profile.source}: no [[groups]] entry with role = "open" in tenant '
                f"{profile.tenant.id}: the soak adds its requests to the profile's open groups"
            )
        media = tuple(g for g in profile.groups_with() if g.is_open_media) or open_groups
        safe = profile.target.safe_mode
        if safe:
            options = tuple(entry.request() for entry in profile.overwrite_server_options)
        else:
            options = (options_in_force(profile),)
        return cls(profile, safe, open_groups, media, options)

    @cached_property
    def weights(self) -> dict[str, int]:
        """The operations sent, with their weights (SetOptions only with values to send)."""
        return {op: w for op, w in WEIGHTS.items() if op != SET_OPTIONS or self.options}

    @cached_property
    def _cumulative(self) -> tuple[list[str], list[int]]:
        names = list(self.weights)
        return names, list(accumulate(self.weights.values()))

    @property
    def not_sent(self) -> dict[str, str]:
        """Operations left out of the mix, and why."""
        if self.options:
            return {}
        return {
            SET_OPTIONS: "safe mode: the profile names no [[overwrite_server_options]] "
            "(SetOptions changes the whole server and cannot be undone)"
        }

    def draw(self, rng: random.Random) -> str:
        names, cumulative = self._cumulative
        return rng.choices(names, cum_weights=cumulative)[0]

    # -- valid members --------------------------------------------------------------------
    def add(self, rng: random.Random, text: str) -> tuple[Group, dict[str, Any]]:
        group = rng.choice(self.open_groups)
        ivr = [{"Label": SOAK_LABEL, "Data": text}]
        if rng.random() < 0.25:  # by TenantID + ServiceGroupName (ADD-VALID-BY-GROUP-NAME)
            where: dict[str, Any] = {"TenantID": group.tenant_id, "ServiceGroupName": group.name}
        else:
            where = {"ServiceGroupID": group.id}
        return group, {"request": {**where, "IVRInfo": ivr}}

    def cancel(self, rng: random.Random, oid: int) -> dict[str, Any]:
        do_not_report = True if self.safe_mode else rng.random() < 0.5
        return {
            "request": {
                "OpenMediaID": oid,
                "CancelIfAllocated": rng.random() < 0.75,
                "DoNotReport": do_not_report,
            }
        }

    def divert(self, rng: random.Random, oid: int, current: int) -> tuple[Group, dict[str, Any]]:
        """To another open group than ``current`` (the same one when there is no other)."""
        others = [g for g in self.open_groups if g.id != current] or list(self.open_groups)
        group = rng.choice(others)
        return group, {"request": {"OpenMediaID": oid, "ServiceGroupID": group.id}}

    def modify(self, oid: int, text: str) -> dict[str, Any]:
        return {"request": {"OpenMediaID": oid, "IVRInfo": [{"Label": SOAK_LABEL, "Data": text}]}}

    def set_options(self, rng: random.Random) -> dict[str, Any]:
        return {"request": dict(rng.choice(self.options))}

    def media_group(self, rng: random.Random) -> Group:
        return rng.choice(self.media_groups)
