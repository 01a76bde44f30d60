"""Numba kernels of the Go rules engine, shared by :class:`envs.go.state.GoState` and :class:`envs.go.batch.GoBatch`.

Vocabulary
----------
- **size** ``N`` (2..19) and **points** ``P = N*N``. A *point* is a flat index ``p = row * N + col`` with row 0 at
  the top. An *action* is a point, or ``P`` for pass.
- **colour**: ``BLACK = 1``, ``WHITE = -1``, ``EMPTY = 0``; the opponent of ``c`` is ``-c``.
- **chain**: a maximal set of same-coloured stones connected through neighbours. Every stone knows its chain's
  *head* (a representative stone); chains are circular linked lists through ``NEXT``. The head holds the chain's
  exact **liberty** count (distinct empty neighbour points), stone count and Zobrist hash.
- **position hash**: ``BASE ^ xor of ZOB[colour][p] over all stones``. It ignores who is to move, so the set of
  seen hashes implements *positional* superko. Passes never add a position.

Array layout (one row per game; a single game is a batch of one)
----------------------------------------------------------------
- ``S`` int64 ``(B, 16 + 7P)``: scalars ``S[:, :16]`` (offsets below), then the regions BOARD, HEAD, NEXT, LIBS,
  CSIZE, CHASH, MARK, each of length ``P`` (HEAD..CHASH are meaningful at stones / chain heads only).
- ``M`` bool ``(B, P + 1)``: the legal mask of the position, kept current after every change (all False once over).
- ``H`` int8 ``(B, k, P)``: ring of the last ``k`` boards; the board after move ``t`` lives in slot ``t % k``.
- ``T`` int64 ``(B, cap)``: open-addressing set of seen position hashes (0 = free slot), ``cap`` a power of two,
  kept at most half full (kernels report when it must grow).
- ``C`` int64: per-size constants from :func:`size_tables` (neighbours, Zobrist keys).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numba import njit

# Scalar offsets in S[g, :HDR].
TO_PLAY, PASSES, MOVE_COUNT, LAST_MOVE, CAPT_B, CAPT_W, RESIGNED, DONE, HASH, HCOUNT, MAX_MOVES, STAMP = range(12)
HDR = 16
# Region indices: region r of game g is S[g, HDR + r*P : HDR + (r+1)*P].
BOARD, HEAD, NEXT, LIBS, CSIZE, CHASH, MARK = range(7)
NREG = 7
# Offsets in C.
C_N, C_P, C_BASE, C_NBR = 0, 1, 2, 8  # NBR (P, 4) at 8, NCNT (P) at 8+4P, ZOB black at 8+5P, ZOB white at 8+6P
# Move status codes (also the illegal reasons).
OK, OCCUPIED, SUICIDE, SUPERKO, GAME_OVER, OUT_OF_RANGE = range(6)
REASONS = ("ok", "occupied", "suicide", "superko", "game is over", "out of range")


def row_length(size: int) -> int:
    """Length of one game's row of ``S`` for a board of ``size``."""
    return HDR + NREG * size * size


@lru_cache(maxsize=None)
def size_tables(size: int) -> np.ndarray:
    """Read-only int64 constants for ``size``: N, P, BASE hash, neighbour table, neighbour counts, Zobrist keys.

    Keys come from a fixed seed per size, so hashes are equal across processes.
    """
    n, p = size, size * size
    c = np.zeros(8 + 7 * p, dtype=np.int64)
    c[C_N], c[C_P] = n, p
    rng = np.random.default_rng(0x5EED0000 + size)
    keys = rng.integers(1, 2**63 - 1, size=2 * p + 1, dtype=np.int64)
    c[C_BASE] = keys[-1]
    nbr = np.full((p, 4), -1, dtype=np.int64)
    cnt = np.zeros(p, dtype=np.int64)
    for pt in range(p):
        r, col = divmod(pt, n)
        for dr, dc in ((-1, 0), (0, -1), (0, 1), (1, 0)):
            rr, cc = r + dr, col + dc
            if 0 <= rr < n and 0 <= cc < n:
                nbr[pt, cnt[pt]] = rr * n + cc
                cnt[pt] += 1
    c[C_NBR : C_NBR + 4 * p] = nbr.ravel()
    c[C_NBR + 4 * p : C_NBR + 5 * p] = cnt
    c[C_NBR + 5 * p : C_NBR + 7 * p] = keys[: 2 * p]
    c.setflags(write=False)
    return c


# ---------------------------------------------------------------------------------------------------------------
# Hash set of seen positions
# ---------------------------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _seen(T, g, h):
    mask = T.shape[1] - 1
    i = h & mask
    while T[g, i] != 0:
        if T[g, i] == h:
            return True
        i = (i + 1) & mask
    return False


@njit(cache=True, inline="always")
def _insert(S, T, g, h):
    mask = T.shape[1] - 1
    i = h & mask
    while T[g, i] != 0:
        if T[g, i] == h:
            return
        i = (i + 1) & mask
    T[g, i] = h
    S[g, HCOUNT] += 1


@njit(cache=True)
def rehash(T_old, T_new, S):
    """Copy every game's hash set from ``T_old`` into the larger, zeroed ``T_new``."""
    for g in range(T_old.shape[0]):
        S[g, HCOUNT] = 0
        for i in range(T_old.shape[1]):
            if T_old[g, i] != 0:
                _insert(S, T_new, g, T_old[g, i])


# ---------------------------------------------------------------------------------------------------------------
# Legality
# ---------------------------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _zob(C, P, c, p):
    return C[C_NBR + 5 * P + p] if c == 1 else C[C_NBR + 6 * P + p]


@njit(cache=True, inline="always")
def point_status(S, T, C, g, p, c):
    """Status of colour ``c`` playing point ``p`` in game ``g``: OK, OCCUPIED, SUICIDE or SUPERKO."""
    P = C[C_P]
    if S[g, HDR + p] != 0:
        return OCCUPIED
    hd, lb, ch = HDR + HEAD * P, HDR + LIBS * P, HDR + CHASH * P
    nb, nc = C_NBR + 4 * p, C[C_NBR + 4 * P + p]
    has_lib = False
    caph = 0
    h0 = h1 = h2 = -1
    for j in range(nc):
        r = C[nb + j]
        v = S[g, HDR + r]
        if v == 0:
            has_lib = True
        else:
            h = S[g, hd + r]
            if v == c:
                if S[g, lb + h] > 1:
                    has_lib = True
            elif S[g, lb + h] == 1 and h != h0 and h != h1 and h != h2:
                caph ^= S[g, ch + h]
                has_lib = True
                if h0 < 0:
                    h0 = h
                elif h1 < 0:
                    h1 = h
                else:
                    h2 = h
    if not has_lib:
        return SUICIDE
    if _seen(T, g, S[g, HASH] ^ _zob(C, P, c, p) ^ caph):
        return SUPERKO
    return OK


@njit(cache=True, inline="always")
def compute_mask(S, M, T, C, g):
    """Refresh ``M[g]`` from the position of game ``g``."""
    P = C[C_P]
    if S[g, DONE] != 0:
        M[g, :] = False
        return
    c = S[g, TO_PLAY]
    for p in range(P):
        M[g, p] = point_status(S, T, C, g, p, c) == OK
    M[g, P] = True


@njit(cache=True)
def action_status(S, T, C, g, a):
    """Status code of action ``a`` in game ``g``, including GAME_OVER and OUT_OF_RANGE (pass is OK while live)."""
    P = C[C_P]
    if a < 0 or a > P:
        return OUT_OF_RANGE
    if S[g, DONE] != 0:
        return GAME_OVER
    if a == P:
        return OK
    return point_status(S, T, C, g, a, S[g, TO_PLAY])


# ---------------------------------------------------------------------------------------------------------------
# Playing a move
# ---------------------------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _count_libs(S, C, g, h):
    """Exact liberty count of the chain with head ``h`` (walks the chain, marking with a fresh stamp)."""
    P = C[C_P]
    nx, mk = HDR + NEXT * P, HDR + MARK * P
    S[g, STAMP] += 1
    stamp = S[g, STAMP]
    n = 0
    q = h
    while True:
        nb = C_NBR + 4 * q
        for j in range(C[C_NBR + 4 * P + q]):
            r = C[nb + j]
            if S[g, HDR + r] == 0 and S[g, mk + r] != stamp:
                S[g, mk + r] = stamp
                n += 1
        q = S[g, nx + q]
        if q == h:
            break
    return n


@njit(cache=True, inline="always")
def _remove_chain(S, C, g, h, c):
    """Remove the opponent chain with head ``h`` (captured by colour ``c``); adjacent ``c`` chains gain liberties."""
    P = C[C_P]
    hd, nx, lb = HDR + HEAD * P, HDR + NEXT * P, HDR + LIBS * P
    q = h
    while True:
        S[g, HDR + q] = 0
        nb = C_NBR + 4 * q
        h0 = h1 = h2 = -1
        for j in range(C[C_NBR + 4 * P + q]):
            r = C[nb + j]
            if S[g, HDR + r] == c:
                hr = S[g, hd + r]
                if hr != h0 and hr != h1 and hr != h2:
                    S[g, lb + hr] += 1
                    if h0 < 0:
                        h0 = hr
                    elif h1 < 0:
                        h1 = hr
                    else:
                        h2 = hr
        q = S[g, nx + q]
        if q == h:
            break


@njit(cache=True, inline="always")
def place_stone(S, T, C, g, p, c):
    """Put a ``c`` stone on the empty point ``p`` of game ``g``: merge, capture, update hash and the seen-set.

    The move must be legal (not checked here). Returns the number of stones captured.
    """
    P = C[C_P]
    hd, nx, lb, cs, ch = HDR + HEAD * P, HDR + NEXT * P, HDR + LIBS * P, HDR + CSIZE * P, HDR + CHASH * P
    z = _zob(C, P, c, p)
    S[g, HDR + p] = c
    S[g, HASH] ^= z
    nb, nc = C_NBR + 4 * p, C[C_NBR + 4 * P + p]
    # The new stone starts as its own chain.
    S[g, hd + p] = p
    S[g, nx + p] = p
    S[g, cs + p] = 1
    S[g, ch + p] = z
    merged = False
    o0 = o1 = o2 = o3 = -1  # distinct opponent heads next to p
    for j in range(nc):
        q = C[nb + j]
        v = S[g, HDR + q]
        if v == 0:
            continue
        r = S[g, hd + q]
        if v == -c:
            if r != o0 and r != o1 and r != o2:
                S[g, lb + r] -= 1
                if o0 < 0:
                    o0 = r
                elif o1 < 0:
                    o1 = r
                elif o2 < 0:
                    o2 = r
                else:
                    o3 = r
        elif r != S[g, hd + p]:
            # Merge chain r into the chain of p: relabel the smaller one, splice the circular lists.
            merged = True
            hb = S[g, hd + p]
            big, small = (hb, r) if S[g, cs + hb] >= S[g, cs + r] else (r, hb)
            q = small
            while True:
                S[g, hd + q] = big
                q = S[g, nx + q]
                if q == small:
                    break
            t = S[g, nx + big]
            S[g, nx + big] = S[g, nx + small]
            S[g, nx + small] = t
            S[g, cs + big] += S[g, cs + small]
            S[g, ch + big] ^= S[g, ch + small]
    h = S[g, hd + p]
    if merged:
        S[g, lb + h] = _count_libs(S, C, g, h)
    else:
        n = 0
        for j in range(nc):
            if S[g, HDR + C[nb + j]] == 0:
                n += 1
        S[g, lb + h] = n
    captured = 0
    for r in (o0, o1, o2, o3):
        if r >= 0 and S[g, lb + r] == 0:
            captured += S[g, cs + r]
            S[g, HASH] ^= S[g, ch + r]
            _remove_chain(S, C, g, r, c)
    if c == 1:
        S[g, CAPT_B] += captured
    else:
        S[g, CAPT_W] += captured
    _insert(S, T, g, S[g, HASH])
    return captured


@njit(cache=True, inline="always")
def _push_history(S, H, C, g):
    P = C[C_P]
    k = H.shape[1]
    slot = S[g, MOVE_COUNT] % k
    for p in range(P):
        H[g, slot, p] = S[g, HDR + p]


@njit(cache=True)
def play_row(S, M, H, T, C, g, a):
    """Play action ``a`` for the player to move in game ``g`` if legal; refresh the mask.

    Returns OK, or the illegal status code (nothing changed). The caller grows ``T`` when ``2*HCOUNT > cap``.
    """
    P = C[C_P]
    if a < 0 or a > P:
        return OUT_OF_RANGE
    if not M[g, a]:
        return action_status(S, T, C, g, a)
    c = S[g, TO_PLAY]
    if a == P:
        S[g, PASSES] += 1
    else:
        place_stone(S, T, C, g, a, c)
        S[g, PASSES] = 0
    S[g, TO_PLAY] = -c
    S[g, MOVE_COUNT] += 1
    S[g, LAST_MOVE] = a
    _push_history(S, H, C, g)
    if S[g, PASSES] >= 2 or (S[g, MAX_MOVES] >= 0 and S[g, MOVE_COUNT] >= S[g, MAX_MOVES]):
        S[g, DONE] = 1
    compute_mask(S, M, T, C, g)
    return OK


@njit(cache=True)
def play_batch(S, M, H, T, C, actions):
    """Play ``actions[g]`` in every live game ``g`` (finished games ignore theirs).

    All actions are checked first: returns ``-1 - g`` for the first live game ``g`` whose action is illegal
    (nothing played), else the largest hash-set fill count (the caller grows ``T`` when ``2 * that > cap``).
    """
    B = S.shape[0]
    P = C[C_P]
    for g in range(B):
        if S[g, DONE] == 0:
            a = actions[g]
            if a < 0 or a > P or not M[g, a]:
                return -1 - g
    fill = 0
    for g in range(B):
        if S[g, DONE] == 0:
            play_row(S, M, H, T, C, g, actions[g])
        fill = max(fill, S[g, HCOUNT])
    return fill


@njit(cache=True)
def rebuild(S, M, H, T, C, g):
    """Recompute chains, liberties and hash of game ``g`` from its BOARD; restart history and seen-set there.

    Returns -1 if fine, else a point of a chain without liberties (the state is then unusable).
    """
    P = C[C_P]
    hd, nx, lb, cs, ch = HDR + HEAD * P, HDR + NEXT * P, HDR + LIBS * P, HDR + CSIZE * P, HDR + CHASH * P
    S[g, HASH] = C[C_BASE]
    for p in range(P):
        S[g, hd + p] = -1
    stack = np.empty(P, dtype=np.int64)
    for p in range(P):
        c = S[g, HDR + p]
        if c == 0 or S[g, hd + p] >= 0:
            continue
        # Flood fill the chain of p; link it as a circular list headed by p.
        S[g, hd + p] = p
        S[g, nx + p] = p
        S[g, cs + p] = 1
        S[g, ch + p] = _zob(C, P, c, p)
        top = 1
        stack[0] = p
        while top > 0:
            top -= 1
            q = stack[top]
            for j in range(C[C_NBR + 4 * P + q]):
                r = C[C_NBR + 4 * q + j]
                if S[g, HDR + r] == c and S[g, hd + r] < 0:
                    S[g, hd + r] = p
                    S[g, nx + r] = S[g, nx + p]
                    S[g, nx + p] = r
                    S[g, cs + p] += 1
                    S[g, ch + p] ^= _zob(C, P, c, r)
                    stack[top] = r
                    top += 1
        S[g, lb + p] = _count_libs(S, C, g, p)
        S[g, HASH] ^= S[g, ch + p]
    T[g, :] = 0
    S[g, HCOUNT] = 0
    _insert(S, T, g, S[g, HASH])
    H[g, :, :] = 0
    _push_history(S, H, C, g)
    compute_mask(S, M, T, C, g)
    for p in range(P):
        if S[g, HDR + p] != 0 and S[g, lb + S[g, hd + p]] == 0:
            return p
    return -1


@njit(cache=True)
def reset_rows(S, M, H, T, C, rows, max_moves):
    """Empty board, black to move, fresh history, for each game in ``rows``."""
    for g in rows:
        S[g, :] = 0
        S[g, TO_PLAY] = 1
        S[g, LAST_MOVE] = -1
        S[g, MAX_MOVES] = max_moves
        rebuild(S, M, H, T, C, g)
        if max_moves == 0:
            S[g, DONE] = 1
            compute_mask(S, M, T, C, g)


# ---------------------------------------------------------------------------------------------------------------
# Scoring and features
# ---------------------------------------------------------------------------------------------------------------


@njit(cache=True)
def area_scores(S, C, out):
    """Tromp-Taylor area difference ``out[g] = black area - white area`` (stones + empty regions reaching
    only that colour), without komi."""
    P = C[C_P]
    seen = np.empty(P, dtype=np.int64)
    stack = np.empty(P, dtype=np.int64)
    for g in range(S.shape[0]):
        seen[:] = 0
        total = 0
        for p in range(P):
            v = S[g, HDR + p]
            if v != 0:
                total += v
                continue
            if seen[p]:
                continue
            # Flood fill the empty region of p, noting which colours it reaches.
            seen[p] = 1
            stack[0] = p
            top, n, reach_b, reach_w = 1, 0, False, False
            while top > 0:
                top -= 1
                q = stack[top]
                n += 1
                for j in range(C[C_NBR + 4 * P + q]):
                    r = C[C_NBR + 4 * q + j]
                    w = S[g, HDR + r]
                    if w == 1:
                        reach_b = True
                    elif w == -1:
                        reach_w = True
                    elif not seen[r]:
                        seen[r] = 1
                        stack[top] = r
                        top += 1
            if reach_b and not reach_w:
                total += n
            elif reach_w and not reach_b:
                total -= n
        out[g] = total


@njit(cache=True)
def features_into(S, H, C, out):
    """AlphaGo Zero planes into zeroed float32 ``out (B, 2k+1, N, N)``: planes ``[0:k]`` the mover's stones at
    t, t-1, ..., planes ``[k:2k]`` the opponent's, plane ``2k`` all ones when black is to move."""
    N, P = C[C_N], C[C_P]
    k = H.shape[1]
    for g in range(S.shape[0]):
        c = S[g, TO_PLAY]
        t0 = S[g, MOVE_COUNT]
        for i in range(min(k, t0 + 1)):
            slot = (t0 - i) % k
            for p in range(P):
                v = H[g, slot, p]
                if v == c:
                    out[g, i, p // N, p % N] = 1.0
                elif v == -c:
                    out[g, k + i, p // N, p % N] = 1.0
        if c == 1:
            out[g, 2 * k, :, :] = 1.0
