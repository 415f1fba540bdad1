"""The control plane's operations on the engine: scenario, agents, environment, time.

Refusals are ``ControlError`` (404 unknown id, 409 wrong state); the HTTP mapping is in
``conformance.emulator.control``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from conformance.emulator.clock import format_wire, later
from conformance.emulator.engine_core import EngineCore
from conformance.emulator.errors import conflict, not_found
from conformance.emulator.model import Status
from conformance.emulator.records import RequestRecord
from conformance.emulator.scenario import Scenario
from conformance.emulator.world import World


class ControlOperations(EngineCore):
    def reset(self, scenario: Scenario) -> None:
        with self.lock:
            self._enter()
            self._world.install(scenario)

    def logon(self, agent_id: int) -> None:
        with self.lock:
            world = self._enter()
            agent = world.agents.get(agent_id)
            if agent is None:
                raise not_found(f"agent {agent_id}")
            if not agent.logged_on:
                agent.logged_on = True
                agent.free_order = world.arrival()
                if "logon-does-not-route" not in self.faults:
                    world.route()

    def logoff(self, agent_id: int) -> None:
        with self.lock:
            world = self._enter()
            agent = world.agents.get(agent_id)
            if agent is None:
                raise not_found(f"agent {agent_id}")
            if agent.sessions:
                raise conflict(f"agent {agent_id} holds sessions {agent.sessions}")
            agent.logged_on = False

    def _control_request(self, world: World, open_media_id: int) -> RequestRecord:
        record = world.requests.get(open_media_id)
        if record is None:
            raise not_found(f"request {open_media_id}")
        return record

    def answer(self, open_media_id: int) -> None:
        with self.lock:
            world = self._enter()
            record = self._control_request(world, open_media_id)
            if record.status is not Status.ALLOCATED:
                raise conflict(
                    f"request {open_media_id} is {record.status.value}, not AllocatedToAgent"
                )
            record.answered = True
            answered = Status.PROCESSING
            if "answer-records-allocated" in self.faults:
                answered = Status.ALLOCATED
            world.record(record, answered)

    def complete(self, open_media_id: int) -> None:
        with self.lock:
            world = self._enter()
            record = self._control_request(world, open_media_id)
            if record.status is not Status.PROCESSING:
                raise conflict(
                    f"request {open_media_id} is {record.status.value}, not AgentProcessing"
                )
            world.statistics.group_stay_ended(record.group_id, "completed")
            world.statistics.agent_allocation_ended(record.agent_id, True)
            done = Status.COMPLETE
            if "complete-records-cancelled" in self.faults:
                done = Status.CANCELLED
            world.record(record, done)
            world.release(record)
            if "complete-does-not-route" not in self.faults:
                world.route()

    def request_view(self, open_media_id: int) -> dict[str, Any]:
        """What an agent's desktop would be handed (``GET /control/requests/{id}``)."""
        with self.lock:
            record = self._control_request(self._enter(), open_media_id)
            return {
                "id": record.id,
                "service_group_id": record.group_id,
                "status": record.status.value,
                "agent_id": record.agent_id,
                "ivr_info": [{"label": i.label, "data": i.data} for i in record.ivr_info],
                "private_data": record.private_data,
                "type_of_session": record.type_of_session,
                "session_priority": record.session_priority,
                "queue_time": format_wire(record.queue_time),
            }

    def set_router(self, connected: bool) -> None:
        """R15: losing the router fails every request not yet terminated."""
        f = self.faults
        with self.lock:
            world = self._enter()
            if not connected and world.router_connected:
                for key in sorted(world.requests):
                    record = world.requests[key]
                    if "router-loss-fails-terminated" in f and record.status.terminal:
                        world.record(record, Status.FAILED)
                    if record.status.terminal:
                        continue
                    if "router-loss-skips-allocated" in f and record.status.with_agent:
                        continue
                    failed = Status.FAILED
                    if "router-loss-completes-answered" in f and record.answered:
                        failed = Status.COMPLETE
                    if not ("router-loss-keeps-queued" in f and record.status is Status.QUEUED):
                        world.leave(record)
                    world.record(record, failed)
            if "router-reconnect-requeues-failed" in f and connected and not world.router_connected:
                for key in sorted(world.requests):
                    record = world.requests[key]
                    if record.status is Status.FAILED:
                        world.enqueue(record, world.groups[record.group_id])
            world.router_connected = connected

    def set_license(self, available: bool) -> None:
        with self.lock:
            world = self._enter()
            world.license_available = available
            if "license-loss-sticks-for-add" in self.faults and not available:
                world.license_lost = True

    def set_group_open(self, group_id: int, is_open: bool) -> None:
        with self.lock:
            group = self._enter().groups.get(group_id)
            if group is None:
                raise not_found(f"service group {group_id}")
            group.open = is_open

    def set_tenant_enabled(self, tenant_id: int, enabled: bool) -> None:
        with self.lock:
            world = self._enter()
            if tenant_id not in world.tenants:
                raise not_found(f"tenant {tenant_id}")
            world.tenants[tenant_id] = enabled

    def restart(self) -> None:
        """The service restarts: history cleared, every request removed; IDs keep growing."""
        f = self.faults
        with self.lock:
            world = self._enter()
            kept = (world.requests, world.timeline, world._stamps)
            held = {agent.id: list(agent.sessions) for agent in world.agents.values()}
            world.clear_requests()
            if "restart-keeps-history" in f:
                world.requests, world.timeline, world._stamps = kept
            if "restart-keeps-agent-sessions" in f:
                for agent in world.agents.values():
                    agent.sessions[:] = held[agent.id]
            world.route()

    def now(self) -> datetime:
        with self.lock:
            self._enter()
            return self.clock.read()

    def advance(self, seconds: float) -> datetime:
        """Move the clock; whatever falls due in between happens, at its moment, first."""
        with self.lock:
            world = self._enter()
            target = later(self.clock.peek(), seconds)
            self.clock.advance(seconds)  # refuses (ValueError) before anything happens
            world.catch_up(target)
            world.catch_up(self.clock.peek())
            return self.clock.read()

    def statistics(self) -> dict[str, Any]:
        with self.lock:
            return self._enter().statistics.snapshot()

    def state(self) -> dict[str, Any]:
        with self.lock:
            world = self._enter()
            return {
                "now": format_wire(self.clock.peek()),
                "router_connected": world.router_connected,
                "license_available": world.license_available,
                "authentication_enabled": world.scenario.authentication_enabled,
                "data_expiration_minutes": world.scenario.data_expiration_minutes,
                "next_open_media_id": world.next_id,
                "faults": sorted(self.faults),
                "tenants": [{"id": k, "enabled": v} for k, v in sorted(world.tenants.items())],
                "service_groups": [
                    {
                        "id": g.id,
                        "tenant_id": g.config.tenant_id,
                        "name": g.config.name,
                        "open_media": g.config.open_media,
                        "open": g.open,
                        "preferred_agent": g.config.preferred_agent,
                        "session_priority": g.config.session_priority,
                        "queue": [entry.id for entry in g.queue],
                    }
                    for g in world.groups.values()
                ],
                "agents": [
                    {
                        "id": a.id,
                        "logon_id": a.config.logon_id,
                        "logged_on": a.logged_on,
                        "service_groups": list(a.config.service_groups),
                        "sessions": list(a.sessions),
                    }
                    for a in world.agents.values()
                ],
                "options": world.options.snapshot(),
                "requests": {
                    status.value: sum(1 for r in world.requests.values() if r.status is status)
                    for status in Status
                    if any(r.status is status for r in world.requests.values())
                },
            }
