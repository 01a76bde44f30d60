"""Policy gradient: REINFORCE with a learned baseline, A2C, and PPO with GAE (one agent, ``PGConfig.name``).

The policy pi_theta(a|s) is a net trained to raise the expected return J(theta), by the policy-gradient theorem
grad J = E[grad log pi(a|s) * A(s, a)], with a learned critic V(s) as the baseline in the advantage A::

    reinforce: A_t = G_t - V(s_t)  (Monte Carlo return, lam = 1)   loss = -mean(log pi * A), one step/rollout
    a2c:       A_t = GAE(gamma, lam) over short rollouts            loss = -mean(log pi * A), one step/rollout
    ppo:       A_t = GAE(gamma, lam)                                loss = clipped surrogate, epochs x minibatches

``collect`` plays ``num_steps`` steps in each of ``num_envs`` envs (a Gymnasium vector env when
``num_envs > 1``; the runner builds it) and ``update`` learns from that rollout. Action masks (``info
["action_mask"]`` or a dict observation's ``"action_mask"``) put masked logits at -inf, so a masked action has
probability 0 in sampling, in greedy play and in the loss.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import gymnasium
import numpy as np
import torch
from torch import nn

from agents.common import (
    EpisodeTracker,
    ObsEncoder,
    as_vector,
    batch_masks,
    build_torso,
    check_mask,
    cpu_state,
    layer_init,
    masked_argmax,
    seed_torch,
)
from agents.pg_losses import (
    entropy,
    explained_variance,
    gae,
    masked_log_softmax,
    ppo_clip_loss,
    value_loss,
    vanilla_pg_loss,
)

FORMAT = 1
"""Version of the ``state_dict`` layout."""
VARIANTS = ("reinforce", "a2c", "ppo")


@dataclass(frozen=True)
class PGConfig:
    """Actor-critic policy gradient; ``conf/agent/{reinforce,a2c,ppo}.yaml`` set each variant's defaults."""

    name: str = "ppo"
    """Variant: ``reinforce`` (Monte Carlo + baseline), ``a2c`` (advantage actor-critic) or ``ppo`` (clipped)."""
    num_envs: int = 8
    """Envs stepped in lockstep (a Gymnasium sync vector env when > 1)."""
    num_steps: int = 256
    """Steps per env per rollout; one rollout holds ``num_envs * num_steps`` steps."""
    gamma: float = 0.99
    """Discount factor in [0, 1]."""
    gae_lambda: float = 0.95
    """GAE's lambda in [0, 1]: 0 is the one-step TD advantage, 1 the Monte Carlo return minus V (reinforce)."""
    lr: float = 3e-4
    """Adam step size for actor and critic."""
    update_epochs: int = 10
    """Passes over each rollout (1 for reinforce and a2c: more needs PPO's clip)."""
    num_minibatches: int = 32
    """Minibatches per pass (1 for reinforce and a2c)."""
    norm_adv: bool = True
    """Normalise advantages to mean 0, std 1 per minibatch."""
    clip_coef: float = 0.2
    """PPO's epsilon: the probability ratio is clipped to [1 - eps, 1 + eps] (ppo only)."""
    clip_vloss: bool = False
    """Clip the value update to ``clip_coef`` of the rollout's values (ppo only)."""
    ent_coef: float = 0.0
    """Weight of the entropy bonus (raises exploration)."""
    vf_coef: float = 0.5
    """Weight of the critic's loss."""
    max_grad_norm: float = 0.5
    """Clip the global gradient norm to this (0: no clipping)."""
    hidden_size: int = 64
    """Width of the default MLP torso (used when no ``net=`` is given)."""
    hidden_layers: int = 2
    """Hidden layers of the default MLP torso (tanh)."""
    shared_torso: bool = False
    """One torso (encoder) for actor and critic, two linear heads on its features; False: two torsos (CleanRL's
    PPO). Sharing lets the critic's regression shape the features the policy reads (a cue that predicts the
    return, as in the T-maze)."""
    value_head_std: float = 1.0
    """Orthogonal gain of the critic's output layer (CleanRL: 1.0). 0 starts V at exactly 0 everywhere: until
    the first reward the advantages are exactly 0, whereas a random initial V gives state-dependent advantages
    that normalisation lifts to unit scale and that steer a sparse-reward policy away before it finds a reward
    (``benchmarks/memory_wavenet.py``)."""

    @property
    def steps_per_collect(self) -> int:
        """Env steps one ``collect()`` plays at most: a whole rollout (``num_envs * num_steps``; the steps that only
        start a new episode after one ends are not counted)."""
        return self.num_envs * self.num_steps

    def __post_init__(self) -> None:
        if self.name not in VARIANTS:
            raise ValueError(f"PGConfig.name must be one of {', '.join(VARIANTS)}, got {self.name!r}")
        if self.name != "ppo" and (self.update_epochs != 1 or self.num_minibatches != 1):
            raise ValueError(f"agent={self.name} takes one gradient step per rollout (update_epochs=1, "
                             "num_minibatches=1); several passes over a rollout need agent=ppo's clip")
        if self.name == "reinforce" and self.gae_lambda != 1.0:
            raise ValueError("agent=reinforce uses Monte Carlo returns: gae_lambda must be 1.0")
        if not (0.0 <= self.gamma <= 1.0 and 0.0 <= self.gae_lambda <= 1.0):
            raise ValueError("gamma and gae_lambda must be in [0, 1]")
        for field in ("num_envs", "num_steps", "update_epochs", "num_minibatches", "hidden_size"):
            if getattr(self, field) < 1:
                raise ValueError(f"PGConfig.{field} must be >= 1, got {getattr(self, field)}")
        if self.value_head_std < 0:
            raise ValueError(f"PGConfig.value_head_std must be >= 0, got {self.value_head_std}")
        if self.num_minibatches > self.num_envs * self.num_steps:
            raise ValueError("num_minibatches cannot exceed num_envs * num_steps")


class ActorCritic(nn.Module):
    """obs (B, *obs_shape) -> logits (B, A) and V (B,): separate actor and critic torsos (CleanRL's PPO), or one
    torso shared by both heads (``cfg.shared_torso``)."""

    def __init__(self, net: Any, obs_shape: tuple[int, ...], n_actions: int, cfg: PGConfig) -> None:
        super().__init__()
        actor, width = build_torso(net, obs_shape, cfg.hidden_size, cfg.hidden_layers, nn.Tanh)
        if cfg.shared_torso:
            critic, cwidth = actor, width
        else:
            critic, cwidth = build_torso(net, obs_shape, cfg.hidden_size, cfg.hidden_layers, nn.Tanh)
        self.actor = nn.Sequential(actor, layer_init(nn.Linear(width, n_actions), std=0.01))
        self.critic = nn.Sequential(critic, layer_init(nn.Linear(cwidth, 1), std=cfg.value_head_std))

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """V(s) (B,), in return units."""
        return self.critic(obs).squeeze(-1)

    def log_probs(self, obs: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """log pi(.|s) (B, A), -inf at masked actions (``mask`` (B, A) bool, True = legal)."""
        return masked_log_softmax(self.actor(obs), mask)


class Rollout(NamedTuple):
    """``num_steps`` x ``num_envs`` steps; arrays are (T, N, ...) and ``obs`` has one more row (T + 1)."""

    env_steps: int
    episode_returns: list[float]
    episode_lengths: list[int]
    obs: np.ndarray
    """float32 (T + 1, N, *obs_shape): encoded observations; row T is what the last step led to."""
    masks: np.ndarray
    """bool (T, N, A): legal actions at each observation."""
    actions: np.ndarray
    """int64 (T, N)."""
    logp: np.ndarray
    """float32 (T, N): log pi_old(a|s) of the taken actions."""
    rewards: np.ndarray
    """float32 (T, N)."""
    terminated: np.ndarray
    """float32 (T, N): 1 where the step reached a true terminal (bootstrap 0)."""
    dones: np.ndarray
    """float32 (T, N): 1 where the episode ended (terminated or truncated)."""
    valid: np.ndarray
    """bool (T, N): False on autoreset steps (after an episode ended: no transition, left out of the loss)."""


class PGAgent:
    """REINFORCE with baseline, A2C or PPO (``cfg.name``); implements ``agents.Agent``."""

    def __init__(self, cfg: PGConfig, observation_space: gymnasium.Space, action_space: gymnasium.Space,
                 rng: np.random.Generator, device: str = "cpu", net: Any = None) -> None:
        if not isinstance(action_space, gymnasium.spaces.Discrete):
            raise ValueError(f"agent={cfg.name} supports Discrete action spaces only, got {action_space}")
        self.cfg, self.rng, self.device = cfg, rng, torch.device(device)
        self.n_actions = int(action_space.n)
        self.encode = ObsEncoder(observation_space, cfg.name)
        seed_torch(rng)
        self.model = ActorCritic(net, self.encode.shape, self.n_actions, cfg).to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr, eps=1e-5)
        self.tracker = EpisodeTracker(cfg.num_envs)
        self.updates = 0
        self._venv: Any = None  # the env seen as a vector env (kept: it knows when an episode ended)
        self._obs: np.ndarray | None = None   # encoded current observations (N, *obs_shape)
        self._mask = np.ones((cfg.num_envs, self.n_actions), dtype=bool)
        self._autoreset = np.zeros(cfg.num_envs, dtype=bool)

    # ------------------------------------------------------------------ acting
    def act(self, obs: Any, mask: np.ndarray | None = None, greedy: bool = False) -> int:
        """Sample a ~ pi(.|obs) (the mode when ``greedy``), never an action where ``mask`` is 0."""
        m = None
        if mask is not None:
            m = np.asarray(mask).astype(bool)[None]
            check_mask(m, f"agent={self.cfg.name}")
        self.model.eval()
        with torch.no_grad():
            logp = self.model.log_probs(self.encode.single(obs).to(self.device),
                                        None if m is None else torch.from_numpy(m).to(self.device))
        self.model.train()
        if greedy:
            return int(masked_argmax(logp, None)[0])
        return int(self._sample(logp.cpu().numpy())[0])

    def _sample(self, logp: np.ndarray) -> np.ndarray:
        """Gumbel-max sampling from log-probabilities (B, A) with the agent's generator -> actions (B,)."""
        return np.argmax(logp + self.rng.gumbel(size=logp.shape), axis=-1)

    def collect(self, env: Any) -> Rollout:
        """Play ``num_steps`` steps in each env with the current policy (see :class:`Rollout`)."""
        venv = self._venv = as_vector(env, self._venv)
        n, steps = self.cfg.num_envs, self.cfg.num_steps
        if venv.num_envs != n:
            raise ValueError(f"agent={self.cfg.name} was built for num_envs={n}, the env has {venv.num_envs}")
        who = f"agent={self.cfg.name} on {venv.single_observation_space}"
        if self._obs is None:
            raw, info = venv.reset()
            self._obs, self._mask = self.encode.numpy(raw), batch_masks(info, raw, n, self.n_actions, who)
            self._autoreset[:] = False
        self.model.eval()  # acting mode (batch norm: running statistics), as in act()
        obs = np.zeros((steps + 1, n, *self.encode.shape), dtype=np.float32)
        masks = np.zeros((steps, n, self.n_actions), dtype=bool)
        actions = np.zeros((steps, n), dtype=np.int64)
        logps, rewards, terminated, dones = (np.zeros((steps, n), dtype=np.float32) for _ in range(4))
        valid = np.zeros((steps, n), dtype=bool)
        for t in range(steps):
            obs[t], masks[t], valid[t] = self._obs, self._mask, ~self._autoreset
            with torch.no_grad():
                logp = self.model.log_probs(torch.from_numpy(self._obs).to(self.device),
                                            torch.from_numpy(self._mask).to(self.device)).cpu().numpy()
            actions[t] = self._sample(logp)
            logps[t] = logp[np.arange(n), actions[t]]
            raw, reward, term, trunc, info = venv.step(actions[t])
            done = np.asarray(term) | np.asarray(trunc)
            rewards[t], terminated[t], dones[t] = reward, term, done
            self.tracker.step(np.asarray(reward, dtype=np.float64), done, valid[t])
            self._autoreset = done
            self._obs = self.encode.numpy(raw)
            self._mask = batch_masks(info, raw, n, self.n_actions, who, ended=done)
        obs[steps] = self._obs
        returns, lengths = self.tracker.pop()
        return Rollout(int(valid.sum()), returns, lengths, obs, masks, actions, logps, rewards, terminated,
                       dones, valid)

    # ------------------------------------------------------------------ learning
    def update(self, batch: Rollout) -> dict[str, float]:
        """Advantages from the critic, then ``update_epochs`` passes of minibatch gradient steps."""
        cfg, dev = self.cfg, self.device
        steps, n = batch.actions.shape
        # ALGO LOGIC: advantages and return targets from the critic's values of every observation
        self.model.eval()
        with torch.no_grad():
            values = self.model.value(torch.from_numpy(batch.obs.reshape(-1, *self.encode.shape)).to(dev))
        values = values.cpu().numpy().reshape(steps + 1, n)
        adv = gae(batch.rewards, values, batch.terminated, batch.dones, cfg.gamma, cfg.gae_lambda)
        returns = adv + values[:-1]
        keep = batch.valid.reshape(-1)
        self.model.train()
        flat = {"obs": batch.obs[:-1].reshape(-1, *self.encode.shape)[keep],
                "masks": batch.masks.reshape(-1, self.n_actions)[keep], "actions": batch.actions.reshape(-1)[keep],
                "logp": batch.logp.reshape(-1)[keep], "adv": adv.reshape(-1)[keep],
                "returns": returns.reshape(-1)[keep], "values": values[:-1].reshape(-1)[keep]}
        b = {k: torch.from_numpy(np.ascontiguousarray(v)).to(dev) for k, v in flat.items()}
        size = len(flat["actions"])
        mb_size = max(1, size // cfg.num_minibatches)
        stats: dict[str, list[float]] = {}
        for _ in range(cfg.update_epochs):
            order = self.rng.permutation(size)
            for start in range(0, size - mb_size + 1, mb_size):
                mb = {k: v[order[start:start + mb_size]] for k, v in b.items()}
                for key, value in self._step(mb).items():
                    stats.setdefault(key, []).append(value)
        self.updates += 1
        metrics = {key: float(np.mean(v)) for key, v in stats.items()}
        metrics["explained_variance"] = explained_variance(flat["values"], flat["returns"])
        metrics["lr"] = cfg.lr
        return metrics

    def _step(self, mb: Mapping[str, torch.Tensor]) -> dict[str, float]:
        """One gradient step on a minibatch (dict of (B, ...) tensors); returns its loss terms."""
        cfg = self.cfg
        logp_all = self.model.log_probs(mb["obs"], mb["masks"])
        new_logp = logp_all.gather(1, mb["actions"][:, None]).squeeze(1)
        adv = mb["adv"]
        if cfg.norm_adv and len(adv) > 1:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        # policy loss: minus the (clipped, for PPO) surrogate objective, so minimising it raises J(theta)
        if cfg.name == "ppo":
            pg_loss = ppo_clip_loss(new_logp, mb["logp"], adv, cfg.clip_coef)
        else:
            pg_loss = vanilla_pg_loss(new_logp, adv)
        # critic loss: regress V(s) on the GAE return targets
        v_loss = value_loss(self.model.value(mb["obs"]), mb["values"], mb["returns"],
                            cfg.clip_coef if cfg.name == "ppo" and cfg.clip_vloss else None)
        # entropy bonus: subtracted, so minimising the loss keeps the policy stochastic
        ent = entropy(logp_all).mean()
        loss = pg_loss - cfg.ent_coef * ent + cfg.vf_coef * v_loss
        self.optimizer.zero_grad()
        loss.backward()
        if cfg.max_grad_norm > 0:
            nn.utils.clip_grad_norm_(self.model.parameters(), cfg.max_grad_norm)
        self.optimizer.step()
        with torch.no_grad():
            log_ratio = new_logp - mb["logp"]
            approx_kl = ((log_ratio.exp() - 1) - log_ratio).mean()  # k3 estimator of KL(old || new)
            clipfrac = ((log_ratio.exp() - 1.0).abs() > cfg.clip_coef).float().mean()
        return {"loss/policy": pg_loss.item(), "loss/value": v_loss.item(), "entropy": ent.item(),
                "approx_kl": float(approx_kl), "clipfrac": float(clipfrac)}

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """``{"format", "name", "model", "optimizer", "updates"}``: tensors and plain values only."""
        return {"format": FORMAT, "name": self.cfg.name, "model": cpu_state(self.model.state_dict()),
                "optimizer": self.optimizer.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`; ``ValueError`` names a format, variant or shape mismatch. The next
        ``collect`` starts fresh episodes."""
        if state.get("format") != FORMAT or state.get("name") != self.cfg.name:
            raise ValueError(f"state_dict is {state.get('name')!r} format {state.get('format')!r}; this agent "
                             f"is {self.cfg.name!r} format {FORMAT}")
        try:
            self.model.load_state_dict(state["model"])
        except RuntimeError as exc:
            raise ValueError(f"network shapes differ: {str(exc).splitlines()[0]}") from None
        self.optimizer.load_state_dict(state["optimizer"])
        self.updates = int(state["updates"])
        self._obs = None
