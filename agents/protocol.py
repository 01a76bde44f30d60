"""The seams every agent meets (docs/design.md, "The seams"), and the capabilities only some agents have.

An agent is built from its frozen config dataclass, the env's spaces and a seeded ``np.random.Generator``. The
run loop (``zoo.run.loop``) drives it::

    batch = agent.collect(env)          # plays the agent's unit of work: an episode, a rollout, self-play games
    metrics = agent.update(batch)       # learns; returns scalar metrics; agents never log or print

Agents never import ``envs``, ``zoo``, Hydra or wandb: the env arrives as a plain ``gymnasium.Env``.

Every agent is an :class:`Agent` (structurally). What only some agents can do is a capability protocol, which
such an agent declares by inheriting it (``class ZeroAgent(Searcher, SelfPlayer, Accelerable)``) and which its
users test with ``isinstance`` before calling it:

- :class:`Searcher`: picks moves by searching game states (zero, alphago); the arena, GTP and the Go evaluation.
- :class:`SelfPlayer`: self-play into a replay window, and the learner of remote self-play (zero); the Ray and
  torchrun runners, the previous-best evaluation, the compressed self-play net.
- :class:`Accelerable`: torch nets put in an autocast precision, compiled, trained data-parallel (zero).
- :class:`Described`: says what it runs with (its net and size, its self-play settings) for a run's start banner,
  and how far the collect running now has come (a self-play collect takes a minute on a CPU).
- :class:`Episodic`: keeps the env's episode running from one ``collect`` to the next (dqn), and hands its view
  of that episode to the runner's checkpoints.
- :class:`WarmStarter`: starts a new run from the nets of another run's checkpoint, on another board (zero with
  a net that runs on every board size).
- :class:`QValued`: has an action value for every observation and action (q, sarsa, vi, dqn); the pictures of a
  gridworld agent's greedy policy and values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import gymnasium
import numpy as np

if TYPE_CHECKING:
    import torch

    from agents.search.game import Game, State


@runtime_checkable
class Batch(Protocol):
    """What the runner reads of any ``collect()`` result; agents add whatever their ``update()`` needs."""

    env_steps: int
    """Environment steps taken by this ``collect()`` call."""
    episode_returns: list[float]
    """Undiscounted returns of the episodes that finished during the call (may be empty)."""
    episode_lengths: list[int]
    """Lengths of those episodes, in steps."""


@runtime_checkable
class Agent(Protocol):
    """A learning agent; see the module docstring for the loop that drives it."""

    def act(self, obs: Any, mask: np.ndarray | None = None, greedy: bool = False) -> int:
        """Choose an action for ``obs``; never one where ``mask`` (int8/bool over actions) is 0.

        ``greedy=True`` gives the evaluation policy (no exploration).
        """
        ...

    def collect(self, env: gymnasium.Env) -> Batch:
        """Interact with ``env`` for one unit of work and return what ``update`` learns from."""
        ...

    def update(self, batch: Batch) -> dict[str, float]:
        """Learn from ``batch``; return scalar metrics (loss, epsilon, ...) for the logger."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: arrays, tensors, scalars, RNG state. No pickled objects."""
        ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what ``state_dict`` returned; raise ``ValueError`` naming the mismatch (shape, kind)."""
        ...


@runtime_checkable
class Searcher(Protocol):
    """An agent that picks moves by searching the states of a two-player game (:mod:`agents.search.game`).

    It moves from states, not observations: whoever drives it outside ``collect`` (the arena, GTP, the run's Go
    evaluation, Ray workers) hands it the game first with :meth:`attach`. With its ``name``, ``select_move``,
    ``reset`` and ``reseed`` it is also one of zoo's players (``zoo.play.players.Player``) as it stands.
    """

    name: str
    """The agent's name (its config's ``name``: ``zero``, ``alphago``), e.g. for game records."""

    def attach(self, game: Game) -> None:
        """Search ``game`` from now on (self-play too). ``ValueError`` when its planes, board or number of actions
        differ from what the agent's nets take. A game with other settings than the attached one also forgets the
        kept tree (:meth:`reset`); attaching an equal game keeps everything."""
        ...

    def reset(self) -> None:
        """Forget any kept search tree: the next :meth:`select_move` searches from scratch (a new game starts)."""
        ...

    def reseed(self, seed: int) -> None:
        """Draw from a new generator seeded with ``seed`` from now on (a match's per-game seed), so the moves that
        follow replay for the same seed."""
        ...

    def select_move(self, state: State) -> int:
        """The searched move for ``state``, without noise; ``state`` is left unchanged. May continue a kept tree
        when ``state`` follows the last searched position. ``ValueError`` before :meth:`attach`."""
        ...

    def select_moves(self, states: Sequence[State]) -> list[int]:
        """The searched moves for ``states`` (in order) in one batched search from fresh trees, without noise; no
        state is changed. ``ValueError`` before :meth:`attach`."""
        ...


@runtime_checkable
class SelfPlayer(Protocol):
    """An agent whose ``collect`` is self-play into a replay window and whose ``update`` trains on that window.

    It can be the learner of self-play played elsewhere (``runner=ray``): copies of it load the weights it hands
    out (:meth:`selfplay_weights`, versioned by :attr:`learner_steps`) and play; it takes their finished games
    (:meth:`add_games`) exactly as its own ``collect`` takes its games. Data-parallel ranks (``torchrun``) read
    the window's size and the training settings to agree on the number of gradient steps.

    A finished game (``batch.games`` of ``collect``, :attr:`recent_games`, what :meth:`add_games` takes) has
    ``planes``, ``policy`` and ``z`` (its recorded positions, as :meth:`add_positions` takes them), ``ownership``
    and ``score`` (their auxiliary targets, or None), ``actions`` (every move, black first), ``winner`` (+1 black,
    -1 white, 0 draw) and ``resigned``.
    """

    games_played: int
    """Finished self-play games taken into the window so far (collected and added); callers only read it."""
    recent_games: list[Any]
    """The last few finished games, oldest first (SGF samples); callers only read it."""

    @property
    def learner_steps(self) -> int:
        """Gradient steps taken so far: the version of the weights :meth:`selfplay_weights` hands out."""
        ...

    @property
    def replay_size(self) -> int:
        """Positions in the replay window now."""
        ...

    @property
    def replay_added(self) -> int:
        """Positions ever added to the window (it keeps the newest); restored from checkpoints, so positions
        stored elsewhere since (shards) can be told apart."""
        ...

    @property
    def min_replay(self) -> int:
        """Positions the window must hold before ``update`` trains (at least 1)."""
        ...

    @property
    def batch_size(self) -> int:
        """Positions per minibatch of one gradient step."""
        ...

    def selfplay_weights(self) -> dict[str, Any]:
        """A CPU copy of the state dict of the net self-play searches with: the gate's champion (the previous best
        net) under gating, else the learner's net. A copy of the agent takes it with :meth:`load_selfplay_weights`."""
        ...

    def load_selfplay_weights(self, weights: Mapping[str, Any]) -> None:
        """Load ``weights`` (from :meth:`selfplay_weights` of an agent of the same config) into the net self-play
        searches with."""
        ...

    def add_games(self, games: Sequence[Any]) -> int:
        """Take finished games played elsewhere as ``collect`` takes its own: their positions into the window, the
        games counted in :attr:`games_played`, the newest kept in :attr:`recent_games`. Returns the number of
        positions added (what ``batch.new_positions`` counts)."""
        ...

    def add_positions(self, planes: np.ndarray, policy: np.ndarray, z: np.ndarray, games: int = 0,
                      ownership: np.ndarray | None = None, score: np.ndarray | None = None) -> None:
        """Put stored positions back into the window, as a game's arrays hold them: bit-packed planes uint8
        ``(n, bytes)``, visit distributions float16 ``(n, A)``, outcomes int8 ``(n,)``, and, where the games had
        auxiliary targets, their ownership int8 ``(n, N*N)`` and score ``(n,)`` (NaN: none). ``games`` is the
        number of finished games they came from (counted in :attr:`games_played`); :attr:`recent_games` is left
        alone."""
        ...

    def restart_selfplay(self) -> None:
        """Forget the self-play games in progress (its own, or those a checkpoint brought): the next ``collect``
        starts new games. A data-parallel rank above 0 resumed from rank 0's checkpoint plays games of its own."""
        ...

    def evaluate_against_best(self) -> dict[str, float]:
        """Play the learner's net against the previous best and move the best on (always, or under gating on a
        winning score); returns ``eval/...`` metrics, ``{}`` with no game attached."""
        ...

    def set_selfplay_compression(self, compression: Any) -> None:
        """Self-play with a compressed copy of its net (an ``agents.compress.selfplay.SelfPlayCompression``),
        ``None`` for the net itself. ``ValueError`` when the method cannot compress this net on this device."""
        ...

    def save_selfplay_net(self, folder: str, stem: str) -> list[str]:
        """Write the learner's net compressed as self-play would into ``folder`` (``STEM-METHOD.*``); returns the
        paths written: none without a compression, or while the window is too small to calibrate it."""
        ...


@runtime_checkable
class Accelerable(Protocol):
    """An agent whose torch nets can run in an autocast precision, compiled, and train data-parallel."""

    def set_precision(self, dtype: torch.dtype | None) -> None:
        """CUDA autocast dtype of inference and training (``None``: fp32); fp16 adds a gradient scaler. No effect on
        the CPU, nor on a compressed self-play copy (it has its own precision)."""
        ...

    def compile_nets(self) -> None:
        """Run the forward passes of inference and training through one ``torch.compile`` of the net (dynamic batch
        sizes); the parameters stay the net's."""
        ...

    def data_parallel(self, compile: bool = False) -> None:
        """Train through ``DistributedDataParallel`` (the process group must be initialised): rank 0's parameters
        are broadcast now, gradients are averaged over the ranks at every step. ``compile`` compiles the wrapped
        training module too."""
        ...


@runtime_checkable
class Described(Protocol):
    """An agent that says what it runs with, for the start banner of a run (``zoo.run.loop``)."""

    def describe(self) -> dict[str, str]:
        """Banner rows, label -> one line of text: e.g. ``{"net": "resnet b6c64, 1.2 M params, ...",
        "self-play": "64 games x 64 simulations, ..."}``. Cheap (no training, at most one forward pass)."""
        ...

    @property
    def collect_steps(self) -> int:
        """Env steps played so far by the ``collect`` running now (0 between collects). Read from another thread
        while ``collect`` runs, to show its progress; a plain int, so the read is safe."""
        ...


@runtime_checkable
class Episodic(Protocol):
    """An agent whose ``collect`` leaves the env's episode running for the next ``collect`` (it keeps the last
    observation, the return so far, ...). Its view of that episode is not in its ``state_dict``: a runner that
    checkpoints the env's episode too (``zoo.run``: by replaying it) saves :meth:`episode_state` beside it, and
    hands it back with :meth:`load_episode_state` only once the env stands where it stood then. An agent restored
    without it starts a new episode."""

    def episode_state(self) -> dict[str, Any] | None:
        """The agent's view of the episode in progress (arrays and plain values), or ``None`` if none is."""
        ...

    def load_episode_state(self, state: Mapping[str, Any]) -> None:
        """Continue the episode of :meth:`episode_state` in an env put back where it was then; ``ValueError``
        when ``state`` does not fit the agent."""
        ...


@runtime_checkable
class WarmStarter(Protocol):
    """An agent that can start from the nets of a checkpoint of another env (``resume=`` a run on another board): a
    warm start, weights only, where an ordinary ``load_state_dict`` needs the same env."""

    def warm_start_from(self, state: Mapping[str, Any]) -> str:
        """Load the weights of ``state`` (a ``state_dict`` of this kind of agent, saved on another env) and nothing
        else: optimizer, replay window, self-play and counters start fresh. Returns the one-line notice of what it
        loaded (naming both boards); ``ValueError`` naming the reason when the weights cannot serve this env."""
        ...


@runtime_checkable
class QValued(Protocol):
    """An agent that acts greedily on action values ``Q(obs, a)`` it can give for any observation."""

    def q_values(self, observations: Sequence[Any]) -> np.ndarray:
        """float64 ``(B, A)``: ``Q(obs_i, a)`` for ``B`` raw observations of the env (as :meth:`Agent.act` takes
        them), every action, no mask; the greedy policy takes the legal argmax. Changes nothing in the agent."""
        ...


def action_mask_from(info: Mapping[str, Any], obs: Any) -> np.ndarray | None:
    """The action mask an env offers: ``info["action_mask"]`` or a dict observation's ``"action_mask"``."""
    if isinstance(obs, Mapping) and "action_mask" in obs:
        return np.asarray(obs["action_mask"])
    mask = info.get("action_mask")
    return None if mask is None else np.asarray(mask)
