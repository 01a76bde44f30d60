"""A gridworld agent's greedy policy and values drawn on the map: arrows for the greedy actions, a heat map of
``V(s) = max_a Q(s, a)``.

:func:`policy_picture` is an evaluation hook of the run loop (:class:`zoo.run.loop.RunHooks`, given by
:func:`zoo.launch.run_hooks`): on a gridworld (:class:`envs.gridworld.GridWorldEnv`) with an agent that has action
values (:class:`agents.protocol.QValued`: q, sarsa, vi, dqn) it writes ``RUN/media/policy-STEP.png`` at every
evaluation, which wandb shows and the report embeds. :func:`greedy_arrows` and :func:`cell_values` are the
arithmetic, :func:`draw_policy` the drawing (matplotlib, headless).

Layout: ``q`` is ``(nrow * ncol, 4)``, row ``s = row * ncol + col`` (row 0 at the top), actions in the gridworlds'
order ``LEFT=0, DOWN=1, RIGHT=2, UP=3``. Arrows and values are drawn on the cells the agent stands on and acts
from (``S``, ``F``, ``.``); walls, holes, goals and cliffs show their letter instead (an episode ends on a goal or
a hole, a cliff sends the agent back to the start).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

from agents.protocol import QValued
from envs.gridworld import MOVES, GridWorldEnv
from zoo.reporting.plots import pyplot, save_figure
from zoo.run.media import media_path

ACTED_CELLS = "SF."
"""Map characters of the cells the agent acts from: the only ones with arrows and values."""
_CELL_COLOURS = {"#": "#464646", "H": "#14285a", "G": "#5abe5a", "C": "#8c5a32"}


def _check(q: np.ndarray, desc: Sequence[str]) -> np.ndarray:
    q = np.asarray(q, dtype=float)
    cells = len(desc) * len(desc[0])
    if q.shape != (cells, len(MOVES)):
        raise ValueError(f"Q of a {len(desc)}x{len(desc[0])} map is ({cells}, {len(MOVES)}), got {q.shape}")
    return q


def greedy_arrows(q: np.ndarray, desc: Sequence[str], tol: float = 1e-9) -> np.ndarray:
    """bool ``(nrow, ncol, 4)``: which actions are greedy in each cell (``Q(s, a) >= max_a Q(s, a) - tol``; every
    tied best action is an arrow, since the agents break ties at random). No arrow on cells the agent does not act
    from, nor where all four actions tie (nothing learned there yet)."""
    q = _check(q, desc)
    nrow, ncol = len(desc), len(desc[0])
    best = q >= q.max(axis=1, keepdims=True) - tol
    best[best.all(axis=1)] = False
    acted = np.array([[ch in ACTED_CELLS for ch in row] for row in desc]).reshape(-1)
    best[~acted] = False
    return best.reshape(nrow, ncol, len(MOVES))


def cell_values(q: np.ndarray, desc: Sequence[str]) -> np.ndarray:
    """float ``(nrow, ncol)``: ``max_a Q(s, a)`` on the cells the agent acts from, NaN elsewhere."""
    q = _check(q, desc)
    values = q.max(axis=1)
    acted = np.array([[ch in ACTED_CELLS for ch in row] for row in desc]).reshape(-1)
    values[~acted] = np.nan
    return values.reshape(len(desc), len(desc[0]))


def draw_policy(desc: Sequence[str], q: np.ndarray, path: str | Path, title: str = "",
                wind: Sequence[int] | None = None) -> Path:
    """Write a PNG of the map with the greedy actions as arrows over a heat map of ``max_a Q`` (colour bar at the
    side); walls, holes, goals and cliffs are filled and lettered, the start is marked ``S``. ``wind`` (one per
    column), when any is non-zero, is written under the columns. Returns the path."""
    arrows, values = greedy_arrows(q, desc), cell_values(q, desc)
    nrow, ncol = values.shape
    plt = pyplot()
    from matplotlib.colors import ListedColormap

    fig, ax = plt.subplots(figsize=(min(12.0, 1.6 + 0.55 * ncol), min(10.0, 0.9 + 0.55 * nrow)), dpi=100)
    image = ax.imshow(np.ma.masked_invalid(values), cmap="viridis", interpolation="nearest")
    if np.isfinite(values).any():
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="max_a Q(s, a)")
    for row, line in enumerate(desc):
        for col, ch in enumerate(line):
            if ch in _CELL_COLOURS:
                ax.imshow([[0]], cmap=ListedColormap([_CELL_COLOURS[ch]]),
                          extent=(col - 0.5, col + 0.5, row + 0.5, row - 0.5))
                ax.text(col, row, ch, ha="center", va="center", color="white", fontsize=9, fontweight="bold")
            elif ch == "S":
                ax.text(col - 0.42, row - 0.42, "S", ha="left", va="top", color="white", fontsize=7)
    rows, cols, actions = np.nonzero(arrows)
    if len(rows):
        d_row = np.array([MOVES[a][0] for a in actions], dtype=float)
        d_col = np.array([MOVES[a][1] for a in actions], dtype=float)
        # From the cell's centre towards the neighbour it moves to (y grows downwards: row 0 at the top).
        ax.quiver(cols, rows, 0.4 * d_col, 0.4 * d_row, angles="xy", scale_units="xy", scale=1, units="xy",
                  width=0.05, headwidth=3.2, headlength=3.2, headaxislength=2.8, color="white",
                  edgecolor="black", linewidth=0.4)
    ax.set_xlim(-0.5, ncol - 0.5)
    ax.set_ylim(nrow - 0.5, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    if wind is not None and any(int(w) for w in wind):
        ax.set_xticks(range(ncol), [str(int(w)) for w in wind], fontsize=8)
        ax.set_xlabel("wind (cells up)", fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return save_figure(plt, fig, path)


def policy_picture(agent: Any, env: gymnasium.Env, episodes: int, run_dir: Path, step: int, *,
                   seed: int) -> dict[str, float]:
    """The run loop's hook: on a gridworld with a :class:`QValued` agent, draw its greedy policy and values into
    ``RUN/media/policy-STEP.png``. No metrics (``{}``); nothing on other envs or agents."""
    grid = env.unwrapped
    if not isinstance(grid, GridWorldEnv) or not isinstance(agent, QValued):
        return {}
    q = agent.q_values(np.arange(grid.nrow * grid.ncol))
    draw_policy(grid.desc, q, media_path(run_dir, "policy", step, "png"),
                title=f"greedy actions and max_a Q at {step:,} env steps", wind=grid.wind)
    return {}
