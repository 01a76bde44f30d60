"""Benchmarks are scripts over the suite: they import shared code from its packages, never through ``sys.path``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = sorted((ROOT / "benchmarks").glob("*.py"))
MAX_LINES = 400


def sys_path_uses(source: str) -> list[int]:
    """Line numbers where ``source`` touches ``sys.path`` (``sys.path``, ``from sys import path``) or imports a
    sibling benchmark module by its bare name."""
    siblings = {p.stem for p in BENCHMARKS}
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "path" and isinstance(node.value, ast.Name) \
                and node.value.id == "sys":
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "sys" and any(a.name == "path" for a in node.names) or node.module in siblings:
                lines.append(node.lineno)
        elif isinstance(node, ast.Import) and any(a.name in siblings for a in node.names):
            lines.append(node.lineno)
    return sorted(lines)


def test_there_are_benchmarks_to_check() -> None:
    assert len(BENCHMARKS) >= 3


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda p: p.name)
def test_a_benchmark_leaves_sys_path_alone(path: Path) -> None:
    assert sys_path_uses(path.read_text(encoding="utf-8")) == [], f"{path.name} edits sys.path or imports a sibling"


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda p: p.name)
def test_a_benchmark_is_a_script_not_a_library(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.name} has {lines} lines (at most {MAX_LINES}): move reusable parts to a package"


@pytest.mark.parametrize("source,expected", [
    ("import sys\nsys.path.insert(0, 'x')\n", [2]),
    ("import sys\nsys.path[:0] = ['x']\n", [2]),
    ("from sys import path\n", [1]),
    ("from nets_speed import write_report\n", [1]),
    ("import nets_speed\n", [1]),
    ("import sys\nfrom zoo.reporting.nets_report import write_report\nprint(sys.argv)\n", []),
])
def test_the_checker_sees_a_path_edit(source: str, expected: list[int]) -> None:
    assert sys_path_uses(source) == expected
