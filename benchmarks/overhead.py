"""Item 2: the suite's cost per SOAP exchange over a bare ``http.client`` POST of the same bytes.

Ours is build + send + capture + decode + ``check_exchange`` through ``OpenMediaClient``; raw is
``http.client`` posting the envelope ours would build, on a kept-alive connection. Both go to
the same emulator process and run in alternating batches of ten (the method of the former timed
self-test, which this replaces), so a busy moment hurts both; the median batch of each counts,
the fastest batch is kept beside it.
"""

from __future__ import annotations

import http.client
import json
import re
import statistics
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from benchmarks import servers
from conformance.checks import check_exchange
from conformance.contract import namespaces as ns
from conformance.contract.paths import fixtures_dir
from conformance.wire import ControlClient, OpenMediaClient
from conformance.wire.encode import build_envelope

BATCH = 10
ROUNDS = 30
IVR = {"Label": "L", "Data": "D"}


def _cases(first_id: int) -> list[tuple[str, dict[str, Any]]]:
    return [
        (
            "AddRequest",
            {"request": {"ServiceGroupID": 11, "IVRInfo": [{"Label": "L", "Data": "D"}]}},
        ),
        ("GetOpenMediaRequestStatusByID", {"openMediaID": first_id}),
        ("GetServiceGroupStatus", {"serviceGroupID": 10}),
        ("GetAllOpenMediaRequestStatus", {}),
    ]


def _batches(actions: dict[str, Callable[[], None]], rounds: int) -> dict[str, list[float]]:
    per_call: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(rounds):
        for name, action in actions.items():
            start = time.perf_counter()
            for _ in range(BATCH):
                action()
            per_call[name].append((time.perf_counter() - start) / BATCH)
    return per_call


def measure(rounds: int = ROUNDS) -> dict[str, object]:
    """Per operation: median and best µs per exchange, ours and raw, and their ratios."""
    results: dict[str, object] = {}
    with servers.emulator() as emu:
        parts = urlsplit(emu.url)
        raw_conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=5)
        soap = OpenMediaClient(emu.url, timeout_s=5)
        try:
            for op, params in _cases(1):
                first_id = _reset_and_seed(emu.url)  # each case meets five requests, as tests do
                if "openMediaID" in params:
                    params = {"openMediaID": first_id}
                results[op] = _one(op, params, soap, raw_conn, parts.path, rounds)
        finally:
            raw_conn.close()
            soap.close()
    ratios = [r["median_ratio"] for r in results.values()]  # type: ignore[index]
    return {
        "operations": results,
        "median_ratio_max": max(ratios),
        "batch": BATCH,
        "rounds": rounds,
    }


def _one(
    op: str,
    params: dict[str, Any],
    soap: OpenMediaClient,
    raw_conn: http.client.HTTPConnection,
    path: str,
    rounds: int,
) -> dict[str, float]:
    body = build_envelope(op, params)
    headers = {"Content-Type": ns.SOAP11_CONTENT_TYPE, "SOAPAction": f'"{ns.soap_action(op)}"'}

    def raw() -> None:
        raw_conn.request("POST", path, body, headers)
        response = raw_conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{op}: raw POST answered {response.status}")

    def ours() -> None:
        reply = soap.call(op, params)
        check_exchange(reply.exchange, op)

    _batches({"raw": raw, "ours": ours}, 2)  # warm-up
    per_call = _batches({"raw": raw, "ours": ours}, rounds)
    med = {k: statistics.median(v) for k, v in per_call.items()}
    best = {k: min(v) for k, v in per_call.items()}
    return {
        "ours_median_us": round(med["ours"] * 1e6, 1),
        "raw_median_us": round(med["raw"] * 1e6, 1),
        "median_ratio": round(med["ours"] / med["raw"], 2),
        "best_ratio": round(best["ours"] / best["raw"], 2),
    }


def _reset_and_seed(url: str) -> int:
    """The demo scenario with five requests in the cache; the first one's ID."""
    control = ControlClient(url.replace(ns.SERVICE_PATH, ns.CONTROL_PATH), timeout_s=5)
    control.reset(json.loads((fixtures_dir() / "scenarios" / "demo.json").read_text()))
    control.close()
    with OpenMediaClient(url) as seeding:
        replies = [
            seeding.add_request(ServiceGroupID=10, IVRInfo=[{"Label": "L", "Data": "D"}])
            for _ in range(5)
        ]
    found = re.search(rb"OpenMediaID>(\d+)<", replies[0].exchange.response_body)
    return int(found.group(1)) if found else 1


if __name__ == "__main__":
    print(json.dumps(measure(rounds=10), indent=1))
