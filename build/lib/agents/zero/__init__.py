"""AlphaZero: a dual-head net trained from self-play with batched PUCT search (DESIGN.md, "Go and AlphaZero").

    game.py       the Game / GameBatch / State protocols the search needs (Go meets them: envs/go/game.py)
    evaluator.py  the Evaluator seam (net, dummy) and the torch net evaluator
    mcts.py       the batched array tree and its numba kernels (select with virtual loss, expand, backup, reroot)
    reference.py  the unbatched reference search (tests, baseline)
    selfplay.py   B games at once: search, temperature, resignation, playout cap randomisation
    replay.py     the replay window (bit-packed planes)
    learner.py    cross-entropy + MSE + L2, symmetry augmentation
    agent.py      ZeroAgent: collect / update / act / select_move / state_dict
"""

from agents.zero.agent import ZeroAgent, ZeroBatch
from agents.zero.config import ZeroConfig

__all__ = ["ZeroAgent", "ZeroBatch", "ZeroConfig"]
