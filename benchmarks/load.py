"""Item 3: emulator throughput and latency under concurrent loopback clients, beside the floor.

Load comes from separate processes (``multiprocessing``), each with one kept-alive
``http.client`` connection, so the load generator's GIL is not the bottleneck. All workers start
together on a barrier; each sends a fixed number of requests (every loop bounded) and records the
latency of each. Throughput is all requests over the span from the first start to the last end.
Each emulator round starts from a reset (the demo scenario, an empty cache), so a round's
GetOpenMediaRequestStatusByID meets the queue its AddRequest round built (clients x requests
entries) and not one that grows with the number of rounds.
The emulator and the floor are loaded in alternating rounds, so that a noisy neighbour hurts
both alike; the median round of each counts.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from benchmarks import servers
from conformance.contract import namespaces as ns
from conformance.contract.paths import fixtures_dir
from conformance.wire import ControlClient
from conformance.wire.encode import build_envelope

_ID = re.compile(rb"<(?:\w+:)?OpenMediaID>(\d+)<")
BARRIER_TIMEOUT_S = 30.0


def add_body() -> bytes:
    params = {"request": {"ServiceGroupID": 11, "IVRInfo": [{"Label": "L", "Data": "D"}]}}
    return build_envelope("AddRequest", params)


def status_body(open_media_id: int) -> bytes:
    return build_envelope("GetOpenMediaRequestStatusByID", {"openMediaID": open_media_id})


def _headers(op: str) -> dict[str, str]:
    return {"Content-Type": ns.SOAP11_CONTENT_TYPE, "SOAPAction": f'"{ns.soap_action(op)}"'}


def _worker(url: str, op: str, bodies: list[bytes], barrier, out) -> None:  # type: ignore[no-untyped-def]
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    headers = _headers(op)
    conn.connect()
    latencies: list[float] = []
    ids: list[int] = []
    errors = 0
    barrier.wait(BARRIER_TIMEOUT_S)
    start = time.perf_counter()
    for body in bodies:
        t0 = time.perf_counter()
        conn.request("POST", parts.path, body, headers)
        response = conn.getresponse()
        data = response.read()
        latencies.append(time.perf_counter() - t0)
        if response.status != 200:
            errors += 1
        elif op == "AddRequest":
            found = _ID.search(data)
            if found:
                ids.append(int(found.group(1)))
    end = time.perf_counter()
    conn.close()
    out.put((start, end, latencies, ids, errors))


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    per_s: float
    p50_ms: float
    p99_ms: float
    ids: tuple[int, ...]


def load(url: str, op: str, bodies_per_worker: list[list[bytes]]) -> LoadResult:
    """Each worker posts its bodies on one connection; all start together."""
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(len(bodies_per_worker))
    out = ctx.Queue()
    workers = [
        ctx.Process(target=_worker, args=(url, op, bodies, barrier, out))
        for bodies in bodies_per_worker
    ]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(30)
    latencies = sorted(x for r in results for x in r[2])
    span = max(r[1] for r in results) - min(r[0] for r in results)
    return LoadResult(
        requests=len(latencies),
        errors=sum(r[4] for r in results),
        per_s=len(latencies) / span,
        p50_ms=1000 * latencies[len(latencies) // 2],
        p99_ms=1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        ids=tuple(i for r in results for i in r[3]),
    )


def _summary(results: list[LoadResult]) -> dict[str, Any]:
    """The round with the median throughput, and how far the rounds spread."""
    ordered = sorted(results, key=lambda r: r.per_s)
    mid = ordered[len(ordered) // 2]
    return {
        "per_s": round(mid.per_s, 1),
        "p50_ms": round(mid.p50_ms, 3),
        "p99_ms": round(mid.p99_ms, 3),
        "requests_per_round": mid.requests,
        "errors": sum(r.errors for r in results),
        "rounds_per_s": [round(r.per_s, 1) for r in results],
    }


def measure(clients: int = 4, per_client: int = 1000, rounds: int = 3) -> dict[str, object]:
    """AddRequest and GetOpenMediaRequestStatusByID on the emulator, the floor between them."""
    add = add_body()
    adds: list[LoadResult] = []
    statuses: list[LoadResult] = []
    floors: list[LoadResult] = []
    with servers.emulator() as emu:
        probe = load(emu.url, "AddRequest", [[add]])  # the size of a typical answer
        with servers.floor(_answer_size(emu.url, add)) as flr:
            load(flr.url, "AddRequest", [[add] * 50] * clients)  # warm both up
            load(emu.url, "AddRequest", [[add] * 50] * clients)
            for _ in range(rounds):
                floors.append(load(flr.url, "AddRequest", [[add] * per_client] * clients))
                _reset(emu.url)  # every round starts from the demo scenario, an empty cache
                result = load(emu.url, "AddRequest", [[add] * per_client] * clients)
                adds.append(result)
                ids = list(result.ids) or list(probe.ids)
                chunks = [
                    [status_body(ids[(c * per_client + i) % len(ids)]) for i in range(per_client)]
                    for c in range(clients)
                ]
                statuses.append(load(emu.url, "GetOpenMediaRequestStatusByID", chunks))
        emulator_rss = emu.peak_rss_mib()
    add_s, status_s, floor_s = _summary(adds), _summary(statuses), _summary(floors)
    return {
        "clients": clients,
        "requests_per_client_per_round": per_client,
        "rounds": rounds,
        "add_request": add_s,
        "status_by_id": status_s,
        "floor": floor_s,
        "add_over_floor": round(add_s["per_s"] / floor_s["per_s"], 3),
        "status_over_floor": round(status_s["per_s"] / floor_s["per_s"], 3),
        "emulator_peak_rss_mib": None if emulator_rss is None else round(emulator_rss, 1),
    }


def _reset(url: str) -> None:
    control = ControlClient(url.replace(ns.SERVICE_PATH, ns.CONTROL_PATH), timeout_s=10)
    try:
        control.reset(json.loads((fixtures_dir() / "scenarios" / "demo.json").read_text()))
    finally:
        control.close()


def _answer_size(url: str, body: bytes) -> int:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        conn.request("POST", parts.path, body, _headers("AddRequest"))
        return len(conn.getresponse().read())
    finally:
        conn.close()


if __name__ == "__main__":
    print(measure(per_client=200, rounds=1))
