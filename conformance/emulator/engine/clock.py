"""The emulator's clock: real UTC plus an offset that only grows.

Every reading is strictly later than the previous one (bumped by one microsecond when real time
has not moved on), so a response's TimeStamp is later than every event it returns and every
event recorded afterwards is later than that TimeStamp: R12 holds by construction. The offset is
what ``POST /control/clock`` grows; it never shrinks, so time never runs backwards.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

UTC = timezone.utc
ONE_MICROSECOND = timedelta(microseconds=1)
NEVER = datetime.max.replace(tzinfo=UTC)
HORIZON = timedelta(days=3660)
"""How far from the end of representable time the clock must stay, so that real time passing
after an ``advance`` can never overflow a reading."""


def later(moment: datetime, seconds: float) -> datetime:
    """``moment`` plus ``seconds``, or ``NEVER`` when that is past the representable end."""
    try:
        return moment + timedelta(seconds=seconds)
    except (OverflowError, ValueError):
        return NEVER


_DATETIME = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(Z|[+-]\d{2}:\d{2})?\s*$"
)


class Clock:
    """Real UTC time plus an offset; readings strictly increase."""

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self._real = now or (lambda: datetime.now(UTC))
        self._offset = timedelta(0)
        self._last = datetime.min.replace(tzinfo=UTC)
        self._lock = threading.Lock()

    def peek(self) -> datetime:
        """The current time without consuming a reading (may equal the last reading)."""
        with self._lock:
            return max(self._real() + self._offset, self._last)

    def read(self) -> datetime:
        """A stamp strictly later than every stamp handed out before."""
        return self.read_at(None)

    def read_at(self, due: datetime | None) -> datetime:
        """A stamp at ``due`` (or now when ``None``), but strictly later than the last stamp.

        Used when something that fell due (a cache expiry, a preferred-agent timeout) is
        processed after its moment: it is stamped with its due time when that is still later
        than every earlier stamp.
        """
        with self._lock:
            moment = self._real() + self._offset if due is None else due
            if moment <= self._last:
                moment = self._last + ONE_MICROSECOND
            self._last = moment
            return moment

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (never backwards)."""
        if not seconds >= 0:
            raise ValueError("the clock never moves backwards")
        with self._lock:
            if later(self._real() + self._offset, seconds) >= NEVER - HORIZON:
                raise ValueError("the clock cannot move that far")
            self._offset += timedelta(seconds=seconds)


def format_wire(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC (R17)."""
    moment = moment.astimezone(UTC)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}."
        f"{moment.microsecond:06d}Z"
    )


def parse_wire(text: str) -> datetime:
    """Parse an ``xs:dateTime`` as DCS does; a value without an offset is taken as UTC.

    Fractions finer than a microsecond are truncated, which keeps "later than" exact for our
    microsecond stamps. Raises ``ValueError`` for anything that is not an xs:dateTime.
    """
    match = _DATETIME.match(text)
    if match is None:
        raise ValueError(f"not an xs:dateTime: {text[:40]!r}")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = (match.group(7) or "")[:6].ljust(6, "0")
    zone = match.group(8)
    if zone is None or zone == "Z":
        offset = timedelta(0)
    else:
        sign = -1 if zone[0] == "-" else 1
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 14 or minutes > 59:
            raise ValueError(f"not a time zone: {zone!r}")
        offset = sign * timedelta(hours=hours, minutes=minutes)
    local = datetime(year, month, day, hour, minute, second, int(fraction))
    try:
        return (local - offset).replace(tzinfo=UTC)
    except OverflowError:
        return (datetime.min if offset > timedelta(0) else datetime.max).replace(tzinfo=UTC)
