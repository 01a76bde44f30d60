"""Build Gymnasium envs from an :class:`~zoo.run.config.EnvConfig`, with one-line errors for user mistakes.

Pure Gymnasium: the suite's own envs (``zoo/...`` ids) are registered by importing :mod:`envs`, which the
entry points do (:mod:`zoo.launch`, the Go tools of :mod:`zoo.play`, the scale-out workers); an id of another
package registers itself when spelled ``package:ns/Name-vN``.
"""

from __future__ import annotations

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


def make_env(cfg: EnvConfig, seed: int | None = None, render_mode: str | None = None) -> gymnasium.Env:
    """``gymnasium.make(cfg.id, **cfg.kwargs)``, reset once with ``seed`` so later unseeded resets continue it.

    Raises :class:`ConfigError` naming the id and the valid choices when the id is unknown, and naming the
    bad keyword or value when the env rejects one of ``cfg.kwargs``.
    """
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
