"""``openmedia-conformance compare``: the exchange log, the normaliser, and real runs compared.

Real runs first: a small selection of the suite (two modules) against the embedded emulator,
twice clean (once serially, once with ``-n 2``, so the log is assembled from two workers' parts)
and once with a planted defect; the clean runs must agree although every OpenMediaID, timestamp
and port differs, and the defective one must differ, naming the defect's requirement and showing
the answer that differs. Then the normaliser on its own (what it masks, what it must not) and
bad input (exit 2 with a message, never a traceback).
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.cli.main import main
from conformance.contract import namespaces as ns
from conformance.contract.paths import fixtures_dir
from conformance.contract.schema import element_members, members
from conformance.emulator import RunningEmulator
from conformance.emulator.faults import BY_NAME
from conformance.reporting.comparison import compare_logs, first_difference, steps_of
from conformance.reporting.exchange_log import (
    LOG_NAME,
    ExchangeKind,
    ExchangeLog,
    LoggedExchange,
    LoggedTest,
    PartWriter,
    RunRecord,
    assemble,
    logged_exchanges,
    part_path,
    read_log,
)
from conformance.reporting.normalise import (
    ID_ELEMENTS,
    MASK_TIME,
    IdAliases,
    Kind,
    element_kinds,
    normalise_body,
)
from conformance.secrets import PLACEHOLDER
from conformance.verdicts import Verdict
from conformance.wire import Exchange

SELECTION = (
    "test_add_request.py or test_all_status.py or test_property_service_group_name_past_the_limit"
)
"""Two modules, AddRequest's answers (IDs, positions, EWT) and GetAll's lists (their order),
and a test that runs Hypothesis inside it (its data depend on the seed)."""
SEED = "20261207"
OTHER_SEED = "7"
DEFECT = "add-queue-position-zero-based"
RUN_TIMEOUT_S = 600


@dataclass(frozen=True)
class Run:
    folder: Path
    result: subprocess.CompletedProcess[str]

    @property
    def log(self) -> Path:
        return self.folder / "reports" / LOG_NAME


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def _suite_run(folder: Path, *extra: str, seed: str = SEED) -> Run:
    folder.mkdir()
    log = str(Path("reports") / LOG_NAME)  # named: --om-no-allure alone writes no log
    result = _cli(
        "run", "-q", "-k", SELECTION, "--hypothesis-seed", seed, "--om-no-allure",
        "--om-exchange-log", log, *extra, cwd=folder,
    )  # fmt: skip
    return Run(folder, result)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    """Three real runs of the selection: clean, clean under ``-n 2`` with another Hypothesis
    seed, and with the defect (the first run's seed)."""
    base = tmp_path_factory.mktemp("compare-runs")
    made = {
        "clean": _suite_run(base / "clean"),
        "clean-xdist": _suite_run(base / "clean-xdist", "-n", "2", seed=OTHER_SEED),
        "defect": _suite_run(base / "defect", "--om-emulator-fault", DEFECT),
    }
    yield made


def test_each_run_writes_its_log_without_allure(runs: dict[str, Run]) -> None:
    """--om-exchange-log writes the log also without Allure results; every selected test is in
    it, with its verdict, requirements and exchanges; the -n 2 run's log holds both workers'."""
    assert runs["clean"].result.returncode == 0, runs["clean"].result.stdout[-3000:]
    assert runs["clean-xdist"].result.returncode == 0, runs["clean-xdist"].result.stdout[-3000:]
    assert runs["defect"].result.returncode == 1, runs["defect"].result.stdout[-3000:]
    clean, xdist = read_log(runs["clean"].log), read_log(runs["clean-xdist"].log)
    assert not (runs["clean"].folder / "reports" / "allure-results").exists()
    assert len(clean.tests) > 10
    assert set(clean.tests) == set(xdist.tests)
    assert len(xdist.services) == 2  # one embedded emulator per worker, both parts assembled
    assert not list((runs["clean-xdist"].folder / "reports").glob("*.part"))
    test = clean.tests["conformance/suite/test_add_request.py::test_queue_positions_count_from_one"]
    assert test.verdict is Verdict.PASS
    assert "ADD-QUEUE-POSITION-QUEUED" in test.requirements
    assert [e.what for e in test.exchanges if e.kind is ExchangeKind.SERVICE][:2] == [
        "AddRequest",
        "GetOpenMediaRequestStatusByID",
    ]
    assert clean.run.seed == SEED


def test_the_log_masks_every_password(runs: dict[str, Run]) -> None:
    """The emulator profile's passwords travel in every SOAP header; the log shows ***."""
    text = gzip.decompress(runs["clean"].log.read_bytes()).decode("utf-8")
    assert "clerk-secret" not in text
    assert "secret" not in text
    requests = [e.request for t in read_log(runs["clean"].log).tests.values() for e in t.exchanges]
    with_password = [r for r in requests if "Password" in r]
    assert with_password
    assert all(f">{PLACEHOLDER}</" in r for r in with_password)


def test_two_clean_runs_agree(runs: dict[str, Run], tmp_path: Path) -> None:
    """Different OpenMediaIDs, timestamps, ports, process layout and Hypothesis seed: no
    difference, exit 0; the tests Hypothesis drove (also from inside a test, as a property
    check of one request does) are compared by verdict only, and a note says so."""
    page = tmp_path / "same.html"
    result = _cli(
        "compare", str(runs["clean"].folder / "reports"), str(runs["clean-xdist"].log),
        "--html", str(page), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the runs agree" in result.stdout
    assert "0 with another answer" in result.stdout
    assert "driven by Hypothesis: only their verdicts were compared" in result.stdout
    assert "The runs agree" in page.read_text(encoding="utf-8")
    hypothesis = {name for name, t in read_log(runs["clean"].log).tests.items() if t.hypothesis}
    assert hypothesis == {
        "conformance/suite/test_divert_request.py::test_property_service_group_name_past_the_limit"
    }


def test_a_planted_defect_is_named_with_its_exchange(runs: dict[str, Run], tmp_path: Path) -> None:
    """Clean against defective: exit 1; the defect's requirement heads the verdicts, and the
    AddRequest answer that differs is shown (QueuePosition 1 in A, 0 in B)."""
    requirement = BY_NAME[DEFECT].requirement
    page = tmp_path / "compare.html"
    result = _cli(
        "compare", str(runs["clean"].folder / "reports"), str(runs["defect"].log),
        "--html", str(page), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    verdicts = out.split("Verdicts that differ, by requirement:")[1].split("Answers that differ")[0]
    assert verdicts.strip().startswith(requirement)
    assert "test_queue_positions_count_from_one: pass in A, fail in B" in verdicts
    answers = out.split("Answers that differ")[1]
    assert "-    a:QueuePosition = 1" in answers
    assert "+    a:QueuePosition = 0" in answers
    assert "a:OpenMediaID = #1" in answers  # the ID masked, not the position
    html = page.read_text(encoding="utf-8")
    assert requirement in html
    assert "QueuePosition" in html
    for external in ("<script", "<link", "src=", 'href="http', "url("):
        assert external not in html, external


# -- a vendor server on the same profile ----------------------------------------------------------
VENDOR_SELECTION = "test_add_request.py or test_all_status.py or test_cancel_request.py"


def _vendor_profile(folder: Path) -> Path:
    """The emulator's world as a vendor's profile: safe mode, no control plane."""
    text = (fixtures_dir() / "profiles" / "emulator.toml").read_text(encoding="utf-8")
    text = re.sub(
        r"(?m)^safe_mode = false.*$", "safe_mode = true\nmax_requests_per_second = 1000", text
    )
    text = re.sub(r"(?m)^features = \[.*\]$", "features = []", text)
    path = folder / "vendor.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_embedded_emulator_and_a_vendor_server_on_one_profile_agree(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """One safe-mode profile without a control plane: the embedded emulator, then a server the
    suite reaches by URL only, twice (the second run finds the first run's cancelled requests
    still listed, as on any shared server): every pair agrees."""
    profile = _vendor_profile(tmp_path)
    vendor_server = emulator.url  # served from this process: the suite's run is another
    logs = []
    for name, target in (("embedded", ()), ("vendor", ("--om-target-url", vendor_server)),
                         ("vendor-again", ("--om-target-url", vendor_server))):  # fmt: skip
        log = tmp_path / f"{name}.jsonl.gz"
        done = _cli(
            "run", "-q", "-k", VENDOR_SELECTION, "--hypothesis-seed", SEED, "--om-no-allure",
            "--om-profile", str(profile), "--om-exchange-log", str(log), *target, cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-3000:]
        logs.append(log)
    assert read_log(logs[1]).services == (vendor_server,)
    for a, b in ((logs[0], logs[1]), (logs[1], logs[2])):
        result = _cli("compare", str(a), str(b), cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "the runs agree" in result.stdout


# -- the log's format ----------------------------------------------------------------------------
def _test(name: str, verdict: Verdict, attempt: int = 1) -> LoggedTest:
    exchange = LoggedExchange(
        1, "GetAllOpenMediaRequestStatus", ExchangeKind.SERVICE, 200, "OK", "ok"
    )
    return LoggedTest(
        name, verdict, ("ALL-EMPTY",), attempt=attempt, count=1, exchanges=(exchange,)
    )


def test_parts_assemble_into_one_log_and_a_rerun_keeps_its_last_attempt(tmp_path: Path) -> None:
    """Two processes' parts, the run record first; a test logged twice (re-run after a failure)
    is read as its last attempt, and the log says it had two."""
    log = tmp_path / "reports" / LOG_NAME
    for worker, tests in (("gw0", [_test("t::a", Verdict.FAIL), _test("t::a", Verdict.PASS, 2)]),
                          ("gw1", [_test("t::b", Verdict.PASS)])):  # fmt: skip
        writer = PartWriter(part_path(log, worker))
        for test in tests:
            writer.write(test.to_json())
        writer.close()
    assemble(
        log,
        RunRecord("0.1.0", "2026-12-07T00:00:00+00:00", seed="1"),
        sorted(log.parent.glob("*.part")),
    )
    read = read_log(log.parent)
    assert sorted(read.tests) == ["t::a", "t::b"]
    assert read.tests["t::a"].verdict is Verdict.PASS
    assert read.attempts["t::a"] == 2
    assert not list(log.parent.glob("*.part"))


def test_logged_exchanges_mask_the_password_and_number_as_the_attachments() -> None:
    body = (
        f'<s:Envelope xmlns:s="{ns.SOAP_ENV}"><s:Header><Password xmlns="{ns.AUTH_HEADER}">'
        "hunter22</Password></s:Header><s:Body/></s:Envelope>"
    ).encode()
    exchange = Exchange(
        "GetAllOpenMediaRequestStatus", "POST", "http://127.0.0.1:1/OpenMediaService", (), body,
        500, "Internal Server Error", (), b"<x>hunter22 echoed</x>", 0.001,
    )  # fmt: skip
    (logged,) = logged_exchanges([exchange], 4, [], lambda text: text, control_url=None)
    assert logged.number == 4
    assert "hunter22" not in logged.request + logged.response
    assert PLACEHOLDER in logged.request and PLACEHOLDER in logged.response


# -- the normaliser -------------------------------------------------------------------------------
def _envelope(body: str, prefix: str = "s") -> str:
    return (
        f'<{prefix}:Envelope xmlns:{prefix}="{ns.SOAP_ENV}"><{prefix}:Body>{body}</{prefix}:Body>'
        f"</{prefix}:Envelope>"
    )


def _add_answer(oid: int, position: int, status: str = "Success", ewt: int = 30) -> str:
    return _envelope(
        f'<AddRequestResponse xmlns="{ns.TEMPURI}"><AddRequestResult xmlns:a="{ns.DATA}">'
        f"<a:EWT>{ewt}</a:EWT><a:OpenMediaID>{oid}</a:OpenMediaID>"
        f"<a:QueuePosition>{position}</a:QueuePosition><a:RequestStatus>{status}</a:RequestStatus>"
        "</AddRequestResult></AddRequestResponse>"
    )


def _record(oid: int, status: str, stamp: str) -> str:
    return (
        f'<a:OpenMediaRequest><a:AgentID>0</a:AgentID><a:ID>{oid}</a:ID><a:LogonID i:nil="true"/>'
        f"<a:QueuePosition>1</a:QueuePosition><a:ServiceGroupID>10</a:ServiceGroupID>"
        f"<a:Status>{status}</a:Status><a:TenantID>1</a:TenantID><a:TimeStamp>{stamp}</a:TimeStamp>"
        "</a:OpenMediaRequest>"
    )


def _list_answer(
    operation: str, records: list[str], stamp: str = "2026-12-07T10:00:00Z", prefix: str = "s"
) -> str:
    return _envelope(
        f'<{operation}Response xmlns="{ns.TEMPURI}"><{operation}Result xmlns:a="{ns.DATA}" '
        f'xmlns:i="{ns.XSI}"><a:OpenMediaRequests>{"".join(records)}</a:OpenMediaRequests>'
        f"<a:TimeStamp>{stamp}</a:TimeStamp></{operation}Result></{operation}Response>",
        prefix,
    )


def _norm(*bodies: str, operation: str | None = None) -> list[tuple[str, ...]]:
    aliases = IdAliases()
    return [normalise_body(body, aliases, operation=operation) for body in bodies]


def test_ids_and_estimates_are_masked_not_the_position() -> None:
    assert _norm(_add_answer(1001, 1, ewt=30)) == _norm(_add_answer(5, 1, ewt=0))
    assert _norm(_add_answer(1001, 1)) != _norm(_add_answer(1001, 0))
    assert _norm(_add_answer(1001, 1)) != _norm(_add_answer(1001, 1, status="Error"))


def test_an_answer_naming_another_request_still_differs() -> None:
    """IDs are aliased in the order met: a status answer about the *first* request in one run
    and about the second in the other is a difference."""
    stamp = "2026-12-07T10:00:00Z"
    status = "GetOpenMediaRequestStatusByID"
    asked_first = _norm(
        _add_answer(7, 1), _add_answer(8, 2), _list_answer(status, [_record(7, "Queued", stamp)])
    )
    asked_second = _norm(
        _add_answer(70, 1), _add_answer(80, 2), _list_answer(status, [_record(80, "Queued", stamp)])
    )
    assert asked_first[:2] == asked_second[:2]
    assert asked_first[2] != asked_second[2]


def test_timestamps_prefixes_and_whitespace_are_masked() -> None:
    one = _list_answer(
        "GetOpenMediaRequestStatusByID", [_record(3, "Queued", "2026-12-07T10:00:00Z")]
    )
    other = _list_answer(
        "GetOpenMediaRequestStatusByID", [_record(9, "Queued", "2027-01-01T00:00:00.1234567Z")],
        stamp="2027-01-01T00:00:01Z", prefix="soap",
    ).replace("><", ">\n  <")  # fmt: skip
    assert _norm(one) == _norm(other)
    assert any(line.endswith(f"a:TimeStamp = {MASK_TIME}") for line in _norm(one)[0])
    changed = one.replace("Queued", "Canceled")
    assert _norm(one) != _norm(changed)


def test_the_order_of_an_all_status_list_is_masked_not_a_history() -> None:
    """Across requests the lists are unordered; one request's events are not; and another
    client's request (one the test never met) is not compared at all."""
    stamp = "2026-12-07T10:00:00Z"
    added = (_add_answer(1, 1), _add_answer(2, 2))
    first, second = _record(1, "Queued", stamp), _record(2, "Allocated", stamp)
    foreign = _record(99, "Cancelled", stamp)
    for operation in ("GetAllOpenMediaRequestStatus", "GetOpenMediaRequestsByTime"):
        a = _norm(*added, _list_answer(operation, [first, second]), operation=operation)
        b = _norm(*added, _list_answer(operation, [foreign, second, first]), operation=operation)
        assert a == b, operation
        changed = _norm(*added, _list_answer(operation, [first, first]), operation=operation)
        assert a != changed, operation
        events = [_record(1, "Queued", stamp), _record(1, "Allocated", stamp)]
        ordered = _norm(*added, _list_answer(operation, events), operation=operation)
        reversed_ = _norm(*added, _list_answer(operation, events[::-1]), operation=operation)
        assert ordered != reversed_, operation  # TIM-ORDER: one request's events keep order
    history = "GetOpenMediaRequestHistoryByID"
    events = [_record(1, "Queued", stamp), _record(1, "Allocated", stamp)]
    a = _norm(_list_answer(history, events), operation=history)
    b = _norm(_list_answer(history, events[::-1]), operation=history)
    assert a != b


def _fault(detail: str, text: str = "The request is invalid.") -> str:
    return _envelope(
        f'<s:Fault><faultcode>s:Client</faultcode><faultstring xml:lang="en-US">{text}'
        f"</faultstring><detail>{detail}</detail></s:Fault>"
    )


def test_a_fault_keeps_its_code_and_detail_but_not_its_wording() -> None:
    invalid_data = (
        f'<InvalidDataException xmlns="{ns.SYSTEM_IO}"><ClassName xmlns="">System.IO.'
        'InvalidDataException</ClassName><Message xmlns="">Label too long</Message>'
        "</InvalidDataException>"
    )
    reworded = _fault(invalid_data.replace("Label too long", "Value exceeds 100"), "Nope.")
    assert _norm(_fault(invalid_data)) == _norm(reworded)
    other_detail = _fault(f'<InvalidOpenMediaIDFault xmlns="{ns.FAULTS}"/>')
    assert _norm(_fault(invalid_data)) != _norm(other_detail)
    server_fault = _fault(invalid_data).replace("s:Client", "s:Server")
    assert _norm(_fault(invalid_data)) != _norm(server_fault)


def test_a_status_difference_is_not_masked() -> None:
    a = _test_with("t::x", 200, _add_answer(1, 1))
    b = _test_with("t::x", 500, _add_answer(2, 1))
    difference = first_difference(steps_of(a), steps_of(b))
    assert difference is not None and "HTTP 200 in A, 500 in B" in difference.why()
    assert (
        first_difference(steps_of(a), steps_of(_test_with("t::x", 200, _add_answer(9, 1)))) is None
    )


def _test_with(
    name: str, status: int, response: str, verdict: Verdict = Verdict.PASS
) -> LoggedTest:
    exchange = LoggedExchange(1, "AddRequest", ExchangeKind.SERVICE, status, "", "", "", response)
    return LoggedTest(name, verdict, ("ADD-EWT",), count=1, exchanges=(exchange,))


def test_polls_alike_count_once_and_control_exchanges_are_not_compared() -> None:
    poll = LoggedExchange(2, "GetAllOpenMediaRequestStatus", ExchangeKind.SERVICE, 200, "OK", "ok",
                          "", _list_answer("GetAllOpenMediaRequestStatus", []))  # fmt: skip
    control = LoggedExchange(1, "control POST /reset", ExchangeKind.CONTROL, 204, "", "ok")
    short = LoggedTest("t::p", Verdict.PASS, exchanges=(control, poll))
    long = LoggedTest("t::p", Verdict.PASS, exchanges=(poll, poll, poll))
    assert first_difference(steps_of(short), steps_of(long)) is None
    assert steps_of(long)[0].repeats == 3


def test_the_masked_elements_are_those_the_xsds_type_so() -> None:
    """The ID elements are ints of our XSDs where OpenMediaIDs travel; the time elements are
    exactly those typed xs:dateTime."""
    found = {
        m.qname: m.type_name
        for m in (
            *members("AddOpenMediaResponse"),
            *members("OpenMediaRequest"),
            *members("CancelOpenMediaRequest"),
            *element_members(ns.qname(ns.TEMPURI, "GetOpenMediaRequestStatusByID")),
        )
    }
    for element in ID_ELEMENTS:
        assert found.get(element) == "int", element
    kinds = element_kinds()
    times = {name for name, kind in kinds.items() if kind == Kind.TIME}
    assert {
        ns.qname(ns.DATA, "TimeStamp"),
        ns.qname(ns.DATA, "QueueStartTime"),
        ns.qname(ns.TEMPURI, "retrieveLaterThan"),
    } <= times
    assert ns.qname(ns.DATA, "QueuePosition") not in kinds


def test_tests_only_in_one_run_make_a_difference(tmp_path: Path) -> None:
    run = RunRecord("0.1.0", "now", seed="1")
    a = ExchangeLog(tmp_path, run, tests={"t::a": _test("t::a", Verdict.PASS)})
    b = ExchangeLog(tmp_path, run, tests={"t::b": _test("t::b", Verdict.PASS)})
    comparison = compare_logs(a, b)
    assert not comparison.agree
    assert [t.test for t in comparison.only_a] == ["t::a"]
    assert [t.test for t in comparison.only_b] == ["t::b"]


# -- bad input -----------------------------------------------------------------------------------
def _compare_exit(capsys: pytest.CaptureFixture[str], *paths: Path) -> tuple[int, str]:
    status = main(["compare", *(str(p) for p in paths)])
    captured = capsys.readouterr()
    return status, captured.err


def _valid_log(folder: Path) -> Path:
    log = folder / LOG_NAME
    folder.mkdir(parents=True, exist_ok=True)
    assemble(log, RunRecord("0.1.0", "now"), [])
    return log


def test_a_missing_folder_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = _compare_exit(capsys, tmp_path / "nowhere", _valid_log(tmp_path / "b"))
    assert status == 2
    assert "nowhere: no such file or folder" in err


def test_a_run_without_a_log_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    allure = tmp_path / "reports" / "allure-results"
    allure.mkdir(parents=True)
    (allure / "categories.json").write_text("[]", encoding="utf-8")
    status, err = _compare_exit(capsys, allure, _valid_log(tmp_path / "b"))
    assert status == 2
    assert "no exchange log in it" in err and LOG_NAME in err
    _valid_log(tmp_path / "reports")  # the log beside the Allure results folder is found
    assert _compare_exit(capsys, allure, tmp_path / "b")[0] == 0


_RUN = {"record": "run", "format": "openmedia-exchange-log"}


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"not gzip at all", "not a readable gzip file"),
        (gzip.compress(b'{"record": "run"')[:-6], "not a readable gzip file"),
        (gzip.compress(b'{"record": "run", "format": "other"}\n'), "not an openmedia exchange log"),
        (gzip.compress(b"[1, 2]\n"), "not a JSON object"),
        (gzip.compress(json.dumps({**_RUN, "version": 99}).encode()), "format version 99"),
        (b"", "empty"),
    ],
    ids=["not-gzip", "cut-short", "other-json", "not-object", "newer-version", "empty"],
)  # fmt: skip
def test_a_damaged_log_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, says: str
) -> None:
    bad = tmp_path / LOG_NAME
    bad.write_bytes(content)
    status, err = _compare_exit(capsys, _valid_log(tmp_path / "good"), bad)
    assert status == 2, err
    assert says in err
    assert "Traceback" not in err


def test_bad_input_from_the_command_line_shows_no_traceback(tmp_path: Path) -> None:
    corrupt = tmp_path / LOG_NAME
    corrupt.write_bytes(b"\x1f\x8b\x08\x00garbage")
    result = _cli("compare", str(corrupt), str(tmp_path / "missing"), cwd=tmp_path)
    assert result.returncode == 2
    assert "openmedia usage error" in result.stderr
    assert "Traceback" not in result.stderr
    usage = _cli("compare", str(corrupt), cwd=tmp_path)
    assert usage.returncode == 2 and "RUN_B" in usage.stderr
