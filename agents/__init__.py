"""Learning algorithms of the zoo suite.

Each agent is built from its frozen config dataclass by :func:`build_agent`; ``AGENT_CONFIGS`` maps each
``agent=NAME`` choice to that dataclass, so the runner can validate a config before any work starts.

This package never imports ``envs``, ``zoo``, Hydra or wandb.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import numpy as np

from agents.alphago.config import AlphaGoConfig
from agents.dqn import DQNAgent, DQNConfig
from agents.pg import PGAgent, PGConfig
from agents.protocol import Agent, Batch, action_mask_from
from agents.sb3 import SB3Agent, SB3Config
from agents.tabular import PlannerAgent, PlannerConfig, TabularAgent, TabularConfig
from agents.zero.config import ZeroConfig

AGENT_CONFIGS: dict[str, type] = {
    "q": TabularConfig,
    "sarsa": TabularConfig,
    "vi": PlannerConfig,
    "dqn": DQNConfig,
    "reinforce": PGConfig,
    "a2c": PGConfig,
    "ppo": PGConfig,
    "sb3": SB3Config,
    "zero": ZeroConfig,
    "alphago": AlphaGoConfig,
}
"""``agent=NAME`` choice -> its config dataclass (the config's ``name`` field selects the variant)."""

PREDATED: dict[type, dict[str, Any]] = {ZeroConfig: ZeroConfig.PREDATED}
"""Config class -> the settings its older checkpoints predate, with the value their absence stood for then."""


def config_from_saved(cls: type, saved: Mapping[str, Any]) -> Any:
    """The ``cls`` config a checkpoint's run had, from its saved settings (``config.json``'s ``agent`` section):
    keys ``cls`` does not know are dropped, and a setting the checkpoint predates takes the value it stood for then
    (:data:`PREDATED`), not today's default (a zero run from before ``agent.search`` searched by PUCT)."""
    from dataclasses import fields

    known = {f.name for f in fields(cls)}
    values = {k: v for k, v in saved.items() if k in known}
    return cls(**{**{k: v for k, v in PREDATED.get(cls, {}).items() if k not in values}, **values})


def build_agent(
    cfg: Any,
    observation_space: gymnasium.Space,
    action_space: gymnasium.Space,
    rng: np.random.Generator,
    device: str = "cpu",
    net: Any = None,
) -> Agent:
    """Build the agent that ``cfg`` (one of the ``AGENT_CONFIGS`` dataclasses) describes.

    ``net`` is the run's network config (``agents.nets`` dataclass, the ``net=`` group) for agents with a
    network; ``None`` lets such an agent use its default net. Tabular agents ignore it.

    Raises ``ValueError`` with one line naming the problem when the agent cannot act in these spaces
    (e.g. a tabular agent on a Box observation space).
    """
    if isinstance(cfg, TabularConfig):
        return TabularAgent(cfg, observation_space, action_space, rng)
    if isinstance(cfg, PlannerConfig):
        return PlannerAgent(cfg, observation_space, action_space, rng)
    if isinstance(cfg, DQNConfig):
        return DQNAgent(cfg, observation_space, action_space, rng, device, net)
    if isinstance(cfg, PGConfig):
        return PGAgent(cfg, observation_space, action_space, rng, device, net)
    if isinstance(cfg, SB3Config):
        return SB3Agent(cfg, observation_space, action_space, rng, device, net)
    if isinstance(cfg, ZeroConfig):
        from agents.zero import ZeroAgent  # torch and the search kernels load only when it is used

        return ZeroAgent(cfg, observation_space, action_space, rng, device, net)
    if isinstance(cfg, AlphaGoConfig):
        from agents.alphago import AlphaGoAgent  # torch and the search kernels load only when it is used

        return AlphaGoAgent(cfg, observation_space, action_space, rng, device, net)
    raise ValueError(f"no agent is built from {type(cfg).__name__}; known agents: {', '.join(AGENT_CONFIGS)}")


__all__ = ["AGENT_CONFIGS", "PREDATED", "Agent", "Batch", "action_mask_from", "build_agent", "config_from_saved"]
