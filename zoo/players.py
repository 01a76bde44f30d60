"""Players: whatever picks a Go move for the arena and the GTP engine.

The seam is :class:`Player`: a ``name`` and ``select_move(state) -> action`` (``N * N`` is pass, and
:data:`RESIGN` resigns). A player may also define ``reset()``, called at the start of every game (for
example to clear a search tree); callers look it up with ``getattr(player, "reset", None)``.
Built-in bots (:class:`RandomPlayer`, :class:`CapturePlayer`) wrap the policies of :mod:`envs.go.opponents`;
an external GTP engine becomes a player through :class:`zoo.gtp_client.GtpPlayer`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from envs.go.opponents import Policy, capture_policy, random_policy

if TYPE_CHECKING:
    from envs.go.state import GoState

RESIGN = -1
"""The action a player returns to resign."""


@runtime_checkable
class Player(Protocol):
    """Given a position, a move. ``select_move`` must not change ``state`` and returns a legal action or RESIGN."""

    name: str

    def select_move(self, state: GoState) -> int: ...


class PolicyPlayer:
    """A :class:`Player` around a policy ``(state, rng) -> action`` with its own seeded generator.

    ``reset()`` does not reseed: a series of games from one seed is reproducible as a whole.
    """

    def __init__(self, policy: Policy, seed: int | None = None, name: str = "policy") -> None:
        self.policy = policy
        self.name = name
        self.rng = np.random.default_rng(seed)

    def select_move(self, state: GoState) -> int:
        """The policy's action for ``state`` (played on a copy, so ``state`` is left as it was)."""
        return int(self.policy(state.copy(), self.rng))

    def reset(self) -> None:
        """Nothing to clear between games."""


class RandomPlayer(PolicyPlayer):
    """Uniformly random legal moves (pass included), from ``seed``."""

    def __init__(self, seed: int | None = None, name: str = "random") -> None:
        super().__init__(random_policy, seed, name)


class CapturePlayer(PolicyPlayer):
    """The capture-first heuristic of :func:`envs.go.opponents.capture_policy`, from ``seed``."""

    def __init__(self, seed: int | None = None, name: str = "capture") -> None:
        super().__init__(capture_policy, seed, name)


BUILTIN_PLAYERS = {"random": RandomPlayer, "capture": CapturePlayer}
"""Built-in players by name; each class takes ``seed``."""


def make_player(name: str, seed: int | None = None) -> Player:
    """The built-in player ``name`` seeded with ``seed``; ``ValueError`` listing valid names otherwise."""
    if name not in BUILTIN_PLAYERS:
        raise ValueError(f"unknown player {name!r}; valid: {', '.join(sorted(BUILTIN_PLAYERS))}")
    return BUILTIN_PLAYERS[name](seed)
