"""The search is driven by its own SearchConfig: the agents' configs build it from their flat fields."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the zoo Go envs)
from agents.alphago import AlphaGoAgent, AlphaGoConfig
from agents.search import SearchConfig
from agents.search.evaluator import UniformEvaluator
from agents.zero.config import ZeroConfig
from agents.zero.selfplay import SelfPlay
from envs.go.game import GoGame

ROOT = Path(__file__).resolve().parents[2]
FIELDS = [f.name for f in dataclasses.fields(SearchConfig)]


def test_every_search_field_round_trips_from_zero_config() -> None:
    changed = dict(simulations=33, leaves_per_game=3, play_leaves=5, virtual_loss=0.5, c_puct=2.25,
                   fpu_reduction=0.1, fpu_root_reduction=0.05, dirichlet_alpha=0.3, dirichlet_eps=0.4,
                   forced_playouts=2.0, sensible_moves=False, tree_reuse=False, play_temp_moves=4, gumbel_scale=0.5,
                   max_considered=8, c_visit=20.0, c_scale=0.1)
    assert set(changed) | {"search"} == set(FIELDS)
    zero = ZeroConfig(search="puct", **changed)
    assert zero.search_config == SearchConfig(search="puct", **changed)
    gumbel = dict(changed, search="gumbel", leaves_per_game=1, forced_playouts=0.0)
    assert ZeroConfig(**gumbel).search_config == SearchConfig(**gumbel)
    # zero's defaults: Gumbel at 16 simulations, c_scale 0.1 (SearchConfig's own stay PUCT's, AlphaGo's search)
    assert ZeroConfig().search_config == SearchConfig(search="gumbel", simulations=16, c_scale=0.1)
    assert SearchConfig().search == "puct"
    zero_fields = {f.name for f in dataclasses.fields(ZeroConfig)}
    assert set(FIELDS) <= zero_fields and "search_config" not in zero_fields  # the Hydra keys stay flat


def test_alphago_config_gives_a_noiseless_play_search() -> None:
    cfg = AlphaGoConfig(simulations=40, play_leaves=3, virtual_loss=0.75, c_puct=2.0, fpu_reduction=0.2)
    search = cfg.search_config
    assert isinstance(search, SearchConfig) and search.search == "puct"
    assert (search.simulations, search.play_leaves, search.leaves_per_game) == (40, 3, 3)
    assert (search.virtual_loss, search.c_puct, search.fpu_reduction) == (0.75, 2.0, 0.2)
    assert search.fpu_root_reduction == 0.0 and search.dirichlet_eps == 0.0 and search.sensible_moves
    assert not {"search", "search_config"} & {f.name for f in dataclasses.fields(AlphaGoConfig)}  # PUCT only


def test_search_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="SearchConfig.play_leaves"):
        SearchConfig(play_leaves=0)
    with pytest.raises(ValueError, match="SearchConfig.dirichlet_eps"):
        SearchConfig(dirichlet_eps=1.5)


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("package", ["search", "alphago"])
def test_search_and_alphago_do_not_import_the_zero_agent(package: str) -> None:
    for path in sorted((ROOT / "agents" / package).rglob("*.py")):
        zero = {name for name in _imports(path) if name == "agents.zero" or name.startswith("agents.zero.")}
        assert not zero, f"{path.relative_to(ROOT)} imports {sorted(zero)}"


def test_alphago_searches_without_building_a_zero_config(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: ZeroConfig) -> None:
        raise AssertionError("a ZeroConfig was built")

    monkeypatch.setattr(ZeroConfig, "__post_init__", refuse)
    env = gym.make("zoo/Go5x5-v0")
    cfg = AlphaGoConfig(simulations=8, play_leaves=2, net_preset="b2c32")
    agent = AlphaGoAgent(cfg, env.observation_space, env.action_space, np.random.default_rng(0))
    game = env.unwrapped.game
    agent.attach(game)
    moves = agent.select_moves([game.new_state(), game.new_state()])
    assert len(moves) == 2 and all(game.new_state().legal_mask()[m] for m in moves)


def test_self_play_sizes_its_tree_for_cheap_and_full_moves() -> None:
    cfg = ZeroConfig(games=2, simulations=8, cheap_fraction=0.5, cheap_simulations=32, leaves_per_game=2,
                     search="puct")
    selfplay = SelfPlay(cfg, GoGame(5, komi=0.5), UniformEvaluator(), np.random.default_rng(0))
    assert selfplay.search.cfg == cfg.search_config
    assert selfplay.search.keep_limit == 32 + 2 + 1
