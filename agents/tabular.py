"""Tabular control: Q-learning and SARSA (online TD control), and a value-iteration planner (ground truth).

Both agents need ``Discrete`` observation and action spaces. The TD agent learns *during* ``collect``, one
update per step, as in Sutton & Barto (section 6.4-6.5); ``update`` only advances the episode-based
schedules and reports metrics::

    Q-learning: Q(s, a) += lr * (r + gamma * max_a' Q(s', a') - Q(s, a))
    SARSA:      Q(s, a) += lr * (r + gamma * Q(s', a') - Q(s, a))      a' ~ epsilon-greedy(Q, s')

A terminated step bootstraps 0 (target ``r``); a truncated step (time limit) still bootstraps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import gymnasium
import numpy as np

from agents.planning import value_iteration
from agents.protocol import QValued, action_mask_from

FORMAT = 1
"""Version of the ``state_dict`` layout."""


@dataclass(frozen=True)
class TabularConfig:
    """Q-learning / SARSA with linearly decaying exploration and step size."""

    name: str = "q"
    """Algorithm: ``"q"`` (Q-learning, off-policy max target) or ``"sarsa"`` (on-policy target)."""
    gamma: float = 0.99
    """Discount factor in [0, 1]."""
    epsilon_start: float = 1.0
    """Exploration rate of the first episode (probability of a uniformly random legal action)."""
    epsilon_end: float = 0.05
    """Exploration rate once the decay is over."""
    epsilon_decay_episodes: int = 20_000
    """Episodes over which epsilon falls linearly from ``epsilon_start`` to ``epsilon_end`` (0: constant end)."""
    lr_start: float = 0.1
    """Step size (learning rate) of the first episode, in (0, 1]."""
    lr_end: float = 0.01
    """Step size once the decay is over."""
    lr_decay_episodes: int = 50_000
    """Episodes over which the step size falls linearly from ``lr_start`` to ``lr_end`` (0: constant end)."""
    q_init: float = 0.0
    """Initial value of every Q(s, a); above the largest return it is optimistic and drives exploration."""

    def __post_init__(self) -> None:
        if self.name not in ("q", "sarsa"):
            raise ValueError(f"TabularConfig.name must be 'q' or 'sarsa', got {self.name!r}")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {self.gamma}")
        for field in ("epsilon_start", "epsilon_end"):
            if not 0.0 <= getattr(self, field) <= 1.0:
                raise ValueError(f"{field} must be in [0, 1], got {getattr(self, field)}")
        for field in ("lr_start", "lr_end"):
            if not 0.0 < getattr(self, field) <= 1.0:
                raise ValueError(f"{field} must be in (0, 1], got {getattr(self, field)}")
        if self.epsilon_decay_episodes < 0 or self.lr_decay_episodes < 0:
            raise ValueError("decay episodes must be >= 0")


@dataclass(frozen=True)
class PlannerConfig:
    """Value iteration on the env's exact model ``env.unwrapped.P``, then greedy play."""

    name: str = "vi"
    """Planner: ``"vi"`` (value iteration)."""
    gamma: float = 0.99
    """Discount factor in [0, 1] (1 only where every policy reaches a terminal)."""
    tol: float = 1e-10
    """Value iteration stops when no state value changes by ``tol`` or more in a sweep."""

    def __post_init__(self) -> None:
        if self.name != "vi":
            raise ValueError(f"PlannerConfig.name must be 'vi', got {self.name!r}")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {self.gamma}")


class TabularBatch(NamedTuple):
    """One episode played by a tabular agent."""

    env_steps: int
    episode_returns: list[float]
    episode_lengths: list[int]
    successes: list[bool]
    """``info["is_success"]`` at the episode's last step (False when the env does not report it)."""
    td_abs_mean: float
    """Mean |TD error| over the episode's updates (0 for the planner, which does not learn online)."""
    v_start: float
    """Value of the episode's first state under the agent's table: ``max_a Q(s0, a)`` before the episode."""


def linear_schedule(start: float, end: float, episodes: int, episode: int) -> float:
    """``start`` at episode 0, linearly to ``end`` at episode ``episodes``, then ``end`` (``episodes=0``: end)."""
    if episode >= episodes:
        return end
    return start + (end - start) * episode / episodes


def _discrete_sizes(observation_space: gymnasium.Space, action_space: gymnasium.Space) -> tuple[int, int]:
    for role, space in (("observation", observation_space), ("action", action_space)):
        if not isinstance(space, gymnasium.spaces.Discrete):
            raise ValueError(f"tabular agents need a Discrete {role} space, got {space}")
    return int(observation_space.n), int(action_space.n)


class _TableAgent(QValued):
    """What both tabular agents share: the Q table, greedy masked action choice, episode play, checkpoints."""

    name: str

    def __init__(
        self, observation_space: gymnasium.Space, action_space: gymnasium.Space, rng: np.random.Generator
    ) -> None:
        self.n_states, self.n_actions = _discrete_sizes(observation_space, action_space)
        self.rng = rng
        self.q = np.zeros((self.n_states, self.n_actions))
        """float64[nS, nA]: the action-value table."""

    def _greedy(self, s: int, mask: np.ndarray | None) -> int:
        """An action of largest Q among the legal ones, ties broken uniformly at random."""
        values = self.q[s].tolist()
        if mask is not None:
            values = [v if m else -np.inf for v, m in zip(values, mask.tolist(), strict=True)]
        best = max(values)
        ties = [a for a, v in enumerate(values) if v == best]
        return ties[0] if len(ties) == 1 else ties[int(self.rng.random() * len(ties))]

    def q_values(self, observations: Sequence[Any]) -> np.ndarray:
        """float64 ``(B, nA)``: the table's rows of ``observations`` (state indices)."""
        return self.q[np.asarray(observations, dtype=np.int64).reshape(-1)].copy()

    def greedy_policy(self) -> np.ndarray:
        """int64[nS]: ``argmax_a Q(s, a)`` (lowest action among ties; no masks)."""
        return self.q.argmax(axis=1)

    def _check_state(self, state: Mapping[str, Any]) -> None:
        if state.get("format") != FORMAT:
            raise ValueError(f"state_dict format {state.get('format')!r} is not {FORMAT}")
        if state.get("name") != self.name:
            raise ValueError(f"state_dict is for agent {state.get('name')!r}, this agent is {self.name!r}")
        shape = np.shape(state.get("q"))
        if shape != self.q.shape:
            raise ValueError(f"state_dict Q table has shape {shape}, this agent's is {self.q.shape}")


class TabularAgent(_TableAgent):
    """Q-learning or SARSA (``cfg.name``) with an epsilon-greedy behaviour policy; implements ``Agent``."""

    def __init__(
        self,
        cfg: TabularConfig,
        observation_space: gymnasium.Space,
        action_space: gymnasium.Space,
        rng: np.random.Generator,
    ) -> None:
        super().__init__(observation_space, action_space, rng)
        self.cfg = cfg
        self.name = cfg.name
        self.q[:] = cfg.q_init
        self.episodes = 0
        """Episodes completed (``update`` calls); drives the schedules."""

    @property
    def epsilon(self) -> float:
        """Exploration rate of the current episode."""
        c = self.cfg
        return linear_schedule(c.epsilon_start, c.epsilon_end, c.epsilon_decay_episodes, self.episodes)

    @property
    def lr(self) -> float:
        """Step size of the current episode."""
        return linear_schedule(self.cfg.lr_start, self.cfg.lr_end, self.cfg.lr_decay_episodes, self.episodes)

    def act(self, obs: Any, mask: np.ndarray | None = None, greedy: bool = False) -> int:
        """Epsilon-greedy on Q (greedy when ``greedy=True``), over legal actions; ties at random."""
        return self._act(int(obs), None if mask is None else np.asarray(mask), 0.0 if greedy else self.epsilon)

    def _act(self, s: int, mask: np.ndarray | None, epsilon: float) -> int:
        if epsilon > 0.0 and self.rng.random() < epsilon:
            if mask is None:
                return int(self.rng.random() * self.n_actions)
            legal = np.flatnonzero(mask)
            return int(legal[int(self.rng.random() * len(legal))])
        return self._greedy(s, mask)

    def collect(self, env: gymnasium.Env) -> TabularBatch:
        """Play one episode (``env.reset()`` without a seed: seed the env once beforehand), learning online."""
        # ALGO LOGIC: online TD control, one update per step.
        q, gamma, lr, eps, sarsa = self.q, self.cfg.gamma, self.lr, self.epsilon, self.name == "sarsa"
        obs, info = env.reset()
        s, mask = int(obs), action_mask_from(info, obs)
        v_start = float(q[s].max())
        a = self._act(s, mask, eps)
        ret, steps, td_sum = 0.0, 0, 0.0
        while True:
            obs, reward, terminated, truncated, info = env.step(a)
            s2, mask2 = int(obs), action_mask_from(info, obs)
            ret += reward
            steps += 1
            a2 = self._act(s2, mask2, eps) if sarsa and not terminated else -1
            if terminated:
                target = reward  # no bootstrap past a terminal
            elif sarsa:
                target = reward + gamma * q[s2, a2]
            elif mask2 is None:
                target = reward + gamma * max(q[s2].tolist())
            else:
                target = reward + gamma * float(q[s2][mask2.astype(bool)].max())
            td = target - q[s, a]
            q[s, a] += lr * td
            td_sum += abs(td)
            if terminated or truncated:
                break
            if not sarsa:
                a2 = self._act(s2, mask2, eps)  # chosen after the update, from the updated table
            s, a, mask = s2, a2, mask2
        success = bool(info.get("is_success", False))
        return TabularBatch(steps, [ret], [steps], [success], td_sum / steps, v_start)

    def update(self, batch: TabularBatch) -> dict[str, float]:
        """Advance the schedules by the episodes in ``batch``; return the episode's metrics.

        ``epsilon`` and ``lr`` are the values the episode used.
        """
        metrics = {
            "epsilon": self.epsilon,
            "lr": self.lr,
            "td_abs_mean": float(batch.td_abs_mean),
            "episode_return": float(np.mean(batch.episode_returns)),
            "episode_length": float(np.mean(batch.episode_lengths)),
            "success": float(np.mean(batch.successes)),
            "v_start": float(batch.v_start),
        }
        self.episodes += len(batch.episode_returns)
        return metrics

    def state_dict(self) -> dict[str, Any]:
        """``{"format", "name", "q", "episodes", "rng"}``: arrays, scalars and the RNG's bit-generator state."""
        return {
            "format": FORMAT,
            "name": self.name,
            "q": self.q.copy(),
            "episodes": self.episodes,
            "rng": self.rng.bit_generator.state,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore ``state_dict()``; ``ValueError`` if the format, the agent name or the Q shape differs."""
        self._check_state(state)
        self.q[:] = state["q"]
        self.episodes = int(state["episodes"])
        self.rng.bit_generator.state = state["rng"]


class PlannerAgent(_TableAgent):
    """Solves ``env.unwrapped.P`` by value iteration on the first ``collect``, then plays greedily."""

    def __init__(
        self,
        cfg: PlannerConfig,
        observation_space: gymnasium.Space,
        action_space: gymnasium.Space,
        rng: np.random.Generator,
    ) -> None:
        super().__init__(observation_space, action_space, rng)
        self.cfg = cfg
        self.name = cfg.name
        self.v = np.zeros(self.n_states)
        """float64[nS]: V* once solved."""
        self.solved = False

    def solve(self, env: gymnasium.Env) -> None:
        """Value iteration on ``env.unwrapped.P``; fills ``q``, ``v``. ``ValueError`` if the env has no model."""
        model = getattr(env.unwrapped, "P", None)
        if model is None:
            raise ValueError(f"the planner needs an env with a transition model P; {env.unwrapped} has none")
        self.v, q, _ = value_iteration(model, self.n_states, self.n_actions, self.cfg.gamma, self.cfg.tol)
        self.q[:] = q
        self.solved = True

    def act(self, obs: Any, mask: np.ndarray | None = None, greedy: bool = False) -> int:
        """Greedy on Q* over legal actions, ties at random (uniformly random before the first solve)."""
        return self._greedy(int(obs), None if mask is None else np.asarray(mask))

    def collect(self, env: gymnasium.Env) -> TabularBatch:
        """Solve the model if not done yet, then play one greedy episode (``env.reset()`` without a seed)."""
        if not self.solved:
            self.solve(env)
        obs, info = env.reset()
        v_start = float(self.v[int(obs)])
        ret, steps, terminated, truncated = 0.0, 0, False, False
        while not (terminated or truncated):
            action = self.act(obs, action_mask_from(info, obs))
            obs, reward, terminated, truncated, info = env.step(action)
            ret += reward
            steps += 1
        success = bool(info.get("is_success", False))
        return TabularBatch(steps, [ret], [steps], [success], 0.0, v_start)

    def update(self, batch: TabularBatch) -> dict[str, float]:
        """Nothing to learn; returns ``v_start`` (V* of the start state) and the episode's figures."""
        return {
            "v_start": float(batch.v_start),
            "episode_return": float(np.mean(batch.episode_returns)),
            "episode_length": float(np.mean(batch.episode_lengths)),
            "success": float(np.mean(batch.successes)),
        }

    def state_dict(self) -> dict[str, Any]:
        """``{"format", "name", "q", "v", "solved", "rng"}``: arrays, scalars and the RNG state."""
        return {
            "format": FORMAT,
            "name": self.name,
            "q": self.q.copy(),
            "v": self.v.copy(),
            "solved": self.solved,
            "rng": self.rng.bit_generator.state,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore ``state_dict()``; ``ValueError`` if the format, the agent name or the Q shape differs."""
        self._check_state(state)
        self.q[:] = state["q"]
        self.v[:] = state["v"]
        self.solved = bool(state["solved"])
        self.rng.bit_generator.state = state["rng"]
