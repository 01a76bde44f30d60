"""Build Gymnasium envs from an :class:`~zoo.run.config.EnvConfig`, with one-line errors for user mistakes.

Pure Gymnasium: the suite's own envs (``zoo/...`` ids) are registered by importing :mod:`envs`, which the
entry points do (:mod:`zoo.launch`, the Go tools of :mod:`zoo.play`, the scale-out workers); an id of another
package registers itself when spelled ``package:ns/Name-vN``. A run's training env is an
:class:`EpisodeRecorder`, so that its checkpoints hold the episode in progress.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium
import numpy as np

from zoo.errors import ConfigError
from zoo.run.config import EnvConfig

SUITE_NAMESPACE = "zoo"
"""The Gymnasium namespace the suite's envs register under (``envs.registry.NAMESPACE``)."""


def zoo_env_ids() -> list[str]:
    """Every env id registered under the ``zoo/`` namespace."""
    return sorted(k for k in gymnasium.registry if k.startswith(f"{SUITE_NAMESPACE}/"))


MAKE_KWARGS = ("max_episode_steps", "disable_env_checker", "render_mode")
"""Keywords ``gymnasium.make`` takes itself (every env may receive them)."""


def check_env(cfg: EnvConfig) -> None:
    """Check, without building anything, that ``cfg.id`` is registered and that every name in ``cfg.kwargs`` is a
    parameter of the env's constructor; :class:`ConfigError` naming the unknown ones and the valid ones otherwise.

    An id spelled ``package:ns/Name-vN`` imports ``package`` first (which registers it). Constructors that take
    ``**kwargs`` accept any name; their values are checked when the env is made.
    """
    spec = _checked(cfg, dict(cfg.kwargs), lambda: _spec(cfg.id))
    valid = env_parameters(spec.entry_point)
    if valid is None:
        return
    unknown = [k for k in cfg.kwargs if k not in valid and k not in MAKE_KWARGS]
    if unknown:
        raise ConfigError(
            f"unknown env.kwargs {', '.join(repr(k) for k in unknown)} for env={cfg.name} ({cfg.id}); valid: "
            f"{', '.join(valid) or 'none (the constructor takes no arguments)'}"
        )


def _spec(env_id: str) -> gymnasium.envs.registration.EnvSpec:
    """The registered spec of ``env_id``; ``package:ns/Name-vN`` imports ``package`` first, as ``make`` does."""
    module, _, name = env_id.rpartition(":")
    if module:
        importlib.import_module(module)
    return gymnasium.spec(name)


def env_parameters(entry_point: Any) -> list[str] | None:
    """Keyword parameters of an env's constructor (entry point ``module:Class``, or a callable); ``None`` when it
    takes ``**kwargs`` or cannot be inspected."""
    try:
        creator = (gymnasium.envs.registration.load_env_creator(entry_point) if isinstance(entry_point, str)
                   else entry_point)
        params = inspect.signature(creator).parameters.values()
    except (ImportError, AttributeError, ValueError, TypeError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in params if p.kind in named]


def make_env(cfg: EnvConfig, seed: int | None = None, render_mode: str | None = None, recorded: bool = False
             ) -> gymnasium.Env:
    """``gymnasium.make(cfg.id, **cfg.kwargs)``, reset once with ``seed`` so later unseeded resets continue it;
    ``recorded``: wrapped in an :class:`EpisodeRecorder` first.

    Raises :class:`ConfigError` naming the id and the valid choices when the id is unknown, and naming the
    bad keyword or value when the env rejects one of ``cfg.kwargs``.
    """
    check_env(cfg)
    kwargs = _make_kwargs(cfg, render_mode)
    env = _checked(cfg, kwargs, lambda: gymnasium.make(cfg.id, **kwargs))
    if recorded:
        env = EpisodeRecorder(env)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    return env


def make_vec_env(cfg: EnvConfig, num_envs: int, seed: int | None = None) -> gymnasium.vector.VectorEnv:
    """``num_envs`` copies of the env stepped in lockstep (Gymnasium's sync vector env), seeded ``seed + i``.

    Autoreset follows Gymnasium 1.x's default (``NEXT_STEP``): the step after an episode ends returns the first
    observation of the next one and ignores its action.
    """
    check_env(cfg)
    kwargs = _make_kwargs(cfg, None)
    env = _checked(cfg, kwargs, lambda: gymnasium.make_vec(cfg.id, num_envs=num_envs, vectorization_mode="sync",
                                                           **kwargs))
    env.reset(seed=seed)
    env.action_space.seed(seed)
    return env


def _make_kwargs(cfg: EnvConfig, render_mode: str | None) -> dict[str, Any]:
    kwargs = dict(cfg.kwargs)
    if cfg.max_episode_steps is not None:
        kwargs["max_episode_steps"] = cfg.max_episode_steps
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    return kwargs


def _checked(cfg: EnvConfig, kwargs: dict[str, Any], make: Callable[[], Any]) -> Any:
    """Run ``make``; turn the errors a user's config causes into one-line :class:`ConfigError`."""
    try:
        return make()
    except (gymnasium.error.Error, ModuleNotFoundError) as exc:
        raise ConfigError(
            f"cannot make env '{cfg.id}' ({_first_line(exc)}); zoo envs: "
            f"{', '.join(zoo_env_ids()) or 'none registered (import envs first)'}; "
            "any Gymnasium id works as env=gym env.id=ID"
        ) from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"env '{cfg.id}' rejected its arguments {kwargs}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class EpisodeRecorder(gymnasium.Wrapper):
    """Records the episode in progress so that a fresh copy of the env can be put exactly where this one is.

    Gymnasium envs are deterministic given their generator (``env.unwrapped.np_random``), so an episode is known
    from the generator's state just before its ``reset``, that reset's seed and the actions stepped since:
    :meth:`state_dict` holds those (arrays and plain values), and :meth:`load_state_dict` replays them into a copy
    of the env made with the same config. The episode's last observation is kept too (flattened, where its
    space can be), to check the replay. An episode begun by a reset with ``options``, or stepped with actions
    that are not numbers or arrays of numbers, is not recorded. The recording costs one list append per step and
    grows with the episode.
    """

    def __init__(self, env: gymnasium.Env) -> None:
        super().__init__(env)
        self._start: dict[str, Any] | None = None
        """The generator's state before the episode's reset, and the reset's seed; ``None``: nothing to replay."""
        self._actions: list[Any] = []
        self._last_obs: Any = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset the env and start recording a new episode."""
        rng = None if seed is not None else self.env.unwrapped.np_random.bit_generator.state
        obs, info = self.env.reset(seed=seed, options=options)
        self._start = None if options is not None else {"rng": rng, "seed": seed}
        self._actions, self._last_obs = [], obs
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """Step the env and record ``action``."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._actions.append(action)
        self._last_obs = obs
        return obs, reward, terminated, truncated, info

    def state_dict(self) -> dict[str, Any] | None:
        """The episode in progress (``rng``, ``seed``, ``actions`` stacked, ``last_obs`` flattened), or ``None``
        when there is none to replay."""
        if self._start is None:
            return None
        actions = np.stack([np.asarray(a) for a in self._actions]) if self._actions else np.zeros(0, np.int64)
        if actions.dtype.kind not in "biuf":
            return None
        return {**self._start, "actions": actions, "last_obs": self._flat(self._last_obs)}

    def load_state_dict(self, state: Mapping[str, Any]) -> bool:
        """Replay the episode of :meth:`state_dict`: set the generator, reset, step every action. Returns whether
        the env now stands where the recorded one stood (the last observations agree); if not, the env is
        somewhere in an episode and should be reset."""
        if state["rng"] is not None:
            self.env.unwrapped.np_random.bit_generator.state = dict(state["rng"])
        seed = None if state["seed"] is None else int(state["seed"])
        self.reset(seed=seed)
        discrete = isinstance(self.action_space, gymnasium.spaces.Discrete)
        for action in np.asarray(state["actions"]):
            self.step(int(action) if discrete else action)
        return _same(self._flat(self._last_obs), state["last_obs"])

    def _flat(self, obs: Any) -> np.ndarray | None:
        """``obs`` as one numeric array, or ``None`` when its space does not flatten to one."""
        try:
            flat = np.asarray(gymnasium.spaces.flatten(self.observation_space, obs))
        except (NotImplementedError, TypeError, ValueError):
            return None
        return flat if flat.dtype.kind in "biuf" else None


def _same(a: np.ndarray | None, b: Any) -> bool:
    """Whether two flattened observations are equal (NaN equal to NaN); ``True`` when either could not be had."""
    if a is None or b is None:
        return True
    b = np.asarray(b)
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f" and b.dtype.kind == "f"))
