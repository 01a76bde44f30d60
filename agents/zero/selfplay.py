"""Self-play: B games at once, one batched search per move across all of them, finished games as data.

Each move: (playout cap randomisation picks full or cheap searches) -> ``Search.run`` over all B games ->
policy target and move -> resignation check -> record the position of every full search -> play -> reuse the
subtree. A game that ends is turned into a :class:`FinishedGame` and restarts at once, so the batch stays full.

PUCT (``cfg.search == "puct"``): Dirichlet noise on full searches; the policy target is the root visit
distribution and the move is drawn by visit counts for the first ``temperature_moves`` moves, else the most
visited. With ``forced_playouts`` (KataGo) full searches also force root playouts, and their policy target is
the visit distribution after policy target pruning (``Search.pruned_policy``); the move still comes from the
unpruned visits. Gumbel: every search draws its Gumbel noise (``gumbel_scale``); the policy target is
softmax(logits + sigma(completed Q)) and the move is the search's action (``Search.gumbel_results``), with no
temperature.

The value target ``z`` of a position is the game's outcome from the view of the player to move there (+1 won,
-1 lost, 0 draw).

With auxiliary heads (``ZeroConfig.aux_heads``) a game played out also gives every recorded position its
ownership and score targets, from its final position as the game's own count sees it
(:class:`agents.search.game.OwnershipBatch`; Go: the Tromp-Taylor area of the position after two passes or at the
move cap, every stone on the board counted for its colour as the score counts it; sensible-move self-play captures
dead stones before it passes): the owner of every point and the score margin, each from the view of the player to
move at that position. A resigned game has no final position to count and gives none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from agents.search.evaluator import Evaluator
from agents.search.game import Game, OwnershipBatch
from agents.search.mcts import Search, choose_moves
from agents.zero.config import ZeroConfig


@dataclass
class FinishedGame:
    """One self-play game: its recorded positions (full searches only) and how it went."""

    planes: np.ndarray
    """uint8 ``(T, ceil(C*H*W / 8))``: bit-packed feature planes of the recorded positions (``np.packbits``)."""
    policy: np.ndarray
    """float32 ``(T, A)``: the policy targets (root visit distributions, or Gumbel's improved policies)."""
    z: np.ndarray
    """int8 ``(T,)``: outcome from the view of the player to move in each recorded position."""
    actions: list[int]
    """Every move played, in order (pass = N*N)."""
    winner: int
    """+1 first player (black), -1 second player, 0 draw."""
    resigned: bool
    """Ended by resignation."""
    false_resign: bool | None = None
    """For a game that was not allowed to resign: whether a resignation would have lost a won game (None: the
    threshold was never crossed)."""
    ownership: np.ndarray | None = None
    """int8 ``(T, N*N)``: the final owner of every point from the view of the player to move in each recorded
    position (+1 the mover's, -1 the opponent's, 0 neither); None without auxiliary heads or for a resigned game."""
    score: np.ndarray | None = None
    """float32 ``(T,)``: the final score margin (area difference minus komi) from the view of the player to move in
    each recorded position; None when ``ownership`` is."""


def check_aux_game(cfg: ZeroConfig, game: Game) -> None:
    """``ValueError`` (one line naming the settings) when ``cfg`` asks for auxiliary heads and ``game``'s batches
    cannot count the ownership and score targets (:class:`agents.search.game.OwnershipBatch`)."""
    if not cfg.aux_heads or isinstance(game.new_batch(1), OwnershipBatch):
        return
    on = " and ".join(f"agent.{h}_weight={getattr(cfg, h + '_weight'):g}" for h in cfg.aux_heads)
    need = "need" if len(cfg.aux_heads) > 1 else "needs"
    raise ValueError(f"{on} {need} a game whose batches count ownership and score (GameBatch.ownership and "
                     f".scores, agents.search.game.OwnershipBatch); {game!r} has none: set "
                     f"{' and '.join(f'agent.{h}_weight=0' for h in cfg.aux_heads)}")


@dataclass
class _Trajectory:
    planes: list[np.ndarray] = field(default_factory=list)
    policy: list[np.ndarray] = field(default_factory=list)
    to_play: list[int] = field(default_factory=list)
    actions: list[int] = field(default_factory=list)
    no_resign: bool = False
    would_resign: int = 0


class SelfPlay:
    """B self-play games with their search; ``play(moves)`` advances every game and returns the finished ones.

    ``state``: the :meth:`state_dict` of self-play with the same config and game, whose games this one continues
    (drawing nothing from ``rng`` to set up); ``None`` starts B new games.
    """

    def __init__(self, cfg: ZeroConfig, game: Game, evaluator: Evaluator, rng: np.random.Generator,
                 state: Mapping[str, Any] | None = None) -> None:
        check_aux_game(cfg, game)
        self.cfg, self.game, self.rng = cfg, game, rng
        self.B = cfg.games
        cap = max(1, int(round(cfg.max_moves_factor * game.board_size**2)))
        self.games = game.new_batch(self.B, max_moves=cap)
        search = cfg.search_config
        self.search = Search(search, self.B, game.num_actions, evaluator, rng, search.leaves_per_game,
                             max_simulations=cfg.max_simulations)
        self.positions = 0
        """Moves played so far (all games, recorded or not)."""
        if state is None:
            self.trajectories = [self._new_trajectory() for _ in range(self.B)]
        else:
            self._load_state_dict(state)

    def state_dict(self) -> dict[str, Any]:
        """The games in progress, as arrays: the positions (``GameBatch.state_dict``), the search trees kept for
        the next move, what each game has recorded so far (packed planes, policies and movers of its full
        searches, concatenated game after game, with ``recorded`` per game), the moves it played (``actions``,
        ``moves`` per game), its resignation bookkeeping and ``positions``."""
        ts = self.trajectories
        planes = [p for t in ts for p in t.planes]
        policy = [p for t in ts for p in t.policy]
        return {
            "games": self.games.state_dict(), "search": self.search.state_dict(),
            "recorded": np.array([len(t.planes) for t in ts], np.int64),
            "planes": np.stack(planes) if planes else np.zeros((0, 0), np.uint8),
            "policy": np.stack(policy) if policy else np.zeros((0, self.game.num_actions), np.float32),
            "to_play": np.array([p for t in ts for p in t.to_play], np.int8),
            "moves": np.array([len(t.actions) for t in ts], np.int64),
            "actions": np.array([a for t in ts for a in t.actions], np.int64),
            "no_resign": np.array([t.no_resign for t in ts], bool),
            "would_resign": np.array([t.would_resign for t in ts], np.int8),
            "positions": self.positions,
        }

    def _load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue the games of :meth:`state_dict`; ``ValueError`` when they are not B games of this game."""
        recorded, moves = np.asarray(state["recorded"]), np.asarray(state["moves"])
        if recorded.shape != (self.B,) or moves.shape != (self.B,):
            raise ValueError(f"self-play state holds {recorded.shape[0]} games; this self-play plays {self.B}")
        self.games.load_state_dict(state["games"])
        self.search.load_state_dict(state["search"])
        at, played = np.cumsum(recorded)[:-1], np.cumsum(moves)[:-1]
        self.trajectories = [
            _Trajectory(planes=list(planes), policy=list(policy), to_play=[int(x) for x in to_play],
                        actions=[int(a) for a in actions], no_resign=bool(no_resign), would_resign=int(would))
            for planes, policy, to_play, actions, no_resign, would in zip(
                np.split(np.asarray(state["planes"], np.uint8), at),
                np.split(np.asarray(state["policy"], np.float32), at),
                np.split(np.asarray(state["to_play"]), at), np.split(np.asarray(state["actions"]), played),
                np.asarray(state["no_resign"]), np.asarray(state["would_resign"]), strict=True)
        ]
        self.positions = int(state["positions"])

    def _new_trajectory(self) -> _Trajectory:
        return _Trajectory(no_resign=bool(self.rng.random() < self.cfg.resign_playthrough))

    def play(self, moves: int) -> list[FinishedGame]:
        """Play ``moves`` moves in every game; games that end restart. Returns the games that ended."""
        finished: list[FinishedGame] = []
        for _ in range(moves):
            finished.extend(self.step())
        return finished

    def step(self) -> list[FinishedGame]:
        """One move in every game (see the module docstring)."""
        cfg, games = self.cfg, self.games
        full = self.rng.random(self.B) >= cfg.cheap_fraction if cfg.cheap_fraction > 0 else np.ones(self.B, bool)
        sims = np.where(full, cfg.simulations, cfg.cheap_simulations)
        packed = np.packbits(games.features().reshape(self.B, -1) > 0.5, axis=1)
        to_play = games.to_play.copy()
        if self.search.gumbel:
            self.search.run(games, sims, noise=True)
            policy, actions = self.search.gumbel_results()
        else:
            self.search.run(games, sims, noise=full)
            counts = self.search.visit_counts()
            if cfg.forced_playouts > 0:
                policy = self.search.pruned_policy()  # full searches forced root playouts; their targets prune them
            else:
                policy = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
            actions = choose_moves(counts, games.move_count < cfg.temperature_moves, self.rng)
        resign = self._resignations(actions, to_play)
        for g in range(self.B):
            t = self.trajectories[g]
            if full[g]:
                t.planes.append(packed[g])
                t.policy.append(policy[g].astype(np.float32))
                t.to_play.append(int(to_play[g]))
            if not resign[g]:
                t.actions.append(int(actions[g]))
        if resign.any():
            games.resign(np.flatnonzero(resign))
        games.play(actions)
        self.positions += self.B
        self.search.advance(actions, reuse=self.search.cfg.tree_reuse)
        return self._finish(resign)

    def _resignations(self, actions: np.ndarray, to_play: np.ndarray) -> np.ndarray:
        """bool ``(B,)``: games whose mover resigns now (Q of its chosen move below the threshold)."""
        if self.cfg.resign_threshold <= -1.0:
            return np.zeros(self.B, bool)
        low = self.search.root_q(actions) < self.cfg.resign_threshold
        resign = np.zeros(self.B, bool)
        for g in np.flatnonzero(low):
            t = self.trajectories[g]
            if t.no_resign:
                t.would_resign = t.would_resign or int(to_play[g])
            else:
                resign[g] = True
        return resign

    def _finish(self, resigned: np.ndarray) -> list[FinishedGame]:
        done = np.flatnonzero(self.games.done)
        if done.size == 0:
            return []
        winners = self.games.winners()
        owners, margins = self._final_counts()
        out = []
        for g in done:
            t, w = self.trajectories[g], int(winners[g])
            a = self.game.num_actions
            planes = np.stack(t.planes) if t.planes else np.zeros((0, 0), np.uint8)
            policy = np.stack(t.policy) if t.policy else np.zeros((0, a), np.float32)
            movers = np.asarray(t.to_play, np.int64)
            z = (w * movers).astype(np.int8)
            false_resign = None if not t.would_resign else bool(w == t.would_resign)
            ownership = score = None
            if owners is not None and not resigned[g]:
                ownership = (movers[:, None] * owners[g]).astype(np.int8)
                score = (movers * margins[g]).astype(np.float32)
            out.append(FinishedGame(planes, policy, z, t.actions, w, bool(resigned[g]), false_resign, ownership,
                                    score))
            self.trajectories[g] = self._new_trajectory()
        self.games.reset(done)
        self.search.clear(done)
        return out

    def _final_counts(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Without auxiliary heads ``(None, None)``; else every row's ownership int8 ``(B, N*N)`` and score margin
        float64 ``(B,)`` as they stand, absolute (player +1's view): the targets of the rows that just ended."""
        if not self.cfg.aux_heads:
            return None, None
        games = cast(OwnershipBatch, self.games)
        return games.ownership().reshape(self.B, -1), np.asarray(games.scores(), np.float64)
