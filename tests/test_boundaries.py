"""Dependency direction (DESIGN.md): train.py -> zoo -> agents, envs; agents and envs never import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "envs": {"agents", "zoo", "torch", "hydra", "omegaconf", "wandb", "train"},
    "agents": {"envs", "zoo", "hydra", "omegaconf", "wandb", "train"},
    "zoo": {"hydra", "omegaconf", "train"},
}
WANDB_ONLY_IN = {"zoo/logging.py"}


def imported_top_levels(source: str) -> set[str]:
    """Top-level package names a module imports (absolute imports, anywhere in the file)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def violations(root: Path) -> list[str]:
    found = []
    for package, forbidden in FORBIDDEN.items():
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            bad = imported_top_levels(path.read_text(encoding="utf-8")) & forbidden
            if "wandb" in imported_top_levels(path.read_text(encoding="utf-8")) and rel not in WANDB_ONLY_IN:
                bad.add("wandb")
            found.extend(f"{rel} imports {name}" for name in sorted(bad))
    return sorted(found)


def test_the_tree_keeps_its_boundaries() -> None:
    assert violations(ROOT) == []


def test_checker_sees_a_crossing(tmp_path: Path) -> None:
    for package in FORBIDDEN:
        (tmp_path / package).mkdir()
    (tmp_path / "agents" / "bad.py").write_text("import numpy\nfrom envs.go import state\n")
    (tmp_path / "envs" / "worse.py").write_text("def f():\n    import torch\n")
    (tmp_path / "zoo" / "plot.py").write_text("import wandb\n")
    assert violations(tmp_path) == ["agents/bad.py imports envs", "envs/worse.py imports torch",
                                    "zoo/plot.py imports wandb"]


@pytest.mark.parametrize("source,expected", [("import a.b as c", {"a"}), ("from x.y import z", {"x"}),
                                             ("from . import sibling", set())])
def test_import_parser(source: str, expected: set[str]) -> None:
    assert imported_top_levels(source) == expected
