"""Unbatched reference PUCT search: one position, one evaluator call per leaf, nodes as Python objects.

This is how alpha-zero-general and OpenSpiel's Python AlphaZero search. It exists to check the batched search
(with one game and one leaf per step both must return the same visit counts, bit for bit) and as the
unbatched baseline of ``benchmarks/zero_selfplay.py``. Formulas, tie-breaking and float types follow the
kernels of :mod:`agents.search.mcts` exactly; the sign convention is the same (edge statistics from the view of
the player choosing the edge; backup negates at every edge).
"""

from __future__ import annotations

import math

import numpy as np

from agents.search.config import SearchConfig
from agents.search.evaluator import Evaluator
from agents.search.game import State


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
