"""Observation wrappers for partially observable envs."""

from __future__ import annotations

from collections import deque
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces


class HistoryObservation(gymnasium.ObservationWrapper):
    """Observe the last ``length`` observations of a ``Box`` env, stacked: shape (length, *obs_shape).

    Row 0 is the oldest, row ``length - 1`` the current observation. At reset the rows before the first
    observation are zeros, so the agent can tell how far into the episode it is (up to ``length`` steps).
    """

    def __init__(self, env: gymnasium.Env, length: int) -> None:
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, spaces.Box):
            raise ValueError(f"HistoryObservation stacks Box observations, got {space}")
        if length < 1:
            raise ValueError(f"history length must be >= 1, got {length}")
        self.length = int(length)
        low = np.repeat(np.minimum(space.low, 0)[None], self.length, axis=0)
        high = np.repeat(np.maximum(space.high, 0)[None], self.length, axis=0)
        self.observation_space = spaces.Box(low, high, dtype=space.dtype)
        self._frames: deque[np.ndarray] = deque(maxlen=self.length)
        self._zero = np.zeros(space.shape, dtype=space.dtype)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """Clear the history to zeros, then observe the first observation."""
        self._frames.extend([self._zero] * self.length)
        return super().reset(seed=seed, options=options)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        """Push ``observation`` and return the stacked history (length, *obs_shape)."""
        self._frames.append(np.asarray(observation, dtype=self._zero.dtype))
        return np.stack(self._frames)
