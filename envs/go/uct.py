"""Pure Monte Carlo tree search with random rollouts (UCT): the reference opponent "random-rollout MCTS at N playouts".

No knowledge beyond the rules: the tree is grown by UCB1 (Kocsis & Szepesvari 2006) over win rates, and every
leaf is valued by one random game played to the end (Bruegmann 1993), compiled with numba on the arrays of
:mod:`envs.go.engine` (the same rules, superko included, as :class:`envs.go.state.GoState`).

Specification of one search (``playouts`` simulations from ``state``):

- **Tree.** The root is expanded at once: one child per legal action of the player to move (pass included),
  in a random order. A simulation descends from the root: at an expanded node it takes the child maximising
  ``w / n + c * sqrt(ln(N) / n)`` (``w`` wins of the player choosing the edge, ``n`` its visits, ``N`` the
  parent's; unvisited children first, in their random order); a node met for the second time is expanded; a
  node met for the first time, or a finished position, ends the descent.
- **Rollout.** From that position both sides play uniformly random legal moves, except that a player never
  fills one of its own single-point eyes (an empty point whose on-board neighbours are all its stones and whose
  diagonal points hold at most one opponent stone, none on the edge); a player with no such move passes. The
  rollout ends after two passes, at the state's move cap, or after ``3 * N * N`` rollout moves (then scored as
  it stands).
- **Value.** The rollout's final position is scored by Tromp-Taylor area with the state's komi; a win counts 1
  for the winner's edges, a draw 1/2. A finished position in the tree is scored exactly.
- **Move.** The most visited root child (ties: the higher win count, then the lower action).

Randomness comes from ``seed`` only (numba's generator is seeded at the start of each search), so a seeded
search replays. :func:`uct_policy` wraps the search as a policy ``(state, rng) -> action`` of
:mod:`envs.go.opponents` that draws each move's seed from ``rng``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from envs.go import engine as E
from envs.go.eyes import fills_own_eye

if TYPE_CHECKING:
    from envs.go.opponents import Policy
    from envs.go.state import GoState


@njit(cache=True, inline="always")
def _rollout_move(s, C, scratch):
    """A uniformly random legal non-pass move that fills no own eye for the player to move, else pass."""
    P = C[E.C_P]
    lg = E.HDR + E.NREG * P + P + 1
    n = s[E.NLEGAL]
    for i in range(n):
        scratch[i] = s[lg + i]
    c = s[E.TO_PLAY]
    while n > 0:
        i = np.random.randint(n)
        a = scratch[i]
        if a != P and not fills_own_eye(s, C, a, c):
            return a
        n -= 1
        scratch[i] = scratch[n]
    return P


@njit(cache=True, inline="always")
def _winner(s, C, komi, area):
    """+1 black wins, -1 white wins, 0 draw (a resignation is never in a search)."""
    area[0] = 0
    E.area_scores(s.reshape(1, -1), C, area)
    score = area[0] - komi
    return 1 if score > 0 else -1 if score < 0 else 0


@njit(cache=True)
def uct_visits(S0, M0, H0, T0, C, komi, playouts, c_uct, seed):
    """Root visit counts and wins ``(P+1,)`` each after ``playouts`` UCT simulations from the one-row state
    ``(S0, M0, H0, T0)`` (engine layout; ``T0`` large enough for every move of a simulation). Wins are the
    root mover's; visits of illegal actions are 0."""
    np.random.seed(seed)
    P = C[E.C_P]
    A = P + 1
    lg = E.HDR + E.NREG * P + P + 1
    cap = (playouts + 2) * A + 1
    first = np.full(cap, -1, np.int64)  # index of the first child; -1: not expanded
    nkids = np.zeros(cap, np.int64)
    action = np.zeros(cap, np.int64)
    visits = np.zeros(cap, np.float64)
    wins = np.zeros(cap, np.float64)  # from the view of the player who chose the edge into the node
    used = 1
    S, M, H, T = S0.copy(), M0.copy(), H0.copy(), T0.copy()
    s, m, h, t = S[0], M[0], H[0], T[0]
    scratch = np.empty(A, np.int64)
    path = np.empty(cap, np.int64)
    area = np.zeros(1, np.int64)
    rollout_cap = 3 * P
    for _ in range(playouts):
        S[:] = S0
        M[:] = M0
        H[:] = H0
        T[:] = T0
        node, depth = 0, 0
        path[0] = 0
        while s[E.DONE] == 0:
            if first[node] < 0:
                if visits[node] == 0 and node != 0:
                    break
                n = s[E.NLEGAL]
                first[node] = used
                nkids[node] = n
                for i in range(n):
                    scratch[i] = s[lg + i]
                for i in range(n - 1, 0, -1):  # random order of the children
                    j = np.random.randint(i + 1)
                    scratch[i], scratch[j] = scratch[j], scratch[i]
                for i in range(n):
                    action[used + i] = scratch[i]
                used += n
            best, best_value = -1, -1.0
            log_n = math.log(max(visits[node], 1.0))
            for k in range(first[node], first[node] + nkids[node]):
                if visits[k] == 0:
                    best = k
                    break
                value = wins[k] / visits[k] + c_uct * math.sqrt(log_n / visits[k])
                if value > best_value:
                    best, best_value = k, value
            E.play_move(s, m, h, t, C, action[best])
            node = best
            depth += 1
            path[depth] = node
        moves = 0
        while s[E.DONE] == 0 and moves < rollout_cap:
            E.play_move(s, m, h, t, C, _rollout_move(s, C, scratch))
            moves += 1
        winner = _winner(s, C, komi, area)
        mover = S0[0, E.TO_PLAY]  # chooser of the edge into path[1]
        for d in range(depth + 1):
            k = path[d]
            visits[k] += 1.0
            chooser = -mover if d % 2 == 0 else mover
            wins[k] += 1.0 if winner == chooser else 0.5 if winner == 0 else 0.0
    out_n = np.zeros(A, np.float64)
    out_w = np.zeros(A, np.float64)
    for k in range(first[0], first[0] + nkids[0]):
        out_n[action[k]] = visits[k]
        out_w[action[k]] = wins[k]
    return out_n, out_w


def uct_search(state: GoState, playouts: int, seed: int = 0, c_uct: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    """Visit counts and wins (root mover's view) per action ``(N*N+1,)`` after ``playouts`` simulations.

    ``state`` is not changed. Raises ``ValueError`` for ``playouts < 1`` or a finished game.
    """
    if playouts < 1:
        raise ValueError(f"playouts must be >= 1, got {playouts!r}")
    if state.is_terminal:
        raise ValueError("cannot search a finished game")
    S0, M0, H0, T0 = state._S, state._M, state._H, state._T
    # Hash set big enough for every position of a simulation (the tree path plus a capped rollout), at most half full.
    need = int(S0[0, E.HCOUNT]) + playouts + 3 * state.size**2 + 2
    cap = 1 << max(int(T0.shape[1]).bit_length() - 1, (4 * need - 1).bit_length())
    if cap > T0.shape[1]:
        S0 = S0.copy()
        T_big = np.zeros((1, cap), np.int64)
        E.rehash(T0, T_big, S0)
        T0 = T_big
    return uct_visits(S0, M0, H0, T0, state._C, float(state.komi), int(playouts), float(c_uct),
                      int(seed) % (2**32))


def uct_move(state: GoState, playouts: int, seed: int = 0, c_uct: float = 0.7) -> int:
    """The most visited action of :func:`uct_search` (ties: more wins, then the lower action)."""
    visits, wins = uct_search(state, playouts, seed, c_uct)
    order = np.lexsort((-np.arange(visits.size), wins, visits))
    return int(order[-1])


def uct_policy(playouts: int, c_uct: float = 0.7) -> Policy:
    """A policy ``(state, rng) -> action`` (see :mod:`envs.go.opponents`) that searches ``playouts`` simulations
    per move with a seed drawn from ``rng``."""
    if playouts < 1:
        raise ValueError(f"playouts must be >= 1, got {playouts!r}")

    def policy(state: GoState, rng: np.random.Generator) -> int:
        return uct_move(state, playouts, int(rng.integers(2**32)), c_uct)

    policy.__name__ = f"uct_{playouts}"
    return policy
