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

_NO_FAULTS: frozenset[str] = frozenset()


def _prioritised(group: GroupRecord, faults: frozenset[str]) -> bool:
    """Whether the group orders by SessionPriority (two fault hooks bend it)."""
    if "priority-ignored" in faults:
        return False
    return group.config.session_priority or "priority-applied-without-group-flag" in faults


def _rank(
    group: GroupRecord, request: RequestRecord, faults: frozenset[str] = _NO_FAULTS
) -> int | None:
    starts = request.gave_queue_start_time
    if "session-priority-beats-queue-start-time" in faults:
        starts = False
    if _prioritised(group, faults) and not starts:
        rank = request.session_priority or None
        if "no-priority-ranks-first" in faults and rank is None:
            return 0
        return -rank if "priority-inverted" in faults and rank else rank
    return None


def insert(group: GroupRecord, request: RequestRecord, faults: frozenset[str] = _NO_FAULTS) -> int:
    """Put ``request`` into ``group``'s queue; returns its 1-based position.

    ``faults``: planted defects (``conformance.emulator.faults``) that bend the placement.
    """
    queue = group.queue
    index = _slot(group, request, faults)
    if "queue-last-in-first-out" in faults and not _prioritised(group, faults):
        index = 0
    if "queue-start-time-placed-last" in faults and request.gave_queue_start_time:
        index = len(queue)
    if "diverted-placed-last" in faults and request.events:
        index = len(queue)
    queue.insert(index, request)
    return index + 1


def _slot(group: GroupRecord, request: RequestRecord, faults: frozenset[str]) -> int:
    queue = group.queue
    if not queue:
        return 0
    last = queue[-1]
    if not _prioritised(group, faults):
        # The queue is sorted by queue time: new requests (queue time = now) go last.
        if last.queue_time <= request.queue_time:
            return len(queue)
        return _first_later(queue, 0, request, rank_none_only=False, group=group)
    if request.gave_queue_start_time and "session-priority-beats-queue-start-time" not in faults:
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
    faults: frozenset[str] = _NO_FAULTS,
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
