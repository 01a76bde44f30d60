"""What search and self-play need of a two-player, zero-sum, perfect-information game (docs/design.md, "The seams").

The agent never imports a game: the Go engine (``envs.go.game.GoGame``) meets these protocols structurally and
reaches the agent through the env (``env.unwrapped.game``) or through whoever builds a player.

Conventions shared by every implementation:

- Players alternate; ``to_play`` is ``+1`` or ``-1``. An *action* is an index in ``0 .. num_actions - 1``.
- ``winner()`` / ``winners()`` are absolute: ``+1`` if player ``+1`` won, ``-1`` if player ``-1`` won, ``0`` draw.
  The *value from the mover's view* of a finished position is ``winner * to_play`` (its ``to_play`` is the player
  who would move next, so a player who just won by passing sees ``-1`` from the loser's seat at that node).
- ``features()`` are float32 planes ``(num_planes, size, size)`` from the view of the player to move.
- ``legal_mask()`` is bool ``(num_actions,)``; a position that is not over has at least one legal action.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class State(Protocol):
    """One position with its history (what the unbatched reference search and ``select_move`` receive)."""

    @property
    def to_play(self) -> int: ...

    @property
    def is_terminal(self) -> bool: ...

    def copy(self) -> State: ...

    def play(self, action: int) -> None: ...

    def legal_mask(self) -> np.ndarray: ...

    def sensible_mask(self) -> np.ndarray:
        """bool ``(num_actions,)``: the legal actions worth searching (see :meth:`GameBatch.sensible_masks`)."""
        ...

    def winner(self) -> int: ...

    def features(self) -> np.ndarray: ...


@runtime_checkable
class GameBatch(Protocol):
    """B positions stepped together; every method is one compiled call over all rows, not a loop per game."""

    num_games: int

    @property
    def done(self) -> np.ndarray:
        """bool ``(B,)``: which rows are over (finished rows ignore their actions in :meth:`play`)."""
        ...

    @property
    def to_play(self) -> np.ndarray:
        """int8 ``(B,)``: player to move per row, ``+1`` / ``-1``."""
        ...

    @property
    def move_count(self) -> np.ndarray:
        """int64 ``(B,)``: moves played per row."""
        ...

    def play(self, actions: np.ndarray) -> None:
        """Play ``actions[b]`` (int ``(B,)``) in every live row."""
        ...

    def legal_masks(self) -> np.ndarray:
        """bool ``(B, num_actions)``; all False in finished rows."""
        ...

    def sensible_masks(self) -> np.ndarray:
        """bool ``(B, num_actions)``: the legal actions worth searching, a subset of :meth:`legal_masks` with at
        least one action in every live row (Go: no own-eye fills, no pass while another move is left unless the
        opponent has just passed). A game without such knowledge returns :meth:`legal_masks`."""
        ...

    def features(self) -> np.ndarray:
        """float32 ``(B, num_planes, size, size)`` from each row's mover's view."""
        ...

    def winners(self) -> np.ndarray:
        """int8 ``(B,)``: absolute winner of each row as it stands (meaningful once the row is over)."""
        ...

    def reset(self, indices: np.ndarray | list[int] | None = None) -> None:
        """Restart rows ``indices`` (all when None) from the initial position."""
        ...

    def resign(self, indices: np.ndarray | list[int]) -> None:
        """The player to move resigns in each row of ``indices``."""
        ...

    def state(self, i: int) -> State:
        """An independent :class:`State` copy of row ``i``."""
        ...

    def like(self, num_games: int) -> GameBatch:
        """A new batch of ``num_games`` initial positions with this batch's settings (size, komi, cap, ...)."""
        ...

    def load_paths(self, src: GameBatch, src_rows: np.ndarray, paths: np.ndarray, depths: np.ndarray) -> None:
        """Set row ``r`` (for ``r < len(src_rows)``) to ``src``'s row ``src_rows[r]`` followed by the actions
        ``paths[r, :depths[r]]`` (int32 ``(R, D)``, all legal). Rows past ``len(src_rows)`` are left as they are.
        This is how search materialises its leaves: root position + the path down the tree, in one call."""
        ...

    def state_dict(self) -> dict[str, np.ndarray]:
        """The rows as arrays (copies): all :meth:`load_state_dict` needs to put a batch back exactly (positions,
        histories, positions seen for superko), for checkpoints of games in progress."""
        ...

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Make the rows those of :meth:`state_dict` of a batch with the same number of games and settings;
        ``ValueError`` when the arrays do not fit."""
        ...


@runtime_checkable
class RolloutBatch(GameBatch, Protocol):
    """A :class:`GameBatch` with a fast rollout policy (AlphaGo's): a linear softmax over cheap move features.

    ``weights`` are a float vector of the game's ``rollout_features`` entries (the last one is padding, kept at 0).
    """

    def rollout(self, weights: np.ndarray, seed: int, rows: np.ndarray | None = None,
                max_moves: int | None = None) -> np.ndarray:
        """float32 ``(n,)``: one playout from each row of ``rows`` (all when None) with the policy ``weights``;
        +1 / -1 / 0 from the view of that row's player to move. Rows are not changed; ``seed`` repeats draws."""
        ...

    def move_features(self, rows: np.ndarray | None = None) -> np.ndarray:
        """int32 ``(n, num_actions, K)``: feature indices of every action (padding ``rollout_features - 1``;
        illegal actions all padding); the policy's logit of an action is the sum of its features' weights."""
        ...


@runtime_checkable
class OwnershipBatch(GameBatch, Protocol):
    """A :class:`GameBatch` that can count who owns each point and the score: the targets of the ownership and
    score heads (``agent.ownership_weight``, ``agent.score_weight``). A game whose batches lack it cannot train
    those heads. Go (area scoring) has it: ``envs.go.batch.GoBatch``."""

    def ownership(self) -> np.ndarray:
        """int8 ``(B, size, size)``: the owner of every point of each row as it stands, by the game's own count
        (absolute: ``+1`` player +1, ``-1`` player -1, ``0`` neither); at a finished row, the final ownership."""
        ...

    def scores(self) -> np.ndarray:
        """float ``(B,)``: the score margin of each row as it stands from player +1's view (Go: black area - white
        area - komi), whose sign is the winner of a row that was played out (not resigned)."""
        ...


@runtime_checkable
class Game(Protocol):
    """A game's rules and sizes: makes positions and batches, and knows the board's symmetries."""

    board_size: int
    num_actions: int
    num_planes: int
    num_symmetries: int

    def new_state(self) -> State:
        """The initial position."""
        ...

    def new_batch(self, num_games: int, max_moves: int | None = None) -> GameBatch:
        """``num_games`` initial positions; ``max_moves`` caps (and scores) each game."""
        ...

    def batch_from_states(self, states: Sequence[State]) -> GameBatch:
        """A batch holding copies of ``states`` (all of one size; settings such as komi taken from the states)."""
        ...

    def augment(self, planes: np.ndarray, policy: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Apply symmetry ``k`` (``0 .. num_symmetries - 1``, 0 the identity) to planes ``(n, C, H, W)`` and
        policies ``(n, num_actions)``; returns new arrays."""
        ...


@runtime_checkable
class ResizableGame(Game, Protocol):
    """A :class:`Game` that can be played on other boards: what zero's ``agent.board_mix`` needs to self-play
    several board sizes with one net. Go has it: ``envs.go.game.GoGame``."""

    def resized(self, size: int) -> Game:
        """The same game on a ``size`` x ``size`` board, with the settings the game gives that size (Go: the
        suite's komi for it); ``ValueError`` naming the valid sizes for one the game cannot be played on."""
        ...
