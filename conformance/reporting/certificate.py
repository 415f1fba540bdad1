"""The certificate of a run: what was proven, against what, with which outcome, signed.

Written at the end of a complete run of the whole suite (``openmedia-conformance run``,
``reports/certificate``) or of any run given ``--om-certificate DIR``: ``certificate.json`` and a
self-contained ``certificate.html`` (no external resource; the JSON is embedded in it). It holds
the suite version, the target's fingerprint (URL, Server header, sha256 of the WSDL and of every
XSD it served, and of the contract bundled with the suite), the profile (path and sha256), one
row per catalogue requirement (covered, counts per verdict, final verdict), the verdict and a
headline naming the profile it was proven on, the requirements that did not apply and why, the
command line (password masked) and Hypothesis seed that rerun it, and ``sha256``: the digest of
the canonical JSON without that field and without the signature.

The ``sha256`` is a content *fingerprint*: anyone who edits the file can recompute it, so it
proves nothing against a forger. ``signature`` (``run --om-sign-with KEY`` or ``certificate sign
KEY``; ``conformance.reporting.signature``) does: ``certificate verify --public-key PUB FILE``
fails on any edited byte of the file and on a signature by another key.

The verdict is one of three. *Incomplete*: the run was not the whole suite run to its end (a
selection such as ``-k``, ``-m``, a module, ``--lf``; stopped by ``-x``/``--maxfail`` or because
the target went silent; interrupted); such a run writes a certificate only when asked, and never
over a complete run's one. *Certified*: a complete run in which no MUST requirement failed (a
baseline does not excuse a failure here: it only keeps CI green) or ended in an error, and every
MUST requirement that applies reached a verdict. *Not certified* otherwise. A requirement whose
every test was *not applicable* (the target lacks the capability) does not apply: the headline
then names a narrower profile than the full one (``CERTIFIED: observable profile (131 of 227;
96 not applicable: ...)``), and the certificate lists each such requirement, MUSTs first, with
what it lacked; only a run that tested every requirement reads ``full profile (227/227
requirements)``.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.verdicts import Verdict as TestVerdict

if TYPE_CHECKING:
    import pytest

    from conformance.reporting.signature import SigningKey

FORMAT = "openmedia-conformance-certificate/2"
JSON_NAME = "certificate.json"
HTML_NAME = "certificate.html"
UNSIGNED_FIELDS = ("sha256", "signature")
"""Fields the fingerprint and the signature do not cover (they are made from the rest)."""
COUNTED = (
    TestVerdict.PASS,
    TestVerdict.FAIL,
    TestVerdict.WARNING,
    TestVerdict.NOT_APPLICABLE,
    TestVerdict.ERROR,
    TestVerdict.BASELINE,
    TestVerdict.FLAKY,
    TestVerdict.SKIPPED,
)
"""Verdicts counted per requirement (``baseline``: a failure the baseline lists; ``flaky``:
failed, then passed on a re-run)."""


class RequirementVerdict(str, Enum):
    """A requirement's verdict in the certificate: the worst its tests gave it (the value is
    what the JSON holds)."""

    FAIL = "fail"
    ERROR = "error"
    EXPECTED_FAILURE = "expected failure"
    FLAKY = "flaky"
    WARNING = "warning"
    PASS = "pass"
    NOT_APPLICABLE = "not applicable"
    UNTESTED = "untested"


_FINAL_ORDER = (
    (TestVerdict.FAIL, RequirementVerdict.FAIL),
    (TestVerdict.ERROR, RequirementVerdict.ERROR),
    (TestVerdict.BASELINE, RequirementVerdict.EXPECTED_FAILURE),
    (TestVerdict.FLAKY, RequirementVerdict.FLAKY),
    (TestVerdict.WARNING, RequirementVerdict.WARNING),
    (TestVerdict.PASS, RequirementVerdict.PASS),
    (TestVerdict.NOT_APPLICABLE, RequirementVerdict.NOT_APPLICABLE),
)
_BLAMEABLE = frozenset({TestVerdict.FAIL, TestVerdict.WARNING, TestVerdict.BASELINE})
_TESTED = frozenset(
    {
        RequirementVerdict.PASS,
        RequirementVerdict.FAIL,
        RequirementVerdict.WARNING,
        RequirementVerdict.EXPECTED_FAILURE,
        RequirementVerdict.FLAKY,
    }
)
"""Final verdicts that say the requirement was tested (an error is no verdict on the target)."""
_LEVEL_ORDER = {"MUST": 0, "SHOULD": 1, "OPEN": 2}
_LACKS = re.compile(r"target lacks ((?:control feature )?)('[^']*')")
"""What ``NotApplicable`` (``conformance.verdicts``) names in its reason: the missing feature."""


class Verdict(str, Enum):
    """The certificate's verdict (its value is what the JSON holds)."""

    CERTIFIED = "certified"
    NOT_CERTIFIED = "not certified"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True)
class TestResult:
    """One verdict-bearing report of a suite test (the same as the console counts)."""

    nodeid: str
    verdict: TestVerdict
    requirements: tuple[str, ...]
    blamed: str | None = None
    baseline: str | None = None
    reason: str | None = None
    """Why a *not applicable* test did not apply (its reason after ``not applicable:``)."""

    __test__ = False  # not a pytest test class, whatever its name

    def __post_init__(self) -> None:
        object.__setattr__(self, "verdict", TestVerdict(self.verdict))

    @property
    def attributed(self) -> tuple[str, ...]:
        """The requirements the verdict speaks about.

        A failure (or warning) that names its requirement speaks about that one only: the test
        stopped there, so the other requirements it cites were not concluded. Any other
        verdict (pass, not applicable, error, a plain assertion) concerns every cited one.
        """
        if self.verdict in _BLAMEABLE and self.blamed:
            return (self.blamed,)
        return self.requirements


def requirement_matrix(results: Iterable[TestResult]) -> list[dict[str, Any]]:
    """One row per catalogue requirement, in catalogue order."""
    from conformance.contract.catalogue import CATALOGUE

    counts: dict[str, Counter[TestVerdict]] = {}
    cited: Counter[str] = Counter()
    for result in results:
        cited.update(dict.fromkeys(result.requirements, 1))
        for rid in result.attributed:
            counts.setdefault(rid, Counter())[result.verdict] += 1
    rows = []
    for item in CATALOGUE.requirements:
        tally = counts.get(item.id, Counter())
        rows.append(
            {
                "id": item.id,
                "section": item.section,
                "level": item.level,
                "covered": bool(cited[item.id] or tally),
                "tests": cited[item.id],
                **{verdict.value: tally[verdict] for verdict in COUNTED},
                "verdict": final_verdict(tally).value,
            }
        )
    return rows


def final_verdict(tally: Mapping[TestVerdict, int]) -> RequirementVerdict:
    """The requirement's verdict: the worst one any test gave it; ``untested`` when none."""
    for verdict, name in _FINAL_ORDER:
        if tally.get(verdict):
            return name
    return RequirementVerdict.UNTESTED


def certify(
    rows: Iterable[Mapping[str, Any]],
    *,
    incomplete: Sequence[str] = (),
    collection_errors: int = 0,
    strict: bool = False,
) -> tuple[Verdict, list[str]]:
    """The verdict and its reasons (why incomplete first, then what failed). A MUST
    requirement that was *flaky* (failed, then passed on a re-run) is met, and counted apart;
    under ``--om-strict`` it is not met, as it fails the run there."""
    reasons = [f"incomplete run: {why}" for why in incomplete]
    if collection_errors:
        reasons.append(f"{collection_errors} suite module(s) could not be collected")
    for row in rows:
        if row["level"] != "MUST":
            continue
        verdict, rid = row["verdict"], row["id"]
        if verdict == RequirementVerdict.FAIL:
            reasons.append(f"{rid} (MUST) fails")
        elif verdict == RequirementVerdict.EXPECTED_FAILURE:
            reasons.append(f"{rid} (MUST) fails (listed in the baseline)")
        elif verdict == RequirementVerdict.ERROR:
            reasons.append(f"{rid} (MUST): the suite could not test it (error)")
        elif verdict == RequirementVerdict.FLAKY and strict:
            reasons.append(f"{rid} (MUST) is flaky: failed, then passed on a re-run (--om-strict)")
        elif verdict == RequirementVerdict.UNTESTED and not incomplete:
            reasons.append(f"{rid} (MUST) applies but no test of it reached a verdict")
    if incomplete:
        return Verdict.INCOMPLETE, reasons
    return (Verdict.NOT_CERTIFIED if reasons else Verdict.CERTIFIED), reasons


# -- what was proven: the profile and what did not apply ---------------------------------------
def not_applicable(
    rows: Iterable[Mapping[str, Any]], results: Iterable[TestResult]
) -> list[dict[str, Any]]:
    """The requirements that did not apply, MUSTs first, each with what it lacked and why."""
    why: dict[str, list[str]] = {}
    for result in results:
        if result.verdict == TestVerdict.NOT_APPLICABLE:
            for rid in result.requirements:
                why.setdefault(rid, []).append(result.reason or "no reason given")
    entries = []
    for row in rows:
        if row["verdict"] != RequirementVerdict.NOT_APPLICABLE:
            continue
        reasons = list(dict.fromkeys(why.get(row["id"], ["no reason given"])))
        entries.append(
            {
                "id": row["id"],
                "level": row["level"],
                "section": row["section"],
                "missing": _lacking(reasons),
                "why": "; ".join(reasons),
            }
        )
    return sorted(entries, key=lambda entry: _LEVEL_ORDER.get(entry["level"], len(_LEVEL_ORDER)))


def _lacking(reasons: Iterable[str]) -> str:
    """What the reasons say the target lacked: ``control features 'agents' and 'scenario'``,
    ``'profile agents'``, or the reason itself where it names no feature."""
    control: set[str] = set()
    other: set[str] = set()
    for reason in reasons:
        found = _LACKS.search(reason)
        if found is None:
            other.add(reason)
        else:
            (control if found.group(1) else other).add(found.group(2))
    named = sorted(other)
    if control:
        word = "control feature" if len(control) == 1 else "control features"
        named.insert(0, f"{word} {' and '.join(sorted(control))}")
    return " and ".join(named)


def profile_name(*, everything_tested: bool, features_used: Sequence[str], safe_mode: bool) -> str:
    """The profile the run proved conformance on.

    *Full* only when every requirement was tested; else *observable* when no control feature
    was used, *partial* (naming the features used) when some were; and *in safe mode* when the
    profile withheld the features that change the server.
    """
    if everything_tested:
        return "full profile"
    if features_used:
        name = f"partial profile (control features: {', '.join(sorted(features_used))})"
    else:
        name = "observable profile"
    return f"{name} in safe mode" if safe_mode else name


def headline(
    verdict: Verdict,
    rows: Sequence[Mapping[str, Any]],
    absent: Sequence[Mapping[str, Any]],
    *,
    profile: str,
    incomplete: Sequence[str] = (),
    flaky: int = 0,
) -> str:
    """``CERTIFIED: full profile (227/227 requirements)``, ``CERTIFIED: observable profile (131
    of 227; 96 not applicable: ...)``, ``INCOMPLETE (-k 'add'): 12 of 227 requirements tested;
    215 untested``: the numbers from the catalogue and the run. *Untested* counts what reached
    no verdict on the target: no test, or an error (the suite could not test). Tests that were
    *flaky* (passed only on a re-run) are counted at the end: ``; 2 tests flaky``."""
    said = _headline(verdict, rows, absent, profile=profile, incomplete=incomplete)
    if not flaky:
        return said
    return f"{said}; {flaky} test{'s' if flaky != 1 else ''} flaky (passed only on a re-run)"


def flaky_tests(results: Iterable[TestResult]) -> list[dict[str, Any]]:
    """The tests that failed, then passed on a re-run, with the requirements they cite."""
    return [
        {"test": result.nodeid, "requirements": list(result.requirements)}
        for result in results
        if result.verdict == TestVerdict.FLAKY
    ]


def _headline(
    verdict: Verdict,
    rows: Sequence[Mapping[str, Any]],
    absent: Sequence[Mapping[str, Any]],
    *,
    profile: str,
    incomplete: Sequence[str],
) -> str:
    total = len(rows)
    tested = sum(1 for r in rows if r["verdict"] in _TESTED)
    untested = total - tested - len(absent)
    word = verdict.value.upper()
    if incomplete:  # no profile was proven: say what ran, and why it was not all
        word, profile = f"{word} ({'; '.join(incomplete)})", "requirements tested"
    elif tested == total:
        return f"{word}: {profile} ({tested}/{total} requirements)"
    parts = [f"{tested} of {total}"]
    if absent:
        lacking = Counter(str(entry["missing"]) for entry in absent).most_common()
        shown = [
            f"{count} {'lacks' if count == 1 else 'lack'} {what}" for what, count in lacking[:4]
        ]
        rest = sum(count for _, count in lacking[4:])
        if rest:
            shown.append(f"{rest} for {len(lacking) - 4} other reasons")
        parts.append(f"{len(absent)} not applicable: {', '.join(shown)}")
    if untested:
        parts.append(f"{untested} untested")
    if incomplete:
        return f"{word}: {parts[0]} {profile}" + "".join(f"; {part}" for part in parts[1:])
    return f"{word}: {profile} ({'; '.join(parts)})"


# -- the scope: whole suite, run to its end --------------------------------------------------------
def selection_reasons(config: pytest.Config) -> list[str]:
    """What narrowed the run to less than the whole suite (``[]``: the suite folder or
    package, no filter)."""
    option = config.option
    reasons = []
    if getattr(option, "keyword", ""):
        reasons.append(f"-k {option.keyword!r}")
    if getattr(option, "markexpr", ""):
        reasons.append(f"-m {option.markexpr!r}")
    if getattr(option, "deselect", None):
        reasons.append("--deselect")
    if getattr(option, "lf", False):
        reasons.append("--lf (the last run's failures only)")
    if getattr(option, "stepwise", False) or getattr(option, "stepwise_skip", False):
        reasons.append("--sw (stepwise)")
    chosen = _chosen_paths(config)
    if chosen:
        reasons.append(f"a selection of the suite ({' '.join(chosen)})")
    return reasons


def _chosen_paths(config: pytest.Config) -> list[str]:
    """The arguments that name less (or other) than the whole suite."""
    import pytest

    from conformance.contract.paths import SUITE_DIR, SUITE_PACKAGE

    args = [str(arg) for arg in config.args]
    if not args:
        return ["no test path"]
    base = config.invocation_params.dir
    if config.args_source == pytest.Config.ArgsSource.TESTPATHS:
        base = config.rootpath
    chosen = []
    for arg in args:
        if getattr(config.option, "pyargs", False) and arg == SUITE_PACKAGE:
            continue
        if "::" in arg or (base / arg).resolve() != SUITE_DIR:
            chosen.append(arg)
    return chosen


def is_full_run(config: pytest.Config) -> bool:
    """True when the run selected the whole suite: the suite folder or package, no filter."""
    return not selection_reasons(config)


def stop_reasons(
    *,
    should_fail: object,
    should_stop: object,
    interrupted: bool,
    maxfail: int,
    failures: int,
    ran: int,
    collected: int,
) -> list[str]:
    """Why a run that selected the whole suite did not run all of it.

    pytest sets ``shouldfail`` on ``-x``/``--maxfail``; the plugin sets ``shouldstop`` when the
    target goes silent; under xdist both end as an interruption, told apart by the count of
    failures. ``ran < collected`` catches any other way to stop early.
    """
    reasons = []
    if should_fail:
        reasons.append(f"stopped by -x/--maxfail ({should_fail})")
    elif should_stop:
        reasons.append(f"stopped early: {should_stop}")
    elif interrupted and maxfail and failures >= maxfail:
        reasons.append(f"stopped by -x/--maxfail (stopping after {failures} failures)")
    elif interrupted:
        reasons.append("interrupted")
    if ran < collected:
        reasons.append(f"{ran} of {collected} tests ran")
    return reasons


# -- the document --------------------------------------------------------------------------------
def build_certificate(
    results: Sequence[TestResult],
    *,
    header: Mapping[str, Any],
    incomplete: Sequence[str] = (),
    collection_errors: int = 0,
    features_used: Sequence[str] = (),
    safe_mode: bool = False,
) -> dict[str, Any]:
    """The certificate: ``header`` (suite, target, contract, profile, run) plus the matrix, the
    verdict and its headline, what did not apply, and the content fingerprint."""
    rows = requirement_matrix(results)
    strict = bool(header.get("run", {}).get("strict", False))
    verdict, reasons = certify(
        rows, incomplete=incomplete, collection_errors=collection_errors, strict=strict
    )
    flaky = flaky_tests(results)
    absent = not_applicable(rows, results)
    tested = sum(1 for row in rows if row["verdict"] in _TESTED)
    profile = profile_name(
        everything_tested=tested == len(rows), features_used=features_used, safe_mode=safe_mode
    )
    totals = Counter(row["verdict"] for row in rows)
    document: dict[str, Any] = {
        "format": FORMAT,
        **header,
        "scope": "incomplete" if incomplete else "full",
        "incomplete_because": list(incomplete),
        "verdict": verdict.value,
        "headline": headline(
            verdict, rows, absent, profile=profile, incomplete=incomplete, flaky=len(flaky)
        ),
        "reasons": reasons,
        "proven_on": {
            "profile": profile,
            "requirements": len(rows),
            "tested": tested,
            "not_applicable": len(absent),
            "untested": len(rows) - tested - len(absent),
        },
        "not_applicable": absent,
        "flaky": flaky,
        "requirement_verdicts": dict(sorted(totals.items())),
        "requirements": rows,
    }
    document["sha256"] = digest(document)
    return document


def canonical(document: Mapping[str, Any]) -> bytes:
    """The bytes the fingerprint and the signature cover: sorted keys, no whitespace, UTF-8,
    without ``sha256`` and ``signature``."""
    body = {key: value for key, value in document.items() if key not in UNSIGNED_FIELDS}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(document: Mapping[str, Any]) -> str:
    """The content fingerprint (detects a change, proves nothing against a forger)."""
    return hashlib.sha256(canonical(document)).hexdigest()


def verify(document: Mapping[str, Any]) -> tuple[bool, str]:
    """``(True, message)`` when the recorded ``sha256`` matches the content."""
    recorded = document.get("sha256")
    computed = digest(document)
    if recorded == computed:
        return True, f"content fingerprint intact (sha256 {computed})"
    return False, f"certificate altered: recorded sha256 {recorded}, content hashes to {computed}"


def sign(document: Mapping[str, Any], key: SigningKey) -> dict[str, Any]:
    """``document`` with ``key``'s signature of its canonical content (any earlier one replaced)."""
    signed = {k: v for k, v in document.items() if k != "signature"}
    signed["signature"] = key.sign(canonical(document))
    return signed


def render_json(document: Mapping[str, Any]) -> str:
    """The text of ``certificate.json``: the only form its bytes may take."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def load_document(path: Path) -> dict[str, Any]:
    """A certificate from its JSON file or from the JSON embedded in its HTML page."""
    return _load(path)[0]


def _load(path: Path) -> tuple[dict[str, Any], str, str]:
    """The document, the file's text and the text its content renders to (for the byte check)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    is_html = path.suffix.lower() in (".html", ".htm")
    embedded = text
    if is_html:
        marker = '<script type="application/json" id="certificate">'
        if marker not in text:
            raise ValueError("no certificate is embedded in this page")
        start = text.index(marker)
        embedded = text[text.index(">", start) + 1 : text.index("</script>", start)]
        embedded = embedded.replace("<\\/", "</")
    try:
        loaded = json.loads(embedded)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a certificate (invalid JSON: {exc})") from None
    if not isinstance(loaded, dict):
        raise ValueError("not a certificate (a JSON object is expected)")
    try:
        rendered = render_html(loaded) if is_html else render_json(loaded)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:  # an edited key or value
        raise ValueError(
            f"not a certificate this suite wrote ({type(exc).__name__}: {exc})"
        ) from None
    return loaded, text, rendered


def verify_file(path: str | Path, public_key: Path | None = None) -> tuple[bool, str]:
    """Check a certificate file: its fingerprint, its bytes, and (given the public key of
    whoever signed it) its signature. ``(ok, message)``; ``ValueError``/``OSError`` if unreadable.

    The bytes must be exactly those its content renders to, so that no edit (even of
    whitespace the JSON would ignore) passes unnoticed.
    """
    from conformance.reporting import signature

    path = Path(path)
    key = signature.load_public_key(public_key) if public_key is not None else None
    document, text, rendered = _load(path)
    ok, message = verify(document)
    if not ok:
        return False, message
    if text != rendered:
        at = next((i for i, (a, b) in enumerate(zip(text, rendered, strict=False)) if a != b), None)
        where = f"character {at}" if at is not None else f"its length ({len(text)} characters)"
        return False, (
            f"certificate edited: {path.name} differs from the certificate its content describes "
            f"(first at {where})"
        )
    said = document.get("headline") or str(document.get("verdict", "")).upper()
    record = document.get("signature")
    if key is None:
        signed = (
            f"signed by key sha256 {record.get('key_sha256')}, signature not checked"
            if isinstance(record, dict)
            else "not signed"
        )
        return True, (
            f"{message}; {signed}. The fingerprint only detects accidental changes (anyone who "
            f"edits the file can recompute it): check the signature with --public-key PUB.\n"
            f"{said}"
        )
    if not isinstance(record, dict):
        return False, f"certificate not signed: {path.name} carries no signature to check"
    problem = signature.check(key, canonical(document), record)
    if problem is not None:
        return False, f"signature check failed: {problem}"
    return True, (
        f"certificate verified: signed by key sha256 {record['key_sha256']} ({public_key}); "
        f"content sha256 {document['sha256']}\n{said}"
    )


def write_certificate(document: Mapping[str, Any], directory: Path) -> tuple[Path, Path]:
    """Write ``certificate.json`` and ``certificate.html`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path, html_path = directory / JSON_NAME, directory / HTML_NAME
    json_path.write_bytes(render_json(document).encode("utf-8"))
    html_path.write_bytes(render_html(document).encode("utf-8"))
    return json_path, html_path


def complete_certificate_in(directory: Path) -> bool:
    """True when ``directory`` holds a complete run's certificate (an incomplete run must not
    replace it)."""
    try:
        return load_document(directory / JSON_NAME).get("scope") == "full"
    except (OSError, ValueError):
        return False


# -- the page ------------------------------------------------------------------------------------
_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{margin:0 0 .2em}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}th{background:#f4f4f4}
.banner{padding:.8em 1em;font-size:1.4em;font-weight:bold;color:#fff;border-radius:4px}
.certified{background:#2e7d32}.not-certified{background:#c62828}.incomplete{background:#616161}
.v-pass{background:#e8f5e9}.v-fail,.v-error,.v-expected-failure{background:#ffebee}
.v-warning{background:#fff8e1}.v-not-applicable,.v-untested{background:#eceff1}
code{font-size:12px;word-break:break-all}
"""


def _e(value: Any) -> str:
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    return html.escape(str(value))


def _table(pairs: Iterable[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>" for k, v in pairs)
    return f"<table>{rows}</table>"


def _grid(columns: Sequence[str], rows: Iterable[Sequence[Any]], css: Sequence[str] = ()) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    classes = list(css)
    body = "".join(
        (f'<tr class="{_e(classes[i])}">' if i < len(classes) else "<tr>")
        + "".join(f"<td>{_e(cell)}</td>" for cell in row)
        + "</tr>"
        for i, row in enumerate(rows)
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _signature_text(document: Mapping[str, Any]) -> str:
    record = document.get("signature")
    if not isinstance(record, dict):
        return (
            "<p>Not signed: nothing here proves who wrote this certificate "
            "(<code>openmedia-conformance certificate sign KEY FILE</code> signs it).</p>"
        )
    return (
        f"<p>Signed ({_e(record.get('algorithm'))}) by the key whose public key has sha256 "
        f"<code>{_e(record.get('key_sha256'))}</code>; check with <code>openmedia-conformance "
        "certificate verify --public-key PUB FILE</code>.</p>"
    )


def render_html(document: Mapping[str, Any]) -> str:
    """A single self-contained page (inline CSS, no script that runs, the JSON embedded)."""
    verdict = str(document.get("verdict", ""))
    said = str(document.get("headline") or verdict.upper())
    reasons = "".join(f"<li>{_e(r)}</li>" for r in document.get("reasons", []))
    columns = [verdict.value for verdict in COUNTED if verdict != TestVerdict.SKIPPED]
    rows = list(document.get("requirements", []))
    matrix = _grid(
        ("requirement", "level", "section", "tests", *columns, "verdict"),
        (
            (
                r["id"],
                r["level"],
                r["section"],
                r["tests"],
                *(r.get(c, 0) for c in columns),
                r["verdict"],
            )
            for r in rows
        ),
        [f"v-{str(r['verdict']).replace(' ', '-')}" for r in rows],
    )
    absent = list(document.get("not_applicable", []))
    absent_table = _grid(
        ("requirement", "level", "section", "lacks", "why"),
        ((a["id"], a["level"], a["section"], a["missing"], a["why"]) for a in absent),
    )
    flaky = list(document.get("flaky", []))
    flaky_table = _grid(
        ("test", "requirements"),
        ((f["test"], " ".join(f["requirements"])) for f in flaky),
    )
    embedded = json.dumps(document, indent=1, ensure_ascii=False).replace("</", "<\\/")
    css_class = verdict.replace(" ", "-") or "not-certified"
    heading = "Why incomplete" if verdict == Verdict.INCOMPLETE.value else "Why not certified"
    run = document.get("run", {})
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Open Media conformance certificate: {_e(said)}</title>"
        f"<style>{_STYLE}</style></head><body>"
        "<h1>Open Media Service conformance certificate</h1>"
        f'<div class="banner {_e(css_class)}">{_e(said)}</div>'
        + (f"<h2>{heading}</h2><ul>{reasons}</ul>" if reasons else "")
        + (
            f"<h2>Not applicable ({len(absent)}, MUST first)</h2>"
            "<p>These requirements were not proven: the target (or the profile) lacked what "
            f"their tests need.</p>{absent_table}"
            if absent
            else ""
        )
        + (
            f"<h2>Flaky ({len(flaky)})</h2>"
            "<p>These tests failed, then passed on a re-run (--om-reruns): the target did not "
            f"answer the same every time.</p>{flaky_table}"
            if flaky
            else ""
        )
        + "<h2>Target</h2>"
        + _table(document.get("target", {}).items())
        + "<h2>Contract</h2>"
        + _table(document.get("contract", {}).items())
        + "<h2>Profile</h2>"
        + _table(document.get("profile", {}).items())
        + "<h2>Run</h2>"
        + _table(
            [
                ("suite version", document.get("suite_version")),
                ("generated at", document.get("generated_at")),
                *run.items(),
            ]
        )
        + "<h2>Requirements</h2>"
        + _table((document.get("proven_on") or {}).items())
        + _table((document.get("requirement_verdicts") or {}).items())
        + matrix
        + "<h2>Integrity</h2>"
        + f"<p>sha256 of the canonical JSON: <code>{_e(document.get('sha256'))}</code>. A content "
        "fingerprint: it shows an accidental change, but anyone who edits the certificate can "
        "recompute it, so it proves nothing against a forger; the signature does.</p>"
        + _signature_text(document)
        + f'<script type="application/json" id="certificate">{embedded}</script>'
        + "</body></html>\n"
    )


# -- the command --------------------------------------------------------------------------------
def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``openmedia-conformance certificate keygen | sign | verify``."""
    parser = subparsers.add_parser(
        "certificate",
        help="make a signing key, sign a run's certificate, verify one",
        description="Sign and verify the certificates written by runs (certificate.json or "
        ".html). Exit status: 0 done or verified, 1 verification failed, 2 unusable input.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    keygen = actions.add_parser(
        "keygen",
        help="write a new Ed25519 key pair (PEM); never overwrites a file",
        description="Write a new Ed25519 key pair: the private key (PEM, readable by you only: "
        "keep it secret) and the public key (PEM: hand it to whoever verifies).",
    )
    keygen.add_argument("key", type=Path, metavar="KEY", help="the private key file to create")
    keygen.add_argument(
        "--public-key", type=Path, metavar="PUB", help="the public key file (default: KEY.pub)"
    )
    keygen.set_defaults(handler=_keygen_command, subparser=keygen)
    signer = actions.add_parser(
        "sign",
        help="sign a certificate with a private key (KEY from keygen)",
        description="Sign a certificate: PATH is certificate.json, certificate.html, or the "
        "folder holding them (both are signed). A certificate whose content no longer matches "
        "its sha256 is refused.",
    )
    signer.add_argument("key", type=Path, metavar="KEY", help="the private key (PEM)")
    signer.add_argument("path", type=Path, metavar="PATH", help="certificate file or folder")
    signer.set_defaults(handler=_sign_command, subparser=signer)
    verifier = actions.add_parser(
        "verify",
        help="check a certificate: unchanged, and (with --public-key) signed by that key",
        description="Check a certificate: its content fingerprint, that no byte was edited, "
        "and, with --public-key, its signature. Exit 1 if any check fails.",
    )
    verifier.add_argument("file", type=Path, help="certificate.json or certificate.html")
    verifier.add_argument(
        "--public-key",
        type=Path,
        metavar="PUB",
        help="the signer's public key (PEM); without it the signature is not checked",
    )
    verifier.set_defaults(handler=_verify_command, subparser=verifier)


def _say(message: str) -> None:
    print(f"openmedia-conformance certificate: {message}")


def _verify_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from conformance.reporting.signature import KeyFileError

    try:
        ok, message = verify_file(args.file, args.public_key)
    except KeyFileError as exc:
        _say(str(exc))
        return 2
    except (OSError, ValueError) as exc:
        _say(f"cannot read {args.file}: {getattr(exc, 'strerror', None) or exc}")
        return 2
    print(message)
    return 0 if ok else 1


def _keygen_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from conformance.reporting.signature import KeyFileError, generate_key_pair

    public = args.public_key or args.key.with_name(args.key.name + ".pub")
    try:
        key_sha256 = generate_key_pair(args.key, public)
    except KeyFileError as exc:
        _say(str(exc))
        return 2
    print(
        f"wrote the private key {args.key} (readable by you only: keep it secret) and the public "
        f"key {public} (hand it to whoever verifies); key sha256 {key_sha256}"
    )
    return 0


def _sign_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from conformance.reporting.signature import KeyFileError, load_signing_key

    try:
        key = load_signing_key(args.key)
    except KeyFileError as exc:
        _say(str(exc))
        return 2
    path: Path = args.path
    files = [path / JSON_NAME, path / HTML_NAME] if path.is_dir() else [path]
    files = [f for f in files if f.exists() or not path.is_dir()]
    if not files:
        _say(f"{path} holds no {JSON_NAME} or {HTML_NAME}")
        return 2
    loaded = []
    for file in files:
        try:
            document = load_document(file)
        except (OSError, ValueError) as exc:
            _say(f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}")
            return 2
        ok, message = verify(document)
        if not ok:
            _say(f"{file} not signed: {message}")
            return 1
        loaded.append((file, document))
    for file, document in loaded:
        signed = sign(document, key)
        is_html = file.suffix.lower() in (".html", ".htm")
        file.write_bytes((render_html(signed) if is_html else render_json(signed)).encode("utf-8"))
        print(f"signed {file} with key sha256 {key.key_id}")
    return 0
