"""The T-maze and the history wrapper: API checks, the cue's visibility, and why memory is needed."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env

import envs  # noqa: F401  (registers the zoo/ ids)
from envs.gridworld import DOWN, LEFT, RIGHT, UP
from envs.memory import CUE_DOWN, CUE_UP, TMazeEnv
from envs.wrappers import HistoryObservation


@pytest.mark.parametrize("env_id", ["zoo/TMaze-v0", "zoo/TMazeHistory-v0"])
def test_registered_ids_pass_the_checkers(env_id: str) -> None:
    sb3_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    sb3_check_env = sb3_checker.check_env

    env = gymnasium.make(env_id)
    gym_check_env(env.unwrapped)
    sb3_check_env(env.unwrapped)
    assert env.spec.max_episode_steps == 36


def walk_to_junction(env: TMazeEnv) -> np.ndarray:
    obs = None
    for _ in range(env.corridor):
        obs, *_ = env.step(RIGHT)
    return obs


def test_the_cue_shows_only_at_the_start_and_the_junction_looks_the_same() -> None:
    env = TMazeEnv(corridor=4)
    seen = {}
    for seed in range(20):
        obs, _ = env.reset(seed=seed)
        assert obs[4 + env.cue] == 1 and obs[4 + 1 - env.cue] == 0
        assert obs[LEFT] == 1 and obs[RIGHT] == 0 and obs[UP] == 1 and obs[DOWN] == 1
        seen[env.cue] = walk_to_junction(env)
    np.testing.assert_array_equal(seen[CUE_UP], seen[CUE_DOWN])  # a memoryless policy cannot tell them apart
    np.testing.assert_array_equal(seen[CUE_UP], [0, 0, 1, 0, 0, 0])  # open left, up and down


@pytest.mark.parametrize("cue,action,success", [(CUE_UP, UP, True), (CUE_UP, DOWN, False), (CUE_DOWN, DOWN, True)])
def test_exits_end_the_episode_and_pay_for_the_cued_one(cue: int, action: int, success: bool) -> None:
    env = TMazeEnv(corridor=3)
    env.reset(seed=0)
    env.cue = cue
    walk_to_junction(env)
    _, reward, terminated, _, info = env.step(action)
    assert terminated and info["is_success"] == success and reward == float(success)


def test_best_memoryless_policy_succeeds_half_the_time() -> None:
    env = TMazeEnv(corridor=3)
    wins = []
    for seed in range(400):
        env.reset(seed=seed)
        walk_to_junction(env)
        wins.append(env.step(UP)[4]["is_success"])  # the junction looks the same for either cue
    assert 0.43 < np.mean(wins) < 0.57


def test_history_stacks_oldest_first_with_zero_padding() -> None:
    env = HistoryObservation(TMazeEnv(corridor=5), 4)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4, 6) and env.observation_space.contains(obs)
    assert not obs[:3].any() and obs[3, 4:].any()
    first = obs[3].copy()
    for _ in range(3):
        obs, *_ = env.step(RIGHT)
    np.testing.assert_array_equal(obs[0], first)  # the cue is still in view 3 steps later
    obs, *_ = env.step(RIGHT)
    assert not obs[:, 4:].any()  # ...and gone after 4
    with pytest.raises(ValueError, match="Box"):
        HistoryObservation(gymnasium.make("zoo/FrozenLake4x4-v0"), 3)


def test_the_cue_is_inside_the_wavenet_field_at_the_junction() -> None:
    """At the junction of zoo/TMazeHistory-v0 the cue (the first observation) is 8 rows back in the 16-row
    history, inside the encoder's 16-step receptive field: the features there depend on the cue bits."""
    import torch

    from agents.nets.wavenet import WaveNet, WaveNetConfig

    env = gymnasium.make("zoo/TMazeHistory-v0")
    obs, _ = env.reset(seed=0)
    for _ in range(env.unwrapped.corridor):
        obs, *_ = env.step(RIGHT)
    cue_row = np.flatnonzero(obs[:, 4:].any(axis=1))
    history = obs.shape[0]
    assert list(cue_row) == [history - 1 - env.unwrapped.corridor]
    torch.manual_seed(0)
    net = WaveNet(WaveNetConfig(channels=8), in_features=obs.shape[1], history=history)
    assert history - net.receptive_field <= cue_row[0]
    x = torch.tensor(obs[None], requires_grad=True)
    net(x).sum().backward()
    assert x.grad[0, cue_row[0], 4:].abs().sum() > 0


MEMORY_SEEDS = (0, 1, 2)


@pytest.mark.slow
@pytest.mark.parametrize("seed", MEMORY_SEEDS)
def test_ppo_with_the_wavenet_remembers_the_cue(seed: int) -> None:
    """benchmarks/memory_wavenet.py's result on fixed seeds: PPO + WaveNet over the history solves the T-maze."""
    from benchmarks.memory_wavenet import SETUPS, STEPS, success_rate, train

    env_id, net = SETUPS["PPO + WaveNet (16-step history)"]
    rate = success_rate(train(env_id, net, STEPS, seed=seed), env_id, 200, seed=seed + 10_000)
    assert rate >= 0.95, rate


@pytest.mark.slow
def test_ppo_with_an_mlp_on_the_current_observation_stays_near_half() -> None:
    """Same PPO, same budget, an MLP on the current observation: it learns the corridor (reaches an exit) but
    cannot tell the exits apart, so it stays near 50%."""
    from benchmarks.memory_wavenet import SETUPS, STEPS, success_rate, train

    env_id, net = SETUPS["PPO + MLP (current obs)"]
    rate = success_rate(train(env_id, net, STEPS, seed=0), env_id, 200, seed=10_000)
    assert 0.3 <= rate <= 0.6, rate
