"""The deep RL agents through the runner and the config tree: train, checkpoint, resume (replay buffer too)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from conftest import compose

from zoo.launch import run
from zoo.run.checkpoint import list_checkpoints, load_checkpoint
from zoo.run.logging import read_metrics

AGENTS = {
    "ppo": ["agent=ppo", "agent.num_envs=2", "agent.num_steps=32", "agent.num_minibatches=2"],
    "a2c": ["agent=a2c", "agent.num_envs=2"],
    "reinforce": ["agent=reinforce", "agent.num_envs=2", "agent.num_steps=32"],
    "dqn": ["agent=dqn", "agent.learning_starts=64", "agent.train_freq=32", "agent.gradient_steps=4",
            "agent.save_replay=true", "agent.hidden_size=32"],
    "sb3": ["agent=sb3", "agent.n_steps=64", "agent.chunk_steps=64"],
}


def small(tmp_path: Path, agent: str, *overrides: str):
    return compose("env=frozenlake4", "env.kwargs.slip=0.0", "logger=csv", "progress=false", "steps=256",
                   "eval.every=128", "eval.episodes=2", "checkpoint_every=128", *AGENTS[agent], *overrides,
                   run_dir=str(tmp_path / "run"))


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_train_checkpoint_and_resume(agent: str, tmp_path: Path) -> None:
    if agent == "sb3":
        pytest.importorskip("stable_baselines3")
    cfg = small(tmp_path, agent)
    first = run(cfg)
    assert first["env_steps"] >= 256 and "eval/success_rate" in first
    ckpt = load_checkpoint(list_checkpoints(tmp_path / "run")[-1])
    assert ckpt["agent"]["format"] == 1
    if agent == "dqn":
        assert len(ckpt["agent"]["replay"]["rewards"]) == ckpt["agent"]["steps"] >= 256
    if agent != "sb3":
        assert ckpt["agent"]["optimizer"]["state"], "optimizer moments are saved"
    summary = run(replace(cfg, steps=512, resume=str(tmp_path / "run")))
    assert summary["env_steps"] >= 512 and summary["updates"] > first["updates"]
    steps = [r["step"] for r in read_metrics(tmp_path / "run" / "metrics.jsonl")]
    assert steps == sorted(steps) and steps[-1] >= 512


def test_tmaze_history_composes_with_ppo(tmp_path: Path) -> None:
    cfg = compose("env=tmaze_history", "agent=ppo", "logger=none", "progress=false", "steps=64", "eval.every=0",
                  "eval.episodes=1", "agent.num_envs=2", "agent.num_steps=32", "agent.num_minibatches=1",
                  run_dir=str(tmp_path / "run"))
    assert run(cfg)["env_steps"] >= 64
