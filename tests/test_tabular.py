"""agents.planning and agents.tabular: exact DP values, TD control behaviour, checkpoints, errors."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
import pytest

import envs  # noqa: F401  (registers the zoo/ ids)
from agents import build_agent
from agents.planning import policy_evaluation, value_iteration
from agents.protocol import Agent, Batch
from agents.tabular import PlannerAgent, PlannerConfig, TabularAgent, TabularConfig, linear_schedule
from envs.gridworld import DOWN, RIGHT

FL4_V_TIMES_17 = [14, 14, 14, 14, 14, 0, 9, 0, 14, 14, 13, 0, 0, 15, 16, 0]
"""Undiscounted V* of Gymnasium's slippery 4x4 FrozenLake, in seventeenths (the success probability)."""


def _reference_optimal_values(P: Any, n_states: int, n_actions: int, gamma: float) -> np.ndarray:
    """Policy iteration with exact linear solves on dense matrices: an independent reference for V*."""
    T, R = np.zeros((n_states, n_actions, n_states)), np.zeros((n_states, n_actions))
    for s in range(n_states):
        for a in range(n_actions):
            for prob, nxt, reward, done in P[s][a]:
                R[s, a] += prob * reward
                if not done:
                    T[s, a, nxt] += prob
    policy = np.zeros(n_states, dtype=int)
    for _ in range(100):
        rows = np.arange(n_states)
        v = np.linalg.solve(np.eye(n_states) - gamma * T[rows, policy], R[rows, policy])
        q = R + gamma * T @ v
        # switch only where another action is strictly better: tied actions (holes and the goal make many)
        # would otherwise flip back and forth under rounding and the iteration would never stop
        better = np.where(q.max(axis=1) > q[rows, policy] + 1e-12, q.argmax(axis=1), policy)
        if np.array_equal(better, policy):
            return v
        policy = better
    raise AssertionError("policy iteration did not converge")


def _success_rate(env_id: str, policy: np.ndarray, episodes: int, seed: int) -> float:
    env = gymnasium.make(env_id)
    env.reset(seed=seed)
    wins = 0
    for _ in range(episodes):
        obs, _ = env.reset()
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(int(policy[obs]))
            done = terminated or truncated
        wins += info["is_success"]
    return wins / episodes


def _greedy_path(env: gymnasium.Env, policy: np.ndarray, max_steps: int = 100) -> tuple[list[int], float]:
    obs, _ = env.unwrapped.reset(seed=0)
    states, total = [obs], 0.0
    for _ in range(max_steps):
        obs, reward, terminated, _, _ = env.unwrapped.step(int(policy[obs]))
        states.append(obs)
        total += reward
        if terminated:
            break
    return states, total


def _train(cfg: TabularConfig, env_id: str, episodes: int, seed: int) -> TabularAgent:
    env = gymnasium.make(env_id)
    env.reset(seed=seed)
    agent = TabularAgent(cfg, env.observation_space, env.action_space, np.random.default_rng(seed))
    for _ in range(episodes):
        agent.update(agent.collect(env))
    return agent


# ---------------------------------------------------------------- planning
def test_value_iteration_frozenlake4_known_values() -> None:
    P = gymnasium.make("FrozenLake-v1", map_name="4x4", is_slippery=True).unwrapped.P  # Gymnasium's own model
    v, q, policy = value_iteration(P, 16, 4, gamma=1.0, tol=1e-12)
    np.testing.assert_allclose(v * 17, FL4_V_TIMES_17, atol=1e-6)
    np.testing.assert_allclose(q.max(axis=1), v, atol=1e-9)
    assert policy[0] == 0  # LEFT at the start: hug the edge


@pytest.mark.parametrize("env_id", ["zoo/FrozenLake4x4-v0", "zoo/FrozenLake8x8-v0", "zoo/CliffWalking-v0"])
def test_value_iteration_matches_reference(env_id: str) -> None:
    env = gymnasium.make(env_id).unwrapped
    n = env.observation_space.n
    v, _, _ = value_iteration(env.P, n, 4, gamma=0.95)
    np.testing.assert_allclose(v, _reference_optimal_values(env.P, n, 4, 0.95), atol=1e-8)


def test_policy_evaluation_of_the_optimal_policy_gives_v_star() -> None:
    P = gymnasium.make("zoo/FrozenLake8x8-v0").unwrapped.P
    v_star, q_star, policy = value_iteration(P, 64, 4, gamma=0.99)
    v, q = policy_evaluation(P, policy, 64, 4, gamma=0.99)
    np.testing.assert_allclose(v, v_star, atol=1e-8)
    np.testing.assert_allclose(q, q_star, atol=1e-8)
    v_random, _ = policy_evaluation(P, np.full((64, 4), 0.25), 64, 4, gamma=0.99)
    assert v_random[0] < 0.05 < v_star[0]  # a uniform policy is far from optimal
    with pytest.raises(ValueError, match="policy must be"):
        policy_evaluation(P, np.zeros(10, dtype=int), 64, 4, gamma=0.99)


def test_bad_model_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"P\[0\]\[1\] probabilities sum to 0.5"):
        value_iteration({0: {0: [(1.0, 0, 0.0, True)], 1: [(0.5, 0, 0.0, True)]}}, 1, 2, gamma=0.9)


# ---------------------------------------------------------------- TD control
def test_q_learning_frozenlake4_slippery_near_optimal() -> None:
    cfg = TabularConfig(gamma=0.99, epsilon_decay_episodes=2500, lr_end=0.02, lr_decay_episodes=5000)
    agent = _train(cfg, "zoo/FrozenLake4x4-v0", episodes=5000, seed=0)
    _, _, optimal = value_iteration(gymnasium.make("zoo/FrozenLake4x4-v0").unwrapped.P, 16, 4, gamma=0.99)
    best = _success_rate("zoo/FrozenLake4x4-v0", optimal, 2000, seed=1)
    learned = _success_rate("zoo/FrozenLake4x4-v0", agent.greedy_policy(), 2000, seed=1)
    assert best > 0.70
    assert learned > best - 0.05


CLIFF_CFG = {
    "gamma": 1.0,
    "epsilon_start": 0.1,
    "epsilon_end": 0.1,
    "epsilon_decay_episodes": 0,
    "lr_start": 0.5,
    "lr_end": 0.1,
    "lr_decay_episodes": 1000,
}


def test_cliff_q_learning_takes_the_edge_sarsa_the_safe_path() -> None:
    env = gymnasium.make("zoo/CliffWalking-v0")
    q_agent = _train(TabularConfig(name="q", **CLIFF_CFG), "zoo/CliffWalking-v0", 1000, seed=0)
    sarsa = _train(TabularConfig(name="sarsa", **CLIFF_CFG), "zoo/CliffWalking-v0", 1000, seed=0)
    q_path, q_return = _greedy_path(env, q_agent.greedy_policy())
    s_path, s_return = _greedy_path(env, sarsa.greedy_policy())
    assert (len(q_path) - 1, q_return) == (13, -13.0)
    assert all(s in (36, 47) or 24 <= s < 36 for s in q_path)  # the row next to the cliff
    assert s_path[-1] == 47 and len(s_path) - 1 > 13 and s_return == -(len(s_path) - 1)
    assert not any(25 <= s <= 34 for s in s_path)  # never next to the cliff cells (row 2, columns 1..10)


def test_masks_are_respected() -> None:
    class Masked(gymnasium.Wrapper):
        """Allows only DOWN and RIGHT; records what the agent played."""

        mask = np.array([0, 1, 1, 0], dtype=np.int8)
        played: list[int] = []

        def reset(self, **kwargs: Any) -> tuple:
            obs, info = self.env.reset(**kwargs)
            return obs, {**info, "action_mask": self.mask}

        def step(self, action: int) -> tuple:
            self.played.append(int(action))
            obs, reward, terminated, truncated, info = self.env.step(action)
            return obs, reward, terminated, truncated, {**info, "action_mask": self.mask}

    env = Masked(gymnasium.make("zoo/FrozenLake4x4-v0"))
    env.reset(seed=0)
    for name in ("q", "sarsa"):
        agent = TabularAgent(
            TabularConfig(name=name), env.observation_space, env.action_space, np.random.default_rng(0)
        )
        for _ in range(200):
            agent.update(agent.collect(env))
    assert set(Masked.played) == {DOWN, RIGHT}


def test_batch_and_metrics() -> None:
    env = gymnasium.make("zoo/FrozenLake4x4-v0")
    env.reset(seed=0)
    agent = build_agent(
        TabularConfig(epsilon_decay_episodes=10), env.observation_space, env.action_space, np.random.default_rng(0)
    )
    assert isinstance(agent, Agent)
    batch = agent.collect(env)
    assert isinstance(batch, Batch) and batch.env_steps == batch.episode_lengths[0] > 0
    metrics = agent.update(batch)
    assert metrics["epsilon"] == 1.0 and agent.epsilon == pytest.approx(1.0 - 0.95 / 10)
    assert all(isinstance(value, float) for value in metrics.values())
    assert linear_schedule(1.0, 0.0, 4, 2) == 0.5 and linear_schedule(1.0, 0.0, 4, 9) == 0.0


# ---------------------------------------------------------------- checkpoints and errors
def _assert_plain(value: Any) -> None:
    """Only numpy arrays, Python scalars/strings and dicts of them (no pickled objects)."""
    if isinstance(value, dict):
        for item in value.values():
            _assert_plain(item)
    else:
        assert isinstance(value, (np.ndarray, int, float, str, bool)), type(value)


def test_state_dict_round_trip() -> None:
    agent = _train(TabularConfig(), "zoo/FrozenLake4x4-v0", 50, seed=0)
    state = agent.state_dict()
    _assert_plain(state)
    space = gymnasium.spaces.Discrete(16), gymnasium.spaces.Discrete(4)
    twin = TabularAgent(TabularConfig(), *space, np.random.default_rng(123))
    twin.load_state_dict(state)
    np.testing.assert_array_equal(twin.q, agent.q)
    assert twin.episodes == agent.episodes == 50 and twin.epsilon == agent.epsilon
    assert [agent.act(s) for s in range(16) for _ in range(5)] == [twin.act(s) for s in range(16) for _ in range(5)]


def test_state_dict_mismatch_raises() -> None:
    d16, d4 = gymnasium.spaces.Discrete(16), gymnasium.spaces.Discrete(4)
    state = TabularAgent(TabularConfig(), d16, d4, np.random.default_rng(0)).state_dict()
    with pytest.raises(ValueError, match="agent 'q', this agent is 'sarsa'"):
        TabularAgent(TabularConfig(name="sarsa"), d16, d4, np.random.default_rng(0)).load_state_dict(state)
    with pytest.raises(ValueError, match=r"shape \(16, 4\), this agent's is \(64, 4\)"):
        TabularAgent(TabularConfig(), gymnasium.spaces.Discrete(64), d4, np.random.default_rng(0)).load_state_dict(
            state
        )
    with pytest.raises(ValueError, match="agent 'q', this agent is 'vi'"):
        PlannerAgent(PlannerConfig(), d16, d4, np.random.default_rng(0)).load_state_dict(state)


def test_non_discrete_spaces_raise() -> None:
    box = gymnasium.spaces.Box(0.0, 1.0, (3,))
    with pytest.raises(ValueError, match="Discrete observation space"):
        TabularAgent(TabularConfig(), box, gymnasium.spaces.Discrete(4), np.random.default_rng(0))
    with pytest.raises(ValueError, match="Discrete action space"):
        PlannerAgent(PlannerConfig(), gymnasium.spaces.Discrete(4), box, np.random.default_rng(0))
    with pytest.raises(ValueError, match="'q' or 'sarsa'"):
        TabularConfig(name="dqn")


def test_planner_plays_the_optimal_policy() -> None:
    env = gymnasium.make("zoo/CliffWalking-v0")
    env.reset(seed=0)
    agent = PlannerAgent(PlannerConfig(gamma=1.0), env.observation_space, env.action_space, np.random.default_rng(0))
    metrics = agent.update(agent.collect(env))
    assert metrics == {"v_start": -13.0, "episode_return": -13.0, "episode_length": 13.0, "success": 1.0}
    state = agent.state_dict()
    _assert_plain(state)
    twin = PlannerAgent(PlannerConfig(gamma=1.0), env.observation_space, env.action_space, np.random.default_rng(1))
    twin.load_state_dict(state)
    assert twin.solved and twin.update(twin.collect(env))["episode_return"] == -13.0


def test_planner_needs_a_model() -> None:
    env = gymnasium.make("CartPole-v1")
    env = gymnasium.wrappers.TransformObservation(env, lambda obs: 0, gymnasium.spaces.Discrete(1))
    agent = PlannerAgent(PlannerConfig(), env.observation_space, env.action_space, np.random.default_rng(0))
    with pytest.raises(ValueError, match="needs an env with a transition model P"):
        agent.collect(env)
