"""Match openings and game identity: what makes the games of a match differ, and how to count that they did.

Two deterministic players (a greedy net, a search without noise, GNU Go, whose ``--seed`` barely changes its
play) replay one game from the empty board however often they meet, and a win rate over copies of one game says
nothing more than that game. The suite's matches therefore start every pair of games from an opening of
``plies`` moves: openings are drawn from a seeded generator among the sensible moves (no pass, no filling of a
one-point eye), without repeating an opening of the same match while unused ones are left, and each is played
once with each colour (games ``2i`` and ``2i + 1`` of a pairing share opening ``i``), so neither side gains from
the draw.

:func:`default_opening` is the length used when a command is not told (``--opening K``): two plies on every board
from 5x5 up (600 openings on 5x5, 2352 on 7x7, 6480 on 9x9: a 100-game match between two deterministic engines
then plays 100 distinct games unless the engines transpose), none below.

:func:`game_digest` names a game by its move sequence; a match reports how many of its games were distinct next
to every win rate (:func:`distinct_share`), and :data:`DISTINCT_WARNING` is the share under which a result is
flagged: its interval, computed as if the games were independent, overstates what they show.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np

from envs.go.state import GoState

DISTINCT_WARNING = 0.9
"""Matches with fewer distinct games than this share are flagged next to their win rate."""
PAIR_PROPERTY = "ZP"
"""SGF root property of a match game: the pairing's two names, first-named first."""
OPENING_PROPERTY = "ZO"
"""SGF root property: opening plies the match played before the players took over."""
SEED_PROPERTY = "ZS"
"""SGF root property: the game's seed."""


def default_opening(size: int) -> int:
    """Opening plies of a match on a ``size`` x ``size`` board when not told: 2 from 5x5 up, 0 below."""
    return 2 if size >= 5 else 0


def _one_opening(size: int, komi: float, plies: int, rng: np.random.Generator) -> tuple[int, ...]:
    state = GoState.new(size, komi, history=1)
    moves: list[int] = []
    for _ in range(plies):
        if state.is_terminal:
            break
        mask = state.sensible_mask()
        mask[size * size] = False  # an opening never passes
        points = np.flatnonzero(mask)
        if not len(points):
            break
        action = int(points[int(rng.integers(len(points)))])
        moves.append(action)
        state.play(action)
    return tuple(moves)


def opening_set(size: int, komi: float, plies: int, count: int, seed: int) -> list[tuple[int, ...]]:
    """``count`` openings of ``plies`` moves each (actions ``row * size + col``), drawn from ``seed``; distinct
    while the board has enough of them (up to 20 redraws per opening), repeating only after that."""
    if plies <= 0 or count <= 0:
        return [() for _ in range(max(count, 0))]
    rng = np.random.default_rng(seed)
    seen: set[tuple[int, ...]] = set()
    out = []
    for _ in range(count):
        opening = _one_opening(size, komi, plies, rng)
        for _ in range(20):
            if opening not in seen:
                break
            opening = _one_opening(size, komi, plies, rng)
        seen.add(opening)
        out.append(opening)
    return out


def play_opening(state: GoState, opening: Sequence[int]) -> list[tuple[int, int]]:
    """Play ``opening`` on ``state`` (in place); returns the moves as ``(colour, action)`` pairs for an SGF record.
    Moves that became illegal (a position the opening was not drawn for) end it early."""
    played = []
    for action in opening:
        if state.is_terminal or not state.is_legal(int(action)):
            break
        played.append((state.to_play, int(action)))
        state.play(int(action))
    return played


def game_digest(actions: Iterable[int]) -> str:
    """A short name of a game's move sequence (actions in order, passes included): equal games, equal digests."""
    return hashlib.blake2b(",".join(str(int(a)) for a in actions).encode(), digest_size=8).hexdigest()


def distinct_share(digests: Sequence[str | None]) -> tuple[int, int]:
    """``(distinct, known)``: how many different digests among the games that have one, and how many have one
    (games recorded before digests were kept have none)."""
    known = [d for d in digests if d]
    return len(set(known)), len(known)


def distinct_text(distinct: int, known: int, games: int | None = None) -> str:
    """``"distinct 98/100"``, with a warning when under :data:`DISTINCT_WARNING`, or ``"distinct ?"`` when no game
    of the result has a digest."""
    if known == 0:
        return "distinct ? (games recorded without move sequences)"
    total = known if games is None else games
    text = f"distinct {distinct}/{known}" + (f" of {total}" if total != known else "")
    if distinct < DISTINCT_WARNING * known:
        text += (f" [WARNING: only {distinct / known:.0%} distinct: the interval treats repeated games as "
                 "independent trials]")
    return text


__all__ = [
    "DISTINCT_WARNING",
    "OPENING_PROPERTY",
    "PAIR_PROPERTY",
    "SEED_PROPERTY",
    "default_opening",
    "distinct_share",
    "distinct_text",
    "game_digest",
    "opening_set",
    "play_opening",
]
