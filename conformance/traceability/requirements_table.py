"""``docs/requirements.md``: every requirement with its level, its sources and the tests citing it.

Why generated: the audit of levels against sources (reading R21) is only worth something if a
reader can check it, and a hand-kept table drifts from ``schemas/requirements.toml`` the day
someone edits either. ``python -m conformance.traceability.requirements_table`` writes the table;
``--check`` (a self-test runs it) fails when the file is not what the catalogue gives.

The citing tests come from a collection of the suite (``conformance.traceability.citations``).
"""

from __future__ import annotations

import sys

from conformance.contract.catalogue import CATALOGUE, Catalogue
from conformance.contract.generated import write_or_check
from conformance.contract.paths import PACKAGE_PARENT
from conformance.traceability.citations import citing_tests

TABLE = PACKAGE_PARENT / "docs" / "requirements.md"


def cited_by() -> dict[str, list[str]]:
    """Requirement ID -> ``module.py::test`` names citing it (``citations.citing_tests``)."""
    return {rid: sorted({test.name for test in tests}) for rid, tests in citing_tests().items()}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(catalogue: Catalogue = CATALOGUE, cited: dict[str, list[str]] | None = None) -> str:
    """The Markdown table, one section of the catalogue after the other."""
    cited = cited_by() if cited is None else cited
    levels = {
        level: sum(r.level == level for r in catalogue.requirements)
        for level in ("MUST", "SHOULD", "OPEN")
    }
    lines = [
        "# Requirements, their level and their source",
        "",
        "Generated from `schemas/requirements.toml` by "
        "`python -m conformance.traceability.requirements_table`; do not edit by hand.",
        "",
        "Reading R21 (`../shared/contracts/interpretations.md`) fixes each level: MUST only where "
        "the interface description, the WSDL/XSD, SOAP 1.1, WS-I Basic Profile or the "
        "control-plane contract requires the behaviour; what rests only on the live server, a "
        "reading or this project is SHOULD (a warning unless `--om-strict`); OPEN readings warn.",
        "",
        f"{len(catalogue.requirements)} requirements: "
        + ", ".join(f"{n} {level}" for level, n in levels.items())
        + ".",
    ]
    for section in catalogue.sections:
        lines += [
            "",
            f"## {section.title}",
            "",
            "| ID | level | source | tests |",
            "|---|---|---|---|",
        ]
        for item in catalogue.by_section(section.key):
            sources = "<br>".join(_cell(text) for text in item.sources)
            tests = "<br>".join(f"`{name}`" for name in cited.get(item.id, [])) or "**none**"
            lines.append(f"| `{item.id}` | {item.level} | {sources} | {tests} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    return write_or_check(
        TABLE, render, "conformance.traceability.requirements_table", __doc__, argv
    )


if __name__ == "__main__":
    sys.exit(main())
