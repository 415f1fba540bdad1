"""The pytest plugin, driven through real pytest runs (pytester): options, markers, verdicts.

Each test writes a small suite into a temporary folder (declared a suite folder with the
``openmedia_suite_dirs`` ini option, so the same rules apply as to ``conformance/suite``), runs
pytest on it with the plugin, and asserts on the outcome, the exit status and the output.
Targets are either none at all or ``127.0.0.1:1`` (nothing listens there): no test here needs
the emulator.
"""

from __future__ import annotations

import http.server
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

# Imported once here, so that the in-process runs below do not each import them afresh (and
# ConformanceWarning stays one class for the -W filter).
import conformance.plugin.runtime
import conformance.wire  # noqa: F401
from conformance.cli.run import plugin_installed
from conformance.contract.catalogue import CATALOGUE

pytest_plugins = ["pytester"]

PLUGIN_ARGS = [
    *([] if plugin_installed() else ["-p", "conformance.plugin"]),
    "-p",
    "no:hypothesispytest",  # it imports all of Hypothesis afresh in every in-process run
    "-W",  # the outer run may treat warnings as errors; the inner runs must see them as such
    "always::conformance.plugin.runtime.ConformanceWarning",
]
MUST_ID = next(r.id for r in CATALOGUE.requirements if r.level == "MUST")
OPEN_ID = next(r.id for r in CATALOGUE.requirements if r.level == "OPEN")
SHOULD_ID = next(r.id for r in CATALOGUE.requirements if r.level == "SHOULD")
UNREACHABLE = "http://127.0.0.1:1/OpenMediaService"
SECRET = "pw-s3cr3t-XYZ"
PACKAGE = Path(__file__).resolve().parent.parent / "conformance"


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\nopenmedia_suite_dirs = suite\n")
    pytester.mkpydir("suite")
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """In process, without the pre-flight: it would end the run at configure, which an
    in-process run cannot (tests/test_preflight.py runs it); these runs test the suite itself."""
    return pytester.runpytest_inprocess(
        *PLUGIN_ARGS, "-p", "no:cacheprovider", "--om-no-preflight", *args
    )


PASSING = f"""
import pytest

@pytest.mark.requirement("{MUST_ID}")
def test_ok():
    pass
"""


def run_subprocess(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """A separate process, for runs that end at configure (pytester's in-process run cannot)."""
    pytester._monkeypatch.setenv("PYTHONPATH", str(PACKAGE.parent))
    return pytester.runpytest_subprocess(*PLUGIN_ARGS, "-p", "no:cacheprovider", *args)


def write(pytester: pytest.Pytester, source: str, name: str = "test_case") -> None:
    pytester.makepyfile(**{f"suite/{name}": source})


# -- options -------------------------------------------------------------------------------
def test_options_are_read_once_into_a_frozen_settings_object(suite: pytest.Pytester) -> None:
    write(
        suite,
        """
        import dataclasses, pytest
        from conformance.plugin.runtime import SETTINGS_KEY
        SEEN = []

        @pytest.mark.requirement("MUST_ID")
        @pytest.mark.parametrize("n", [1, 2])
        def test_settings(pytestconfig, profile, n):
            settings = pytestconfig.stash[SETTINGS_KEY]
            SEEN.append(settings)
            assert settings.target_url == "UNREACHABLE" and settings.timeout_s == 2.5
            assert settings.logon_id == "someone" and profile is settings.profile
            assert all(s is settings for s in SEEN)
            with pytest.raises(dataclasses.FrozenInstanceError):
                settings.timeout_s = 1
        """.replace("MUST_ID", MUST_ID).replace("UNREACHABLE", UNREACHABLE),
    )
    result = run(
        suite,
        "--om-target-url",
        UNREACHABLE,
        "--om-exchange-timeout",
        "2.5",
        "--om-logon-id",
        "someone",
    )
    result.assert_outcomes(passed=2)
    assert result.ret == 0


def test_getoption_appears_only_in_the_plugins_that_own_options() -> None:
    """Options reach tests only through the frozen settings: no fixture or test reads one.

    The suite's options are defined and read in one module, ``conformance.plugin.options``;
    outside the plugin package nothing calls ``getoption``, and no module but that one
    registers an option.
    """
    offenders = []
    adders = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if "getoption(" in text and path.parent != PACKAGE / "plugin":
            offenders.append(str(path.relative_to(PACKAGE)))
        if ".addoption(" in text and path != PACKAGE / "plugin" / "options.py":
            adders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []
    assert adders == []
    assert "getoption(" not in (PACKAGE / "plugin" / "fixtures.py").read_text(encoding="utf-8")


def test_header_names_target_profile_and_features_but_not_the_password(
    suite: pytest.Pytester,
) -> None:
    write(
        suite, f'import pytest\n@pytest.mark.requirement("{MUST_ID}")\ndef test_ok():\n    pass\n'
    )
    result = run(
        suite, "--om-target-url", UNREACHABLE, "--om-password", SECRET, "--om-logon-id", "adm"
    )
    header = result.stdout.str()
    assert f"openmedia target: {UNREACHABLE}" in header
    assert "openmedia profile:" in header and "emulator.toml" in header
    assert "openmedia features expected: agents, clock" in header
    assert "logon adm" in header
    assert SECRET not in header


def test_emulator_fault_with_target_url_is_a_usage_error(suite: pytest.Pytester) -> None:
    write(
        suite, f'import pytest\n@pytest.mark.requirement("{MUST_ID}")\ndef test_ok():\n    pass\n'
    )
    result = run_subprocess(
        suite, "--om-target-url", UNREACHABLE, "--om-emulator-fault", "wrong-namespace"
    )
    assert result.ret == 2
    assert "--om-emulator-fault" in result.stderr.str()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


# -- markers -------------------------------------------------------------------------------
def test_unknown_requirement_id_is_a_collection_error(suite: pytest.Pytester) -> None:
    write(
        suite,
        """
        import pytest

        @pytest.mark.requirement("SVC-WSDL-ADRESS")
        def test_cites_a_typo():
            pass
        """,
    )
    result = run(suite)
    assert result.ret == 3
    out = result.stdout.str()
    assert "ERROR collecting" in out
    assert "test_cites_a_typo: unknown requirement ID 'SVC-WSDL-ADRESS'" in out
    assert "did you mean 'SVC-WSDL-ADDRESS'?" in out
    result.assert_outcomes(errors=1)


def test_suite_test_without_requirement_is_a_collection_error(suite: pytest.Pytester) -> None:
    write(suite, "def test_cites_nothing():\n    pass\n")
    result = run(suite)
    assert result.ret == 3
    assert "test_cites_nothing: cites no requirement" in result.stdout.str()


def test_tests_outside_suite_folders_need_no_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    result = run(pytester)
    result.assert_outcomes(passed=1)
    assert result.ret == 0


def test_requirement_ids_become_junit_properties(suite: pytest.Pytester) -> None:
    write(
        suite,
        f"""
        import pytest

        @pytest.mark.requirement("{MUST_ID}", "{OPEN_ID}")
        def test_two():
            pass
        """,
    )
    result = run(suite, "--junitxml", "out.xml")
    assert result.ret == 0
    xml = (suite.path / "out.xml").read_text(encoding="utf-8")
    assert f'<property name="requirements" value="{MUST_ID} {OPEN_ID}"' in xml


def test_junit_tells_suite_errors_from_target_failures(suite: pytest.Pytester) -> None:
    """pytest writes every exception of a call as <failure>; a suite error is an <error>, and a
    test blocked by another requirement's failure is a <failure> of that requirement."""
    write(
        suite,
        f"""
        import pytest
        from conformance.verdicts import Blocked, ConformanceFailure, SuiteError

        @pytest.mark.requirement("{MUST_ID}")
        def test_passes():
            pass

        @pytest.mark.requirement("{MUST_ID}")
        def test_target_fails():
            raise ConformanceFailure("{MUST_ID}", "this", "that")

        @pytest.mark.requirement("{OPEN_ID}")
        def test_blocked():
            raise Blocked("{MUST_ID}", "refused", "carried out", step="the refused call")

        @pytest.mark.requirement("{MUST_ID}")
        def test_suite_cannot_test():
            raise SuiteError("precondition: the suite could not test")
        """,
    )
    result = run(suite, "--junitxml", "out.xml")
    assert result.ret == 1
    root = ET.parse(suite.path / "out.xml").getroot()
    cases = {case.get("name"): case for case in root.iter("testcase")}
    kinds = {name: [child.tag for child in case if child.tag != "properties"]
             for name, case in cases.items()}  # fmt: skip
    assert kinds["test_passes"] == []
    # a failure is re-run (--om-reruns): its first attempt is Surefire's <rerunFailure>
    assert kinds["test_target_fails"] == ["failure", "rerunFailure"]
    assert kinds["test_blocked"] == ["failure", "rerunFailure"]
    assert kinds["test_suite_cannot_test"] == ["error"]
    testsuite = next(root.iter("testsuite"))
    assert (testsuite.get("failures"), testsuite.get("errors")) == ("2", "1")
    assert f"blocked: the refused call failed {MUST_ID}" in result.stdout.str()


# -- verdicts ------------------------------------------------------------------------------
FAILING = """
import pytest
from conformance.verdicts import ConformanceFailure

@pytest.mark.requirement("{rid}")
def test_target_misses():
    raise ConformanceFailure("{rid}", "what the reading expects", "what the target did")
"""


def test_open_requirement_missed_is_a_warning(suite: pytest.Pytester) -> None:
    write(suite, FAILING.format(rid=OPEN_ID))
    result = run(suite, "-v")
    result.assert_outcomes(passed=1, warnings=1)
    assert result.ret == 0
    out = result.stdout.str()
    assert "test_target_misses PASSED (warning)" in out
    assert "ConformanceWarning" in out
    assert "openmedia warnings (SHOULD/OPEN not met)" in out
    assert f"[{OPEN_ID}] target does not meet the requirement" in out
    assert "verdicts: 1 warning" in out


def test_strict_turns_the_open_warning_into_a_failure(suite: pytest.Pytester) -> None:
    write(suite, FAILING.format(rid=OPEN_ID))
    result = run(suite, "--om-strict")
    result.assert_outcomes(failed=1)
    assert result.ret == 1
    assert "what the target did" in result.stdout.str()


def test_om_strict_turns_a_should_warning_into_a_failure(suite: pytest.Pytester) -> None:
    write(suite, FAILING.format(rid=SHOULD_ID))
    assert run(suite).ret == 0
    result = run(suite, "--om-strict")
    result.assert_outcomes(failed=1)
    assert result.ret == 1
    assert "strict on" in result.stdout.str()


def test_pytests_own_strict_leaves_a_should_warning_a_warning(suite: pytest.Pytester) -> None:
    """pytest's ``--strict`` (since pytest 9: strict markers, config, xfail and ids) is
    pytest's alone; only ``--om-strict`` fails a SHOULD requirement not met."""
    write(suite, FAILING.format(rid=SHOULD_ID))
    result = run(suite, "--strict")
    result.assert_outcomes(passed=1, warnings=1)
    assert result.ret == 0
    assert "strict off" in result.stdout.str()


@pytest.mark.parametrize(
    "spelling", ["--target-url", "--password", "--baseline", "--certificate", "--no-preflight"]
)
def test_a_spelling_without_the_prefix_is_a_pytest_usage_error(
    suite: pytest.Pytester, spelling: str
) -> None:
    """Plain pytest knows only ``--om-…`` (only ``openmedia-conformance run`` translates the
    old spellings): an old one is refused, never silently ignored."""
    write(suite, PASSING)
    result = suite.runpytest_inprocess(*PLUGIN_ARGS, "-p", "no:cacheprovider", spelling, "x")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"unrecognized arguments: {spelling}" in result.stderr.str()
    assert "passed" not in result.stdout.str()


def test_must_requirement_missed_fails(suite: pytest.Pytester) -> None:
    write(suite, FAILING.format(rid=MUST_ID))
    result = run(suite)
    result.assert_outcomes(failed=1)
    assert result.ret == 1
    assert "verdicts: 1 fail" in result.stdout.str()


def test_not_applicable_is_a_skip_naming_the_feature(suite: pytest.Pytester) -> None:
    write(
        suite,
        f"""
        import pytest
        from conformance.verdicts import NotApplicable, NotApplicableReason

        @pytest.mark.requirement("{MUST_ID}")
        @pytest.mark.requires_control("agents", "clock")
        def test_by_marker():
            raise AssertionError("must not run")

        @pytest.mark.requirement("{MUST_ID}")
        def test_by_helper(requires):
            requires("clock")
            raise AssertionError("must not run")

        @pytest.mark.requirement("{MUST_ID}")
        def test_by_control(control):
            raise AssertionError("must not run")

        @pytest.mark.requirement("{MUST_ID}")
        def test_by_exception():
            raise NotApplicable(NotApplicableReason.NO_CONTROL_PLANE, "router")
        """,
    )
    result = run(suite, "--om-target-url", UNREACHABLE, "-rs")
    result.assert_outcomes(skipped=4)
    assert result.ret == 0
    out = result.stdout.str()
    assert "not applicable: target lacks control feature 'agents'" in out
    assert "not applicable: target lacks control feature 'clock'" in out
    assert "not applicable: target lacks control feature 'scenario'" in out
    assert "not applicable: target lacks control feature 'router'" in out
    assert "verdicts: 4 not applicable" in out
    assert "openmedia not tested: 4 not applicable, by reason" in out
    assert "no control plane: 4 tests (agents 1, clock 1, router 1, scenario 1)" in out


def test_unknown_control_feature_in_marker_is_a_collection_error(suite: pytest.Pytester) -> None:
    write(
        suite,
        f'import pytest\n@pytest.mark.requirement("{MUST_ID}")\n'
        '@pytest.mark.requires_control("clocks")\ndef test_x():\n    pass\n',
    )
    result = run(suite)
    assert result.ret == 3
    assert "requires_control('clocks') names no control feature" in result.stdout.str()


def test_unreachable_target_is_an_error_and_exit_status_3(suite: pytest.Pytester) -> None:
    write(
        suite,
        f"""
        import pytest

        @pytest.mark.requirement("{MUST_ID}")
        def test_fetch(om):
            om.fetch_wsdl()
        """,
    )
    result = run(suite, "--om-target-url", UNREACHABLE, "--om-exchange-timeout", "3")
    result.assert_outcomes(errors=1)
    assert result.ret == 3
    out = result.stdout.str()
    assert "ERROR at call of test_fetch" in out
    assert "TransportError" in out and "connection refused" in out
    assert "the suite could not test" in out
    assert "verdicts: 1 error" in out


def test_a_fail_outweighs_an_error_in_the_exit_status(suite: pytest.Pytester) -> None:
    write(suite, FAILING.format(rid=MUST_ID), "test_fails")
    write(
        suite,
        f'import pytest\n@pytest.mark.requirement("{MUST_ID}")\n'
        "def test_broken():\n    raise RuntimeError('suite bug')\n",
        "test_errors",
    )
    result = run(suite)
    assert result.ret == 1
    result.assert_outcomes(failed=1, errors=1)


# -- profile and password ------------------------------------------------------------------
def test_bad_profile_is_a_usage_error_without_traceback(suite: pytest.Pytester) -> None:
    write(
        suite, f'import pytest\n@pytest.mark.requirement("{MUST_ID}")\ndef test_ok():\n    pass\n'
    )
    bad = suite.path / "bad.toml"
    bad.write_text('[target]\nname = "x"\n[tenant]\nid = 1\n[[groups]]\nid = 5\nname = "G"\n'
                   'role = "opne"\n', encoding="utf-8")  # fmt: skip
    result = run_subprocess(suite, "--om-profile", str(bad))
    assert result.ret == 2
    err = result.stderr.str()
    assert "openmedia usage error: profile" in err and "bad.toml" in err
    assert "[[groups]] #1 role" in err and "did you mean 'open'?" in err
    assert "Traceback" not in err + result.stdout.str()


def test_missing_profile_file_is_a_usage_error(suite: pytest.Pytester) -> None:
    result = run_subprocess(suite, "--om-profile", "nowhere.toml")
    assert result.ret == 2
    assert "nowhere.toml: file not found" in result.stderr.str()


def test_password_never_appears_in_any_output(suite: pytest.Pytester) -> None:
    write(
        suite,
        f"""
        import pytest
        from conformance.verdicts import ConformanceFailure

        @pytest.mark.requirement("{MUST_ID}")
        def test_unreachable(om, target):
            print(repr(target), repr(om))
            om.get_all_status()

        @pytest.mark.requirement("{MUST_ID}")
        def test_echoing_server(target, pytestconfig):
            print(repr(target), repr(pytestconfig.stash))
            raise ConformanceFailure("{MUST_ID}", "no echo", "the server said {SECRET}")

        @pytest.mark.requirement("{OPEN_ID}")
        def test_echoing_warning():
            raise ConformanceFailure("{OPEN_ID}", "no echo", "the server said {SECRET}")
        """,
    )
    result = run(
        suite, "--om-target-url", UNREACHABLE, "--om-password", SECRET, "--om-logon-id", "admin",
        "-v", "-rA", "--junitxml", "out.xml", "--om-exchange-timeout", "3",
    )  # fmt: skip
    assert result.ret == 1
    result.assert_outcomes(failed=1, errors=1, passed=1, warnings=1)
    everything = result.stdout.str() + result.stderr.str()
    everything += (suite.path / "out.xml").read_text(encoding="utf-8")
    assert SECRET not in everything
    assert re.search(r"the server said \*\*\*", everything)


def test_suite_module_that_does_not_import_is_a_suite_error(suite: pytest.Pytester) -> None:
    write(suite, "import no_such_module_anywhere\n")
    result = run(suite)
    assert result.ret == 3
    result.assert_outcomes(errors=1)


# -- fixtures against real servers ---------------------------------------------------------
class _NotSoap(http.server.BaseHTTPRequestHandler):
    """A loopback server that answers everything with plain text: no SOAP target at all."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b"hello, I am not a SOAP service"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def not_soap() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotSoap)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/OpenMediaService"
    server.shutdown()
    server.server_close()
    thread.join()


def test_om_checks_every_exchange_and_shows_it_on_failure(
    suite: pytest.Pytester, not_soap: str
) -> None:
    write(
        suite,
        f"""
        import pytest

        @pytest.mark.requirement("{MUST_ID}")
        def test_checked(om):
            om.get_all_status()
        """,
    )
    result = run(suite, "--om-target-url", not_soap)
    result.assert_outcomes(failed=1)
    assert result.ret == 1
    out = result.stdout.str()
    assert re.search(r"\[WIRE-[A-Z-]+\]", out), "a wire check failed, citing its requirement"
    assert "openmedia exchanges" in out and "hello, I am not a SOAP service" in out
    assert "curl -sS -i -X POST" in out


def test_raw_om_is_not_checked(suite: pytest.Pytester, not_soap: str) -> None:
    write(
        suite,
        f"""
        import pytest

        @pytest.mark.requirement("{MUST_ID}")
        def test_raw(raw_om):
            exchange = raw_om.post_raw(b"<x/>", {{"Content-Type": "text/xml"}})
            assert exchange.status == 200 and b"not a SOAP" in exchange.response_body
        """,
    )
    result = run(suite, "--om-target-url", not_soap)
    result.assert_outcomes(passed=1)


def test_scenario_fixtures_drive_the_embedded_emulator(suite: pytest.Pytester) -> None:
    write(
        suite,
        f"""
        import pytest
        from conformance.plugin.runtime import runtime_of

        @pytest.mark.requirement("{MUST_ID}")
        def test_variant(make_scenario, control, target):
            assert target.embedded and target.has("scenario", "agents", "clock")
            variant = make_scenario(data_expiration_minutes=7)
            assert variant.data_expiration_minutes == 7
            assert control.state()["data_expiration_minutes"] == 7

        @pytest.mark.requirement("{MUST_ID}")
        def test_reset(scenario, control):
            assert scenario.data_expiration_minutes == 30
            assert control.state()["data_expiration_minutes"] == 30

        @pytest.mark.requirement("{MUST_ID}")
        @pytest.mark.requires_control("clock")
        def test_recorded(om, pytestconfig):
            exchange = om.fetch_wsdl()
            assert exchange.status == 200
            assert runtime_of(pytestconfig).exchanges[-1] is exchange
        """,
    )
    result = run(suite)
    result.assert_outcomes(passed=3)
    assert result.ret == 0
    assert re.search(r"target http://127\.0\.0\.1:\d+/OpenMediaService; control features: "
                     r"agents, clock", result.stdout.str())  # fmt: skip


def test_observe_keeps_a_choice_as_a_junit_property_without_a_warning(
    suite: pytest.Pytester,
) -> None:
    write(
        suite,
        f"""
        import pytest

        @pytest.mark.requirement("{MUST_ID}")
        def test_choice(observe):
            observe("R19", "empty list")
        """,
    )
    result = run(suite, "--om-target-url", UNREACHABLE, "--junitxml", "junit.xml", "-W", "error")
    result.assert_outcomes(passed=1)
    junit = (suite.path / "junit.xml").read_text(encoding="utf-8")
    assert '<property name="R19" value="empty list"' in junit
    assert "record_property is incompatible" not in result.stdout.str()
