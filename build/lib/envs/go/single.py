"""Go as a single-agent Gymnasium env: the agent plays one colour against a fixed opponent policy.

Registered as ``zoo/Go{5,7,9,13,19}x{..}-v0`` (see :mod:`envs.registry`). Rules are the suite's
(:mod:`envs.go.state`): area scoring with komi, suicide illegal, positional superko, two passes end the game.

## Action space

``Discrete(N*N + 1)``: action ``i < N*N`` is the point ``(row, col) = divmod(i, N)`` with row 0 at the top,
action ``N*N`` is pass.

## Observation space

``Box(0, 1, (2k+1, N, N), float32)`` with ``k = history``, channels first: exactly the planes of
:meth:`GoState.features` from the agent's side (the agent's stones now and at the ``k-1`` previous moves, the
opponent's, then a plane of ones when black is to move). The legal actions are ``info["action_mask"]``
(int8, ``(N*N+1,)``) after ``reset`` and every ``step``, and :meth:`GoEnv.action_masks` (bool, the convention of
sb3-contrib's MaskablePPO); they are all zero once the episode is over.

## Opponent and colour

``opponent`` is ``"random"`` (uniform legal moves), ``"capture"`` (capture-first heuristic; see
:mod:`envs.go.opponents`) or any callable ``(GoState, np.random.Generator) -> action``; it is called with a copy
of the state and ``self.np_random``. ``agent_color`` is ``"black"``, ``"white"``, or ``"random"`` (drawn at every
reset from ``self.np_random``); when the agent is white the opponent's first move is made inside ``reset``.
``info["agent_color"]`` says which.

## Rewards and episode end

Zero until the game ends; then ``+1`` if the agent won, ``-1`` if it lost, ``0`` for a draw (integer komi), by
area score; ``info["score"]`` is the final score from black's view. Two passes terminate the episode. Reaching
``max_moves`` moves (both sides', passes included) truncates it; the engine scores that game, so the reward is
still the area-score result.

## Illegal actions

An illegal action (occupied point, suicide, superko, or outside ``0..N*N``) ends the episode at once:
``terminated=True``, reward ``-1``, and ``info["illegal_move"]`` names the reason (e.g. ``"superko"``). The board
is left as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.go import render as go_render
from envs.go.aec import mask_for, planes_for
from envs.go.game import GoGame
from envs.go.opponents import get_policy
from envs.go.state import BLACK, WHITE, GoState

_COLOURS = {"black": BLACK, "white": WHITE}


class GoEnv(gym.Env):
    """Go against an opponent policy; the specification is the module docstring."""

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 2}

    def __init__(
        self,
        board_size: int = 9,
        komi: float = 7.5,
        history: int = 8,
        max_moves: int | None = None,
        opponent: str | Callable[[GoState, np.random.Generator], int] = "random",
        agent_color: str = "black",
        render_mode: str | None = None,
    ) -> None:
        if agent_color not in ("black", "white", "random"):
            raise ValueError(f"agent_color {agent_color!r} is not valid; valid: 'black', 'white', 'random'")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode {render_mode!r} is not supported; valid: None, 'ansi', 'rgb_array'")
        self.opponent = get_policy(opponent)
        self.board_size, self.komi, self.history, self.max_moves = board_size, komi, history, max_moves
        self.agent_color_mode = agent_color
        self.render_mode = render_mode
        self.state = GoState.new(board_size, komi=komi, history=history, max_moves=max_moves)
        self.game = GoGame(board_size, komi, history, max_moves)
        """The game's settings and position factory: what searching agents (``agent=zero``) play through."""
        self.agent_colour = BLACK
        self._done = False
        n = board_size
        self.observation_space = spaces.Box(0.0, 1.0, (2 * history + 1, n, n), np.float32)
        self.action_space = spaces.Discrete(n * n + 1)

    def _obs(self) -> np.ndarray:
        return planes_for(self.state, self.agent_colour)

    def _info(self, **extra: Any) -> dict[str, Any]:
        mask = mask_for(self.state, self.agent_colour)
        info = {
            "action_mask": mask * 0 if self._done else mask,
            "agent_color": "black" if self.agent_colour == BLACK else "white",
        }
        info.update(extra)
        return info

    def action_masks(self) -> np.ndarray:
        """bool ``(N*N+1,)``: the agent's legal actions now (MaskablePPO's convention)."""
        return self._info()["action_mask"].astype(bool)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """New game; draws the agent's colour if ``agent_color="random"``; the opponent opens if the agent is white."""
        super().reset(seed=seed)
        self._done = False
        self.state = GoState.new(self.board_size, komi=self.komi, history=self.history, max_moves=self.max_moves)
        if self.agent_color_mode == "random":
            self.agent_colour = BLACK if self.np_random.random() < 0.5 else WHITE
        else:
            self.agent_colour = _COLOURS[self.agent_color_mode]
        if self.agent_colour != self.state.to_play:
            self._opponent_move()
        return self._obs(), self._info()

    def _opponent_move(self) -> None:
        action = int(self.opponent(self.state.copy(), self.np_random))
        reason = self.state.illegal_reason(action)
        if reason is not None:
            raise ValueError(f"the opponent policy {self.opponent!r} chose illegal action {action}: {reason}")
        self.state.play(action)

    def _outcome(self) -> tuple[float, bool, bool, dict[str, Any]]:
        """(reward, terminated, truncated, info) of the position after a move."""
        state = self.state
        if not state.is_terminal:
            return 0.0, False, False, self._info()
        ended = state.passes >= 2 or state.resigned is not None
        self._done = True
        winner = state.winner()
        info = self._info(score=float(state.score()), winner=int(winner))
        return float(winner * self.agent_colour), ended, not ended, info

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Play ``action`` for the agent, then the opponent's reply; see the module docstring for rewards."""
        if self._done:
            raise RuntimeError("step() called after the episode ended; call reset() first")
        try:
            action = int(action)
            reason = self.state.illegal_reason(action)
        except (TypeError, ValueError, OverflowError):
            reason = "out of range"
        if reason is not None:
            self._done = True
            return self._obs(), -1.0, True, False, self._info(illegal_move=reason)
        self.state.play(action)
        if not self.state.is_terminal:
            self._opponent_move()
        reward, terminated, truncated, info = self._outcome()
        return self._obs(), reward, terminated, truncated, info

    def render(self) -> str | np.ndarray | None:
        """``ansi``: the board as text with GTP coordinates; ``rgb_array``: an (H, W, 3) uint8 picture."""
        return go_render.render(self.state, self.render_mode)
