"""Several clients calling a target at the same moment: the Concurrency section's machinery.

``together`` runs one action per client, each in its own thread with its own
``OpenMediaClient`` (the ``om_clients`` fixture: checked, recorded, and in safe mode paced by the
run's one shared pace), all released by one barrier so that their first calls leave together.
Every exchange the clients made is kept, and judged before anything else (no HTTP error under
concurrency, ``conformance.checks.concurrency``); only then is an action's own error raised, so
a target that answers HTTP 503 to a burst is failed for that, not for what the client could not
decode. The judgements of what the clients saw are ``conformance.checks.concurrency``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar, cast

from conformance.checks.concurrency import expect_http_answers
from conformance.verdicts import SuiteError
from conformance.wire import Exchange, OpenMediaClient

CLIENTS = 8
"""How many clients call at once: enough to overlap on any server, few enough for a paced run."""

START_TIMEOUT_S = 30.0
"""How long the clients wait for one another at the barrier (threads that cannot start)."""

_T = TypeVar("_T")

Judge = Callable[[Sequence[Exchange]], None]


def no_http_error(exchanges: Sequence[Exchange]) -> None:
    """The judgement every concurrent round gets first (CONC-NO-HTTP-ERROR)."""
    expect_http_answers(exchanges, "CONC-NO-HTTP-ERROR")


class Round:
    """The exchanges the clients of one round made, in the order they were made."""

    def __init__(self, clients: Sequence[OpenMediaClient]) -> None:
        self.clients = list(clients)
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        for client in self.clients:
            client.on_exchange = self._keeping(client.on_exchange)

    def _keeping(self, then: Callable[[Exchange], None] | None) -> Callable[[Exchange], None]:
        def keep(exchange: Exchange) -> None:
            with self._lock:  # kept first: the wire check after it may raise
                self.exchanges.append(exchange)
            if then is not None:
                then(exchange)

        return keep

    def made(self) -> list[Exchange]:
        """Every exchange so far, oldest first."""
        with self._lock:
            return list(self.exchanges)


def together(
    clients: Sequence[OpenMediaClient],
    actions: Sequence[Callable[[OpenMediaClient], _T]],
    *,
    timeout_s: float,
    judges: Sequence[Judge] = (no_http_error,),
) -> list[_T]:
    """Run ``actions[i]`` with ``clients[i]``, each in its own thread, released together; their
    results in order. ``judges`` see every exchange first; then the first action's error is
    raised; a thread still running after ``timeout_s`` is a ``SuiteError``."""
    if len(actions) > len(clients):
        raise ValueError(f"{len(actions)} actions for {len(clients)} clients")
    round_ = Round(clients[: len(actions)])
    barrier = threading.Barrier(len(actions))
    results: list[_T | None] = [None] * len(actions)
    errors: list[BaseException | None] = [None] * len(actions)

    def run(index: int) -> None:
        try:
            barrier.wait(START_TIMEOUT_S)
            results[index] = actions[index](round_.clients[index])
        except BaseException as exc:  # handed to the test's thread below
            errors[index] = exc

    threads = [
        threading.Thread(target=run, args=(i,), name=f"openmedia-client-{i + 1}", daemon=True)
        for i in range(len(actions))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout_s)
    stuck = [thread.name for thread in threads if thread.is_alive()]
    exchanges = round_.made()
    if stuck:
        raise SuiteError(
            f"{len(stuck)} of {len(threads)} clients still calling after {timeout_s:g} s "
            f"({', '.join(stuck)}): the target does not answer concurrent calls in time"
        )
    for judge in judges:
        judge(exchanges)
    for error in errors:
        if error is not None:
            raise error
    return cast("list[_T]", results)  # every action returned: none raised
