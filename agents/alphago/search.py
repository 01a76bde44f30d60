"""AlphaGo's search: the batched PUCT search of ``agents.search.mcts`` with priors from the SL policy and leaf values
that mix the value net with a rollout.

    V(leaf) = (1 - lam) * v(leaf) + lam * z_rollout(leaf)

``v`` is the value net's output and ``z_rollout`` the outcome (+1 / -1 / 0) of one playout of the fast rollout
policy from the leaf, both from the view of the leaf's player to move. The search selects several leaves per
step (virtual loss) across all root positions; their planes go to the nets in one batched call and their
rollouts run in one compiled call (the game's ``rollout``). ``lam = 0`` runs no rollouts (value net only);
``lam = 1`` skips the value net (rollouts only).
"""

from __future__ import annotations

import numpy as np
import torch

from agents.search.config import SearchConfig
from agents.search.evaluator import Evaluator
from agents.search.game import GameBatch, RolloutBatch
from agents.search.mcts import Search


class PolicyValueEvaluator:
    """The Evaluator seam over two nets: priors from a policy net, values from a value net (0 when ``value_net``
    is None). Counts positions and the wall time of its forward passes."""

    def __init__(self, policy_net: torch.nn.Module, value_net: torch.nn.Module | None, device: str = "cpu") -> None:
        self.policy_net, self.value_net, self.device = policy_net, value_net, torch.device(device)
        self.positions = 0
        self.calls = 0

    def evaluate(self, planes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Priors (softmax of the masked logits, ``(n, A)``) and values ``(n,)`` from the mover's view."""
        x = torch.as_tensor(np.ascontiguousarray(planes, np.float32), device=self.device)
        m = torch.as_tensor(np.ascontiguousarray(masks, bool), device=self.device)
        with torch.inference_mode():
            priors = torch.softmax(self.policy_net(x, m).float(), dim=1).cpu().numpy()
            if self.value_net is None:
                v = np.zeros(len(planes), np.float32)
            else:
                v = self.value_net(x).float().cpu().numpy()
        self.positions += len(planes)
        self.calls += 1
        return priors, v


class MixedValue:
    """The leaf-value hook of :class:`agents.search.mcts.Search`: ``(1 - lam) * v + lam * z_rollout``.

    Rollouts are seeded ``seed + call number``, so a search with the same inputs repeats exactly. ``rollouts``
    counts the playouts run.
    """

    def __init__(self, lam: float, weights: np.ndarray | None, seed: int = 0, max_moves: int | None = None) -> None:
        if not 0.0 <= lam <= 1.0:
            raise ValueError(f"lam must be in [0, 1], got {lam}")
        if lam > 0 and weights is None:
            raise ValueError("lam > 0 mixes in rollouts and needs rollout weights")
        self.lam, self.weights, self.seed, self.max_moves = lam, weights, seed, max_moves
        self.calls = 0
        self.rollouts = 0

    def __call__(self, batch: GameBatch, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Mixed values of the positions ``batch[rows]`` whose value-net values are ``values``."""
        if self.lam == 0.0 or len(rows) == 0:
            return values
        if not isinstance(batch, RolloutBatch):
            raise ValueError(f"{type(batch).__name__} has no rollout policy (needs rollout and move_features)")
        self.calls += 1
        z = batch.rollout(self.weights, self.seed + self.calls, rows=np.asarray(rows, np.int64),
                          max_moves=self.max_moves)
        self.rollouts += len(rows)
        if self.lam == 1.0:
            return z.astype(np.float32)
        return ((1.0 - self.lam) * np.asarray(values, np.float64) + self.lam * z).astype(np.float32)


def run_search(roots: GameBatch, evaluator: Evaluator, mix: MixedValue, cfg: SearchConfig, simulations: int,
               rng: np.random.Generator) -> Search:
    """Search every root of ``roots`` with ``simulations`` simulations, ``cfg.play_leaves`` leaves per step and no
    root noise (``AlphaGoConfig.search_config`` gives ``cfg``); returns the finished :class:`Search`."""
    search = Search(cfg, roots.num_games, roots.legal_masks().shape[1], evaluator, rng,
                    leaves_per_game=cfg.play_leaves, max_simulations=simulations)
    search.leaf_values = mix
    search.run(roots, simulations, noise=False)
    return search
