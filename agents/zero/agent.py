"""The AlphaZero agent: self-play with batched search (``collect``), training on the replay window (``update``).

It meets a game structurally (``agents/search/game.py``): ``collect(env)`` takes the game from
``env.unwrapped.game`` (the Go envs carry an ``envs.go.game.GoGame``), and a player built outside the runner
gets one with :meth:`ZeroAgent.attach`. It is also a Player (``select_move(state)``, searched without noise)
for the arena and the GTP engine, and ``act(obs, mask)`` plays the raw policy when only an observation is known.

Its capabilities (``agents.protocol``): :class:`Searcher` (attach, reset, reseed, select_move(s)),
:class:`SelfPlayer` (its self-play weights and replay window, for remote self-play and data-parallel ranks; the
previous best; the compressed self-play net), :class:`Accelerable` (precision, compile, data parallelism) and
:class:`WarmStarter` (the nets of a checkpoint of another board, with a net that runs on every size).

With ``agent.board_mix`` it self-plays several board sizes with its one net (:mod:`agents.zero.board_mix`): the
run's board (the env's) is its own self-play and replay window, as without a mix, sized by its share; the other
sizes are a :class:`BoardMix`, and each gradient step draws from every size's window in proportion. Evaluation,
play and the match against the previous best stay on the run's board.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium
import numpy as np
import torch

from agents.nets import NetConfig, build_net, load_weights
from agents.nets.checkpoint import saved_aux
from agents.protocol import Accelerable, Described, Searcher, SelfPlayer, WarmStarter
from agents.search.evaluator import NetEvaluator, ScoreUtility
from agents.search.game import Game, State
from agents.search.mcts import Search, play_moves
from agents.zero.board_mix import BoardMix, games_in
from agents.zero.config import BOARD_MIX_FORM, ZeroConfig
from agents.zero.gating import net_match
from agents.zero.learner import Learner, Window
from agents.zero.replay import Replay
from agents.zero.selfplay import FinishedGame, SelfPlay, check_aux_game

FORMAT = 1
"""Version of the ``state_dict`` layout."""


@dataclass
class ZeroBatch:
    """What one ``collect()`` produced (the runner reads the first three fields)."""

    env_steps: int
    """Moves played in self-play (all games, resignations not counted)."""
    episode_returns: list[float]
    """Outcome of each finished game from the first player's (black's) view: +1, -1 or 0."""
    episode_lengths: list[int]
    """Moves of each finished game."""
    new_positions: int = 0
    """Positions added to the replay window (full searches of finished games)."""
    games: list[FinishedGame] = field(default_factory=list)
    """The finished games themselves."""
    metrics: dict[str, float] = field(default_factory=dict)
    """Self-play speed and resignation statistics."""


def default_net(cfg: ZeroConfig, board_size: int) -> NetConfig:
    """The net of ``cfg.net_kind`` / ``cfg.net_preset``; preset ``auto`` picks by board size: resnet b2c32 up to
    5x5, b4c64 up to 7x7, b6c64 above (mobilenet: b4c32, b6c48, b8c64); the resnet with global pooling when
    ``cfg.net_global_pool``."""
    preset = cfg.net_preset
    if preset == "auto":
        sizes = {"resnet": ("b2c32", "b4c64", "b6c64"), "mobilenet": ("b4c32", "b6c48", "b8c64")}[cfg.net_kind]
        preset = sizes[0] if board_size <= 5 else sizes[1] if board_size <= 7 else sizes[2]
    return NetConfig(kind=cfg.net_kind, preset=preset, global_pool=cfg.net_global_pool and cfg.net_kind == "resnet")


def _settings(game: Game) -> tuple[Any, ...]:
    """What makes two games the same game: an equal one (e.g. the eval env's) keeps self-play running."""
    return tuple(getattr(game, k, None) for k in ("board_size", "komi", "history", "max_moves", "num_actions"))


class ZeroAgent(Searcher, SelfPlayer, Accelerable, Described, WarmStarter):
    """AlphaZero on any game meeting ``agents.search.game.Game``; see the module docstring."""

    name = "zero"

    def __init__(self, cfg: ZeroConfig, observation_space: gymnasium.Space, action_space: gymnasium.Space,
                 rng: np.random.Generator, device: str = "cpu", net: NetConfig | None = None) -> None:
        shape = getattr(observation_space, "shape", None)
        n_actions = getattr(action_space, "n", None)
        if shape is None or len(shape) != 3 or shape[1] != shape[2] or n_actions is None:
            raise ValueError(f"agent zero needs (C, N, N) board planes and a Discrete action space; got "
                             f"observations {observation_space} and actions {action_space}")
        self.cfg, self.rng, self.device = cfg, rng, device
        self.plane_shape, self.num_actions = tuple(int(s) for s in shape), int(n_actions)
        if net is not None and not isinstance(net, NetConfig):
            raise ValueError(f"agent zero needs a board net (net=resnet, mobilenet or densenet), got {net!r}")
        net_cfg = net if net is not None else default_net(cfg, shape[1])
        self.net_cfg = net_cfg
        self.plan = cfg.board_plan
        """The sizes of ``cfg.board_mix`` with their shares (``()``: no mix)."""
        self.main_plan = self._check_mix(net, shape[1])
        """The run's board's part of the mix (None: no mix)."""
        self.selfplay_cfg = (cfg if self.main_plan is None
                             else dataclasses.replace(cfg, games=self.main_plan.games, board_mix=""))
        """What the run's board's self-play plays by: ``cfg``, or with a mix its share of the games."""
        self.mix = BoardMix(cfg, shape[1]) if self.main_plan is not None else None
        """The mix's other sizes: their games, self-play and windows (None: no mix)."""
        self.net_source = "net=" if net is not None else "auto" if cfg.net_preset == "auto" else "net_preset"
        """Where the net's size came from (for :meth:`describe`)."""
        self.net = build_net(net_cfg, shape[0], shape[1], self.num_actions, aux=cfg.aux_heads).to(device).eval()
        self.utility = (ScoreUtility(cfg.score_utility, cfg.score_scale * shape[1]) if cfg.score_utility > 0
                        else None)
        """What the evaluators hand search instead of the bare value (``cfg.score_utility``), or None."""
        self.evaluator = NetEvaluator(self.net, device, self.utility)
        self.best_net = copy.deepcopy(self.net).eval()
        """The previous best net: the net of the last evaluation (continuous update), or with ``cfg.gating`` the
        gate's champion, which is then what self-play searches with."""
        self.best_evaluator = NetEvaluator(self.best_net, device, self.utility)
        self.selfplay_evaluator = self.best_evaluator if cfg.gating else self.evaluator
        """What self-play searches with: the learner's net (the best net under gating), or a compressed copy of it
        (:meth:`set_selfplay_compression`)."""
        self.compression: Any = None
        self._compressed_at: int | None = None
        self._updates_since_build = 0
        self._collect_from: int | None = None
        """``selfplay.positions`` when the collect running now began (:attr:`collect_steps`)."""
        self.learner = Learner(cfg, self.net, device)
        capacity = cfg.replay_size if self.main_plan is None else self.main_plan.capacity
        self.replay = Replay(capacity, self.plane_shape, self.num_actions, aux=cfg.aux_heads)
        self.game: Game | None = None
        self.selfplay: SelfPlay | None = None
        self._selfplay_state: Mapping[str, Any] | None = None
        """Self-play games in progress from a checkpoint, continued by the next ``collect``."""
        self.games_played = 0
        self.recent_games: list[FinishedGame] = []
        """The last few finished self-play games (for SGF samples)."""
        self._play_tree: Search | None = None
        self._play_root: State | None = None
        self._play_action = -1
        self.reused_searches = 0
        """Searches of :meth:`select_move` that continued a kept tree."""
        self.warm_start: str | None = None
        """What the last :meth:`load_state_dict` did about auxiliary heads the checkpoint lacked or had beyond this
        net's (one line, shown by :meth:`describe`), or None."""

    # -- the game ----------------------------------------------------------------------------------------------------

    def attach(self, game: Game) -> None:
        """Use ``game`` for self-play and search; ``ValueError`` if its sizes differ from the net's, or if the net has
        auxiliary heads and the game cannot count their targets (naming the settings)."""
        check_aux_game(self.cfg, game)
        if (game.num_planes, game.board_size, game.num_actions) != (*self.plane_shape[:2], self.num_actions):
            raise ValueError(f"game {game!r} has {game.num_planes} planes on {game.board_size}x{game.board_size} "
                             f"and {game.num_actions} actions; this agent's net expects {self.plane_shape[0]} "
                             f"planes on {self.plane_shape[1]}x{self.plane_shape[2]} and {self.num_actions} actions")
        if self.game is None or _settings(self.game) != _settings(game):
            if self.mix is not None:
                self.mix.attach(game)  # the other sizes' games, from this one
            self.game, self.selfplay = game, None  # another game: self-play restarts on it
            self.reset()

    def _check_mix(self, net: NetConfig | None, size: int) -> Any:
        """The run's board's part of ``cfg.board_mix`` (None without a mix); ``ValueError`` (one line) when the net
        does not run on every size, the mix leaves out the run's board (``size``), or the score head's bins (the
        run's board's) cannot hold a larger board's margins."""
        cfg = self.cfg
        if not self.plan:
            return None
        cfg.check_net(net)
        main = next((p for p in self.plan if p.size == size), None)
        if main is None:
            raise ValueError(f"agent.board_mix={cfg.board_mix} leaves out this run's board, {size}x{size} (the env's): "
                             f"give it a share; valid form: {BOARD_MIX_FORM}")
        largest = self.plan[-1].size
        if "score" in cfg.aux_heads and largest > size:
            raise ValueError(f"agent.board_mix={cfg.board_mix} plays {largest}x{largest}, whose margins the score "
                             f"head's bins (those of the run's {size}x{size}) cannot hold: make the largest board "
                             "the env's, or set agent.score_weight=0")
        return main

    def _game_of(self, env: gymnasium.Env) -> Game:
        game = getattr(env.unwrapped, "game", None)
        if game is None:
            raise ValueError(f"agent zero plays two-player games; env {env.unwrapped!r} offers none as "
                             "env.unwrapped.game (the zoo Go envs do)")
        return game

    def describe(self) -> dict[str, str]:
        """The net (kind, size, parameters, multiply-adds per position) and the self-play settings."""
        from agents.nets.stats import count_macs, count_params  # here: `python -m agents.nets.stats` imports agents

        cfg = self.cfg
        example = torch.zeros((1, *self.plane_shape), device=self.device)
        training = self.net.training
        self.net.eval()
        macs = count_macs(self.net, example)
        self.net.train(training)
        blocks, channels = self.net_cfg.size()
        extras = [*(["global pooling"] if self.net_cfg.global_pool else []), *(f"{h} head" for h in self.net.aux)]
        rows = {
            "net": f"{self.net_cfg.kind} b{blocks}c{channels}{''.join(', ' + e for e in extras)} ({self.net_source}): "
                   f"{count_params(self.net) / 1e6:.2f} M params, {macs / 1e6:.1f} M MACs per position",
            "self-play": f"{cfg.games} games x {cfg.simulations} simulations"
                         + (" (Gumbel search)" if cfg.search == "gumbel" else "")
                         + f", collects of {cfg.moves_per_collect} moves ({cfg.games * cfg.moves_per_collect:,} "
                           "positions)",
            "training": f"once finished games hold {self.min_replay:,} positions; {cfg.train_ratio:g} trained per "
                        "new one",
        }
        if self.mix is not None:
            rows["board mix"] = self.mix.describe(self.main_plan)
        if self.utility is not None:
            rows["search value"] = (f"(value + {self.utility.weight:g} x 2/pi atan(score / {self.utility.scale:g})) / "
                                    f"{1 + self.utility.weight:g}")
        if self.warm_start is not None:
            rows["warm start"] = self.warm_start
        return rows

    @property
    def collect_steps(self) -> int:
        """Positions played so far by the collect running now (0 between collects)."""
        start = self._collect_from
        return 0 if start is None else max(self._played() - start, 0)

    def _played(self) -> int:
        """Moves played so far by every self-play (the run's board's and the mix's other sizes')."""
        own = self.selfplay.positions if self.selfplay is not None else 0
        return own + (sum(self.mix.positions().values()) if self.mix is not None else 0)

    # -- self-play and learning ----------------------------------------------------------------------------------

    def collect(self, env: gymnasium.Env) -> ZeroBatch:
        """Play ``moves_per_collect`` moves in each of the ``games`` self-play games (with a mix: in every size's
        share of them); store finished games."""
        if self.game is None or getattr(env.unwrapped, "game", None) is not None:
            self.attach(self._game_of(env))
        self._refresh_selfplay_net()
        if self.selfplay is None:
            state, self._selfplay_state = self._selfplay_state, None
            self.selfplay = SelfPlay(self.selfplay_cfg, self.game, self.selfplay_evaluator, self.rng, state=state)
        if self.mix is not None:
            self.mix.start(self.selfplay_evaluator, self.rng)
        sp, ev = self.selfplay, self.selfplay_evaluator
        before = (time.perf_counter(), ev.forward_seconds, ev.calls, ev.positions, self._played())
        sizes_before = self._positions_by_size()
        self._collect_from = before[4]
        try:
            finished = sp.play(self.cfg.moves_per_collect)
            others = self.mix.play(self.cfg.moves_per_collect) if self.mix is not None else {}
        finally:
            self._collect_from = None
        wall = time.perf_counter() - before[0]
        played = self._played() - before[4]
        every = finished + [g for games in others.values() for g in games]
        new = self.add_games(every)
        calls, evals = ev.calls - before[2], ev.positions - before[3]
        metrics = {"selfplay/positions_per_s": played / wall,
                   "selfplay/evals_per_s": evals / wall, "selfplay/avg_batch": evals / max(calls, 1),
                   "selfplay/forward_share": (ev.forward_seconds - before[1]) / wall,
                   "selfplay/games": float(self.games_played), "selfplay/replay_size": float(self.replay_size)}
        if self.mix is not None:
            windows = {self.plane_shape[1]: len(self.replay), **self.mix.sizes()}
            for size, now in self._positions_by_size().items():
                metrics[f"selfplay/positions_{size}"] = float(now - sizes_before[size])
                metrics[f"selfplay/replay_size_{size}"] = float(windows[size])
        if self.compression is not None:
            metrics["selfplay/compressed"] = float(self.selfplay_evaluator.net is not self._selfplay_source)
        if finished:  # the run's board's games
            metrics["selfplay/game_length"] = float(np.mean([len(g.actions) for g in finished]))
            metrics["selfplay/black_wins"] = float(np.mean([g.winner > 0 for g in finished]))
            metrics["selfplay/resigned"] = float(np.mean([g.resigned for g in finished]))
            checked = [g.false_resign for g in finished if g.false_resign is not None]
            if checked:
                metrics["selfplay/false_resign"] = float(np.mean(checked))
        return ZeroBatch(played, [float(g.winner) for g in every], [len(g.actions) for g in every], new, every,
                         metrics)

    def _positions_by_size(self) -> dict[int, int]:
        """Board size -> moves its self-play has played so far (the run's board first)."""
        own = self.selfplay.positions if self.selfplay is not None else 0
        return {self.plane_shape[1]: own, **(self.mix.positions() if self.mix is not None else {})}

    def update(self, batch: ZeroBatch) -> dict[str, float]:
        """Train ``new_positions * train_ratio / batch_size`` steps once the window holds ``min_replay``."""
        metrics = dict(batch.metrics)
        steps = int(round(batch.new_positions * self.cfg.train_ratio / self.cfg.batch_size))
        if self.mix is None and len(self.replay) >= self.min_replay:
            metrics.update(self.learner.train(self.replay, steps, self.rng, self.game))
        elif self.mix is not None and self.replay_size >= self.min_replay:  # (and every size's window holds some)
            metrics.update(self.learner.train_windows(self._windows(), steps, self.rng))
        metrics["train/gradient_steps"] = float(self.learner.steps)
        self._updates_since_build += 1
        return metrics

    def _windows(self) -> list[Window]:
        """Every size's window with its part of the minibatch, smallest board first (a mix only)."""
        assert self.mix is not None and self.main_plan is not None
        own = Window(str(self.plane_shape[1]), self.replay, self.game, self.main_plan.batch)
        others = [Window(str(size), b.replay, b.game, b.plan.batch) for size, b in self.mix.boards.items()]
        return sorted([own, *others], key=lambda w: int(w.label))

    # -- the replay window and the self-play weights, for self-play played elsewhere -----------------------------

    def add_games(self, games: Sequence[FinishedGame]) -> int:
        """Finished games into the window (``collect``'s own, or played by a copy of this agent elsewhere): their
        positions (full searches only), counted in ``games_played``, the last four kept in ``recent_games``.
        Returns the positions added."""
        new = 0
        for g in games:
            if len(g.z):
                self._window_for(g.policy.shape[1]).add(g.planes, g.policy.astype(np.float16), g.z, g.ownership,
                                                        g.score)
                new += len(g.z)
        self.games_played += len(games)
        own = [g for g in games if g.policy.shape[1] == self.num_actions]  # SGF samples: the run's board
        self.recent_games = (self.recent_games + own)[-4:]
        return new

    def _window_for(self, num_actions: int) -> Replay:
        """The window of the board with ``num_actions`` actions (the run's, or a size of the mix); ``ValueError``
        when no board of this agent has that many."""
        if num_actions == self.num_actions:
            return self.replay
        board = self.mix.board_for(num_actions) if self.mix is not None else None
        if board is None:
            raise ValueError(f"positions with {num_actions} actions fit no board of this agent (the run's has "
                             f"{self.num_actions}{'; agent.board_mix=' + self.cfg.board_mix if self.mix else ''})")
        return board.replay

    def add_positions(self, planes: np.ndarray, policy: np.ndarray, z: np.ndarray, games: int = 0,
                      ownership: np.ndarray | None = None, score: np.ndarray | None = None) -> None:
        """Stored positions back into the window (packed planes uint8, policies float16, outcomes int8, and their
        auxiliary targets when stored: ownership int8 ``(n, N*N)``, score float ``(n,)``, NaN for none), from
        ``games`` finished games (counted in ``games_played``). With a mix they go to the window of the board
        their policies fit."""
        self._window_for(np.asarray(policy).shape[1]).add(planes, policy, z, ownership, score)
        self.games_played += games

    @property
    def replay_size(self) -> int:
        """Positions in the replay window (with a mix: in every size's window), or, with a mix while a size's
        window is still empty, 0 (nothing to train on yet: each step draws from every size)."""
        if self.mix is None:
            return len(self.replay)
        sizes = [len(self.replay), *self.mix.sizes().values()]
        return sum(sizes) if min(sizes) > 0 else 0

    @property
    def replay_added(self) -> int:
        """Positions ever added to the replay window (with a mix: to every size's window)."""
        return self.replay.added + (self.mix.added() if self.mix is not None else 0)

    @property
    def min_replay(self) -> int:
        """Positions the window must hold before :meth:`update` trains (:attr:`replay_size` at least this):
        ``cfg.min_replay``, at least 1."""
        return max(self.cfg.min_replay, 1)

    @property
    def batch_size(self) -> int:
        """Positions per gradient step (``cfg.batch_size``)."""
        return self.cfg.batch_size

    @property
    def learner_steps(self) -> int:
        """Gradient steps taken so far (the version of the self-play weights)."""
        return self.learner.steps

    def selfplay_weights(self) -> dict[str, torch.Tensor]:
        """A detached CPU copy of the fp32 net self-play plays: the best net under gating, else the learner's."""
        return {k: v.detach().to("cpu", copy=True) for k, v in self._selfplay_source.state_dict().items()}

    def load_selfplay_weights(self, weights: Mapping[str, Any]) -> None:
        """Load :meth:`selfplay_weights` of another copy of this agent into the net self-play plays."""
        self._selfplay_source.load_state_dict(weights)

    # -- precision, compile, data parallelism ----------------------------------------------------------------------

    def set_precision(self, dtype: torch.dtype | None) -> None:
        """CUDA autocast dtype of the learner's and the best net's evaluators and of training (``None``: fp32);
        fp16 adds a gradient scaler. Ignored on the CPU; a compressed self-play copy keeps its own precision."""
        amp = dtype if torch.device(self.device).type == "cuda" else None
        for plain in (self.evaluator, self.best_evaluator):
            plain.amp_dtype = amp
        self.learner.set_precision(dtype)

    def compile_nets(self) -> None:
        """Inference (the learner's net's evaluator) and training both through one ``torch.compile`` of the net,
        with dynamic shapes (batch sizes vary with the games still searching)."""
        compiled = torch.compile(self.net, dynamic=True)
        self.evaluator.model = self.learner.model = compiled

    def data_parallel(self, compile: bool = False) -> None:
        """Train through DistributedDataParallel (see :meth:`Learner.data_parallel`); ``compile`` compiles the
        wrapper for training. ``ValueError`` with ``agent.board_mix``: its steps run one forward pass per size,
        which DistributedDataParallel does not take."""
        if self.mix is not None:
            raise ValueError(f"agent.board_mix={self.cfg.board_mix} trains one forward pass per board size in each "
                             "step, which data-parallel training (torchrun) does not take: train a mix in one process")
        self.learner.data_parallel()
        if compile:
            self.learner.model = torch.compile(self.learner.model)

    # -- a compressed self-play net ------------------------------------------------------------------------------

    def set_selfplay_compression(self, compression: Any) -> None:
        """Self-play searches with ``compression.build(net, planes, batch)`` (an
        ``agents.compress.selfplay.SelfPlayCompression``): a compressed copy of the learner's net, built once the
        replay window holds ``compression.min_positions`` positions (the learner's own net until then) and
        rebuilt from the learner's weights every ``compression.refresh`` updates, calibrated on the newest
        ``compression.wanted_positions`` replay positions. The learner keeps training its fp32 net; evaluation
        and play (``select_move``) search with the learner's net. ``None`` turns it off. ``ValueError`` when
        the method cannot compress this net on this device, or with ``agent.board_mix``."""
        source = self._selfplay_source
        if compression is not None and self.mix is not None:
            raise ValueError(f"compress={compression.cfg.method} calibrates the self-play net on one board size, and "
                             f"agent.board_mix={self.cfg.board_mix} self-plays several: use compress=none with a mix")
        if compression is not None and self.utility is not None:
            raise ValueError(f"compress={compression.cfg.method} searches with a compressed copy that has no score "
                             f"head, and agent.score_utility={self.cfg.score_utility:g} needs one; use compress=none "
                             "or agent.score_utility=0")
        if compression is not None:
            compression.check(source)
        self.compression, self._compressed_at, self._updates_since_build = compression, None, 0
        plain = self.best_evaluator if self.cfg.gating else self.evaluator
        self.selfplay_evaluator = plain if compression is None else NetEvaluator(source, self.device)
        if compression is not None and self.device != "cpu":
            self.selfplay_evaluator.autocast = False  # the compressed copy has its own precision
        self.selfplay = None  # self-play restarts with the new evaluator
        if self.mix is not None:
            self.mix.restart()

    def _newest_planes(self, n: int) -> np.ndarray:
        """float32 ``(min(n, size), C, H, W)``: the newest positions of the replay window."""
        r = self.replay
        n = min(n, len(r))
        idx = (r.next - n + np.arange(n)) % r.capacity
        bits = np.unpackbits(r.planes[idx], axis=1, count=r.plane_bits)
        return bits.reshape(n, *self.plane_shape).astype(np.float32)

    def _refresh_selfplay_net(self) -> None:
        """Build or rebuild the compressed self-play net when due (see :meth:`set_selfplay_compression`)."""
        c = self.compression
        if c is None or len(self.replay) < c.min_positions:
            return
        if self._compressed_at is not None and (self._compressed_at == self.learner.steps
                                                or self._updates_since_build < c.refresh):
            return
        planes = self._newest_planes(c.wanted_positions)
        batch = self.cfg.games * self.cfg.leaves_per_game
        self.selfplay_evaluator.net = c.build(self._selfplay_source, planes, batch)
        self._compressed_at, self._updates_since_build = self.learner.steps, 0

    def save_selfplay_net(self, folder: str, stem: str) -> list[str]:
        """Compress the learner's current net as self-play would and write it (and its ONNX export when asked)
        into ``folder`` as ``STEM-METHOD.*``; returns the paths (none without compression, or while the replay
        window holds fewer positions than the method needs)."""
        if self.compression is None or len(self.replay) < self.compression.min_positions:
            return []
        planes = self._newest_planes(self.compression.wanted_positions)
        model = self.compression.build(self.net, planes if len(planes) else None)
        return [str(p) for p in self.compression.save(model, self.net, planes, folder, stem)]

    @property
    def _selfplay_source(self) -> torch.nn.Module:
        """The fp32 net self-play plays (or compresses): the best net under gating, else the learner's."""
        return self.best_net if self.cfg.gating else self.net

    # -- the previous best ---------------------------------------------------------------------------------------

    def evaluate_against_best(self, games: int | None = None) -> dict[str, float]:
        """Play the learner's net against the previous best (``cfg.best_games`` games, batched search), then move
        the best on: always under continuous update, on a ``cfg.gate_threshold`` score under gating.

        Returns ``eval/win_prev_best`` (the learner's score per game, draws half), its per-colour scores and,
        under gating, ``gate/promoted`` (1 when the learner's net became the best). ``{}`` with no game attached."""
        games = self.cfg.best_games if games is None else games
        if self.game is None or games < 1:
            return {}
        result = net_match(self.game, self.cfg, self.evaluator, self.best_evaluator, games, self.rng)
        out = {"eval/win_prev_best": result.win_rate,
               "eval/win_prev_best_as_black": result.score_as_black / ((games + 1) // 2),
               "eval/win_prev_best_as_white": result.score_as_white / max(games // 2, 1)}
        promote = not self.cfg.gating or result.win_rate >= self.cfg.gate_threshold
        if promote:
            self.best_net.load_state_dict(self.net.state_dict())
            if self.cfg.gating:
                self._compressed_at = None  # a compressed self-play copy is rebuilt from the new best
                if self.selfplay is not None:
                    self.selfplay.search.clear(np.arange(self.selfplay.search.B))  # trees of the old priors
                if self.mix is not None:
                    self.mix.clear_searches()
        if self.cfg.gating:
            out["gate/promoted"] = float(promote)
        return out

    # -- acting --------------------------------------------------------------------------------------------------

    def act(self, obs: Any, mask: np.ndarray | None = None, greedy: bool = False) -> int:
        """The raw policy's move for planes ``obs (C, N, N)`` (no search: no state is known); legal per ``mask``."""
        planes = np.asarray(obs, np.float32)[None]
        legal = np.ones((1, self.num_actions), bool) if mask is None else np.asarray(mask, bool)[None]
        priors, _ = self.evaluator.evaluate(planes, legal)
        p = priors[0].astype(np.float64) * legal[0]
        if greedy or p.sum() <= 0:
            return int(np.argmax(np.where(legal[0], p, -1.0)))
        return int(self.rng.choice(self.num_actions, p=p / p.sum()))

    def select_moves(self, states: Sequence[State], simulations: int | None = None) -> list[int]:
        """Searched moves (no noise: PUCT's most visited, Gumbel's action) for several positions at once, one
        batched search (:func:`agents.search.mcts.play_moves`)."""
        if self.game is None:
            raise ValueError("agent zero needs a game to search: call agent.attach(game) first")
        sims = simulations or self.cfg.simulations
        roots = self.game.batch_from_states(list(states))
        cfg = self.cfg.search_config
        search = Search(cfg, len(states), self.num_actions, self.evaluator, self.rng,
                        leaves_per_game=cfg.leaves_in_play, max_simulations=sims)
        return play_moves(search, roots, sims, cfg.play_temp_moves, self.rng)

    def select_move(self, state: State) -> int:
        """The Player seam: the searched move for ``state`` (left unchanged), with tree reuse.

        When ``state`` is the position this agent last searched followed by its chosen move and one opponent move
        (a game played move by move, as through GTP or the arena), the search continues from that subtree
        (``cfg.tree_reuse``); any other position (a new game, an undo, another game) starts a fresh tree.
        """
        if self.game is None:
            raise ValueError("agent zero needs a game to search: call agent.attach(game) first")
        cfg = self.cfg.search_config
        sims = cfg.simulations
        reused = self._play_tree is not None and cfg.tree_reuse and self._advance_play_tree(state)
        if not reused:
            self._play_tree = Search(cfg, 1, self.num_actions, self.evaluator, self.rng,
                                     leaves_per_game=cfg.leaves_in_play, max_simulations=sims)
        search = self._play_tree
        root = self.game.batch_from_states([state])
        action = play_moves(search, root, sims, cfg.play_temp_moves, self.rng)[0]
        self._play_root, self._play_action = state.copy(), action
        self.reused_searches += int(reused)
        return action

    def _advance_play_tree(self, state: State) -> bool:
        """Move the kept tree two plies down (our last move, then the opponent's) if that reaches ``state``."""
        after_ours = self._play_root.copy()
        if after_ours.is_terminal:
            return False
        after_ours.play(self._play_action)
        if after_ours.is_terminal:
            return False
        target, mask = state.features(), state.legal_mask()
        for reply in np.flatnonzero(after_ours.legal_mask()):
            candidate = after_ours.copy()
            candidate.play(int(reply))
            if (candidate.to_play == state.to_play and np.array_equal(candidate.features(), target)
                    and np.array_equal(candidate.legal_mask(), mask)):
                self._play_tree.advance(np.array([self._play_action]))
                self._play_tree.advance(np.array([int(reply)]))
                return True
        return False

    def reset(self) -> None:
        """Forget the kept search tree (a new game starts)."""
        self._play_tree = self._play_root = None
        self._play_action = -1

    def reseed(self, seed: int) -> None:
        """A new generator from ``seed`` for what draws from ``self.rng`` from now on (searches, sampling, training;
        self-play already under way keeps the generator it was built with)."""
        self.rng = np.random.default_rng(seed)

    # -- checkpoints ---------------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything training goes on from, as arrays and plain values: the learner's and the best net, the
        optimizer and its step count, the replay window (in place, so sampling draws the same positions), the
        games played, the generator's state, and the self-play games in progress with their kept search trees
        (``selfplay``, ``None`` before the first collect; :meth:`SelfPlay.state_dict`). Restored into an agent of
        the same config, the next ``collect`` and ``update`` are those this agent would have run, bit for bit on
        the CPU. Not kept: the last finished games (SGF samples) and a compressed self-play net (``compress=``),
        which a restored agent builds again from the learner's weights. With a mix, ``replay`` and ``selfplay`` are
        the run's board's and ``mix`` holds every other size's (:meth:`BoardMix.state_dict`)."""
        if self.selfplay is not None:
            selfplay = self.selfplay.state_dict()
        else:
            selfplay = dict(self._selfplay_state) if self._selfplay_state is not None else None
        state = {"format": FORMAT, "kind": "zero", "plane_shape": list(self.plane_shape),
                 "num_actions": self.num_actions, "net": self.net.state_dict(), "best_net": self.best_net.state_dict(),
                 "learner": self.learner.state_dict(), "replay": self.replay.state_dict(),
                 "games_played": self.games_played, "rng": self.rng.bit_generator.state, "selfplay": selfplay}
        if self.mix is not None:
            state["mix"] = self.mix.state_dict()
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`; ``ValueError`` naming the mismatch (agent kind, board, net shape). Games in
        progress of another number of games than this agent plays on the run's board are dropped (new games
        start); a mix's boards are restored as :meth:`BoardMix.load_state_dict` says (without a mix, ignored)."""
        _check_kind(state)
        if tuple(state["plane_shape"]) != self.plane_shape or int(state["num_actions"]) != self.num_actions:
            raise ValueError(f"checkpoint is for planes {tuple(state['plane_shape'])} and {state['num_actions']} "
                             f"actions; this agent has {self.plane_shape} and {self.num_actions}")
        fresh, dropped = load_weights(self.net, state["net"])
        load_weights(self.best_net, state.get("best_net", state["net"]))
        saved_names = None
        self.warm_start = None
        if fresh or dropped:
            saved = build_net(self.net_cfg, *self.plane_shape[:2], self.num_actions, aux=saved_aux(state["net"]))
            saved_names = [n for n, _ in saved.named_parameters()]
            self.warm_start = "; ".join(
                [*([f"{' and '.join(fresh)} head{'s' if len(fresh) > 1 else ''} not in the checkpoint: "
                    "initialised fresh"] if fresh else []),
                 *([f"{' and '.join(dropped)} head{'s' if len(dropped) > 1 else ''} of the checkpoint dropped"]
                   if dropped else [])])
        self.learner.load_state_dict(state["learner"], saved_names)
        self.replay.load_state_dict(state["replay"])
        self.games_played = int(state["games_played"])
        if "rng" in state:
            self.rng.bit_generator.state = dict(state["rng"])
        selfplay = state.get("selfplay")
        self.selfplay = None
        self._selfplay_state = selfplay if games_in(selfplay) == self.selfplay_cfg.games else None
        if self.mix is not None:
            self.mix.load_state_dict(state.get("mix") or [])
        self.net.eval()
        self.reset()

    def warm_start_from(self, state: Mapping[str, Any]) -> str:
        """Start from the nets of ``state`` (a :meth:`state_dict` saved on another env, e.g. a smaller board) and
        nothing else: the learner's and the best net get its learner's weights; optimizer, replay windows and
        self-play start fresh. A score head whose bins differ (another board) starts fresh. Returns the notice
        (also :attr:`warm_start`, shown by :meth:`describe`). ``ValueError`` (one line) when the planes differ,
        when the boards differ and this net's weights depend on the board size (no ``net.global_pool``), or when
        the weights do not fit this net."""
        _check_kind(state)
        saved, here = tuple(int(x) for x in state["plane_shape"]), self.plane_shape
        was, now = f"{saved[1]}x{saved[2]}", f"{here[1]}x{here[2]}"
        if saved[0] != here[0]:
            raise ValueError(f"the checkpoint's net reads {saved[0]} input planes and this run's {here[0]}: it cannot "
                             "warm-start this run")
        if saved[1:] != here[1:] and not self.net_cfg.global_pool:
            raise ValueError(f"a {was} checkpoint cannot warm-start this {now} run: this net's weights depend on the "
                             "board size (fully connected heads); train both runs with net=resnet net.global_pool=true")
        weights = dict(state["net"])
        own = self.net.state_dict()
        if any(k.startswith("score.") and k in own and tuple(own[k].shape) != tuple(v.shape)
               for k, v in weights.items()):
            weights = {k: v for k, v in weights.items() if not k.startswith("score.")}  # another board's bins
        try:
            fresh, dropped = load_weights(self.net, weights)
        except ValueError as exc:
            raise ValueError(f"the {was} checkpoint's net does not fit this {now} run's net ({exc}); a warm start "
                             "needs the same net= settings on both, with net.global_pool=true across sizes") from None
        self.best_net.load_state_dict(self.net.state_dict())
        notes = [f"the net of a {was} checkpoint on this {now} board: weights only (optimizer, replay window and "
                 "self-play start fresh)"]
        notes += [f"{h} head initialised fresh" for h in fresh]
        notes += [f"{h} head of the checkpoint dropped" for h in dropped]
        self.warm_start = "; ".join(notes)
        self.net.eval()
        return self.warm_start

    def restart_selfplay(self) -> None:
        """Forget the self-play games in progress (its own, or a checkpoint's): the next ``collect`` starts new
        games."""
        self.selfplay = self._selfplay_state = None
        if self.mix is not None:
            self.mix.restart()


def _check_kind(state: Mapping[str, Any]) -> None:
    """``ValueError`` unless ``state`` is a zero agent's state of this :data:`FORMAT`."""
    if state.get("kind") != "zero" or state.get("format") != FORMAT:
        raise ValueError(f"not a zero agent state (kind {state.get('kind')!r}, format {state.get('format')!r})")
