"""What the deep RL agents (``dqn.py``, ``pg.py``) share: observation encoding, batched action masks, a vector
view of a single env, episode bookkeeping, and the torso that turns observations into features.

Observations reach the nets as float32 tensors:

- ``Discrete(n)`` (our gridworlds): one-hot, shape (n,);
- ``Box``: cast to float32, shape kept (vector (D,), history (T, D), board planes (C, H, W));
- ``Dict`` with ``"observation"`` and ``"action_mask"``: the ``"observation"`` part, encoded as above.

Masks are bool arrays (n_envs, A), True = legal; an env without masks gives all True.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import numpy as np
import torch
from torch import nn

from agents.nets import NetConfig, build_trunk
from agents.nets.wavenet import WaveNet, WaveNetConfig


class ObsEncoder:
    """Observations of one space -> float32 tensors the nets read; see the module docstring."""

    def __init__(self, space: gymnasium.Space, agent: str) -> None:
        if isinstance(space, gymnasium.spaces.Dict) and "observation" in space.spaces:
            self.key: str | None = "observation"
            space = space["observation"]
        else:
            self.key = None
        if isinstance(space, gymnasium.spaces.Discrete):
            self.one_hot, self.shape = int(space.n), (int(space.n),)
        elif isinstance(space, gymnasium.spaces.Box):
            self.one_hot, self.shape = 0, tuple(int(d) for d in space.shape)
        else:
            raise ValueError(f"agent={agent} reads Discrete, Box or Dict(observation=Box|Discrete) observations, "
                             f"got {space}")
        self.start = 0 if self.one_hot == 0 else int(space.start)

    def numpy(self, obs: Any) -> np.ndarray:
        """A batch of raw observations (vector env layout, leading dim n) -> float32 (n, *shape)."""
        if self.key is not None:
            obs = obs[self.key]
        if self.one_hot:
            index = np.asarray(obs, dtype=np.int64).reshape(-1) - self.start
            return np.eye(self.one_hot, dtype=np.float32)[index]
        return np.asarray(obs, dtype=np.float32).reshape(-1, *self.shape)

    def __call__(self, obs: Any) -> torch.Tensor:
        """Like :meth:`numpy`, as a tensor."""
        return torch.from_numpy(self.numpy(obs))

    def single(self, obs: Any) -> torch.Tensor:
        """One raw observation (no batch dim) -> float32 (1, *shape)."""
        if self.key is not None:
            obs = {self.key: np.asarray(obs[self.key])[None]}
        else:
            obs = np.asarray(obs)[None]
        return self(obs)


def batch_masks(info: Mapping[str, Any], obs: Any, n_envs: int, n_actions: int, who: str,
                ended: np.ndarray | None = None) -> np.ndarray:
    """bool (n_envs, n_actions), True = legal, from a vector env's ``info["action_mask"]`` or dict obs.

    Rows an env did not fill (``info["_action_mask"]`` False) and rows of envs whose episode just ``ended``
    (bool (n_envs,); their next action is ignored by the autoreset) are all True. Any other row with no legal
    action raises ``ValueError`` naming ``who`` (the agent and env).
    """
    if isinstance(obs, Mapping) and "action_mask" in obs:
        mask = np.asarray(obs["action_mask"]).astype(bool).reshape(n_envs, n_actions)
    elif "action_mask" in info:
        mask = np.asarray(info["action_mask"]).astype(bool).reshape(n_envs, n_actions)
        filled = np.asarray(info.get("_action_mask", np.ones(n_envs, bool)), dtype=bool)
        mask = np.where(filled[:, None], mask, True)
    else:
        return np.ones((n_envs, n_actions), dtype=bool)
    if ended is not None:
        mask[ended] = True
    check_mask(mask, who)
    return mask


def check_mask(mask: np.ndarray, who: str) -> None:
    """Raise ``ValueError`` when some row of ``mask`` (bool (n, A)) allows no action."""
    empty = ~mask.any(axis=-1)
    if np.any(empty):
        raise ValueError(f"{who}: the env's action mask hides every action (env {int(np.argmax(empty))} of the "
                         f"batch); a mask needs at least one legal action")


def masked_argmax(values: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """argmax over the last dim of ``values`` (B, A) among actions where ``mask`` (B, A) bool is True -> (B,)."""
    if mask is not None:
        values = values.masked_fill(~mask, float("-inf"))
    return values.argmax(dim=-1)


class SingleAsVector:
    """A single ``gymnasium.Env`` seen as a vector env of one, with Gymnasium 1.x's ``NEXT_STEP`` autoreset.

    ``step`` after an episode ended resets the env instead: it returns the first observation of the next
    episode with reward 0 and ``terminated = truncated = False``, ignoring the action -- what ``SyncVectorEnv``
    does, so agents handle both with one code path. Observations gain a leading dim of 1, infos are batched.
    """

    num_envs = 1

    def __init__(self, env: gymnasium.Env, needs_reset: bool = False) -> None:
        """``needs_reset``: the env's last step ended its episode (a view of an env put back as it was then)."""
        self.env = env
        self.single_observation_space = env.observation_space
        self.single_action_space = env.action_space
        self._needs_reset = needs_reset

    def reset(self) -> tuple[Any, dict[str, Any]]:
        """Reset (unseeded: the runner seeded the env once) -> batched (obs, info)."""
        obs, info = self.env.reset()
        self._needs_reset = False
        return _batch_one(obs), _batch_info(info)

    def step(self, actions: np.ndarray) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """actions (1,) -> batched (obs, reward, terminated, truncated, info)."""
        if self._needs_reset:
            obs, info = self.reset()
            return obs, np.zeros(1), np.zeros(1, bool), np.zeros(1, bool), info
        obs, reward, terminated, truncated, info = self.env.step(int(actions[0]))
        self._needs_reset = bool(terminated or truncated)
        return (_batch_one(obs), np.array([float(reward)]), np.array([bool(terminated)]),
                np.array([bool(truncated)]), _batch_info(info))


def _batch_one(obs: Any) -> Any:
    if isinstance(obs, Mapping):
        return {k: np.asarray(v)[None] for k, v in obs.items()}
    return np.asarray(obs)[None]


def _batch_info(info: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "action_mask" in info:
        out["action_mask"] = np.asarray(info["action_mask"])[None]
        out["_action_mask"] = np.ones(1, bool)
    if "is_success" in info:
        out["is_success"] = np.array([bool(info["is_success"])])
    return out


def as_vector(env: Any, cached: Any = None, needs_reset: bool = False) -> Any:
    """``env`` if it is a vector env, else a :class:`SingleAsVector` view of it: ``cached`` when that already
    views ``env`` (the view remembers whether the env's episode ended, so keep it across ``collect`` calls), else a
    new view, told ``needs_reset`` (see :class:`SingleAsVector`)."""
    if hasattr(env, "num_envs") and hasattr(env, "single_action_space"):
        return env
    if isinstance(cached, SingleAsVector) and cached.env is env:
        return cached
    return SingleAsVector(env, needs_reset)


class EpisodeTracker:
    """Running undiscounted return and length per env; finished episodes are collected in lists."""

    def __init__(self, n_envs: int) -> None:
        self.ret = np.zeros(n_envs)
        self.len = np.zeros(n_envs, dtype=np.int64)
        self.returns: list[float] = []
        self.lengths: list[int] = []

    def step(self, rewards: np.ndarray, done: np.ndarray, valid: np.ndarray) -> None:
        """Add a step's rewards (n,) where ``valid`` (not an autoreset step); close episodes where ``done``."""
        self.ret += np.where(valid, rewards, 0.0)
        self.len += valid
        for i in np.flatnonzero(done & valid):
            self.returns.append(float(self.ret[i]))
            self.lengths.append(int(self.len[i]))
            self.ret[i], self.len[i] = 0.0, 0

    def pop(self) -> tuple[list[float], list[int]]:
        """The episodes finished since the last ``pop``."""
        out = (self.returns, self.lengths)
        self.returns, self.lengths = [], []
        return out


def seed_torch(rng: np.random.Generator) -> None:
    """Seed torch's global generator (weight init) from the agent's ``np.random.Generator``."""
    torch.manual_seed(int(rng.integers(2**31 - 1)))


def build_torso(net: Any, obs_shape: tuple[int, ...], hidden: int, layers: int, act: type[nn.Module]
                ) -> tuple[nn.Module, int]:
    """Features for the agents' heads: (module mapping (B, *obs_shape) -> (B, F), F).

    ``net`` is the run's net config: ``None`` gives an MLP of ``layers`` x ``hidden`` units with activation
    ``act`` (on flattened observations); a :class:`NetConfig` gives its ``agents.nets`` trunk (conv trunks need
    (C, H, W) planes and are flattened after the trunk); a :class:`WaveNetConfig` gives a WaveNet over a
    (T, D) history.
    """
    if isinstance(net, WaveNetConfig):
        if len(obs_shape) != 2:
            raise ValueError(f"net=wavenet reads a (T, D) history of observations, got shape {obs_shape}; "
                             "wrap the env in envs.wrappers.HistoryObservation")
        wavenet = WaveNet(net, obs_shape[1], obs_shape[0])
        return wavenet, wavenet.out_features
    if isinstance(net, NetConfig):
        if net.kind == "mlp":
            trunk = build_trunk(net, int(np.prod(obs_shape)))
            return trunk, trunk.out_channels
        if len(obs_shape) != 3 or obs_shape[1] != obs_shape[2]:
            raise ValueError(f"net={net.kind} reads (C, N, N) board planes, got observations of shape {obs_shape}")
        trunk = build_trunk(net, obs_shape[0], obs_shape[1])
        return nn.Sequential(trunk, nn.Flatten()), trunk.out_channels * obs_shape[1] * obs_shape[2]
    if net is not None:
        raise ValueError(f"unknown net config {type(net).__name__}")
    mods: list[nn.Module] = [nn.Flatten()]
    width = int(np.prod(obs_shape))
    for _ in range(layers):
        mods += [layer_init(nn.Linear(width, hidden)), act()]
        width = hidden
    return nn.Sequential(*mods), width


def layer_init(layer: nn.Linear, std: float = float(np.sqrt(2)), bias: float = 0.0) -> nn.Linear:
    """Orthogonal weights with gain ``std`` and constant bias (CleanRL's ``layer_init``)."""
    nn.init.orthogonal_(layer.weight, std)
    nn.init.constant_(layer.bias, bias)
    return layer


def cpu_state(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A detached CPU copy of a module's ``state_dict`` (for checkpoints)."""
    return {k: v.detach().cpu().clone() for k, v in state.items()}
