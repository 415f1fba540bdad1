"""The soak's figures: requests, outcomes and latency per operation, in bounded memory.

Latencies go into a log-scale histogram (1 % wide buckets from 1 µs up), so a soak of hours
holds a few thousand counters, not every sample, and a percentile is exact to within 1 %.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

_STEP = math.log(1.01)


@dataclass
class Histogram:
    """Latencies in 1 % buckets; ``percentile`` answers the bucket's upper edge."""

    buckets: Counter[int] = field(default_factory=Counter)
    count: int = 0
    total_s: float = 0.0
    max_s: float = 0.0

    def add(self, seconds: float) -> None:
        micros = max(seconds * 1e6, 1.0)
        self.buckets[int(math.log(micros) / _STEP)] += 1
        self.count += 1
        self.total_s += seconds
        self.max_s = max(self.max_s, seconds)

    def merge(self, other: Histogram) -> None:
        self.buckets.update(other.buckets)
        self.count += other.count
        self.total_s += other.total_s
        self.max_s = max(self.max_s, other.max_s)

    def percentile(self, fraction: float) -> float:
        """The latency (seconds) that ``fraction`` of the samples do not exceed; 0 if none."""
        if not self.count:
            return 0.0
        rank = max(1, math.ceil(fraction * self.count))
        seen = 0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                return min(math.exp((index + 1) * _STEP) / 1e6, self.max_s)
        return self.max_s

    def figures_ms(self) -> dict[str, float]:
        """p50, p95, p99 and max in milliseconds."""
        return {
            "p50_ms": round(self.percentile(0.50) * 1000, 3),
            "p95_ms": round(self.percentile(0.95) * 1000, 3),
            "p99_ms": round(self.percentile(0.99) * 1000, 3),
            "max_ms": round(self.max_s * 1000, 3),
        }


@dataclass
class OperationStats:
    """One operation's requests: answered normally, with each fault, or not at all."""

    latency: Histogram = field(default_factory=Histogram)
    results: Counter[str] = field(default_factory=Counter)
    """``ok``, ``fault <Name>``, ``RequestStatus <Name>`` (a refusal), ``false``, ``error``."""

    def as_dict(self, elapsed_s: float) -> dict[str, Any]:
        return {
            "requests": self.latency.count,
            "per_s": round(self.latency.count / elapsed_s, 1) if elapsed_s > 0 else 0.0,
            **self.latency.figures_ms(),
            "results": dict(sorted(self.results.items())),
        }


class SoakStats:
    """Every operation's figures, shared by the clients (one lock: a few counter updates)."""

    def __init__(self, operations: tuple[str, ...]) -> None:
        self.operations = {name: OperationStats() for name in operations}
        self._lock = threading.Lock()

    def record(self, operation: str, seconds: float, result: str) -> None:
        with self._lock:
            stats = self.operations[operation]
            stats.latency.add(seconds)
            stats.results[result] += 1

    def overall(self) -> Histogram:
        with self._lock:
            total = Histogram()
            for stats in self.operations.values():
                total.merge(stats.latency)
            return total

    def per_operation(self, elapsed_s: float) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {name: s.as_dict(elapsed_s) for name, s in self.operations.items()}
