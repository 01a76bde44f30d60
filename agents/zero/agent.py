"""The AlphaZero agent: self-play with batched search (``collect``), training on the replay window (``update``).

It meets a game structurally (``agents/zero/game.py``): ``collect(env)`` takes the game from
``env.unwrapped.game`` (the Go envs carry an ``envs.go.game.GoGame``), and a player built outside the runner
gets one with :meth:`ZeroAgent.attach`. It is also a Player (``select_move(state)``, searched without noise)
for the arena and the GTP engine, and ``act(obs, mask)`` plays the raw policy when only an observation is known.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium
import numpy as np
import torch

from agents.nets import NetConfig, build_net
from agents.zero.config import ZeroConfig
from agents.zero.evaluator import NetEvaluator
from agents.zero.game import Game, State
from agents.zero.learner import Learner
from agents.zero.mcts import Search
from agents.zero.replay import Replay
from agents.zero.selfplay import FinishedGame, SelfPlay

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


class ZeroAgent:
    """AlphaZero on any game meeting ``agents.zero.game.Game``; see the module docstring."""

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
        self.net = build_net(net_cfg, shape[0], shape[1], self.num_actions).to(device).eval()
        self.evaluator = NetEvaluator(self.net, device)
        self.learner = Learner(cfg, self.net, device)
        self.replay = Replay(cfg.replay_size, self.plane_shape, self.num_actions)
        self.game: Game | None = None
        self.selfplay: SelfPlay | None = None
        self.games_played = 0
        self.recent_games: list[FinishedGame] = []
        """The last few finished self-play games (for SGF samples)."""

    # -- the game ----------------------------------------------------------------------------------------------------

    def attach(self, game: Game) -> None:
        """Use ``game`` for self-play and search; ``ValueError`` if its sizes differ from the net's."""
        if (game.num_planes, game.board_size, game.num_actions) != (*self.plane_shape[:2], self.num_actions):
            raise ValueError(f"game {game!r} has {game.num_planes} planes on {game.board_size}x{game.board_size} "
                             f"and {game.num_actions} actions; this agent's net expects {self.plane_shape[0]} "
                             f"planes on {self.plane_shape[1]}x{self.plane_shape[2]} and {self.num_actions} actions")
        if self.game is None or _settings(self.game) != _settings(game):
            self.game, self.selfplay = game, None  # another game: self-play restarts on it

    def _game_of(self, env: gymnasium.Env) -> Game:
        game = getattr(env.unwrapped, "game", None)
        if game is None:
            raise ValueError(f"agent zero plays two-player games; env {env.unwrapped!r} offers none as "
                             "env.unwrapped.game (the zoo Go envs do)")
        return game

    # -- self-play and learning ----------------------------------------------------------------------------------

    def collect(self, env: gymnasium.Env) -> ZeroBatch:
        """Play ``moves_per_collect`` moves in each of the ``games`` self-play games; store finished games."""
        if self.game is None or getattr(env.unwrapped, "game", None) is not None:
            self.attach(self._game_of(env))
        if self.selfplay is None:
            self.selfplay = SelfPlay(self.cfg, self.game, self.evaluator, self.rng)
        sp, ev = self.selfplay, self.evaluator
        before = (time.perf_counter(), ev.forward_seconds, ev.calls, ev.positions, sp.positions)
        finished = sp.play(self.cfg.moves_per_collect)
        wall = time.perf_counter() - before[0]
        new = 0
        for g in finished:
            if len(g.z):
                self.replay.add(g.planes, g.policy.astype(np.float16), g.z)
                new += len(g.z)
        self.games_played += len(finished)
        self.recent_games = (self.recent_games + finished)[-4:]
        calls, evals = ev.calls - before[2], ev.positions - before[3]
        metrics = {"selfplay/positions_per_s": (sp.positions - before[4]) / wall,
                   "selfplay/evals_per_s": evals / wall, "selfplay/avg_batch": evals / max(calls, 1),
                   "selfplay/forward_share": (ev.forward_seconds - before[1]) / wall,
                   "selfplay/games": float(self.games_played), "selfplay/replay_size": float(len(self.replay))}
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
        if len(self.replay) >= max(self.cfg.min_replay, 1):
            steps = int(round(batch.new_positions * self.cfg.train_ratio / self.cfg.batch_size))
            metrics.update(self.learner.train(self.replay, steps, self.rng, self.game))
        metrics["train/gradient_steps"] = float(self.learner.steps)
        return metrics

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
        """Searched moves (most visited, no noise) for several positions at once, one batched search."""
        if self.game is None:
            raise ValueError("agent zero needs a game to search: call agent.attach(game) first")
        sims = simulations or self.cfg.simulations
        roots = self.game.batch_from_states(list(states))
        search = Search(self.cfg, len(states), self.num_actions, self.evaluator, self.rng,
                        leaves_per_game=self.cfg.play_leaves, max_simulations=sims)
        search.run(roots, sims, noise=False)
        counts = search.visit_counts()
        return [int(a) for a in counts.argmax(axis=1)]

    def select_move(self, state: State) -> int:
        """The Player seam: the searched move for ``state`` (left unchanged)."""
        return self.select_moves([state])[0]

    def reset(self) -> None:
        """Nothing to clear between games (each move searches from scratch)."""

    # -- checkpoints ---------------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Net, optimizer, replay window, counters, RNG state. Self-play games in progress are not kept: a resumed
        run starts fresh games (finished games are all in the replay window)."""
        return {"format": FORMAT, "kind": "zero", "plane_shape": list(self.plane_shape),
                "num_actions": self.num_actions, "net": self.net.state_dict(),
                "learner": self.learner.state_dict(), "replay": self.replay.state_dict(),
                "games_played": self.games_played, "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`; ``ValueError`` naming the mismatch (agent kind, board, net shape)."""
        if state.get("kind") != "zero" or state.get("format") != FORMAT:
            raise ValueError(f"not a zero agent state (kind {state.get('kind')!r}, format {state.get('format')!r})")
        if tuple(state["plane_shape"]) != self.plane_shape or int(state["num_actions"]) != self.num_actions:
            raise ValueError(f"checkpoint is for planes {tuple(state['plane_shape'])} and {state['num_actions']} "
                             f"actions; this agent has {self.plane_shape} and {self.num_actions}")
        try:
            self.net.load_state_dict({k: torch.as_tensor(v) for k, v in state["net"].items()})
        except RuntimeError as exc:
            raise ValueError(f"net weights do not fit this net ({str(exc).splitlines()[0]})") from None
        self.learner.load_state_dict(state["learner"])
        self.replay.load_state_dict(state["replay"])
        self.games_played = int(state["games_played"])
        if "rng" in state:
            self.rng.bit_generator.state = dict(state["rng"])
        self.net.eval()
