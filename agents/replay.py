"""Experience replay for DQN: a ring buffer of (n-step) transitions, sampled uniformly.

A stored transition is ``(s, a, R, s', terminated, mask', discount)`` where ``R = sum_k gamma^k r_{t+k}`` over
the k < n steps it spans and ``discount = gamma^k_used``, so the TD target is ``R + discount * max Q(s', .)``
whatever n was (the last transitions of an episode span fewer steps).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np


class ReplaySamples(NamedTuple):
    """A sampled minibatch; every array has leading dim B."""

    obs: np.ndarray
    """float32 (B, *obs_shape)."""
    actions: np.ndarray
    """int64 (B,)."""
    rewards: np.ndarray
    """float32 (B,): the n-step discounted reward sum R."""
    next_obs: np.ndarray
    """float32 (B, *obs_shape): the observation n steps later (or the episode's final one)."""
    terminated: np.ndarray
    """float32 (B,): 1 when s' is a true terminal (no bootstrap)."""
    next_masks: np.ndarray
    """bool (B, A): legal actions at s' (all True at a terminal)."""
    discounts: np.ndarray
    """float32 (B,): gamma^k, k the steps between s and s'."""


class ReplayBuffer:
    """Fixed-capacity ring buffer of transitions; the oldest is overwritten first."""

    FIELDS = ("obs", "actions", "rewards", "next_obs", "terminated", "next_masks", "discounts")

    def __init__(self, capacity: int, obs_shape: tuple[int, ...], n_actions: int) -> None:
        self.capacity = int(capacity)
        self.data = {
            "obs": np.zeros((capacity, *obs_shape), dtype=np.float32),
            "actions": np.zeros(capacity, dtype=np.int64),
            "rewards": np.zeros(capacity, dtype=np.float32),
            "next_obs": np.zeros((capacity, *obs_shape), dtype=np.float32),
            "terminated": np.zeros(capacity, dtype=np.float32),
            "next_masks": np.ones((capacity, n_actions), dtype=bool),
            "discounts": np.zeros(capacity, dtype=np.float32),
        }
        self.pos = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, obs: np.ndarray, action: int, reward: float, next_obs: np.ndarray, terminated: bool,
            next_mask: np.ndarray, discount: float) -> None:
        """Store one transition (arrays without a batch dim)."""
        i = self.pos
        for key, value in zip(self.FIELDS, (obs, action, reward, next_obs, terminated, next_mask, discount),
                              strict=True):
            self.data[key][i] = value
        self.pos = (self.pos + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> ReplaySamples:
        """``batch_size`` transitions drawn uniformly with replacement."""
        idx = rng.integers(self.size, size=batch_size)
        return ReplaySamples(*(self.data[key][idx] for key in self.FIELDS))

    def state_dict(self) -> dict[str, Any]:
        """The filled part of the buffer (arrays) and its cursor."""
        return {"pos": self.pos, "size": self.size, **{k: v[: self.size].copy() for k, v in self.data.items()}}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`; ``ValueError`` when the shapes do not fit this buffer."""
        size = int(state["size"])
        if size > self.capacity:
            raise ValueError(f"replay buffer holds {size} transitions, capacity here is {self.capacity}")
        for key, value in self.data.items():
            saved = np.asarray(state[key])
            if saved.shape[1:] != value.shape[1:]:
                raise ValueError(f"replay field {key} has shape {saved.shape[1:]}, expected {value.shape[1:]}")
            value[:size] = saved
        self.pos, self.size = int(state["pos"]), size


class NStepQueue:
    """Turns per-env streams of one-step transitions into n-step ones (n=1: passes them through)."""

    def __init__(self, n_envs: int, n: int, gamma: float) -> None:
        self.n, self.gamma = n, gamma
        self.pending: list[deque[tuple[np.ndarray, int, float]]] = [deque() for _ in range(n_envs)]

    def push(self, env: int, obs: np.ndarray, action: int, reward: float, next_obs: np.ndarray,
             terminated: bool, done: bool, next_mask: np.ndarray) -> list[tuple]:
        """Add env ``env``'s step; return the transitions now complete, as ``ReplayBuffer.add`` arguments.

        A transition completes once n steps follow it, or when the episode ends (``done``), which flushes all.
        """
        queue = self.pending[env]
        queue.append((obs, action, reward))
        ready = []
        while queue and (len(queue) == self.n or done):
            ret = sum(self.gamma**k * r for k, (_, _, r) in enumerate(queue))
            first_obs, first_action, _ = queue.popleft()
            steps = len(queue) + 1
            ready.append((first_obs, first_action, ret, next_obs, terminated, next_mask, self.gamma**steps))
        return ready

    def clear(self) -> None:
        """Drop partial transitions (a new episode starts in every env)."""
        for queue in self.pending:
            queue.clear()

    def state_dict(self) -> dict[str, Any]:
        """The partial transitions, concatenated env after env: observations, actions, rewards, and how many
        each env holds (``counts``)."""
        steps = [step for queue in self.pending for step in queue]
        return {"counts": np.array([len(q) for q in self.pending], np.int64),
                "obs": np.stack([np.asarray(o) for o, _, _ in steps]) if steps else np.zeros(0, np.float32),
                "actions": np.array([a for _, a, _ in steps], np.int64),
                "rewards": np.array([r for _, _, r in steps], np.float64)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`; ``ValueError`` when it is for another number of envs."""
        counts = np.asarray(state["counts"])
        if counts.shape != (len(self.pending),):
            raise ValueError(f"n-step queues of {counts.shape[0]} envs; this agent steps {len(self.pending)}")
        steps = zip(np.asarray(state["obs"]), np.asarray(state["actions"]), np.asarray(state["rewards"]),
                    strict=False)
        for queue, count in zip(self.pending, counts, strict=True):
            queue.clear()
            for _ in range(int(count)):
                obs, action, reward = next(steps)
                queue.append((obs, int(action), float(reward)))
