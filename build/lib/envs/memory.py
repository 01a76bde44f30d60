"""A T-maze: a partially observable gridworld that needs memory (Bakker 2002's T-maze, in our action order).

    ##########U      U, D: the two exits at the end of the corridor
    S.........J      S: start; the cue is shown only in the first observation(s)
    ##########D      J: the junction, where the agent must remember the cue
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from envs.gridworld import DOWN, LEFT, MOVES, RIGHT, UP
from envs.wrappers import HistoryObservation

CUE_UP = 0
CUE_DOWN = 1


class TMazeEnv(gymnasium.Env):
    """Walk down a corridor, then take the exit the cue named at the start.

    ## Description
    A corridor of ``corridor + 1`` cells, row 1 of a 3-row grid; the agent starts at its west end. At the east
    end (the junction) the cells above and below are the exits. At reset a cue (up or down, uniformly at random)
    names the exit that pays; it is visible only during the first ``cue_steps`` observations. The agent sees
    only its neighbourhood, which is the same at the junction whatever the cue, so a policy of the current
    observation alone succeeds half the time; one that remembers the cue succeeds always.

    ## Action Space
    ``Discrete(4)``: 0 left, 1 down, 2 right, 3 up (the gridworlds' order). Moving into a wall leaves the
    agent in place.

    ## Observation Space
    ``Box(0, 1, (6,), float32)``: ``[wall_left, wall_down, wall_right, wall_up, cue_up, cue_down]``. The wall
    bits are 1 where the neighbouring cell in that direction is blocked; the cue bits are 0 after the first
    ``cue_steps`` observations.

    ## Rewards
    +1 for entering the exit the cue named, 0 for the other exit, 0 per step.

    ## Episode End
    Terminated on entering either exit (``info["is_success"]`` True for the named one). The registered ids
    truncate at ``4 * (corridor + 1)`` steps (``envs.registry``).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, corridor: int = 8, cue_steps: int = 1, render_mode: str | None = None) -> None:
        if corridor < 1 or cue_steps < 1:
            raise ValueError(f"TMaze needs corridor >= 1 and cue_steps >= 1, got {corridor}, {cue_steps}")
        self.corridor, self.cue_steps, self.render_mode = int(corridor), int(cue_steps), render_mode
        self.observation_space = spaces.Box(0.0, 1.0, (6,), dtype=np.float32)
        self.action_space = spaces.Discrete(4)
        self.row, self.col, self.cue, self.t = 1, 0, CUE_UP, 0

    def _open(self, row: int, col: int) -> bool:
        if row == 1:
            return 0 <= col <= self.corridor
        return col == self.corridor and row in (0, 2)

    def _obs(self) -> np.ndarray:
        obs = np.zeros(6, dtype=np.float32)
        for action in (LEFT, DOWN, RIGHT, UP):
            dr, dc = MOVES[action]
            obs[action] = 0.0 if self._open(self.row + dr, self.col + dc) else 1.0
        if self.t < self.cue_steps:
            obs[4 + self.cue] = 1.0
        return obs

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """Start at the west end with a fresh cue."""
        super().reset(seed=seed)
        self.row, self.col, self.t = 1, 0, 0
        self.cue = int(self.np_random.integers(2))
        return self._obs(), {"is_success": False}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Move; entering an exit ends the episode (+1 for the cued one)."""
        dr, dc = MOVES[int(action)]
        if self._open(self.row + dr, self.col + dc):
            self.row, self.col = self.row + dr, self.col + dc
        self.t += 1
        terminated = self.row != 1
        success = terminated and self.row == (0 if self.cue == CUE_UP else 2)
        return self._obs(), float(success), terminated, False, {"is_success": success}

    def render(self) -> str | None:
        """ANSI text of the maze with the agent as ``A`` (the paying exit is not shown)."""
        if self.render_mode != "ansi":
            return None
        rows = [["#"] * (self.corridor + 1) for _ in range(3)]
        rows[1] = ["."] * (self.corridor + 1)
        rows[0][-1], rows[2][-1] = "U", "D"
        rows[self.row][self.col] = "A"
        return "\n".join("".join(r) for r in rows) + "\n"


def make_tmaze(corridor: int = 8, cue_steps: int = 1, history: int = 0, render_mode: str | None = None
               ) -> gymnasium.Env:
    """A :class:`TMazeEnv`, observed through a :class:`HistoryObservation` of ``history`` steps when > 0."""
    env: gymnasium.Env = TMazeEnv(corridor, cue_steps, render_mode)
    return HistoryObservation(env, history) if history > 0 else env
