"""What the search kernels share (``mcts.select_leaves``, ``gumbel.select_leaves_gumbel``,
``pruning.prune_visits``): leaf status codes, the allocation of a tree node (layout in :mod:`agents.search.mcts`)
and the PUCT score of an edge."""

from __future__ import annotations

from numba import njit

IDLE, EVAL, KNOWN, COLLIDED = 0, 1, 2, 3
"""Leaf status codes: no leaf; new leaf needs the evaluator; leaf value known (finished position); collision
with another pending leaf (its virtual loss was undone; nothing to back up)."""


@njit(cache=True, inline="always")
def _alloc(child, child_n, child_w, prior, node_n, value, expanded, terminal, size, g):
    """Take the next free node of game ``g`` (index ``size[g]``), cleared: no children, no visits, prior -1."""
    i = size[g]
    size[g] += 1
    child[g, i, :] = -1
    child_n[g, i, :] = 0
    child_w[g, i, :] = 0.0
    prior[g, i, :] = -1.0
    node_n[g, i] = 0
    value[g, i] = 0.0
    expanded[g, i] = False
    terminal[g, i] = False
    return i


@njit(cache=True, inline="always")
def _puct_score(q, p, sqrt_n, n, c_puct):
    """PUCT score of an edge: ``q + c_puct * p * sqrt_n / (1 + n)`` (Q, prior, sqrt of the parent's visits, the
    edge's visits)."""
    return q + c_puct * p * sqrt_n / (1.0 + n)
