"""The planted concurrency defects break only what clients do together, never what one client does.

A race planted in the reference emulator (``Race`` rows: ``add-id-race`` …) and the "too busy"
defects must be invisible to a client that calls one request after another, or the mutation
matrix would prove only that the suite notices a plain bug; and they must show under a burst of
clients released together, or the Concurrency section's kill would be luck. Both halves are
shown here over real HTTP, with the section's own machinery (``suite_support.concurrency``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import pytest

from conformance.emulator import RunningEmulator, serve_in_thread
from conformance.emulator.fault_table import Defect, Race, Row
from conformance.suite_support.concurrency import together
from conformance.verdicts import ConformanceFailure
from conformance.wire import OpenMediaClient
from conformance.wire.values import Reply

BURST = 8
IVR = [{"Label": "Case", "Data": "race"}]


@contextmanager
def _emulator(defect: Row | None) -> Iterator[tuple[RunningEmulator, list[OpenMediaClient]]]:
    with ExitStack() as stack:
        server = stack.enter_context(serve_in_thread(faults=[defect] if defect else []))
        clients = [stack.enter_context(OpenMediaClient(server.url)) for _ in range(BURST)]
        yield server, clients


def _add(om: OpenMediaClient) -> Reply:
    return om.add_request(ServiceGroupID=10, IVRInfo=IVR)


def _ids(replies: list[Reply]) -> list[int]:
    return [int(getattr(reply.value, "open_media_id", 0) or 0) for reply in replies]


def test_the_race_rows_are_the_concurrency_defects() -> None:
    races = {row.name for row in Defect if isinstance(row, Race)}
    assert races == {
        "ADD_ID_RACE", "ADD_POSITION_RACE", "DIVERT_LOST_UPDATE", "MODIFY_LOST_UPDATE",
        "BY_TIME_EVENT_STORED_LATE",
    }  # fmt: skip
    assert all(row.requirement.startswith("CONC-") for row in Defect if isinstance(row, Race))


@pytest.mark.parametrize("defect", [None, Defect.ADD_ID_RACE, Defect.ADD_POSITION_RACE])
def test_one_client_after_another_gets_distinct_ids_and_positions(defect: Row | None) -> None:
    with _emulator(defect) as (_, clients):
        replies = [_add(clients[0]) for _ in range(4)]
        assert _ids(replies) == sorted(set(_ids(replies)))
        assert [getattr(r.value, "queue_position", None) for r in replies] == [1, 2, 3, 4]


def test_a_burst_meets_the_planted_id_race_and_not_the_reference() -> None:
    with _emulator(None) as (_, clients):
        ids = _ids(together(clients, [_add] * BURST, timeout_s=30))
        assert len(set(ids)) == BURST
    with _emulator(Defect.ADD_ID_RACE) as (_, clients):
        ids = _ids(together(clients, [_add] * BURST, timeout_s=30))
        assert len(set(ids)) < BURST


def test_a_burst_meets_the_planted_busy_refusal_and_one_client_never_does() -> None:
    with _emulator(Defect.BUSY_HTTP_503) as (_, clients):
        sequential = [_add(clients[0]) for _ in range(3)]
        assert [r.exchange.status for r in sequential] == [200, 200, 200]
        with pytest.raises(ConformanceFailure, match="HTTP 503") as caught:
            together(clients, [_add] * BURST, timeout_s=30)
        assert caught.value.requirement == "CONC-NO-HTTP-ERROR"


def _modify(label: str) -> Callable[[OpenMediaClient], Reply]:
    return lambda om: om.modify_request(OpenMediaID=1, IVRInfo=[{"Label": label, "Data": "x"}])


@pytest.mark.parametrize(("defect", "kept"), [(None, 3), (Defect.MODIFY_LOST_UPDATE, 2)])
def test_two_modifies_at_once_keep_both_labels_unless_the_lost_update_is_planted(
    defect: Row | None, kept: int
) -> None:
    with _emulator(defect) as (server, clients):
        _add(clients[0])
        together(clients, [_modify("Left"), _modify("Right")], timeout_s=30)
        assert len(server.engine.request_view(1)["ivr_info"]) == kept
