"""DQN: Q-learning with a network (Mnih et al. 2015), with Double DQN and the Huber loss on by default.

``collect`` plays ``train_freq`` steps epsilon-greedily into the replay buffer; ``update`` takes
``gradient_steps`` minibatch steps on the TD error::

    target  = R + discount * Q_target(s', argmax_{a' legal} Q(s', a')) * (1 - terminated)   (double)
    target  = R + discount * max_{a' legal} Q_target(s', a') * (1 - terminated)              (plain)
    loss    = Huber(Q(s, a) - target)

``R`` and ``discount`` are the n-step reward sum and gamma^n (``agents/replay.py``). Masked actions are never
chosen (greedy or random) and never enter the max or argmax of the target. A dueling head
(Q = V + A - mean A, Wang et al. 2016) is optional.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import gymnasium
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from agents.common import (
    EpisodeTracker,
    ObsEncoder,
    as_vector,
    batch_masks,
    build_torso,
    check_mask,
    cpu_state,
    masked_argmax,
    seed_torch,
)
from agents.protocol import Episodic, QValued
from agents.replay import NStepQueue, ReplayBuffer

FORMAT = 1
"""Version of the ``state_dict`` layout."""


@dataclass(frozen=True)
class DQNConfig:
    """DQN; defaults are the RL Zoo's CartPole-v1 hyperparameters (``conf/agent/dqn.yaml``)."""

    name: str = "dqn"
    """Always ``dqn``."""
    num_envs: int = 1
    """Envs stepped in lockstep (a Gymnasium sync vector env when > 1)."""
    buffer_size: int = 100_000
    """Replay capacity in transitions."""
    learning_starts: int = 1000
    """Env steps of random play before the first gradient step."""
    batch_size: int = 64
    """Transitions per gradient step."""
    lr: float = 2.3e-3
    """Adam step size."""
    gamma: float = 0.99
    """Discount factor in [0, 1]."""
    train_freq: int = 256
    """Env steps per ``collect`` (summed over envs)."""
    gradient_steps: int = 128
    """Gradient steps per ``update``."""
    target_update_every: int = 128
    """Gradient steps between hard copies of the online net into the target net."""
    epsilon_start: float = 1.0
    """Exploration rate at step 0 (probability of a uniformly random legal action)."""
    epsilon_end: float = 0.04
    """Exploration rate after the decay."""
    epsilon_decay_steps: int = 8000
    """Env steps over which epsilon falls linearly from start to end."""
    double: bool = True
    """Double DQN: the online net picks a', the target net values it."""
    huber: bool = True
    """Huber (smooth L1) loss on the TD error; false: squared error."""
    dueling: bool = False
    """Dueling head: Q(s, a) = V(s) + A(s, a) - mean_a A(s, a)."""
    n_step: int = 1
    """Steps per transition's return (1: one-step Q-learning)."""
    max_grad_norm: float = 10.0
    """Clip the global gradient norm to this (0: no clipping)."""
    hidden_size: int = 256
    """Width of the default MLP torso (when no ``net=`` is given)."""
    hidden_layers: int = 2
    """Hidden layers of the default MLP torso (ReLU)."""
    save_replay: bool = False
    """Put the replay buffer in checkpoints (resumes exactly; can be large)."""

    @property
    def steps_per_collect(self) -> int:
        """Env steps one ``collect()`` plays: ``train_freq`` (a few more when ``num_envs`` does not divide it)."""
        return self.train_freq

    def __post_init__(self) -> None:
        if self.name != "dqn":
            raise ValueError(f"DQNConfig.name must be 'dqn', got {self.name!r}")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {self.gamma}")
        for field in ("epsilon_start", "epsilon_end"):
            if not 0.0 <= getattr(self, field) <= 1.0:
                raise ValueError(f"{field} must be in [0, 1], got {getattr(self, field)}")
        for field in ("num_envs", "buffer_size", "batch_size", "train_freq", "gradient_steps",
                      "target_update_every", "n_step", "hidden_size"):
            if getattr(self, field) < 1:
                raise ValueError(f"DQNConfig.{field} must be >= 1, got {getattr(self, field)}")


class QNet(nn.Module):
    """obs (B, *obs_shape) -> Q (B, A); a dueling head when ``dueling``."""

    def __init__(self, net: Any, obs_shape: tuple[int, ...], n_actions: int, cfg: DQNConfig) -> None:
        super().__init__()
        self.torso, width = build_torso(net, obs_shape, cfg.hidden_size, cfg.hidden_layers, nn.ReLU)
        self.head = nn.Linear(width, n_actions)
        self.value = nn.Linear(width, 1) if cfg.dueling else None

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Q-values (B, A), unmasked."""
        h = self.torso(obs)
        q = self.head(h)
        if self.value is not None:
            q = self.value(h) + q - q.mean(dim=1, keepdim=True)
        return q


def td_targets(q_next_online: torch.Tensor, q_next_target: torch.Tensor, next_masks: torch.Tensor,
               rewards: torch.Tensor, discounts: torch.Tensor, terminated: torch.Tensor, double: bool
               ) -> torch.Tensor:
    """TD targets (B,): R + discount * Q_target(s', a*) * (1 - terminated), a* the legal argmax of the online
    net (``double``) or of the target net. q_*: (B, A); next_masks: (B, A) bool; the rest (B,)."""
    if double:
        best = masked_argmax(q_next_online, next_masks)
    else:
        best = masked_argmax(q_next_target, next_masks)
    next_q = q_next_target.gather(1, best[:, None]).squeeze(1)
    next_q = torch.where(terminated > 0, torch.zeros_like(next_q), next_q)
    return rewards + discounts * next_q


class DQNBatch(NamedTuple):
    """What one ``collect`` did (transitions went into the replay buffer)."""

    env_steps: int
    episode_returns: list[float]
    episode_lengths: list[int]
    epsilon: float
    """Exploration rate at the end of the collect."""


class DQNAgent(Episodic, QValued):
    """DQN with replay, target net, epsilon schedule, Double DQN, Huber loss, optional dueling and n-step.

    Its episodes run on from one ``collect`` to the next (:class:`agents.protocol.Episodic`).
    """

    def __init__(self, cfg: DQNConfig, observation_space: gymnasium.Space, action_space: gymnasium.Space,
                 rng: np.random.Generator, device: str = "cpu", net: Any = None) -> None:
        if not isinstance(action_space, gymnasium.spaces.Discrete):
            raise ValueError(f"agent=dqn supports Discrete action spaces only (one Q-value per action), got "
                             f"{action_space}; for continuous actions use another agent")
        self.cfg, self.rng, self.device = cfg, rng, torch.device(device)
        self.n_actions = int(action_space.n)
        self.encode = ObsEncoder(observation_space, "dqn")
        seed_torch(rng)
        self.q = QNet(net, self.encode.shape, self.n_actions, cfg).to(self.device)
        self.target = QNet(net, self.encode.shape, self.n_actions, cfg).to(self.device)
        self.target.load_state_dict(self.q.state_dict())
        self.target.eval()
        self.optimizer = torch.optim.Adam(self.q.parameters(), lr=cfg.lr)
        self.replay = ReplayBuffer(cfg.buffer_size, self.encode.shape, self.n_actions)
        self.nstep = NStepQueue(cfg.num_envs, cfg.n_step, cfg.gamma)
        self.tracker = EpisodeTracker(cfg.num_envs)
        self.steps = 0
        """Env steps taken (drives epsilon and learning_starts)."""
        self.grad_steps = 0
        self._venv: Any = None  # the env seen as a vector env (kept: it knows when an episode ended)
        self._obs: np.ndarray | None = None
        self._mask = np.ones((cfg.num_envs, self.n_actions), dtype=bool)
        self._autoreset = np.zeros(cfg.num_envs, dtype=bool)

    @property
    def epsilon(self) -> float:
        """Current exploration rate (linear decay over ``epsilon_decay_steps`` env steps)."""
        c = self.cfg
        frac = min(1.0, self.steps / max(c.epsilon_decay_steps, 1))
        return c.epsilon_start + frac * (c.epsilon_end - c.epsilon_start)

    def _choose(self, obs: np.ndarray, mask: np.ndarray, epsilon: float) -> np.ndarray:
        """Epsilon-greedy legal actions (B,) for encoded obs (B, ...) and masks (B, A) bool."""
        self.q.eval()  # acting mode (batch norm: running statistics)
        with torch.no_grad():
            q = self.q(torch.from_numpy(obs).to(self.device))
            actions = masked_argmax(q, torch.from_numpy(mask).to(self.device)).cpu().numpy()
        self.q.train()
        explore = self.rng.random(len(actions)) < epsilon
        for i in np.flatnonzero(explore):
            legal = np.flatnonzero(mask[i])
            actions[i] = legal[self.rng.integers(len(legal))]
        return actions

    def act(self, obs: Any, mask: np.ndarray | None = None, greedy: bool = False) -> int:
        """argmax of Q over legal actions (epsilon-greedy unless ``greedy``)."""
        m = np.ones((1, self.n_actions), bool) if mask is None else np.asarray(mask).astype(bool)[None]
        check_mask(m, "agent=dqn")
        return int(self._choose(self.encode.single(obs).numpy(), m, 0.0 if greedy else self.epsilon)[0])

    def q_values(self, observations: Sequence[Any]) -> np.ndarray:
        """float64 ``(B, A)``: the online net's Q-values of raw ``observations`` (a batch as a vector env gives
        them), in acting mode (batch norm: running statistics)."""
        was_training = self.q.training
        self.q.eval()
        with torch.no_grad():
            q = self.q(torch.from_numpy(self.encode.numpy(observations)).to(self.device))
        self.q.train(was_training)
        return q.double().cpu().numpy()

    def collect(self, env: Any) -> DQNBatch:
        """Play ``train_freq`` env steps epsilon-greedily; store the transitions in the replay buffer."""
        venv, n = as_vector(env, self._venv, needs_reset=bool(self._autoreset[0])), self.cfg.num_envs
        self._venv = venv
        if venv.num_envs != n:
            raise ValueError(f"agent=dqn was built for num_envs={n}, the env has {venv.num_envs}")
        who = f"agent=dqn on {venv.single_observation_space}"
        if self._obs is None:
            raw, info = venv.reset()
            self._obs, self._mask = self.encode.numpy(raw), batch_masks(info, raw, n, self.n_actions, who)
            self._autoreset[:] = False
            self.nstep.clear()
        taken = 0
        while taken < self.cfg.train_freq:
            random_phase = self.steps < self.cfg.learning_starts
            actions = self._choose(self._obs, self._mask, 1.0 if random_phase else self.epsilon)
            raw, reward, term, trunc, info = venv.step(actions)
            done = np.asarray(term) | np.asarray(trunc)
            next_obs = self.encode.numpy(raw)
            next_mask = batch_masks(info, raw, n, self.n_actions, who, ended=done)
            valid = ~self._autoreset
            for i in np.flatnonzero(valid):
                for transition in self.nstep.push(i, self._obs[i], int(actions[i]), float(reward[i]), next_obs[i],
                                                  bool(term[i]), bool(done[i]), next_mask[i]):
                    self.replay.add(*transition)
            self.tracker.step(np.asarray(reward, dtype=np.float64), done, valid)
            self._obs, self._mask, self._autoreset = next_obs, next_mask, done
            self.steps += int(valid.sum())
            taken += int(valid.sum())
        returns, lengths = self.tracker.pop()
        return DQNBatch(taken, returns, lengths, self.epsilon)

    def update(self, batch: DQNBatch) -> dict[str, float]:
        """``gradient_steps`` TD steps on replayed minibatches (none before ``learning_starts``)."""
        metrics = {"epsilon": batch.epsilon, "replay_size": float(len(self.replay))}
        if self.steps < self.cfg.learning_starts or len(self.replay) < self.cfg.batch_size:
            return metrics
        losses, qs = [], []
        for _ in range(self.cfg.gradient_steps):
            if self.grad_steps % self.cfg.target_update_every == 0:
                self.target.load_state_dict(self.q.state_dict())
            loss, q_mean = self._step()
            losses.append(loss)
            qs.append(q_mean)
            self.grad_steps += 1
        return {**metrics, "loss/td": float(np.mean(losses)), "q_mean": float(np.mean(qs))}

    def _step(self) -> tuple[float, float]:
        """One gradient step on a replayed minibatch; returns (loss, mean Q(s, a))."""
        cfg = self.cfg
        data = self.replay.sample(cfg.batch_size, self.rng)
        t = {k: torch.from_numpy(v).to(self.device) for k, v in data._asdict().items()}
        # ALGO LOGIC: TD target from the frozen target net (no gradient flows into the target)
        with torch.no_grad():
            q_next_target = self.target(t["next_obs"])
            q_next_online = self.q(t["next_obs"]) if cfg.double else q_next_target
            target = td_targets(q_next_online, q_next_target, t["next_masks"], t["rewards"], t["discounts"],
                                t["terminated"], cfg.double)
        # Q(s, a) of the actions actually taken
        q_taken = self.q(t["obs"]).gather(1, t["actions"][:, None]).squeeze(1)
        # Huber loss (less sensitive to outliers than the squared error), or the squared error
        loss = F.smooth_l1_loss(q_taken, target) if cfg.huber else F.mse_loss(q_taken, target)
        self.optimizer.zero_grad()
        loss.backward()
        if cfg.max_grad_norm > 0:
            nn.utils.clip_grad_norm_(self.q.parameters(), cfg.max_grad_norm)
        self.optimizer.step()
        return loss.item(), q_taken.mean().item()

    def state_dict(self) -> dict[str, Any]:
        """Nets, optimizer, counters, and the replay buffer when ``save_replay``: tensors and arrays only. With the
        buffer, the generator's state (the runner's) and the episode in progress (:meth:`episode_state`, saved by
        the runner beside the env's), a restored agent goes on exactly as this one would."""
        state = {"format": FORMAT, "name": "dqn", "q": cpu_state(self.q.state_dict()),
                 "target": cpu_state(self.target.state_dict()), "optimizer": self.optimizer.state_dict(),
                 "steps": self.steps, "grad_steps": self.grad_steps}
        if self.cfg.save_replay:
            state["replay"] = self.replay.state_dict()
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`; ``ValueError`` names a mismatch. The next ``collect`` starts fresh
        episodes; without a saved buffer, learning waits until ``batch_size`` new transitions are stored."""
        if state.get("format") != FORMAT or state.get("name") != "dqn":
            raise ValueError(f"state_dict is {state.get('name')!r} format {state.get('format')!r}; this agent "
                             f"is 'dqn' format {FORMAT}")
        try:
            self.q.load_state_dict(state["q"])
            self.target.load_state_dict(state["target"])
        except RuntimeError as exc:
            raise ValueError(f"network shapes differ: {str(exc).splitlines()[0]}") from None
        self.optimizer.load_state_dict(state["optimizer"])
        self.steps, self.grad_steps = int(state["steps"]), int(state["grad_steps"])
        if "replay" in state:
            self.replay.load_state_dict(state["replay"])
        self._obs = None

    def episode_state(self) -> dict[str, Any] | None:
        """The episodes in progress as this agent sees them: last observations and masks, which envs have just
        ended an episode, the returns and lengths so far, the partial n-step transitions; ``None`` before the
        first ``collect``."""
        if self._obs is None:
            return None
        return {"obs": self._obs.copy(), "mask": self._mask.copy(), "autoreset": self._autoreset.copy(),
                "returns": self.tracker.ret.copy(), "lengths": self.tracker.len.copy(),
                "nstep": self.nstep.state_dict()}

    def load_episode_state(self, state: Mapping[str, Any]) -> None:
        """Go on with the episodes of :meth:`episode_state` (the env stands where it stood then)."""
        obs, mask = np.asarray(state["obs"], np.float32), np.asarray(state["mask"], bool)
        n = self.cfg.num_envs
        if obs.shape != (n, *self.encode.shape) or mask.shape != (n, self.n_actions):
            raise ValueError(f"episode state of observations {obs.shape} and masks {mask.shape}; this agent has "
                             f"{(n, *self.encode.shape)} and {(n, self.n_actions)}")
        self.nstep.load_state_dict(state["nstep"])
        self._obs, self._mask = obs.copy(), mask.copy()
        self._autoreset = np.asarray(state["autoreset"], bool).copy()
        self.tracker.ret[:] = state["returns"]
        self.tracker.len[:] = state["lengths"]
        self._venv = None  # a new view of the env, told whether its episode has just ended
