"""Issue 14 item 4: the soak's figures (8 clients: throughput, p99, violations) beside the
raw-HTTP floor, measured in one run and reported as ratios; and whether the soak sustains that
throughput for 60 s with zero violations.

The soak is ``openmedia-conformance soak`` as a user runs it (a child process, the emulator by
URL with its own profile), its figures read from its ``--json``. The floor is ``load``'s: the
emulator's HTTP stack answering a constant body, loaded by 8 client processes on kept-alive
connections. Short soak rounds and floor rounds alternate, each soak round from a reset
emulator, so a noisy neighbour hurts both alike; the median round of each counts. Then one soak
of ``sustained_s`` seconds (60 by default) from a reset emulator: its throughput over the short
rounds' says whether the soak holds its pace as the cache grows.

``python -m benchmarks.soak`` runs this step alone and writes
``reports/benchmarks/soak-latest.json``; ``python -m benchmarks.run`` includes it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import load, servers
from benchmarks.servers import ROOT
from conformance.contract.paths import fixtures_dir
from conformance.plugin.embedded import _child_env

CLIENTS = 8
PROFILE = fixtures_dir() / "profiles" / "emulator.toml"


def soak_once(url: str, seconds: float, clients: int = CLIENTS, seed: int = 1) -> dict[str, Any]:
    """One ``openmedia-conformance soak`` of ``url`` for ``seconds``; its JSON figures."""
    with tempfile.TemporaryDirectory() as folder:
        figures = Path(folder) / "soak.json"
        command = [
            sys.executable, "-m", "conformance.cli", "soak", "--om-target-url", url,
            "--om-profile", str(PROFILE), "--duration", f"{seconds:g}s",
            "--clients", str(clients), "--seed", str(seed), "--json", str(figures),
        ]  # fmt: skip
        done = subprocess.run(
            command, cwd=folder, env=_child_env(), capture_output=True, text=True,
            timeout=seconds + 120,
        )  # fmt: skip
        if not figures.exists():
            shown = f"exit {done.returncode}:\n{done.stdout}{done.stderr}"
            raise RuntimeError(f"the soak wrote no figures ({shown})")
        result: dict[str, Any] = json.loads(figures.read_text())
    return result


def _soak_figures(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "per_s": result["per_s"],
        "p50_ms": result["latency_ms"]["p50_ms"],
        "p99_ms": result["latency_ms"]["p99_ms"],
        "requests": result["requests"],
        "elapsed_s": result["elapsed_s"],
        "violations": result["violation_count"],
        "exit_status": result["exit_status"],
    }


def measure(
    rounds: int = 3,
    round_s: float = 10.0,
    sustained_s: float = 60.0,
    floor_per_client: int = 1000,
) -> dict[str, Any]:
    """Soak rounds and floor rounds alternating, then one sustained soak; figures and ratios."""
    add = load.add_body()
    soaks: list[dict[str, Any]] = []
    floors: list[load.LoadResult] = []
    with servers.emulator() as emu:
        with servers.floor(load._answer_size(emu.url, add)) as flr:
            load.load(flr.url, "AddRequest", [[add] * 50] * CLIENTS)  # warm up
            for _ in range(rounds):
                bodies = [[add] * floor_per_client] * CLIENTS
                floors.append(load.load(flr.url, "AddRequest", bodies))
                load._reset(emu.url)
                soaks.append(_soak_figures(soak_once(emu.url, round_s)))
        load._reset(emu.url)
        sustained = _soak_figures(soak_once(emu.url, sustained_s))
    floor = sorted(floors, key=lambda r: r.per_s)[len(floors) // 2]
    soak = sorted(soaks, key=lambda r: r["per_s"])[len(soaks) // 2]
    return {
        "clients": CLIENTS,
        "round_s": round_s,
        "rounds": rounds,
        "floor": {
            "per_s": round(floor.per_s, 1),
            "p50_ms": round(floor.p50_ms, 3),
            "p99_ms": round(floor.p99_ms, 3),
            "rounds_per_s": [round(r.per_s, 1) for r in floors],
        },
        "soak": {**soak, "rounds_per_s": [r["per_s"] for r in soaks]},
        "soak_over_floor": round(soak["per_s"] / floor.per_s, 3),
        "soak_p99_over_floor_p99": round(soak["p99_ms"] / floor.p99_ms, 1),
        "violations": sum(r["violations"] for r in soaks) + sustained["violations"],
        "sustained": {**sustained, "seconds": sustained_s},
        "sustained_over_soak": round(sustained["per_s"] / soak["per_s"], 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--round-seconds", type=float, default=10.0)
    parser.add_argument("--sustained-seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    result = measure(args.rounds, args.round_seconds, args.sustained_seconds)
    text = json.dumps(result, indent=2)
    print(text)
    out = ROOT / "reports" / "benchmarks" / "soak-latest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
