"""Self-play throughput of a zero net: B games searched at once, timed move by move.

Shared by ``benchmarks/zero_selfplay.py`` (batched search against the raw forward rate and an unbatched search)
and ``benchmarks/zero_vs_pgx.py`` (against pgx + mctx at equal simulations and games).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from agents.search.evaluator import NetEvaluator
from agents.zero.config import ZeroConfig
from agents.zero.selfplay import SelfPlay
from envs.go.game import GoGame


def batched_selfplay(net: torch.nn.Module, game: GoGame, sims: int, games: int, moves: int, device: str,
                     seconds: float = 0.0, search: str = "puct", forced_playouts: float = 0.0) -> dict[str, float]:
    """One warm-up move, then ``moves`` timed moves of ``games`` self-play games with ``sims`` simulations each
    (``ZeroConfig`` defaults otherwise, ``search`` ``puct`` or ``gumbel``, ``forced_playouts`` k for PUCT, no
    resignation, seed 0), and more moves until ``seconds`` have passed.

    ``net`` takes ``(planes (B, C, H, W), mask (B, A))`` on ``device`` and returns ``(logits (B, A), value (B,))``.
    Returns ``moves`` (timed moves per game), ``moves_per_s`` (positions of self-play per second, all games),
    ``evals_per_s`` (net evaluations per second), ``avg_batch`` (positions per net call) and ``forward_share``
    (the share of wall time inside the forward pass, transfers included)."""
    cfg = ZeroConfig(games=games, simulations=sims, resign_threshold=-1.0, search=search,
                     forced_playouts=forced_playouts)
    evaluator = NetEvaluator(net, device)
    selfplay = SelfPlay(cfg, game, evaluator, np.random.default_rng(0))
    selfplay.play(1)
    f0, c0, p0 = evaluator.forward_seconds, evaluator.calls, evaluator.positions
    start = time.perf_counter()
    selfplay.play(moves)
    while time.perf_counter() - start < seconds:
        selfplay.play(1)
        moves += 1
    wall = time.perf_counter() - start
    evals, calls = evaluator.positions - p0, evaluator.calls - c0
    return {"moves": moves, "moves_per_s": games * moves / wall, "evals_per_s": evals / wall,
            "avg_batch": evals / max(calls, 1), "forward_share": (evaluator.forward_seconds - f0) / wall}
