"""Dependency direction (docs/design.md): train.py -> zoo -> agents, envs; agents and envs never import each other.

Inside ``zoo/``: no import circle among its modules, and the run core (``zoo/run/``) imports nothing of Go
(``envs``) or of the packages built on it (play, scale, pipelines, reporting, the launcher, the commands). zoo
calls agents through their protocols (``agents/protocol.py``): it probes nothing by name (``hasattr``,
``getattr``, ``setattr`` only on a short allowlist of non-agent objects) and reaches into no agent's parts
(``agent.replay``, ``agent.learner``, ...). Every command a user types answers ``--help``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import subprocess_env

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "envs": {"agents", "zoo", "torch", "hydra", "omegaconf", "wandb", "train"},
    "agents": {"envs", "zoo", "hydra", "omegaconf", "wandb", "train"},
    "zoo": {"hydra", "omegaconf", "train"},
    "pretrained": {"agents", "envs", "zoo", "torch", "numpy", "hydra", "omegaconf", "wandb", "train"},
}
"""Per package, what it must not import. ``pretrained`` (the shipped agents' registry) is below every other package:
``agents`` and ``zoo`` both resolve ``pretrained:NAME`` through it."""
WANDB_ONLY_IN = {"zoo/run/logging.py"}


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


# -- inside zoo/: the module import graph ---------------------------------------------------------------------------


def module_name(root: Path, path: Path) -> str:
    """``zoo/run/loop.py`` -> ``zoo.run.loop``; a package's ``__init__.py`` is the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(source: str, module: str, is_package: bool = False) -> Iterator[str]:
    """Dotted names a module imports, anywhere in the file: ``import a.b`` -> ``a.b``; ``from a import b`` -> ``a.b``
    (the caller keeps the longest prefix that is a module); relative imports resolved against ``module``."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names if alias.name != "*")


def zoo_modules(root: Path) -> dict[str, Path]:
    return {module_name(root, path): path for path in sorted((root / "zoo").rglob("*.py"))}


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the ``zoo`` modules it imports (the longest prefix of each imported name that is a module)."""
    modules = zoo_modules(root)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in imported_names(path.read_text(encoding="utf-8"), name, path.name == "__init__.py"):
            parts = imported.split(".")
            hit = next((".".join(parts[:k]) for k in range(len(parts), 0, -1) if ".".join(parts[:k]) in modules), None)
            if hit is not None and hit != name and imported.split(".")[0] == "zoo":
                targets.add(hit)
        graph[name] = targets
    return graph


def find_circle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle (``[a, b, ..., a]``), or ``[]`` when the graph is acyclic."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str]:
        path.append(node)
        on_path.add(node)
        for target in sorted(graph.get(node, ())):
            if target in on_path:
                return [*path[path.index(target):], target]
            if target not in done:
                circle = visit(target)
                if circle:
                    return circle
        path.pop()
        on_path.discard(node)
        done.add(node)
        return []

    for start in sorted(graph):
        if start not in done:
            circle = visit(start)
            if circle:
                return circle
    return []


def test_zoo_has_no_import_circle() -> None:
    graph = import_graph(ROOT)
    assert "zoo.run.loop" in graph and "zoo.run.config" in graph["zoo.run.loop"]  # the graph sees the tree
    assert find_circle(graph) == []


def test_checker_sees_a_planted_circle(tmp_path: Path) -> None:
    (tmp_path / "zoo" / "pkg").mkdir(parents=True)
    (tmp_path / "zoo" / "__init__.py").write_text("")
    (tmp_path / "zoo" / "pkg" / "__init__.py").write_text("")
    (tmp_path / "zoo" / "a.py").write_text("from zoo.pkg.b import f\n")
    (tmp_path / "zoo" / "pkg" / "b.py").write_text("def f():\n    from zoo.pkg import c\n")
    (tmp_path / "zoo" / "pkg" / "c.py").write_text("import numpy\nfrom .. import a\n")
    (tmp_path / "zoo" / "d.py").write_text("import zoo.a\n")
    graph = import_graph(tmp_path)
    assert graph["zoo.d"] == {"zoo.a"} and graph["zoo.pkg.c"] == {"zoo", "zoo.a"}
    assert find_circle(graph) == ["zoo.a", "zoo.pkg.b", "zoo.pkg.c", "zoo.a"]
    (tmp_path / "zoo" / "pkg" / "c.py").write_text("import numpy\n")
    assert find_circle(import_graph(tmp_path)) == []


# -- the run core imports nothing of Go or of what is built on it ---------------------------------------------------

RUN_CORE = "zoo.run"
RUN_CORE_MAY_IMPORT = ("zoo.errors", RUN_CORE)
"""The only ``zoo`` modules the run core imports: the shared errors and itself. Evaluations and Go-specific
metrics reach the loop as hooks from ``zoo.launch``; not ``zoo.play``, ``zoo.scale``, ``zoo.pipelines``,
``zoo.reporting``, the launcher or the commands."""
RUN_CORE_FORBIDDEN_TOP = {"envs"}


def run_core_violations(root: Path) -> list[str]:
    found = set()
    for name, path in zoo_modules(root).items():
        if name != RUN_CORE and not name.startswith(RUN_CORE + "."):
            continue
        rel = path.relative_to(root).as_posix()
        for imported in imported_names(path.read_text(encoding="utf-8"), name, path.name == "__init__.py"):
            parts = imported.split(".")
            if parts[0] in RUN_CORE_FORBIDDEN_TOP:
                found.add(f"{rel} imports {parts[0]}")
            elif parts[0] == "zoo" and len(parts) > 1 and ".".join(parts[:2]) not in RUN_CORE_MAY_IMPORT:
                found.add(f"{rel} imports {'.'.join(parts[:2])}")  # per zoo package or top-level module
    return sorted(found)


def test_the_run_core_imports_nothing_of_go_play_scale_pipelines_or_reporting() -> None:
    assert (ROOT / "zoo" / "run" / "loop.py").is_file()
    assert run_core_violations(ROOT) == []


def test_checker_sees_a_run_core_violation(tmp_path: Path) -> None:
    run = tmp_path / "zoo" / "run"
    run.mkdir(parents=True)
    (run / "__init__.py").write_text("")
    (run / "loop.py").write_text("import gymnasium\nfrom zoo.errors import UserError\nfrom zoo.run.config import C\n"
                                 "from zoo.play.go_eval import go_evaluation\n")
    (run / "make_env.py").write_text("def f():\n    import envs.go\n    from zoo import launch\n")
    (run / "progress.py").write_text("from ..scale import torchrun\n")
    (tmp_path / "zoo" / "launch.py").write_text("import envs\nfrom zoo.play.go_eval import go_evaluation\n")
    assert run_core_violations(tmp_path) == ["zoo/run/loop.py imports zoo.play", "zoo/run/make_env.py imports envs",
                                             "zoo/run/make_env.py imports zoo.launch",
                                             "zoo/run/progress.py imports zoo.scale"]


# -- zoo calls agents through their protocols ------------------------------------------------------------------------

PROBES = {"hasattr", "getattr", "setattr", "delattr"}
PROBE_ALLOWLIST = {
    ("zoo/pipelines/alphago.py", "self"): "the pipeline's own stage methods, by stage name",
    ("zoo/pipelines/alphago.py", "self.env.unwrapped"): "the env's game: only Go envs carry one",
    ("zoo/pipelines/alphago.py", "self.game"): "the env's game: AlphaGo needs the Go game's rollout features",
    ("zoo/play/go_eval.py", "env.unwrapped"): "the env's game: only Go envs carry one",
    ("zoo/play/gtp_client.py", "self"): "__del__ of a client whose __init__ failed before it had a process",
    ("zoo/play/gtp_engine.py", "self.player"): "the engine takes any object with name and select_move as a player",
    ("zoo/play/players.py", "env.unwrapped"): "the env's game: only Go envs carry one",
    ("zoo/play/players.py", "self.env.unwrapped"): "board size and history of the env: non-Go envs have neither",
    ("zoo/reporting/plots.py", "p"): "a plotted point's field, named by a column",
    ("zoo/run/config.py", "cfg"): "a config dataclass's fields, by name",
    ("zoo/run/logging.py", "value"): "a metric value: numpy and torch scalars have .item()",
    ("zoo/run/loop.py", "cfg.agent"): "the agent's config dataclass (not the agent): vectorised ones set num_envs",
    ("zoo/run/loop.py", "self.env.unwrapped"): "the env's game: only Go envs carry one",
    ("zoo/scale/ray_selfplay.py", "self"): "stop_workers may run before __init__ made the workers",
    ("zoo/scale/ray_selfplay.py", "self.env.unwrapped"): "the env's game: only Go envs carry one",
    ("zoo/scale/ray_selfplay.py", "self.ray.exceptions"): "ActorUnavailableError exists in newer Ray versions only",
}
"""``(file, first argument)`` of the ``hasattr``/``getattr``/``setattr`` calls zoo may make, with the reason; none is
an agent (an agent's optional capabilities are ``isinstance`` checks against ``agents.protocol``)."""

AGENT_PARTS = {"replay", "learner", "evaluator", "best_evaluator", "selfplay_evaluator", "best_net", "net", "cfg",
               "rng", "compression", "selfplay"}
"""Attributes of an agent that zoo does not touch: what it needs of them goes through a protocol method."""


def probe_calls(root: Path) -> dict[tuple[str, str], list[int]]:
    """``(file, first argument)`` -> lines of every ``hasattr``/``getattr``/``setattr``/``delattr`` call in zoo/."""
    found: dict[tuple[str, str], list[int]] = {}
    for path in sorted((root / "zoo").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in PROBES:
                first = ast.unparse(node.args[0]) if node.args else ""
                found.setdefault((rel, first), []).append(node.lineno)
    return found


def probe_violations(root: Path) -> list[str]:
    return [f"{rel}:{line} probes {arg or '?'} by name" for (rel, arg), lines in sorted(probe_calls(root).items())
            if (rel, arg) not in PROBE_ALLOWLIST for line in lines]


def _names_an_agent(node: ast.expr) -> bool:
    """``agent``, ``self.agent``, ``loaded.agent``, ``zero_agent``: a name or attribute ending in ``agent``."""
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return name.lower().endswith("agent")


def reach_violations(root: Path) -> list[str]:
    """``X.agent.replay`` and the like in zoo/ (any ``.best_net`` too): an agent's parts reached by attribute."""
    found = []
    for path in sorted((root / "zoo").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and (node.attr == "best_net" or (
                    node.attr in AGENT_PARTS and _names_an_agent(node.value))):
                found.append(f"{rel}:{node.lineno} reaches {ast.unparse(node)}")
    return found


def test_zoo_probes_no_agent_by_name() -> None:
    assert ("zoo/run/logging.py", "value") in probe_calls(ROOT)  # the checker sees the tree
    assert probe_violations(ROOT) == []


def test_every_allowed_probe_is_still_made() -> None:
    assert sorted(set(PROBE_ALLOWLIST) - set(probe_calls(ROOT))) == []


def test_zoo_reaches_into_no_agent() -> None:
    assert reach_violations(ROOT) == []


def test_checkers_see_a_probe_and_a_reach(tmp_path: Path) -> None:
    (tmp_path / "zoo" / "run").mkdir(parents=True)
    (tmp_path / "zoo" / "run" / "logging.py").write_text("def f(value):\n    return hasattr(value, 'item')\n")
    (tmp_path / "zoo" / "bad.py").write_text(
        "def f(agent, run, x):\n"
        "    if hasattr(agent, 'select_moves'):\n"
        "        getattr(run.agent, 'learner', None)\n"
        "    setattr(agent, 'rng', x)\n"
        "    n = len(run.agent.replay) + agent.cfg.batch_size + x.best_net.weight\n"
        "    run.agent.learner.model = x\n"
        "    return agent.select_move(x), run.cfg.agent.name, agent.replay_size, run.net\n")
    assert probe_violations(tmp_path) == ["zoo/bad.py:2 probes agent by name", "zoo/bad.py:4 probes agent by name",
                                          "zoo/bad.py:3 probes run.agent by name"]
    assert sorted(reach_violations(tmp_path)) == [
        "zoo/bad.py:5 reaches agent.cfg", "zoo/bad.py:5 reaches run.agent.replay", "zoo/bad.py:5 reaches x.best_net",
        "zoo/bad.py:6 reaches run.agent.learner"]


# -- the commands ---------------------------------------------------------------------------------------------------

COMMANDS = [
    (["-m", "zoo.arena"], "usage: python -m zoo.arena"),
    (["-m", "zoo.gtp"], "usage: python -m zoo.gtp"),
    (["-m", "zoo.report"], "usage: python -m zoo.report"),
    (["-m", "zoo.corpus"], "usage: python -m zoo.corpus"),
    (["-m", "zoo.play_go"], "usage: python -m zoo.play_go"),
    (["-m", "zoo.pretrained"], "usage: python -m zoo.pretrained"),
    (["-m", "zoo.reporting.studies.tabular"], "usage:"),
    (["-m", "agents.compress"], "Keys each command takes:"),
    (["-m", "agents.nets.stats"], "usage: python -m agents.nets.stats"),
    (["train.py"], "== Configuration groups =="),  # Hydra's help: the config groups and the composed config
]


@pytest.mark.parametrize("argv,usage", COMMANDS, ids=[argv[-1] for argv, _ in COMMANDS])
def test_every_command_answers_help(argv: list[str], usage: str) -> None:
    done = subprocess.run([sys.executable, *argv, "--help"], cwd=ROOT, env=subprocess_env(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert usage in done.stdout
    assert "Warning" not in done.stderr, done.stderr[-2000:]  # e.g. runpy's "found in sys.modules"
