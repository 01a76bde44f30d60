"""Built-in Go policies: opponents for the single-agent env and bots for the arena and GTP.

A policy is any callable ``(state: GoState, rng: np.random.Generator) -> action`` that returns a legal action
of ``state`` (``N * N`` is pass). All randomness comes from ``rng``, so a seeded generator replays a game.

- :func:`random_policy`: uniform over the legal actions, pass included.
- :func:`capture_policy`: capture the most stones if any capture is legal; else save the largest own group in
  atari by extending it to two or more liberties; else a uniformly random legal move that does not fill one
  of its own single-point eyes (an empty point whose on-board neighbours are all its own stones); else pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from envs.go.state import GoState

Policy = Callable[["GoState", np.random.Generator], int]


def neighbours(point: int, n: int) -> list[int]:
    r, c = divmod(point, n)
    out = []
    if r > 0:
        out.append(point - n)
    if r < n - 1:
        out.append(point + n)
    if c > 0:
        out.append(point - 1)
    if c < n - 1:
        out.append(point + 1)
    return out


def groups(board: np.ndarray) -> list[tuple[int, list[int], set[int]]]:
    """Every chain of ``board`` as ``(colour, stones, liberties)`` with points as flat actions (row 0 at the top)."""
    n = board.shape[0]
    flat = np.asarray(board).reshape(-1)
    seen = np.zeros(n * n, dtype=bool)
    out = []
    for start in np.flatnonzero(flat):
        if seen[start]:
            continue
        colour = int(flat[start])
        stones, liberties, stack = [], set(), [int(start)]
        seen[start] = True
        while stack:
            p = stack.pop()
            stones.append(p)
            for q in neighbours(p, n):
                if flat[q] == 0:
                    liberties.add(q)
                elif flat[q] == colour and not seen[q]:
                    seen[q] = True
                    stack.append(q)
        out.append((colour, stones, liberties))
    return out


def random_policy(state: GoState, rng: np.random.Generator) -> int:
    """A uniformly random legal action (pass included)."""
    legal = np.flatnonzero(state.legal_mask())
    return int(rng.choice(legal))


def _best(scores: dict[int, int], rng: np.random.Generator) -> int | None:
    """The key with the highest score (ties broken by ``rng``), or ``None`` when ``scores`` is empty."""
    if not scores:
        return None
    top = max(scores.values())
    return int(rng.choice(sorted(a for a, s in scores.items() if s == top)))


def capture_moves(state: GoState) -> dict[int, int]:
    """Legal moves that capture, each with the number of opponent stones it removes."""
    gains: dict[int, int] = {}
    for colour, stones, liberties in groups(state.board):
        if colour == -state.to_play and len(liberties) == 1:
            point = next(iter(liberties))
            gains[point] = gains.get(point, 0) + len(stones)
    return {a: g for a, g in gains.items() if state.is_legal(a)}


def saving_moves(state: GoState) -> dict[int, int]:
    """Legal moves that extend an own group in atari to two or more liberties, each with that group's size."""
    saves: dict[int, int] = {}
    for colour, stones, liberties in groups(state.board):
        if colour != state.to_play or len(liberties) != 1:
            continue
        point = next(iter(liberties))
        if not state.is_legal(point):
            continue
        after = state.copy()
        after.play(point)
        for c2, stones2, libs2 in groups(after.board):
            if point in stones2 and c2 == colour and len(libs2) >= 2:
                saves[point] = max(saves.get(point, 0), len(stones))
    return saves


def fills_own_eye(state: GoState, action: int) -> bool:
    """Whether ``action`` plays into an empty point whose on-board neighbours are all the mover's stones."""
    n = state.size
    if action >= n * n:
        return False
    flat = np.asarray(state.board).reshape(-1)
    return all(flat[q] == state.to_play for q in neighbours(action, n))


def capture_policy(state: GoState, rng: np.random.Generator) -> int:
    """Capture-first heuristic (see the module docstring): capture most, else save, else random non-eye move."""
    choice = _best(capture_moves(state), rng)
    if choice is None:
        choice = _best(saving_moves(state), rng)
    if choice is None:
        pass_action = state.size * state.size
        legal = [int(a) for a in np.flatnonzero(state.legal_mask()) if a != pass_action]
        candidates = [a for a in legal if not fills_own_eye(state, a)]
        choice = int(rng.choice(candidates)) if candidates else pass_action
    return choice


POLICIES: dict[str, Policy] = {"random": random_policy, "capture": capture_policy}
"""Built-in policies by name."""


def get_policy(name_or_policy: str | Policy) -> Policy:
    """The policy named ``name_or_policy`` (see :data:`POLICIES`), or the callable itself when one is given.

    Raises ``ValueError`` listing the valid names for an unknown name.
    """
    if callable(name_or_policy):
        return name_or_policy
    try:
        return POLICIES[name_or_policy]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown Go opponent {name_or_policy!r}; valid: {', '.join(sorted(POLICIES))}, "
            "or a callable (GoState, np.random.Generator) -> action"
        ) from None
