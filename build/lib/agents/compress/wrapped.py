"""The wrapper that lets any compressed inner model keep a net's interface ``forward(x, mask=None)``."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch
from torch import nn

from agents.nets.heads import Net, mask_logits


class CompressedNet(nn.Module):
    """``forward(x (B, C, H, W) float32, mask (B, A) bool | None)`` -> what ``like`` returns (as ``agents.nets.Net``).

    ``inner`` maps x to the unmasked outputs (a compiled int8 graph, a half-precision copy, ...); this wrapper
    moves the input to ``device`` (when given) and casts it to ``dtype``, runs ``inner`` under ``context()``
    (e.g. an Inductor config patch) without autograd when ``inference_only``, casts outputs back to float32 and
    masks illegal moves to -inf.
    The attributes ``cfg``, ``heads``, ``in_channels``, ``board_size``, ``n_actions`` are copied from ``like``.
    """

    def __init__(self, inner: nn.Module, like: Net, method: str, dtype: torch.dtype = torch.float32,
                 context: Callable[[], contextlib.AbstractContextManager] | None = None,
                 inference_only: bool = True, device: torch.device | str | None = None) -> None:
        super().__init__()
        self.inner, self.method, self.dtype = inner, method, dtype
        self.cfg, self.heads = like.cfg, like.heads
        self.in_channels, self.board_size, self.n_actions = like.in_channels, like.board_size, like.n_actions
        self._context = context or contextlib.nullcontext
        self.inference_only = inference_only
        self.device = None if device is None else torch.device(device)

    def train(self, mode: bool = True) -> CompressedNet:
        """Set the flag only: exported int8 graphs refuse train/eval switches, and the inner model is fixed."""
        self.training = mode
        return self

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor] | torch.Tensor:
        """x: (B, C, H, W) float32; mask: (B, A) bool or None -> as ``agents.nets.Net.forward``."""
        if self.device is not None:
            x = x.to(self.device)
        grad = contextlib.nullcontext() if not self.inference_only else torch.no_grad()
        with self._context(), grad:
            out = self.inner(x.to(self.dtype))
        if self.heads == "value":
            return out.float()
        if self.heads == "policy":
            return mask_logits(out.float(), None if mask is None else mask.to(out.device))
        logits, value = out
        return mask_logits(logits.float(), None if mask is None else mask.to(logits.device)), value.float()
