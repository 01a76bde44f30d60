"""Real Go positions for the net and compression tests: positions from games of the capture heuristic."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest
import torch

from agents.compress.positions import Positions, synthetic_positions

# torchao registers an Enum with torch's pytree on import and torch logs a deprecation notice for it: not ours
logging.getLogger("torch.utils._pytree").setLevel(logging.ERROR)


def go_positions(size: int, count: int, seed: int = 0, history: int = 8) -> Positions:
    """``count`` positions from games of ``envs.go.opponents.capture_policy`` (random games if it is missing;
    random boards, with a warning, while the engine itself cannot be imported)."""
    try:
        from envs.go.state import GoState
    except (ImportError, AttributeError) as e:  # the engine is being edited: keep the net tests running
        warnings.warn(f"envs.go unavailable ({e}); using random boards instead of game positions", stacklevel=2)
        return synthetic_positions(count, 2 * history + 1, size, np.random.default_rng(seed))

    try:
        from envs.go.opponents import capture_policy as policy
    except ImportError:  # the engine without its bots: random legal moves
        def policy(state: GoState, rng: np.random.Generator) -> int:
            return int(rng.choice(state.legal_actions()))

    rng = np.random.default_rng(seed)
    planes, masks = [], []
    while len(planes) < count:
        state = GoState.new(size, history=history, max_moves=2 * size * size)
        while not state.is_terminal and len(planes) < count:
            planes.append(state.features())
            masks.append(state.legal_mask())
            state.play(policy(state, rng))
    return Positions(torch.from_numpy(np.stack(planes)), torch.from_numpy(np.stack(masks)))


@pytest.fixture(scope="session")
def positions9() -> Positions:
    """256 positions on 9x9 (17 planes, 82 actions)."""
    return go_positions(9, 256)
