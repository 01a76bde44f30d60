"""What ``train.py`` calls: pick the runner for a :class:`~zoo.run.config.RunConfig` and hand it its hooks.

- ``agent=alphago``: the AlphaGo pipeline of stages (:mod:`zoo.pipelines.alphago`), not the collect/update loop;
- ``runner=ray``: self-play on Ray actors, the learner here (:mod:`zoo.scale.ray_selfplay`);
- under ``torchrun`` (``WORLD_SIZE`` > 1): this process is one data-parallel rank (:mod:`zoo.scale.torchrun`);
- otherwise the local run loop (:class:`zoo.run.loop.Run`).

The run loop imports nothing of Go: the launcher gives it, as :class:`~zoo.run.loop.RunHooks`, the Go evaluation
of :mod:`zoo.play.go_eval` (a searching agent's matches against the built-in bots, with SGF samples and a sample
game as pictures; ``{}`` on other envs and agents), the picture of a gridworld agent's greedy policy
(:mod:`zoo.reporting.gridworld_policy`) and the progress-bar text for the win rates. Importing this module
registers the suite's environments (:mod:`envs`) with Gymnasium.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import envs  # noqa: F401  (registers the zoo/ ids)
from zoo.errors import CheckpointError, ConfigError
from zoo.play.go_eval import go_evaluation, go_progress_text
from zoo.reporting.gridworld_policy import policy_picture
from zoo.run.accel import world_size
from zoo.run.checkpoint import resolve_target
from zoo.run.config import RunConfig
from zoo.run.loop import Run, RunHooks
from zoo.run.make_env import check_env


def check(cfg: RunConfig) -> None:
    """What can be checked of ``cfg`` on this machine before anything is built or written: the env id is registered
    and its constructor takes every ``env.kwargs`` name, ``resume=`` names something, CUDA is there if asked for.
    Raises a :class:`~zoo.errors.UserError` naming the mistake (``train.py`` calls this before Hydra makes the run
    directory)."""
    check_env(cfg.env)
    if cfg.resume and not resolve_target(cfg.resume, "resume=").exists():
        raise CheckpointError(f"resume={cfg.resume}: no such checkpoint file or run directory")
    if cfg.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(f"device={cfg.device} but CUDA is not available here; use device=auto or device=cpu")


def resumed_run_dir(resume: str, env_id: str | None = None) -> Path | None:
    """The run directory a ``resume=`` target continues in (the run's own folder), or ``None`` for a checkpoint
    file outside any run directory, such as ``pretrained:NAME``, or for a run on another env than ``env_id`` (its
    ``config.json`` says which): a warm start, which is a new run (the run then writes to a new one)."""
    target = resolve_target(resume, "resume=")
    folder = None
    if target.is_dir():
        folder = target
    elif target.is_file() and target.parent.name in ("checkpoints", "stages"):
        folder = target.parent.parent
    if folder is not None and env_id is not None and _run_env(folder) not in (None, env_id):
        return None
    return folder


def _run_env(folder: Path) -> str | None:
    """The env id a run folder's ``config.json`` names (None when it has none or cannot be read)."""
    try:
        return json.loads((folder / "config.json").read_text(encoding="utf-8"))["env"]["id"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def run_hooks() -> RunHooks:
    """The hooks every collect/update run of ``train.py`` gets: the Go evaluation, the gridworld policy picture and
    the progress text of the win rates."""
    return RunHooks(evaluations=(go_evaluation, policy_picture), progress_text=go_progress_text)


def run(cfg: RunConfig) -> dict[str, Any]:
    """Train as ``cfg`` says on the runner it names and return the summary (env steps, wall time, evaluation)."""
    if cfg.agent.name == "alphago":  # a pipeline of stages, not the collect/update loop
        from zoo.pipelines.alphago import run_pipeline

        return run_pipeline(cfg)
    hooks = run_hooks()
    if cfg.runner.kind == "ray":
        from zoo.scale.ray_selfplay import run_ray

        return run_ray(cfg, hooks)
    if world_size() > 1:
        from zoo.scale.torchrun import run_ddp

        return run_ddp(cfg, hooks)
    return Run(cfg, hooks).train()
