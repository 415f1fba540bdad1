"""The expected-failure baseline: the file's rules, and its four cases in real pytest runs.

The four cases (issue 5): a listed failure does not fail the run (reported as an expected
failure, not a pass); an unlisted failure does (and prints a ready-to-paste entry); a listed
failure that no longer happens fails the run (stale); an expired entry fails the run. A
malformed file is a usage error (exit 2) naming the key.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

import conformance.plugin.runtime  # noqa: F401  (imported once, not afresh in every in-process run)
from conformance.cli.run import plugin_installed
from conformance.contract.catalogue import CATALOGUE
from conformance.contract.paths import fixtures_dir
from conformance.reporting.baseline import (
    Baseline,
    BaselineEntry,
    canonical_test_id,
    evaluate,
    load_baseline,
    parse_baseline,
    suggested_entry,
)
from conformance.verdicts import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

pytest_plugins = ["pytester"]

PLUGIN_ARGS = [
    *([] if plugin_installed() else ["-p", "conformance.plugin"]),
    "-p",
    "no:hypothesispytest",
    "-p",
    "no:cacheprovider",
]
MUSTS = [r.id for r in CATALOGUE.requirements if r.level == "MUST"]
MUST_ID, OTHER_ID = MUSTS[0], MUSTS[1]
TODAY = date(2026, 6, 1)
PACKAGE_PARENT = Path(__file__).resolve().parent.parent


def entry(**fields: object) -> BaselineEntry:
    values: dict[str, object] = {
        "requirement": None,
        "test": None,
        "reason": "r",
        "owner": "o",
        "expires": date(2030, 1, 1),
    }
    values.update(fields)
    return BaselineEntry(**values)  # type: ignore[arg-type]


# -- the file --------------------------------------------------------------------------------
def test_the_example_file_loads() -> None:
    baseline = load_baseline(fixtures_dir() / "baseline-example.toml")
    assert [e.key for e in baseline.entries] == [
        "requirement ADD-LIMIT-LABEL",
        "test conformance/suite/test_service.py::test_wsdl_address_is_the_url_the_client_used",
    ]
    assert all(e.reason and e.owner and isinstance(e.expires, date) for e in baseline.entries)


@pytest.mark.parametrize(
    ("item", "named"),
    [
        ({"requirement": MUST_ID, "reason": "r", "expires": "2030-01-01"}, "key 'owner'"),
        ({"requirement": MUST_ID, "reason": "r", "owner": "o", "expiry": 1}, "key 'expiry'"),
        ({"requirement": MUST_ID, "reason": "r", "owner": "o"}, "key 'expires'"),
        ({"requirement": MUST_ID, "reason": "r", "owner": "o", "expires": "soon"}, "'expires'"),
        ({"reason": "r", "owner": "o", "expires": "2030-01-01"}, "key 'requirement' or key 'test'"),
        ({"requirement": MUST_ID, "test": "t", "reason": "r", "owner": "o"}, "exactly one"),
        ({"requirement": "ADD-NO-SUCH", "reason": "r", "owner": "o"}, "key 'requirement'"),
        ({"requirement": MUST_ID, "reason": "  ", "owner": "o"}, "key 'reason'"),
    ],
)
def test_a_malformed_entry_is_a_usage_error_naming_the_key(
    item: dict[str, object], named: str
) -> None:
    with pytest.raises(UsageError) as caught:
        parse_baseline({"expected": [item]}, Path("b.toml"))
    assert named in str(caught.value)
    assert "b.toml" in str(caught.value) and "#1" in str(caught.value)


def test_an_unknown_key_gets_a_suggestion_and_top_level_keys_are_checked() -> None:
    item = {"requirement": MUST_ID, "reason": "r", "owner": "o", "expiry": "2030-01-01"}
    with pytest.raises(UsageError, match="did you mean 'expires'"):
        parse_baseline({"expected": [item]}, Path("b.toml"))
    with pytest.raises(UsageError, match="top-level key 'expect'"):
        parse_baseline({"expect": []}, Path("b.toml"))


def test_an_entry_listed_twice_is_refused() -> None:
    item = {"requirement": MUST_ID, "reason": "r", "owner": "o", "expires": "2030-01-01"}
    with pytest.raises(UsageError, match="listed twice"):
        parse_baseline({"expected": [item, dict(item)]}, Path("b.toml"))


def test_unreadable_files_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        load_baseline(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[[expected]\n", encoding="utf-8")
    with pytest.raises(UsageError, match="not valid TOML"):
        load_baseline(broken)


# -- matching and evaluating -------------------------------------------------------------------
def test_test_ids_match_whatever_the_rootdir_or_spelling() -> None:
    wanted = "conformance/suite/test_service.py::test_x[a-b]"
    assert canonical_test_id("conformance.suite.test_service::test_x[a-b]") == wanted
    assert canonical_test_id("../site-packages/conformance/suite/test_service.py::test_x[a-b]") == (
        wanted
    )
    assert canonical_test_id("suite/test_mini.py::test_y") == "suite/test_mini.py::test_y"


def test_a_failure_matches_by_test_then_by_the_requirement_it_names() -> None:
    by_test = entry(test="conformance.suite.test_a::test_b")
    by_rid = entry(requirement=MUST_ID)
    baseline = Baseline(Path("b.toml"), (by_rid, by_test))
    assert baseline.match("conformance/suite/test_a.py::test_b", OTHER_ID, ()) is by_test
    assert baseline.match("x.py::t", MUST_ID, (OTHER_ID,)) is by_rid
    # a failure naming another requirement is not excused by one the test merely cites
    assert baseline.match("x.py::t", OTHER_ID, (MUST_ID,)) is None
    # a plain assertion names none: any requirement the test cites matches
    assert baseline.match("x.py::t", None, (OTHER_ID, MUST_ID)) is by_rid


def test_stale_only_when_the_run_showed_the_failure_gone() -> None:
    by_test = entry(test="suite/t.py::gone")
    by_rid = entry(requirement=MUST_ID)
    unseen = entry(requirement=OTHER_ID)
    baseline = Baseline(Path("b.toml"), (by_test, by_rid, unseen))
    outcome = evaluate(baseline, [], ["suite/t.py::gone"], [MUST_ID], [], TODAY)
    assert outcome.stale == (by_test, by_rid) and outcome.fails_run
    still = evaluate(baseline, [by_rid.key, by_test.key], [], [MUST_ID], [MUST_ID], TODAY)
    assert still.stale == () and still.matched == (by_test, by_rid) and not still.fails_run


def test_evaluate_names_an_expired_entry_and_its_owner() -> None:
    old = entry(requirement=MUST_ID, owner="jane@example.com", expires=date(2026, 5, 31))
    today = entry(requirement=OTHER_ID, expires=TODAY)
    outcome = evaluate(Baseline(Path("b.toml"), (old, today)), [old.key], [], [], [], TODAY)
    assert outcome.expired == (old,) and outcome.fails_run
    (line,) = outcome.lines()
    assert MUST_ID in line and "jane@example.com" in line and "2026-05-31" in line


def test_a_suggested_entry_is_valid_toml_that_loads_back() -> None:
    for requirement, nodeid in ((MUST_ID, "x.py::t"), (None, 'suite/t.py::t["quote"]')):
        text = suggested_entry(requirement, nodeid, TODAY)
        loaded = parse_baseline(tomllib.loads(text), Path("pasted.toml"))
        (pasted,) = loaded.entries
        assert pasted.requirement == requirement
        assert pasted.test == (None if requirement else nodeid)
        assert pasted.expires > TODAY


# -- the four cases in real runs -----------------------------------------------------------------
FAILING = """
import pytest
from conformance.verdicts import ConformanceFailure

@pytest.mark.requirement("{rid}")
def test_breaks():
    raise ConformanceFailure("{rid}", "what the rule says", "what the target did")
"""

PASSING = """
import pytest

@pytest.mark.requirement("{rid}")
def test_holds():
    pass
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\nopenmedia_suite_dirs = suite\n")
    pytester.mkpydir("suite")
    return pytester


def write_baseline(pytester: pytest.Pytester, *entries: str) -> str:
    path = pytester.path / "baseline.toml"
    path.write_text("\n".join(entries), encoding="utf-8")
    return str(path)


def rid_entry(rid: str, expires: str = "2099-12-31", owner: str = "team@example.com") -> str:
    return (
        f'[[expected]]\nrequirement = "{rid}"\nreason = "ticket 1"\nowner = "{owner}"\n'
        f"expires = {expires}\n"
    )


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess(*PLUGIN_ARGS, "-rx", *args)


def test_a_listed_failure_does_not_fail_the_run_and_is_no_pass(suite: pytest.Pytester) -> None:
    suite.makepyfile(**{"suite/test_known": FAILING.format(rid=MUST_ID)})
    junit = suite.path / "junit.xml"
    result = run(
        suite, "--om-baseline", write_baseline(suite, rid_entry(MUST_ID)), f"--junitxml={junit}"
    )
    assert result.ret == 0
    result.assert_outcomes(xfailed=1)
    out = result.stdout.str()
    assert f"expected failure (baseline): requirement {MUST_ID}: ticket 1" in out
    assert "1 expected failure(s) (baseline)" in out
    assert "new failure(s)" not in out
    assert '<property name="verdict" value="baseline"' in junit.read_text(encoding="utf-8")


def test_an_unlisted_failure_fails_the_run_and_prints_an_entry(suite: pytest.Pytester) -> None:
    suite.makepyfile(**{"suite/test_new": FAILING.format(rid=OTHER_ID)})
    result = run(suite, "--om-baseline", write_baseline(suite, rid_entry(MUST_ID)))
    assert result.ret == 1
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "1 new failure(s) not in a baseline" in out
    at = out.index("[[expected]]", out.index("new failure(s)"))
    pasted = out[at : out.index("expires = ", at) + len("expires = 2000-01-01")]
    (loaded,) = parse_baseline(tomllib.loads(pasted), Path("pasted")).entries
    assert loaded.requirement == OTHER_ID


def test_a_listed_failure_that_no_longer_happens_fails_the_run(suite: pytest.Pytester) -> None:
    suite.makepyfile(**{"suite/test_fixed": PASSING.format(rid=MUST_ID)})
    result = run(suite, "--om-baseline", write_baseline(suite, rid_entry(MUST_ID)))
    assert result.ret == 1
    result.assert_outcomes(passed=1)
    assert f"stale baseline entry (requirement {MUST_ID})" in result.stdout.str()


def test_an_expired_entry_fails_the_run_naming_its_owner(suite: pytest.Pytester) -> None:
    suite.makepyfile(**{"suite/test_known": FAILING.format(rid=MUST_ID)})
    baseline = write_baseline(suite, rid_entry(MUST_ID, "2000-01-31", "jane@example.com"))
    result = run(suite, "--om-baseline", baseline)
    assert result.ret == 1
    result.assert_outcomes(xfailed=1)
    out = result.stdout.str()
    assert f"expired baseline entry (requirement {MUST_ID}): expired 2000-01-31" in out
    assert "owner jane@example.com" in out


def test_without_a_baseline_a_failure_still_suggests_an_entry(suite: pytest.Pytester) -> None:
    suite.makepyfile(**{"suite/test_new": FAILING.format(rid=MUST_ID)})
    result = run(suite)
    assert result.ret == 1
    assert f'requirement = "{MUST_ID}"' in result.stdout.str()


def test_a_malformed_baseline_is_a_usage_error_naming_the_key(suite: pytest.Pytester) -> None:
    suite.makepyfile(**{"suite/test_ok": PASSING.format(rid=MUST_ID)})
    bad = write_baseline(suite, f'[[expected]]\nrequirement = "{MUST_ID}"\nreason = "r"\n')
    suite._monkeypatch.setenv("PYTHONPATH", str(PACKAGE_PARENT))
    result = suite.runpytest_subprocess(*PLUGIN_ARGS, "--om-baseline", bad)
    assert result.ret == 2
    err = result.stderr.str()
    assert "openmedia usage error: baseline" in err and "key 'owner'" in err
    assert "Traceback" not in err + result.stdout.str()
