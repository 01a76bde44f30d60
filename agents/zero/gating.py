"""Net against net with search, all games batched: how a new net is compared with the previous best.

AlphaGo Zero gated every new net: it played 400 games against the best net so far and replaced it only on a 55%
score. AlphaZero dropped the gate (continuous update: self-play always uses the newest net). The suite does either
(``ZeroConfig.gating``); in both modes the evaluation reports the new net's score against the previous best.

:func:`net_match` plays ``games`` games between two evaluators: A is black in the even games, white in the odd
ones, so at every ply half the games are A's to move and half B's. Each ply runs one batched search per side (rows
of the other side get no simulations), then plays every game's move at once; both trees keep the played subtree.
The first ``sample_moves`` moves of each game are sampled in proportion to visit counts (otherwise two
deterministic searches would replay the same two games), later ones take the most visited move. No noise. With
``cfg.search == "gumbel"`` the first moves are searched with a Gumbel draw instead and every move is the search's
action.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.search.evaluator import Evaluator
from agents.search.game import Game
from agents.search.mcts import Search, choose_moves
from agents.zero.config import ZeroConfig


@dataclass(frozen=True)
class NetMatch:
    """A's result over ``games`` games: ``score`` = wins + half the draws; per colour as well."""

    games: int
    score: float
    score_as_black: float
    score_as_white: float

    @property
    def win_rate(self) -> float:
        """A's score per game."""
        return self.score / max(self.games, 1)


def net_match(game: Game, cfg: ZeroConfig, a: Evaluator, b: Evaluator, games: int, rng: np.random.Generator,
              simulations: int | None = None, sample_moves: int = 4, max_moves: int | None = None) -> NetMatch:
    """Play ``games`` games of evaluator ``a`` against ``b`` with ``simulations`` per move (``cfg.simulations``)."""
    if games < 1:
        raise ValueError(f"a net match needs at least one game, got {games}")
    sims = simulations or cfg.simulations
    cap = max_moves or int(cfg.max_moves_factor * game.board_size**2)
    batch = game.new_batch(games, max_moves=cap)
    a_black = np.arange(games) % 2 == 0
    search_cfg = cfg.search_config
    searches = [Search(search_cfg, games, game.num_actions, ev, rng, leaves_per_game=search_cfg.leaves_in_play,
                       max_simulations=sims) for ev in (a, b)]
    ply = 0
    while not batch.done.all():
        black_to_move = ply % 2 == 0
        a_moves = a_black == black_to_move
        live = ~batch.done
        actions = np.zeros(games, np.int64)
        for search, rows in zip(searches, (a_moves, ~a_moves), strict=True):
            wanted = rows & live
            if not wanted.any():
                continue
            if search.gumbel:
                search.run(batch, np.where(wanted, sims, 0), noise=ply < sample_moves)
                chosen = search.gumbel_results()[1]
            else:
                search.run(batch, np.where(wanted, sims, 0), noise=False)
                chosen = choose_moves(search.visit_counts(), np.full(games, ply < sample_moves), rng)
            actions[wanted] = chosen[wanted]
        batch.play(actions)
        for search in searches:
            search.advance(actions)
        ply += 1
    winners = batch.winners().astype(np.int64)
    a_result = np.where(a_black, winners, -winners)  # +1 A won, -1 lost, 0 draw
    points = (a_result + 1) / 2.0
    return NetMatch(games, float(points.sum()), float(points[a_black].sum()), float(points[~a_black].sum()))
