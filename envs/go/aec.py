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

## Illegal actions and call order

``raw_env.step`` raises :class:`~envs.go.state.IllegalMoveError` (a ``ValueError``) naming the move and the
reason, and checks nothing else. :func:`env` returns :class:`CheckedAECEnv`, a ``raw_env`` that gives the
guarantees PettingZoo's classic games get from ``TerminateIllegalWrapper(illegal_reward=-1)``,
``AssertOutOfBoundsWrapper`` and ``OrderEnforcingWrapper``, checked inline rather than through three layers of
attribute forwarding, with the same outcomes:

- an illegal action (one not in the last ``action_mask`` of the agent to move) ends the game: reward ``-1``
  for the offender, ``0`` for the other agent, ``terminations`` and ``truncations`` all True, ``infos`` left as
  they were, the board left as it was (so the offender's ``action_mask`` still lists the moves that were
  legal), and a warning through PettingZoo's ``EnvLogger``;
- an action outside ``Discrete(N*N + 1)`` raises ``AssertionError("action is not in action space")``, as does
  anything but ``None`` from a finished agent that is not in the space; a finished agent's step with an
  in-range action raises ``ValueError``, as in ``AECEnv._was_dead_step``;
- before ``reset``: ``step``, ``observe``, ``render`` and ``agent_iter`` raise ``AssertionError``
  (``"reset() needs to be called before step."`` and so on), and reading ``rewards``, ``terminations``,
  ``truncations``, ``infos``, ``agent_selection``, ``agents`` or ``num_agents`` (so ``last()`` too) raises
  ``AttributeError``;
- ``step`` once every agent is done logs PettingZoo's "step() called after all agents are terminated or
  truncated" warning and does nothing; iterating ``agent_iter`` twice without a ``step`` raises
  ``AssertionError``.

``unwrapped`` is the env itself (there is no inner env). ``state`` is the :class:`~envs.go.state.GoState` of the
game, as on ``raw_env`` (PettingZoo's optional global ``state()`` is not offered).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv
from pettingzoo.utils.env_logger import EnvLogger

from envs.go import render as go_render
from envs.go.state import BLACK, GoState, IllegalMoveError

AGENTS = ("black_0", "white_0")
_COLOUR = {"black_0": BLACK, "white_0": -BLACK}
_OTHER = {"black_0": "white_0", "white_0": "black_0"}
ILLEGAL_REWARD = -1.0
"""Reward of the agent whose illegal action ends the game in :func:`env` (PettingZoo's ``illegal_reward``)."""
# Attributes that OrderEnforcingWrapper hides before the first reset.
_AFTER_RESET = frozenset({"rewards", "terminations", "truncations", "infos", "agent_selection", "agents",
                          "num_agents"})


@cache
def _swap_halves(history: int) -> np.ndarray:
    """Plane order that turns the mover's planes into the other side's: ``[k:2k], [0:k], [2k]``."""
    k = history
    order = np.r_[k : 2 * k, 0:k, 2 * k]
    order.setflags(write=False)
    return order


def planes_for(state: GoState, colour: int) -> np.ndarray:
    """``state.features()`` seen by ``colour``: as is when ``colour`` is to move, else own/opponent halves swapped."""
    planes = state.features()
    if colour != state.to_play:
        planes = planes[_swap_halves(state.history)]
    return planes


def mask_for(state: GoState, colour: int) -> np.ndarray:
    """int8 legal-action mask for ``colour``: the legal mask when it is to move, else all zeros."""
    if colour != state.to_play:
        return np.zeros(state.size * state.size + 1, np.int8)
    return state.legal_mask().view(np.int8)  # a fresh bool copy, read as int8 without another copy


def env(**kwargs: Any) -> CheckedAECEnv:
    """The public AEC env: :class:`raw_env` with PettingZoo's wrapper guarantees (module docstring,
    "Illegal actions and call order"); ``kwargs`` go to :class:`raw_env`."""
    return CheckedAECEnv(**kwargs)


class _AgentIterable:
    """What ``agent_iter`` returns: each ``iter()`` starts a fresh walk of at most ``max_iter`` agents."""

    __slots__ = ("_walk", "_max_iter")

    def __init__(self, walk: Callable[[int], Iterator[str]], max_iter: int) -> None:
        self._walk, self._max_iter = walk, max_iter

    def __iter__(self) -> Iterator[str]:
        return self._walk(self._max_iter)


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
        state = self.state
        if _COLOUR[agent] == state.to_play:  # the usual call (last()): no plane swap, the engine's mask
            return {"observation": state.features(), "action_mask": state.legal_mask().view(np.int8)}
        return {"observation": planes_for(state, -state.to_play), "action_mask": mask_for(state, -state.to_play)}

    _observe = observe  # what last() calls: subclasses that guard observe() need not guard last() twice

    def last(self, observe: bool = True) -> tuple[dict[str, np.ndarray] | None, float, bool, bool, dict[str, Any]]:
        """``(observe(agent_selection), cumulative reward, terminated, truncated, info)`` of ``agent_selection``."""
        agent = self.agent_selection
        return (
            self._observe(agent) if observe else None,
            self._cumulative_rewards[agent],
            self.terminations[agent],
            self.truncations[agent],
            self.infos[agent],
        )

    def agent_iter(self, max_iter: int = 2**63) -> Iterable[str]:
        """``agent_selection`` once per ``step``, while some agent is left, at most ``max_iter`` times."""
        return _AgentIterable(self._walk, max_iter)

    def _walk(self, max_iter: int) -> Iterator[str]:
        while self.agents and max_iter > 0:
            max_iter -= 1
            yield self.agent_selection

    def step(self, action: int | None) -> None:
        """Play ``action`` for ``agent_selection``; finished agents must step with ``None``."""
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        self.state.play(int(action))
        self._moved(agent)

    def _moved(self, agent: str) -> None:
        """Bookkeeping after ``agent`` played a legal move. Rewards and cumulative rewards stay zero until the
        move that ends the game, so only that move touches them."""
        self.agent_selection = _OTHER[agent]
        if self.state.is_terminal:
            self._finish()
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


class CheckedAECEnv(raw_env):
    """``raw_env`` with the checks of PettingZoo's ``OrderEnforcingWrapper(AssertOutOfBoundsWrapper(
    TerminateIllegalWrapper(raw_env, illegal_reward=-1)))`` done inline; what :func:`env` returns. The
    guarantees are listed in the module docstring ("Illegal actions and call order")."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._has_reset = False
        self._has_updated = False  # a step or reset since agent_iter last yielded
        self._num_actions = self.board_size * self.board_size + 1
        for name in ("agents", "rewards", "terminations", "truncations", "infos", "agent_selection"):
            delattr(self, name)  # set by reset; until then __getattr__ says so

    def __getattr__(self, name: str) -> Any:
        # Reached only when normal lookup fails, so it costs nothing once the env is reset.
        if name in _AFTER_RESET and not self.__dict__.get("_has_reset", False):
            raise AttributeError(f"{name} cannot be accessed before reset")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        self._has_reset = True
        self._has_updated = True
        super().reset(seed=seed, options=options)

    def observe(self, agent: str) -> dict[str, np.ndarray]:
        if not self._has_reset:
            EnvLogger.error_observe_before_reset()
        return super().observe(agent)

    def render(self) -> str | np.ndarray | None:
        if not self._has_reset:
            EnvLogger.error_render_before_reset()
        return super().render()

    def agent_iter(self, max_iter: int = 2**63) -> Iterable[str]:
        if not self._has_reset:
            EnvLogger.error_agent_iter_before_reset()
        return super().agent_iter(max_iter)

    def _walk(self, max_iter: int) -> Iterator[str]:
        while self.agents and max_iter > 0:
            max_iter -= 1
            if not self._has_updated:
                raise AssertionError("need to call step() or reset() in a loop over `agent_iter`")
            self._has_updated = False
            yield self.agent_selection

    def _in_space(self, action: Any) -> bool:
        if type(action) is int:  # the common case, without Discrete.contains' conversions
            return 0 <= action < self._num_actions
        return self.action_spaces[AGENTS[0]].contains(action)

    def step(self, action: int | None) -> None:
        """Play ``action`` for ``agent_selection`` with the checks of the module docstring."""
        if not self._has_reset:
            EnvLogger.error_step_before_reset()
        self._has_updated = True
        if not self.agents:
            EnvLogger.warn_step_after_terminated_truncated()
            return
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            if action is not None and not self._in_space(action):
                raise AssertionError("action is not in action space")
            self._was_dead_step(action)
            return
        if not self._in_space(action):
            raise AssertionError("action is not in action space")
        try:
            self.state.play(int(action))  # legal exactly when set in the mask last observed
        except IllegalMoveError:
            self._end_on_illegal(agent)
            return
        self._moved(agent)

    def _end_on_illegal(self, agent: str) -> None:
        """End the game as TerminateIllegalWrapper does: ``agent`` gets ILLEGAL_REWARD, the other 0."""
        EnvLogger.warn_on_illegal_move()
        self._cumulative_rewards[agent] = 0
        self.terminations = dict.fromkeys(self.agents, True)
        self.truncations = dict.fromkeys(self.agents, True)
        self.rewards = dict.fromkeys(self.truncations, 0)
        self.rewards[agent] = ILLEGAL_REWARD
        self._accumulate_rewards()
        self._deads_step_first()
