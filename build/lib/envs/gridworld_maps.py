"""Preset maps of :class:`envs.gridworld.GridWorldEnv`: the text map, the reward scheme and the wind.

Map characters (one string per row, all rows the same length):

- ``S`` start (exactly one), ``G`` goal (at least one; terminal, success)
- ``F`` or ``.`` floor, ``#`` wall (moves into it, or off the grid, leave the agent in place)
- ``H`` hole (terminal, failure; FrozenLake), ``C`` cliff (not terminal: reward ``cliff``, back to the start)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RewardScheme:
    """Reward of one step, by the kind of cell the step lands on."""

    step: float = 0.0
    """Landing on floor or start (also the cost of bumping into a wall or the edge)."""
    goal: float = 1.0
    """Landing on a goal (the episode terminates with ``is_success=True``)."""
    hole: float = 0.0
    """Landing in a hole (the episode terminates with ``is_success=False``)."""
    cliff: float = -100.0
    """Landing on a cliff cell; the agent is sent back to the start and the episode goes on."""


@dataclass(frozen=True)
class MapPreset:
    """A named map: its rows, its reward scheme and its per-column upward wind (``None``: no wind)."""

    desc: tuple[str, ...]
    rewards: RewardScheme
    wind: tuple[int, ...] | None = None


FROZEN_LAKE_REWARDS = RewardScheme(step=0.0, goal=1.0, hole=0.0, cliff=-100.0)
"""Gymnasium FrozenLake: +1 for the goal, 0 otherwise."""
COST_REWARDS = RewardScheme(step=-1.0, goal=-1.0, hole=-100.0, cliff=-100.0)
"""Sutton & Barto's cliff walking and windy gridworld: -1 per step (the step into the goal too), cliff -100."""

PRESETS: dict[str, MapPreset] = {
    # Gymnasium's FrozenLake maps ("4x4", "8x8"), verbatim.
    "frozenlake4": MapPreset(("SFFF", "FHFH", "FFFH", "HFFG"), FROZEN_LAKE_REWARDS),
    "frozenlake8": MapPreset(
        (
            "SFFFFFFF",
            "FFFFFFFF",
            "FFFHFFFF",
            "FFFFFHFF",
            "FFFHFFFF",
            "FHHFFFHF",
            "FHFFHFHF",
            "FFFHFFFG",
        ),
        FROZEN_LAKE_REWARDS,
    ),
    # Sutton & Barto, Example 6.6: 4x12, cliff along the bottom row between start and goal.
    "cliff": MapPreset(
        (
            "............",
            "............",
            "............",
            "SCCCCCCCCCCG",
        ),
        COST_REWARDS,
    ),
    # Sutton & Barto, Example 6.5: 7x10, wind strength per column; the shortest path takes 15 steps.
    "windy": MapPreset(
        (
            "..........",
            "..........",
            "..........",
            "S......G..",
            "..........",
            "..........",
            "..........",
        ),
        COST_REWARDS,
        wind=(0, 0, 0, 1, 1, 1, 2, 2, 1, 0),
    ),
    # An 11x11 maze (a depth-first-search spanning tree on a 6x6 lattice of rooms).
    "maze": MapPreset(
        (
            "S#.........",
            ".###.#####.",
            "...#.#.....",
            "##.#.######",
            "...#.......",
            ".#########.",
            ".....#.....",
            "####.#.###.",
            ".#...#...#.",
            ".#.#####.#.",
            ".........#G",
        ),
        COST_REWARDS,
    ),
}
"""``map_name`` -> preset."""
