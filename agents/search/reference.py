"""Unbatched reference searches, PUCT and Gumbel: one position, one evaluator call per leaf, Python nodes.

This is how alpha-zero-general and OpenSpiel's Python AlphaZero search. It exists to check the batched search
(with one game and one leaf per step both must return the same visit counts, bit for bit) and as the
unbatched baseline of ``benchmarks/zero_selfplay.py``. Formulas, tie-breaking and float types follow the
kernels of :mod:`agents.search.mcts` and :mod:`agents.search.gumbel` exactly (written again here in plain
Python); the sign convention is the same (edge statistics from the view of the player choosing the edge;
backup negates at every edge).
"""

from __future__ import annotations

import math

import numpy as np

from agents.search.config import SearchConfig
from agents.search.evaluator import Evaluator
from agents.search.game import State
from agents.search.gumbel import TINY, considered_visits


class Node:
    """A searched position: its edges' visits ``n``, value sums ``w`` and priors (-1 = illegal), its children."""

    __slots__ = ("n", "w", "prior", "children", "node_n", "value", "terminal")

    def __init__(self, prior: np.ndarray, value: np.float32, terminal: bool) -> None:
        self.prior, self.value, self.terminal = prior, value, terminal
        self.n = np.zeros(len(prior), np.int64)
        self.w = np.zeros(len(prior), np.float64)
        self.children: dict[int, Node] = {}
        self.node_n = 0


def _expand(state: State, evaluator: Evaluator, num_actions: int, sensible: bool) -> Node:
    if state.is_terminal:
        value = np.float32(state.winner() * state.to_play)
        return Node(np.full(num_actions, -1.0, np.float32), value, True)
    mask = state.sensible_mask() if sensible else state.legal_mask()
    priors, values = evaluator.evaluate(state.features()[None], mask[None])
    prior = np.where(mask, priors[0], -1.0).astype(np.float32)
    return Node(prior, np.float32(values[0]), False)


def _puct(node: Node, c_puct: float, fpu: float) -> int:
    sqrt_n = math.sqrt(max(node.node_n, 1))
    q_unvisited = float(node.value) - fpu
    best, best_a = -math.inf, -1
    for a in np.flatnonzero(node.prior >= 0):
        n = int(node.n[a])
        q = node.w[a] / n if n > 0 else q_unvisited
        score = q + c_puct * float(node.prior[a]) * sqrt_n / (1.0 + n)
        if score > best:
            best, best_a = score, int(a)
    return best_a


def reference_search(state: State, evaluator: Evaluator, cfg: SearchConfig, simulations: int,
                     num_actions: int) -> Node:
    """Search ``simulations`` times from ``state`` (left unchanged); returns the root (``root.n`` = visits)."""
    root = _expand(state, evaluator, num_actions, cfg.sensible_moves)
    for _ in range(simulations):
        node, position = root, state.copy()
        path: list[tuple[Node, int]] = []
        while not node.terminal:
            a = _puct(node, cfg.c_puct, cfg.fpu_root_reduction if node is root else cfg.fpu_reduction)
            node.n[a] += 1
            node.node_n += 1
            path.append((node, a))
            position.play(a)
            child = node.children.get(a)
            if child is None:
                child = node.children[a] = _expand(position, evaluator, num_actions, cfg.sensible_moves)
                node = child
                break
            node = child
        x = node.value
        for parent, a in reversed(path):
            x = -x
            parent.w[a] += x + 0.0
    return root


# -- Gumbel ----------------------------------------------------------------------------------------------------------


def gumbel_scores(node: Node, cfg: SearchConfig) -> tuple[dict[int, float], dict[int, float]]:
    """``(logits, sigma)`` of the searchable actions of ``node`` (see :mod:`agents.search.gumbel`)."""
    legal = [int(a) for a in np.flatnonzero(node.prior >= 0)]
    n_sum = sum(int(node.n[a]) for a in legal)
    n_max = max((int(node.n[a]) for a in legal), default=0)
    p_visited = pq = 0.0
    for a in legal:
        if node.n[a] > 0:
            pi = max(float(node.prior[a]), TINY)
            p_visited += pi
            pq += pi * node.w[a] / int(node.n[a])
    v_hat = float(node.value)
    v_mix = (v_hat + n_sum * (pq / p_visited)) / (1.0 + n_sum) if n_sum > 0 and p_visited > 0.0 else v_hat
    completed = {a: node.w[a] / int(node.n[a]) if node.n[a] > 0 else v_mix for a in legal}
    lo, hi = min(completed.values()), max(completed.values())
    scale, span = (cfg.c_visit + n_max) * cfg.c_scale, max(hi - lo, 1e-8)
    sigma = {a: scale * ((q - lo) / span) for a, q in completed.items()}
    return {a: math.log(max(float(node.prior[a]), TINY)) for a in legal}, sigma


def gumbel_policy(node: Node, cfg: SearchConfig) -> np.ndarray:
    """float64 ``(A,)``: softmax(logits + sigma) over the searchable actions of ``node``, 0 elsewhere."""
    logits, sigma = gumbel_scores(node, cfg)
    top = max(logits[a] + sigma[a] for a in logits)
    out, total = np.zeros(len(node.prior)), 0.0
    for a in logits:
        out[a] = math.exp(logits[a] + sigma[a] - top)
        total += out[a]
    return out / total


def _gumbel_interior(node: Node, cfg: SearchConfig) -> int:
    policy = gumbel_policy(node, cfg)
    legal = np.flatnonzero(node.prior >= 0)
    n_sum = sum(int(node.n[a]) for a in legal)
    scores = [(policy[a] - int(node.n[a]) / (1.0 + n_sum), -int(a)) for a in legal]
    return -max(scores)[1]


class GumbelResult:
    """What :func:`reference_gumbel_search` found: the ``root``, its ``considered`` actions, ``new`` visits
    (this search's), the ``action`` to play and the ``policy`` target."""

    def __init__(self, root: Node, considered: list[int], new: np.ndarray, action: int, policy: np.ndarray) -> None:
        self.root, self.considered, self.new, self.action, self.policy = root, considered, new, action, policy


def reference_gumbel_search(state: State, evaluator: Evaluator, cfg: SearchConfig, simulations: int,
                            num_actions: int, gumbel: np.ndarray | None = None, root: Node | None = None
                            ) -> GumbelResult:
    """Gumbel search of ``simulations`` new simulations from ``state`` (left unchanged) with the root draw
    ``gumbel`` (``(A,)``, default zeros), continuing the tree ``root`` when given (tree reuse: the node of
    ``state`` kept from an earlier search)."""
    root = _expand(state, evaluator, num_actions, cfg.sensible_moves) if root is None else root
    g = np.zeros(num_actions) if gumbel is None else np.asarray(gumbel, np.float64)
    legal = [int(a) for a in np.flatnonzero(root.prior >= 0)]
    prior_logits = {a: math.log(max(float(root.prior[a]), TINY)) for a in legal}
    m = min(cfg.max_considered, len(legal))
    considered = sorted(legal, key=lambda a: (-(g[a] + prior_logits[a]), a))[:m]
    schedule = considered_visits(m, simulations)
    new = np.zeros(num_actions, np.int64)
    for k in range(simulations):
        node, position = root, state.copy()
        path: list[tuple[Node, int]] = []
        while not node.terminal:
            if node is root:
                logits, sigma = gumbel_scores(root, cfg)
                eligible = [a for a in considered if new[a] == schedule[k]]
                if not eligible:
                    fewest = min(int(new[a]) for a in considered)
                    eligible = [a for a in considered if new[a] == fewest]
                a = max(eligible, key=lambda b: (g[b] + logits[b] + sigma[b], -b))
                new[a] += 1
            else:
                a = _gumbel_interior(node, cfg)
            node.n[a] += 1
            node.node_n += 1
            path.append((node, a))
            position.play(a)
            child = node.children.get(a)
            if child is None:
                child = node.children[a] = _expand(position, evaluator, num_actions, cfg.sensible_moves)
                node = child
                break
            node = child
        x = node.value
        for parent, a in reversed(path):
            x = -x
            parent.w[a] += x + 0.0
    logits, sigma = gumbel_scores(root, cfg)
    most = max(int(new[a]) for a in considered)
    action = max((a for a in considered if new[a] == most), key=lambda b: (g[b] + logits[b] + sigma[b], -b))
    return GumbelResult(root, considered, new, action, gumbel_policy(root, cfg))
