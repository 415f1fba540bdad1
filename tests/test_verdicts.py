"""Each verdict for its own cause, kept apart in the console summary (issue 5, items 1 and 8).

Real pytest runs of the real plugin: a planted emulator defect gives *fail* (with requirement,
Expected, Actual, section, exchange); a target without a control plane gives *not applicable*;
an unmet OPEN reading gives *warning*; a dead target gives *error* and exit status 3. The table
of verdicts by section and the per-module progress line count each where it belongs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import conformance.plugin.runtime  # imported once, not afresh in every in-process run
import conformance.wire  # noqa: F401
from conformance.cli.run import plugin_installed
from conformance.contract.catalogue import CATALOGUE
from conformance.emulator.edge.server import RunningEmulator, serve_in_thread

pytest_plugins = ["pytester"]

PLUGIN_ARGS = [
    *([] if plugin_installed() else ["-p", "conformance.plugin"]),
    "-p",
    "no:hypothesispytest",
    "-p",
    "no:cacheprovider",
    "-W",
    "always::conformance.plugin.runtime.ConformanceWarning",
]
SECRET = "pw-Verd1ct-secret"
SERVICE = CATALOGUE.section("service")
OPEN_ID = next(r.id for r in CATALOGUE.requirements if r.level == "OPEN")
OPEN_SECTION = CATALOGUE.section(CATALOGUE.requirement(OPEN_ID).section)
ENDPOINT = "SVC-ENDPOINT"


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\nopenmedia_suite_dirs = suite\n")
    pytester.mkpydir("suite")
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess(*PLUGIN_ARGS, *args)


def table_row(output: str, title: str) -> dict[str, int]:
    """The counts of one row of the "verdicts by section" table."""
    lines = output[output.index("openmedia verdicts by section") :].splitlines()
    header = next(line for line in lines if line.startswith("section "))
    columns = [c for c in header[len("section") :].split("  ") if c.strip()]
    row = next(line for line in lines if line.startswith(title + "  "))
    numbers = [int(n) for n in row[len(title) :].split()]
    return dict(zip([c.strip() for c in columns], numbers, strict=True))


def test_a_planted_defect_is_a_fail_with_rule_section_and_exchange(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        **{
            "suite/test_status": f"""
            import pytest

            @pytest.mark.requirement("{ENDPOINT}")
            def test_all_status(om):
                om.get_all_status()
            """
        }
    )
    result = run(
        suite,
        "--om-emulator-fault",
        "soap12-envelope",
        "--om-logon-id",
        "admin",
        "--om-password",
        SECRET,
    )
    assert result.ret == 1
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    wire = CATALOGUE.section("wire")
    assert "[WIRE-ENVELOPE]" in out and "Expected:" in out and "Actual:" in out
    assert f"requirement WIRE-ENVELOPE (MUST) - section {wire.title}" in out
    assert "openmedia exchanges" in out and "GetAllOpenMediaRequestStatus POST" in out
    assert '"$OPENMEDIA_PASSWORD"' in out  # the replay reads the password, never shows it
    assert "--fault soap12-envelope" in out
    assert table_row(out, SERVICE.title)["fail"] == 1
    assert SECRET not in out + result.stderr.str()


@pytest.fixture
def no_control_plane() -> Iterator[RunningEmulator]:
    running = serve_in_thread("127.0.0.1", 0)
    try:
        yield running
    finally:
        running.stop()


def test_a_missing_control_plane_is_not_applicable(
    suite: pytest.Pytester, no_control_plane: RunningEmulator
) -> None:
    suite.makepyfile(
        **{
            "suite/test_needs_control": f"""
            import pytest

            @pytest.mark.requirement("{ENDPOINT}")
            def test_reset(control):
                control.reset({{}})
            """
        }
    )
    result = run(suite, "--om-target-url", no_control_plane.url, "-rs")
    assert result.ret == 0
    result.assert_outcomes(skipped=1)
    out = result.stdout.str()
    assert "not applicable: target lacks control feature 'scenario'" in out
    assert table_row(out, SERVICE.title)["not applicable"] == 1


def test_an_unmet_open_reading_is_a_warning_unless_strict(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        **{
            "suite/test_open": f"""
            import pytest
            from conformance.verdicts import ConformanceFailure

            @pytest.mark.requirement("{OPEN_ID}")
            def test_open_reading():
                raise ConformanceFailure("{OPEN_ID}", "the reading", "the other reading")
            """
        }
    )
    result = run(suite)
    assert result.ret == 0
    row = table_row(result.stdout.str(), OPEN_SECTION.title)
    assert (row["warning"], row["pass"], row["fail"]) == (1, 0, 0)
    strict = run(suite, "--om-strict")
    assert strict.ret == 1
    assert table_row(strict.stdout.str(), OPEN_SECTION.title)["fail"] == 1


def test_a_dead_target_is_an_error_and_exit_status_3(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        **{
            "suite/test_dead": f"""
            import pytest

            @pytest.mark.requirement("{ENDPOINT}")
            def test_wsdl(om):
                om.fetch_wsdl()
            """
        }
    )
    result = run(
        suite, "--om-target-url", "http://127.0.0.1:1/OpenMediaService", "--om-password", SECRET,
        "--om-no-preflight",  # the suite's own verdict on a dead target (the pre-flight would stop)
    )  # fmt: skip
    assert result.ret == 3
    result.assert_outcomes(errors=1)
    out = result.stdout.str()
    assert table_row(out, SERVICE.title)["error"] == 1
    assert "re-run this test alone:" in out
    assert SECRET not in out + result.stderr.str()


FIVE = """
import pytest
from conformance.verdicts import ConformanceFailure, NotApplicable, NotApplicableReason, SuiteError

@pytest.mark.requirement("{must}")
def test_pass():
    pass

@pytest.mark.requirement("{must}")
def test_fail():
    raise ConformanceFailure("{must}", "e", "a")

@pytest.mark.requirement("{open}")
def test_warning():
    raise ConformanceFailure("{open}", "e", "a")

@pytest.mark.requirement("{must}")
def test_not_applicable():
    raise NotApplicable(NotApplicableReason.SAFE_MODE, "clock")

@pytest.mark.requirement("{must}")
def test_error():
    raise SuiteError("the suite could not test")
"""


def test_the_summary_table_keeps_the_five_verdicts_apart(suite: pytest.Pytester) -> None:
    suite.makepyfile(**{"suite/test_five": FIVE.format(must=ENDPOINT, open=OPEN_ID)})
    result = run(suite)
    assert result.ret == 1  # a fail outweighs the error
    out = result.stdout.str()
    service = table_row(out, SERVICE.title)
    assert service == {
        "pass": 1,
        "fail": 1,
        "warning": 0,
        "not applicable": 1,
        "error": 1,
        "baseline": 0,
        "total": 4,
    }
    assert table_row(out, OPEN_SECTION.title)["warning"] == 1
    assert table_row(out, "total")["total"] == 5
    # the live progress: one line when the module completes, with its section and count
    assert (
        f"openmedia [{SERVICE.title}] test_five.py: 5/5 (1 pass, 1 fail, 1 warning, "
        "1 not applicable, 1 error); suite 5/5" in out
    )


def test_unrelated_pytest_runs_get_no_table(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert False\n")
    result = run(pytester)
    assert result.ret == 1
    assert "openmedia verdicts by section" not in result.stdout.str()
