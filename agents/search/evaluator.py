"""The Evaluator seam (docs/design.md, "The seams"): what search needs of a net, batched.

``evaluate(planes (n, C, H, W) float32, masks (n, A) bool) -> (priors (n, A) float32, values (n,) float32)``:
priors sum to 1 over the legal actions and are 0 elsewhere; values are in [-1, 1] from the view of the player to
move in each position. A torch net (:class:`NetEvaluator`), an int8 or distilled copy, a cache, or a dummy for
tests (:class:`UniformEvaluator`, :class:`FunctionEvaluator`) all fit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch


class Evaluator(Protocol):
    """planes + legal masks -> (priors, values from the mover's view); see the module docstring."""

    def evaluate(self, planes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


def masked_softmax(logits: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """float32 softmax of ``logits (n, A)`` over ``masks`` (True = legal); 0 on illegal actions."""
    z = np.where(masks, logits, -np.inf)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


class UniformEvaluator:
    """Uniform priors over the legal actions and a constant value (``0``: no opinion). Needs no torch net."""

    def __init__(self, value: float = 0.0) -> None:
        self.value = value
        self.positions = 0

    def evaluate(self, planes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Uniform priors on legal actions; ``value`` for every position."""
        self.positions += len(planes)
        priors = masks / np.maximum(masks.sum(axis=1, keepdims=True), 1)
        return priors.astype(np.float32), np.full(len(planes), self.value, np.float32)


class FunctionEvaluator:
    """Wraps ``fn(planes, masks) -> (logits (n, A), values (n,))`` (e.g. a hand-written heuristic) as an Evaluator."""

    def __init__(self, fn: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]) -> None:
        self.fn = fn
        self.positions = 0

    def evaluate(self, planes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Softmax of ``fn``'s logits over the legal actions, and its values (float32)."""
        self.positions += len(planes)
        logits, values = self.fn(planes, masks)
        return masked_softmax(np.asarray(logits, np.float64), masks), np.asarray(values, np.float32)


@dataclass(frozen=True)
class ScoreUtility:
    """The value search sees when it also wants points (KataGo's score utility): for the net's value ``v`` and
    predicted score margin ``s`` (both from the mover's view),

        u = (v + weight * 2/pi * atan(s / scale)) / (1 + weight)

    in [-1, 1]: rescaled rather than clipped, so a position the net thinks won by more stays better. ``scale`` is
    in points (the margin at which the score term is half its range)."""

    weight: float
    """Weight of the score term (> 0)."""
    scale: float
    """Points at which ``atan`` reaches half its range (> 0)."""

    def __call__(self, value: torch.Tensor, score: torch.Tensor) -> torch.Tensor:
        """Utility ``(n,)`` of values ``(n,)`` and score margins ``(n,)``."""
        term = (2 / math.pi) * torch.atan(score / self.scale)
        return (value + self.weight * term) / (1 + self.weight)


class NetEvaluator:
    """A dual-head torch net ``net(x, mask) -> (logits, value)`` as an Evaluator, timing its forward passes.

    Runs the net in eval mode under ``torch.inference_mode`` on ``device``; on CUDA under autocast to
    ``amp_dtype`` (bf16 by default; ``None`` = fp32), with the planes copied through pinned memory. The forward
    pass goes through ``model`` (the net, or a ``torch.compile`` of it). The net's own mode is restored
    afterwards, so the learner may share the module. ``forward_seconds`` counts the wall time from handing the
    planes to torch until the results are back in numpy (transfers included). With a ``utility``
    (:class:`ScoreUtility`) the net must have a score head (``net(x, mask, aux=True).score_mean``), and the values
    returned are that utility instead of the bare value.
    """

    def __init__(self, net: torch.nn.Module, device: str = "cpu", utility: ScoreUtility | None = None) -> None:
        self.net, self.device = net, torch.device(device)
        self.utility = utility
        self.model: torch.nn.Module = net
        self.amp_dtype: torch.dtype | None = torch.bfloat16 if self.device.type == "cuda" else None
        self.forward_seconds = 0.0
        self.calls = 0
        self.positions = 0

    def evaluate(self, planes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Priors (softmax of the masked logits) and values for ``planes (n, C, H, W)`` and ``masks (n, A)``."""
        start = time.perf_counter()
        was_training = self.net.training
        self.net.eval()
        x = self._to_device(np.ascontiguousarray(planes, np.float32))
        m = self._to_device(np.ascontiguousarray(masks, np.bool_))
        amp = self.amp_dtype
        with torch.inference_mode(), torch.autocast(self.device.type, amp or torch.bfloat16, enabled=amp is not None):
            if self.utility is None:
                logits, values = self.model(x, m)
            else:
                out = self.model(x, m, aux=True)
                logits, values = out.logits, self.utility(out.value.float(), out.score_mean.float())
            priors = torch.softmax(logits.float(), dim=1)
        out = priors.cpu().numpy(), values.float().cpu().numpy()
        if was_training:
            self.net.train()
        self.forward_seconds += time.perf_counter() - start
        self.calls += 1
        self.positions += len(planes)
        return out

    @property
    def autocast(self) -> bool:
        """Whether the forward pass runs under autocast (``amp_dtype`` set); setting False runs it in the net's
        own precision (a compressed copy), True restores bf16 on CUDA."""
        return self.amp_dtype is not None

    @autocast.setter
    def autocast(self, on: bool) -> None:
        self.amp_dtype = torch.bfloat16 if on and self.device.type == "cuda" else None

    def _to_device(self, array: np.ndarray) -> torch.Tensor:
        """``array`` on the device; on CUDA through pinned memory, so the copy is asynchronous (DMA)."""
        tensor = torch.from_numpy(array)
        if self.device.type != "cuda":
            return tensor
        return tensor.pin_memory().to(self.device, non_blocking=True)
