"""Go for the zoo suite: rules engine, PettingZoo AEC env, Gymnasium single-agent env, SGF, coordinates.

Names are loaded on first use, so ``import envs`` (which registers the ``zoo/Go*`` ids) compiles nothing::

    from envs.go import env, GoState
    game = env(board_size=9)          # PettingZoo AEC env with the guarantees of PettingZoo's wrappers
    state = GoState.new(9)

- ``env``: factory of the checked AEC env (:func:`envs.go.aec.env`); ``raw_env``: the class without checks.
- ``GoState``, ``IllegalMoveError``, ``BLACK``, ``WHITE``, ``EMPTY``: the rules engine (:mod:`envs.go.state`).
- ``GoEnv``: the single-agent Gymnasium view (:mod:`envs.go.single`).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "env": "envs.go.aec",
    "raw_env": "envs.go.aec",
    "GoEnv": "envs.go.single",
    "GoState": "envs.go.state",
    "IllegalMoveError": "envs.go.state",
    "BLACK": "envs.go.state",
    "WHITE": "envs.go.state",
    "EMPTY": "envs.go.state",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'envs.go' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
