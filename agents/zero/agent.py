"""The AlphaZero agent: self-play with batched search (``collect``), training on the replay window (``update``).

It meets a game structurally (``agents/search/game.py``): ``collect(env)`` takes the game from
``env.unwrapped.game`` (the Go envs carry an ``envs.go.game.GoGame``), and a player built outside the runner
gets one with :meth:`ZeroAgent.attach`. It is also a Player (``select_move(state)``, searched without noise)
for the arena and the GTP engine, and ``act(obs, mask)`` plays the raw policy when only an observation is known.

Its capabilities (``agents.protocol``): :class:`Searcher` (attach, reset, reseed, select_move(s)),
:class:`SelfPlayer` (its self-play weights and replay window, for remote self-play and data-parallel ranks; the
previous best; the compressed self-play net) and :class:`Accelerable` (precision, compile, data parallelism).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium
import numpy as np
import torch

from agents.nets import NetConfig, build_net, load_weights
from agents.nets.checkpoint import saved_aux
from agents.protocol import Accelerable, Described, Searcher, SelfPlayer
from agents.search.evaluator import NetEvaluator, ScoreUtility
from agents.search.game import Game, State
from agents.search.mcts import Search, play_moves
from agents.zero.config import ZeroConfig
from agents.zero.gating import net_match
from agents.zero.learner import Learner
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
    5x5, b4c64 up to 7x7, b6c64 above (mobilenet: b4c32, b6c48, b8c64)."""
    preset = cfg.net_preset
    if preset == "auto":
        sizes = {"resnet": ("b2c32", "b4c64", "b6c64"), "mobilenet": ("b4c32", "b6c48", "b8c64")}[cfg.net_kind]
        preset = sizes[0] if board_size <= 5 else sizes[1] if board_size <= 7 else sizes[2]
    return NetConfig(kind=cfg.net_kind, preset=preset)


def _settings(game: Game) -> tuple[Any, ...]:
    """What makes two games the same game: an equal one (e.g. the eval env's) keeps self-play running."""
    return tuple(getattr(game, k, None) for k in ("board_size", "komi", "history", "max_moves", "num_actions"))


class ZeroAgent(Searcher, SelfPlayer, Accelerable, Described):
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
        self.replay = Replay(cfg.replay_size, self.plane_shape, self.num_actions, aux=cfg.aux_heads)
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
            self.game, self.selfplay = game, None  # another game: self-play restarts on it
            self.reset()

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
        if self.utility is not None:
            rows["search value"] = (f"(value + {self.utility.weight:g} x 2/pi atan(score / {self.utility.scale:g})) / "
                                    f"{1 + self.utility.weight:g}")
        if self.warm_start is not None:
            rows["warm start"] = self.warm_start
        return rows

    @property
    def collect_steps(self) -> int:
        """Positions played so far by the collect running now (0 between collects)."""
        start, sp = self._collect_from, self.selfplay
        return 0 if start is None or sp is None else max(sp.positions - start, 0)

    # -- self-play and learning ----------------------------------------------------------------------------------

    def collect(self, env: gymnasium.Env) -> ZeroBatch:
        """Play ``moves_per_collect`` moves in each of the ``games`` self-play games; store finished games."""
        if self.game is None or getattr(env.unwrapped, "game", None) is not None:
            self.attach(self._game_of(env))
        self._refresh_selfplay_net()
        if self.selfplay is None:
            state, self._selfplay_state = self._selfplay_state, None
            self.selfplay = SelfPlay(self.cfg, self.game, self.selfplay_evaluator, self.rng, state=state)
        sp, ev = self.selfplay, self.selfplay_evaluator
        before = (time.perf_counter(), ev.forward_seconds, ev.calls, ev.positions, sp.positions)
        self._collect_from = sp.positions
        try:
            finished = sp.play(self.cfg.moves_per_collect)
        finally:
            self._collect_from = None
        wall = time.perf_counter() - before[0]
        new = self.add_games(finished)
        calls, evals = ev.calls - before[2], ev.positions - before[3]
        metrics = {"selfplay/positions_per_s": (sp.positions - before[4]) / wall,
                   "selfplay/evals_per_s": evals / wall, "selfplay/avg_batch": evals / max(calls, 1),
                   "selfplay/forward_share": (ev.forward_seconds - before[1]) / wall,
                   "selfplay/games": float(self.games_played), "selfplay/replay_size": float(len(self.replay))}
        if self.compression is not None:
            metrics["selfplay/compressed"] = float(self.selfplay_evaluator.net is not self._selfplay_source)
        if finished:
            metrics["selfplay/game_length"] = float(np.mean([len(g.actions) for g in finished]))
            metrics["selfplay/black_wins"] = float(np.mean([g.winner > 0 for g in finished]))
            metrics["selfplay/resigned"] = float(np.mean([g.resigned for g in finished]))
            checked = [g.false_resign for g in finished if g.false_resign is not None]
            if checked:
                metrics["selfplay/false_resign"] = float(np.mean(checked))
        return ZeroBatch(sp.positions - before[4], [float(g.winner) for g in finished],
                         [len(g.actions) for g in finished], new, finished, metrics)

    def update(self, batch: ZeroBatch) -> dict[str, float]:
        """Train ``new_positions * train_ratio / batch_size`` steps once the window holds ``min_replay``."""
        metrics = dict(batch.metrics)
        if len(self.replay) >= self.min_replay:
            steps = int(round(batch.new_positions * self.cfg.train_ratio / self.cfg.batch_size))
            metrics.update(self.learner.train(self.replay, steps, self.rng, self.game))
        metrics["train/gradient_steps"] = float(self.learner.steps)
        self._updates_since_build += 1
        return metrics

    # -- the replay window and the self-play weights, for self-play played elsewhere -----------------------------

    def add_games(self, games: Sequence[FinishedGame]) -> int:
        """Finished games into the window (``collect``'s own, or played by a copy of this agent elsewhere): their
        positions (full searches only), counted in ``games_played``, the last four kept in ``recent_games``.
        Returns the positions added."""
        new = 0
        for g in games:
            if len(g.z):
                self.replay.add(g.planes, g.policy.astype(np.float16), g.z, g.ownership, g.score)
                new += len(g.z)
        self.games_played += len(games)
        self.recent_games = (self.recent_games + list(games))[-4:]
        return new

    def add_positions(self, planes: np.ndarray, policy: np.ndarray, z: np.ndarray, games: int = 0,
                      ownership: np.ndarray | None = None, score: np.ndarray | None = None) -> None:
        """Stored positions back into the window (packed planes uint8, policies float16, outcomes int8, and their
        auxiliary targets when stored: ownership int8 ``(n, N*N)``, score float ``(n,)``, NaN for none), from
        ``games`` finished games (counted in ``games_played``)."""
        self.replay.add(planes, policy, z, ownership, score)
        self.games_played += games

    @property
    def replay_size(self) -> int:
        """Positions in the replay window."""
        return len(self.replay)

    @property
    def replay_added(self) -> int:
        """Positions ever added to the replay window."""
        return self.replay.added

    @property
    def min_replay(self) -> int:
        """Positions the window must hold before :meth:`update` trains: ``cfg.min_replay``, at least 1."""
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
        wrapper for training."""
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
        the method cannot compress this net on this device."""
        source = self._selfplay_source
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
        which a restored agent builds again from the learner's weights."""
        if self.selfplay is not None:
            selfplay = self.selfplay.state_dict()
        else:
            selfplay = dict(self._selfplay_state) if self._selfplay_state is not None else None
        return {"format": FORMAT, "kind": "zero", "plane_shape": list(self.plane_shape),
                "num_actions": self.num_actions, "net": self.net.state_dict(), "best_net": self.best_net.state_dict(),
                "learner": self.learner.state_dict(), "replay": self.replay.state_dict(),
                "games_played": self.games_played, "rng": self.rng.bit_generator.state, "selfplay": selfplay}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`; ``ValueError`` naming the mismatch (agent kind, board, net shape)."""
        if state.get("kind") != "zero" or state.get("format") != FORMAT:
            raise ValueError(f"not a zero agent state (kind {state.get('kind')!r}, format {state.get('format')!r})")
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
        self.selfplay, self._selfplay_state = None, state.get("selfplay")
        self.net.eval()
        self.reset()

    def restart_selfplay(self) -> None:
        """Forget the self-play games in progress (its own, or a checkpoint's): the next ``collect`` starts new
        games."""
        self.selfplay = self._selfplay_state = None
