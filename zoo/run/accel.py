"""The GPU path: autocast precision and ``torch.compile`` applied to an agent's nets, and the process-group size.

``device=auto`` already picks CUDA when present (:func:`zoo.run.loop.resolve_device`). An agent with torch nets
declares :class:`agents.protocol.Accelerable` (zero): on CUDA its self-play inference and its training run under
autocast to the dtype of ``runner.precision`` (``agent.set_precision``) and copy their inputs through pinned
memory; the game engine and the tree stay on the CPU and send one batch of leaves per search step to the GPU. On
the CPU everything computes in fp32 (CPU autocast gains nothing for these small convolutions).
"""

from __future__ import annotations

import os
from typing import Any

import torch

from agents.protocol import Accelerable
from zoo.errors import ConfigError
from zoo.run.config import RunnerConfig


def autocast_dtype(precision: str, device: str) -> torch.dtype | None:
    """The autocast dtype of ``runner.precision`` on ``device``: ``None`` (fp32) on the CPU or for ``fp32``;
    ``auto`` is bf16 where the GPU supports it (Ampere and later), else fp16."""
    if not str(device).startswith("cuda") or precision == "fp32":
        return None
    if precision == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if precision == "bf16" and not torch.cuda.is_bf16_supported():
        raise ConfigError("runner.precision=bf16 but this GPU has no bf16; use runner.precision=fp16 or auto")
    return {"bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def accelerate(agent: Any, runner: RunnerConfig, device: str) -> None:
    """Apply ``runner.precision`` and ``runner.compile`` to an :class:`Accelerable` agent (zero); other agents are
    left as they are (``runner.compile`` on one is a :class:`ConfigError`)."""
    dtype = autocast_dtype(runner.precision, device)
    if str(device).startswith("cuda"):
        torch.backends.cudnn.benchmark = True  # fixed board shapes: let cuDNN pick its fastest kernels once
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    if isinstance(agent, Accelerable):
        agent.set_precision(dtype)
    if runner.compile:
        if not isinstance(agent, Accelerable):
            raise ConfigError(f"runner.compile=true needs an agent with a torch net, evaluator and learner (zero); "
                              f"agent {type(agent).__name__} has none")
        agent.compile_nets()


def world_size() -> int:
    """Processes in the ``torchrun`` job this process belongs to (``WORLD_SIZE``; 1 outside torchrun)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1
