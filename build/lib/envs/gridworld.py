"""Text-map gridworlds with an exact transition model: FrozenLake, CliffWalking, windy gridworld, mazes.

One action order for every map (Gymnasium FrozenLake's): ``LEFT=0, DOWN=1, RIGHT=2, UP=3``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from envs.gridworld_maps import PRESETS, RewardScheme

LEFT = 0
DOWN = 1
RIGHT = 2
UP = 3
ACTION_NAMES = ("Left", "Down", "Right", "Up")
MOVES = ((0, -1), (1, 0), (0, 1), (-1, 0))
"""(d_row, d_col) of each action, indexed by action."""

_CELLS = "SGF.#HC"
_COLOURS = {  # RGB of each cell kind in rgb_array renders
    "S": (250, 220, 120),
    "G": (90, 190, 90),
    "F": (220, 235, 250),
    ".": (220, 235, 250),
    "#": (70, 70, 70),
    "H": (20, 40, 90),
    "C": (140, 90, 50),
}
_AGENT_COLOUR = (220, 40, 40)

Transition = tuple[float, int, float, bool]
"""One outcome of an action: (probability, next_state, reward, terminated)."""


class GridWorldEnv(gymnasium.Env):
    """A gridworld read from a text map, with an exact transition model ``P`` for planners.

    ## Description
    The agent walks on a grid from the start ``S`` to a goal ``G``. Cells: ``F``/``.`` floor, ``#`` wall,
    ``H`` hole (FrozenLake: falling in ends the episode), ``C`` cliff (CliffWalking: reward -100 and back to
    the start; the episode goes on). Moving into a wall or off the grid leaves the agent in place.

    With ``slip > 0`` the ground is slippery: the agent moves in the intended direction with probability
    ``1 - slip``, else in one of the two perpendicular directions, each with probability ``slip / 2``.
    ``slip=2/3`` is Gymnasium's slippery FrozenLake (1/3 each): the model ``P`` of
    ``map_name="frozenlake8", slip=2/3`` gives the same distribution over (next state, reward, terminated) as
    ``FrozenLake-v1`` (``map_name="8x8"``) for every state and action (Gymnasium lists coinciding outcomes
    separately; here they are merged).

    With a ``wind`` (one non-negative int per column), after the move the agent is pushed up by the wind of
    the column it moved *from* (Sutton & Barto's windy gridworld), one cell at a time, stopping at walls and
    at the top edge. Only the cell it lands on counts (holes, cliffs or goals passed on the way do not).

    Presets (``map_name``): ``frozenlake4``, ``frozenlake8`` (Gymnasium's maps), ``cliff`` (4x12),
    ``windy`` (7x10 with Sutton's wind ``0 0 0 1 1 1 2 2 1 0``), ``maze`` (11x11). A user map goes in ``desc``
    (a list of equal-length strings; it overrides ``map_name``), with ``rewards`` (default ``RewardScheme()``:
    +1 goal, 0 otherwise, -100 cliff) and ``wind`` (default none) optional; ``check_map`` states the rules.

    ## Action Space
    ``Discrete(4)``: 0 left, 1 down, 2 right, 3 up (constants ``LEFT DOWN RIGHT UP``).

    ## Observation Space
    ``Discrete(nrow * ncol)``: the agent's cell as ``row * ncol + col`` (row 0 at the top).

    ## Starting State
    The ``S`` cell.

    ## Rewards
    By the cell a step lands on (see ``RewardScheme``): FrozenLake presets give +1 for the goal and 0
    otherwise; ``cliff``, ``windy`` and ``maze`` give -1 per step (the step into the goal too) and -100 for a
    cliff cell (which replaces the step cost).

    ## Episode End
    Terminated on reaching a goal (``info["is_success"] = True``) or a hole (``False``). Truncation is left to
    the ``TimeLimit`` of the registered ids (``envs.registry``). Every ``info`` carries ``"prob"`` (the
    probability of the outcome that happened, as in Gymnasium) and ``"is_success"``.

    ## Model
    ``P[s][a]`` is a list of ``(prob, next_state, reward, terminated)``, one entry per distinct outcome
    (outcomes that coincide are merged), probabilities summing to 1. Goal, hole and wall cells are
    absorbing: ``P[s][a] == [(1.0, s, 0.0, True)]`` (as in Gymnasium; walls are never entered).
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(
        self,
        map_name: str = "frozenlake4",
        slip: float = 0.0,
        render_mode: str | None = None,
        desc: Sequence[str] | None = None,
        rewards: RewardScheme | None = None,
        wind: Sequence[int] | None = None,
        cell_pixels: int = 16,
    ) -> None:
        if desc is None:
            if map_name not in PRESETS:
                raise ValueError(f"unknown map_name {map_name!r}; presets: {', '.join(PRESETS)}")
            preset = PRESETS[map_name]
            desc = preset.desc
            rewards = preset.rewards if rewards is None else rewards
            wind = preset.wind if wind is None else wind
        if not 0.0 <= float(slip) <= 1.0:
            raise ValueError(f"slip must be in [0, 1], got {slip}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode {render_mode!r} is not one of {self.metadata['render_modes']}")
        self.desc = check_map(desc, wind)
        self.nrow, self.ncol = len(self.desc), len(self.desc[0])
        self.slip = float(slip)
        self.rewards = RewardScheme() if rewards is None else rewards
        self.wind = tuple(int(w) for w in wind) if wind is not None else (0,) * self.ncol
        self.render_mode = render_mode
        self.cell_pixels = int(cell_pixels)
        n_states = self.nrow * self.ncol
        self.observation_space = spaces.Discrete(n_states)
        self.action_space = spaces.Discrete(4)
        self.start_state = self._start_state()
        self.P: dict[int, dict[int, list[Transition]]] = {
            s: {a: self.transitions(s, a) for a in range(4)} for s in range(n_states)
        }
        # Sampling table: per (state, action) a tuple of (cumulative probability, outcome); last cum is inf.
        goals = {s for s in range(n_states) if self.cell(s) == "G"}
        self._table = [[_cumulative(self.P[s][a], goals) for a in range(4)] for s in range(n_states)]
        self.s = self.start_state
        self.lastaction: int | None = None

    # ------------------------------------------------------------------ model
    def _start_state(self) -> int:
        for row, line in enumerate(self.desc):
            if "S" in line:
                return row * self.ncol + line.index("S")
        raise AssertionError("check_map guarantees a start")

    def cell(self, state: int) -> str:
        """The map character of ``state``."""
        row, col = divmod(state, self.ncol)
        return self.desc[row][col]

    def move(self, row: int, col: int, direction: int) -> tuple[int, int]:
        """Where a move in ``direction`` from (row, col) lands: walls and edges block, then the wind pushes.

        The wind is that of column ``col`` (where the move starts): that many cells up, one at a time,
        stopping under a wall or at the top edge.
        """
        d_row, d_col = MOVES[direction]
        new_row, new_col = row + d_row, col + d_col
        if not self._open(new_row, new_col):
            new_row, new_col = row, col
        for _ in range(self.wind[col]):
            if not self._open(new_row - 1, new_col):
                break
            new_row -= 1
        return new_row, new_col

    def _open(self, row: int, col: int) -> bool:
        return 0 <= row < self.nrow and 0 <= col < self.ncol and self.desc[row][col] != "#"

    def outcome(self, state: int, direction: int) -> tuple[int, float, bool]:
        """(next_state, reward, terminated) of moving in ``direction`` from a non-terminal ``state``."""
        row, col = self.move(*divmod(state, self.ncol), direction)
        landing = self.desc[row][col]
        nxt = row * self.ncol + col
        if landing == "G":
            return nxt, self.rewards.goal, True
        if landing == "H":
            return nxt, self.rewards.hole, True
        if landing == "C":
            return self.start_state, self.rewards.cliff, False
        return nxt, self.rewards.step, False

    def transitions(self, state: int, action: int) -> list[Transition]:
        """``P[state][action]``: the distinct outcomes of ``action`` with their probabilities (summing to 1).

        Intended direction with probability ``1 - slip``; each perpendicular direction (``action +- 1``
        mod 4) with ``slip / 2``. Outcomes with the same (next_state, reward, terminated) are merged, in the
        order first met (``action - 1``, ``action``, ``action + 1``, Gymnasium's order). Goal, hole and wall
        cells are absorbing: ``[(1.0, state, 0.0, True)]``.
        """
        if self.cell(state) in "GH#":
            return [(1.0, state, 0.0, True)]
        if self.slip == 0.0:
            return [(1.0, *self.outcome(state, action))]
        side = self.slip / 2.0
        merged: dict[tuple[int, float, bool], float] = {}
        for direction in ((action - 1) % 4, action, (action + 1) % 4):
            prob = 1.0 - self.slip if direction == action else side
            if prob > 0.0:
                key = self.outcome(state, direction)
                merged[key] = merged.get(key, 0.0) + prob
        return [(prob, nxt, reward, done) for (nxt, reward, done), prob in merged.items()]

    # ------------------------------------------------------------------ gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[int, dict]:
        """Put the agent on the start cell; returns ``(start_state, {"prob": 1.0})``."""
        super().reset(seed=seed)
        self.s = self.start_state
        self.lastaction = None
        return self.s, {"prob": 1.0}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        """Sample an outcome of ``P[s][action]`` with one ``np_random.random()`` draw (none if deterministic)."""
        if not 0 <= action < 4:
            raise ValueError(f"action must be in 0..3 (LEFT DOWN RIGHT UP), got {action!r}")
        entries = self._table[self.s][action]
        if len(entries) == 1:
            _, prob, nxt, reward, terminated, success = entries[0]
        else:
            u = self.np_random.random()
            for cum, prob, nxt, reward, terminated, success in entries:  # noqa: B007 (keeps the sampled one)
                if u < cum:
                    break
        self.s = nxt
        self.lastaction = int(action)
        return nxt, reward, terminated, False, {"prob": prob, "is_success": success}

    # ------------------------------------------------------------------ rendering
    def render(self) -> str | np.ndarray | None:
        """``ansi``: the map with the agent as ``@`` (and the last action above); ``rgb_array``: an image.

        The image is ``uint8[nrow * cell_pixels, ncol * cell_pixels, 3]``.
        """
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode; pass render_mode='ansi' or 'rgb_array'")
            return None
        if self.render_mode == "ansi":
            header = f"  ({ACTION_NAMES[self.lastaction]})\n" if self.lastaction is not None else "\n"
            return header + self.render_path([self.s], mark="@") + "\n"
        return self._render_rgb()

    def render_path(self, states: Sequence[int], mark: str = "*") -> str:
        """The map as text with ``mark`` on every floor cell of ``states`` (S and G keep their letters).

        ``mark="@"`` puts it on any cell (used for the agent's position).
        """
        rows = [list(line) for line in self.desc]
        for state in states:
            row, col = divmod(int(state), self.ncol)
            if mark == "@" or rows[row][col] in "F.":
                rows[row][col] = mark
        return "\n".join("".join(line) for line in rows)

    def _render_rgb(self) -> np.ndarray:
        px = self.cell_pixels
        image = np.zeros((self.nrow * px, self.ncol * px, 3), dtype=np.uint8)
        for row, line in enumerate(self.desc):
            for col, char in enumerate(line):
                image[row * px : (row + 1) * px, col * px : (col + 1) * px] = _COLOURS[char]
        image[::px, :] = 40  # grid lines
        image[:, ::px] = 40
        row, col = divmod(self.s, self.ncol)
        inset = max(1, px // 4)
        image[row * px + inset : (row + 1) * px - inset, col * px + inset : (col + 1) * px - inset] = _AGENT_COLOUR
        return image


def check_map(desc: Sequence[str], wind: Sequence[int] | None = None) -> tuple[str, ...]:
    """Validate a text map (and wind); return it as a tuple of rows. Raises ``ValueError`` naming the problem.

    Rules: at least one row, all rows the same length, characters among ``S G F . # H C``, exactly one ``S``,
    at least one ``G`` reachable from ``S`` by 4-neighbour moves over ``S``/``F``/``.`` cells, and a wind (if
    any) of one non-negative int per column.
    """
    rows = tuple(str(line) for line in desc)
    if not rows or not rows[0]:
        raise ValueError("map desc is empty")
    if any(len(line) != len(rows[0]) for line in rows):
        raise ValueError(f"map rows differ in length: {[len(line) for line in rows]}")
    bad = sorted({char for line in rows for char in line} - set(_CELLS))
    if bad:
        raise ValueError(f"map has unknown characters {bad}; allowed: {' '.join(_CELLS)}")
    n_start = sum(line.count("S") for line in rows)
    if n_start != 1:
        raise ValueError(f"map must have exactly one start 'S', found {n_start}")
    if wind is not None and (len(wind) != len(rows[0]) or any(int(w) < 0 for w in wind)):
        raise ValueError(f"wind must be {len(rows[0])} non-negative ints (one per column), got {list(wind)}")
    if not _goal_reachable(rows):
        raise ValueError("map has no goal 'G' reachable from the start 'S' (walls, holes and cliffs block)")
    return rows


def _goal_reachable(rows: tuple[str, ...]) -> bool:
    """Breadth-first search from S over S/F/. cells; True when a G is adjacent to the searched region."""
    nrow, ncol = len(rows), len(rows[0])
    start = next((r, line.index("S")) for r, line in enumerate(rows) if "S" in line)
    seen, frontier = {start}, [start]
    while frontier:
        row, col = frontier.pop()
        for d_row, d_col in MOVES:
            r, c = row + d_row, col + d_col
            if not (0 <= r < nrow and 0 <= c < ncol) or (r, c) in seen:
                continue
            if rows[r][c] == "G":
                return True
            if rows[r][c] in "F.":
                seen.add((r, c))
                frontier.append((r, c))
    return False


def _cumulative(entries: list[Transition], goals: set[int]) -> tuple[tuple, ...]:
    """Rows ``(cum_prob, prob, next_state, reward, terminated, is_success)``; the last ``cum_prob`` is ``inf``.

    ``is_success`` is a terminating step onto a goal. The infinite last bound makes every draw land.
    """
    cum, out = 0.0, []
    for prob, nxt, reward, terminated in entries:
        cum += prob
        out.append((cum, prob, nxt, reward, terminated, terminated and nxt in goals))
    out[-1] = (float("inf"), *out[-1][1:])
    return tuple(out)
