"""A test env for action masks, shared by tests/agents (pythonpath includes tests/)."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces


class MaskedBestEnv(gymnasium.Env):
    """Two steps per episode; action 0 pays 1 but is always masked, action 1 pays 0.5, action 2 pays 0.

    ``dict_obs``: the mask comes in a dict observation instead of ``info["action_mask"]``. Taking a masked
    action raises, so any leak fails the test.
    """

    def __init__(self, dict_obs: bool = False, empty_mask: bool = False) -> None:
        self.dict_obs, self.empty_mask = dict_obs, empty_mask
        self.mask = np.array([0, 0, 0] if empty_mask else [0, 1, 1], dtype=np.int8)
        base = spaces.Discrete(2)
        self.observation_space = (spaces.Dict({"observation": base, "action_mask": spaces.MultiBinary(3)})
                                  if dict_obs else base)
        self.action_space = spaces.Discrete(3)
        self.t = 0

    def _out(self) -> tuple[Any, dict]:
        if self.dict_obs:
            return {"observation": self.t % 2, "action_mask": self.mask.copy()}, {}
        return self.t % 2, {"action_mask": self.mask.copy()}

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        self.t = 0
        return self._out()

    def step(self, action: int) -> tuple[Any, float, bool, bool, dict]:
        if not self.mask[int(action)]:
            raise AssertionError(f"masked action {action} taken")
        self.t += 1
        obs, info = self._out()
        return obs, (1.0, 0.5, 0.0)[int(action)], self.t >= 2, False, info
