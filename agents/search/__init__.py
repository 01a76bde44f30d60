"""Batched search shared by AlphaZero (``agents.zero``: PUCT or Gumbel) and AlphaGo (``agents.alphago``: PUCT).

    config.py     SearchConfig: every setting the search reads (each agent's config builds one: ``cfg.search_config``)
    game.py       the Game / GameBatch / State protocols the search needs (Go meets them: envs/go/game.py)
    evaluator.py  the Evaluator seam (net, dummy) and the torch net evaluator
    mcts.py       the batched array tree and its numba kernels (select with virtual loss, expand, backup, reroot),
                  the Search driver, and moves from visit counts
    gumbel.py     Gumbel AlphaZero's kernels on the same tree: sequential halving at the root, deterministic
                  selection below it, the move and the completed-Q policy target
    pruning.py    KataGo's policy target pruning of the root visits after forced playouts (PUCT self-play)
    nodes.py      what the search kernels share: leaf status codes, node allocation, the PUCT score
    reference.py  the unbatched reference searches, PUCT and Gumbel (tests, baseline)

Importing the package loads only :class:`SearchConfig`; torch and the kernels load with ``mcts`` / ``evaluator``.
"""

from agents.search.config import SearchConfig

__all__ = ["SearchConfig"]
