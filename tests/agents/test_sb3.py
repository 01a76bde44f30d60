"""agent=sb3: SB3 accepts our envs, learns through collect/update, respects masks, and checkpoints."""

from __future__ import annotations

from pathlib import Path

import gymnasium
import numpy as np
import pytest
from masked_env import MaskedBestEnv

import envs  # noqa: F401  (registers the zoo/ ids)
from agents import build_agent
from agents.sb3 import SB3Config
from zoo.run.checkpoint import load_checkpoint, save_checkpoint

pytest.importorskip("stable_baselines3")  # optional: pip install 'stable-baselines3>=2.4' 'sb3-contrib>=2.4'
pytest.importorskip("sb3_contrib")


@pytest.mark.parametrize("env_id", ["zoo/FrozenLake4x4Det-v0", "zoo/CliffWalking-v0", "zoo/TMaze-v0",
                                    "zoo/TMazeHistory-v0", "zoo/Go5x5-v0"])
def test_sb3_accepts_our_envs(env_id: str) -> None:
    from stable_baselines3.common.env_checker import check_env

    check_env(gymnasium.make(env_id).unwrapped, warn=False)


def make(algo: str, env: gymnasium.Env, **kwargs: object):
    cfg = SB3Config(algo=algo, **kwargs)
    return build_agent(cfg, env.observation_space, env.action_space, np.random.default_rng(0))


@pytest.mark.parametrize("algo", ["PPO", "A2C", "DQN"])
def test_collect_runs_sb3_learn_in_chunks_and_checkpoints(algo: str, tmp_path: Path) -> None:
    env = gymnasium.make("zoo/FrozenLake4x4Det-v0")
    env.reset(seed=0)
    agent = make(algo, env, chunk_steps=256, save_replay=algo == "DQN", n_steps=None if algo == "DQN" else 128)
    steps = 0
    for _ in range(2):
        batch = agent.collect(env)
        metrics = agent.update(batch)
        steps += batch.env_steps
        assert batch.env_steps >= 256 and len(batch.episode_returns) > 0
    assert metrics["sb3/num_timesteps"] == steps
    path = save_checkpoint(tmp_path / "ckpt.pt", {"agent": agent.state_dict()})
    other = make(algo, env, save_replay=algo == "DQN", n_steps=None if algo == "DQN" else 128)
    other.load_state_dict(load_checkpoint(path)["agent"])
    assert other.model.num_timesteps == steps
    obs, _ = env.reset()
    assert other.act(obs, greedy=True) == agent.act(obs, greedy=True)
    if algo == "DQN":
        assert other.model.replay_buffer.pos == agent.model.replay_buffer.pos > 0
    with pytest.raises(ValueError, match="sb3"):
        make("A2C" if algo != "A2C" else "PPO", env).load_state_dict(agent.state_dict())


def test_maskable_ppo_never_takes_a_masked_action() -> None:
    env = MaskedBestEnv()
    env.reset(seed=0)
    agent = make("MaskablePPO", env, chunk_steps=128, n_steps=64)
    for _ in range(2):
        agent.update(agent.collect(env))  # MaskedBestEnv raises on a masked action
    obs, info = env.reset()
    assert all(agent.act(obs, info["action_mask"]) != 0 for _ in range(100))


def test_unmasked_algos_refuse_an_env_with_masks() -> None:
    env = MaskedBestEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="MaskablePPO"):
        make("PPO", env).collect(env)


def test_bad_configs_name_the_valid_choices() -> None:
    with pytest.raises(ValueError, match="valid: PPO, A2C, DQN, MaskablePPO"):
        SB3Config(algo="SAC")
    with pytest.raises(ValueError, match="rlzoo"):
        SB3Config(algo="PPO", hyperparams="rlzoo")
