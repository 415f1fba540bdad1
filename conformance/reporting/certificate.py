"""The certificate of a run: what was tested, against what, with which outcome, tamper-evident.

Written at the end of a full run (``openmedia-conformance run``, ``reports/certificate``) or of
any run given ``--certificate DIR``: ``certificate.json`` and a self-contained
``certificate.html`` (no external resource; the JSON is embedded in it). It holds the suite
version, the target's fingerprint (URL, sha256 of the WSDL it served, its ``Server`` header),
the profile and control features, one row per catalogue requirement (covered, counts per
verdict, final verdict), the overall verdict, the command line and Hypothesis seed that
reproduce the run, and ``sha256``: the digest of the canonical JSON without that field.
``openmedia-conformance certificate verify FILE`` recomputes it.

A target is *certified* only when the run was the full suite, no MUST requirement failed (a
baseline does not excuse a failure here: it only keeps CI green) or ended in an error, and every
MUST requirement that applies reached a verdict. A requirement whose every test was *not
applicable* (the target lacks the capability) does not apply.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

FORMAT = "openmedia-conformance-certificate/1"
JSON_NAME = "certificate.json"
HTML_NAME = "certificate.html"
COUNTED = ("pass", "fail", "warning", "not applicable", "error", "baseline", "skipped")
"""Verdicts counted per requirement (``baseline``: a failure the baseline lists)."""
_FINAL_ORDER = (
    ("fail", "fail"),
    ("error", "error"),
    ("baseline", "expected failure"),
    ("warning", "warning"),
    ("pass", "pass"),
    ("not applicable", "not applicable"),
)
_BLAMEABLE = frozenset({"fail", "warning", "baseline"})


@dataclass(frozen=True)
class TestResult:
    """One verdict-bearing report of a suite test (the same as the console counts)."""

    nodeid: str
    verdict: str
    requirements: tuple[str, ...]
    blamed: str | None = None
    baseline: str | None = None

    __test__ = False  # not a pytest test class, whatever its name

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

    counts: dict[str, Counter[str]] = {}
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
                **{verdict: tally[verdict] for verdict in COUNTED},
                "verdict": final_verdict(tally),
            }
        )
    return rows


def final_verdict(tally: Mapping[str, int]) -> str:
    """The requirement's verdict: the worst one any test gave it; ``untested`` when none."""
    for verdict, name in _FINAL_ORDER:
        if tally.get(verdict):
            return name
    return "untested"


def certify(
    rows: Iterable[Mapping[str, Any]], *, full_run: bool, collection_errors: int
) -> tuple[str, list[str]]:
    """``("certified" | "not certified", reasons)``."""
    reasons: list[str] = []
    if not full_run:
        reasons.append(
            "partial run: only a run of the whole suite (no -k, -m or test selection) certifies"
        )
    if collection_errors:
        reasons.append(f"{collection_errors} suite module(s) could not be collected")
    for row in rows:
        if row["level"] != "MUST":
            continue
        verdict, rid = row["verdict"], row["id"]
        if verdict == "fail":
            reasons.append(f"{rid} (MUST) fails")
        elif verdict == "expected failure":
            reasons.append(f"{rid} (MUST) fails (listed in the baseline)")
        elif verdict == "error":
            reasons.append(f"{rid} (MUST): the suite could not test it (error)")
        elif verdict == "untested" and full_run:
            reasons.append(f"{rid} (MUST) applies but no test of it reached a verdict")
    return ("not certified" if reasons else "certified"), reasons


# -- the scope ----------------------------------------------------------------------------------
def is_full_run(config: pytest.Config) -> bool:
    """True when the run selected the whole suite: the suite folder or package, no filter."""
    option = config.option
    if getattr(option, "keyword", "") or getattr(option, "markexpr", ""):
        return False
    if getattr(option, "deselect", None) or getattr(option, "lf", False):
        return False
    args = list(config.args)
    if not args:
        return False
    import pytest

    from conformance.reporting.reproduce import SUITE_DIR, SUITE_PACKAGE

    base = config.invocation_params.dir
    if config.args_source == pytest.Config.ArgsSource.TESTPATHS:
        base = config.rootpath
    for arg in args:
        if "::" in arg:
            return False
        if getattr(option, "pyargs", False) and arg == SUITE_PACKAGE:
            continue
        if (base / arg).resolve() != SUITE_DIR:
            return False
    return True


# -- the document --------------------------------------------------------------------------------
def build_certificate(
    results: Iterable[TestResult],
    *,
    collection_errors: int,
    full_run: bool,
    header: Mapping[str, Any],
) -> dict[str, Any]:
    """The certificate: ``header`` (suite, target, profile, run) plus matrix, verdict, digest."""
    rows = requirement_matrix(results)
    verdict, reasons = certify(rows, full_run=full_run, collection_errors=collection_errors)
    totals = Counter(row["verdict"] for row in rows)
    document: dict[str, Any] = {
        "format": FORMAT,
        **header,
        "scope": "full" if full_run else "partial",
        "verdict": verdict,
        "reasons": reasons,
        "requirement_verdicts": dict(sorted(totals.items())),
        "requirements": rows,
    }
    document["sha256"] = digest(document)
    return document


def canonical(document: Mapping[str, Any]) -> bytes:
    """The bytes the digest covers: sorted keys, no whitespace, UTF-8, without ``sha256``."""
    body = {key: value for key, value in document.items() if key != "sha256"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(document: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(document)).hexdigest()


def verify(document: Mapping[str, Any]) -> tuple[bool, str]:
    """``(True, message)`` when the recorded ``sha256`` matches the content."""
    recorded = document.get("sha256")
    computed = digest(document)
    if recorded == computed:
        return True, f"certificate intact (sha256 {computed}); verdict: {document.get('verdict')}"
    return False, f"certificate altered: recorded sha256 {recorded}, content hashes to {computed}"


def load_document(path: Path) -> dict[str, Any]:
    """A certificate from its JSON file or from the JSON embedded in its HTML page."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".html", ".htm"):
        start = text.index('<script type="application/json" id="certificate">')
        text = text[text.index(">", start) + 1 : text.index("</script>", start)]
        text = text.replace("<\\/", "</")
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise ValueError("not a certificate (a JSON object is expected)")
    return loaded


def verify_file(path: str | Path) -> tuple[bool, str]:
    return verify(load_document(Path(path)))


def write_certificate(document: Mapping[str, Any], directory: Path) -> tuple[Path, Path]:
    """Write ``certificate.json`` and ``certificate.html`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path, html_path = directory / JSON_NAME, directory / HTML_NAME
    json_path.write_text(
        json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    html_path.write_text(render_html(document), encoding="utf-8")
    return json_path, html_path


# -- the page ------------------------------------------------------------------------------------
_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{margin:0 0 .2em}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}th{background:#f4f4f4}
.banner{padding:.8em 1em;font-size:1.4em;font-weight:bold;color:#fff;border-radius:4px}
.certified{background:#2e7d32}.not-certified{background:#c62828}
.v-pass{background:#e8f5e9}.v-fail,.v-error,.v-expected-failure{background:#ffebee}
.v-warning{background:#fff8e1}.v-not-applicable,.v-untested{background:#eceff1}
code{font-size:12px;word-break:break-all}
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _table(pairs: Iterable[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>" for k, v in pairs)
    return f"<table>{rows}</table>"


def render_html(document: Mapping[str, Any]) -> str:
    """A single self-contained page (inline CSS, no script that runs, the JSON embedded)."""
    verdict = str(document.get("verdict", ""))
    target, profile, run = (document.get(k, {}) for k in ("target", "profile", "run"))
    reasons = "".join(f"<li>{_e(r)}</li>" for r in document.get("reasons", []))
    columns = ("pass", "fail", "warning", "not applicable", "error", "baseline")
    head = "".join(f"<th>{_e(c)}</th>" for c in ("requirement", "level", "section", "tests"))
    head += "".join(f"<th>{_e(c)}</th>" for c in (*columns, "verdict"))
    body = "".join(
        f'<tr class="v-{_e(str(r["verdict"]).replace(" ", "-"))}"><td>{_e(r["id"])}</td>'
        f"<td>{_e(r['level'])}</td><td>{_e(r['section'])}</td><td>{_e(r['tests'])}</td>"
        + "".join(f"<td>{_e(r.get(c, 0))}</td>" for c in columns)
        + f"<td>{_e(r['verdict'])}</td></tr>"
        for r in document.get("requirements", [])
    )
    embedded = json.dumps(document, indent=1, ensure_ascii=False).replace("</", "<\\/")
    css_class = "certified" if verdict == "certified" else "not-certified"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Open Media conformance certificate: {_e(verdict)}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>Open Media Service conformance certificate</h1>"
        f'<div class="banner {css_class}">{_e(verdict.upper())} '
        f"({_e(document.get('scope', ''))} run)</div>"
        + (f"<h2>Why not</h2><ul>{reasons}</ul>" if reasons else "")
        + "<h2>Target</h2>"
        + _table(target.items())
        + "<h2>Profile</h2>"
        + _table(profile.items())
        + "<h2>Run</h2>"
        + _table(
            [
                ("suite version", document.get("suite_version")),
                ("generated at", document.get("generated_at")),
                *run.items(),
            ]
        )
        + "<h2>Requirements</h2>"
        + _table((document.get("requirement_verdicts") or {}).items())
        + f"<table><tr>{head}</tr>{body}</table>"
        + f"<p>sha256 of the canonical JSON: <code>{_e(document.get('sha256'))}</code> "
        "(check with <code>openmedia-conformance certificate verify FILE</code>)</p>"
        + f'<script type="application/json" id="certificate">{embedded}</script>'
        + "</body></html>\n"
    )


# -- the command --------------------------------------------------------------------------------
def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``openmedia-conformance certificate verify FILE``."""
    parser = subparsers.add_parser(
        "certificate",
        help="check a run's certificate (its sha256 against its content)",
        description="Verify a certificate written by a run (certificate.json or .html).",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify_parser = actions.add_parser("verify", help="recompute the sha256; exit 1 if altered")
    verify_parser.add_argument("file", type=Path, help="certificate.json or certificate.html")
    parser.set_defaults(handler=_verify_command, subparser=parser)


def _verify_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        ok, message = verify_file(args.file)
    except (OSError, ValueError) as exc:
        print(f"openmedia-conformance certificate: cannot read {args.file}: {exc}")
        return 2
    print(message)
    return 0 if ok else 1
