"""Configuration of the AlphaZero agent (``conf/agent/zero.yaml``; ``conf/agent/zero_gpu.yaml`` for a GPU)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from agents.search.config import SEARCHES, SearchConfig

OPTIMIZERS = ("sgd", "adam")

BOARD_MIX_FORM = "SIZE:SHARE,... with two or more sizes and positive shares, e.g. 5:0.2,7:0.3,9:0.5"
"""The valid form of ``agent.board_mix``, for its error messages."""


class BoardShare(NamedTuple):
    """One board size of ``agent.board_mix`` and what it gets of the run (:attr:`ZeroConfig.board_plan`)."""

    size: int
    """Board size N (N x N)."""
    share: float
    """Share of the self-play positions, normalised: the shares of a mix sum to 1."""
    games: int
    """Self-play games of this size played in parallel (``games`` split by share, at least 1)."""
    batch: int
    """Positions of this size in each gradient step's minibatch (``batch_size`` split by share, at least 1)."""
    capacity: int
    """Positions its replay window keeps (``replay_size`` times the share, at least 1)."""


def parse_board_mix(text: str) -> tuple[tuple[int, float], ...]:
    """``"5:0.2,7:0.3,9:0.5"`` -> ``((5, 0.2), (7, 0.3), (9, 0.5))``: sizes ascending, shares normalised to sum to 1;
    ``()`` for ``""``. ``ValueError`` (one line naming ``agent.board_mix`` and the valid form) for anything else:
    an entry that is not ``SIZE:SHARE``, a size that is not a whole number >= 1 or that repeats, a share that is not
    a positive finite number, or fewer than two sizes. Which sizes a game can be played on is the game's to say."""
    text = str(text).strip()
    if not text:
        return ()
    mix: dict[int, float] = {}
    for entry in text.split(","):
        size_text, sep, share_text = entry.strip().partition(":")
        try:
            size, share = int(size_text), float(share_text)
        except ValueError:
            size, share = 0, math.nan
        if not sep or size < 1 or not math.isfinite(share) or share <= 0:
            raise ValueError(f"agent.board_mix={text}: {entry.strip()!r} is not SIZE:SHARE with a board size >= 1 "
                             f"and a positive share; valid form: {BOARD_MIX_FORM}")
        if size in mix:
            raise ValueError(f"agent.board_mix={text}: size {size} appears twice; valid form: {BOARD_MIX_FORM}")
        mix[size] = share
    if len(mix) < 2:
        raise ValueError(f"agent.board_mix={text}: a mix needs two or more sizes (empty: off); valid form: "
                         f"{BOARD_MIX_FORM}")
    total = sum(mix.values())
    return tuple((size, mix[size] / total) for size in sorted(mix))


def split_by_shares(total: int, shares: list[float]) -> list[int]:
    """``total`` split into whole parts in proportion to ``shares`` (summing to 1), each at least 1, the parts summing
    to ``total`` (largest remainders first; ``total`` must be at least ``len(shares)``)."""
    if not shares:
        return []
    parts = [max(1, math.floor(total * w)) for w in shares]
    order = sorted(range(len(shares)), key=lambda i: (-(total * shares[i] - math.floor(total * shares[i])), i))
    k = 0
    while sum(parts) < total:
        parts[order[k % len(order)]] += 1
        k += 1
    while sum(parts) > total:  # the floor of 1 took from the others: give back from the largest part
        parts[max(range(len(parts)), key=lambda i: (parts[i], -i))] -= 1
    return parts


@dataclass(frozen=True)
class ZeroConfig:
    """AlphaZero: batched search self-play (PUCT, or Gumbel AlphaZero with ``search=gumbel``) with a dual-head net,
    trained on (planes, policy target, outcome): the root visit distribution (PUCT) or the completed-Q improved
    policy (Gumbel)."""

    name: str = "zero"
    """Agent name (``agent=zero``)."""

    # -- self-play -------------------------------------------------------------------------------------------------
    games: int = 64
    """B: self-play games played in parallel in one process; each search step evaluates their leaves together."""
    moves_per_collect: int = 8
    """Moves every game plays per ``collect()``: one collect yields about ``games * moves_per_collect`` positions.
    Games run on across collects; a finished game restarts at once."""
    max_moves_factor: float = 2.0
    """Self-play move cap as a multiple of the board's points (N*N); a capped game is scored by area."""
    board_mix: str = ""
    """Self-play on several board sizes with one net (KataGo): ``SIZE:SHARE,...``, e.g. ``5:0.2,7:0.3,9:0.5``, the
    run's own board (the env's) among them; empty: off. The shares (normalised) split the self-play positions:
    each size plays its share of the ``games`` (one self-play of that many games per size, every game
    ``moves_per_collect`` moves per collect, so the positions split as the games do), keeps its own replay window
    (its share of ``replay_size``) and gives its share of each minibatch (``batch_size``), one forward pass per
    size. The other sizes' games come from the run's game (``Game.resized``: Go takes the suite's komi for each
    size: 24 on 5x5, 9 on 7x7, 7.5 from 9x9). Needs a net that runs on every size: ``net=resnet
    net.global_pool=true``. Evaluation stays on the run's board."""
    temperature_moves: int = 10
    """The first this many moves of each game are sampled in proportion to visit counts; later ones take the most
    visited move. PUCT only: with ``search=gumbel`` every self-play move is the Gumbel search's action (its Gumbel
    draw samples the move)."""

    # -- search (what the search reads: :attr:`search_config`) -----------------------------------------------------
    search: str = "gumbel"
    """``puct`` (AlphaZero) or ``gumbel`` (Gumbel AlphaZero, Danihelka et al. 2022, as mctx's
    ``gumbel_muzero_policy``): Gumbel-top-k root actions (``max_considered``) and sequential halving over the
    move's simulations; the move is the halving's survivor (no temperature sampling) and the policy target is
    softmax(logits + sigma(completed Q)), which keeps improving the policy with few simulations (2-16). Gumbel
    takes ``leaves_per_game`` 1, selects one leaf per step in play too (``play_leaves`` unused) and applies no
    Dirichlet noise: the Gumbel draw (``gumbel_scale``) is its exploration."""
    simulations: int = 16
    """New simulations per move (self-play and play); each evaluates one leaf unless it hits a finished position.
    16 with Gumbel (the default): at an equal 30 minutes on 9x9 it beat PUCT at 64 in 79 of 80 games
    (``reports/zero9.md``); PUCT wants more (64-800)."""
    leaves_per_game: int = 1
    """Leaves selected per game per search step in self-play (more than 1 uses virtual loss). With many games one is
    enough to fill the net's batch."""
    play_leaves: int = 8
    """Leaves per search step when searching a few positions (``select_move``, evaluation matches)."""
    virtual_loss: float = 1.0
    """Value subtracted from an edge (from its mover's view) per pending leaf below it, so parallel selections in
    one game spread out. Only matters when more than one leaf per game is selected per step."""
    c_puct: float = 1.5
    """Exploration constant of PUCT: ``Q + c_puct * P * sqrt(N_parent) / (1 + N_child)``."""
    fpu_reduction: float = 0.25
    """First-play urgency: an unvisited child's Q is its parent's net value minus this (Leela Zero), below the root."""
    fpu_root_reduction: float = 0.0
    """First-play urgency reduction at the root (0: unvisited root moves look as good as the position)."""
    dirichlet_alpha: float = 0.03
    """Root Dirichlet noise concentration for a 19x19 board; scaled by 361 / (N*N) for other sizes (go9: 0.134)."""
    dirichlet_eps: float = 0.25
    """Share of the root prior replaced by noise in self-play (0: no noise). Never applied below the root. PUCT
    only (Gumbel explores by its Gumbel draw)."""
    forced_playouts: float = 0.0
    """PUCT only: KataGo's forced playouts and policy target pruning (Wu 2019, section 3.1), coefficient ``k``; 0
    (default): off; KataGo uses 2. At the root of full self-play searches, a child already visited gets at least
    ``sqrt(k * P(c) * total root visits)`` visits whatever its PUCT score; the recorded policy target then takes
    back those forced visits that PUCT would not have given (children left with 1 visit or fewer drop out),
    while the move is still chosen from the unpruned visits. Play and evaluation never force."""
    sensible_moves: bool = True
    """Search only the game's sensible moves (``GameBatch.sensible_masks``; Go: no own-eye fills, and no pass while
    another move is left unless the opponent has just passed), in self-play and in play. Off: every legal move,
    and self-play learns to pass in mid-game when a pass-pass ending would win (``reports/zero.md``)."""
    tree_reuse: bool = True
    """Keep the subtree of the move played as the next move's tree (self-play)."""
    play_temp_moves: int = 0
    """In play (``select_move(s)``: arena, GTP, evaluation), the first this many moves of a game are drawn in
    proportion to the root visits instead of the most visited (a match's ``@temp_moves=N``); 0: never. With
    ``search=gumbel`` those moves are searched with a Gumbel draw instead."""
    gumbel_scale: float = 1.0
    """Gumbel only: scale of the Gumbel(0, 1) draw added to the root logits in self-play (0: deterministic
    self-play) and in the first moves of matches against the previous best and of ``play_temp_moves``; other
    moves of play and evaluation search without it."""
    max_considered: int = 16
    """Gumbel only: root actions sampled (Gumbel-top-k) into sequential halving, at most the searchable ones; >= 2."""
    c_visit: float = 50.0
    """Gumbel only: ``sigma(q) = (c_visit + max visits) * c_scale * q``, q the completed Q rescaled to [0, 1]."""
    c_scale: float = 0.1
    """Gumbel only: the Q scale of ``sigma`` (mctx's ``value_scale``, whose default 0.1 this is; the paper's 1.0
    makes a young net's completed-Q targets nearly one-hot)."""

    # -- resignation and playout cap randomisation -----------------------------------------------------------------
    resign_threshold: float = -1.0
    """A player resigns when the Q of its chosen move (its own view) is below this; -1 or less disables (the
    default: an untrained value head resigns games it could win, e.g. every black game on 5x5 with komi 24).
    Turn it on (e.g. -0.9) for a trained net, and watch ``selfplay/false_resign``."""
    resign_playthrough: float = 0.1
    """Share of self-play games that never resign, to measure how often resigning would have been wrong."""
    cheap_fraction: float = 0.0
    """Playout cap randomisation (KataGo): share of moves searched with ``cheap_simulations``, without noise (PUCT;
    Gumbel keeps its draw, which picks the move) and not used as policy targets (0 disables; KataGo uses 0.75)."""
    cheap_simulations: int = 16
    """Simulations of a cheap move under playout cap randomisation."""

    # -- evaluation against the previous best -------------------------------------------------------------------
    gating: bool = False
    """AlphaGo Zero's gate: self-play uses the best net so far, replaced by the learner's net only when it scores at
    least ``gate_threshold`` against it in the evaluation match. Off (AlphaZero's continuous update, the default):
    self-play always uses the newest net, and the match only measures progress since the previous evaluation."""
    gate_threshold: float = 0.55
    """Score (wins + half draws, per game) the learner's net needs against the best net to replace it."""
    best_games: int = 40
    """Games of the evaluation match between the learner's net and the previous best (0: no match), searched with
    ``simulations`` per move, colours alternating, the first moves sampled."""

    # -- learning --------------------------------------------------------------------------------------------------
    replay_size: int = 100_000
    """Replay window: the newest this many positions are kept for training."""
    min_replay: int = 2_000
    """Positions in the window before training starts."""
    batch_size: int = 256
    """Positions per gradient step."""
    train_ratio: float = 2.0
    """Positions trained per new self-play position (each update runs ``new * train_ratio / batch_size`` steps)."""
    optimizer: str = "adam"
    """``adam`` or ``sgd`` (momentum 0.9, Nesterov; AlphaZero's choice, wants a larger ``lr``)."""
    lr: float = 2e-3
    """Learning rate."""
    weight_decay: float = 1e-4
    """L2 penalty on the weights (AlphaGo Zero: 1e-4), applied through the optimizer."""
    value_weight: float = 1.0
    """Weight of the value MSE beside the policy cross-entropy."""
    augment: bool = True
    """Train on a random one of the board's 8 symmetries of each sampled position."""

    # -- auxiliary targets (on by default) and the score utility (off; KataGo) ---------------------------------------
    ownership_weight: float = 1.5
    """Weight of the ownership loss (0: no ownership head; default 1.5, KataGo's). On, the net gets an ownership
    head predicting the final owner of every point from the mover's view (+1 the mover's, -1 the opponent's, 0
    neither), trained on the final position of each self-play game (see ``agents.zero.selfplay``). Its loss is
    KataGo's: the per-point cross entropy of ``(1 + o) / 2`` against ``(1 + target) / 2``, averaged over the points
    (KataGo sums and scales by 1/N^2, the same thing), times this weight; KataGo uses 1.5."""
    score_weight: float = 0.02
    """Weight of the score loss (0: no score head; default 0.02). On, the net gets a score head: a distribution over
    the final score margin from the mover's view (area difference minus komi, the mover's share of it) on integer bins,
    trained by cross entropy against the game's margin spread over its two nearest bins (a half-point margin is
    half on each), so the distribution's mean learns the margin exactly. About 0.02 matches KataGo's score
    distribution weight."""
    score_utility: float = 0.0
    """Weight w of the score utility in search (0: the value alone; needs ``score_weight`` > 0). The evaluator
    hands search ``(v + w * 2/pi * atan(s / (score_scale * N))) / (1 + w)`` for value v and predicted margin s on
    an N x N board: still in [-1, 1] (rescaled, never clipped, so a bigger win stays better), and search, the
    resignation threshold and the evaluation matches all see this utility. KataGo mixes about 0.1-0.4."""
    score_scale: float = 0.75
    """Scale of the score utility per board line: ``atan(s / (score_scale * N))`` reaches half its range at a
    margin of ``score_scale * N`` points (6.75 on 9x9; KataGo's 0.75 x sqrt(area))."""

    # -- net (used when the run has no ``net=`` section) -----------------------------------------------------------
    net_kind: str = "resnet"
    """Backbone when the run passes no net config: ``resnet`` or ``mobilenet`` (see ``agents.nets``)."""
    net_preset: str = "auto"
    """Net size when the run passes no net config (``agents.nets.PRESETS``, e.g. ``b6c64`` = 6 blocks x 64
    channels), or ``auto``: by board size, resnet b2c32 up to 5x5, b4c64 up to 7x7, b6c64 above."""
    net_global_pool: bool = True
    """KataGo's global pooling in the default resnet (``net.global_pool``) when the run passes no net config; the
    default mobilenet has none. Makes the default net fully convolutional (one net for every board size)."""

    PREDATED: ClassVar[dict[str, Any]] = {"search": "puct", "ownership_weight": 0.0, "score_weight": 0.0,
                                          "net_global_pool": False}
    """Settings a checkpoint written before they existed ran with: the value their absence stood for then, which is
    not today's default (before ``search`` existed every run searched by PUCT; before the auxiliary heads and
    ``net_global_pool`` the default net had neither). Read by ``agents.config_from_saved``, through which loading,
    playing and compressing a checkpoint build its config."""

    def __post_init__(self) -> None:
        if self.search not in SEARCHES:
            raise ValueError(f"agent.search must be one of {', '.join(SEARCHES)}, got {self.search!r}")
        if self.search == "gumbel" and self.leaves_per_game > 1:
            raise ValueError("agent.leaves_per_game > 1 is not supported with agent.search=gumbel")
        if not (math.isfinite(self.forced_playouts) and self.forced_playouts >= 0):
            raise ValueError(f"agent.forced_playouts must be a finite number >= 0 (0: off; KataGo uses 2), got "
                             f"{self.forced_playouts}")
        if self.search == "gumbel" and self.forced_playouts > 0:
            raise ValueError(f"agent.forced_playouts={self.forced_playouts:g} applies to PUCT search only; set "
                             "agent.forced_playouts=0 with agent.search=gumbel")
        if self.max_considered < 2:
            raise ValueError(f"agent.max_considered must be >= 2 (valid: 2 and up), got {self.max_considered}")
        for name in ("gumbel_scale", "c_visit", "c_scale"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"agent.{name} must be >= 0, got {getattr(self, name)}")
        positive = ("games", "moves_per_collect", "simulations", "leaves_per_game", "play_leaves", "cheap_simulations",
                    "replay_size", "batch_size")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"ZeroConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.best_games < 0:
            raise ValueError(f"ZeroConfig.best_games must be >= 0, got {self.best_games}")
        for name in ("dirichlet_eps", "resign_playthrough", "cheap_fraction", "gate_threshold"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"ZeroConfig.{name} must be in [0, 1], got {getattr(self, name)}")
        if self.net_kind not in ("resnet", "mobilenet"):
            raise ValueError(f"ZeroConfig.net_kind must be resnet or mobilenet, got {self.net_kind!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; valid: {', '.join(OPTIMIZERS)}")
        if self.min_replay < 0 or self.train_ratio < 0 or self.lr <= 0 or self.max_moves_factor <= 0:
            raise ValueError("ZeroConfig: min_replay and train_ratio must be >= 0, lr and max_moves_factor > 0")
        if self.temperature_moves < 0 or self.weight_decay < 0 or self.value_weight < 0:
            raise ValueError("ZeroConfig: temperature_moves, weight_decay and value_weight must be >= 0")
        for name in ("ownership_weight", "score_weight", "score_utility"):
            if getattr(self, name) < 0:
                raise ValueError(f"ZeroConfig.{name} must be >= 0, got {getattr(self, name)}")
        if self.score_scale <= 0:
            raise ValueError(f"ZeroConfig.score_scale must be > 0, got {self.score_scale}")
        if self.score_utility > 0 and self.score_weight <= 0:
            raise ValueError(f"agent.score_utility={self.score_utility:g} searches with the score head, which "
                             "agent.score_weight=0 leaves out; set agent.score_weight > 0 (e.g. 0.02)")
        mix = parse_board_mix(self.board_mix)
        for name in ("games", "batch_size"):
            if mix and getattr(self, name) < len(mix):
                raise ValueError(f"agent.board_mix={self.board_mix} has {len(mix)} sizes and agent.{name}="
                                 f"{getattr(self, name)} cannot give each one: set agent.{name} >= {len(mix)}")
        self.search_config  # noqa: B018  (SearchConfig checks the search settings: c_puct, noise, virtual loss)

    @property
    def board_plan(self) -> tuple[BoardShare, ...]:
        """The sizes of ``board_mix`` (ascending) with their shares, games, minibatch parts and replay windows;
        ``()`` when the mix is off."""
        mix = parse_board_mix(self.board_mix)
        if not mix:
            return ()
        shares = [w for _, w in mix]
        games, batch = split_by_shares(self.games, shares), split_by_shares(self.batch_size, shares)
        return tuple(BoardShare(size, w, g, b, max(1, round(self.replay_size * w)))
                     for (size, w), g, b in zip(mix, games, batch, strict=True))

    def check_net(self, net: Any) -> None:
        """``ValueError`` (one line naming the setting) when ``board_mix`` is on and ``net`` (the run's
        ``agents.nets.NetConfig``, ``None`` for the default net) is not one net for every board size: only
        ``net=resnet net.global_pool=true`` is (the other heads flatten the board into fully connected layers)."""
        pooled = (self.net_global_pool and self.net_kind == "resnet") if net is None else net.global_pool
        if not self.board_mix or pooled:
            return
        which = (f"the default net (net_kind={self.net_kind}, no global pooling)" if net is None
                 else f"net={net.kind} without net.global_pool=true")
        raise ValueError(f"agent.board_mix={self.board_mix} plays every size with one net, and {which} has heads "
                         "fixed to one board size: add net=resnet net.global_pool=true")

    @property
    def steps_per_collect(self) -> int:
        """Positions (env steps) one ``collect()`` plays: ``moves_per_collect`` moves in each of ``games`` games."""
        return self.games * self.moves_per_collect

    @property
    def max_simulations(self) -> int:
        """The most simulations any self-play move runs."""
        return max(self.simulations, self.cheap_simulations if self.cheap_fraction > 0 else 0)

    @property
    def aux_heads(self) -> tuple[str, ...]:
        """The auxiliary heads the net carries and the learner trains: ``ownership`` when ``ownership_weight`` > 0,
        ``score`` when ``score_weight`` > 0 (``agents.nets.AUX_HEADS`` order)."""
        return tuple(name for name, w in (("ownership", self.ownership_weight), ("score", self.score_weight)) if w > 0)

    @property
    def search_config(self) -> SearchConfig:
        """The search's settings, from this config's search fields (same names, same values)."""
        return SearchConfig(search=self.search, simulations=self.simulations, leaves_per_game=self.leaves_per_game,
                            play_leaves=self.play_leaves, virtual_loss=self.virtual_loss, c_puct=self.c_puct,
                            fpu_reduction=self.fpu_reduction, fpu_root_reduction=self.fpu_root_reduction,
                            dirichlet_alpha=self.dirichlet_alpha, dirichlet_eps=self.dirichlet_eps,
                            forced_playouts=self.forced_playouts, sensible_moves=self.sensible_moves,
                            tree_reuse=self.tree_reuse, play_temp_moves=self.play_temp_moves,
                            gumbel_scale=self.gumbel_scale, max_considered=self.max_considered, c_visit=self.c_visit,
                            c_scale=self.c_scale)
