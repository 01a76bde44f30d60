"""WaveNet encoder: a stack of dilated causal 1-D convolutions over a history of observations.

Input (B, T, D): the last T observations, oldest first, the current one last (``envs.wrappers.HistoryObservation``).
A 1x1 conv lifts D to C channels; then L residual layers, layer i a causal conv of kernel size k and dilation
``k**i`` with a gated activation ``tanh(f) * sigmoid(g)`` (van den Oord et al. 2016). The output is
``tanh(linear(layernorm(h)))`` of the last time step's C channels (B, C): the layer norm lifts the few bits that
change between observations (the cue among them) to unit scale, and tanh bounds the features like the agents'
MLP torsos (without both, PPO learned the corridor but never the cue). It sees
``receptive_field(L, k) = 1 + sum_i (k - 1) k**i = k**L`` steps, so L = ceil(log_k T) layers cover a history of
T with O(C^2 L) parameters (an MLP over the flattened history needs O(T D H)).

Selected by ``net=wavenet`` (``conf/net/wavenet.yaml`` -> :class:`WaveNetConfig`); the deep RL agents
(``agents/common.py::build_torso``) put their heads on its features.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class WaveNetConfig:
    """A WaveNet encoder over a (T, D) observation history."""

    kind: str = "wavenet"
    """Always ``wavenet`` (what ``net=wavenet`` selects)."""
    channels: int = 32
    """Residual channels C of every layer (and the feature width the heads read)."""
    kernel_size: int = 2
    """Taps k of each causal conv; layer i has dilation k**i."""
    layers: int | None = None
    """Dilated layers L; null: the fewest whose receptive field covers the history (ceil(log_k T))."""

    def __post_init__(self) -> None:
        if self.kind != "wavenet":
            raise ValueError(f"WaveNetConfig.kind must be 'wavenet', got {self.kind!r}")
        if self.channels < 1 or self.kernel_size < 2:
            raise ValueError("WaveNetConfig needs channels >= 1 and kernel_size >= 2")
        if self.layers is not None and self.layers < 1:
            raise ValueError(f"WaveNetConfig.layers must be >= 1, got {self.layers}")


def receptive_field(layers: int, kernel_size: int = 2) -> int:
    """Time steps the last output sees: 1 + sum_i (k - 1) * k**i over i < L, which is k**L."""
    return 1 + sum((kernel_size - 1) * kernel_size**i for i in range(layers))


def layers_for(history: int, kernel_size: int = 2) -> int:
    """The fewest layers whose receptive field is >= ``history`` (at least 1)."""
    return max(1, math.ceil(math.log(history, kernel_size) - 1e-9)) if history > 1 else 1


class CausalBlock(nn.Module):
    """x + 1x1(tanh(conv_f(x)) * sigmoid(conv_g(x))): a gated causal dilated conv with a residual, C -> C."""

    def __init__(self, channels: int, kernel_size: int, dilation: int) -> None:
        super().__init__()
        self.pad = (kernel_size - 1) * dilation
        self.conv = nn.Conv1d(channels, 2 * channels, kernel_size, dilation=dilation)
        self.out = nn.Conv1d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C, T) -> (B, C, T); output t depends on inputs t - pad .. t only (left padding = causal)."""
        f, g = self.conv(F.pad(x, (self.pad, 0))).chunk(2, dim=1)
        return x + self.out(torch.tanh(f) * torch.sigmoid(g))


class WaveNet(nn.Module):
    """(B, T, D) history -> (B, C) features of the last step; see the module docstring."""

    def __init__(self, cfg: WaveNetConfig, in_features: int, history: int) -> None:
        super().__init__()
        self.layers = cfg.layers or layers_for(history, cfg.kernel_size)
        self.receptive_field = receptive_field(self.layers, cfg.kernel_size)
        self.history = history
        self.inp = nn.Conv1d(in_features, cfg.channels, 1)
        self.blocks = nn.Sequential(*(CausalBlock(cfg.channels, cfg.kernel_size, cfg.kernel_size**i)
                                      for i in range(self.layers)))
        self.norm = nn.LayerNorm(cfg.channels)
        self.out = nn.Linear(cfg.channels, cfg.channels)
        self.out_features = cfg.channels
        nn.init.orthogonal_(self.out.weight, math.sqrt(2))
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, T, D) float32, oldest step first -> (B, C) features of step T - 1, in (-1, 1)."""
        h = self.blocks(self.inp(x.transpose(1, 2)))
        return torch.tanh(self.out(self.norm(h[:, :, -1])))
