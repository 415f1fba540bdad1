"""The exchange log of a suite run: per test, its verdict, requirements and exchanges, compact.

What ``openmedia-conformance compare`` reads to say where two runs differ (two servers on one
profile, two releases of one server). Every suite run that writes results writes one, by default
``reports/exchanges.jsonl.gz`` beside ``reports/allure-results`` (``--om-exchange-log FILE``
elsewhere, also with ``--om-no-allure``, which otherwise writes none; ``--om-exchange-log none``
not at all).

The format is gzip-compressed JSON lines, one object per line, each with a ``record`` key:

* ``run`` (first): ``format`` (:data:`LOG_FORMAT`), ``version`` (:data:`LOG_VERSION`), the suite
  version, when the run started, its Hypothesis seed, the profile, the command line (masked);
* ``process``: one per pytest process that ran tests (each xdist worker): the target's service
  and control URLs;
* ``test``: one per test, of its last attempt (``attempt``: how many it had; a test re-run
  after a failure, ``plugin.reruns``, shows its earlier attempts in the console, JUnit and
  Allure; a reader takes the record with the highest ``attempt``): its ID as every output spells it
  (``conformance/suite/test_x.py::test_y[...]``), verdict (:class:`Verdict`'s value), the
  requirement IDs it cites, the requirement a failure named, whether Hypothesis drove it, the
  number of exchanges it made and each of them in order.

An exchange is its number within the test (from 1, as the Allure attachments number it), its
operation (or method and path), whether it went to the service or to the control plane, the
HTTP status, and the request and response bodies exactly as the Allure attachments show them
(``attachments.shown_body``: every password ``***``, a body cut at 512 KiB). A test keeps at
most its latest 5,000 exchanges (32 MiB of bodies) whole while it runs (``Evidence``); of older
ones only the note survives (operation, status, outcome; ``"kept": false``), as in its compact
record.

Under xdist each worker writes its own part (``FILE.gw0.part``), a complete gzip stream; the
controller writes the run record and appends the parts when the session ends (gzip members
concatenate into one valid file), so the log is one file whatever ``-n`` was.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from conformance.reporting.attachments import ExchangeNote, exchange_name, outcome, shown_body
from conformance.verdicts import UsageError, Verdict

if TYPE_CHECKING:
    from conformance.wire import Exchange

LOG_FORMAT = "openmedia-exchange-log"
LOG_VERSION = 1
"""Raised when a reader could no longer read an older log; a new key alone needs no new version
(readers ignore keys they do not know)."""
LOG_NAME = "exchanges.jsonl.gz"
DEFAULT_LOG = Path("reports") / LOG_NAME
"""Where a suite run writes its log, relative to the folder it runs in."""
PART_SUFFIX = ".part"
MAX_MESSAGE = 2000
"""A failure's message is kept up to this many characters (the exchanges are the evidence)."""


class ExchangeKind(str, Enum):
    """Where an exchange went: the service under test, or the control plane driving it."""

    SERVICE = "service"
    CONTROL = "control"


@dataclass(frozen=True)
class LoggedExchange:
    """One exchange of a test as the log keeps it (bodies masked and bounded)."""

    number: int
    what: str
    kind: ExchangeKind
    status: int
    reason: str
    outcome: str
    request: str = ""
    response: str = ""
    kept: bool = True
    """False: the test made too many exchanges to keep this one whole; only its note is left."""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "n": self.number,
            "what": self.what,
            "kind": self.kind.value,
            "status": self.status,
            "reason": self.reason,
            "outcome": self.outcome,
        }
        if self.kept:
            data["request"] = self.request
            data["response"] = self.response
        else:
            data["kept"] = False
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LoggedExchange:
        return cls(
            number=int(data["n"]),
            what=str(data["what"]),
            kind=ExchangeKind(data.get("kind", ExchangeKind.SERVICE.value)),
            status=int(data["status"]),
            reason=str(data.get("reason", "")),
            outcome=str(data.get("outcome", "")),
            request=str(data.get("request", "")),
            response=str(data.get("response", "")),
            kept=bool(data.get("kept", True)),
        )


@dataclass(frozen=True)
class LoggedTest:
    """One attempt of a test: what it was, how it ended, what it exchanged."""

    test: str
    verdict: Verdict
    requirements: tuple[str, ...] = ()
    failed_requirement: str | None = None
    """The requirement a ``ConformanceFailure`` named (a fail or a warning), if any."""
    message: str | None = None
    hypothesis: bool = False
    attempt: int = 1
    count: int = 0
    exchanges: tuple[LoggedExchange, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "record": "test",
            "test": self.test,
            "verdict": self.verdict.value,
            "requirements": list(self.requirements),
            "attempt": self.attempt,
            "count": self.count,
            "exchanges": [exchange.to_json() for exchange in self.exchanges],
        }
        if self.failed_requirement is not None:
            data["failed_requirement"] = self.failed_requirement
        if self.message is not None:
            data["message"] = self.message
        if self.hypothesis:
            data["hypothesis"] = True
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LoggedTest:
        return cls(
            test=str(data["test"]),
            verdict=Verdict(data["verdict"]),
            requirements=tuple(str(r) for r in data.get("requirements", ())),
            failed_requirement=data.get("failed_requirement"),
            message=data.get("message"),
            hypothesis=bool(data.get("hypothesis", False)),
            attempt=int(data.get("attempt", 1)),
            count=int(data.get("count", 0)),
            exchanges=tuple(LoggedExchange.from_json(e) for e in data.get("exchanges", ())),
        )


@dataclass(frozen=True)
class RunRecord:
    """The run as a whole: enough to say which two runs a comparison is about."""

    suite_version: str
    started: str
    seed: str | None = None
    profile: str | None = None
    command: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "record": "run",
            "format": LOG_FORMAT,
            "version": LOG_VERSION,
            "suite_version": self.suite_version,
            "started": self.started,
            "seed": self.seed,
            "profile": self.profile,
            "command": self.command,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        return cls(
            suite_version=str(data.get("suite_version", "")),
            started=str(data.get("started", "")),
            seed=None if data.get("seed") is None else str(data["seed"]),
            profile=data.get("profile"),
            command=data.get("command"),
        )


def process_record(service_url: str, control_url: str | None, worker: str | None) -> dict[str, Any]:
    """The ``process`` record a writer starts its part with."""
    return {"record": "process", "service": service_url, "control": control_url, "worker": worker}


# -- writing --------------------------------------------------------------------------------------
def _where(exchange: Exchange, control_url: str | None) -> ExchangeKind:
    if control_url and exchange.url.startswith(control_url):
        return ExchangeKind.CONTROL
    return ExchangeKind.SERVICE


def _without_origin(what: str) -> str:
    """``POST http://host:port/path?q`` → ``POST /path?q``: the origin differs by run."""
    method, _, url = what.partition(" ")
    if not url.startswith(("http://", "https://")):
        return what
    parts = urlsplit(url)
    return f"{method} {parts.path}" + (f"?{parts.query}" if parts.query else "")


def logged_exchanges(
    exchanges: Sequence[Exchange],
    first_kept: int,
    notes: Iterable[ExchangeNote],
    redact: Callable[[str], str],
    *,
    control_url: str | None,
) -> tuple[LoggedExchange, ...]:
    """A test's exchanges as the log keeps them: the notes of those no longer kept whole
    (numbered before ``first_kept``), then each kept one with its bodies masked and bounded."""
    older = [
        LoggedExchange(
            n.number,
            _without_origin(n.what),
            ExchangeKind.CONTROL if n.what.startswith("control ") else ExchangeKind.SERVICE,
            n.status,
            n.reason,
            n.outcome,
            kept=False,
        )
        for n in notes
        if n.number < first_kept
    ]
    kept = []
    for number, exchange in enumerate(exchanges, start=first_kept):
        request = shown_body(exchange.redacted_request_body(), exchange, redact)
        response = shown_body(exchange.response_body, exchange, redact)
        kept.append(
            LoggedExchange(
                number,
                _without_origin(exchange_name(exchange)),
                _where(exchange, control_url),
                exchange.status,
                exchange.reason,
                outcome(exchange),
                request.decode("utf-8", errors="replace"),
                response.decode("utf-8", errors="replace"),
            )
        )
    return (*older, *kept)


def cut_message(message: str | None) -> str | None:
    if message is None or len(message) <= MAX_MESSAGE:
        return message
    return message[:MAX_MESSAGE] + f" ... ({len(message) - MAX_MESSAGE} more characters)"


class PartWriter:
    """One process's part of the log: a gzip stream of JSON lines, flushed test by test (a run
    stopped hard keeps what its finished tests wrote)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: gzip.GzipFile | None = gzip.GzipFile(path, "wb", compresslevel=3)

    def write(self, record: dict[str, Any]) -> None:
        if self._file is None:
            return
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        self._file.write(line.encode("utf-8"))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def part_path(log: Path, worker: str | None) -> Path:
    """Where a process writes its part of ``log`` (``FILE.main.part``, ``FILE.gw0.part``)."""
    return log.with_name(f"{log.name}.{worker or 'main'}{PART_SUFFIX}")


def stale_parts(log: Path) -> list[Path]:
    """Parts of ``log`` left in its folder (by a run that ended before assembling them)."""
    if not log.parent.is_dir():
        return []
    return sorted(log.parent.glob(f"{log.name}.*{PART_SUFFIX}"))


def assemble(log: Path, run: RunRecord, parts: Iterable[Path]) -> None:
    """The log: the run record, then every part's bytes (gzip members concatenate); the parts
    are removed. Written to a temporary name first, so a reader never sees half a log."""
    log.parent.mkdir(parents=True, exist_ok=True)
    partial = log.with_name(f".{log.name}.writing")
    with partial.open("wb") as out:
        header = json.dumps(run.to_json(), ensure_ascii=False) + "\n"
        out.write(gzip.compress(header.encode("utf-8")))
        for part in parts:
            with part.open("rb") as data:
                while chunk := data.read(1 << 20):
                    out.write(chunk)
    partial.replace(log)
    for part in parts:
        part.unlink(missing_ok=True)


# -- reading --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExchangeLog:
    """A run's log as read: the run, its targets, and each test's last attempt."""

    path: Path
    run: RunRecord
    services: tuple[str, ...] = ()
    """The service URL each process tested (one, unless xdist workers had targets of their own)."""
    controls: tuple[str, ...] = ()
    tests: dict[str, LoggedTest] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    """How many attempts of each test the log holds (more than one: it was re-run)."""


def find_log(path: Path) -> Path:
    """The log a path names: the file itself, a folder holding ``exchanges.jsonl.gz`` (a
    ``reports`` folder), or an Allure results folder with the log beside it. ``UsageError``
    saying what was looked for otherwise."""
    if path.is_file():
        return path
    if not path.exists():
        raise UsageError(
            f"{path}: no such file or folder (give a run's reports folder or its {LOG_NAME})"
        )
    if not path.is_dir():
        raise UsageError(f"{path}: not a file or folder")
    candidates = [path / LOG_NAME]
    if (path / "categories.json").exists() or any(path.glob("*-result.json")):
        candidates.append(path.parent / LOG_NAME)  # an Allure results folder: the log beside it
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = " or ".join(str(c) for c in candidates)
    raise UsageError(
        f"{path}: no exchange log in it (looked for {looked}); a suite run writes one to "
        f"reports/{LOG_NAME} unless --om-exchange-log none was given, and an older suite "
        "version wrote none"
    )


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as stream:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise UsageError(
                        f"{path}: line {number} is not JSON ({exc.msg}): not an exchange log, "
                        "or a damaged one"
                    ) from None
                if not isinstance(data, dict):
                    raise UsageError(f"{path}: line {number} is not a JSON object")
                yield number, data
    except (gzip.BadGzipFile, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise UsageError(
            f"{path}: not a readable gzip file ({type(exc).__name__}: {exc or 'cut short'}); "
            "an exchange log is gzip-compressed JSON lines, written when a run ends"
        ) from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def read_log(path: Path) -> ExchangeLog:
    """Read the log ``path`` names (see :func:`find_log`); ``UsageError`` for anything that is
    not a complete log of a supported version, saying what is wrong."""
    log_path = find_log(path)
    run: RunRecord | None = None
    services: list[str] = []
    controls: list[str] = []
    tests: dict[str, LoggedTest] = {}
    attempts: dict[str, int] = {}
    for number, data in _lines(log_path):
        kind = data.get("record")
        try:
            if run is None:
                if kind != "run" or data.get("format") != LOG_FORMAT:
                    raise UsageError(
                        f"{log_path}: not an openmedia exchange log (its first line is no "
                        f"{LOG_FORMAT!r} run record)"
                    )
                version = data.get("version")
                if not isinstance(version, int) or version > LOG_VERSION:
                    raise UsageError(
                        f"{log_path}: an exchange log of format version {version!r}; this "
                        f"suite reads up to version {LOG_VERSION}: use the suite that wrote it"
                    )
                run = RunRecord.from_json(data)
            elif kind == "process":
                if data.get("service") and data["service"] not in services:
                    services.append(str(data["service"]))
                if data.get("control") and data["control"] not in controls:
                    controls.append(str(data["control"]))
            elif kind == "test":
                test = LoggedTest.from_json(data)
                attempts[test.test] = max(attempts.get(test.test, 0), test.attempt)
                previous = tests.get(test.test)
                if previous is None or test.attempt >= previous.attempt:
                    tests[test.test] = test
        except (KeyError, TypeError, ValueError) as exc:
            raise UsageError(
                f"{log_path}: line {number} is not a valid {kind or 'log'} record "
                f"({type(exc).__name__}: {exc})"
            ) from None
    if run is None:
        raise UsageError(f"{log_path}: empty: not an exchange log, or one cut short")
    return ExchangeLog(log_path, run, tuple(services), tuple(controls), tests, attempts)
