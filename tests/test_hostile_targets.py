"""The suite against hostile targets: it never hangs, crashes, leaks a file or runs out of memory.

Each case starts one misbehaving loopback server (``tests/hostile/servers.py``) and runs the
real command, ``openmedia-conformance run --om-target-url ... --om-exchange-timeout 2 -x``, on one
suite test (GetServiceGroupStatus of the profile's open group) with the vendor example profile
(no control plane), in a child process with a hard wall-clock limit. Each run must:

* end soon after the server is first contacted: every exchange is bounded by the exchange
  timeout, and a run makes two (the test's call and the session's one ``GET ?wsdl`` for the
  target fingerprint), so at most ``EXCHANGES_PER_RUN`` timeouts plus the run's own tear-down;
* give the verdict the case calls for, with the exit status that goes with it:

  - *error* (exit 3) where the server gave no usable answer: the suite could not test.
    Never answering, dripping, resetting, and answering 50 MB (chunked or declared) are that:
    nothing was answered that a rule could judge;
  - *fail* (exit 1) where an answer came and a wire rule judges it: an HTML page with 500, XML
    that is not well-formed, a DOCTYPE (external entity or expansion bomb: SOAP forbids a DTD
    in a message, and the parser refuses it unread), a SOAP 1.2 fault (WIRE-ENVELOPE), and a
    correct answer under the wrong media type (WIRE-CONTENT-TYPE);

* say what the server did, in words a user can act on;
* print no Python traceback (no crash, no ``INTERNALERROR``; for an *error*, not even pytest's
  frames: the plugin shows the message alone);
* resolve no entity: the content of the file an entity names (a secret written for the test,
  and ``/etc/passwd``) appears in no output (console, Allure results, JUnit, leak audit);
* stay within ``RSS_LIMIT_KIB`` of memory, measured as the child's peak RSS.

The runs skip the pre-flight (``--om-no-preflight``), which would stop every case before the
test (``tests/test_preflight.py``): here the suite itself must survive a target that turns
hostile after a pre-flight passed. The runs are independent (own server, own port, own folder),
so ``-n`` spreads them safely.
"""

from __future__ import annotations

import re
import socket
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from hostile import answers, servers
from hostile.run import SuiteRun, run_suite

from conformance.contract.paths import fixtures_dir

TIMEOUT_S = 2.0
EXCHANGES_PER_RUN = 2
AFTER_CONTACT_LIMIT_S = EXCHANGES_PER_RUN * TIMEOUT_S + 4.0
"""Two bounded exchanges plus the run's tear-down (reports), on a loaded machine."""
TEST_TIME_LIMIT_S = EXCHANGES_PER_RUN * TIMEOUT_S + 1.0
"""The suite test as JUnit times it (its call, and the session tear-down fetching ?wsdl)."""
HARD_LIMIT_S = 90.0
"""Killed past this: a run that needs it has hung."""
PARALLEL_RUNS = 3
"""Runs at once when this file runs in one process (each run mostly waits on imports or on a
timeout); under pytest-xdist every test runs its own case instead."""
RSS_LIMIT_KIB = 300 * 1024
HUGE_BYTES = 50 * 1024 * 1024
PASSWORD = "hostile-run-password"
SUITE_TEST = ("conformance.suite.test_service_group_status", "test_open_group_is_open")
_FRAME = re.compile(r"^\S+\.py:\d+: in ", re.MULTILINE)
ERROR, FAIL = 3, 1

Make = Callable[[Path], servers.Behaviour]


@dataclass(frozen=True)
class Case:
    """One hostile server and what the suite must make of it."""

    make: Make
    exit_code: int
    says: tuple[str, ...]
    """Words the console must show: what the server did (and the rule, for a fail)."""
    max_streamed: int | None = None
    """At most this much of one streamed answer may leave the server before the client quits."""


def _secret_file(folder: Path) -> Path:
    return folder / "entity-target.txt"


def _passwd_line() -> str | None:
    try:
        first = Path("/etc/passwd").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    return first or None


CASES: dict[str, Case] = {
    "never-answers": Case(
        lambda d: servers.never_answer,
        ERROR,
        ("TransportError", f"within {TIMEOUT_S:g} s (timed out)", "raise --om-exchange-timeout"),
    ),
    "drips-a-byte-a-second": Case(
        lambda d: servers.drip(answers.DRIP),
        ERROR,
        ("TransportError", f"within {TIMEOUT_S:g} s (timed out)"),
    ),
    "resets-the-connection": Case(
        lambda d: servers.reset,
        ERROR,
        ("TransportError", "no usable answer from", ": connection reset;"),
    ),
    "html-with-500": Case(
        lambda d: servers.answer(answers.HTML_500),
        FAIL,
        ("[WIRE-ENVELOPE]", "(HTTP 500)", "text/html body: <!DOCTYPE html>"),
    ),
    "malformed-xml": Case(
        lambda d: servers.answer(answers.MALFORMED),
        FAIL,
        ("[WIRE-ENVELOPE]", "not well-formed XML"),
    ),
    "doctype-external-entity": Case(
        lambda d: servers.answer(answers.external_entity(str(_secret_file(d)), "/etc/passwd")),
        FAIL,
        ("[WIRE-ENVELOPE]", "DTDs and entities are refused"),
    ),
    "entity-expansion-bomb": Case(
        lambda d: servers.answer(answers.entity_bomb()),
        FAIL,
        ("[WIRE-ENVELOPE]", "DTDs and entities are refused"),
    ),
    "50-mb-chunked": Case(
        lambda d: servers.stream(
            answers.HUGE_HEAD_CHUNKED, answers.HUGE_FIRST, answers.HUGE_FILLER, HUGE_BYTES, True
        ),
        ERROR,
        ("TransportError", ": response larger than 8 MiB;", "that is no Open Media answer"),
        HUGE_BYTES // 2,  # the client stops reading near its cap; the rest never leaves
    ),
    "50-mb-declared": Case(
        lambda d: servers.stream(
            answers.huge_head_declared(HUGE_BYTES),
            answers.HUGE_FIRST,
            answers.HUGE_FILLER,
            HUGE_BYTES,
            False,
        ),
        ERROR,
        ("TransportError", ": response larger than 8 MiB;"),
        HUGE_BYTES // 2,  # refused on the declared length, before the body is read
    ),
    "json-content-type": Case(
        lambda d: servers.answer_with(answers.wrong_media_type("application/json")),
        FAIL,
        ("[WIRE-CONTENT-TYPE]", "Content-Type: application/json"),
    ),
    "soap12-fault": Case(
        lambda d: servers.answer(answers.SOAP12_FAULT),
        FAIL,
        ("[WIRE-ENVELOPE]", "a SOAP 1.2 envelope"),
    ),
}


def _junit_time(run: SuiteRun, folder: Path) -> float:
    """The suite test's own duration as JUnit recorded it."""
    cases = ET.parse(folder / "junit.xml").getroot().iter("testcase")
    times = [float(case.get("time", "nan")) for case in cases]
    assert len(times) == 1, f"one suite test expected in the run, got {len(times)}:\n{run.output}"
    return times[0]


def _run(case: Case, folder: Path) -> tuple[SuiteRun, servers.Stats]:
    """Run the suite against the case's server; the run's outputs never hold the secret."""
    secret = f"hostile-secret-{uuid.uuid4().hex}"
    _secret_file(folder).write_text(secret + "\n")
    work = folder / "run"
    work.mkdir()
    module, name = SUITE_TEST
    profile = fixtures_dir() / "profiles" / "vendor-example.toml"
    with servers.HostileServer(case.make(folder)) as server:
        args = [
            "--om-target-url", server.url,
            "--om-profile", str(profile),
            "--om-exchange-timeout", str(TIMEOUT_S),
            "-x", "-p", "no:cacheprovider", "--om-no-preflight",
            "--junitxml", str(work / "junit.xml"),
            module, "-k", name,
        ]  # fmt: skip
        run = run_suite(args, work, HARD_LIMIT_S, {"ACME_OM_PASSWORD": PASSWORD})
    assert secret not in run.everything().decode("utf-8", "replace"), "the entity was resolved"
    return run, server.stats


Outcome = tuple[SuiteRun, servers.Stats]


@pytest.fixture(scope="module")
def prefetched(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[Outcome]]]:
    """The selected cases, run ``PARALLEL_RUNS`` at a time, when not under pytest-xdist."""
    if hasattr(request.config, "workerinput"):  # an xdist worker: xdist spreads the cases
        yield {}
        return
    selected = [
        str(item.callspec.params["name"])
        for item in request.session.items
        if isinstance(item, pytest.Function) and item.originalname == "test_hostile_target"
    ]
    with ThreadPoolExecutor(max_workers=PARALLEL_RUNS) as pool:
        yield {
            name: pool.submit(_run, CASES[name], tmp_path_factory.mktemp(name)) for name in selected
        }


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_target(name: str, tmp_path: Path, prefetched: dict[str, Future[Outcome]]) -> None:
    """The suite against each hostile server: bounded time, the case's verdict and exit status,
    a message saying what the server did, no traceback, no entity resolved, bounded memory."""
    case = CASES[name]
    future = prefetched.get(name)
    run, stats = future.result() if future is not None else _run(case, tmp_path)
    out = run.output
    assert run.exit_code is not None, f"killed after {HARD_LIMIT_S} s: the run hung\n{out}"
    assert stats.first_accept is not None, f"the suite never reached the server\n{out}"
    after_contact = run.ended - stats.first_accept
    test_time = _junit_time(run, run.cwd)
    peak_mib = run.peak_rss_kib / 1024
    print(
        f"{name}: exit {run.exit_code}, run {run.elapsed_s:.1f} s, after first contact "
        f"{after_contact:.1f} s, test {test_time:.2f} s, peak RSS {peak_mib:.0f} MiB, "
        f"server sent {stats.bytes_sent} B over {stats.connections} connection(s)"
        + (f", streamed answers {stats.streamed} B" if stats.streamed else "")
    )
    assert run.exit_code == case.exit_code, f"exit {run.exit_code}, wanted {case.exit_code}\n{out}"
    verdict = "1 error" if case.exit_code == ERROR else "1 fail"
    assert f"verdicts: {verdict}" in out, out
    for words in case.says:
        assert words in out, f"{words!r} not in the output\n{out}"
    assert "Traceback (most recent call last)" not in out, out
    assert "INTERNALERROR" not in out, out
    if case.exit_code == ERROR:
        assert not _FRAME.search(out), f"an error shows code frames, not its message\n{out}"
    assert test_time <= TEST_TIME_LIMIT_S, f"the test took {test_time} s\n{out}"
    assert after_contact <= AFTER_CONTACT_LIMIT_S, f"{after_contact:.1f} s after contact\n{out}"
    assert run.peak_rss_kib < RSS_LIMIT_KIB, f"peak RSS {peak_mib:.0f} MiB"
    passwd = _passwd_line()
    if passwd is not None:
        assert passwd not in run.everything().decode("utf-8", "replace"), "/etc/passwd leaked"
    assert "lollollol" not in out, "an entity was expanded"
    if case.max_streamed is not None:
        assert stats.streamed and max(stats.streamed) <= case.max_streamed, stats.streamed


def test_the_servers_misbehave_as_described() -> None:
    """The servers themselves, seen by a raw socket: the matrix tests what it claims to."""

    def exchange(behaviour: servers.Behaviour, wait_s: float = 3.0) -> tuple[bytes, str]:
        with servers.HostileServer(behaviour) as server:
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=wait_s)
            sock.sendall(b"POST /OpenMediaService HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi")
            got, ending = b"", "closed"
            deadline = time.monotonic() + wait_s
            try:
                while time.monotonic() < deadline:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    got += chunk
                else:
                    ending = "still open"
            except TimeoutError:
                ending = "still open"
            except ConnectionResetError:
                ending = "reset"
            finally:
                sock.close()
            return got, ending

    assert exchange(servers.never_answer, 0.5) == (b"", "still open")
    assert exchange(servers.reset) == (b"", "reset")
    dripped, ending = exchange(servers.drip(answers.DRIP), 1.5)
    assert 1 <= len(dripped) <= 3 and ending == "still open"
    assert exchange(servers.answer(answers.HTML_500))[0].startswith(b"HTTP/1.1 500 ")


def test_a_target_that_goes_silent_stops_the_run(tmp_path: Path) -> None:
    """Without ``-x``: after ``SILENT_TESTS_TO_STOP`` tests in a row got no usable answer the
    run stops, says why, and exits 3, instead of waiting out one timeout per remaining test.
    A re-run (``--om-reruns``, default 1) counts as a test there: the same three timeouts are
    waited out, by fewer tests (the first one and its re-run, then the next)."""
    from conformance.plugin.options import DEFAULT_RERUNS
    from conformance.plugin.runtime import SILENT_TESTS_TO_STOP

    tests = -(-SILENT_TESTS_TO_STOP // (DEFAULT_RERUNS + 1))  # the last one is not re-run

    profile = fixtures_dir() / "profiles" / "vendor-example.toml"
    with servers.HostileServer(servers.never_answer) as server:
        args = [
            "--om-target-url", server.url,
            "--om-profile", str(profile),
            "--om-exchange-timeout", "0.5",
            "-p", "no:cacheprovider", "--om-no-allure", "--om-no-preflight",
            "--pyargs", "conformance.suite.test_service_group_status",
            "conformance.suite.test_status_by_id",
        ]  # fmt: skip
        run = run_suite(args, tmp_path, HARD_LIMIT_S, {"ACME_OM_PASSWORD": PASSWORD})
    out = run.output
    assert run.exit_code == ERROR, f"exit {run.exit_code}\n{out}"
    assert "the target gave no usable answer in" in out and "were not run" in out, out
    assert f"no usable answer in {SILENT_TESTS_TO_STOP} tests in a row, re-runs included" in out
    assert f"{tests} error" in out.rsplit("verdicts:", 1)[-1], out
    assert "Traceback (most recent call last)" not in out, out
