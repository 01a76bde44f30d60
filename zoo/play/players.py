"""Players: whatever picks a Go move for the arena and the GTP engine.

The seam is :class:`Player`: a ``name``, ``select_move(state) -> action`` (``N * N`` is pass, and
:data:`RESIGN` resigns), ``reset()`` at the start of every game (for example to clear a search tree) and
``reseed(seed)`` for a per-game seed; every player here has all four (trivially where there is nothing to do).
A player that moves in several positions at once is also a :class:`BatchPlayer` (``select_moves(states)``); a
searching agent (:class:`agents.protocol.Searcher`) is both as it stands. Built-in bots (:class:`RandomPlayer`,
:class:`CapturePlayer`, :class:`MctsPlayer`) wrap the policies of :mod:`envs.go.opponents` and
:mod:`envs.go.uct`; an external GTP engine becomes a player through :class:`zoo.play.gtp_client.GtpPlayer`; a
trained agent of any kind through :func:`load_agent` and :func:`agent_player` (searching agents play their own
``select_move``, the others their greedy ``act`` on the observation the Go env would give them).
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from agents.protocol import Agent, Searcher
from envs.go.aec import planes_for
from envs.go.opponents import Policy, capture_policy, random_policy
from envs.go.uct import uct_policy

if TYPE_CHECKING:
    from envs.go.state import GoState

RESIGN = -1
"""The action a player returns to resign."""


@runtime_checkable
class Player(Protocol):
    """Given a position, a move; see the module docstring."""

    name: str

    def select_move(self, state: GoState) -> int:
        """A legal action for ``state`` (``N * N`` passes) or :data:`RESIGN`; ``state`` is left unchanged."""
        ...

    def reset(self) -> None:
        """A new game starts: forget what was kept of the last one (a search tree, a mirrored position)."""
        ...

    def reseed(self, seed: int) -> None:
        """Draw from ``seed`` from now on (a match's per-game seed); nothing to do for a player that draws nothing."""
        ...


@runtime_checkable
class BatchPlayer(Protocol):
    """A player that moves in several positions at once (one batched search over all of a match's games)."""

    def select_moves(self, states: list[GoState]) -> list[int]:
        """The moves for ``states``, in order, as :meth:`Player.select_move` would give them; no state is changed."""
        ...


class PolicyPlayer:
    """A :class:`Player` around a policy ``(state, rng) -> action`` with its own seeded generator.

    ``reset()`` does not reseed: a series of games from one seed is reproducible as a whole.
    """

    def __init__(self, policy: Policy, seed: int | None = None, name: str = "policy") -> None:
        self.policy = policy
        self.name = name
        self.rng = np.random.default_rng(seed)

    def select_move(self, state: GoState) -> int:
        """The policy's action for ``state`` (played on a copy, so ``state`` is left as it was)."""
        return int(self.policy(state.copy(), self.rng))

    def reset(self) -> None:
        """Nothing to clear between games."""

    def reseed(self, seed: int) -> None:
        """A new generator from ``seed``."""
        self.rng = np.random.default_rng(seed)


class RandomPlayer(PolicyPlayer):
    """Uniformly random legal moves (pass included), from ``seed``."""

    def __init__(self, seed: int | None = None, name: str = "random") -> None:
        super().__init__(random_policy, seed, name)


class CapturePlayer(PolicyPlayer):
    """The capture-first heuristic of :func:`envs.go.opponents.capture_policy`, from ``seed``."""

    def __init__(self, seed: int | None = None, name: str = "capture") -> None:
        super().__init__(capture_policy, seed, name)


class MctsPlayer(PolicyPlayer):
    """Pure random-rollout Monte Carlo tree search (:mod:`envs.go.uct`) with ``playouts`` simulations per move."""

    def __init__(self, playouts: int = 1000, seed: int | None = None, name: str | None = None,
                 c_uct: float = 0.7) -> None:
        super().__init__(uct_policy(playouts, c_uct), seed, name or f"mcts:{playouts}")
        self.playouts = playouts


class ActPlayer:
    """A :class:`Player` around an agent that only acts on observations (``act(obs, mask, greedy=True)``).

    The observation is what the suite's Go envs give the player to move (:func:`envs.go.aec.planes_for`, the
    ``(2k+1, N, N)`` planes of :meth:`GoState.features`), cut to the agent's ``history`` ``k`` when the state keeps
    more boards; the mask is the legal-action mask.
    """

    def __init__(self, agent: Agent, history: int, name: str = "agent") -> None:
        self.agent, self.history, self.name = agent, int(history), name

    def observation(self, state: GoState) -> np.ndarray:
        """float32 ``(2k+1, N, N)`` planes of ``state`` from the mover's side, ``k`` = this player's history."""
        planes = planes_for(state, state.to_play)
        k, have = self.history, state.history
        if have < k:
            raise ValueError(f"player {self.name} needs {k} boards of history; the position keeps {have}")
        if have > k:
            planes = np.concatenate([planes[:k], planes[have : have + k], planes[2 * have :]])
        return planes

    def select_move(self, state: GoState) -> int:
        """The agent's greedy action for ``state`` (left unchanged)."""
        return int(self.agent.act(self.observation(state), state.legal_mask().astype(np.int8), greedy=True))

    def reset(self) -> None:
        """Nothing to clear between games."""

    def reseed(self, seed: int) -> None:
        """Nothing to reseed: the greedy policy draws nothing."""


class SearchPlayer:
    """A :class:`Player` and :class:`BatchPlayer` around a :class:`Searcher` agent on Go states (``zero``,
    ``alphago``)."""

    def __init__(self, agent: Searcher, name: str = "agent") -> None:
        self.agent, self.name = agent, name

    def select_move(self, state: GoState) -> int:
        """The agent's searched move for ``state`` (left unchanged)."""
        return int(self.agent.select_move(state.copy()))

    def select_moves(self, states: list[GoState]) -> list[int]:
        """Searched moves for several positions at once (one batched search)."""
        return [int(a) for a in self.agent.select_moves([s.copy() for s in states])]

    def reset(self) -> None:
        """Start a new game (the agent forgets its kept search tree)."""
        self.agent.reset()

    def reseed(self, seed: int) -> None:
        """Give the agent a new generator from ``seed`` (a per-game seed)."""
        self.agent.reseed(seed)


@dataclass
class LoadedAgent:
    """An agent rebuilt from a checkpoint: the agent, its config (plain dict) and the Go env it was trained on."""

    agent: Any
    config: dict[str, Any]
    env: Any
    path: Path

    @property
    def board_size(self) -> int | None:
        """Board size of the Go env it was trained on; ``None`` when it was not trained on Go."""
        return getattr(self.env.unwrapped, "board_size", None)

    @property
    def history(self) -> int:
        """Boards of history in its observations (the Go env's ``history``)."""
        return int(getattr(self.env.unwrapped, "history", 8))

    @property
    def searches(self) -> bool:
        """Whether it picks moves by search on Go states (a :class:`Searcher`) rather than by ``act``."""
        return isinstance(self.agent, Searcher)


def load_agent(checkpoint: str | Path, overrides: dict[str, Any] | None = None, seed: int = 0) -> LoadedAgent:
    """Rebuild the agent of a checkpoint (file, or run directory: its newest checkpoint) of any agent of the suite.

    Reads the checkpoint's ``config``, builds the agent through ``agents.build_agent`` (with ``overrides`` applied to
    its config, e.g. ``{"simulations": 200}``), loads its state and attaches the env's game to a :class:`Searcher`.
    Raises :class:`zoo.errors.UserError` naming the problem (missing or damaged checkpoint, unknown override).
    """
    import dataclasses

    from agents import build_agent, config_from_saved
    from zoo.errors import CheckpointError, UserError
    from zoo.run.checkpoint import load_checkpoint, resolve_resume
    from zoo.run.config import EnvConfig, agent_config_class, field_names, net_config_class
    from zoo.run.make_env import make_env

    path = resolve_resume(checkpoint, option="")
    ckpt = load_checkpoint(path)
    config = ckpt.get("config") or {}
    if "agent" not in config or "env" not in config or "agent" not in ckpt:
        raise CheckpointError(f"checkpoint {path} holds no agent config (not written by train.py)")
    agent_cfg = dict(config["agent"])
    cls = agent_config_class(agent_cfg.get("name", "?"))
    known = set(field_names(cls))
    bad = sorted(set(overrides or {}) - known)
    if bad:
        raise UserError(f"{checkpoint}: agent {agent_cfg['name']} has no setting {', '.join(bad)}; "
                        f"valid: {', '.join(sorted(known))}")
    cfg = config_from_saved(cls, agent_cfg)
    if overrides:
        for key, value in overrides.items():
            _check_override(cls, key, value, checkpoint)
        try:
            cfg = dataclasses.replace(cfg, **overrides)
        except (TypeError, ValueError) as exc:
            raise UserError(f"{checkpoint}: {exc}") from None
    net = config.get("net")
    if net:
        net_cls = net_config_class(net.get("kind", ""))
        net = net_cls(**{k: v for k, v in net.items() if k in set(field_names(net_cls))})
    env_cfg = {k: v for k, v in config["env"].items() if k in set(field_names(EnvConfig))}
    env = make_env(EnvConfig(**env_cfg), seed=seed)
    try:
        agent = build_agent(cfg, env.observation_space, env.action_space, np.random.default_rng(seed), "cpu",
                            net=net)
        agent.load_state_dict(ckpt["agent"])
    except ValueError as exc:
        raise CheckpointError(f"checkpoint {path}: {exc}") from None
    game = getattr(env.unwrapped, "game", None)
    if game is not None and isinstance(agent, Searcher):
        agent.attach(game)
    return LoadedAgent(agent, config, env, Path(path))


def _check_override(cls: type, key: str, value: Any, checkpoint: str | Path) -> None:
    """UserError unless ``value`` fits the type of the agent config's field ``key``: an int for an int field (not a
    bool, not 2.5), a finite number for a float field, true/false for a bool field."""
    import math
    import typing

    from zoo.errors import UserError

    kind = typing.get_type_hints(cls).get(key)
    options = typing.get_args(kind) if typing.get_origin(kind) in (typing.Union, types.UnionType) else (kind,)
    fits = (
        (int in options and isinstance(value, int) and not isinstance(value, bool))
        or (float in options and isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))
        or (bool in options and isinstance(value, bool))
        or (str in options and isinstance(value, str))
        or not {int, float, bool, str} & set(options)
    )
    if not fits:
        wanted = " or ".join(t.__name__ for t in options if t in (int, float, bool, str))
        finite = " (finite)" if float in options else ""
        raise UserError(f"{checkpoint}: setting {key}={value!r} of agent {cls.__name__} must be {wanted}{finite}")


def agent_player(loaded: LoadedAgent, name: str | None = None) -> Player:
    """The :class:`Player` of a loaded agent: :class:`SearchPlayer` if it searches Go states, else
    :class:`ActPlayer`."""
    name = name or str(loaded.config.get("agent", {}).get("name", "agent"))
    if loaded.searches:
        return SearchPlayer(loaded.agent, name)
    return ActPlayer(loaded.agent, loaded.history, name)


BUILTIN_PLAYERS = {"random": RandomPlayer, "capture": CapturePlayer}
"""Built-in players by name; each class takes ``seed``."""


def make_player(name: str, seed: int | None = None) -> Player:
    """The built-in player ``name`` seeded with ``seed``; ``ValueError`` listing valid names otherwise."""
    if name not in BUILTIN_PLAYERS:
        raise ValueError(f"unknown player {name!r}; valid: {', '.join(sorted(BUILTIN_PLAYERS))}")
    return BUILTIN_PLAYERS[name](seed)
