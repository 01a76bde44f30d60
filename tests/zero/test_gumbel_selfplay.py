"""The zero agent with ``search=gumbel``: self-play targets and moves with tree reuse, play, net matches, the
config's checks, and a train -> checkpoint -> resume run of ``train.py``."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import gymnasium
import numpy as np
import pytest
import torch
from conftest import ROOT, compose, subprocess_env, train_cmd

import envs  # noqa: F401  (registers the zoo envs)
from agents import build_agent
from agents.search.evaluator import FunctionEvaluator
from agents.search.gumbel import considered_visits
from agents.zero import ZeroAgent, ZeroConfig
from agents.zero.gating import net_match
from agents.zero.selfplay import SelfPlay
from envs.go.game import GoGame
from zoo.errors import UserError
from zoo.play.arena_specs import resolve_spec
from zoo.play.players import load_agent
from zoo.run.checkpoint import checkpoint_path, load_checkpoint

GUMBEL = ZeroConfig(search="gumbel", games=4, simulations=16, max_considered=4, moves_per_collect=6, min_replay=1,
                    batch_size=16, best_games=0)


def stones(planes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Uneven logits and values that depend on the stones (a stand-in for a net)."""
    k = (planes.shape[1] - 1) // 2
    size = planes.shape[-1]
    where = np.arange(size * size).reshape(size, size)
    s = (planes[:, 0] * where).sum(axis=(1, 2)) * 0.37 - (planes[:, k] * where).sum(axis=(1, 2)) * 0.21
    return 1.5 * np.sin(np.arange(masks.shape[1])[None] * 0.9 + s[:, None]), 0.8 * np.sin(s)


def final_visits(m: int, sims: int) -> list[int]:
    """The considered actions' visit counts once a search has followed the halving table (sorted)."""
    counts = [0] * m
    for target in considered_visits(m, sims):
        counts[counts.index(target)] += 1
    return sorted(counts)


def test_self_play_with_tree_reuse_keeps_the_halving_schedule_and_records_improved_policies() -> None:
    game = GoGame(5, komi=0.5)
    selfplay = SelfPlay(GUMBEL, game, FunctionEvaluator(stones), np.random.default_rng(0))
    search = selfplay.search
    finished, reused = [], 0
    for _ in range(70):
        kept = search.visit_counts().sum(axis=1)  # the subtree kept from the last move (0: fresh root)
        live = ~selfplay.games.done
        lengths = [len(t.actions) for t in selfplay.trajectories]
        finished += selfplay.step()
        reused += int((kept > 0).sum())
        for g in np.flatnonzero(live):
            m = int(search.considered[g].sum())
            assert search.root_new[g].sum() == 16 and search.root_new[g, ~search.considered[g]].sum() == 0
            assert sorted(search.root_new[g, search.considered[g]]) == final_visits(m, 16)
            t = selfplay.trajectories[g]
            if len(t.actions) == lengths[g] + 1:  # the game goes on: its move was the search's action
                assert search.considered[g, t.actions[-1]]
                assert search.root_new[g, t.actions[-1]] == search.root_new[g].max()
    assert reused > 50, "most searches continued a kept subtree"
    assert len(finished) >= 4
    for g in finished:
        np.testing.assert_allclose(g.policy.sum(axis=1), 1.0, rtol=1e-5)
        # Improved policies, not visit counts: most positions give mass to actions the search never visited.
        assert np.mean([(row > 0).sum() > 16 for row in g.policy[:10]]) > 0.5
        state = game.new_state()
        for a in g.actions:
            assert state.sensible_mask()[a]
            state.play(a)
        assert state.is_terminal or len(g.actions) == 2 * 25  # over, or stopped at the move cap (then scored)
        assert state.winner() == g.winner


def _agent(cfg: ZeroConfig = GUMBEL, seed: int = 0) -> ZeroAgent:
    env = gymnasium.make("zoo/Go5x5-v0")
    torch.manual_seed(0)
    agent = build_agent(cfg, env.observation_space, env.action_space, np.random.default_rng(seed))
    agent.attach(env.unwrapped.game)
    return agent


def test_play_is_deterministic_reuses_its_tree_and_temp_moves_vary_the_opening() -> None:
    agent = _agent()
    game = agent.game
    empty = game.new_state()
    first = agent.select_moves([empty, empty])
    agent.reseed(7)
    assert agent.select_moves([empty, empty]) == first and first[0] == first[1]  # no Gumbel draw in play
    state = game.new_state()
    for _ in range(6):
        move = agent.select_move(state)
        assert state.sensible_mask()[move]
        state.play(move)
        replies = np.flatnonzero(state.sensible_mask())
        state.play(int(replies[len(replies) // 2]))
    assert agent.reused_searches >= 4
    varied = _agent(dataclasses.replace(GUMBEL, play_temp_moves=2))
    openings = {varied.select_moves([empty])[0] for _ in range(8)}
    assert len(openings) > 1


def test_a_net_match_with_gumbel_search_plays_to_the_end() -> None:
    game = GoGame(5, komi=0.5)
    ev = FunctionEvaluator(stones)
    result = net_match(game, GUMBEL, ev, ev, games=4, rng=np.random.default_rng(0), simulations=8)
    assert result.games == 4 and 0.0 <= result.score <= 4.0


@pytest.mark.parametrize("overrides,message", [
    (["agent.search=foo"], "invalid agent config: agent.search must be one of puct, gumbel, got 'foo'"),
    (["agent.search=gumbel", "agent.leaves_per_game=4"],
     "invalid agent config: agent.leaves_per_game > 1 is not supported with agent.search=gumbel"),
    (["agent.max_considered=1"], "invalid agent config: agent.max_considered must be >= 2"),
    (["agent.gumbel_scale=-1"], "invalid agent config: agent.gumbel_scale must be >= 0"),
    (["agent.c_visit=-5"], "invalid agent config: agent.c_visit must be >= 0"),
])
def test_bad_search_settings_stop_the_run_in_one_line(overrides: list[str], message: str) -> None:
    with pytest.raises(UserError) as err:
        compose("env=go5", "agent=zero", *overrides)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_both_zero_configs_take_gumbel_and_alphago_does_not() -> None:
    for agent in ("zero", "zero_gpu"):
        cfg = compose("env=go9", f"agent={agent}", "agent.search=gumbel").agent
        assert cfg.search_config.search == "gumbel" and cfg.search_config.max_considered == 16
    with pytest.raises(UserError, match="unknown key 'agent.search'"):
        compose("env=go5", "agent=alphago", "+agent.search=gumbel")


def test_train_cli_with_gumbel_search_checkpoints_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "run"
    common = ("env=go5", "agent=zero", "agent.search=gumbel", "agent.games=4", "agent.simulations=8",
              "agent.c_scale=0.1", "agent.max_moves_factor=0.8", "agent.moves_per_collect=8",
              "agent.min_replay=16", "agent.batch_size=16", "agent.best_games=2", "eval.every=0", "eval.episodes=0",
              "checkpoint_every=32", "logger=csv", "progress=false", "device=cpu", f"hydra.run.dir={out}")
    first = subprocess.run(train_cmd(*common, "steps=64"), cwd=ROOT, env=subprocess_env(), capture_output=True,
                           text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    before = load_checkpoint(checkpoint_path(out, 64))
    assert before["config"]["agent"]["search"] == "gumbel"
    assert before["agent"]["selfplay"]["moves"].min() == 16  # games in progress, kept in the checkpoint
    resumed = subprocess.run(train_cmd(*common, "steps=160", f"resume={out}"), cwd=ROOT, env=subprocess_env(),
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    final = load_checkpoint(checkpoint_path(out, 160))
    assert final["counters"]["env_steps"] == 160
    agent = final["agent"]
    assert agent["games_played"] >= 4 and agent["replay"]["added"] > 0 and agent["learner"]["steps"] > 0
    policy = np.asarray(agent["replay"]["policy"][: agent["replay"]["added"]], np.float32)
    np.testing.assert_allclose(policy.sum(axis=1), 1.0, atol=2e-3)  # stored as float16
    # Improved policies (c_scale 0.1 keeps them soft), not the multiples of 1/8 that 8 root visits would give.
    assert (np.abs(policy * 8 - np.round(policy * 8)).max(axis=1) > 0.05).mean() > 0.5
    summary = json.loads((out / "summary.json").read_text())
    assert summary["env_steps"] >= 160 and "eval/win_prev_best" in summary
    # The arena's RUN@search=... reaches the loaded agent, which plays with it.
    spec = resolve_spec(f"{out}@search=puct", 5, 24.0, check_engines=False)
    assert spec.overrides == (("search", "puct"),)
    loaded = load_agent(out, dict(spec.overrides))
    assert loaded.agent.cfg.search == "puct"
    state = loaded.agent.game.new_state()
    assert state.legal_mask()[load_agent(out).agent.select_move(state)]
