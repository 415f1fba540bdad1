"""``docs/faults.md``: every planted defect with its requirement and what it breaks.

Generated from the registry (``conformance.emulator.faults``) and the catalogue, grouped by the
catalogue's sections, so a reader can see which requirements the mutation matrix proves the
suite catches and how. ``python -m conformance.emulator.fault_docs`` writes the file;
``--check`` (a self-test runs the same comparison) fails when it is not what the registry gives.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from conformance.contract.catalogue import CATALOGUE, Catalogue
from conformance.contract.generated import write_or_check
from conformance.emulator.faults import DEFECTS, PlantedDefect

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "faults.md"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(defects: Sequence[PlantedDefect] = DEFECTS, catalogue: Catalogue = CATALOGUE) -> str:
    """The Markdown document: one table per catalogue section that has planted defects."""
    planted = {d.requirement for d in defects}
    lines = [
        "# Planted defects",
        "",
        "Generated from `conformance/emulator/fault_table.py` by "
        "`python -m conformance.emulator.fault_docs`; do not edit by hand.",
        "",
        "Each defect makes the reference emulator break one behaviour on purpose "
        "(`openmedia-conformance emulator --fault NAME`). The mutation matrix "
        "(`openmedia-conformance mutation`) runs the suite once per defect and proves that a "
        "test citing the requirement fails. The emulator code that implements a requirement "
        "carries a `# implements ID` tag; `openmedia-conformance requirement ID` lists it.",
        "",
        f"{len(defects)} defects against {len(planted)} requirements.",
    ]
    for section in catalogue.sections:
        rows = [
            (item.id, defect)
            for item in catalogue.by_section(section.key)
            for defect in defects
            if defect.requirement == item.id
        ]
        if not rows:
            continue
        lines += [
            "",
            f"## {section.title}",
            "",
            "| requirement | defect | what it breaks |",
            "|---|---|---|",
        ]
        lines += [f"| `{rid}` | `{d.name}` | {_cell(d.summary)} |" for rid, d in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    return write_or_check(DOCUMENT, render, "conformance.emulator.fault_docs", __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
