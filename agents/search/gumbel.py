"""Gumbel AlphaZero on the array tree of :mod:`agents.search.mcts`: root and interior selection, move and target.

Danihelka, Guez, Schrittwieser, Silver, "Policy improvement by planning with Gumbel" (ICLR 2022), as DeepMind's
mctx implements it in ``gumbel_muzero_policy``. Used by :class:`~agents.search.mcts.Search` when
``SearchConfig.search == "gumbel"``; the tree layout and sign convention are those of ``mcts.py``.

At a node ``i`` with searchable actions ``a`` (``prior >= 0``; the tree stores the prior softmax as
probabilities ``P``), all from the view of the player to move at ``i``::

    logits(a)      = log(max(P(a), tiny))                (a softmax over searchable actions gives back P)
    Q(a)           = child_w / child_n                   (visited a)
    v_mix          = (v_hat + N / sum_vis pi(b) * sum_vis pi(b) Q(b)) / (1 + N),  N = sum_b N(b), v_hat = value[i]
    completed_Q(a) = Q(a) if N(a) > 0 else v_mix
    sigma(a)       = (c_visit + max_b N(b)) * c_scale * (completed_Q(a) - min) / max(max - min, 1e-8)
    pi'(a)         = softmax(logits + sigma)             (min, max and softmax over searchable actions)

Root (sequential halving with Gumbel): at the start of a move each game draws ``g(a) ~ gumbel_scale *
Gumbel(0, 1)`` (``g = 0`` without noise) and considers the top ``m = min(max_considered, searchable)`` actions by
``g + logits``. Simulation ``k`` of the move (``k`` = this move's new root visits so far, so a kept subtree
does not shift the schedule) takes, among considered actions whose new visits equal
``considered_visits(m, budget)[k]``, the one maximising ``g + logits + sigma``. The move played is the
considered action with the most new visits (ties: highest ``g + logits + sigma``); the policy target is
``pi'`` at the root.

Below the root (deterministic): ``argmax_a pi'(a) - N(a) / (1 + sum_b N(b))`` (ties: lowest action).

One difference from mctx: the rescaling's min and max run over the searchable actions only; mctx also counts its
invalid root actions (completed with ``v_mix``), which changes nothing while a searchable action is unvisited.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numba import njit

from agents.search.nodes import COLLIDED, EVAL, IDLE, KNOWN, _alloc

TINY = float(np.finfo(np.float32).tiny)
"""Floor of the priors before their log and in the mixed value (as mctx floors its prior probabilities)."""


# ---------------------------------------------------------------------------------------------------------------
# Sequential halving: the table of considered visits
# ---------------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def considered_visits(m: int, simulations: int) -> tuple[int, ...]:
    """The visit count sequential halving considers at each of ``simulations`` simulations over ``m`` actions
    (mctx's ``get_sequence_of_considered_visits``): simulation ``k`` visits a considered action that has exactly
    ``considered_visits(m, n)[k]`` visits. Each round gives every remaining action
    ``max(1, n // (ceil(log2 m) * remaining))`` visits, then keeps the better half (at least 2)."""
    if m <= 1:
        return tuple(range(simulations))
    log2max = int(math.ceil(math.log2(m)))
    sequence: list[int] = []
    visits = [0] * m
    remaining = m
    while len(sequence) < simulations:
        extra = max(1, int(simulations / (log2max * remaining)))
        for _ in range(extra):
            sequence.extend(visits[:remaining])
            for i in range(remaining):
                visits[i] += 1
        remaining = max(2, remaining // 2)
    return tuple(sequence[:simulations])


def visit_targets(num_considered: np.ndarray, simulations: np.ndarray) -> np.ndarray:
    """int32 ``(B, max(simulations))``: row ``g`` is ``considered_visits(num_considered[g], simulations[g])``
    (zeros past it)."""
    width = max(int(np.max(simulations, initial=0)), 1)
    out = np.zeros((len(simulations), width), np.int32)
    for g, (m, n) in enumerate(zip(num_considered, simulations, strict=True)):
        if n > 0:
            out[g, :n] = considered_visits(int(m), int(n))
    return out


def draw_root(prior: np.ndarray, noisy: np.ndarray, scale: float, max_considered: int,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Gumbel draw and the considered actions of ``k`` roots with priors ``prior (k, A)`` (-1: not searchable).

    Rows where ``noisy`` get ``g = scale * Gumbel(0, 1)`` (``A`` draws per row from ``rng``, nothing drawn when
    ``scale`` is 0), the others ``g = 0``. Returns ``gumbel`` float64 ``(k, A)``, ``considered`` bool ``(k, A)``
    (the top ``m`` searchable actions by ``g + logits``, ties to the lowest action) and ``m`` int64 ``(k,)``."""
    k, A = prior.shape
    legal = prior >= 0
    gumbel = np.zeros((k, A), np.float64)
    rows = np.flatnonzero(noisy)
    if scale > 0 and rows.size:
        gumbel[rows] = scale * rng.gumbel(size=(rows.size, A))
    score = np.where(legal, gumbel + np.log(np.maximum(prior.astype(np.float64), TINY)), -np.inf)
    m = np.minimum(max_considered, legal.sum(axis=1)).astype(np.int64)
    order = np.argsort(-score, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(A)[None, :].repeat(k, axis=0), axis=1)
    return gumbel, legal & (rank < m[:, None]), m


# ---------------------------------------------------------------------------------------------------------------
# Kernels
# ---------------------------------------------------------------------------------------------------------------


@njit(cache=True)
def node_scores(child_n, child_w, prior, value, g, node, c_visit, c_scale, logits, sigma):
    """Fill ``logits[a]`` and ``sigma[a]`` (see the module docstring) for the searchable actions of ``node`` of
    game ``g``; ``-inf`` and 0 elsewhere."""
    A = prior.shape[2]
    n_sum, n_max = 0, 0
    p_visited, pq = 0.0, 0.0
    for a in range(A):
        p = prior[g, node, a]
        if p < 0.0:
            continue
        n = child_n[g, node, a]
        n_sum += n
        n_max = max(n_max, n)
        if n > 0:
            pi = max(float(p), TINY)
            p_visited += pi
            pq += pi * child_w[g, node, a] / n
    v_hat = float(value[g, node])
    v_mix = (v_hat + n_sum * (pq / p_visited)) / (1.0 + n_sum) if n_sum > 0 and p_visited > 0.0 else v_hat
    lo, hi = np.inf, -np.inf
    for a in range(A):
        p = prior[g, node, a]
        if p < 0.0:
            logits[a], sigma[a] = -np.inf, 0.0
            continue
        n = child_n[g, node, a]
        q = child_w[g, node, a] / n if n > 0 else v_mix
        logits[a], sigma[a] = math.log(max(float(p), TINY)), q
        lo, hi = min(lo, q), max(hi, q)
    scale = (c_visit + n_max) * c_scale
    span = max(hi - lo, 1e-8)
    for a in range(A):
        if prior[g, node, a] >= 0.0:
            sigma[a] = scale * ((sigma[a] - lo) / span)


@njit(cache=True)
def _improved_policy(prior, g, node, logits, sigma, out):
    """``out[a] = softmax(logits + sigma)`` over the searchable actions of ``node``, 0 elsewhere."""
    A = prior.shape[2]
    top = -np.inf
    for a in range(A):
        if prior[g, node, a] >= 0.0:
            top = max(top, logits[a] + sigma[a])
    total = 0.0
    for a in range(A):
        out[a] = math.exp(logits[a] + sigma[a] - top) if prior[g, node, a] >= 0.0 else 0.0
        total += out[a]
    for a in range(A):
        out[a] /= total


@njit(cache=True)
def _interior_action(child_n, child_w, prior, value, g, node, c_visit, c_scale, logits, sigma, policy):
    """argmax of ``pi'(a) - N(a) / (1 + sum_b N(b))`` over the searchable actions (ties: lowest index)."""
    node_scores(child_n, child_w, prior, value, g, node, c_visit, c_scale, logits, sigma)
    _improved_policy(prior, g, node, logits, sigma, policy)
    n_sum = 0
    for a in range(prior.shape[2]):
        if prior[g, node, a] >= 0.0:
            n_sum += child_n[g, node, a]
    best, best_a = -np.inf, -1
    for a in range(prior.shape[2]):
        if prior[g, node, a] < 0.0:
            continue
        score = policy[a] - child_n[g, node, a] / (1.0 + n_sum)
        if score > best:
            best, best_a = score, a
    return best_a


@njit(cache=True)
def _root_action(gumbel, considered, root_new, g, target, logits, sigma):
    """Among considered actions with ``target`` new visits, the highest ``g + logits + sigma``; if none has
    (never with the halving table), the considered action with the fewest new visits."""
    best, best_a = -np.inf, -1
    fewest = 1 << 30
    for a in range(considered.shape[1]):
        if not considered[g, a]:
            continue
        n = root_new[g, a]
        score = gumbel[g, a] + logits[a] + sigma[a]
        if n == target and (best_a < 0 or score > best):
            best, best_a = score, a
        elif best_a < 0 and n < fewest:
            fewest = n
    if best_a >= 0:
        return best_a
    for a in range(considered.shape[1]):
        if considered[g, a] and root_new[g, a] == fewest:
            score = gumbel[g, a] + logits[a] + sigma[a]
            if best_a < 0 or score > best:
                best, best_a = score, a
    return best_a


@njit(cache=True)
def select_leaves_gumbel(child, child_n, child_w, prior, node_n, value, expanded, terminal, size, remaining,
                         gumbel, considered, root_new, targets, c_visit, c_scale, path_nodes, path_actions, depth,
                         status):
    """One leaf per game with ``remaining[g] > 0`` (row ``g`` of the outputs, as ``mcts.select_leaves`` with one
    leaf per game): the root action by sequential halving (``targets[g, k]`` at this move's ``k``-th
    simulation, counted in ``root_new``), then the deterministic selection down to a new or finished node.
    Each edge taken gets its visit at once; no virtual loss (one leaf per game per step)."""
    A = prior.shape[2]
    logits, sigma, policy = np.empty(A), np.empty(A), np.empty(A)
    for g in range(child.shape[0]):
        status[g], depth[g] = IDLE, 0
        if remaining[g] <= 0 or size[g] == 0 or not expanded[g, 0]:
            continue
        node, d = 0, 0
        path_nodes[g, 0] = 0
        while True:
            if terminal[g, node]:
                status[g] = KNOWN
                break
            if node == 0:
                k = 0
                for b in range(A):
                    k += root_new[g, b]
                node_scores(child_n, child_w, prior, value, g, 0, c_visit, c_scale, logits, sigma)
                a = _root_action(gumbel, considered, root_new, g, targets[g, k], logits, sigma)
                root_new[g, a] += 1
            else:
                a = _interior_action(child_n, child_w, prior, value, g, node, c_visit, c_scale, logits, sigma,
                                     policy)
            child_n[g, node, a] += 1
            node_n[g, node] += 1
            path_actions[g, d] = a
            d += 1
            nxt = child[g, node, a]
            if nxt < 0:
                nxt = _alloc(child, child_n, child_w, prior, node_n, value, expanded, terminal, size, g)
                child[g, node, a] = nxt
                path_nodes[g, d] = nxt
                status[g] = EVAL
                break
            path_nodes[g, d] = nxt
            if not expanded[g, nxt]:  # cannot happen with one leaf per step; undone like a collision
                status[g] = COLLIDED
                break
            node = nxt
        depth[g] = d
        if status[g] == COLLIDED:
            for i in range(d):
                n, a = path_nodes[g, i], path_actions[g, i]
                child_n[g, n, a] -= 1
                node_n[g, n] -= 1
            root_new[g, path_actions[g, 0]] -= 1


@njit(cache=True)
def root_results(child_n, child_w, prior, value, expanded, terminal, size, gumbel, considered, root_new, c_visit,
                 c_scale, policy, actions):
    """Per game: ``policy[g]`` = ``pi'`` at the root (the policy target) and ``actions[g]`` = the considered
    action with the most new visits, ties to the highest ``g + logits + sigma``; zeros and -1 for an empty tree
    or a finished root."""
    A = prior.shape[2]
    logits, sigma = np.empty(A), np.empty(A)
    for g in range(prior.shape[0]):
        policy[g, :] = 0.0
        actions[g] = -1
        if size[g] == 0 or not expanded[g, 0] or terminal[g, 0]:
            continue
        node_scores(child_n, child_w, prior, value, g, 0, c_visit, c_scale, logits, sigma)
        _improved_policy(prior, g, 0, logits, sigma, policy[g])
        most = -1
        for a in range(A):
            if considered[g, a]:
                most = max(most, root_new[g, a])
        best = -np.inf
        for a in range(A):
            if considered[g, a] and root_new[g, a] == most:
                score = gumbel[g, a] + logits[a] + sigma[a]
                if actions[g] < 0 or score > best:
                    best, actions[g] = score, a
