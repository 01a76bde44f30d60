"""Configuration of the AlphaGo (Lee) agent and its training pipeline (``conf/agent/alphago.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass

from agents.search.config import SearchConfig

STAGES = ("corpus", "sl", "rollout", "rl", "value")
"""The pipeline's stages, in order; each ends with a checkpoint."""


@dataclass(frozen=True)
class AlphaGoConfig:
    """AlphaGo (Lee): SL policy, rollout policy, RL policy, value net; a search mixing rollouts with the value net."""

    name: str = "alphago"
    """Agent name (``agent=alphago``)."""
    stage: str = "all"
    """``all``: run the stages in order from the first unfinished one; or one stage alone: ``corpus``, ``sl``,
    ``rollout``, ``rl``, ``value`` (the stages before it must be finished in the run directory)."""

    # -- stage 1: game records -------------------------------------------------------------------------------------
    sgf_dir: str | None = None
    """A folder of SGF games to learn from; ``None`` generates a corpus with ``corpus_engine``."""
    corpus_games: int = 300
    """Games the engine plays against itself when generating the corpus."""
    corpus_engine: str = "gnugo"
    """``gnugo`` (GNU Go, ``apt-get install gnugo``) or any GTP engine command line."""
    corpus_level: int = 1
    """GNU Go level (0..10) of the generated games."""
    corpus_random_moves: int = 2
    """Random opening moves per generated game (for variety; never training targets)."""
    corpus_jobs: int = 2
    """Engine processes playing corpus games at once (the games are the same for any number)."""
    holdout: float = 0.1
    """Share of the games held out to measure the SL and rollout policies' move-prediction accuracy."""

    # -- nets ------------------------------------------------------------------------------------------------------
    net_kind: str = "resnet"
    """Backbone of the policy and value nets when the run passes no ``net=``: ``resnet`` or ``mobilenet``."""
    net_preset: str = "auto"
    """Size of the policy and value nets, or ``auto``: by board size as agent=zero (b2c32 up to 5x5, b4c64 up to
    7x7, b6c64 above)."""

    # -- stage 2: SL policy ----------------------------------------------------------------------------------------
    sl_steps: int = 2000
    """Gradient steps of the supervised policy (cross-entropy on the expert's move)."""
    sl_batch: int = 128
    """Positions per SL step."""
    sl_lr: float = 1e-3
    """Adam learning rate of the SL policy."""
    weight_decay: float = 1e-4
    """L2 penalty of the policy and value nets."""
    augment: bool = True
    """Train the nets on a random one of the 8 board symmetries of each position."""

    # -- stage 3: rollout policy -----------------------------------------------------------------------------------
    rollout_steps: int = 2000
    """Gradient steps of the linear softmax rollout policy."""
    rollout_batch: int = 256
    """Positions per rollout-policy step."""
    rollout_lr: float = 0.05
    """Adam learning rate of the rollout weights."""
    rollout_l2: float = 1e-6
    """L2 penalty on the rollout weights (most 3x3 patterns are rare)."""
    rollout_max_moves: int = 0
    """Move cap of one rollout (then the board is scored as it stands); 0: 3 * N*N."""

    # -- stage 4: RL policy ----------------------------------------------------------------------------------------
    rl_iterations: int = 100
    """REINFORCE iterations; each plays ``rl_games`` games of the current policy against a pool member."""
    rl_games: int = 64
    """Games per iteration (half with each colour); one gradient step on all of their moves."""
    rl_lr: float = 1e-4
    """SGD learning rate of the RL policy."""
    rl_pool_every: int = 10
    """Add the current policy to the opponent pool every this many iterations (the pool starts with the SL net)."""
    eval_games: int = 100
    """Games of the RL policy against the SL policy (both sampling) reported at the end of the stage."""

    # -- stage 5: value net ----------------------------------------------------------------------------------------
    value_games: int = 2000
    """Self-play games generating the value data: one position per game (SL moves, one random move at a move
    drawn uniformly below 2/3 of N*N, then RL to the end); a game over before its random move gives none."""
    value_steps: int = 1000
    """Gradient steps of the value net (mean squared error of the outcome)."""
    value_batch: int = 128
    """Positions per value step."""
    value_lr: float = 1e-3
    """Adam learning rate of the value net."""

    # -- search (what the search reads: :attr:`search_config`; ``lam`` is the leaf-value hook's) -------------------
    lam: float = 0.5
    """lambda: leaf value ``V = (1 - lam) * v(s) + lam * z_rollout``; 0 value net only, 1 rollouts only."""
    simulations: int = 64
    """Simulations per move when playing."""
    play_leaves: int = 8
    """Leaves per search step (virtual loss spreads them); their nets and rollouts run as one batch."""
    virtual_loss: float = 1.0
    """Value subtracted from an edge per pending leaf below it."""
    c_puct: float = 1.5
    """PUCT exploration constant, priors from the SL policy."""
    fpu_reduction: float = 0.25
    """An unvisited child's Q is its parent's value minus this (below the root; 0 at the root)."""
    play_temp_moves: int = 0
    """The first this many moves of a game are drawn in proportion to the root visits instead of the most visited
    (a match's ``@temp_moves=N``); 0: never."""
    max_moves_factor: float = 2.0
    """Move cap of self-play and evaluation games as a multiple of N*N (then scored by area)."""

    def __post_init__(self) -> None:
        if self.stage not in ("all", *STAGES):
            raise ValueError(f"unknown stage {self.stage!r}; valid stages: all, {', '.join(STAGES)}")
        positive = ("corpus_games", "corpus_jobs", "sl_batch", "rollout_batch", "rl_games", "rl_pool_every",
                    "value_batch", "simulations", "play_leaves")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"AlphaGoConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("sl_steps", "rollout_steps", "rl_iterations", "value_games", "value_steps", "eval_games",
                     "corpus_random_moves", "rollout_max_moves"):
            if getattr(self, name) < 0:
                raise ValueError(f"AlphaGoConfig.{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.lam <= 1.0:
            raise ValueError(f"AlphaGoConfig.lam must be in [0, 1], got {self.lam}")
        if not 0.0 <= self.holdout < 1.0:
            raise ValueError(f"AlphaGoConfig.holdout must be in [0, 1), got {self.holdout}")
        if self.net_kind not in ("resnet", "mobilenet"):
            raise ValueError(f"AlphaGoConfig.net_kind must be resnet or mobilenet, got {self.net_kind!r}")
        if not 0 <= self.corpus_level <= 10:
            raise ValueError(f"AlphaGoConfig.corpus_level must be in 0..10, got {self.corpus_level}")
        if min(self.sl_lr, self.rollout_lr, self.rl_lr, self.value_lr) <= 0 or self.max_moves_factor <= 0:
            raise ValueError("AlphaGoConfig: learning rates and max_moves_factor must be > 0")

    @property
    def search_config(self) -> SearchConfig:
        """The search's settings (PUCT): ``simulations``, ``play_leaves`` (every search here is play, so it is also
        the self-play leaf count), ``virtual_loss``, ``c_puct`` and ``fpu_reduction`` from this config; no root
        noise, no FPU reduction at the root, sensible moves only, no tree reuse (each move searches afresh)."""
        return SearchConfig(simulations=self.simulations, leaves_per_game=self.play_leaves,
                            play_leaves=self.play_leaves, virtual_loss=self.virtual_loss, c_puct=self.c_puct,
                            fpu_reduction=self.fpu_reduction, fpu_root_reduction=0.0, dirichlet_eps=0.0,
                            sensible_moves=True, tree_reuse=False, play_temp_moves=self.play_temp_moves)
