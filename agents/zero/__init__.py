"""AlphaZero: a dual-head net trained from self-play with batched PUCT search (docs/design.md, "Where the time goes").

The search, its Game and Evaluator seams and its settings live in ``agents.search``; ``ZeroConfig.search_config`` gives
it its :class:`agents.search.SearchConfig`.

    config.py     ZeroConfig (``conf/agent/zero.yaml``), the search's fields among them
    selfplay.py   B games at once: search, temperature, resignation, playout cap randomisation
    board_mix.py  the other board sizes of ``agent.board_mix``: one self-play and replay window per size
    replay.py     the replay window (bit-packed planes)
    learner.py    cross-entropy + MSE + L2, symmetry augmentation
    gating.py     net against net with batched search (the match against the previous best, the gate)
    agent.py      ZeroAgent: collect / update / act / select_move / state_dict
"""

from agents.zero.agent import ZeroAgent, ZeroBatch
from agents.zero.config import ZeroConfig

__all__ = ["ZeroAgent", "ZeroBatch", "ZeroConfig"]
