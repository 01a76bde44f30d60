"""The fast rollout policy of AlphaGo (Lee): cheap local features of a candidate move and compiled playouts.

A rollout policy is a **linear softmax** over binary features of each legal move: the probability of move ``a``
is ``exp(sum of w[f] over its active features f)`` normalised over the candidates. The weights ``w`` are a plain
float ``(NUM_FEATURES + 1,)`` numpy vector (index ``NUM_FEATURES`` is the padding feature and must be 0); this
module never learns them (``agents/alphago`` does) and knows nothing of torch.

Features of a candidate point ``p`` for the player to move ``c`` (indices into ``w``; at most ``K`` per move):

- ``PATTERN + code`` (always): the 3x3 pattern around ``p``, colour-normalised. Each of the 8 neighbours in the
  order N, S, W, E, NW, NE, SW, SE is 0 empty, 1 the mover's stone, 2 the opponent's, 3 off the board;
  ``code = sum(digit_j * 4 ** (7 - j))``, so there are ``4 ** 8`` patterns.
- ``CAPTURE + {0, 1, 2}``: the move captures 1, 2-3 or 4+ stones.
- ``SELF_ATARI``: the new chain has one liberty and captures nothing.
- ``ATARI``: an opponent chain next to ``p`` drops to one liberty.
- ``SAVE``: ``p`` extends an own chain in atari and the new chain has at least two liberties.
- ``LIBS + {0..3}``: liberties of the new chain, 1, 2, 3, 4+. They are counted cheaply: empty neighbours of ``p``
  plus (liberties - 1) of each adjacent own chain plus the stones captured; shared liberties count twice, so
  this is an upper bound and SELF_ATARI (bound 1) is exact when it fires.
- ``DIST + {0..6}``: Manhattan distance to the last move, 1, 2, 3, 4, 5, 6+, or no last move (start, pass).
- ``EYE``: every orthogonal neighbour is the mover's stone (filling one's own eye).
- ``LINE + {0..3}``: distance to the nearest edge, first line, second, third, fourth or more.
- ``PASS``: the pass move (its only feature).

:func:`rollout_rows` plays positions to the end with this policy, compiled with numba: each move scores every
legal point (own-eye fills excluded; pass only when nothing else is left) and samples the softmax. Outcomes are
``+1 / -1 / 0`` from the view of the player to move in the starting position (the search's sign convention).
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numba import njit

from envs.go import engine as E

PATTERN = 0
NUM_PATTERNS = 4**8
CAPTURE = NUM_PATTERNS
SELF_ATARI = CAPTURE + 3
ATARI = SELF_ATARI + 1
SAVE = ATARI + 1
LIBS = SAVE + 1
DIST = LIBS + 4
EYE = DIST + 7
LINE = EYE + 1
PASS = LINE + 4
NUM_FEATURES = PASS + 1
"""Length of a weight vector without the padding entry; ``weights`` have ``NUM_FEATURES + 1`` entries."""
K = 9
"""Most features active for one move (the width of :func:`move_features` rows)."""
PAD = NUM_FEATURES
"""Index of the padding feature (its weight must be 0)."""

_DR = np.array([-1, 1, 0, 0, -1, -1, 1, 1], np.int64)
_DC = np.array([0, 0, -1, 1, -1, 1, -1, 1], np.int64)


@cache
def neighbours8(size: int) -> np.ndarray:
    """int64 ``(N*N, 8)``: the 8 neighbours of each point in the order N, S, W, E, NW, NE, SW, SE (-1 off board)."""
    out = np.full((size * size, 8), -1, np.int64)
    for p in range(size * size):
        r, c = divmod(p, size)
        for j in range(8):
            rr, cc = r + _DR[j], c + _DC[j]
            if 0 <= rr < size and 0 <= cc < size:
                out[p, j] = rr * size + cc
    out.setflags(write=False)
    return out


def check_weights(weights: np.ndarray) -> np.ndarray:
    """``weights`` as contiguous float64 ``(NUM_FEATURES + 1,)``; ValueError naming the expected length."""
    w = np.ascontiguousarray(weights, np.float64)
    if w.shape != (NUM_FEATURES + 1,):
        raise ValueError(f"rollout weights must have shape ({NUM_FEATURES + 1},), got {w.shape}")
    return w


# -- kernels -------------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _is_own_eye(s, C, p, c):
    P = C[E.C_P]
    for j in range(C[E.C_NBR + 4 * P + p]):
        if s[E.HDR + C[E.C_NBR + 4 * p + j]] != c:
            return False
    return True


@njit(cache=True)
def _features(s, C, N8, p, c, out):
    """Write the feature indices of point ``p`` for colour ``c`` into ``out``; returns how many (<= K)."""
    P, N = C[E.C_P], C[E.C_N]
    hd, lb, cs, en = E.HDR + E.HEAD * P, E.HDR + E.LIBS * P, E.HDR + E.CSIZE * P, E.HDR + E.EMPTYN * P
    code = 0
    for j in range(8):
        q = N8[p, j]
        d = 3
        if q >= 0:
            v = s[E.HDR + q]
            d = 0 if v == 0 else (1 if v == c else 2)
        code = code * 4 + d
    out[0] = PATTERN + code
    n = 1
    captured = 0
    own_extra = 0
    atari = False
    rescue = False
    eye = True
    h0 = -1
    h1 = -1
    h2 = -1
    for j in range(C[E.C_NBR + 4 * P + p]):
        r = C[E.C_NBR + 4 * p + j]
        v = s[E.HDR + r]
        if v != c:
            eye = False
        if v == 0:
            continue
        h = s[hd + r]
        if h == h0 or h == h1 or h == h2:
            continue
        if h0 < 0:
            h0 = h
        elif h1 < 0:
            h1 = h
        else:
            h2 = h
        libs = s[lb + h]
        if v == c:
            own_extra += libs - 1
            if libs == 1:
                rescue = True
        elif libs == 1:
            captured += s[cs + h]
        elif libs == 2:
            atari = True
    libs_after = s[en + p] + own_extra + captured
    if captured > 0:
        out[n] = CAPTURE + (0 if captured == 1 else (1 if captured <= 3 else 2))
        n += 1
    elif libs_after <= 1:
        out[n] = SELF_ATARI
        n += 1
    if atari:
        out[n] = ATARI
        n += 1
    if rescue and libs_after >= 2:
        out[n] = SAVE
        n += 1
    out[n] = LIBS + min(max(libs_after, 1), 4) - 1
    n += 1
    last = s[E.LAST_MOVE]
    if last < 0 or last >= P:
        out[n] = DIST + 6
    else:
        dist = abs(last // N - p // N) + abs(last % N - p % N)
        out[n] = DIST + min(dist, 6) - 1
    n += 1
    if eye:
        out[n] = EYE
        n += 1
    r0, c0 = p // N, p % N
    line = min(min(r0, c0), min(N - 1 - r0, N - 1 - c0))
    out[n] = LINE + min(line, 3)
    return n + 1


@njit(cache=True)
def features_into(S, M, C, N8, rows, out):
    """``out[i, a, :]`` := the feature indices of action ``a`` in game ``rows[i]`` (PAD-filled; illegal: all PAD).

    ``out`` is int32 ``(len(rows), N*N + 1, K)``.
    """
    P = C[E.C_P]
    buf = np.empty(K, np.int64)
    out[:] = PAD
    for i in range(rows.shape[0]):
        g = rows[i]
        s = S[g]
        c = s[E.TO_PLAY]
        for p in range(P):
            if M[g, p]:
                n = _features(s, C, N8, p, c, buf)
                for k in range(n):
                    out[i, p, k] = buf[k]
        if M[g, P]:
            out[i, P, 0] = PASS


@njit(cache=True)
def _sample_move(s, C, N8, w, scores, cand, buf):
    """A move drawn from the linear softmax over the legal points that fill no own eye; pass if there are none."""
    P = C[E.C_P]
    lg = E.HDR + E.NREG * P + P + 1
    c = s[E.TO_PLAY]
    n = 0
    best = -1e300
    for i in range(s[E.NLEGAL]):
        p = s[lg + i]
        if p == P or _is_own_eye(s, C, p, c):
            continue
        k = _features(s, C, N8, p, c, buf)
        x = 0.0
        for j in range(k):
            x += w[buf[j]]
        scores[n] = x
        cand[n] = p
        if x > best:
            best = x
        n += 1
    if n == 0:
        return P
    total = 0.0
    for i in range(n):
        scores[i] = np.exp(scores[i] - best)
        total += scores[i]
    u = np.random.random() * total
    acc = 0.0
    for i in range(n):
        acc += scores[i]
        if u < acc:
            return cand[i]
    return cand[n - 1]


@njit(cache=True)
def rollout_kernel(S, M, H, T, C, N8, rows, w, komi, max_moves, seed, out, moves_out):
    """Play copies of games ``rows`` to the end with the policy ``w`` (at most ``max_moves`` moves each).

    ``out[i]``: +1 / -1 / 0, the result for the player to move in ``rows[i]`` at the start (area score with
    ``komi``; a finished game keeps its result, a resigned one is lost by the resigner). ``moves_out[i]``: moves
    played. The source arrays are not changed.
    """
    np.random.seed(seed)
    P = C[E.C_P]
    scores = np.empty(P + 1, np.float64)
    cand = np.empty(P + 1, np.int64)
    buf = np.empty(K, np.int64)
    area = np.zeros(1, np.int64)
    for i in range(rows.shape[0]):
        g = rows[i]
        srow = S[g : g + 1].copy()
        s = srow[0]
        m = M[g].copy()
        h = H[g].copy()
        cap = 64
        while cap < 4 * (s[E.HCOUNT] + max_moves + 2):
            cap *= 2
        t = np.zeros(cap, np.int64)
        s[E.HCOUNT] = 0
        for j in range(T.shape[1]):
            if T[g, j] != 0:
                E.insert_hash(s, t, T[g, j])
        mover = s[E.TO_PLAY]
        played = 0
        while s[E.DONE] == 0 and played < max_moves:
            a = _sample_move(s, C, N8, w, scores, cand, buf)
            if not m[a]:
                raise ValueError("rollout policy chose an illegal move")
            E.play_move(s, m, h, t, C, a)
            played += 1
        if s[E.RESIGNED] != 0:
            winner = -s[E.RESIGNED]
        else:
            E.area_scores(srow, C, area)
            diff = area[0] - komi
            winner = 1 if diff > 0 else (-1 if diff < 0 else 0)
        out[i] = winner * mover
        moves_out[i] = played


# -- Python face (used by envs.go.game) ----------------------------------------------------------------------


def move_features(S: np.ndarray, M: np.ndarray, C: np.ndarray, size: int, rows: np.ndarray) -> np.ndarray:
    """int32 ``(len(rows), N*N + 1, K)`` feature indices of every action of the engine rows ``rows``
    (PAD where a move has fewer than K features; all PAD for illegal actions)."""
    rows = np.ascontiguousarray(rows, np.int64)
    out = np.empty((rows.size, size * size + 1, K), np.int32)
    features_into(S, M, C, neighbours8(size), rows, out)
    return out


def rollout(S: np.ndarray, M: np.ndarray, H: np.ndarray, T: np.ndarray, C: np.ndarray, size: int, komi: float,
            rows: np.ndarray, weights: np.ndarray, seed: int, max_moves: int) -> tuple[np.ndarray, np.ndarray]:
    """``(outcomes float32 (n,), moves int64 (n,))`` of one rollout from each engine row in ``rows``; see
    :func:`rollout_kernel`. ``seed`` fixes the draws (the same call with the same seed repeats exactly)."""
    rows = np.ascontiguousarray(rows, np.int64)
    out = np.zeros(rows.size, np.float32)
    moves = np.zeros(rows.size, np.int64)
    if max_moves < 0:
        raise ValueError(f"max_moves must be >= 0, got {max_moves}")
    rollout_kernel(S, M, H, T, C, neighbours8(size), rows, check_weights(weights), float(komi), int(max_moves),
                   int(seed) % (2**32), out, moves)
    return out, moves
