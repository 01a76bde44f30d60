"""A gridworld agent's greedy policy and values on the map: the arrows and values, the picture, the run and report."""

from __future__ import annotations

import re
from pathlib import Path

import gymnasium
import numpy as np
import pytest
import torch
from conftest import compose
from PIL import Image

import envs  # noqa: F401  (registers the zoo envs)
from agents import build_agent
from agents.dqn import DQNConfig
from agents.pg import PGConfig
from agents.protocol import QValued
from agents.tabular import PlannerConfig, TabularConfig
from envs.gridworld import DOWN, LEFT, RIGHT, UP
from zoo.launch import run
from zoo.reporting.gridworld_policy import cell_values, draw_policy, greedy_arrows, policy_picture
from zoo.reporting.report import ReportSpec, write_report

DESC = ("SFG",
        "F#H")
Q = np.array([
    [0.0, 0.5, 0.9, 0.9],  # S: right and up tie (an arrow each)
    [0.1, 0.2, 1.0, 0.3],  # F: right
    [5.0, 0.0, 0.0, 0.0],  # G: terminal, no arrow whatever Q says
    [0.0, 0.0, 0.0, 0.0],  # F: all four tie, nothing learned: no arrow
    [1.0, 0.0, 0.0, 0.0],  # #: a wall
    [0.0, 0.0, 0.0, 2.0],  # H: terminal
])


def test_arrows_are_the_greedy_actions_of_the_cells_the_agent_acts_from() -> None:
    arrows = greedy_arrows(Q, DESC)
    assert arrows.shape == (2, 3, 4)
    expected = np.zeros((2, 3, 4), dtype=bool)
    expected[0, 0, [RIGHT, UP]] = True
    expected[0, 1, RIGHT] = True
    assert np.array_equal(arrows, expected)
    assert not arrows[..., [LEFT, DOWN]].any()
    values = cell_values(Q, DESC)
    assert np.array_equal(values, [[0.9, 1.0, np.nan], [0.0, np.nan, np.nan]], equal_nan=True)
    with pytest.raises(ValueError, match=r"Q of a 2x3 map is \(6, 4\), got \(5, 4\)"):
        greedy_arrows(Q[:5], DESC)


def test_the_picture_is_written(tmp_path: Path) -> None:
    path = draw_policy(DESC, Q, tmp_path / "p.png", title="hand-made")
    image = Image.open(path)
    assert image.format == "PNG" and min(image.size) > 100


def agent_for(cfg, env: gymnasium.Env):  # noqa: ANN001, ANN201
    torch.manual_seed(0)
    return build_agent(cfg, env.observation_space, env.action_space, np.random.default_rng(0))


def test_q_valued_agents_give_their_action_values() -> None:
    env = gymnasium.make("zoo/FrozenLake4x4-v0")
    q = agent_for(TabularConfig(), env)
    q.q[:] = np.arange(64, dtype=float).reshape(16, 4)
    assert np.array_equal(q.q_values(np.array([3, 0])), q.q[[3, 0]])
    dqn = agent_for(DQNConfig(), env)
    values = dqn.q_values(np.arange(16))
    assert values.shape == (16, 4) and values.dtype == np.float64
    with torch.no_grad():
        assert np.allclose(values[5], dqn.q(torch.eye(16)[5:6]).numpy()[0], atol=1e-6)
    assert isinstance(agent_for(PlannerConfig(), env), QValued)
    assert not isinstance(agent_for(PGConfig(), env), QValued)


def test_the_hook_draws_q_valued_agents_on_gridworlds_only(tmp_path: Path) -> None:
    env = gymnasium.make("zoo/FrozenLake4x4-v0")
    q = agent_for(TabularConfig(), env)
    assert policy_picture(q, env, 10, tmp_path, 500, seed=0) == {}
    assert (tmp_path / "media" / "policy-000000000500.png").is_file()
    assert policy_picture(agent_for(PGConfig(), env), env, 10, tmp_path, 600, seed=0) == {}
    tmaze = gymnasium.make("zoo/TMaze-v0")
    assert policy_picture(agent_for(DQNConfig(), tmaze), tmaze, 10, tmp_path, 700, seed=0) == {}
    assert sorted(p.name for p in (tmp_path / "media").iterdir()) == ["policy-000000000500.png"]


def test_a_tabular_run_draws_its_policy_at_each_evaluation_and_the_report_shows_the_last(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for seed in (0, 1):
        run(compose("env=cliff", "agent=q", "logger=csv", "progress=false", "steps=3000", "eval.every=1500",
                    "eval.episodes=2", "checkpoint_every=0", f"seed={seed}", run_dir=str(runs / f"q{seed}")))
    steps = sorted(int(p.stem.split("-")[1]) for p in (runs / "q0" / "media").glob("policy-*.png"))
    assert len(steps) >= 2 and steps[0] >= 1500
    out = write_report(ReportSpec(name="cliff", runs=[str(runs)], out=tmp_path / "cliff.md",
                                  metrics=["eval/return_mean"], xs=["env_steps"]))
    text = out.read_text()
    section = text[text.index("## Greedy policies"):]
    assert "## Sample games" not in text and "**cliff q**: seed 0 at" in section
    images = re.findall(r"!\[[^]]*\]\(([^)]+)\)", section)
    assert len(images) == 2 and all((out.parent / image).is_file() for image in images)
    latest = runs / "q0" / "media" / f"policy-{steps[-1]:012d}.png"
    assert (out.parent / images[0]).read_bytes() == latest.read_bytes()
