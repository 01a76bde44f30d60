"""Numba kernels of the Go rules engine, shared by :class:`envs.go.state.GoState` and
:class:`envs.go.batch.GoBatch`.

Vocabulary
----------
- **size** ``N`` (2..19) and **points** ``P = N*N``. A *point* is a flat index ``p = row * N + col`` with row 0
  at the top. An *action* is a point, or ``P`` for pass.
- **colour**: ``BLACK = 1``, ``WHITE = -1``, ``EMPTY = 0``; the opponent of ``c`` is ``-c``.
- **chain**: a maximal set of same-coloured stones connected through neighbours. Every stone knows its chain's
  *head* (a representative stone); chains are circular linked lists through ``NEXT``. The head holds the
  chain's exact **liberty** count (distinct empty neighbour points), stone count and Zobrist hash.
- **position hash**: ``BASE ^ xor of ZOB[colour][p] over all stones``. It ignores who is to move, so the set
  of seen hashes implements *positional* superko. Passes never add a position.

Array layout (one row per game; a single game is a batch of one)
----------------------------------------------------------------
- ``S`` int64 ``(B, row_length(N))``: scalars and a 1024-bit Bloom filter of the seen hashes ``S[:, :HDR]``
  (offsets below), then the regions BOARD, HEAD, NEXT, LIBS, CSIZE, CHASH, MARK, EMPTYN of length ``P``
  (HEAD..CHASH are meaningful at stones / chain heads only; MARK is scratch for stamps; EMPTYN counts each
  point's empty neighbours), COUNTS of length ``P + 1`` (how many seen positions had each number of stones: a
  cheap superko filter) and LEGAL of length ``P + 1`` (its first ``S[:, NLEGAL]`` entries list the legal
  actions, ascending).
- ``M`` bool ``(B, P + 1)``: the legal mask, kept current after every change (all False once over).
- ``H`` int8 ``(B, k, P)``: ring of the last ``k`` boards; the board after move ``t`` lives in slot ``t % k``.
- ``T`` int64 ``(B, cap)``: open-addressing set of seen position hashes (0 = free slot), ``cap`` a power of
  two, kept at most half full (kernels answer GROW when it must grow before the next move).
- ``C`` int64: per-size constants from :func:`size_tables` (neighbours, Zobrist keys).

Kernels taking ``(S, M, H, T, C, g, ...)`` work on row ``g``; helpers taking lower-case ``(s, m, h, t, C)``
work on one row's views and are inlined into them. Of those, :func:`play_move` and :func:`insert_hash` are public:
the compiled playouts of :mod:`envs.go.rollout` and :mod:`envs.go.uct` call them; names with a leading underscore
are this module's own.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numba import njit

# Scalar offsets in S[g, :HDR].
TO_PLAY, PASSES, MOVE_COUNT, LAST_MOVE, CAPT_B, CAPT_W, RESIGNED, DONE = range(8)
HASH, HCOUNT, MAX_MOVES, STAMP, STONES, NLEGAL = range(8, 14)
BLOOM = 16  # S[g, 16:32]: a 1024-bit Bloom filter of the seen hashes (bits 54..63), checked before T
HDR = 32
# Regions: region r < NREG of a row is S[g, HDR + r*P : HDR + (r+1)*P]; then COUNTS and LEGAL (P + 1 each).
BOARD, HEAD, NEXT, LIBS, CSIZE, CHASH, MARK, EMPTYN = range(8)
NREG = 8
# Offsets in C: N, P, BASE; NBR (P, 4) at C_NBR, neighbour counts (P) after it, then ZOB black (P), white (P).
C_N, C_P, C_BASE, C_NBR = 0, 1, 2, 8
# Move status codes (also the illegal reasons), and GROW: played, but T must grow before the next move.
OK, OCCUPIED, SUICIDE, SUPERKO, GAME_OVER, OUT_OF_RANGE, GROW = range(7)
REASONS = ("ok", "occupied", "suicide", "superko", "game is over", "out of range")


def row_length(size: int) -> int:
    """Length of one game's row of ``S`` for a board of ``size``."""
    return HDR + NREG * size * size + 2 * (size * size + 1)


def legal_offset(size: int) -> int:
    """Offset of the LEGAL region in a row."""
    return HDR + NREG * size * size + size * size + 1


@cache
def size_tables(size: int) -> np.ndarray:
    """Read-only int64 constants for ``size``: N, P, BASE hash, neighbour table and counts, Zobrist keys.

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


# -- hash set of seen positions ----------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _seen(t, h):
    mask = t.shape[0] - 1
    i = h & mask
    found = False
    while t[i] != 0 and not found:
        found = t[i] == h
        i = (i + 1) & mask
    return found


@njit(cache=True, inline="always")
def insert_hash(s, t, h):
    """Add ``h`` to the set (counted in HCOUNT if new)."""
    mask = t.shape[0] - 1
    i = h & mask
    while t[i] != 0 and t[i] != h:
        i = (i + 1) & mask
    if t[i] == 0:
        t[i] = h
        s[HCOUNT] += 1
    b = (h >> 54) & 1023
    s[BLOOM + (b >> 6)] |= np.int64(1) << (b & 63)


@njit(cache=True)
def rehash(T_old, T_new, S):
    """Copy every game's hash set from ``T_old`` into the larger, zeroed ``T_new``."""
    for g in range(T_old.shape[0]):
        S[g, HCOUNT] = 0
        for i in range(T_old.shape[1]):
            if T_old[g, i] != 0:
                insert_hash(S[g], T_new[g], T_old[g, i])


# -- legality ------------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _status(s, t, C, p, c, P, zo, hash0, count0):
    """OK, OCCUPIED, SUICIDE or SUPERKO for colour ``c`` playing the point ``p`` in row ``s``.

    Loop invariants come in as arguments: ``P``; ``zo`` the offset of ``c``'s Zobrist keys in ``C``; ``hash0``
    the position hash; ``count0`` the offset in ``s`` of COUNTS plus the stone count plus one.
    """
    if s[HDR + p] != 0:
        return OCCUPIED
    hd, lb, cs, ch = HDR + HEAD * P, HDR + LIBS * P, HDR + CSIZE * P, HDR + CHASH * P
    nb = C_NBR + 4 * p
    has_lib = False
    caph = 0
    taken = 0
    h0 = -1
    h1 = -1
    h2 = -1
    for j in range(C[C_NBR + 4 * P + p]):
        r = C[nb + j]
        v = s[HDR + r]
        if v == 0:
            has_lib = True
        else:
            h = s[hd + r]
            if v == c:
                if s[lb + h] > 1:
                    has_lib = True
            elif s[lb + h] == 1 and h != h0 and h != h1 and h != h2:
                # An opponent chain in atari: this move captures it.
                caph ^= s[ch + h]
                taken += s[cs + h]
                has_lib = True
                if h0 < 0:
                    h0 = h
                elif h1 < 0:
                    h1 = h
                else:
                    h2 = h
    if not has_lib:
        return SUICIDE
    # Superko: only a position whose stone count some seen position had can be a repeat.
    if s[count0 - taken] == 0:
        return OK
    if _seen(t, hash0 ^ C[zo + p] ^ caph):
        return SUPERKO
    return OK


@njit(cache=True, inline="always")
def _refresh(s, m, t, C):
    """Recompute the legal mask ``m`` and the LEGAL list of row ``s``.

    The rules of :func:`_status`, written out with fast paths (numba compiles the inlined function with early
    returns several times slower; the fuzz tests check that the two agree): a point with an empty neighbour
    that captures nothing is legal unless it recreates a seen position, which needs some seen position with
    one stone more than now (COUNTS) and a hit in the Bloom filter before the hash set ``t`` is probed.
    """
    P = C[C_P]
    lg = HDR + NREG * P + P + 1
    if s[DONE] != 0:
        m[:] = False
        s[NLEGAL] = 0
        return
    c = s[TO_PLAY]
    zo = C_NBR + 5 * P if c == 1 else C_NBR + 6 * P
    hash0 = s[HASH]
    tm = t.shape[0] - 1
    hd, lb, cs, ch = HDR + HEAD * P, HDR + LIBS * P, HDR + CSIZE * P, HDR + CHASH * P
    count0 = HDR + NREG * P + s[STONES] + 1
    en, mk = HDR + EMPTYN * P, HDR + MARK * P
    # Mark the capturing points: the single liberties of the opponent's chains in atari.
    s[STAMP] += 1
    stamp = s[STAMP]
    for q in range(P):
        if s[HDR + q] == -c and s[lb + s[hd + q]] == 1:
            for j in range(C[C_NBR + 4 * P + q]):
                r = C[C_NBR + 4 * q + j]
                if s[HDR + r] == 0:
                    s[mk + r] = stamp
    quiet = s[count0] == 0  # no seen position has one stone more
    n = 0
    for p in range(P):
        if s[HDR + p] != 0:
            m[p] = False
            continue
        if s[en + p] > 0 and s[mk + p] != stamp:
            # Fast path: an empty neighbour (not suicide) and no capture (one stone more than now).
            ok = True
            hh = hash0 ^ C[zo + p]
            b = (hh >> 54) & 1023
            if not quiet and (s[BLOOM + (b >> 6)] >> (b & 63)) & 1:
                i = hh & tm
                while t[i] != 0:
                    if t[i] == hh:
                        ok = False
                        break
                    i = (i + 1) & tm
            m[p] = ok
            if ok:
                s[lg + n] = p
                n += 1
            continue
        # The same test as the single-move legality kernel above, written out here on purpose: numba's inlined
        # call with early returns ran about 4x slower in this loop; the fuzz tests check the two agree.
        nb = C_NBR + 4 * p
        has_lib = False
        caph = 0
        taken = 0
        h0 = -1
        h1 = -1
        h2 = -1
        for j in range(C[C_NBR + 4 * P + p]):
            r = C[nb + j]
            v = s[HDR + r]
            if v == 0:
                has_lib = True
            else:
                h = s[hd + r]
                if v == c:
                    if s[lb + h] > 1:
                        has_lib = True
                elif s[lb + h] == 1 and h != h0 and h != h1 and h != h2:
                    caph ^= s[ch + h]
                    taken += s[cs + h]
                    has_lib = True
                    if h0 < 0:
                        h0 = h
                    elif h1 < 0:
                        h1 = h
                    else:
                        h2 = h
        if not has_lib:
            m[p] = False
            continue
        ok = True
        hh = hash0 ^ C[zo + p] ^ caph
        b = (hh >> 54) & 1023
        if s[count0 - taken] != 0 and (s[BLOOM + (b >> 6)] >> (b & 63)) & 1:
            i = hh & tm
            while t[i] != 0:
                if t[i] == hh:
                    ok = False
                    break
                i = (i + 1) & tm
        m[p] = ok
        if ok:
            s[lg + n] = p
            n += 1
    m[P] = True
    s[lg + n] = P
    s[NLEGAL] = n + 1


@njit(cache=True)
def compute_mask(S, M, T, C, g):
    """Refresh ``M[g]`` and the LEGAL list from the position of game ``g``."""
    _refresh(S[g], M[g], T[g], C)


@njit(cache=True)
def action_status(S, T, C, g, a):
    """Status code of action ``a`` in game ``g``, including GAME_OVER and OUT_OF_RANGE (pass: OK while live)."""
    P = C[C_P]
    if a < 0 or a > P:
        return OUT_OF_RANGE
    if S[g, DONE] != 0:
        return GAME_OVER
    if a == P:
        return OK
    s, c = S[g], S[g, TO_PLAY]
    zo = C_NBR + 5 * P if c == 1 else C_NBR + 6 * P
    return _status(s, T[g], C, a, c, P, zo, s[HASH], HDR + NREG * P + s[STONES] + 1)


# -- playing a move ------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _count_libs(s, C, h):
    """Exact liberty count of the chain with head ``h`` (walks the chain, marking with a fresh stamp)."""
    P = C[C_P]
    nx, mk = HDR + NEXT * P, HDR + MARK * P
    s[STAMP] += 1
    stamp = s[STAMP]
    n = 0
    q = h
    while True:
        nb = C_NBR + 4 * q
        for j in range(C[C_NBR + 4 * P + q]):
            r = C[nb + j]
            if s[HDR + r] == 0 and s[mk + r] != stamp:
                s[mk + r] = stamp
                n += 1
        q = s[nx + q]
        if q == h:
            break
    return n


@njit(cache=True, inline="always")
def _remove_chain(s, C, h, c):
    """Remove the opponent chain with head ``h`` (captured by ``c``); adjacent ``c`` chains gain liberties."""
    P = C[C_P]
    hd, nx, lb, en = HDR + HEAD * P, HDR + NEXT * P, HDR + LIBS * P, HDR + EMPTYN * P
    q = h
    while True:
        s[HDR + q] = 0
        nb = C_NBR + 4 * q
        h0 = -1
        h1 = -1
        h2 = -1
        for j in range(C[C_NBR + 4 * P + q]):
            r = C[nb + j]
            s[en + r] += 1
            if s[HDR + r] == c:
                hr = s[hd + r]
                if hr != h0 and hr != h1 and hr != h2:
                    s[lb + hr] += 1
                    if h0 < 0:
                        h0 = hr
                    elif h1 < 0:
                        h1 = hr
                    else:
                        h2 = hr
        q = s[nx + q]
        if q == h:
            break


@njit(cache=True, inline="always")
def _merge(s, C, hb, r):
    """Merge the chains with heads ``hb`` and ``r``; returns the surviving head (the bigger chain's)."""
    P = C[C_P]
    hd, nx, cs, ch = HDR + HEAD * P, HDR + NEXT * P, HDR + CSIZE * P, HDR + CHASH * P
    big, small = (hb, r) if s[cs + hb] >= s[cs + r] else (r, hb)
    q = small
    while True:
        s[hd + q] = big
        q = s[nx + q]
        if q == small:
            break
    t = s[nx + big]
    s[nx + big] = s[nx + small]
    s[nx + small] = t
    s[cs + big] += s[cs + small]
    s[ch + big] ^= s[ch + small]
    return big


@njit(cache=True, inline="always")
def _take(s, C, r, c):
    """Capture the opponent chain with head ``r`` if it has no liberties left (``r < 0``: none); count."""
    P = C[C_P]
    n = 0
    if r >= 0 and s[HDR + LIBS * P + r] == 0:
        n = s[HDR + CSIZE * P + r]
        s[HASH] ^= s[HDR + CHASH * P + r]
        _remove_chain(s, C, r, c)
    return n


@njit(cache=True, inline="always")
def _place(s, t, C, p, c):
    """Put a ``c`` stone on the empty point ``p``: merge, capture, update hash, stone counts and the seen-set.

    The move must be legal (not checked here). Returns the number of stones captured.
    """
    P = C[C_P]
    hd, nx, lb, cs, ch = HDR + HEAD * P, HDR + NEXT * P, HDR + LIBS * P, HDR + CSIZE * P, HDR + CHASH * P
    z = C[C_NBR + 5 * P + p] if c == 1 else C[C_NBR + 6 * P + p]
    s[HDR + p] = c
    s[HASH] ^= z
    nb, nc = C_NBR + 4 * p, C[C_NBR + 4 * P + p]
    s[hd + p] = p  # the new stone starts as its own chain
    s[nx + p] = p
    s[cs + p] = 1
    s[ch + p] = z
    head = p
    merged = False
    o0 = o1 = o2 = o3 = -1  # distinct opponent heads next to p
    en = HDR + EMPTYN * P
    for j in range(nc):
        q = C[nb + j]
        s[en + q] -= 1
        v = s[HDR + q]
        if v == 0:
            continue
        r = s[hd + q]
        if v == c:
            if r != head:
                head = _merge(s, C, head, r)
                merged = True
        elif r != o0 and r != o1 and r != o2:
            s[lb + r] -= 1
            if o0 < 0:
                o0 = r
            elif o1 < 0:
                o1 = r
            elif o2 < 0:
                o2 = r
            else:
                o3 = r
    if merged:
        s[lb + head] = _count_libs(s, C, head)
    else:
        n = 0
        for j in range(nc):
            if s[HDR + C[nb + j]] == 0:
                n += 1
        s[lb + head] = n
    captured = _take(s, C, o0, c) + _take(s, C, o1, c) + _take(s, C, o2, c) + _take(s, C, o3, c)
    if c == 1:
        s[CAPT_B] += captured
    else:
        s[CAPT_W] += captured
    s[STONES] += 1 - captured
    insert_hash(s, t, s[HASH])
    s[HDR + NREG * P + s[STONES]] += 1
    return captured


@njit(cache=True, inline="always")
def _push_history(s, h, C):
    P = C[C_P]
    slot = s[MOVE_COUNT] % h.shape[0]
    for p in range(P):
        h[slot, p] = s[HDR + p]


@njit(cache=True, inline="always")
def play_move(s, m, h, t, C, a):
    """Play the legal action ``a`` for the player to move; refresh the mask. Returns OK or GROW."""
    P = C[C_P]
    c = s[TO_PLAY]
    if a == P:
        s[PASSES] += 1
    else:
        _place(s, t, C, a, c)
        s[PASSES] = 0
    s[TO_PLAY] = -c
    s[MOVE_COUNT] += 1
    s[LAST_MOVE] = a
    _push_history(s, h, C)
    if s[PASSES] >= 2 or (s[MAX_MOVES] >= 0 and s[MOVE_COUNT] >= s[MAX_MOVES]):
        s[DONE] = 1
    _refresh(s, m, t, C)
    return GROW if 2 * s[HCOUNT] > t.shape[0] else OK


@njit(cache=True)
def play_row(S, M, H, T, C, g, a):
    """Play action ``a`` in game ``g`` if legal. Returns OK, GROW (played; grow ``T`` now) or the illegal
    status code (nothing changed)."""
    if a < 0 or a > C[C_P]:
        return OUT_OF_RANGE
    if not M[g, a]:
        return action_status(S, T, C, g, a)
    return play_move(S[g], M[g], H[g], T[g], C, a)


@njit(cache=True)
def play_batch(S, M, H, T, C, actions):
    """Play ``actions[g]`` in every live game ``g`` (finished games ignore theirs).

    All actions are checked first: returns ``-1 - g`` for the first live game ``g`` whose action is illegal
    (nothing played), else GROW if some game's hash set must grow before the next move, else OK.
    """
    P = C[C_P]
    for g in range(S.shape[0]):
        if S[g, DONE] == 0:
            a = actions[g]
            if a < 0 or a > P or not M[g, a]:
                return -1 - g
    code = OK
    for g in range(S.shape[0]):
        if S[g, DONE] == 0 and play_move(S[g], M[g], H[g], T[g], C, actions[g]) == GROW:
            code = GROW
    return code


@njit(cache=True)
def rebuild(S, M, H, T, C, g):
    """Recompute chains, liberties, hash and stone count of game ``g`` from its BOARD; restart its history
    and seen-set there. Returns -1 if fine, else a point of a chain without liberties (state unusable)."""
    P = C[C_P]
    s = S[g]
    hd, nx, lb, cs, ch = HDR + HEAD * P, HDR + NEXT * P, HDR + LIBS * P, HDR + CSIZE * P, HDR + CHASH * P
    s[HASH] = C[C_BASE]
    s[STONES] = 0
    s[hd : hd + P] = -1
    for p in range(P):
        n = 0
        for j in range(C[C_NBR + 4 * P + p]):
            if s[HDR + C[C_NBR + 4 * p + j]] == 0:
                n += 1
        s[HDR + EMPTYN * P + p] = n
    stack = np.empty(P, dtype=np.int64)
    for p in range(P):
        c = s[HDR + p]
        if c == 0 or s[hd + p] >= 0:
            continue
        # Flood fill the chain of p; link it as a circular list headed by p.
        zo = C_NBR + 5 * P if c == 1 else C_NBR + 6 * P
        s[hd + p] = p
        s[nx + p] = p
        s[cs + p] = 1
        s[ch + p] = C[zo + p]
        top = 1
        stack[0] = p
        while top > 0:
            top -= 1
            q = stack[top]
            for j in range(C[C_NBR + 4 * P + q]):
                r = C[C_NBR + 4 * q + j]
                if s[HDR + r] == c and s[hd + r] < 0:
                    s[hd + r] = p
                    s[nx + r] = s[nx + p]
                    s[nx + p] = r
                    s[cs + p] += 1
                    s[ch + p] ^= C[zo + r]
                    stack[top] = r
                    top += 1
        s[lb + p] = _count_libs(s, C, p)
        s[HASH] ^= s[ch + p]
        s[STONES] += s[cs + p]
    T[g, :] = 0
    s[HCOUNT] = 0
    s[BLOOM : BLOOM + 16] = 0
    insert_hash(s, T[g], s[HASH])
    s[HDR + NREG * P : HDR + NREG * P + P + 1] = 0
    s[HDR + NREG * P + s[STONES]] = 1
    H[g, :, :] = 0
    _push_history(s, H[g], C)
    _refresh(s, M[g], T[g], C)
    for p in range(P):
        if s[HDR + p] != 0 and s[lb + s[hd + p]] == 0:
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
        if max_moves == 0:
            S[g, DONE] = 1
        rebuild(S, M, H, T, C, g)


# -- scoring and features ------------------------------------------------------------------------------------


@njit(cache=True)
def area_scores(S, C, out):
    """Tromp-Taylor area difference ``out[g] = black area - white area`` (stones plus empty regions that
    reach only that colour), without komi."""
    P = C[C_P]
    seen = np.empty(P, dtype=np.bool_)
    stack = np.empty(P, dtype=np.int64)
    for g in range(S.shape[0]):
        s = S[g]
        seen[:] = False
        total = 0
        for p in range(P):
            v = s[HDR + p]
            if v != 0:
                total += v
                continue
            if seen[p]:
                continue
            # Flood fill the empty region of p, noting which colours it reaches.
            seen[p] = True
            stack[0] = p
            top, n, reach_b, reach_w = 1, 0, False, False
            while top > 0:
                top -= 1
                q = stack[top]
                n += 1
                for j in range(C[C_NBR + 4 * P + q]):
                    r = C[C_NBR + 4 * q + j]
                    w = s[HDR + r]
                    if w == 1:
                        reach_b = True
                    elif w == -1:
                        reach_w = True
                    elif not seen[r]:
                        seen[r] = True
                        stack[top] = r
                        top += 1
            if reach_b and not reach_w:
                total += n
            elif reach_w and not reach_b:
                total -= n
        out[g] = total


@njit(cache=True)
def area_ownership(S, C, out):
    """Owner of every point by the Tromp-Taylor area count into int8 ``out (B, P)``: ``+1`` black, ``-1`` white,
    ``0`` neither. A stone is owned by its colour (stones on the board all count as alive, as in
    :func:`area_scores`); an empty point by the one colour its empty region reaches, else by neither (dame, or a
    region touching both colours: seki liberties). ``out[g].sum()`` equals ``area_scores``' ``out[g]``."""
    P = C[C_P]
    seen = np.empty(P, dtype=np.bool_)
    stack = np.empty(P, dtype=np.int64)
    region = np.empty(P, dtype=np.int64)
    for g in range(S.shape[0]):
        s = S[g]
        seen[:] = False
        for p in range(P):
            v = s[HDR + p]
            if v != 0:
                out[g, p] = v
                continue
            if seen[p]:
                continue
            # Flood fill the empty region of p, keeping its points, noting which colours it reaches.
            seen[p] = True
            stack[0] = p
            top, n, reach_b, reach_w = 1, 0, False, False
            while top > 0:
                top -= 1
                q = stack[top]
                region[n] = q
                n += 1
                for j in range(C[C_NBR + 4 * P + q]):
                    r = C[C_NBR + 4 * q + j]
                    w = s[HDR + r]
                    if w == 1:
                        reach_b = True
                    elif w == -1:
                        reach_w = True
                    elif not seen[r]:
                        seen[r] = True
                        stack[top] = r
                        top += 1
            owner = 1 if reach_b and not reach_w else -1 if reach_w and not reach_b else 0
            for i in range(n):
                out[g, region[i]] = owner


@njit(cache=True)
def features_into(S, H, C, out):
    """AlphaGo Zero planes into zeroed float32 ``out (B, 2k+1, N, N)``: planes ``[0:k]`` the mover's stones
    at t, t-1, ..., planes ``[k:2k]`` the opponent's, plane ``2k`` all ones when black is to move."""
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
