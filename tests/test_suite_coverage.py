"""The suite covers the whole catalogue, and the contract files are the single source of facts.

Why: a requirement no test cites is a requirement the suite silently never checks, and a limit
written as a literal somewhere drifts from ``constraints.toml`` the day someone edits one of them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.contract.catalogue import CATALOGUE
from conformance.contract.constraints import CONSTRAINTS

pytest_plugins = ["pytester"]

PACKAGE = Path(__file__).resolve().parent.parent / "conformance"
SUITE = PACKAGE / "suite"

_COLLECTED: dict[str, dict[str, set[str]]] = {}


def _cited(pytester: pytest.Pytester) -> dict[str, set[str]]:
    """Requirement ID → the suite tests whose ``requirement`` marker cites it (real collection)."""
    if "suite" not in _COLLECTED:
        items, _ = pytester.inline_genitems("--pyargs", "conformance.suite")
        cited: dict[str, set[str]] = {}
        for item in items:
            for marker in item.iter_markers("requirement"):
                for requirement in marker.args:
                    cited.setdefault(requirement, set()).add(item.nodeid)
        _COLLECTED["suite"] = cited
    return _COLLECTED["suite"]


def test_every_catalogue_requirement_is_cited_by_a_suite_test(pytester: pytest.Pytester) -> None:
    cited = _cited(pytester)
    uncited = sorted(r.id for r in CATALOGUE.requirements if r.id not in cited)
    assert not uncited, f"requirements no suite test cites: {uncited}"


def test_every_catalogue_section_has_tests(pytester: pytest.Pytester) -> None:
    cited = _cited(pytester)
    sections_with_tests = {CATALOGUE.requirement(requirement).section for requirement in cited}
    missing = sorted(s.key for s in CATALOGUE.sections if s.key not in sections_with_tests)
    assert not missing, f"catalogue sections without a suite test: {missing}"


def _limit_values() -> set[int]:
    values = {item.max for item in CONSTRAINTS.lengths}
    values |= {item.max for item in CONSTRAINTS.counts}
    values |= {item.max for item in CONSTRAINTS.ranges if item.max is not None}
    return values


def _python_files() -> Iterator[Path]:
    yield from sorted(PACKAGE.rglob("*.py"))


_SMALLEST_DISTINCTIVE = 10
"""Below this an integer is too common (``len(x) == 1``) to tell a limit from anything else."""


def _literal_limit_uses(tree: ast.AST, limits: set[int]) -> Iterator[tuple[int, str]]:
    """Integer literals equal to a limit, compared with a length or used to build a string.

    ``len(x) > 100``, ``utf16_units(x) <= 20``, ``"x" * 101`` and ``range(4)``-style counts next
    to a length are the shapes a hard-coded limit takes; a bare 100 elsewhere (a percentage, an
    example count) is not flagged.
    """
    near = limits | {value + 1 for value in limits} | {value - 1 for value in limits}
    near = {value for value in near if value >= _SMALLEST_DISTINCTIVE}
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            measures_length = any(
                isinstance(op, ast.Call)
                and isinstance(op.func, ast.Name)
                and op.func.id in {"len", "utf16_units"}
                for op in operands
            )
            for op in operands:
                if measures_length and isinstance(op, ast.Constant) and op.value in near:
                    yield node.lineno, ast.unparse(node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            sides = (node.left, node.right)
            is_text = any(isinstance(s, ast.Constant) and isinstance(s.value, str) for s in sides)
            for side in sides:
                if is_text and isinstance(side, ast.Constant) and side.value in near:
                    yield node.lineno, ast.unparse(node)


def test_no_limit_is_written_as_a_literal_in_the_code() -> None:
    limits = _limit_values()
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {text}"
        for path in _python_files()
        for line, text in _literal_limit_uses(ast.parse(path.read_text()), limits)
    ]
    assert not found, "limits written as literals (read CONSTRAINTS instead):\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("ok = len(label) <= 100", True),
        ("ok = utf16_units(name) > 20", True),
        ("text = 'x' * 101", True),
        ("ok = len(label) <= limit.max", False),
        ("percent = 100", False),
        ("settings(max_examples=100)", False),
    ],
)
def test_the_literal_limit_detector_itself(source: str, flagged: bool) -> None:
    limits = {20, 100, 255}
    assert bool(list(_literal_limit_uses(ast.parse(source), limits))) is flagged
