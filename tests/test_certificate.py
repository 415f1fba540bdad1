"""The certificate: its verdict rule, its per-requirement matrix, its hash, its files, its command.

The rule (issue 5): certified only if no MUST requirement fails or errs and none that applies is
left untested; a requirement whose every test is *not applicable* does not apply; a baseline
never excuses a failure here; a partial run never certifies. The hash covers the canonical JSON
without itself, so any change of content (but not of key order) is detected.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import conformance.runtime  # imported once, not afresh in every in-process run
from conformance import cli
from conformance.contract.catalogue import CATALOGUE
from conformance.reporting.certificate import (
    TestResult,
    build_certificate,
    certify,
    is_full_run,
    load_document,
    render_html,
    requirement_matrix,
    verify,
    verify_file,
    write_certificate,
)
from conformance.runner import plugin_installed

pytest_plugins = ["pytester"]

MUSTS = [r.id for r in CATALOGUE.requirements if r.level == "MUST"]
OPEN_ID = next(r.id for r in CATALOGUE.requirements if r.level == "OPEN")
SECRET = "pw-Cert1ficate-secret"
SUITE = Path(conformance.runtime.__file__).resolve().parent / "suite"
HEADER: dict[str, Any] = {"suite_version": "0", "target": {"url": "u"}, "run": {"x": "</script>"}}


def all_pass(*, but: dict[str, str] | None = None) -> list[TestResult]:
    """One passing test per MUST requirement, except those ``but`` gives another verdict."""
    but = but or {}
    return [TestResult(f"t.py::{rid}", but.get(rid, "pass"), (rid,), blamed=rid) for rid in MUSTS]


def reasons_for(results: list[TestResult], *, full_run: bool = True) -> list[str]:
    verdict, reasons = certify(requirement_matrix(results), full_run=full_run, collection_errors=0)
    assert (verdict == "certified") == (not reasons)
    return reasons


# -- the rule ----------------------------------------------------------------------------------
def test_a_full_run_with_every_must_passed_is_certified() -> None:
    results = [*all_pass(), TestResult("t.py::open", "warning", (OPEN_ID,), blamed=OPEN_ID)]
    assert reasons_for(results) == []


@pytest.mark.parametrize(
    ("verdict", "reason"),
    [
        ("fail", " fails"),
        ("baseline", " fails (listed in the baseline)"),
        ("error", ": the suite could not test it (error)"),
        ("skipped", " applies but no test of it reached a verdict"),
    ],
)
def test_a_must_requirement_that_did_not_pass_denies_the_certificate(
    verdict: str, reason: str
) -> None:
    assert reasons_for(all_pass(but={MUSTS[3]: verdict})) == [f"{MUSTS[3]} (MUST){reason}"]


def test_not_applicable_does_not_apply_but_a_must_without_any_test_does() -> None:
    assert reasons_for(all_pass(but={MUSTS[0]: "not applicable"})) == []
    missing = [r for r in all_pass() if r.requirements != (MUSTS[5],)]
    assert reasons_for(missing) == [
        f"{MUSTS[5]} (MUST) applies but no test of it reached a verdict"
    ]


def test_a_partial_run_never_certifies_and_does_not_list_what_it_left_out() -> None:
    (reason,) = reasons_for(all_pass()[:3], full_run=False)
    assert reason.startswith("partial run")


def test_a_failure_speaks_about_the_requirement_it_names_only() -> None:
    a, b, wire = MUSTS[0], MUSTS[1], "WIRE-ENVELOPE"
    rows = {
        row["id"]: row
        for row in requirement_matrix(
            [
                TestResult("t.py::x", "fail", (a, b), blamed=wire),
                TestResult("t.py::y", "pass", (a,)),
                TestResult("t.py::z", "fail", (b,)),  # a plain assertion: every cited one
            ]
        )
    }
    assert (rows[wire]["covered"], rows[wire]["tests"], rows[wire]["verdict"]) == (True, 0, "fail")
    assert (rows[a]["tests"], rows[a]["pass"], rows[a]["fail"], rows[a]["verdict"]) == (
        2,
        1,
        0,
        "pass",
    )
    assert (rows[b]["fail"], rows[b]["verdict"]) == (1, "fail")
    untouched = next(row for row in rows.values() if row["id"] not in (a, b, wire))
    assert (untouched["covered"], untouched["verdict"]) == (False, "untested")
    assert len(rows) == len(CATALOGUE.requirements)


# -- the document and its hash ---------------------------------------------------------------------
def test_the_hash_detects_a_changed_count_but_not_a_reordered_file(tmp_path: Path) -> None:
    document = build_certificate(all_pass(), collection_errors=0, full_run=True, header=HEADER)
    assert document["verdict"] == "certified" and verify(document)[0]
    reordered = json.loads(json.dumps(dict(reversed(list(document.items())))))
    assert verify(reordered)[0]
    tampered = json.loads(json.dumps(document))
    tampered["requirements"][0]["fail"] = 1
    ok, message = verify(tampered)
    assert not ok and "altered" in message


def test_the_files_and_the_verify_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = build_certificate(
        all_pass(but={MUSTS[0]: "fail"}), collection_errors=0, full_run=True, header=HEADER
    )
    json_path, html_path = write_certificate(document, tmp_path / "cert")
    assert load_document(json_path) == document == load_document(html_path)
    assert cli.main(["certificate", "verify", str(json_path)]) == 0
    assert cli.main(["certificate", "verify", str(html_path)]) == 0
    assert "not certified" in capsys.readouterr().out
    text = json_path.read_text(encoding="utf-8").replace('"fail": 1', '"fail": 0', 1)
    json_path.write_text(text, encoding="utf-8")
    assert not verify_file(json_path)[0]
    assert cli.main(["certificate", "verify", str(json_path)]) == 1
    assert cli.main(["certificate", "verify", str(tmp_path / "none.json")]) == 2


def test_the_page_is_self_contained() -> None:
    document = build_certificate(all_pass(), collection_errors=0, full_run=True, header=HEADER)
    page = render_html(document)
    assert not re.search(r"<(?:link|img|iframe)\b|<script\b[^>]*\bsrc=", page)
    assert "http://" not in page.replace('"url": "u"', "") and "https://" not in page
    assert page.count("</script>") == 1  # a value cannot close the embedded JSON early
    assert "CERTIFIED" in page and document["sha256"] in page


def config(args: list[str], *, pyargs: bool = False, keyword: str = "", source: str = "ARGS"):
    return SimpleNamespace(
        option=SimpleNamespace(keyword=keyword, markexpr="", pyargs=pyargs, deselect=None),
        args=args,
        invocation_params=SimpleNamespace(dir=Path("/nowhere")),
        rootpath=SUITE.parent.parent,
        args_source=getattr(pytest.Config.ArgsSource, source),
    )


def test_a_full_run_is_the_whole_suite_and_nothing_filtered() -> None:
    assert is_full_run(config(["conformance.suite"], pyargs=True))  # openmedia-conformance run
    assert is_full_run(config([str(SUITE)]))
    assert is_full_run(config(["conformance/suite"], source="TESTPATHS"))  # plain `pytest`
    assert not is_full_run(config(["conformance.suite"], pyargs=True, keyword="add"))
    assert not is_full_run(config([f"{SUITE}/test_service.py"]))
    assert not is_full_run(config(["conformance.suite.test_service"], pyargs=True))
    assert not is_full_run(config([f"{SUITE}::x"]))


# -- a real run ----------------------------------------------------------------------------------
@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\nopenmedia_suite_dirs = suite\n")
    pytester.mkpydir("suite")
    pytester.makepyfile(
        **{
            "suite/test_service_like": """
            import pytest

            @pytest.mark.requirement("SVC-WSDL")
            def test_wsdl(om):
                assert om.fetch_wsdl().status == 200

            @pytest.mark.requirement("SVC-ENDPOINT")
            def test_fails(om):
                om.get_all_status()
                assert False, "planted"
            """
        }
    )
    return pytester


def test_a_run_writes_the_certificate_it_was_asked_for(suite: pytest.Pytester) -> None:
    plugin = [] if plugin_installed() else ["-p", "conformance.plugin"]
    where = suite.path / "out"
    result = suite.runpytest_inprocess(
        *plugin, "-p", "no:cacheprovider", "--certificate", str(where),
        "--password", SECRET, "--hypothesis-seed", "1234",
    )  # fmt: skip
    assert result.ret == 1
    assert "openmedia certificate: NOT CERTIFIED (partial run)" in result.stdout.str()
    document = load_document(where / "certificate.json")
    assert verify(document)[0] and load_document(where / "certificate.html") == document
    target, profile, run = document["target"], document["profile"], document["run"]
    assert target["url"].startswith("http://127.0.0.1:") and target["embedded"] is True
    assert re.fullmatch(r"[0-9a-f]{64}", target["wsdl_sha256"])
    assert "scenario" in target["features"] and "scenario" in profile["control_features"]
    assert profile["path"].endswith("emulator.toml")
    assert run["hypothesis_seed"] == "1234" and run["exit_status"] == 1
    assert "--hypothesis-seed 1234" in run["command_line"]
    assert run["command_line"].startswith("OPENMEDIA_PASSWORD=... python -m pytest")
    rows = {row["id"]: row for row in document["requirements"]}
    assert (rows["SVC-WSDL"]["pass"], rows["SVC-WSDL"]["verdict"]) == (1, "pass")
    assert (rows["SVC-ENDPOINT"]["fail"], rows["SVC-ENDPOINT"]["verdict"]) == (1, "fail")
    assert "SVC-ENDPOINT (MUST) fails" in document["reasons"]
    for path in where.iterdir():
        assert SECRET not in path.read_text(encoding="utf-8")
    assert SECRET not in result.stdout.str() + result.stderr.str()


def test_a_partial_run_writes_no_certificate_unless_asked(suite: pytest.Pytester) -> None:
    plugin = [] if plugin_installed() else ["-p", "conformance.plugin"]
    result = suite.runpytest_inprocess(
        *plugin, "-p", "no:cacheprovider", "-p", "no:hypothesispytest"
    )
    assert result.ret == 1
    assert not (suite.path / "reports" / "certificate").exists()
    assert "openmedia certificate" not in result.stdout.str()


def test_under_xdist_the_controller_counts_and_writes_once_with_one_seed(
    suite: pytest.Pytester,
) -> None:
    plugin = [] if plugin_installed() else ["-p", "conformance.plugin"]
    suite._monkeypatch.setenv("PYTHONPATH", str(SUITE.parent.parent))
    where = suite.path / "out"
    result = suite.runpytest_subprocess(
        *plugin, "-p", "no:cacheprovider", "-n", "2", "--certificate", str(where)
    )
    assert result.ret == 1
    out = result.stdout.str()
    document = load_document(where / "certificate.json")
    seed = document["run"]["hypothesis_seed"]
    assert seed is not None and f"--hypothesis-seed={seed} suite/test_service_like.py" in out
    assert re.fullmatch(r"[0-9a-f]{64}", document["target"]["wsdl_sha256"])
    assert document["run"]["test_verdicts"] == {"fail": 1, "pass": 1}
    assert "openmedia [Service information] test_service_like.py: 2/2" in out
