"""Batched PUCT search shared by AlphaZero (``agents.zero``) and AlphaGo (``agents.alphago``).

    config.py     SearchConfig: every setting the search reads (each agent's config builds one: ``cfg.search``)
    game.py       the Game / GameBatch / State protocols the search needs (Go meets them: envs/go/game.py)
    evaluator.py  the Evaluator seam (net, dummy) and the torch net evaluator
    mcts.py       the batched array tree and its numba kernels (select with virtual loss, expand, backup, reroot),
                  the Search driver, and moves from visit counts
    reference.py  the unbatched reference search (tests, baseline)

Importing the package loads only :class:`SearchConfig`; torch and the kernels load with ``mcts`` / ``evaluator``.
"""

from agents.search.config import SearchConfig

__all__ = ["SearchConfig"]
