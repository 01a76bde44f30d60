"""What the batched search reads: :class:`SearchConfig`, built by each searching agent's config
(``ZeroConfig.search_config``, ``AlphaGoConfig.search_config``) from its flat Hydra keys."""

from __future__ import annotations

import math
from dataclasses import dataclass

SEARCHES = ("puct", "gumbel")
"""The search algorithms :class:`~agents.search.mcts.Search` runs (``SearchConfig.search``)."""


@dataclass(frozen=True)
class SearchConfig:
    """Settings of :class:`agents.search.mcts.Search` and :func:`agents.search.reference.reference_search`.

    Sign convention throughout: a node's value is from the view of its player to move; an edge's Q (value sum /
    visits) is from the view of the player choosing it, the one to move at the edge's parent; both in [-1, 1].
    Backup negates at every edge.
    """

    search: str = "puct"
    """Which search: ``puct`` (AlphaZero: PUCT selection with root Dirichlet noise; moves and policy targets from
    the root visit counts) or ``gumbel`` (Gumbel AlphaZero, Danihelka et al., ICLR 2022, as DeepMind's mctx
    ``gumbel_muzero_policy``: Gumbel-top-k sampling of ``max_considered`` root actions and sequential halving
    over the move's simulations at the root, deterministic selection towards softmax(logits + sigma(completed
    Q)) below it; the move is the surviving action, the policy target that softmax at the root). Gumbel selects
    one leaf per game per step (``leaves_per_game`` 1; ``play_leaves`` is not used) and applies no Dirichlet
    noise: the Gumbel draw is its exploration."""
    simulations: int = 64
    """New simulations per move; each evaluates one leaf unless it reaches a finished position. Also sizes the
    tree when a :class:`~agents.search.mcts.Search` is built without ``max_simulations``: capacity
    ``C = 2 * (simulations + leaves + 1) + 1`` nodes per game, arrays ``(B, C, A)``."""
    leaves_per_game: int = 1
    """Leaves selected per game per search step in self-play, where many games already fill the evaluator's batch
    (more than 1 uses ``virtual_loss``). ``Search`` takes its leaf count as an argument: self-play passes this
    field, play passes ``play_leaves``."""
    play_leaves: int = 8
    """Leaves per game per search step when searching a few positions (``select_move(s)``, evaluation matches,
    AlphaGo's play), so one evaluator call still holds several positions."""
    virtual_loss: float = 1.0
    """Value subtracted from an edge's value sum (from its chooser's view) per pending leaf below it, so parallel
    selections in one game spread out; undone at backup. Applied only when more than one leaf per game is
    selected per step (``leaves_per_game > 1``)."""
    c_puct: float = 1.5
    """Exploration constant of PUCT: an edge scores ``Q + c_puct * P * sqrt(N_parent) / (1 + N_child)``; the
    highest score is taken, ties to the lowest action index."""
    fpu_reduction: float = 0.25
    """First-play urgency below the root: an unvisited child's Q is its parent's evaluator value (parent's mover's
    view) minus this (Leela Zero). Positive: unvisited moves look worse than the position."""
    fpu_root_reduction: float = 0.0
    """First-play urgency reduction at the root (0: unvisited root moves look as good as the position)."""
    dirichlet_alpha: float = 0.03
    """Concentration of the root Dirichlet noise for a 19x19 board (361 points); the search scales it by
    ``361 / board points`` (``num_actions - 1``), e.g. 0.134 on 9x9, 0.43 on 5x5."""
    dirichlet_eps: float = 0.25
    """Share of the root prior replaced by Dir(alpha) noise over the root's searchable moves, where a run asks
    for noise (self-play); 0: never. Never applied below the root; in [0, 1]. PUCT only: ``gumbel`` adds no
    Dirichlet noise (the Gumbel draw is its exploration)."""
    forced_playouts: float = 0.0
    """``puct`` only: KataGo's forced playouts (Wu 2019, section 3.1), coefficient ``k``; 0 (default): off; KataGo
    uses 2. In the games a run searches with noise (self-play's full searches, never play or evaluation), a root
    child ``c`` already visited but with ``N(c) < sqrt(k * P(c) * sum_c' N(c'))`` (``P`` the root prior, noise
    included; visits pending under virtual loss counted) is selected regardless of its PUCT score, the lowest
    index first. The policy target is then pruned (:meth:`~agents.search.mcts.Search.pruned_policy`: forced visits
    PUCT would not have given are taken back) and the move is still chosen from the unpruned visits. Finite and
    >= 0."""
    sensible_moves: bool = True
    """The tree holds only the game's sensible moves (``GameBatch.sensible_masks``; Go: no own-eye fills, no pass
    while another move is left unless the opponent has just passed). False: every legal move."""
    play_temp_moves: int = 0
    """In play (``select_move(s)``), the first this many moves of a game (by the position's move number) are drawn
    in proportion to the root visit counts instead of taken as the most visited, so a deterministic searcher plays
    varied games (a match's ``@temp_moves=N``); 0 (default): always the most visited. With ``gumbel`` these moves
    are searched with a Gumbel draw (``gumbel_scale``) instead, and the others with none."""
    tree_reuse: bool = True
    """Keep the subtree of the move played as the next move's tree (``Search.advance``) in self-play and in
    move-by-move play; False starts every move from a fresh root. With ``gumbel`` the kept statistics enter the
    Q values, while sequential halving counts only the move's new simulations."""
    gumbel_scale: float = 1.0
    """``gumbel`` only: scale of the Gumbel(0, 1) draw ``g(a)`` added to the root logits where a search asks for
    noise (self-play, the first moves of a net match, play's first ``play_temp_moves`` moves); elsewhere ``g = 0``
    and the search is deterministic. >= 0."""
    max_considered: int = 16
    """``gumbel`` only: root actions considered, ``m = min(max_considered, searchable actions)``: the top m by
    ``g(a) + logits(a)`` enter sequential halving. >= 2."""
    c_visit: float = 50.0
    """``gumbel`` only: ``sigma(q) = (c_visit + max_b N(b)) * c_scale * q`` with ``q`` the completed Q rescaled to
    [0, 1] at the node (mctx's ``maxvisit_init``). >= 0."""
    c_scale: float = 1.0
    """``gumbel`` only: the Q scale of ``sigma`` above (mctx's ``value_scale``, whose default is 0.1). Larger
    values let the searched Q outweigh the prior sooner. >= 0."""

    def __post_init__(self) -> None:
        if self.search not in SEARCHES:
            raise ValueError(f"SearchConfig.search must be one of {', '.join(SEARCHES)}, got {self.search!r}")
        if self.search == "gumbel" and self.leaves_per_game > 1:
            raise ValueError("SearchConfig.leaves_per_game > 1 is not supported with search=gumbel")
        if not (math.isfinite(self.forced_playouts) and self.forced_playouts >= 0):
            raise ValueError(f"SearchConfig.forced_playouts must be a finite number >= 0, got {self.forced_playouts}")
        if self.search == "gumbel" and self.forced_playouts > 0:
            raise ValueError("SearchConfig.forced_playouts > 0 is not supported with search=gumbel")
        if self.max_considered < 2:
            raise ValueError(f"SearchConfig.max_considered must be >= 2, got {self.max_considered}")
        for name in ("gumbel_scale", "c_visit", "c_scale"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"SearchConfig.{name} must be >= 0, got {getattr(self, name)}")
        for name in ("simulations", "leaves_per_game", "play_leaves"):
            if getattr(self, name) < 1:
                raise ValueError(f"SearchConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.play_temp_moves < 0:
            raise ValueError(f"SearchConfig.play_temp_moves must be >= 0, got {self.play_temp_moves}")
        if not 0.0 <= self.dirichlet_eps <= 1.0:
            raise ValueError(f"SearchConfig.dirichlet_eps must be in [0, 1], got {self.dirichlet_eps}")
        if not self.c_puct > 0 or not self.dirichlet_alpha > 0 or not self.virtual_loss >= 0:
            raise ValueError(f"SearchConfig: c_puct and dirichlet_alpha must be > 0 and virtual_loss >= 0, got "
                             f"{self.c_puct}, {self.dirichlet_alpha}, {self.virtual_loss}")

    @property
    def leaves_in_play(self) -> int:
        """Leaves per game per search step when playing: ``play_leaves`` (PUCT), 1 (Gumbel)."""
        return 1 if self.search == "gumbel" else self.play_leaves
