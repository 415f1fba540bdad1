"""Where a request goes in its group's queue (control plane routing model, item 2).

A queue is a list kept in order by insertion, because the description speaks of insertion: a
SessionPriority "allows sessions to be added to the queue ahead of existing sessions with lower
priority", and a QueueStartTime places the session "based on the queue time". Rules:

- no ``session_priority`` on the group: earliest queue time first (ties: arrival order);
- with it, a request that gave a SessionPriority (and no QueueStartTime) goes ahead of every
  entry with a higher number and of every entry without one; queue time breaks ties;
- a request that gave none ranks after every request that gave one, by queue time;
- a request that gave a QueueStartTime is placed by queue time alone.
"""

from __future__ import annotations

import contextlib

from conformance.emulator.engine.records import GroupRecord, RequestRecord
from conformance.emulator.faults import NONE, Defect, Planted


def _prioritised(group: GroupRecord, faults: Planted) -> bool:
    """Whether the group orders by SessionPriority (two fault hooks bend it)."""
    # implements ROUTE-PRIORITY-ORDER
    if Defect.PRIORITY_IGNORED in faults:
        return False
    # implements ROUTE-PRIORITY-DISABLED
    return group.config.session_priority or Defect.PRIORITY_APPLIED_WITHOUT_GROUP_FLAG in faults


def _rank(group: GroupRecord, request: RequestRecord, faults: Planted = NONE) -> int | None:
    starts = request.gave_queue_start_time
    # implements ADD-PRECEDENCE-QUEUE-START-TIME
    if Defect.SESSION_PRIORITY_BEATS_QUEUE_START_TIME in faults:
        starts = False
    if _prioritised(group, faults) and not starts:
        rank = request.session_priority or None
        # implements ROUTE-PRIORITY-NOT-GIVEN
        if Defect.NO_PRIORITY_RANKS_FIRST in faults and rank is None:
            return 0
        # implements ROUTE-PRIORITY-ORDER
        return -rank if Defect.PRIORITY_INVERTED in faults and rank else rank
    return None


# implements ROUTE-QUEUE-ORDER, ROUTE-PRIORITY-ORDER, CONC-ADD-QUEUE-POSITIONS
def insert(group: GroupRecord, request: RequestRecord, faults: Planted = NONE) -> int:
    """Put ``request`` into ``group``'s queue; returns its 1-based position.

    ``faults``: planted defects (``conformance.emulator.faults``) that bend the placement.
    """
    queue = group.queue
    index = _slot(group, request, faults)
    # implements ROUTE-QUEUE-ORDER
    if Defect.QUEUE_LAST_IN_FIRST_OUT in faults and not _prioritised(group, faults):
        index = 0
    # implements ROUTE-QUEUE-START-TIME-ORDER
    if Defect.QUEUE_START_TIME_PLACED_LAST in faults and request.gave_queue_start_time:
        index = len(queue)
    # implements ROUTE-DIVERTED-ORDER
    if Defect.DIVERTED_PLACED_LAST in faults and request.events:
        index = len(queue)
    queue.insert(index, request)
    return index + 1


def _slot(group: GroupRecord, request: RequestRecord, faults: Planted) -> int:
    queue = group.queue
    if not queue:
        return 0
    last = queue[-1]
    if not _prioritised(group, faults):
        # The queue is sorted by queue time: new requests (queue time = now) go last.
        if last.queue_time <= request.queue_time:
            return len(queue)
        return _first_later(queue, 0, request, rank_none_only=False, group=group)
    if (
        request.gave_queue_start_time
        # implements ADD-PRECEDENCE-QUEUE-START-TIME
        and Defect.SESSION_PRIORITY_BEATS_QUEUE_START_TIME not in faults
    ):
        return _first_later(queue, 0, request, rank_none_only=False, group=group)
    rank = _rank(group, request, faults)
    if rank is not None:
        for index, entry in enumerate(queue):
            other = _rank(group, entry, faults)
            if (
                other is None
                or other > rank
                or (other == rank and entry.queue_time > request.queue_time)
            ):
                return index
        return len(queue)
    # No SessionPriority: after every entry that gave one, then by queue time. The tail after
    # the last such entry is in queue-time order, so a request of "now" goes last at once.
    if _rank(group, last, faults) is not None or last.queue_time <= request.queue_time:
        return len(queue)
    start = 0
    for index, entry in enumerate(queue):
        if _rank(group, entry, faults) is not None:
            start = index + 1
    return _first_later(queue, start, request, rank_none_only=True, group=group, faults=faults)


def _first_later(
    queue: list[RequestRecord],
    start: int,
    request: RequestRecord,
    *,
    rank_none_only: bool,
    group: GroupRecord,
    faults: Planted = NONE,
) -> int:
    for index in range(start, len(queue)):
        entry = queue[index]
        if rank_none_only and _rank(group, entry, faults) is not None:
            continue
        if entry.queue_time > request.queue_time:
            return index
    return len(queue)


def position(group: GroupRecord, request: RequestRecord) -> int:
    """1-based position of a queued request (0 when it is not in this queue).

    Records compare by identity (``eq=False``), so ``list.index`` finds this very record, in C:
    a status call on a long queue is not a Python loop over it.
    """
    try:
        return group.queue.index(request) + 1
    except ValueError:
        return 0


def remove(group: GroupRecord, request: RequestRecord) -> None:
    """Take ``request`` out of ``group``'s queue (nothing when it is not there)."""
    with contextlib.suppress(ValueError):
        group.queue.remove(request)
