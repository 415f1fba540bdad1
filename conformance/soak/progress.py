"""The soak's progress line: elapsed and remaining, requests, throughput, latency percentiles,
violations. On a terminal it is rewritten in place a few times a second; elsewhere (a CI log, a
pipe) it is one line every few seconds."""

from __future__ import annotations

import contextlib
import os
import time
from typing import TextIO

from conformance.soak.model import SoakModel
from conformance.soak.stats import SoakStats

TTY_EVERY_S = 0.5
LOG_EVERY_S = 5.0


class Progress:
    """Writes the line to ``out`` (its file descriptor: a signal may arrive mid-write)."""

    def __init__(
        self,
        out: TextIO,
        stats: SoakStats,
        model: SoakModel,
        duration_s: float | None,
        requests: int | None,
        started: float,
    ) -> None:
        self.out = out
        self.stats = stats
        self.model = model
        self.duration_s = duration_s
        self.requests = requests
        self.started = started
        try:
            self.tty = os.isatty(out.fileno())
        except (OSError, ValueError):
            self.tty = False
        self.every_s = TTY_EVERY_S if self.tty else LOG_EVERY_S
        self._shown = started
        self._open = False

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        overall = self.stats.overall()
        done = overall.count
        bound = []
        if self.duration_s is not None:
            bound.append(f"{max(0.0, self.duration_s - elapsed):.0f} s left")
        if self.requests is not None:
            bound.append(f"{max(0, self.requests - done):,} requests left")
        rate = done / elapsed if elapsed > 0 else 0.0
        return (
            f"openmedia soak: {elapsed:5.1f} s ({', '.join(bound)}) | {done:,} requests | "
            f"{rate:,.0f}/s | p50 {overall.percentile(0.5) * 1000:.2f} ms "
            f"p95 {overall.percentile(0.95) * 1000:.2f} ms "
            f"p99 {overall.percentile(0.99) * 1000:.2f} ms | violations {self.model.counted()}"
        )

    def tick(self) -> None:
        """Show the line if it is time."""
        now = time.monotonic()
        if now - self._shown >= self.every_s:
            self._shown = now
            self._write(self.line(), in_place=self.tty)

    def close(self) -> None:
        """End an in-place line, so what follows starts on its own line."""
        if self._open:
            self._write("", in_place=False)

    def say(self, text: str) -> None:
        self._write(text, in_place=False)

    def _write(self, text: str, *, in_place: bool) -> None:
        if in_place:
            data, self._open = f"\r{text}\x1b[K", True
        else:
            data = ("\n" if self._open and text else "") + text + "\n"
            if self._open and not text:
                data = "\n"
            self._open = False
        with contextlib.suppress(OSError, ValueError):
            self.out.flush()
            os.write(self.out.fileno(), data.encode("utf-8", "replace"))
