"""Go as a two-player PettingZoo AEC environment (``zoo_go_v0``).

Agents ``black_0`` and ``white_0`` move in turn, black first. Rules are the suite's (:mod:`envs.go.state`):
area scoring with komi, suicide illegal, positional superko, two consecutive passes end the game.

## Action space

``Discrete(N*N + 1)``: action ``i < N*N`` is the point ``(row, col) = divmod(i, N)`` with row 0 at the top,
action ``N*N`` is pass. There is no resign action.

## Observation space

``Dict(observation=Box(0, 1, (2k+1, N, N), float32), action_mask=Box(0, 1, (N*N+1,), int8))`` with
``k = history``. ``observation`` holds exactly the planes of :meth:`GoState.features`, **channels first**: the
observing agent's stones now and at the ``k-1`` previous moves, then the opponent's, then a plane of ones when
black is to move. These are the planes the suite's search and nets use; note PettingZoo's ``go_v5`` instead
gives ``(N, N, 17)`` bool planes channels-last. For the agent to move this is ``GoState.features()``; for the
other agent the own/opponent halves are swapped. ``action_mask`` marks the legal actions of the agent to move
(all zeros for the other agent and once the game is over).

## Rewards

Zero until the game ends; then ``+1`` to the winner and ``-1`` to the loser by area score, ``0`` to both for a
draw (possible only with integer komi). ``infos[agent]["score"]`` then holds the final score from black's view
(black area - white area - komi).

## Episode end

Two consecutive passes terminate the game (``terminations`` all True). When ``max_moves`` moves (passes
included) have been played the game stops with ``truncations`` all True; the engine scores such a game, so the
rewards are still the area-score result.

## Illegal actions

``raw_env.step`` raises :class:`~envs.go.state.IllegalMoveError` (a ``ValueError``) naming the move and the
reason. :func:`env` wraps the raw env as PettingZoo's classic games do: ``TerminateIllegalWrapper`` ends the
game on an illegal action (one not in the last ``action_mask``): reward ``-1`` for the offender, ``0`` for the
other agent, ``terminations`` and ``truncations`` all True, and a warning through PettingZoo's logger;
``AssertOutOfBoundsWrapper`` rejects actions outside the action space, ``OrderEnforcingWrapper`` rejects calls
before ``reset``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv
from pettingzoo.utils import wrappers

from envs.go import render as go_render
from envs.go.state import BLACK, GoState

AGENTS = ("black_0", "white_0")
_COLOUR = {"black_0": BLACK, "white_0": -BLACK}


def planes_for(state: GoState, colour: int) -> np.ndarray:
    """``state.features()`` seen by ``colour``: as is when ``colour`` is to move, else own/opponent halves swapped."""
    planes = state.features()
    if colour != state.to_play:
        k = state.history
        planes = np.concatenate([planes[k : 2 * k], planes[:k], planes[2 * k :]])
    return planes


def mask_for(state: GoState, colour: int) -> np.ndarray:
    """int8 legal-action mask for ``colour``: the legal mask when it is to move, else all zeros."""
    if colour != state.to_play:
        return np.zeros(state.size * state.size + 1, np.int8)
    return state.legal_mask().astype(np.int8)


def env(**kwargs: Any) -> AECEnv:
    """The wrapped AEC env (see the module docstring); ``kwargs`` go to :class:`raw_env`."""
    game = raw_env(**kwargs)
    game = wrappers.TerminateIllegalWrapper(game, illegal_reward=-1)
    game = wrappers.AssertOutOfBoundsWrapper(game)
    return wrappers.OrderEnforcingWrapper(game)


class raw_env(AECEnv):  # noqa: N801 - PettingZoo's naming convention for the unwrapped env
    """Go for two agents; the specification is the module docstring."""

    metadata = {"name": "zoo_go_v0", "is_parallelizable": False, "render_modes": ["ansi", "rgb_array"],
                "render_fps": 2}

    def __init__(
        self,
        board_size: int = 9,
        komi: float = 7.5,
        history: int = 8,
        max_moves: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        super().__init__()
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode {render_mode!r} is not supported; valid: None, 'ansi', 'rgb_array'")
        self.board_size, self.komi, self.history, self.max_moves = board_size, komi, history, max_moves
        self.render_mode = render_mode
        self.state = GoState.new(board_size, komi=komi, history=history, max_moves=max_moves)
        n, planes = board_size, 2 * history + 1
        self.possible_agents = list(AGENTS)
        self.agents = list(AGENTS)
        self.observation_spaces = {
            a: spaces.Dict({
                "observation": spaces.Box(0.0, 1.0, (planes, n, n), np.float32),
                "action_mask": spaces.Box(0, 1, (n * n + 1,), np.int8),
            })
            for a in AGENTS
        }
        self.action_spaces = {a: spaces.Discrete(n * n + 1) for a in AGENTS}
        self._reset_bookkeeping()

    def observation_space(self, agent: str) -> spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self.action_spaces[agent]

    def _reset_bookkeeping(self) -> None:
        self.agents = list(AGENTS)
        self.rewards = {a: 0.0 for a in AGENTS}
        self._cumulative_rewards = {a: 0.0 for a in AGENTS}
        self.terminations = {a: False for a in AGENTS}
        self.truncations = {a: False for a in AGENTS}
        self.infos = {a: {} for a in AGENTS}
        self.agent_selection = AGENTS[0]

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        """Empty board, black to move. The game has no randomness; ``seed`` only seeds the spaces."""
        if seed is not None:
            for a in AGENTS:
                self.action_spaces[a].seed(seed)
                self.observation_spaces[a].seed(seed)
        self.state = GoState.new(self.board_size, komi=self.komi, history=self.history, max_moves=self.max_moves)
        self._reset_bookkeeping()

    def observe(self, agent: str) -> dict[str, np.ndarray]:
        """``{"observation": planes from agent's side, "action_mask": int8}`` (see the module docstring)."""
        colour = _COLOUR[agent]
        return {"observation": planes_for(self.state, colour), "action_mask": mask_for(self.state, colour)}

    def step(self, action: int | None) -> None:
        """Play ``action`` for ``agent_selection``; finished agents must step with ``None``."""
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        self.state.play(int(action))
        self.rewards = {a: 0.0 for a in AGENTS}
        if self.state.is_terminal:
            self._finish()
        self._cumulative_rewards[agent] = 0.0
        self.agent_selection = AGENTS[1] if agent == AGENTS[0] else AGENTS[0]
        self._accumulate_rewards()

    def _finish(self) -> None:
        """Set rewards, end flags and infos once the engine says the game is over."""
        state = self.state
        winner = state.winner()
        score = float(state.score())
        ended = state.passes >= 2 or state.resigned is not None
        for a in AGENTS:
            self.rewards[a] = float(winner * _COLOUR[a])
            self.terminations[a] = ended
            self.truncations[a] = not ended
            self.infos[a] = {"score": score, "winner": int(winner), "move_count": state.move_count}

    def render(self) -> str | np.ndarray | None:
        """``ansi``: the board as text with GTP coordinates; ``rgb_array``: an (H, W, 3) uint8 picture."""
        return go_render.render(self.state, self.render_mode)

    def close(self) -> None:
        """Nothing to release."""
