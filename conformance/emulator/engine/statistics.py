"""The report counters of control plane v1 (``GET /control/statistics``).

They are written the way a contact centre's reports are: when a request's stay in a group ends
(abandoned, completed, overflowed out) the group counts it as offered plus its outcome, and when
its allocation to an agent ends the agent counts it as offered (and answered if it was). So
DoNotReport can still suppress a queued request's statistics at cancel time, and "offered to the
agent but not answered" is one record. Overflowed In is counted when the divert happens. A
request that fails (router lost, preferred-agent timeout) or is wiped by a restart reports
nothing: it was neither abandoned by the customer nor handled.
"""

from __future__ import annotations

from collections.abc import Iterable

GROUP_COUNTERS = ("offered", "abandoned", "completed", "overflowed_in", "overflowed_out")
AGENT_COUNTERS = ("offered", "answered")


class Statistics:
    def __init__(self, group_ids: Iterable[int], agent_ids: Iterable[int]) -> None:
        self._groups = {gid: dict.fromkeys(GROUP_COUNTERS, 0) for gid in group_ids}
        self._agents = {aid: dict.fromkeys(AGENT_COUNTERS, 0) for aid in agent_ids}

    def group_stay_ended(self, group_id: int, outcome: str) -> None:
        """A request left ``group_id`` as ``outcome`` (abandoned/completed/overflowed_out)."""
        counters = self._groups[group_id]
        counters["offered"] += 1
        counters[outcome] += 1

    def overflowed_in(self, group_id: int) -> None:
        self._groups[group_id]["overflowed_in"] += 1

    def agent_allocation_ended(self, agent_id: int, answered: bool) -> None:
        counters = self._agents[agent_id]
        counters["offered"] += 1
        if answered:
            counters["answered"] += 1

    def snapshot(self) -> dict[str, dict[str, dict[str, int]]]:
        return {
            "service_groups": {str(k): dict(v) for k, v in sorted(self._groups.items())},
            "agents": {str(k): dict(v) for k, v in sorted(self._agents.items())},
        }
