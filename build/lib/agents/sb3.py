"""``agent=sb3``: Stable-Baselines3's PPO, A2C, DQN (and sb3-contrib's MaskablePPO) inside our runner.

The SB3 model is built from the spaces (on a placeholder env) so a checkpoint can be loaded before any env
exists; the first ``collect`` hands it the runner's env. Each ``collect`` then runs SB3's own
``learn(chunk, reset_num_timesteps=False)`` -- SB3's collection *and* training for ``chunk`` env steps -- and
returns the episodes it finished; ``update`` only reports what SB3 recorded (its training happened in
``collect``). Evaluation goes through :meth:`SB3Agent.act` on SB3's networks, with our action masks applied, and
checkpoints hold SB3's policy and optimizer tensors (not SB3's zip), so ``train.py``'s logger, evaluation and
resume work as for our agents.

Envs with action masks need ``algo=MaskablePPO`` (PPO, A2C and DQN would ignore the mask while training);
MaskablePPO reads the env's ``action_masks()`` method or, failing that, the last ``info["action_mask"]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import gymnasium
import numpy as np
import torch

from agents.common import check_mask, masked_argmax

FORMAT = 1
"""Version of the ``state_dict`` layout."""
ALGOS = ("PPO", "A2C", "DQN", "MaskablePPO")

RLZOO: dict[str, dict[str, Any]] = {
    "DQN": {"learning_rate": 2.3e-3, "batch_size": 64, "buffer_size": 100_000, "learning_starts": 1000,
            "gamma": 0.99, "target_update_interval": 10, "train_freq": 256, "gradient_steps": 128,
            "exploration_fraction": 0.16, "exploration_final_eps": 0.04, "policy_kwargs": {"net_arch": [256, 256]}},
}
"""RL Zoo (rl-baselines3-zoo ``hyperparams/dqn.yml``) CartPole-v1 hyperparameters, for ``hyperparams=rlzoo``."""


@dataclass(frozen=True)
class SB3Config:
    """Which SB3 algorithm to run, with which hyperparameters, in chunks of how many env steps."""

    name: str = "sb3"
    """Always ``sb3``."""
    algo: str = "PPO"
    """``PPO``, ``A2C``, ``DQN`` (stable-baselines3) or ``MaskablePPO`` (sb3-contrib; for envs with masks)."""
    hyperparams: str = "default"
    """``default`` (SB3's defaults) or ``rlzoo`` (the RL Zoo's CartPole-v1 values; DQN only)."""
    n_steps: int | None = None
    """Rollout length of the on-policy algos (PPO, A2C, MaskablePPO); null: SB3's default (2048 PPO, 5 A2C)."""
    chunk_steps: int = 2048
    """Env steps of SB3 ``learn`` per ``collect`` (on-policy algos round up to whole rollouts)."""
    schedule_steps: int = 200_000
    """Total env steps SB3's schedules (DQN's epsilon decay, linear rates) span: set it to the run's ``steps``."""
    save_replay: bool = False
    """Put DQN's replay buffer in checkpoints."""

    def __post_init__(self) -> None:
        if self.algo not in ALGOS:
            raise ValueError(f"unknown sb3 algo {self.algo!r}; valid: {', '.join(ALGOS)}")
        if self.hyperparams not in ("default", "rlzoo"):
            raise ValueError(f"sb3 hyperparams must be 'default' or 'rlzoo', got {self.hyperparams!r}")
        if self.hyperparams == "rlzoo" and self.algo not in RLZOO:
            raise ValueError(f"no rlzoo hyperparameters for {self.algo}; valid: {', '.join(RLZOO)}")
        if self.n_steps is not None and (self.n_steps < 2 or self.algo == "DQN"):
            raise ValueError("n_steps (>= 2) is a setting of the on-policy algos only (PPO, A2C, MaskablePPO)")
        if self.chunk_steps < 1 or self.schedule_steps < 1:
            raise ValueError("chunk_steps and schedule_steps must be >= 1")


def algo_class(algo: str) -> type:
    """The SB3 class of ``algo``; ``ValueError`` saying what to install when SB3 is missing (it is optional)."""
    try:
        if algo == "MaskablePPO":
            from sb3_contrib import MaskablePPO
            return MaskablePPO
        import stable_baselines3
    except ImportError as exc:
        raise ValueError(f"agent=sb3 needs stable-baselines3 and sb3-contrib ({exc}); "
                         "pip install 'stable-baselines3>=2.4' 'sb3-contrib>=2.4'") from None
    return getattr(stable_baselines3, algo)


class _SpacesEnv(gymnasium.Env):
    """Placeholder carrying only the spaces, so SB3 can build its nets before the runner's env arrives."""

    def __init__(self, observation_space: gymnasium.Space, action_space: gymnasium.Space) -> None:
        self.observation_space, self.action_space = observation_space, action_space

    def action_masks(self) -> np.ndarray:
        return np.ones(int(self.action_space.n), dtype=bool)


class InfoActionMasks(gymnasium.Wrapper):
    """Exposes ``action_masks()`` (what MaskablePPO calls): the env's own method, else the last
    ``info["action_mask"]``, else all legal."""

    def __init__(self, env: gymnasium.Env) -> None:
        super().__init__(env)
        self._mask = np.ones(int(env.action_space.n), dtype=bool)

    def reset(self, **kwargs: Any) -> tuple[Any, dict]:
        obs, info = self.env.reset(**kwargs)
        self._mask = np.asarray(info.get("action_mask", np.ones_like(self._mask))).astype(bool)
        return obs, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._mask = np.asarray(info.get("action_mask", np.ones_like(self._mask))).astype(bool)
        return obs, reward, terminated, truncated, info

    def action_masks(self) -> np.ndarray:
        method = getattr(self.env.unwrapped, "action_masks", None)
        return np.asarray(method()).astype(bool) if callable(method) else self._mask


def fixed_schedule(total: int) -> Any:
    """An SB3 callback making its progress (epsilon, linear rates) run over ``total`` steps, not the chunk."""
    from stable_baselines3.common.callbacks import BaseCallback

    class FixedSchedule(BaseCallback):
        def _on_training_start(self) -> None:
            self.model._total_timesteps = max(total, self.model.num_timesteps + 1)

        def _on_step(self) -> bool:
            return True

    return FixedSchedule()


class SB3Batch(NamedTuple):
    """What one SB3 ``learn`` chunk did."""

    env_steps: int
    episode_returns: list[float]
    episode_lengths: list[int]
    metrics: dict[str, float]
    """SB3's own training records (``train/loss`` ...)."""


class SB3Agent:
    """An SB3 model driven by the runner; see the module docstring."""

    def __init__(self, cfg: SB3Config, observation_space: gymnasium.Space, action_space: gymnasium.Space,
                 rng: np.random.Generator, device: str = "cpu", net: Any = None) -> None:
        if net is not None:
            raise ValueError("agent=sb3 uses SB3's own policy nets; leave net= unset")
        if cfg.algo == "DQN" and not isinstance(action_space, gymnasium.spaces.Discrete):
            raise ValueError(f"agent=sb3 algo=DQN supports Discrete action spaces only, got {action_space}")
        self.cfg, self.rng = cfg, rng
        kwargs = dict(RLZOO[cfg.algo]) if cfg.hyperparams == "rlzoo" else {}
        if cfg.n_steps is not None:
            kwargs["n_steps"] = cfg.n_steps
            if cfg.algo != "A2C":
                kwargs["batch_size"] = min(64, cfg.n_steps)
        self.model = algo_class(cfg.algo)("MlpPolicy", _SpacesEnv(observation_space, action_space), verbose=0,
                                          seed=int(rng.integers(2**31 - 1)), device=device, **kwargs)
        self._monitor: Any = None  # SB3's Monitor around the runner's env, from the first collect
        self._seen_episodes = 0

    def _attach(self, env: gymnasium.Env) -> None:
        if isinstance(env, gymnasium.vector.VectorEnv):
            raise ValueError("agent=sb3 drives a single env (SB3 vectorises it itself)")
        masked = callable(getattr(env.unwrapped, "action_masks", None))
        if not masked:
            _, info = env.reset()
            masked = "action_mask" in info
        if masked and self.cfg.algo != "MaskablePPO":
            raise ValueError(f"the env has action masks, which SB3 {self.cfg.algo} ignores; use "
                             "agent.algo=MaskablePPO")
        from stable_baselines3.common.monitor import Monitor

        self._monitor = Monitor(InfoActionMasks(env) if self.cfg.algo == "MaskablePPO" else env)
        self.model.set_env(self._monitor)  # force_reset: SB3 resets the env at the next learn

    def act(self, obs: Any, mask: np.ndarray | None = None, greedy: bool = False) -> int:
        """SB3's policy on ``obs`` (its mode when ``greedy``), never an action where ``mask`` is 0."""
        m = None if mask is None else torch.from_numpy(np.asarray(mask).astype(bool)[None])
        if m is not None:
            check_mask(m.numpy(), f"agent=sb3 algo={self.cfg.algo}")
        policy = self.model.policy
        obs_t, _ = policy.obs_to_tensor(obs)
        with torch.no_grad():
            if self.cfg.algo == "DQN":
                if not greedy and self.rng.random() < self.model.exploration_rate:
                    legal = np.flatnonzero(np.ones(self.model.action_space.n) if m is None else m[0].numpy())
                    return int(legal[self.rng.integers(len(legal))])
                return int(masked_argmax(policy.q_net(obs_t).cpu(), m)[0])
            logits = policy.get_distribution(obs_t).distribution.logits.cpu()
        if m is not None:
            logits = logits.masked_fill(~m, float("-inf"))
        if greedy:
            return int(logits.argmax(-1)[0])
        return int(np.argmax(logits[0].numpy() + self.rng.gumbel(size=logits.shape[-1])))

    def collect(self, env: gymnasium.Env) -> SB3Batch:
        """Run SB3's ``learn`` for ``chunk_steps`` env steps (its collection and its training)."""
        if self._monitor is None:
            self._attach(env)
        before = self.model.num_timesteps
        self.model.learn(self.cfg.chunk_steps, reset_num_timesteps=False, log_interval=None,
                         callback=fixed_schedule(self.cfg.schedule_steps))
        returns = self._monitor.get_episode_rewards()[self._seen_episodes:]
        lengths = self._monitor.get_episode_lengths()[self._seen_episodes:]
        self._seen_episodes += len(returns)
        metrics = {k: float(v) for k, v in self.model.logger.name_to_value.items()
                   if k.startswith("train/") and np.isscalar(v)}
        self.model.logger.dump()  # clears SB3's records (its logger writes nowhere at verbose=0)
        return SB3Batch(self.model.num_timesteps - before, [float(r) for r in returns], [int(n) for n in lengths],
                        metrics)

    def update(self, batch: SB3Batch) -> dict[str, float]:
        """SB3 trained inside ``collect``; return its records."""
        return {**batch.metrics, "sb3/num_timesteps": float(self.model.num_timesteps)}

    def state_dict(self) -> dict[str, Any]:
        """SB3's policy and optimizer tensors, its counters, and DQN's replay buffer when ``save_replay``."""
        m = self.model
        state: dict[str, Any] = {"format": FORMAT, "name": "sb3", "algo": self.cfg.algo,
                                 "policy": {k: v.detach().cpu().clone() for k, v in m.policy.state_dict().items()},
                                 "optimizer": m.policy.optimizer.state_dict(), "num_timesteps": int(m.num_timesteps),
                                 "n_updates": int(getattr(m, "_n_updates", 0))}
        if self.cfg.save_replay and getattr(m, "replay_buffer", None) is not None:
            rb = m.replay_buffer
            state["replay"] = {"pos": int(rb.pos), "full": bool(rb.full), "observations": rb.observations.copy(),
                               "next_observations": rb.next_observations.copy(), "actions": rb.actions.copy(),
                               "rewards": rb.rewards.copy(), "dones": rb.dones.copy(), "timeouts": rb.timeouts.copy()}
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`; ``ValueError`` on another algo or other shapes."""
        if state.get("format") != FORMAT or state.get("algo") != self.cfg.algo:
            raise ValueError(f"state_dict is sb3 {state.get('algo')!r}, this agent is sb3 {self.cfg.algo!r}")
        m = self.model
        try:
            m.policy.load_state_dict(state["policy"])
        except RuntimeError as exc:
            raise ValueError(f"network shapes differ: {str(exc).splitlines()[0]}") from None
        m.policy.optimizer.load_state_dict(state["optimizer"])
        m.num_timesteps = int(state["num_timesteps"])
        if hasattr(m, "_n_updates"):
            m._n_updates = int(state["n_updates"])
        if "replay" in state and getattr(m, "replay_buffer", None) is not None:
            rb, saved = m.replay_buffer, state["replay"]
            for key in ("observations", "next_observations", "actions", "rewards", "dones", "timeouts"):
                getattr(rb, key)[...] = saved[key]
            rb.pos, rb.full = int(saved["pos"]), bool(saved["full"])
