"""One place that registers every zoo environment with Gymnasium.

Importing :mod:`envs` calls :func:`register_all`, after which ``gymnasium.make("zoo/FrozenLake8x8-v0")`` works.
Without importing it first, ``gymnasium.make("envs:zoo/FrozenLake8x8-v0")`` imports this package and then makes
the env (Gymnasium 1.x no longer loads plugin entry points, so ``module:id`` is the supported spelling).

Users register their own environments the same way, with :func:`gymnasium.register` in their own package, and
name them in a config file (see the README, "Your own environment").
"""

from __future__ import annotations

import gymnasium

NAMESPACE = "zoo"

# Gridworlds: text maps with an exact transition model (envs/gridworld.py).
# id -> (kwargs, max_episode_steps, reward_threshold)
_GRIDWORLDS: dict[str, tuple[dict, int, float | None]] = {
    "FrozenLake4x4-v0": ({"map_name": "frozenlake4", "slip": 2 / 3}, 100, 0.70),
    "FrozenLake8x8-v0": ({"map_name": "frozenlake8", "slip": 2 / 3}, 200, 0.85),
    "FrozenLake4x4Det-v0": ({"map_name": "frozenlake4", "slip": 0.0}, 100, 1.0),
    "FrozenLake8x8Det-v0": ({"map_name": "frozenlake8", "slip": 0.0}, 200, 1.0),
    "CliffWalking-v0": ({"map_name": "cliff", "slip": 0.0}, 500, -13.0),
    "WindyGridworld-v0": ({"map_name": "windy", "slip": 0.0}, 500, -15.0),
    "Maze-v0": ({"map_name": "maze", "slip": 0.0}, 500, -40.0),
}

GO_SIZES = (5, 7, 9, 13, 19)

# Memory: the T-maze (envs/memory.py), seen now (current observation) or through a history of 16 steps.
# id -> kwargs of envs.memory:make_tmaze; episodes truncate at 4 * (corridor + 1) steps.
_MEMORY: dict[str, dict] = {
    "TMaze-v0": {"corridor": 8, "history": 0},
    "TMazeHistory-v0": {"corridor": 8, "history": 16},
}


def register_all() -> None:
    """Register every zoo env with Gymnasium under the ``zoo/`` namespace. Safe to call more than once."""
    for env_id, (kwargs, max_steps, threshold) in _GRIDWORLDS.items():
        _register(
            f"{NAMESPACE}/{env_id}",
            entry_point="envs.gridworld:GridWorldEnv",
            kwargs=kwargs,
            max_episode_steps=max_steps,
            reward_threshold=threshold,
        )
    for env_id, kwargs in _MEMORY.items():
        _register(f"{NAMESPACE}/{env_id}", entry_point="envs.memory:make_tmaze", kwargs=kwargs,
                  max_episode_steps=4 * (kwargs["corridor"] + 1), reward_threshold=0.95)
    for size in GO_SIZES:
        _register(
            f"{NAMESPACE}/Go{size}x{size}-v0",
            entry_point="envs.go.single:GoEnv",
            kwargs={"board_size": size, "komi": go_komi(size)},
        )


def go_komi(size: int) -> float:
    """The komi the suite registers for Go on ``size`` x ``size``: 7.5 from 9x9 up, below it the area-scoring value
    of perfect play where known (5x5: 24, 7x7: 9), else 7.5."""
    return 7.5 if size >= 9 else float(_small_board_komi(size))


def _small_board_komi(size: int) -> float:
    """Komi for boards under 9x9: the area-scoring value of perfect play where known (5x5: 24, 7x7: 9)."""
    return {5: 24.0, 7: 9.0}.get(size, 7.5)


def _register(env_id: str, **kwargs) -> None:
    if env_id not in gymnasium.registry:
        gymnasium.register(id=env_id, **kwargs)
