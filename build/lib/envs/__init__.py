"""Environments of the zoo suite: gridworlds and Go.

Importing this package registers every environment with Gymnasium under the ``zoo/`` namespace::

    import gymnasium, envs
    env = gymnasium.make("zoo/FrozenLake8x8-v0")

This package imports nothing else of the suite (no agents, no zoo, no torch).
"""

from envs.registry import register_all

register_all()

__all__ = ["register_all"]
