"""Self-play on the other board sizes of ``agent.board_mix``: one :class:`SelfPlay` and one replay window per size.

With a mix (``ZeroConfig.board_mix``, e.g. ``5:0.2,7:0.3,9:0.5`` in a go9 run) the agent's own self-play and
window stay those of the run's board (the env's), sized by its share; this module holds the other sizes. Each size
plays its share of the ``games`` (``ZeroConfig.board_plan``), and every collect plays ``moves_per_collect`` moves
in every game of every size, so a collect's positions split exactly as the games do (each move of B games is B
positions, however long the games of a size last). The sizes' self-plays are composed, not merged: each is an
ordinary :class:`SelfPlay` over its own game, whose batched searches evaluate that size's leaves in their own net
calls (one net, one board size per forward).

The other sizes' games come from the run's game (:class:`agents.search.game.ResizableGame`; Go keeps the history
depth and takes the suite's komi for each size), so the agent never imports a game.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.search.evaluator import Evaluator
from agents.search.game import Game, ResizableGame
from agents.zero.config import BOARD_MIX_FORM, BoardShare, ZeroConfig
from agents.zero.replay import Replay
from agents.zero.selfplay import FinishedGame, SelfPlay, check_aux_game


@dataclass
class Board:
    """One of the other sizes: its plan, game, replay window and self-play."""

    plan: BoardShare
    """Its share of the games, minibatch and replay window."""
    game: Game
    """The run's game on this size."""
    replay: Replay
    """Its replay window (``plan.capacity`` positions)."""
    selfplay: SelfPlay | None = None
    """Its ``plan.games`` self-play games; None until the next collect starts them."""
    pending: Mapping[str, Any] | None = None
    """Self-play games in progress from a checkpoint, continued when the self-play starts."""


def games_in(state: Mapping[str, Any] | None) -> int:
    """The number of games a :meth:`SelfPlay.state_dict` holds (0 for None)."""
    return 0 if state is None else len(np.asarray(state["recorded"]))


class BoardMix:
    """The sizes of ``cfg.board_plan`` other than ``main_size`` (the run's board); see the module docstring."""

    def __init__(self, cfg: ZeroConfig, main_size: int) -> None:
        self.cfg = cfg
        self.plans = [p for p in cfg.board_plan if p.size != main_size]
        self.boards: dict[int, Board] = {}
        """Size -> its board, ascending; filled by :meth:`attach`."""
        self._pending: Sequence[Mapping[str, Any]] | None = None
        """A checkpoint's boards loaded before any game was attached; restored by :meth:`attach`."""

    def attach(self, game: Game) -> None:
        """Make every other size's game from ``game``; a board whose window still fits keeps it, every self-play
        restarts. ``ValueError`` (one line naming ``agent.board_mix``) when the game cannot be played on a size,
        or not with the same input planes, or cannot count a size's auxiliary targets."""
        mix = self.cfg.board_mix
        if not isinstance(game, ResizableGame):
            raise ValueError(f"agent.board_mix={mix} needs a game that can be played on other boards "
                             f"(Game.resized, agents.search.game.ResizableGame); {game!r} has none")
        boards = {}
        for plan in self.plans:
            try:
                other = game.resized(plan.size)
            except ValueError as exc:
                raise ValueError(f"agent.board_mix={mix}: the game cannot be played on {plan.size}x{plan.size} "
                                 f"({exc}); valid form: {BOARD_MIX_FORM}") from None
            if other.num_planes != game.num_planes:
                raise ValueError(f"agent.board_mix={mix}: the game on {plan.size}x{plan.size} has {other.num_planes} "
                                 f"input planes, the run's board {game.num_planes}; one net needs the same planes")
            check_aux_game(self.cfg, other)
            shape = (other.num_planes, plan.size, plan.size)
            old = self.boards.get(plan.size)
            fits = old is not None and old.replay.plane_shape == shape and old.replay.num_actions == other.num_actions
            replay = old.replay if fits else Replay(plan.capacity, shape, other.num_actions, aux=self.cfg.aux_heads)
            boards[plan.size] = Board(plan, other, replay)
        self.boards = boards
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.load_state_dict(pending)

    # -- self-play -----------------------------------------------------------------------------------------------

    def start(self, evaluator: Evaluator, rng: np.random.Generator) -> None:
        """Start the self-play of every size that has none (continuing a checkpoint's games where it brought them),
        searching with ``evaluator`` and drawing from ``rng``."""
        for board in self.boards.values():
            if board.selfplay is None:
                state, board.pending = board.pending, None
                cfg = dataclasses.replace(self.cfg, games=board.plan.games, board_mix="")
                board.selfplay = SelfPlay(cfg, board.game, evaluator, rng, state=state)

    def play(self, moves: int) -> dict[int, list[FinishedGame]]:
        """``moves`` moves in every game of every size (after :meth:`start`), smallest board first; size -> the games
        that ended."""
        return {size: board.selfplay.play(moves) for size, board in self.boards.items()
                if board.selfplay is not None}

    def positions(self) -> dict[int, int]:
        """Size -> moves its self-play has played so far (0 before it starts)."""
        return {size: b.selfplay.positions if b.selfplay is not None else 0 for size, b in self.boards.items()}

    def restart(self) -> None:
        """Forget the games in progress (also a checkpoint's): the next collect starts new games on every size."""
        for board in self.boards.values():
            board.selfplay = board.pending = None
        if self._pending is not None:
            self._pending = [{**entry, "selfplay": None} for entry in self._pending]

    def clear_searches(self) -> None:
        """Drop every size's kept search trees (their priors came from a net that is no longer searched with)."""
        for board in self.boards.values():
            if board.selfplay is not None:
                board.selfplay.search.clear(np.arange(board.selfplay.search.B))

    # -- windows ---------------------------------------------------------------------------------------------------

    def board_for(self, num_actions: int) -> Board | None:
        """The board whose game has ``num_actions`` actions (how a finished game or a shard finds its window)."""
        return next((b for b in self.boards.values() if b.game.num_actions == num_actions), None)

    def sizes(self) -> dict[int, int]:
        """Size -> positions in its window."""
        return {size: len(b.replay) for size, b in self.boards.items()}

    def added(self) -> int:
        """Positions ever added to the other sizes' windows."""
        return sum(b.replay.added for b in self.boards.values())

    # -- checkpoints -----------------------------------------------------------------------------------------------

    def state_dict(self) -> list[dict[str, Any]]:
        """Per size, ascending: ``{"size", "replay": Replay.state_dict(), "selfplay": SelfPlay.state_dict() or
        None}`` (a checkpoint's boards as they came while no game is attached yet)."""
        if self._pending is not None:
            return [dict(entry) for entry in self._pending]
        out = []
        for size, board in self.boards.items():
            selfplay = board.selfplay.state_dict() if board.selfplay is not None else board.pending
            out.append({"size": size, "replay": board.replay.state_dict(),
                        "selfplay": dict(selfplay) if selfplay is not None else None})
        return out

    def load_state_dict(self, state: Sequence[Mapping[str, Any]]) -> None:
        """Restore :meth:`state_dict` (before :meth:`attach`: kept until it). A size of this mix that ``state``
        lacks starts with an empty window, a size only ``state`` has is left out, and games in progress of
        another number of games than this mix plays are dropped (new games start)."""
        if not self.boards:
            self._pending = list(state)
            return
        saved = {int(entry["size"]): entry for entry in state}
        for size, board in self.boards.items():
            entry = saved.get(size)
            board.replay = Replay(board.plan.capacity, board.replay.plane_shape, board.replay.num_actions,
                                  aux=self.cfg.aux_heads)
            board.selfplay, board.pending = None, None
            if entry is None:
                continue
            board.replay.load_state_dict(entry["replay"])
            if games_in(entry.get("selfplay")) == board.plan.games:
                board.pending = entry["selfplay"]

    def describe(self, main: BoardShare) -> str:
        """The banner row: every size's share, games, window and minibatch part (``main``: the run's board)."""
        rows = []
        for p in sorted([*self.plans, main], key=lambda p: p.size):
            tag = " (the env's)" if p is main else ""
            rows.append(f"{p.size}x{p.size}{tag} {p.share:.2f}: {p.games} games, window {p.capacity:,}, "
                        f"{p.batch} per minibatch")
        return "; ".join(rows)
