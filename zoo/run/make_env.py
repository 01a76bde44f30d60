"""Build Gymnasium envs from an :class:`~zoo.run.config.EnvConfig`, with one-line errors for user mistakes.

Pure Gymnasium: the suite's own envs (``zoo/...`` ids) are registered by importing :mod:`envs`, which the
entry points do (:mod:`zoo.launch`, the Go tools of :mod:`zoo.play`, the scale-out workers); an id of another
package registers itself when spelled ``package:ns/Name-vN``.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

import gymnasium

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


def make_env(cfg: EnvConfig, seed: int | None = None, render_mode: str | None = None) -> gymnasium.Env:
    """``gymnasium.make(cfg.id, **cfg.kwargs)``, reset once with ``seed`` so later unseeded resets continue it.

    Raises :class:`ConfigError` naming the id and the valid choices when the id is unknown, and naming the
    bad keyword or value when the env rejects one of ``cfg.kwargs``.
    """
    check_env(cfg)
    kwargs = _make_kwargs(cfg, render_mode)
    env = _checked(cfg, kwargs, lambda: gymnasium.make(cfg.id, **kwargs))
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
