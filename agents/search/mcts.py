"""Batched search over B games at once: the tree lives in arrays, selection and backup are numba kernels.

Tree layout (one tree per game ``g``; node 0 is the root; ``C`` nodes of capacity, ``A`` actions)::

    child   int32   (B, C, A)  node index reached by action a from node i, -1 if not yet created
    child_n int32   (B, C, A)  visits of edge (i, a), pending (virtual) visits included
    child_w float64 (B, C, A)  sum of the values backed up through edge (i, a), from the view of the player to
                               move at node i (the one choosing a)
    prior   float32 (B, C, A)  P(i, a) from the evaluator (root: mixed with Dirichlet noise); -1 marks an illegal a
    node_n  int32   (B, C)     sum of child_n[i, :]
    value   float32 (B, C)     evaluator value of node i from the view of its player to move (terminal: exact)
    expanded, terminal  bool (B, C);  size int32 (B,): nodes in use

Sign convention: a leaf's value ``v`` is from its mover's view. Backup walks the path up and *negates at every
edge*: the edge into the leaf gets ``-v`` (good for the player who moved into it), the edge above it ``+v``, ...

One search step: ``select_leaves`` descends every active game from its root by PUCT (applying a visit and a
virtual loss on each edge it takes) and allocates the leaf node; the game batch replays each leaf's path from its
root position (``GameBatch.load_paths``) in one call; finished positions get their exact value; all others go
to the evaluator in ONE batched call; ``expand_nodes`` writes priors and values; ``backup`` adds the values up
the paths and removes the virtual losses. Python runs once per step, never per node.

Two selection rules share the tree, the steps and the backup (``SearchConfig.search``): PUCT (``select_leaves``,
visit counts give the move and the policy target; with ``forced_playouts``, KataGo's forced playouts at the roots
searched with noise and ``Search.pruned_policy``'s pruned target, ``agents/search/pruning.py``) and Gumbel
AlphaZero (``agents/search/gumbel.py``: sequential halving over Gumbel-sampled root actions, one leaf per game per
step; ``Search.gumbel_results`` gives the move and the policy target).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
from numba import njit

from agents.search import gumbel
from agents.search.config import SearchConfig
from agents.search.evaluator import Evaluator
from agents.search.game import GameBatch
from agents.search.nodes import COLLIDED, EVAL, IDLE, KNOWN, _alloc, _puct_score
from agents.search.pruning import prune_visits

# ---------------------------------------------------------------------------------------------------------------
# Kernels
# ---------------------------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _puct(child_n, child_w, prior, node_n, value, g, node, c_puct, fpu):
    """The legal action maximising Q + U at ``node`` (ties: lowest index). Unvisited Q = value - fpu."""
    sqrt_n = math.sqrt(max(node_n[g, node], 1))
    q_unvisited = value[g, node] - fpu
    best, best_a = -np.inf, -1
    for a in range(prior.shape[2]):
        p = prior[g, node, a]
        if p < 0.0:
            continue
        n = child_n[g, node, a]
        q = child_w[g, node, a] / n if n > 0 else q_unvisited
        score = _puct_score(q, p, sqrt_n, n, c_puct)
        if score > best:
            best, best_a = score, a
    return best_a


@njit(cache=True, inline="always")
def _forced_child(child_n, prior, node_n, g, k):
    """Forced playouts (KataGo): the lowest root action of game ``g`` already visited but below its forced count,
    ``0 < N(a) < sqrt(k * P(a) * N(root))``; -1 when there is none (PUCT decides)."""
    total = k * node_n[g, 0]
    for a in range(prior.shape[2]):
        p = prior[g, 0, a]
        n = child_n[g, 0, a]
        if p > 0.0 and n > 0 and n < math.sqrt(total * p):
            return a
    return -1


@njit(cache=True)
def select_leaves(child, child_n, child_w, prior, node_n, value, expanded, terminal, size, remaining, leaves,
                  c_puct, fpu, fpu_root, vloss, forced, k_forced, path_nodes, path_actions, depth, status):
    """Select up to ``min(leaves, remaining[g])`` leaves in each game; row ``r = g * leaves + l`` of the outputs.

    ``path_nodes[r, :depth[r] + 1]`` are the nodes from the root to the leaf and ``path_actions[r, :depth[r]]``
    the actions between them. Every edge taken gets one visit and ``-vloss`` at once (undone on collision).
    At the root of the games where ``forced[g]`` (bool ``(B,)``), a visited child below its forced count
    (``_forced_child``, coefficient ``k_forced``) is taken before PUCT is asked.
    """
    for g in range(child.shape[0]):
        for lf in range(leaves):
            r = g * leaves + lf
            status[r], depth[r] = IDLE, 0
            if lf >= remaining[g] or size[g] == 0 or not expanded[g, 0]:
                continue
            node, d = 0, 0
            path_nodes[r, 0] = 0
            while True:
                if terminal[g, node]:
                    status[r] = KNOWN
                    break
                a = _forced_child(child_n, prior, node_n, g, k_forced) if node == 0 and forced[g] else -1
                if a < 0:
                    a = _puct(child_n, child_w, prior, node_n, value, g, node, c_puct, fpu_root if node == 0 else fpu)
                child_n[g, node, a] += 1
                child_w[g, node, a] -= vloss
                node_n[g, node] += 1
                path_actions[r, d] = a
                d += 1
                nxt = child[g, node, a]
                if nxt < 0:
                    nxt = _alloc(child, child_n, child_w, prior, node_n, value, expanded, terminal, size, g)
                    child[g, node, a] = nxt
                    path_nodes[r, d] = nxt
                    status[r] = EVAL
                    break
                path_nodes[r, d] = nxt
                if not expanded[g, nxt]:
                    status[r] = COLLIDED
                    break
                node = nxt
            depth[r] = d
            if status[r] == COLLIDED:
                for i in range(d):
                    n, a = path_nodes[r, i], path_actions[r, i]
                    child_n[g, n, a] -= 1
                    child_w[g, n, a] += vloss
                    node_n[g, n] -= 1


@njit(cache=True)
def expand_nodes(prior, value, expanded, terminal, games, nodes, priors, values, finished):
    """Write ``priors[j]`` (-1 on illegal actions), ``values[j]`` and ``finished[j]`` into node ``nodes[j]`` of
    game ``games[j]``, and mark it expanded."""
    for j in range(games.shape[0]):
        g, i = games[j], nodes[j]
        prior[g, i, :] = priors[j]
        value[g, i] = values[j]
        terminal[g, i] = finished[j]
        expanded[g, i] = True


@njit(cache=True)
def backup(child_w, value, leaves, vloss, path_nodes, path_actions, depth, status):
    """Back up each selected leaf's value (status EVAL or KNOWN), negating at every edge; undo virtual losses."""
    for r in range(status.shape[0]):
        if status[r] != EVAL and status[r] != KNOWN:
            continue
        g = r // leaves
        x = value[g, path_nodes[r, depth[r]]]
        for i in range(depth[r] - 1, -1, -1):
            x = -x
            child_w[g, path_nodes[r, i], path_actions[r, i]] += x + vloss


@njit(cache=True)
def reroot(child, child_n, child_w, prior, node_n, value, expanded, terminal, size, actions, keep_limit):
    """Make ``child[g, 0, actions[g]]`` game ``g``'s root, keeping its subtree (renumbered breadth-first from 0).

    A game starts a fresh tree (``size = 0``) when ``actions[g] < 0``, the child was never expanded, or the
    subtree has more than ``keep_limit`` nodes.
    """
    C, A = child.shape[1], child.shape[2]
    order = np.empty(C, np.int32)
    remap = np.empty(C, np.int32)
    for g in range(child.shape[0]):
        a = actions[g]
        new_root = child[g, 0, a] if a >= 0 and size[g] > 0 else -1
        if new_root < 0 or not expanded[g, new_root]:
            size[g] = 0
            continue
        remap[: size[g]] = -1
        order[0], remap[new_root] = new_root, 0
        k, head = 1, 0
        while head < k:
            o = order[head]
            head += 1
            for b in range(A):
                c = child[g, o, b]
                if c >= 0:
                    remap[c], order[k] = k, c
                    k += 1
        if k > keep_limit:
            size[g] = 0
            continue
        t_child, t_n, t_w = np.empty((k, A), np.int32), np.empty((k, A), np.int32), np.empty((k, A), np.float64)
        t_p = np.empty((k, A), np.float32)
        t_nn, t_v = np.empty(k, np.int32), np.empty(k, np.float32)
        t_e, t_t = np.empty(k, np.bool_), np.empty(k, np.bool_)
        for i in range(k):
            o = order[i]
            for b in range(A):
                c = child[g, o, b]
                t_child[i, b] = remap[c] if c >= 0 else -1
            t_n[i], t_w[i], t_p[i] = child_n[g, o], child_w[g, o], prior[g, o]
            t_nn[i], t_v[i], t_e[i], t_t[i] = node_n[g, o], value[g, o], expanded[g, o], terminal[g, o]
        child[g, :k], child_n[g, :k], child_w[g, :k], prior[g, :k] = t_child, t_n, t_w, t_p
        node_n[g, :k], value[g, :k], expanded[g, :k], terminal[g, :k] = t_nn, t_v, t_e, t_t
        size[g] = k


# ---------------------------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------------------------


class Search:
    """PUCT or Gumbel search for ``num_games`` root positions, sharing one evaluator call per step.

    ``cfg`` gives the search's settings (c_puct, FPU, virtual loss, noise, sensible moves); ``leaves_per_game``
    is how many leaves each game selects per step (``cfg.leaves_per_game`` in self-play, ``cfg.leaves_in_play``
    in play); ``max_simulations`` (default ``cfg.simulations``) is the most simulations one move will run, which
    sizes the tree.

    ``run(roots, simulations, noise)`` searches; ``visit_counts()`` / ``root_q()`` read the result, and with
    ``cfg.search == "gumbel"`` ``gumbel_results()`` the moves and policy targets; ``advance(actions)`` moves
    every root to the child played (tree reuse) or clears it; ``clear(games)`` forgets games' trees (new games).
    Statistics: ``evaluations`` (positions sent to the evaluator), ``eval_calls`` and ``steps``. Gumbel search
    takes one leaf per game (``ValueError`` otherwise).
    """

    def __init__(self, cfg: SearchConfig, num_games: int, num_actions: int, evaluator: Evaluator,
                 rng: np.random.Generator, leaves_per_game: int = 1, max_simulations: int | None = None) -> None:
        self.cfg, self.evaluator, self.rng = cfg, evaluator, rng
        self.B, self.A, self.L = num_games, num_actions, leaves_per_game
        self.gumbel = cfg.search == "gumbel"
        if self.gumbel and leaves_per_game != 1:
            raise ValueError(f"Gumbel search selects one leaf per game per step, not {leaves_per_game}")
        sims = max_simulations or cfg.simulations
        self.keep_limit = sims + self.L + 1
        C = 2 * self.keep_limit + 1
        B, A = self.B, self.A
        self.child = np.full((B, C, A), -1, np.int32)
        self.child_n = np.zeros((B, C, A), np.int32)
        self.child_w = np.zeros((B, C, A), np.float64)
        self.prior = np.full((B, C, A), -1.0, np.float32)
        self.node_n = np.zeros((B, C), np.int32)
        self.value = np.zeros((B, C), np.float32)
        self.expanded = np.zeros((B, C), np.bool_)
        self.terminal = np.zeros((B, C), np.bool_)
        self.size = np.zeros(B, np.int32)
        R = B * self.L
        self.path_nodes = np.zeros((R, C), np.int32)
        self.path_actions = np.zeros((R, C), np.int32)
        self.depth = np.zeros(R, np.int32)
        self.status = np.zeros(R, np.int8)
        self.leaf_batch: GameBatch | None = None
        self.evaluations = self.eval_calls = self.steps = 0
        if self.gumbel:
            self.root_gumbel = np.zeros((B, A), np.float64)
            """This move's Gumbel draw per root action (0 without noise)."""
            self.considered = np.zeros((B, A), np.bool_)
            """This move's considered root actions (the top ``m`` by Gumbel + logits)."""
            self.root_new = np.zeros((B, A), np.int32)
            """This move's new visits per root action (what sequential halving counts; a kept subtree's are not)."""
            self.visit_targets = np.zeros((B, 1), np.int32)
        self.leaf_values: Callable[[GameBatch, np.ndarray, np.ndarray], np.ndarray] | None = None
        """Optional hook ``(batch, rows, values) -> values``: replaces the evaluator's values of the positions
        ``batch[rows]`` (new leaves and fresh roots, mover's view) before they enter the tree; AlphaGo mixes
        rollout outcomes in here. ``None``: the evaluator's values are used as they are."""

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        """The tree arrays in kernel order: child, child_n, child_w, prior, node_n, value, expanded, terminal, size."""
        return (self.child, self.child_n, self.child_w, self.prior, self.node_n, self.value, self.expanded,
                self.terminal, self.size)

    # -- running -----------------------------------------------------------------------------------------------------

    def run(self, roots: GameBatch, simulations: np.ndarray | int, noise: np.ndarray | bool = False) -> None:
        """Run ``simulations[g]`` new simulations from each root (0: leave that game alone); exploration noise at
        the roots where ``noise[g]``: Dirichlet noise in the prior (PUCT), a Gumbel draw (Gumbel). Finished roots
        are skipped. With Gumbel, each call is one move's search: its halving schedule spans ``simulations[g]``.
        PUCT with ``cfg.forced_playouts > 0`` also forces root playouts in the games with noise (self-play's full
        searches); :meth:`pruned_policy` then gives their policy targets.
        """
        sims = np.broadcast_to(np.asarray(simulations, np.int64), (self.B,)).copy()
        sims[roots.done] = 0
        self._expand_roots(roots, sims > 0)
        noisy = np.broadcast_to(np.asarray(noise, np.bool_), (self.B,)) & (sims > 0)
        if self.gumbel:
            self._start_gumbel(sims, noisy)
        elif self.cfg.dirichlet_eps > 0 and noisy.any():
            self._add_noise(np.flatnonzero(noisy), roots)
        done = np.zeros(self.B, np.int64)
        cfg = self.cfg
        vloss = cfg.virtual_loss if self.L > 1 else 0.0
        forced = noisy.copy() if cfg.forced_playouts > 0 else np.zeros(self.B, np.bool_)
        while (remaining := sims - done).max() > 0:
            if self.gumbel:
                gumbel.select_leaves_gumbel(
                    *self.arrays, remaining, self.root_gumbel, self.considered, self.root_new, self.visit_targets,
                    cfg.c_visit, cfg.c_scale, self.path_nodes, self.path_actions, self.depth, self.status)
            else:
                select_leaves(*self.arrays, remaining, self.L, cfg.c_puct, cfg.fpu_reduction,
                              cfg.fpu_root_reduction, vloss, forced, cfg.forced_playouts, self.path_nodes,
                              self.path_actions, self.depth, self.status)
            self._evaluate_leaves(roots)
            backup(self.child_w, self.value, self.L, vloss, self.path_nodes, self.path_actions, self.depth,
                   self.status)
            counted = (self.status == EVAL) | (self.status == KNOWN)
            done += counted.reshape(self.B, self.L).sum(axis=1)
            stuck = (remaining > 0) & ~(self.status != IDLE).reshape(self.B, self.L).any(axis=1)
            done[stuck] = sims[stuck]  # cannot happen with a legal tree; guards against an endless loop
            self.steps += 1

    def _expand_roots(self, roots: GameBatch, wanted: np.ndarray) -> None:
        games = np.flatnonzero(wanted & ((self.size == 0) | ~self.expanded[:, 0]))
        if games.size == 0:
            return
        self.size[games] = 1
        self.child[games, 0] = -1
        self.child_n[games, 0] = 0
        self.child_w[games, 0] = 0.0
        self.node_n[games, 0] = 0
        planes, masks = roots.features()[games], self._masks(roots)[games]
        priors, values = self._call_evaluator(planes, masks)
        if self.leaf_values is not None:
            values = np.asarray(self.leaf_values(roots, games, values), np.float32)
        expand_nodes(self.prior, self.value, self.expanded, self.terminal, games.astype(np.int64),
                     np.zeros(games.size, np.int64), priors, values, np.zeros(games.size, np.bool_))

    def _evaluate_leaves(self, roots: GameBatch) -> None:
        rows = np.flatnonzero(self.status == EVAL)
        if rows.size == 0:
            return
        if self.leaf_batch is None or self.leaf_batch.num_games < self.B * self.L:
            self.leaf_batch = roots.like(self.B * self.L)
        games = rows // self.L
        leaves = self.leaf_batch
        leaves.load_paths(roots, games, self.path_actions[rows], self.depth[rows])
        n = rows.size
        finished = leaves.done[:n].copy()
        values = np.zeros(n, np.float32)
        priors = np.full((n, self.A), -1.0, np.float32)
        if finished.any():
            values[finished] = (leaves.winners()[:n] * leaves.to_play[:n])[finished]
        live = np.flatnonzero(~finished)
        if live.size:
            planes, masks = leaves.features()[:n][live], self._masks(leaves)[:n][live]
            priors[live], values[live] = self._call_evaluator(planes, masks)
            if self.leaf_values is not None:
                values[live] = self.leaf_values(leaves, live, values[live])
        nodes = self.path_nodes[rows, self.depth[rows]]
        expand_nodes(self.prior, self.value, self.expanded, self.terminal, games.astype(np.int64),
                     nodes.astype(np.int64), priors, values, finished)

    def _masks(self, batch: GameBatch) -> np.ndarray:
        """The actions the tree may hold per row: sensible ones (``cfg.sensible_moves``) or every legal one."""
        return batch.sensible_masks() if self.cfg.sensible_moves else batch.legal_masks()

    def _call_evaluator(self, planes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Priors with -1 on illegal actions (the tree's marker) and values, from one evaluator call."""
        priors, values = self.evaluator.evaluate(planes, masks)
        self.evaluations += len(planes)
        self.eval_calls += 1
        return np.where(masks, priors, -1.0).astype(np.float32), np.asarray(values, np.float32)

    def _start_gumbel(self, sims: np.ndarray, noisy: np.ndarray) -> None:
        """A move's Gumbel search begins in the games with ``sims > 0``: their draw (where ``noisy``), considered
        actions, halving schedule over ``sims[g]``, and no new root visits yet."""
        games = np.flatnonzero(sims > 0)
        if games.size == 0:
            return
        scale = self.cfg.gumbel_scale
        draw, considered, m = gumbel.draw_root(self.prior[games, 0], noisy[games], scale, self.cfg.max_considered,
                                               self.rng)
        self.root_gumbel[games], self.considered[games] = draw, considered
        self.root_new[games] = 0
        targets = gumbel.visit_targets(m, sims[games])
        if self.visit_targets.shape[1] < targets.shape[1]:
            self.visit_targets = np.zeros((self.B, targets.shape[1]), np.int32)
        self.visit_targets[games] = 0
        self.visit_targets[games, : targets.shape[1]] = targets

    def _add_noise(self, games: np.ndarray, roots: GameBatch) -> None:
        """Mix Dir(alpha) noise over the legal moves into the root priors of ``games`` (root only, once per move)."""
        p = self.prior[games, 0].astype(np.float64)
        legal = p >= 0
        board_points = self.A - 1
        alpha = self.cfg.dirichlet_alpha * 361.0 / board_points
        gam = np.where(legal, self.rng.gamma(alpha, 1.0, size=p.shape), 0.0)
        noise = gam / np.maximum(gam.sum(axis=1, keepdims=True), 1e-30)
        eps = self.cfg.dirichlet_eps
        self.prior[games, 0] = np.where(legal, (1 - eps) * p + eps * noise, -1.0).astype(np.float32)

    # -- results and tree maintenance ----------------------------------------------------------------------------

    def visit_counts(self) -> np.ndarray:
        """int32 ``(B, A)``: root visit counts per action (0 on illegal actions and empty trees)."""
        counts = self.child_n[:, 0].copy()
        counts[self.size == 0] = 0
        return counts

    def root_q(self, actions: np.ndarray) -> np.ndarray:
        """float64 ``(B,)``: mean value of root edge ``actions[g]`` from the root mover's view (0 if unvisited)."""
        g = np.arange(self.B)
        n = self.child_n[g, 0, actions]
        return np.where(n > 0, self.child_w[g, 0, actions] / np.maximum(n, 1), 0.0)

    def pruned_policy(self) -> np.ndarray:
        """PUCT: float32 ``(B, A)``: the root visit distribution after policy target pruning (KataGo; see
        :func:`agents.search.pruning.prune_visits`, coefficient ``cfg.forced_playouts``), rows summing to 1; zeros
        for empty trees. With ``forced_playouts`` 0 it is the plain visit distribution."""
        cfg = self.cfg
        pruned = prune_visits(self.child_n[:, 0], self.child_w[:, 0], self.prior[:, 0], self.node_n[:, 0],
                              cfg.forced_playouts, cfg.c_puct)
        pruned[self.size == 0] = 0.0
        return (pruned / np.maximum(pruned.sum(axis=1, keepdims=True), 1.0)).astype(np.float32)

    def gumbel_results(self) -> tuple[np.ndarray, np.ndarray]:
        """Gumbel search only: ``(policy, actions)`` of the last :meth:`run` at every root. ``policy`` float32
        ``(B, A)``: softmax(logits + sigma(completed Q)) over the searchable actions, 0 elsewhere (the policy
        target); ``actions`` int64 ``(B,)``: the considered action with the most new visits, ties to the highest
        Gumbel + logits + sigma (the move to play). Empty trees and finished roots: zeros and -1."""
        if not self.gumbel:
            raise ValueError("gumbel_results needs a search built with SearchConfig.search='gumbel'")
        policy = np.zeros((self.B, self.A), np.float64)
        actions = np.full(self.B, -1, np.int64)
        gumbel.root_results(self.child_n, self.child_w, self.prior, self.value, self.expanded, self.terminal,
                            self.size, self.root_gumbel, self.considered, self.root_new, self.cfg.c_visit,
                            self.cfg.c_scale, policy, actions)
        return policy.astype(np.float32), actions

    def root_priors(self) -> np.ndarray:
        """float32 ``(B, A)``: root priors as searched (noise included), 0 on illegal actions."""
        return np.maximum(self.prior[:, 0], 0.0)

    def advance(self, actions: np.ndarray, reuse: bool = True) -> None:
        """After ``actions[g]`` was played in every game: keep the played child's subtree (``reuse``) or clear."""
        acts = np.asarray(actions, np.int64)
        if not reuse:
            acts = np.full(self.B, -1, np.int64)
        reroot(*self.arrays, acts, self.keep_limit)

    def clear(self, games: np.ndarray | list[int]) -> None:
        """Forget the trees of ``games`` (their next search starts from a fresh root)."""
        self.size[np.asarray(games, np.int64)] = 0

    # -- checkpoints -----------------------------------------------------------------------------------------------

    _NODE_ARRAYS = ("child", "child_n", "child_w", "prior", "node_n", "value", "expanded", "terminal")

    def state_dict(self) -> dict[str, np.ndarray]:
        """The trees kept between moves (tree reuse): ``size`` and every node array's nodes in use, game after game
        (``(sum(size), ...)``). Nodes past ``size[g]`` are never read before they are allocated again, so they are
        left out; the statistics counters and the scratch arrays of a search step are not kept."""
        used = self._used()
        return {"size": self.size.copy(), **{k: getattr(self, k)[used] for k in self._NODE_ARRAYS}}

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Restore :meth:`state_dict` of a search over as many games and actions; the next :meth:`run` continues
        those trees. ``ValueError`` when the trees do not fit this search."""
        size = np.asarray(state["size"])
        if size.shape != self.size.shape or (size.size and (size.min() < 0 or size.max() > self.child.shape[1])):
            raise ValueError(f"search trees of {size.shape[0] if size.ndim else '?'} games with up to "
                             f"{size.max() if size.size else 0} nodes do not fit {self.B} games of "
                             f"{self.child.shape[1]} nodes")
        used = np.arange(self.child.shape[1])[None, :] < size[:, None]
        for key in self._NODE_ARRAYS:
            saved, mine = np.asarray(state[key]), getattr(self, key)
            if saved.shape != (int(used.sum()), *mine.shape[2:]):
                raise ValueError(f"search tree array {key} is {saved.shape}; these trees need "
                                 f"{(int(used.sum()), *mine.shape[2:])}")
        for key, empty in zip(self._NODE_ARRAYS, (-1, 0, 0.0, -1.0, 0, 0.0, False, False), strict=True):
            mine = getattr(self, key)
            mine.fill(empty)  # as built: what is left of a tree past its size is never read
            mine[used] = state[key]
        self.size[:] = size

    def _used(self) -> np.ndarray:
        """bool ``(B, C)``: the nodes in use."""
        return np.arange(self.child.shape[1])[None, :] < self.size[:, None]


# ---------------------------------------------------------------------------------------------------------------
# Moves from the search
# ---------------------------------------------------------------------------------------------------------------


def choose_moves(counts: np.ndarray, sample: np.ndarray, rng: np.random.Generator,
                 temperature: float = 1.0) -> np.ndarray:
    """int64 ``(B,)``: per row of visit ``counts (B, A)``, a move sampled in proportion to ``counts ** (1/T)``
    where ``sample[b]``, else the most visited (lowest index on ties)."""
    best = counts.argmax(axis=1)
    if not sample.any():
        return best
    weights = counts.astype(np.float64) ** (1.0 / temperature)
    cdf = np.cumsum(weights, axis=1)
    u = rng.random(len(counts)) * cdf[:, -1]
    drawn = np.minimum((cdf <= u[:, None]).sum(axis=1), counts.shape[1] - 1)
    return np.where(sample, drawn, best)


def play_moves(search: Search, roots: GameBatch, simulations: np.ndarray | int, temp_moves: int,
               rng: np.random.Generator) -> list[int]:
    """Search ``roots`` for play and return the moves: PUCT without noise, then :func:`played_moves`; Gumbel with
    a Gumbel draw in the games whose move number is below ``temp_moves`` (varied openings) and none elsewhere,
    then the searched action (:meth:`Search.gumbel_results`)."""
    if search.gumbel:
        search.run(roots, simulations, noise=roots.move_count < temp_moves)
        return [int(a) for a in search.gumbel_results()[1]]
    search.run(roots, simulations, noise=False)
    return played_moves(search.visit_counts(), roots.move_count, temp_moves, rng)


def played_moves(counts: np.ndarray, move_numbers: np.ndarray, temp_moves: int, rng: np.random.Generator
                 ) -> list[int]:
    """The moves to play from root visit ``counts (B, A)``: the most visited (ties to the lowest action), except in
    games whose ``move_numbers (B,)`` is below ``temp_moves``, where the move is drawn in proportion to the visits."""
    out = []
    for row, number in zip(np.asarray(counts), np.asarray(move_numbers), strict=True):
        total = float(row.sum())
        if number < temp_moves and total > 0:
            out.append(int(rng.choice(len(row), p=row / total)))
        else:
            out.append(int(row.argmax()))
    return out
