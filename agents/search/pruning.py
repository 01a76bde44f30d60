"""Policy target pruning (KataGo, Wu 2019, "Accelerating Self-Play Learning in Go", section 3.1).

Forced playouts (``SearchConfig.forced_playouts`` = ``k``; ``mcts.select_leaves``) give every visited root child
``c`` of a self-play search at least ``n_forced(c) = sqrt(k * P(c) * sum_c' N(c'))`` visits, so that noise-favoured
moves get looked at. Those visits would teach the net to play them, so the recorded policy target takes back the
ones PUCT would not have given: with ``c*`` the most visited child, every other child loses visits, one at a time
and at most ``n_forced(c)`` of them, as long as its PUCT score with the reduced count stays below ``c*``'s (its Q
is kept); a child that lost visits and has 1 or fewer left drops to 0. The move played still comes from the
unpruned visits.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from agents.search.nodes import _puct_score


@njit(cache=True)
def _prune(child_n, child_w, prior, node_n, k, c_puct, out):
    """Pruned visits of every row into ``out`` (see :func:`prune_visits`)."""
    for g in range(child_n.shape[0]):
        best = 0
        for a in range(child_n.shape[1]):
            out[g, a] = child_n[g, a]
            if child_n[g, a] > child_n[g, best]:
                best = a
        if child_n[g, best] <= 0 or k <= 0.0:
            continue
        total = node_n[g]
        sqrt_n = math.sqrt(max(total, 1))
        n_best = child_n[g, best]
        best_score = _puct_score(child_w[g, best] / n_best, prior[g, best], sqrt_n, n_best, c_puct)
        for a in range(child_n.shape[1]):
            n, p = child_n[g, a], prior[g, a]
            if a == best or n <= 0 or p <= 0.0:
                continue
            q = child_w[g, a] / n
            cap = min(int(math.floor(math.sqrt(k * p * total))), n)
            r = 0
            while r < cap and _puct_score(q, p, sqrt_n, n - r - 1, c_puct) < best_score:
                r += 1
            out[g, a] = 0.0 if r > 0 and n - r <= 1 else n - r


def prune_visits(child_n: np.ndarray, child_w: np.ndarray, prior: np.ndarray, node_n: np.ndarray, k: float,
                 c_puct: float) -> np.ndarray:
    """float64 ``(B, A)``: root visit counts after policy target pruning, from one root per row.

    ``child_n`` int ``(B, A)`` root visits, ``child_w`` ``(B, A)`` their value sums (root mover's view), ``prior``
    ``(B, A)`` the searched root prior (noise included; negative on actions the tree does not hold), ``node_n``
    ``(B,)`` the root's visits (``sum child_n``); ``k`` the forced playout coefficient and ``c_puct`` the search's.
    Scores are the search's PUCT (``Q + c_puct * P * sqrt(N_root) / (1 + N)``, ``Q = W / N``); only visited
    children are scored (the best one and those giving visits back), so first-play urgency never enters.

    The most visited child (lowest index on ties) keeps its count; every other child gives back visits while its
    PUCT score with one visit fewer is still below the best child's, at most ``floor(sqrt(k * P * N_root))`` of
    them; one left with 1 visit or fewer after giving any back drops to 0. Counts never grow; ``k = 0`` (or a row
    with no visits) returns the counts unchanged.
    """
    n = np.ascontiguousarray(child_n)
    out = np.zeros(n.shape, np.float64)
    _prune(n, np.ascontiguousarray(child_w, np.float64), np.ascontiguousarray(prior, np.float64),
           np.ascontiguousarray(node_n), float(k), float(c_puct), out)
    return out
