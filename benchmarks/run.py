"""``python -m benchmarks.run``: every figure of issue 7 from one run on this machine.

Prints each measurement and each goal (met / not met), the soak's among them
(``benchmarks.soak``), and writes ``reports/benchmarks/latest.json`` and a timestamped copy.
Ratios are measured side by side in this one run, because the machine is shared and absolute
times drift between runs. The matrix takes minutes: ``--skip-matrix`` carries the last measured
value forward, marked as such.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import datetime, timezone
from typing import Any

from benchmarks import load, overhead, soak, suite_run
from benchmarks.servers import ROOT

OUT_DIR = ROOT / "reports" / "benchmarks"


def _goals(r: dict[str, Any]) -> list[tuple[str, bool | None, str]]:
    serial, parallel = r["full_run"], r["full_run_n2"]
    emu, cache, matrix, soaked = r["emulator_load"], r["cache_expiry"], r["matrix"], r["soak"]
    slowest = min(emu["add_request"]["per_s"], emu["status_by_id"]["per_s"])
    worst_floor = min(emu["add_over_floor"], emu["status_over_floor"])
    call = cache["call_s"]
    return [
        ("full run <= 30 s", serial["wall_s"] <= 30, f"{serial['wall_s']} s"),
        ("full run -n 2 <= 20 s", parallel["wall_s"] <= 20, f"{parallel['wall_s']} s"),
        (
            "client overhead <= 2x raw POST (median, worst operation)",
            r["client_overhead"]["median_ratio_max"] <= 2,
            f"{r['client_overhead']['median_ratio_max']}x",
        ),
        ("emulator >= 50% of the floor", worst_floor >= 0.5, f"{worst_floor:.0%}"),
        ("emulator >= 2,000 exchanges/s", slowest >= 2000, f"{slowest:,.0f}/s"),
        ("30-minute expiry proven in < 1 s", call is not None and call < 1, f"{call} s (call)"),
        (
            "matrix < 5 min",
            None if matrix.get("wall_s") is None else matrix["wall_s"] < 300,
            f"{matrix.get('wall_s')} s{' (carried forward)' if matrix.get('carried_from') else ''}",
        ),
        (
            "soak, 8 clients: zero violations (short rounds and 60 s)",
            soaked["violations"] == 0,
            f"{soaked['violations']} violations; {soaked['soak']['per_s']:,.0f}/s = "
            f"{soaked['soak_over_floor']:.0%} of the floor, p99 "
            f"{soaked['soak_p99_over_floor_p99']}x the floor's",
        ),
        (
            "soak sustains its throughput for 60 s (>= 80% of the short rounds')",
            soaked["sustained_over_soak"] >= 0.8,
            f"{soaked['sustained']['per_s']:,.0f}/s over 60 s = "
            f"{soaked['sustained_over_soak']:.0%} of {soaked['soak']['per_s']:,.0f}/s",
        ),
    ]


def _last_matrix() -> dict[str, Any]:
    latest = OUT_DIR / "latest.json"
    try:
        previous = json.loads(latest.read_text())
    except (OSError, ValueError):
        return {"wall_s": None, "skipped": True, "note": "never measured on this checkout"}
    matrix = dict(previous.get("matrix", {}))
    matrix.setdefault("carried_from", previous.get("started"))
    matrix["skipped"] = True
    return matrix


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--skip-matrix",
        action="store_true",
        help="do not run the mutation matrix; carry its last figure forward",
    )
    parser.add_argument(
        "--load-requests",
        type=int,
        default=1000,
        help="requests per load client per round (default 1000)",
    )
    args = parser.parse_args(argv)
    started = datetime.now(timezone.utc)
    results: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    steps = [
        ("full_run", lambda: suite_run.full_run()),
        ("full_run_n2", lambda: suite_run.full_run(2)),
        ("full_run_no_allure", lambda: suite_run.full_run(allure=False)),
        ("client_overhead", overhead.measure),
        ("emulator_load", lambda: load.measure(per_client=args.load_requests)),
        ("cache_expiry", suite_run.cache_expiry),
        ("soak", soak.measure),
        ("matrix", _last_matrix if args.skip_matrix else suite_run.matrix),
    ]
    for name, step in steps:
        begun = time.perf_counter()
        print(f"-- {name} ...", flush=True)
        results[name] = step()
        print(
            json.dumps(results[name], indent=1),
            f"({time.perf_counter() - begun:.1f} s)",
            flush=True,
        )
    results["memory"] = {
        "suite_peak_rss_mib": results["full_run"]["peak_rss_mib_largest_process"],
        "suite_n2_peak_rss_mib": results["full_run_n2"]["peak_rss_mib_largest_process"],
        "emulator_under_load_peak_rss_mib": results["emulator_load"]["emulator_peak_rss_mib"],
    }
    goals = _goals(results)
    results["goals"] = [{"goal": g, "met": met, "measured": m} for g, met, m in goals]
    print("\nGoals:")
    for goal, met, measured in goals:
        verdict = "met" if met else ("not measured" if met is None else "NOT MET")
        print(f"  {verdict:>12}  {goal}: {measured}")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=2) + "\n"
    (OUT_DIR / "latest.json").write_text(text)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    (OUT_DIR / f"benchmark-{stamp}.json").write_text(text)
    print(f"\nwritten: {OUT_DIR / 'latest.json'} and benchmark-{stamp}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
