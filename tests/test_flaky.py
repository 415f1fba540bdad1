"""The flaky verdict (issue 14, item 2): what is re-run, and what the attempts add up to.

Real pytest runs of the real plugin (in process, ``pytester``), with suite tests that keep a
count of their attempts in a file: one that fails once is *flaky* and passes the run (exit 1
only under ``--om-strict``; *fail* with ``--om-reruns 0``); one that fails every attempt stays
*fail*, with its attempts shown; a warning, a not-applicable test and an error that is not a
transport problem are never re-run; a Hypothesis property test is re-run without its example
database; a baselined failure still works. The rules' pieces on their own: which transport
errors are re-run (the reasons the transport really gives), the JUnit rewrite, the certificate.
Against a real server made intermittently wrong: ``tests/test_flaky_target.py``.
"""

from __future__ import annotations

import http.client
import socket
from pathlib import Path

import pytest
from lxml import etree

import conformance.plugin.runtime
import conformance.wire  # noqa: F401
from conformance.cli.run import plugin_installed
from conformance.contract.catalogue import CATALOGUE
from conformance.plugin.options import OptionValues
from conformance.plugin.reruns import RERUN_TRANSPORT_REASONS, transient
from conformance.plugin.settings import build_settings
from conformance.reporting.attempts import Attempt
from conformance.reporting.categories import categories_json
from conformance.reporting.certificate import (
    TestResult,
    build_certificate,
    requirement_matrix,
)
from conformance.reporting.junit_properties import attempts_as_elements, verdict_properties
from conformance.verdicts import UsageError, Verdict
from conformance.wire.transport import TIMED_OUT, Transport, TransportError

pytest_plugins = ["pytester"]

PLUGIN = [*([] if plugin_installed() else ["-p", "conformance.plugin"]), "-p", "no:cacheprovider"]
NO_HYPOTHESIS = ["-p", "no:hypothesispytest"]
MUST = "SVC-ENDPOINT"
SECTION = CATALOGUE.section(CATALOGUE.requirement(MUST).section).title
OPEN_ID = next(r.id for r in CATALOGUE.requirements if r.level == "OPEN")

COUNTING = """
import pytest
from pathlib import Path
from conformance.verdicts import ConformanceFailure, NotApplicable, NotApplicableReason, SuiteError
from conformance.wire.transport import TransportError

def attempt(name):
    '''This test's attempt number (from 1), counted in a file beside the run.'''
    path = Path(name + ".attempts")
    number = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(number))
    return number

@pytest.mark.requirement("{must}")
def test_fails_once():
    if attempt("fails_once") == 1:
        raise ConformanceFailure("{must}", "an answer", "a wrong answer the first time")

@pytest.mark.requirement("{must}")
def test_fails_always():
    number = attempt("fails_always")
    raise ConformanceFailure("{must}", "an answer", f"a wrong answer on attempt {{number}}")

@pytest.mark.requirement("{must}")
def test_passes():
    attempt("passes")

@pytest.mark.requirement("{open}")
def test_warns():
    attempt("warns")
    raise ConformanceFailure("{open}", "the reading", "the other reading")

@pytest.mark.requirement("{must}")
def test_not_applicable():
    attempt("not_applicable")
    raise NotApplicable(NotApplicableReason.SAFE_MODE, "clock")

@pytest.mark.requirement("{must}")
def test_suite_error():
    attempt("suite_error")
    raise SuiteError("a broken profile")

@pytest.mark.requirement("{must}")
def test_times_out_once():
    if attempt("times_out_once") == 1:
        raise TransportError("http://127.0.0.1:9/OpenMediaService", "timed out", 1.0)

@pytest.mark.requirement("{must}")
def test_malformed_answer():
    attempt("malformed_answer")
    raise TransportError("http://127.0.0.1:9/OpenMediaService", "malformed HTTP response: X", 1.0)
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\nopenmedia_suite_dirs = suite\n")
    pytester.mkpydir("suite")
    pytester.makepyfile(**{"suite/test_counting": COUNTING.format(must=MUST, open=OPEN_ID)})
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """A run of the suite folder, its tests' attempts counted from nothing."""
    for counted in pytester.path.glob("*.attempts"):
        counted.unlink()
    return pytester.runpytest_inprocess(*PLUGIN, *NO_HYPOTHESIS, *args)


def attempts(pytester: pytest.Pytester) -> dict[str, int]:
    return {p.stem: int(p.read_text()) for p in pytester.path.glob("*.attempts")}


def verdicts_line(output: str) -> str:
    return output.rsplit("verdicts: ", 1)[-1].splitlines()[0]


def test_only_a_fail_or_a_transient_transport_error_is_re_run(suite: pytest.Pytester) -> None:
    junit = suite.path / "junit.xml"
    result = run(suite, "--junitxml", str(junit), "-rA")
    assert attempts(suite) == {
        "fails_once": 2,  # failed, passed on the re-run: flaky
        "fails_always": 2,  # failed on every attempt: fail
        "passes": 1,
        "warns": 1,  # a SHOULD/OPEN reading not met is a warning, never re-run
        "not_applicable": 1,
        "suite_error": 1,  # no transport problem: it says the same the next time
        "times_out_once": 2,  # a timeout: flaky
        "malformed_answer": 1,  # a malformed answer is no passing network trouble
    }
    out = result.stdout.str()
    assert result.ret == 1, out  # the fail on every attempt
    assert verdicts_line(out) == (
        "1 pass, 1 warning, 1 not applicable, 2 flaky, 1 fail, 2 error"
    ), out
    assert "2 flaky" in out.splitlines()[-1]  # pytest's own closing line counts them apart
    # the console: a flaky section with the failed attempt, and the attempts of the fail
    flaky = out.split("openmedia flaky (failed, then passed on a re-run)", 1)[1]
    assert "test_fails_once: failed on attempt 1 of 2 (fail: [SVC-ENDPOINT]" in flaky
    assert "a wrong answer the first time" in flaky
    assert "test_times_out_once: failed on attempt 1 of 2 (error: TransportError" in flaky
    assert "openmedia attempt 1 of 2: fail" in out  # the fail's report shows its attempt 1
    assert "a wrong answer on attempt 1" in out and "a wrong answer on attempt 2" in out
    # the table of verdicts by section grows a flaky column when a test was flaky
    table = out.split("openmedia verdicts by section", 1)[1]
    header = next(line for line in table.splitlines() if line.startswith("section"))
    assert header.split()[1:] == [
        "pass", "fail", "warning", "not", "applicable", "error", "baseline", "flaky", "total"
    ]  # fmt: skip
    # JUnit: flaky test cases pass, with the property and the Surefire elements
    tree = etree.parse(str(junit))
    cases = {case.get("name"): case for case in tree.iter("testcase")}

    def props(name: str) -> dict[str, str]:
        return {p.get("name"): p.get("value") for p in cases[name].iter("property")}

    assert props("test_fails_once")["verdict"] == "flaky"
    assert props("test_fails_once")["attempts"] == "2"
    assert [c.tag for c in cases["test_fails_once"]] == ["properties", "flakyFailure"]
    flaky_failure = cases["test_fails_once"].find("flakyFailure")
    assert flaky_failure is not None
    assert flaky_failure.get("type") == "ConformanceFailure"
    assert "a wrong answer the first time" in (flaky_failure.findtext("stackTrace") or "")
    assert [c.tag for c in cases["test_times_out_once"]] == ["properties", "flakyError"]
    assert props("test_fails_always")["verdict"] == "fail"
    tags = [c.tag for c in cases["test_fails_always"]]
    assert tags[:3] == ["properties", "failure", "rerunFailure"], tags
    assert "openmedia-earlier-attempt" not in junit.read_text()  # each became its element
    assert props("test_passes") == {"requirements": MUST, "verdict": "pass"}


def test_a_flaky_test_fails_the_run_only_under_strict(suite: pytest.Pytester) -> None:
    selected = ["-k", "fails_once or times_out_once or passes"]
    assert run(suite, *selected).ret == 0
    strict = run(suite, *selected, "--om-strict", "-v")
    assert strict.ret == 1
    out = strict.stdout.str()
    assert "test_fails_once FLAKY (passed on a re-run)" in out  # the per-test line
    assert "--om-strict: they fail the run" in out
    assert verdicts_line(out) == "1 pass, 2 flaky"


def test_reruns_0_turns_it_off_and_n_reruns_tries_n_more_times(suite: pytest.Pytester) -> None:
    off = run(suite, "-k", "fails_once or fails_always", "--om-reruns", "0")
    assert off.ret == 1
    assert verdicts_line(off.stdout.str()) == "2 fail"
    assert attempts(suite) == {"fails_once": 1, "fails_always": 1}
    more = run(suite, "-k", "fails_always", "--om-reruns", "2")
    assert more.ret == 1
    assert attempts(suite)["fails_always"] == 3
    assert "openmedia attempt 2 of 3: fail" in more.stdout.str()
    with pytest.raises(UsageError, match=r"--om-reruns must be 0 \(no re-run\) or more, got -1"):
        build_settings(OptionValues(reruns=-1), {})


def test_a_baselined_failure_still_works_on_every_attempt(suite: pytest.Pytester) -> None:
    baseline = suite.path / "baseline.toml"
    baseline.write_text(
        '[[expected]]\ntest = "suite/test_counting.py::test_fails_always"\n'
        'reason = "ticket 1"\nowner = "me"\nexpires = 2099-01-01\n'
        '[[expected]]\ntest = "suite/test_counting.py::test_fails_once"\n'
        'reason = "ticket 2"\nowner = "me"\nexpires = 2099-01-01\n'
    )
    result = run(suite, "-k", "fails_always or fails_once", "--om-baseline", str(baseline))
    out = result.stdout.str()
    # fails every attempt: the baseline lists it; fails once: flaky, and its entry is not stale
    assert result.ret == 0, out
    assert verdicts_line(out) == "1 baseline, 1 flaky", out
    assert attempts(suite) == {"fails_always": 2, "fails_once": 2}
    assert "stale" not in out.split("openmedia verdicts by section", 1)[1]


PROPERTY = """
import pytest
from pathlib import Path
from hypothesis import given, settings, strategies as st

@settings(max_examples=20)
@given(st.integers(0, 1000))
@pytest.mark.requirement("{must}")
def test_property(number):
    '''Fails on the very first example it is ever given (the server's hiccup), then never.'''
    mark = Path("hiccup.done")
    if not mark.exists():
        mark.write_text("x")
        assert False, "the first answer was wrong"
    with Path("examples.seen").open("a") as seen:
        seen.write(f"{{number}}\\n")

@given(st.integers(0, 1000))
@pytest.mark.requirement("{must}")
def test_always_wrong(number):
    # fails on every example: Hypothesis would keep one in its database, were it used
    assert number < 0, "a wrong answer every time"
"""


def test_a_property_test_is_re_run_without_its_example_database(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hypothesis notices on its own that the failure did not repeat (``FlakyFailure``): that
    attempt is re-run, generates the same examples from the run's seed, and no example database
    is read or written (the seed is forced), so nothing of attempt 1 steers attempt 2, nor a
    failure on every attempt a later run. Without the forced seed (Hypothesis' pytest plugin
    off) the same run does write one: the check can fail."""
    pytester.makeini("[pytest]\nopenmedia_suite_dirs = suite\n")
    pytester.mkpydir("suite")
    pytester.makepyfile(**{"suite/test_prop": PROPERTY.format(must=MUST)})

    def saved() -> list[Path]:
        return [p for p in pytester.path.rglob("*") if "examples" in p.parts and p.is_file()]

    result = pytester.runpytest_inprocess(*PLUGIN, "--hypothesis-seed", "7")
    out = result.stdout.str()
    assert result.ret == 1, out  # test_always_wrong
    assert verdicts_line(out) == "1 flaky, 1 fail", out
    assert "Flaky" in out  # Hypothesis' own word for attempt 1
    seen = (pytester.path / "examples.seen").read_text().split()
    assert len(seen) >= 20  # attempt 2 ran every example of its own
    assert saved() == []
    (pytester.path / "hiccup.done").unlink()
    # a process of its own: this one's seed is forced by the plugin of the self-test run; and
    # without CI in its environment, where Hypothesis' own "ci" profile keeps no database
    monkeypatch.delenv("CI", raising=False)
    unseeded = pytester.runpytest_subprocess(*PLUGIN, *NO_HYPOTHESIS)
    assert verdicts_line(unseeded.stdout.str()) == "1 flaky, 1 fail"
    assert saved() != []  # Hypothesis kept the failing example this time


# -- the pieces on their own -----------------------------------------------------------------


def _transport_reason(exc: BaseException) -> str:
    """The reason the transport's own translation gives for a socket-level exception."""
    translated = Transport()._translate(exc, "http://h/", 1)
    assert isinstance(translated, TransportError)
    return translated.reason


@pytest.mark.parametrize(
    ("exc", "rerun"),
    [
        (TimeoutError(), True),
        (TimeoutError(), True),
        (ConnectionRefusedError(), True),
        (ConnectionResetError(), True),
        (BrokenPipeError(), True),
        (http.client.RemoteDisconnected(), True),
        (http.client.IncompleteRead(b""), True),
        (socket.gaierror(), False),  # a wrong host name stays wrong
        (http.client.BadStatusLine("x"), False),  # a malformed answer is the server's
    ],
)
def test_the_re_run_transport_reasons_are_the_ones_the_transport_gives(
    exc: BaseException, rerun: bool
) -> None:
    reason = _transport_reason(exc)
    assert (reason in RERUN_TRANSPORT_REASONS) is rerun, reason
    assert transient(TransportError("http://h/", reason, 1)) is rerun
    assert TIMED_OUT in RERUN_TRANSPORT_REASONS


def test_the_junit_rewrite_follows_the_surefire_schema(tmp_path: Path) -> None:
    earlier = Attempt(1, Verdict.ERROR, "TransportError: timed out\nmore", "TransportError", "ex")
    properties = verdict_properties(Verdict.FLAKY, None, [earlier])
    assert properties[:2] == [("verdict", "flaky"), ("attempts", "2")]
    suites = etree.Element("testsuites")
    case = etree.SubElement(etree.SubElement(suites, "testsuite"), "testcase", name="t")
    held = etree.SubElement(case, "properties")
    for name, value in properties:
        etree.SubElement(held, "property", name=name, value=value)
    etree.SubElement(case, "system-out").text = "out"
    path = tmp_path / "junit.xml"
    etree.ElementTree(suites).write(str(path))
    attempts_as_elements(path)
    case = etree.parse(str(path)).find(".//testcase")
    assert case is not None
    assert [c.tag for c in case] == ["properties", "flakyError", "system-out"]
    element = case.find("flakyError")
    assert element is not None
    assert element.get("message") == "TransportError: timed out"
    assert element.get("type") == "TransportError"
    assert element.findtext("stackTrace") == "TransportError: timed out\nmore"
    assert element.findtext("system-out") == "ex"


def test_the_certificate_counts_flaky_apart_and_says_so() -> None:
    results = [
        TestResult("suite/t.py::a", Verdict.FLAKY, (MUST,)),
        TestResult("suite/t.py::b", Verdict.PASS, (MUST,)),
    ]
    row = next(r for r in requirement_matrix(results) if r["id"] == MUST)
    assert (row["flaky"], row["pass"], row["verdict"]) == (1, 1, "flaky")
    lenient = build_certificate(results, header={"run": {"strict": False}}, incomplete=["-k x"])
    assert lenient["flaky"] == [{"test": "suite/t.py::a", "requirements": [MUST]}]
    assert lenient["headline"].endswith("; 1 test flaky (passed only on a re-run)")
    assert not any("flaky" in reason for reason in lenient["reasons"])
    strict = build_certificate(results, header={"run": {"strict": True}}, incomplete=["-k x"])
    assert (
        f"{MUST} (MUST) is flaky: failed, then passed on a re-run (--om-strict)"
        in (strict["reasons"])
    )


def test_allure_has_a_flaky_category_of_passed_results() -> None:
    flaky = next(c for c in categories_json() if c["name"].startswith("Flaky"))
    assert flaky["matchedStatuses"] == ["passed"]
    assert flaky["flaky"] is True
    assert flaky["messageRegex"] == "^flaky: [\\s\\S]*"
    assert SECTION  # the suite's section of the requirement the tests above cite
