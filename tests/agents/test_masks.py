"""Action masks: the agents never take a masked action, even where it would pay best; bad input fails clearly."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces
from masked_env import MaskedBestEnv

import envs  # noqa: F401  (registers the zoo/ ids)
from agents import build_agent
from agents.dqn import DQNConfig
from agents.pg import PGConfig


def train(cfg: Any, env: Any, single: gymnasium.Env, rounds: int) -> Any:
    agent = build_agent(cfg, single.observation_space, single.action_space, np.random.default_rng(0))
    for _ in range(rounds):
        agent.update(agent.collect(env))
    return agent


@pytest.mark.parametrize("dict_obs", [False, True])
def test_dqn_never_takes_the_masked_best_action(dict_obs: bool) -> None:
    env = MaskedBestEnv(dict_obs)
    env.reset(seed=0)
    cfg = DQNConfig(learning_starts=50, train_freq=20, gradient_steps=10, epsilon_decay_steps=200,
                    hidden_size=32, lr=1e-2, target_update_every=20)
    agent = train(cfg, env, env, 30)
    obs, info = env.reset()
    mask = obs["action_mask"] if dict_obs else info["action_mask"]
    assert agent.act(obs, mask, greedy=True) == 1
    assert all(agent.act(obs, mask) != 0 for _ in range(200))


@pytest.mark.parametrize("variant,dict_obs", [("ppo", False), ("a2c", True), ("reinforce", False)])
def test_policy_gradient_never_takes_the_masked_best_action(variant: str, dict_obs: bool) -> None:
    venv = gymnasium.vector.SyncVectorEnv([lambda: MaskedBestEnv(dict_obs) for _ in range(2)])
    venv.reset(seed=0)
    epochs = 4 if variant == "ppo" else 1
    cfg = PGConfig(name=variant, num_envs=2, num_steps=16, update_epochs=epochs,
                   num_minibatches=2 if variant == "ppo" else 1, lr=1e-2,
                   gae_lambda=1.0 if variant == "reinforce" else 0.95)
    agent = train(cfg, venv, MaskedBestEnv(dict_obs), 40)
    single = MaskedBestEnv(dict_obs)
    obs, info = single.reset(seed=1)
    mask = obs["action_mask"] if dict_obs else info["action_mask"]
    assert agent.act(obs, mask, greedy=True) == 1
    assert all(agent.act(obs, mask) != 0 for _ in range(200))


@pytest.mark.parametrize("cfg", [DQNConfig(), PGConfig(num_envs=1, num_steps=4, num_minibatches=2)])
def test_a_mask_hiding_every_action_names_the_agent(cfg: Any) -> None:
    env = MaskedBestEnv(empty_mask=True)
    env.reset(seed=0)
    agent = build_agent(cfg, env.observation_space, env.action_space, np.random.default_rng(0))
    with pytest.raises(ValueError, match=f"agent={cfg.name}.*hides every action"):
        agent.collect(env)
    with pytest.raises(ValueError, match="hides every action"):
        agent.act(0, np.zeros(3, np.int8))


def test_dqn_refuses_continuous_actions_naming_what_it_supports() -> None:
    with pytest.raises(ValueError, match="agent=dqn supports Discrete action spaces only"):
        build_agent(DQNConfig(), spaces.Box(-1, 1, (3,)), spaces.Box(-1, 1, (2,)), np.random.default_rng(0))


class NoIllegalMoves(gymnasium.Wrapper):
    """Fails the test the moment the Go env reports an illegal move."""

    def step(self, action: int) -> tuple:
        out = self.env.step(action)
        assert not out[4].get("illegal_move"), out[4]["illegal_move"]
        return out


@pytest.mark.parametrize("cfg", [PGConfig(num_envs=1, num_steps=128, num_minibatches=2, update_epochs=1),
                                 DQNConfig(learning_starts=64, train_freq=64, gradient_steps=2, hidden_size=32)])
def test_agents_play_only_legal_go_moves(cfg: Any) -> None:
    env = NoIllegalMoves(gymnasium.make("zoo/Go5x5-v0"))
    env.reset(seed=0)
    agent = build_agent(cfg, env.observation_space, env.action_space, np.random.default_rng(0))
    for _ in range(3):
        agent.update(agent.collect(env))
