"""Heads and whole nets: a trunk (backbones.py) with a policy head, a value head, or both.

Policy head (AlphaGo Zero): 1x1 conv to 2 channels -> norm -> ReLU -> linear to A = N*N + 1 logits (pass last);
illegal moves are set to -inf when a mask is given. Value head: 1x1 conv to 1 channel -> norm -> ReLU -> linear
256 -> ReLU -> linear 1 -> tanh, so the value is in [-1, 1] from the mover's view. On the MLP trunk the heads
are plain linear layers.

``Net.forward(x, mask=None)`` (x: (B, C, H, W) float32; mask: (B, A) bool, True = legal) returns

- ``heads="dual"``:   ``(policy_logits (B, A), value (B,))`` from one trunk (AlphaGo Zero);
- ``heads="policy"``: ``policy_logits (B, A)`` (AlphaGo Lee's policy net);
- ``heads="value"``:  ``value (B,)`` (AlphaGo Lee's value net; ``mask`` is ignored).
"""

from __future__ import annotations

import torch
from torch import nn

from agents.nets.backbones import build_trunk, conv_norm_act
from agents.nets.config import HEADS, NetConfig, choices_error


def mask_logits(logits: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """logits (B, A) with -inf where ``mask`` (B, A) bool is False; unchanged when ``mask`` is None.

    Every row of ``mask`` needs one legal action (in Go, pass always is), else its softmax is NaN.
    """
    if mask is None:
        return logits
    return logits.masked_fill(~mask, float("-inf"))


class PolicyHead(nn.Module):
    """features -> policy logits (B, n_actions), unmasked."""

    def __init__(self, trunk: nn.Module, cfg: NetConfig, board_size: int, n_actions: int) -> None:
        super().__init__()
        c = trunk.out_channels
        if trunk.spatial:
            self.conv = conv_norm_act(c, cfg.policy_channels, 1, cfg.norm, cfg.groups)
            self.fc = nn.Linear(cfg.policy_channels * board_size * board_size, n_actions)
        else:
            self.conv = nn.Identity()
            self.fc = nn.Linear(c, n_actions)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """h: (B, C, H, W) or (B, W) -> (B, n_actions)."""
        return self.fc(torch.flatten(self.conv(h), 1))


class ValueHead(nn.Module):
    """features -> value (B,) in [-1, 1]."""

    def __init__(self, trunk: nn.Module, cfg: NetConfig, board_size: int) -> None:
        super().__init__()
        c = trunk.out_channels
        if trunk.spatial:
            self.conv = conv_norm_act(c, cfg.value_channels, 1, cfg.norm, cfg.groups)
            flat = cfg.value_channels * board_size * board_size
        else:
            self.conv = nn.Identity()
            flat = c
        self.fc = nn.Sequential(nn.Linear(flat, cfg.value_hidden), nn.ReLU(inplace=True),
                                nn.Linear(cfg.value_hidden, 1), nn.Tanh())

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """h: (B, C, H, W) or (B, W) -> (B,)."""
        return self.fc(torch.flatten(self.conv(h), 1)).squeeze(1)


class Net(nn.Module):
    """A trunk with a policy head, a value head, or both; see the module docstring for ``forward``."""

    def __init__(self, cfg: NetConfig, in_channels: int, board_size: int, n_actions: int, heads: str = "dual"
                 ) -> None:
        super().__init__()
        if heads not in HEADS:
            raise choices_error("heads", heads, HEADS)
        self.cfg, self.heads = cfg, heads
        self.in_channels, self.board_size, self.n_actions = in_channels, board_size, n_actions
        self.trunk = build_trunk(cfg, in_channels, board_size)
        self.policy = PolicyHead(self.trunk, cfg, board_size, n_actions) if heads != "value" else None
        self.value = ValueHead(self.trunk, cfg, board_size) if heads != "policy" else None

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor] | torch.Tensor:
        """x: (B, C, H, W) float32, mask: (B, A) bool or None -> (logits (B, A), value (B,)) | logits | value."""
        h = self.trunk(x)
        if self.value is None:
            return mask_logits(self.policy(h), mask)
        if self.policy is None:
            return self.value(h)
        return mask_logits(self.policy(h), mask), self.value(h)


def build_net(cfg: NetConfig, in_channels: int, board_size: int, n_actions: int, heads: str = "dual") -> Net:
    """The net ``cfg`` describes for (B, in_channels, board_size, board_size) planes and ``n_actions`` moves
    (N*N + 1 for Go). ``heads``: ``dual`` | ``policy`` | ``value`` (see :class:`Net`)."""
    return Net(cfg, in_channels, board_size, n_actions, heads)


def build_mlp(cfg: NetConfig, obs_dim: int, n_outputs: int) -> nn.Sequential:
    """An MLP for vector observations: (B, obs_dim) float32 -> (B, n_outputs) (Q-values, logits, ...).

    Uses ``cfg``'s blocks (hidden layers), channels (width) and norm; ``cfg.kind`` must be ``mlp``.
    """
    if cfg.kind != "mlp":
        raise ValueError(f"build_mlp needs net kind 'mlp', got {cfg.kind!r}; for board planes use build_net")
    trunk = build_trunk(cfg, obs_dim)
    return nn.Sequential(trunk, nn.Linear(trunk.out_channels, n_outputs))
