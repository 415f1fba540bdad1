"""Clients released together (``suite_support.concurrency.together``) keep safe mode's promises.

The Concurrency section sends from several threads at once, so what safe mode promises for one
client must hold across them: the pace is one budget for the whole process (never one per
thread), and every request any of the threads created is in the one ledger for the cleanup. And
the round itself must say the right thing: an HTTP error is judged before the error a client
met decoding it, and a client that never returns is a suite error naming it, not a hang.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from conformance.emulator import RunningEmulator, serve_in_thread
from conformance.emulator.fault_table import Defect
from conformance.safemode.ledger import Ledger
from conformance.safemode.transport import RateLimiter, safe_transport
from conformance.suite_support.concurrency import together
from conformance.verdicts import ConformanceFailure, SuiteError
from conformance.wire import OpenMediaClient
from conformance.wire.values import Reply

CLIENTS = 8
IVR = [{"Label": "Case", "Data": "paced"}]


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with serve_in_thread() as running:
        yield running


def _add_twice(om: OpenMediaClient) -> list[Reply]:
    return [om.add_request(ServiceGroupID=10, IVRInfo=IVR) for _ in range(2)]


def test_threads_share_one_pace_and_one_ledger(emulator: RunningEmulator) -> None:
    """8 clients, 2 AddRequests each, at 40 requests/s: the 16 starts are spread over at least 15
    intervals (one budget, not one per thread), and the ledger holds all 16 IDs."""
    limiter, ledger = RateLimiter(40), Ledger()
    clients = [
        OpenMediaClient(emulator.url, transport=safe_transport(ledger, limiter, 10))
        for _ in range(CLIENTS)
    ]
    start = time.monotonic()
    rounds = together(clients, [_add_twice] * CLIENTS, timeout_s=30)
    elapsed = time.monotonic() - start
    for client in clients:
        client.close()
    ids = {int(reply.value.open_media_id) for pair in rounds for reply in pair}  # type: ignore[union-attr]
    assert elapsed >= 15 * limiter.interval * 0.95
    assert len(ids) == 2 * CLIENTS
    assert set(ledger.created) == ids and set(ledger.pending()) == ids


def test_an_http_error_is_judged_before_the_client_error_it_caused() -> None:
    with serve_in_thread(faults=[Defect.BUSY_HTTP_503]) as server:
        clients = [OpenMediaClient(server.url) for _ in range(CLIENTS)]
        with pytest.raises(ConformanceFailure) as caught:
            together(clients, [_add_twice] * CLIENTS, timeout_s=30)
        for client in clients:
            client.close()
    assert caught.value.requirement == "CONC-NO-HTTP-ERROR"
    assert "HTTP 503" in caught.value.actual


def test_an_action_error_is_raised_after_the_judges_pass(emulator: RunningEmulator) -> None:
    def broken(om: OpenMediaClient) -> None:
        om.get_all_status()
        raise ValueError("the action itself failed")

    with (
        OpenMediaClient(emulator.url) as one,
        OpenMediaClient(emulator.url) as two,
        pytest.raises(ValueError, match="the action itself failed"),
    ):
        together([one, two], [broken, broken], timeout_s=30)


def test_a_client_that_never_returns_is_a_suite_error_naming_it(emulator: RunningEmulator) -> None:
    release = threading.Event()

    def stuck(om: OpenMediaClient) -> None:
        release.wait(5)

    calling = r"1 of 1 clients still calling after 0.2 s \(openmedia-client-1\)"
    with OpenMediaClient(emulator.url) as one, pytest.raises(SuiteError, match=calling):
        together([one], [stuck], timeout_s=0.2)
    release.set()


def test_more_actions_than_clients_is_a_bug_in_the_test(emulator: RunningEmulator) -> None:
    with OpenMediaClient(emulator.url) as one, pytest.raises(ValueError, match="2 actions for 1"):
        together([one], [_add_twice, _add_twice], timeout_s=1)
