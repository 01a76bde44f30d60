"""The seams every agent meets (see DESIGN.md, "Seams").

An agent is built from its frozen config dataclass, the env's spaces and a seeded ``np.random.Generator``. The
runner (``zoo.runner``) drives it::

    batch = agent.collect(env)          # plays the agent's unit of work: an episode, a rollout, self-play games
    metrics = agent.update(batch)       # learns; returns scalar metrics; agents never log or print

Agents never import ``envs``, ``zoo``, Hydra or wandb: the env arrives as a plain ``gymnasium.Env``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import gymnasium
import numpy as np


@runtime_checkable
class Batch(Protocol):
    """What the runner reads of any ``collect()`` result; agents add whatever their ``update()`` needs."""

    env_steps: int
    """Environment steps taken by this ``collect()`` call."""
    episode_returns: list[float]
    """Undiscounted returns of the episodes that finished during the call (may be empty)."""
    episode_lengths: list[int]
    """Lengths of those episodes, in steps."""


@runtime_checkable
class Agent(Protocol):
    """A learning agent; see the module docstring for the loop that drives it."""

    def act(self, obs: Any, mask: np.ndarray | None = None, greedy: bool = False) -> int:
        """Choose an action for ``obs``; never one where ``mask`` (int8/bool over actions) is 0.

        ``greedy=True`` gives the evaluation policy (no exploration).
        """
        ...

    def collect(self, env: gymnasium.Env) -> Batch:
        """Interact with ``env`` for one unit of work and return what ``update`` learns from."""
        ...

    def update(self, batch: Batch) -> dict[str, float]:
        """Learn from ``batch``; return scalar metrics (loss, epsilon, ...) for the logger."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: arrays, tensors, scalars, RNG state. No pickled objects."""
        ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what ``state_dict`` returned; raise ``ValueError`` naming the mismatch (shape, kind)."""
        ...


def action_mask_from(info: Mapping[str, Any], obs: Any) -> np.ndarray | None:
    """The action mask an env offers: ``info["action_mask"]`` or a dict observation's ``"action_mask"``."""
    if isinstance(obs, Mapping) and "action_mask" in obs:
        return np.asarray(obs["action_mask"])
    mask = info.get("action_mask")
    return None if mask is None else np.asarray(mask)
