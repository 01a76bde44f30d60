"""The zero agent end to end: collect/update, checkpoints, players, the CLI, and (slow) learning on 5x5."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import gymnasium
import numpy as np
import pytest
import torch
from conftest import ROOT, subprocess_env, train_cmd

import envs  # noqa: F401  (registers the zoo envs)
from agents import build_agent
from agents.zero import ZeroAgent, ZeroConfig
from envs.go.coords import gtp_to_action
from envs.go.state import GoState
from zoo.play.go_eval import play_match
from zoo.play.players import make_player
from zoo.run.checkpoint import load_checkpoint, save_checkpoint

TINY = ZeroConfig(games=4, simulations=4, moves_per_collect=6, min_replay=1, batch_size=16, play_leaves=2)


def go_env(size: int = 5, **kwargs: float) -> gymnasium.Env:
    return gymnasium.make(f"zoo/Go{size}x{size}-v0", **kwargs)


def make_agent(cfg: ZeroConfig = TINY, size: int = 5, seed: int = 0) -> ZeroAgent:
    env = go_env(size)  # only the spaces matter here
    torch.manual_seed(seed)
    return build_agent(cfg, env.observation_space, env.action_space, np.random.default_rng(seed))


def test_collect_and_update_return_what_the_runner_reads() -> None:
    agent, env = make_agent(), go_env()
    batch = agent.collect(env)
    assert batch.env_steps == 4 * 6
    assert len(batch.episode_returns) == len(batch.episode_lengths)
    metrics = agent.update(agent.collect(env))
    assert all(isinstance(v, float) for v in metrics.values())
    assert metrics["selfplay/avg_batch"] > 1.0


def test_state_dict_round_trips_through_a_checkpoint(tmp_path: Path) -> None:
    agent, env = make_agent(), go_env()
    for _ in range(6):
        agent.update(agent.collect(env))
    path = save_checkpoint(tmp_path / "ckpt.pt", {"agent": agent.state_dict()})
    other = make_agent(seed=1)
    other.load_state_dict(load_checkpoint(path)["agent"])
    for a, b in zip(agent.net.state_dict().values(), other.net.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)
    assert len(other.replay) == len(agent.replay) > 0 and other.learner.steps == agent.learner.steps
    with pytest.raises(ValueError, match="planes"):
        make_agent(size=7).load_state_dict(agent.state_dict())


def test_a_player_and_a_raw_policy_choose_legal_moves() -> None:
    agent, env = make_agent(), go_env()
    agent.attach(env.unwrapped.game)
    state = GoState.from_ascii("""
        X X X X X
        X X X X X
        X X . X X
        X X X X X
        . . . . .""", to_play=-1, komi=24.0)
    for _ in range(3):
        assert state.is_legal(agent.select_move(state))
    obs, info = env.reset(seed=0)
    assert info["action_mask"][agent.act(obs, info["action_mask"], greedy=True)]


def test_an_env_without_a_game_is_refused_by_name() -> None:
    agent = make_agent()
    env = gymnasium.make("zoo/Go5x5-v0")
    env.unwrapped.game = None
    with pytest.raises(ValueError, match="env.unwrapped.game"):
        agent.collect(env)


def test_train_cli_runs_zero_on_go5(tmp_path: Path) -> None:
    out = tmp_path / "run"
    cmd = train_cmd("env=go5", "agent=zero", "agent.games=4", "agent.simulations=4", "agent.min_replay=16",
                    "agent.batch_size=16", "agent.best_games=2", "steps=64", "eval.every=0", "eval.episodes=2",
                    "logger=csv", "progress=false", f"hydra.run.dir={out}")
    done = subprocess.run(cmd, cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert 0.0 <= summary["eval/win_random"] <= 1.0 and summary["env_steps"] >= 64
    assert 0.0 <= summary["eval/win_prev_best"] <= 1.0  # the learner's net against the previous best
    assert list((out / "sgf").glob("*-vs-random.sgf"))
    # The trained agent plays over GTP from its run directory, with search, on the board it learned.
    session = "boardsize 5\nclear_board\ngenmove b\nplay w pass\ngenmove b\nquit\n"
    gtp = subprocess.run([sys.executable, "-m", "zoo.gtp", "--checkpoint", str(out), "--simulations", "8"],
                         input=session, cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=120)
    assert gtp.returncode == 0, gtp.stderr[-2000:]
    answers = [line for line in gtp.stdout.splitlines() if line.startswith(("=", "?"))]
    assert len(answers) == 6 and all(a.startswith("=") for a in answers), gtp.stdout
    assert all(a[2:] == "pass" or gtp_to_action(a[2:], 5) is not None for a in (answers[2], answers[4]))


@pytest.mark.slow
def test_a_short_go5_run_learns_to_beat_random() -> None:
    # Komi 0.5 rather than the registered 24: with 24 white wins almost every game between weak players, so
    # "chance" against random would be the share of games played as white rather than one half.
    cfg = ZeroConfig(games=32, simulations=32, moves_per_collect=8, min_replay=1000, batch_size=128,
                     train_ratio=2.0)
    agent, env = make_agent(cfg), go_env(komi=0.5)
    losses = []
    for _ in range(30):
        metrics = agent.update(agent.collect(env))
        if "train/loss" in metrics:
            losses.append(metrics["train/loss"])
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.2
    result = play_match(agent, make_player("random", 0), 40, env.unwrapped.game)
    assert result.win_rate >= 0.8, result.win_rate  # a random player scores about 0.5 against random


def test_an_equal_game_keeps_self_play_running() -> None:
    """Evaluation on its own env (an equal game) must not restart the self-play games in progress."""
    agent, env = make_agent(), go_env()
    agent.collect(env)
    selfplay = agent.selfplay
    agent.attach(go_env().unwrapped.game)  # the eval env's game: same settings, another object
    assert agent.selfplay is selfplay
    agent.attach(go_env(komi=0.5).unwrapped.game)  # another game: self-play restarts on it
    assert agent.selfplay is None
