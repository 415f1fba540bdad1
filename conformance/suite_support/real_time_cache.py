"""The data cache in real time: terminate a request, then watch it age out by the wall clock.

On a target whose clock the suite cannot drive (a vendor server: no control plane, or safe
mode) cache expiry (R14) is observed by waiting, on a test system configured with a short
DataExpiration. ``RealTimeCache`` is one process's tier of it. ``start``, called as the
session's tests start, adds two requests to the queue group: one that stays queued (it never
terminates, so it must never expire) and one it cancels at once (so it must expire
DataExpiration after its Cancelled event), and notes on the local monotonic clock when the
CancelRequest was sent and answered. A background thread then asks all four status calls about
both requests at two moments and keeps the raw answers:

* ``PRESENT`` at CancelRequest sent + DataExpiration - margin; it must have ended before
  CancelRequest sent + DataExpiration, the earliest moment the server may drop the request;
* ``GONE`` at CancelRequest answered + DataExpiration + margin: the latest moment the server
  may keep it is behind us, and the queued request is older than DataExpiration + margin.
  After the four calls the thread sends CancelRequest for the aged-out request once more and
  keeps that answer too (CAN-EXPIRED-ID: it must raise InvalidOpenMediaIDFault now, no longer
  the terminated fault); on a conforming server it changes nothing.

Only local moments are compared, so a server clock that is off by any amount does not matter;
the margin (``[target] real_time_margin_s``) absorbs a server that ages its cache out on a timer
rather than at the exact moment, and the time the calls themselves take. The queued request
stays queued until the tier stops as the run ends (``stop`` cancels it): cancelled earlier, it
would move up every request queued behind it in its group, while other tests judge those
requests' places relative to one another (a correct server failed ``expect_unchanged`` so).

Nothing is judged here. The cache tests, which the plugin runs last, ``wait`` for the moment
they judge (only what is left of the wait is added to a run, with a progress line), replay the
tier's exchanges as their own evidence (wire-checked as every answer is) and judge the kept
answers as the clock-driven form judges its own.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from conformance.profile import Profile
from conformance.suite_support.groups import queue_group
from conformance.suite_support.lives import Lived
from conformance.suite_support.requests import add, cancel
from conformance.suite_support.status_queries import CacheReplies, cache_replies
from conformance.verdicts import SuiteError
from conformance.wire import Exchange, OpenMediaClient, Reply

MARGIN_KEY = "[target] real_time_margin_s"
"""Where the margin comes from, as a failure names it."""
SLICE_S = 0.5
"""How long a wait sleeps at a time: a Ctrl-C or a stop is noticed within it."""


class Stage(Enum):
    """The two moments the tier observes, in order."""

    PRESENT = "present"
    """DataExpiration - margin after the CancelRequest: the cancelled request is still there."""
    GONE = "gone"
    """DataExpiration + margin after it: the cancelled request is gone, the queued one is not."""


@dataclass(frozen=True)
class Observation:
    """Both requests as the four status calls answered at one moment of the tier."""

    stage: Stage
    after_s: float
    """When the observation started, in seconds after the CancelRequest was sent."""
    took_s: float
    terminated: CacheReplies
    active: CacheReplies
    cancel_again: Reply | None = None
    """``GONE`` only: CancelRequest of the aged-out request, sent after the four calls."""


@dataclass(frozen=True)
class Created:
    """The tier's two requests and when the CancelRequest left and was answered (monotonic)."""

    active: Lived
    terminated: Lived
    cancel_sent: float
    cancel_answered: float


class RealTimeCache:
    """One process's real-time tier: its requests, its observer thread, what it observed.

    ``om`` is the tier's own client (unchecked: the tests check its exchanges when they replay
    them; in safe mode paced and tracked like every suite client); ``replay`` is how a test
    takes one exchange as its evidence; ``say`` prints a progress line; ``clock`` is the
    monotonic clock (seconds).
    """

    def __init__(
        self,
        om: OpenMediaClient,
        profile: Profile,
        *,
        replay: Callable[[Exchange], None],
        say: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.om = om
        self.profile = profile
        self.expiry_s = profile.data_expiration_minutes * 60.0
        self.margin_s = profile.target.real_time_margin_s
        self._replay = replay
        self._say = say
        self._clock = clock
        self._lock = threading.Condition()
        self._exchanges: list[Exchange] = []
        self._seen: dict[Stage, Observation] = {}
        self._failure: BaseException | None = None
        self._finished = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._left: list[int] = []
        """The tier's requests not (yet) cancelled by it: what ``stop`` cancels."""
        self.created: Created | None = None

    # -- what the client hands over ----------------------------------------------------------
    def log(self, exchange: Exchange) -> None:
        """``on_exchange`` of the tier's client: keep every exchange, in order."""
        with self._lock:
            self._exchanges.append(exchange)

    # -- the session's side ------------------------------------------------------------------
    def start(self) -> None:
        """Add the queued request and the cancelled one, then start the observer thread.

        Anything that goes wrong is kept, not raised: each cache test reports it (a refused
        AddRequest blocks them, an unreachable target is an error), as the clock-driven form
        would have reported it from its own set-up.
        """
        try:
            group = queue_group(self.profile)
            active = add(self.om, group, label="(real-time tier, stays queued)")
            self._left.append(active.oid)
            terminated = add(self.om, group, label="(real-time tier, cancelled)")
            self._left.append(terminated.oid)
            self._expect_queued(terminated.oid)
            sent = self._clock()
            cancel(self.om, terminated.oid, "the real-time tier's request")
            answered = self._clock()
            self._left.remove(terminated.oid)
        except Exception as exc:
            self._fail(exc)
            return
        self.created = Created(
            Lived(active.oid, group, None, ("Queued",), active.queue_position),
            Lived(terminated.oid, group, None, ("Queued", "Cancelled"), terminated.queue_position),
            sent,
            answered,
        )
        self._thread = threading.Thread(
            target=self._observe, name="openmedia-real-time-cache", daemon=True
        )
        self._thread.start()

    def _expect_queued(self, oid: int) -> None:
        records = getattr(self.om.get_status_by_id(oid).value, "requests", ())
        status = records[-1].status if records else None
        if status != "Queued":
            raise SuiteError(
                f"precondition: the real-time tier's request {oid} should be Queued before it "
                f"is cancelled; the target says {status}"
            )

    def made(self) -> Created:
        """The tier's requests (``observations`` has raised first if it could not make them)."""
        if self.created is None:
            raise SuiteError("the real-time cache tier made no requests")
        return self.created

    def due(self, stage: Stage) -> float:
        """The monotonic moment ``stage`` is observed at."""
        created = self.made()
        if stage is Stage.PRESENT:
            return created.cancel_sent + self.expiry_s - self.margin_s
        return created.cancel_answered + self.expiry_s + self.margin_s

    def stop(self) -> None:
        """End the observer (promptly: it sleeps on an event) and cancel the queued request if
        it has not been yet. Never raises: it runs while a run ends, also after Ctrl-C."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(2 * self.om.transport.timeout_s + 1)
            if thread.is_alive():
                return  # still in an exchange: the client is not ours to use meanwhile
        self._cancel_active()

    def _cancel_active(self) -> None:
        """Cancel what the tier added and has not cancelled (the queued request; after an
        interrupt during ``start``, whatever it had added by then). Never raises."""
        while self._left:
            oid = self._left.pop()
            with contextlib.suppress(Exception):
                self.om.cancel_request(OpenMediaID=oid, CancelIfAllocated=True, DoNotReport=True)

    # -- the observer thread -----------------------------------------------------------------
    def _observe(self) -> None:
        created = self.made()
        try:
            for stage in Stage:
                if self._stop.wait(max(0.0, self.due(stage) - self._clock())):
                    return
                began = self._clock()
                terminated = cache_replies(self.om, created.terminated.oid)
                active = cache_replies(self.om, created.active.oid)
                again = None
                if stage is Stage.GONE:
                    again = self.om.cancel_request(
                        OpenMediaID=created.terminated.oid, CancelIfAllocated=True, DoNotReport=True
                    )
                ended = self._clock()
                with self._lock:
                    self._seen[stage] = Observation(
                        stage,
                        began - created.cancel_sent,
                        ended - began,
                        terminated,
                        active,
                        again,
                    )
                    self._lock.notify_all()
        except Exception as exc:
            self._fail(exc)
        finally:
            with self._lock:
                self._finished = True
                self._lock.notify_all()

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            self._failure = exc
            self._finished = True
            self._lock.notify_all()

    # -- the tests' side ---------------------------------------------------------------------
    def observations(self) -> tuple[Observation, Observation]:
        """The ``PRESENT`` and ``GONE`` observations, waiting (with one progress line) until
        both are made, with the tier's exchanges replayed as the calling test's evidence (each
        recorded and wire-checked: a broken answer fails the test as it would any other).

        Raises what went wrong in the tier instead (after replaying what it exchanged); a
        ``SuiteError`` when the ``PRESENT`` observation ended too late to tell anything (a slow
        target or a tight pace: the margin must cover the time the eight calls take).
        """
        told = False
        with self._lock:
            while Stage.GONE not in self._seen and not self._finished:
                left = self.due(Stage.GONE) - self._clock()
                if not told and left > 1:
                    self._say(
                        f"openmedia real-time cache: waiting {left:.0f} s for DataExpiration + "
                        f"margin ({self.expiry_s / 60:g} min + {self.margin_s:g} s, "
                        f"{MARGIN_KEY}) …"
                    )
                    told = True
                self._lock.wait(min(SLICE_S, max(left, 0.01)))
            seen = dict(self._seen)
            failure = self._failure
            exchanges = list(self._exchanges)
        for exchange in exchanges:
            self._replay(exchange)
        if failure is not None:
            raise failure.with_traceback(None)
        if Stage.GONE not in seen or Stage.PRESENT not in seen:
            raise SuiteError("the real-time cache tier stopped before it observed")
        present, gone = seen[Stage.PRESENT], seen[Stage.GONE]
        ended = present.after_s + present.took_s
        if ended >= self.expiry_s:
            raise SuiteError(
                f"the real-time tier's 'present' observation ended {ended:.1f} s after the "
                f"CancelRequest, not before DataExpiration ({self.expiry_s:g} s): the target or "
                f"the pace was too slow for the margin of {self.margin_s:g} s; raise "
                f"{MARGIN_KEY} or max_requests_per_second"
            )
        return present, gone

    def moment(self, seen: Observation) -> str:
        """``34.9 s after the CancelRequest (DataExpiration 1 min - 25 s, ...)``: where in the
        tier an observation was made, for a failure's Expected line."""
        sign = "-" if seen.stage is Stage.PRESENT else "+"
        return (
            f"{seen.after_s:.1f} s after the CancelRequest (DataExpiration "
            f"{self.expiry_s / 60:g} min {sign} margin {self.margin_s:g} s, {MARGIN_KEY})"
        )
