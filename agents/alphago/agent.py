"""The AlphaGo (Lee) agent: its four learned parts and the search that plays with them.

Parts: the SL policy net (the search's priors), the rollout policy (linear softmax weights over the game's move
features), the RL policy net (REINFORCE self-play; it makes the value net's data and plays raw moves in
``act``) and the value net. The pipeline (``zoo/alphago_pipeline.py``) trains them stage by stage; the agent
holds them, checkpoints them, and plays.

It is a Player like the zero agent: ``attach(game)``, then ``select_moves(states)`` (one batched search over all
positions: priors from the SL policy, leaf values ``(1 - lam) * v + lam * z_rollout``; see
``agents/alphago/search.py``) or ``select_move(state)``; ``reset()`` between games, ``reseed(seed)`` for a
per-game seed (the :class:`agents.protocol.Searcher` it declares). A part not trained yet plays as a blank: no
value net gives ``v = 0``; no rollout weights give uniformly random rollouts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium
import numpy as np
import torch

from agents.alphago.config import STAGES, AlphaGoConfig
from agents.alphago.policy import build_policy_net, build_value_net, default_net, policy_probs
from agents.alphago.search import MixedValue, PolicyValueEvaluator, run_search
from agents.nets import NetConfig
from agents.protocol import Searcher
from agents.search.game import Game, State
from agents.search.mcts import played_moves

FORMAT = 1
"""Version of the ``state_dict`` layout."""


class AlphaGoAgent(Searcher):
    """SL policy, rollout policy, RL policy and value net of one board, and the search that plays with them."""

    name = "alphago"

    def __init__(self, cfg: AlphaGoConfig, observation_space: gymnasium.Space, action_space: gymnasium.Space,
                 rng: np.random.Generator, device: str = "cpu", net: NetConfig | None = None) -> None:
        shape = getattr(observation_space, "shape", None)
        n_actions = getattr(action_space, "n", None)
        if shape is None or len(shape) != 3 or shape[1] != shape[2] or n_actions is None:
            raise ValueError(f"agent alphago needs (C, N, N) board planes and a Discrete action space; got "
                             f"observations {observation_space} and actions {action_space}")
        if net is not None and not isinstance(net, NetConfig):
            raise ValueError(f"agent alphago needs a board net (net=resnet, mobilenet or densenet), got {net!r}")
        self.cfg, self.rng, self.device = cfg, rng, device
        self.plane_shape, self.num_actions = tuple(int(s) for s in shape), int(n_actions)
        self.net_cfg = net if net is not None else default_net(cfg.net_kind, cfg.net_preset, shape[1])
        c, n = self.plane_shape[0], self.plane_shape[1]
        self.sl_net = build_policy_net(self.net_cfg, c, n, self.num_actions).to(device).eval()
        self.rl_net = build_policy_net(self.net_cfg, c, n, self.num_actions).to(device).eval()
        self.value_net = build_value_net(self.net_cfg, c, n, self.num_actions).to(device).eval()
        self.rollout_weights: np.ndarray | None = None
        self.stages: list[str] = []
        """Finished pipeline stages, in order."""
        self.metrics: dict[str, float] = {}
        """The figures each stage measured (accuracies, win rates, losses)."""
        self.game: Game | None = None

    # -- the game ----------------------------------------------------------------------------------------------------

    def attach(self, game: Game) -> None:
        """Play ``game``; ``ValueError`` if its planes, board or actions differ from the nets'."""
        if (game.num_planes, game.board_size, game.num_actions) != (*self.plane_shape[:2], self.num_actions):
            raise ValueError(f"game {game!r} has {game.num_planes} planes on {game.board_size}x{game.board_size} "
                             f"and {game.num_actions} actions; this agent's nets expect {self.plane_shape[0]} "
                             f"planes on {self.plane_shape[1]}x{self.plane_shape[2]} and {self.num_actions} actions")
        self.game = game

    def mix(self, seed: int | None = None) -> MixedValue:
        """The leaf-value hook with this agent's ``lam`` and rollout weights (zeros, i.e. uniform, if untrained)."""
        weights = self.rollout_weights
        if weights is None and self.game is not None:
            weights = np.zeros(int(getattr(self.game, "rollout_features", 0)))
        max_moves = self.cfg.rollout_max_moves or None
        seed = int(self.rng.integers(2**31)) if seed is None else seed
        return MixedValue(self.cfg.lam if weights is not None else 0.0, weights, seed, max_moves)

    def evaluator(self) -> PolicyValueEvaluator:
        """Priors from the SL policy; values from the value net once trained (else 0), skipped when lam = 1."""
        use_value = "value" in self.stages and self.cfg.lam < 1.0
        return PolicyValueEvaluator(self.sl_net, self.value_net if use_value else None, self.device)

    # -- acting --------------------------------------------------------------------------------------------------

    def select_moves(self, states: Sequence[State], simulations: int | None = None) -> list[int]:
        """Searched moves (most visited) for several positions at once, in one batched search."""
        if self.game is None:
            raise ValueError("agent alphago needs a game to search: call agent.attach(game) first")
        sims = simulations or self.cfg.simulations
        roots = self.game.batch_from_states(list(states))
        search = run_search(roots, self.evaluator(), self.mix(), self.cfg.search_config, sims, self.rng)
        return played_moves(search.visit_counts(), roots.move_count, self.cfg.search_config.play_temp_moves, self.rng)

    def select_move(self, state: State) -> int:
        """The Player seam: the searched move for ``state`` (left unchanged)."""
        return self.select_moves([state])[0]

    def reset(self) -> None:
        """Nothing to clear between games (each move searches from scratch)."""

    def reseed(self, seed: int) -> None:
        """A new generator from ``seed`` for the searches and rollouts from now on."""
        self.rng = np.random.default_rng(seed)

    def act(self, obs: Any, mask: np.ndarray | None = None, greedy: bool = False) -> int:
        """The raw policy's move for planes ``obs (C, N, N)`` (RL policy once trained, else SL); no search."""
        net = self.rl_net if "rl" in self.stages else self.sl_net
        legal = np.ones((1, self.num_actions), bool) if mask is None else np.asarray(mask, bool)[None]
        p = policy_probs(net, np.asarray(obs, np.float32)[None], legal, self.device)[0]
        if greedy:
            return int(np.argmax(np.where(legal[0], p, -1.0)))
        return int(self.rng.choice(self.num_actions, p=p / p.sum()))

    # -- checkpoints ---------------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Nets, rollout weights, finished stages and their figures, RNG state."""
        return {"format": FORMAT, "kind": "alphago", "plane_shape": list(self.plane_shape),
                "num_actions": self.num_actions, "sl": self.sl_net.state_dict(), "rl": self.rl_net.state_dict(),
                "value": self.value_net.state_dict(),
                "rollout": None if self.rollout_weights is None else np.asarray(self.rollout_weights, np.float64),
                "stages": list(self.stages), "metrics": dict(self.metrics), "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`; ``ValueError`` naming the mismatch (agent kind, board, net shape)."""
        if state.get("kind") != "alphago" or state.get("format") != FORMAT:
            raise ValueError(f"not an alphago agent state (kind {state.get('kind')!r}, format "
                             f"{state.get('format')!r})")
        if tuple(state["plane_shape"]) != self.plane_shape or int(state["num_actions"]) != self.num_actions:
            raise ValueError(f"checkpoint is for planes {tuple(state['plane_shape'])} and {state['num_actions']} "
                             f"actions; this agent has {self.plane_shape} and {self.num_actions}")
        for key, module in (("sl", self.sl_net), ("rl", self.rl_net), ("value", self.value_net)):
            try:
                module.load_state_dict({k: torch.as_tensor(v) for k, v in state[key].items()})
            except RuntimeError as exc:
                raise ValueError(f"{key} net weights do not fit this net ({str(exc).splitlines()[0]})") from None
            module.eval()
        rollout = state.get("rollout")
        self.rollout_weights = None if rollout is None else np.asarray(rollout, np.float64)
        stages = [s for s in state.get("stages", []) if s in STAGES]
        self.stages = stages
        self.metrics = {str(k): float(v) for k, v in state.get("metrics", {}).items()}
        if "rng" in state:
            self.rng.bit_generator.state = dict(state["rng"])
