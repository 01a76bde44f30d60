"""Own-eye fills and the *sensible* moves of a position: what searches consider beyond the rules.

An **own eye** of colour ``c`` is an empty point whose on-board neighbours are all ``c``'s stones and whose
diagonal points hold at most one opponent stone (none when the point is on the edge or in a corner). Filling it
is legal but never needed, and random playouts (Bruegmann 1993) never do it.

A move is **sensible** for the player to move when it is legal and:

- a point that fills none of the mover's own eyes, or
- pass, when the mover has no such point, or when the opponent has just passed (so a game can always be ended
  by a player who is ahead, and two players who have nothing left to play end it).

Search over sensible moves keeps self-play from learning to pass in mid-game: under area scoring a pass ends
the game if the opponent passes back, and a search that values that line as a win for the side ahead on the
board plus komi hands pass the visits, the policy target and, after a few generations, the habit. Games end
with their dead stones captured, so the area score that ends them is the score of the game.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from envs.go import engine as E


@njit(cache=True, inline="always")
def fills_own_eye(s, C, p, c):
    """Whether colour ``c`` playing empty point ``p`` on engine row ``s`` fills one of its own eyes."""
    N, P = C[E.C_N], C[E.C_P]
    for j in range(C[E.C_NBR + 4 * P + p]):
        if s[E.HDR + C[E.C_NBR + 4 * p + j]] != c:
            return False
    r, col = p // N, p % N
    bad, edge = 0, False
    for dr in (-1, 1):
        for dc in (-1, 1):
            rr, cc = r + dr, col + dc
            if rr < 0 or rr >= N or cc < 0 or cc >= N:
                edge = True
            elif s[E.HDR + rr * N + cc] == -c:
                bad += 1
    return bad == 0 if edge else bad <= 1


@njit(cache=True)
def sensible_masks_into(S, M, C, out):
    """``out[g]`` := the sensible moves of row ``g`` (bool ``(P + 1,)``, pass last; all False once over)."""
    P = C[E.C_P]
    for g in range(S.shape[0]):
        s = S[g]
        out[g, :] = M[g, :]
        if s[E.DONE] != 0:
            continue
        c = s[E.TO_PLAY]
        other = False
        for p in range(P):
            if M[g, p]:
                if fills_own_eye(s, C, p, c):
                    out[g, p] = False
                else:
                    other = True
        if other and s[E.PASSES] == 0:
            out[g, P] = False


def sensible_masks(S: np.ndarray, M: np.ndarray, C: np.ndarray) -> np.ndarray:
    """bool ``(B, P + 1)``: the sensible moves of every row of the engine arrays ``S``, ``M`` (see the module
    docstring); a subset of ``M`` with at least one move in every live row."""
    out = np.empty_like(M)
    sensible_masks_into(S, M, C, out)
    return out
