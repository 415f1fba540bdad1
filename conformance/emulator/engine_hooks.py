"""Fault hooks of the requests' group resolution, kept out of ``engine`` so that the default
path reads as it did: ``Engine`` calls these only when a planted defect is active.

Each branch is one defect of ``conformance.emulator.faults`` (its name is the string tested);
none of them changes anything when its name is absent.
"""

from __future__ import annotations

from conformance.contract.constraints import CONSTRAINTS
from conformance.emulator.engine_core import EngineCore
from conformance.emulator.model import AddInput, DivertInput, RequestStatus
from conformance.emulator.records import GroupRecord
from conformance.emulator.world import World

_TENANT_NOT_GIVEN = CONSTRAINTS.not_given("AddOpenMediaRequest", "TenantID")


class GroupHooks(EngineCore):
    def _bend_add_group(
        self, world: World, request: AddInput, group: GroupRecord | RequestStatus
    ) -> GroupRecord | RequestStatus:
        """Fault hooks of AddRequest's group resolution (``conformance.emulator.faults``)."""
        f, gid, name = self.faults, request.service_group_id, request.service_group_name
        named = gid <= 0 and request.tenant_id not in _TENANT_NOT_GIVEN and bool(name)
        found = world.groups.get(gid)
        if "add-by-name-refused" in f and named:
            return RequestStatus.INVALID_GROUP
        if "add-closed-group-invalid-group" in f and group is RequestStatus.GROUP_CLOSED:
            return RequestStatus.INVALID_GROUP
        if "add-disabled-tenant-group-closed" in f and group is RequestStatus.TENANT_DISABLED:
            return RequestStatus.GROUP_CLOSED
        if group is not RequestStatus.INVALID_GROUP:
            return group
        if "add-unknown-group-id-error" in f and gid > 0 and found is None:
            return RequestStatus.ERROR
        if "add-non-open-media-group-accepted" in f and found and not found.config.open_media:
            return found
        if "add-answers-invalid-id" in f:
            return RequestStatus.INVALID_ID
        candidates = [g for g in world.groups.values() if g.config.open_media and g.open]
        if "add-name-ignores-tenant" in f and named:
            return next((g for g in candidates if g.config.name == name), group)
        if "add-no-group-uses-first-group" in f and gid <= 0 and not named and candidates:
            return candidates[0]
        return group

    def _bend_divert_group(
        self, world: World, request: DivertInput, group: GroupRecord | RequestStatus
    ) -> GroupRecord | RequestStatus:
        """Fault hooks of DivertRequest's group resolution (``conformance.emulator.faults``)."""
        f = self.faults
        found = self._find_group(
            world, request.service_group_id, request.tenant_id, request.service_group_name
        )
        if "divert-by-name-invalid-group" in f and request.service_group_id <= 0:
            return RequestStatus.INVALID_GROUP
        if "divert-closed-group-invalid-group" in f and group is RequestStatus.GROUP_CLOSED:
            return RequestStatus.INVALID_GROUP
        if found is None:
            return group
        if "divert-non-open-media-accepted" in f and not found.config.open_media:
            return found
        if "divert-disabled-tenant-accepted" in f and group is RequestStatus.TENANT_DISABLED:
            return found
        return group
