"""Heads and whole nets: a trunk (backbones.py) with a policy head, a value head, or both, and auxiliary heads.

Policy head (AlphaGo Zero): 1x1 conv to 2 channels -> norm -> ReLU -> linear to A = N*N + 1 logits (pass last);
illegal moves are set to -inf when a mask is given. Value head: 1x1 conv to 1 channel -> norm -> ReLU -> linear
256 -> ReLU -> linear 1 -> tanh, so the value is in [-1, 1] from the mover's view. On the MLP trunk the heads
are plain linear layers. On a ``global_pool`` trunk the policy and value heads pool instead of flattening
(:class:`PoolPolicyHead`, :class:`PoolValueHead`, KataGo), so the net runs on any board size.

Auxiliary heads (``aux``, dual nets on conv trunks; KataGo's ownership and score targets):

- ``ownership``: :class:`OwnershipHead`, per point, ``tanh`` of its logits is the predicted final owner from the
  mover's view (+1 the mover's, -1 the opponent's, 0 neither); fully convolutional.
- ``score``: :class:`ScoreHead`, a distribution over the final score margin from the mover's view (area
  difference minus komi, the mover's side), on the integer bins ``-2*N*N .. 2*N*N`` of the board the net is
  built for; its mean is the predicted margin. Pooled, so it too runs on any board size up to the built one.

``Net.forward(x, mask=None, aux=False)`` (x: (B, C, H, W) float32; mask: (B, A) bool, True = legal) returns

- ``heads="dual"``:   ``(policy_logits (B, A), value (B,))`` from one trunk (AlphaGo Zero); with ``aux=True`` a
  :class:`NetOutputs` holding those and the auxiliary outputs (``None`` for heads the net lacks);
- ``heads="policy"``: ``policy_logits (B, A)`` (AlphaGo Lee's policy net);
- ``heads="value"``:  ``value (B,)`` (AlphaGo Lee's value net; ``mask`` is ignored).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from agents.nets.backbones import build_trunk, conv_norm_act, global_pool, value_pool
from agents.nets.config import AUX_HEADS, HEADS, NetConfig, choices_error
from agents.nets.norms import norm2d


def mask_logits(logits: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """logits (B, A) with -inf where ``mask`` (B, A) bool is False; unchanged when ``mask`` is None.

    Every row of ``mask`` needs one legal action (in Go, pass always is), else its softmax is NaN.
    """
    if mask is None:
        return logits
    return logits.masked_fill(~mask, float("-inf"))


class NetOutputs(NamedTuple):
    """Everything a dual net computes (``Net.forward(..., aux=True)``); all from the view of the player to move."""

    logits: torch.Tensor
    """(B, A) policy logits, -inf on illegal moves when a mask was given."""
    value: torch.Tensor
    """(B,) value in [-1, 1]."""
    ownership_logits: torch.Tensor | None
    """(B, H, W) ownership logits (``ownership`` is their tanh); None without the ownership head."""
    score_logits: torch.Tensor | None
    """(B, S) logits over the score bins ``ScoreHead.bins``; None without the score head."""
    score_mean: torch.Tensor | None
    """(B,) float32 mean of the score distribution: the predicted final margin in points; None without it."""

    @property
    def ownership(self) -> torch.Tensor | None:
        """(B, H, W) predicted final owner of every point in (-1, 1): +1 the mover's, -1 the opponent's."""
        return None if self.ownership_logits is None else torch.tanh(self.ownership_logits)


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


class PoolPolicyHead(nn.Module):
    """KataGo's policy head: a logit per point from 1x1 convs, biased by board-wide pooled features, and the pass
    logit from the pooled features alone; (B, C, H, W) -> (B, H*W + 1) for any H, W (pass last)."""

    def __init__(self, trunk: nn.Module, cfg: NetConfig) -> None:
        super().__init__()
        c, hc = trunk.out_channels, cfg.head_channels
        self.conv = nn.Conv2d(c, hc, 1, bias=False)
        self.pooled = conv_norm_act(c, hc, 1, cfg.norm, cfg.groups)
        self.bias = nn.Linear(3 * hc, hc)
        self.norm_act = nn.Sequential(norm2d(cfg.norm, hc, cfg.groups), nn.ReLU(inplace=True))
        self.point = nn.Conv2d(hc, 1, 1)
        self.pass_logit = nn.Linear(3 * hc, 1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """h: (B, C, H, W) -> (B, H*W + 1)."""
        g = global_pool(self.pooled(h))
        p = self.norm_act(self.conv(h) + self.bias(g)[:, :, None, None])
        return torch.cat([torch.flatten(self.point(p), 1), self.pass_logit(g)], dim=1)


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


class PoolValueHead(nn.Module):
    """KataGo's value head: 1x1 conv -> norm -> ReLU -> value pooling (mean, size-scaled means) -> linear
    ``value_hidden`` -> ReLU -> linear 1 -> tanh; (B, C, H, W) -> (B,) in [-1, 1] for any H, W."""

    def __init__(self, trunk: nn.Module, cfg: NetConfig) -> None:
        super().__init__()
        hc = cfg.head_channels
        self.conv = conv_norm_act(trunk.out_channels, hc, 1, cfg.norm, cfg.groups)
        self.fc = nn.Sequential(nn.Linear(3 * hc, cfg.value_hidden), nn.ReLU(inplace=True),
                                nn.Linear(cfg.value_hidden, 1), nn.Tanh())

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """h: (B, C, H, W) -> (B,)."""
        return self.fc(value_pool(self.conv(h))).squeeze(1)


class OwnershipHead(nn.Module):
    """1x1 conv -> norm -> ReLU -> 1x1 conv to one channel: ownership logits (B, H, W), any H, W. Their tanh is
    the predicted final owner of each point from the mover's view (KataGo's ownership head)."""

    def __init__(self, trunk: nn.Module, cfg: NetConfig) -> None:
        super().__init__()
        self.conv = conv_norm_act(trunk.out_channels, cfg.head_channels, 1, cfg.norm, cfg.groups)
        self.out = nn.Conv2d(cfg.head_channels, 1, 1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """h: (B, C, H, W) -> (B, H, W)."""
        return self.out(self.conv(h)).squeeze(1)


class ScoreHead(nn.Module):
    """1x1 conv -> norm -> ReLU -> value pooling -> linear ``value_hidden`` -> ReLU -> linear to S logits over the
    score bins ``bins`` = the integers ``-bound .. bound``, ``bound = 2 * board_size**2`` (a margin is at most the
    board's points plus komi, and the suite's komi is at most the board's points)."""

    def __init__(self, trunk: nn.Module, cfg: NetConfig, board_size: int) -> None:
        super().__init__()
        hc = cfg.head_channels
        self.bound = 2 * board_size * board_size
        self.register_buffer("bins", torch.arange(-self.bound, self.bound + 1, dtype=torch.float32),
                             persistent=False)
        self.conv = conv_norm_act(trunk.out_channels, hc, 1, cfg.norm, cfg.groups)
        self.fc = nn.Sequential(nn.Linear(3 * hc, cfg.value_hidden), nn.ReLU(inplace=True),
                                nn.Linear(cfg.value_hidden, 2 * self.bound + 1))

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """h: (B, C, H, W) -> (logits (B, S), mean (B,) float32 in points)."""
        logits = self.fc(value_pool(self.conv(h)))
        # An elementwise product and a sum, not a matmul: autocast leaves them in float32.
        return logits, (torch.softmax(logits.float(), dim=1) * self.bins).sum(dim=1)


class Net(nn.Module):
    """A trunk with a policy head, a value head, or both, and the auxiliary heads ``aux`` (a subset of
    ``AUX_HEADS``, dual nets on conv trunks only); see the module docstring for ``forward``.

    Modules are registered trunk, policy, value, then ``ownership`` and ``score`` (named as in ``aux``), so a state
    dict without the auxiliary heads lacks exactly the keys under those names."""

    def __init__(self, cfg: NetConfig, in_channels: int, board_size: int, n_actions: int, heads: str = "dual",
                 aux: Sequence[str] = ()) -> None:
        super().__init__()
        if heads not in HEADS:
            raise choices_error("heads", heads, HEADS)
        unknown = [a for a in aux if a not in AUX_HEADS]
        if unknown:
            raise choices_error("auxiliary head", unknown[0], AUX_HEADS)
        self.cfg, self.heads = cfg, heads
        self.aux = tuple(a for a in AUX_HEADS if a in aux)
        self.in_channels, self.board_size, self.n_actions = in_channels, board_size, n_actions
        self.trunk = build_trunk(cfg, in_channels, board_size)
        if self.aux and (heads != "dual" or not self.trunk.spatial):
            needs = "heads need" if len(self.aux) > 1 else "head needs"
            raise ValueError(f"the {' and '.join(self.aux)} {needs} a dual net on board-shaped features (net=resnet, "
                             f"mobilenet or densenet); net={cfg.kind} with heads={heads} has none")
        pooled = cfg.global_pool  # resnet only (NetConfig checks)
        self.policy: nn.Module | None = None
        self.value: nn.Module | None = None
        if heads != "value":
            self.policy = PoolPolicyHead(self.trunk, cfg) if pooled else PolicyHead(self.trunk, cfg, board_size,
                                                                                     n_actions)
        if heads != "policy":
            self.value = PoolValueHead(self.trunk, cfg) if pooled else ValueHead(self.trunk, cfg, board_size)
        self.ownership = OwnershipHead(self.trunk, cfg) if "ownership" in self.aux else None
        self.score = ScoreHead(self.trunk, cfg, board_size) if "score" in self.aux else None

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, aux: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor] | torch.Tensor | NetOutputs:
        """x: (B, C, H, W) float32, mask: (B, A) bool or None -> (logits (B, A), value (B,)) | logits | value;
        ``aux=True`` (dual nets): :class:`NetOutputs`."""
        h = self.trunk(x)
        if self.value is None:
            return mask_logits(self.policy(h), mask)
        if self.policy is None:
            return self.value(h)
        logits, value = mask_logits(self.policy(h), mask), self.value(h)
        if not aux:
            return logits, value
        ownership = self.ownership(h) if self.ownership is not None else None
        score_logits, score_mean = self.score(h) if self.score is not None else (None, None)
        return NetOutputs(logits, value, ownership, score_logits, score_mean)


def build_net(cfg: NetConfig, in_channels: int, board_size: int, n_actions: int, heads: str = "dual",
              aux: Sequence[str] = ()) -> Net:
    """The net ``cfg`` describes for (B, in_channels, board_size, board_size) planes and ``n_actions`` moves
    (N*N + 1 for Go). ``heads``: ``dual`` | ``policy`` | ``value``; ``aux``: auxiliary heads (see :class:`Net`)."""
    return Net(cfg, in_channels, board_size, n_actions, heads, aux)


def build_mlp(cfg: NetConfig, obs_dim: int, n_outputs: int) -> nn.Sequential:
    """An MLP for vector observations: (B, obs_dim) float32 -> (B, n_outputs) (Q-values, logits, ...).

    Uses ``cfg``'s blocks (hidden layers), channels (width) and norm; ``cfg.kind`` must be ``mlp``.
    """
    if cfg.kind != "mlp":
        raise ValueError(f"build_mlp needs net kind 'mlp', got {cfg.kind!r}; for board planes use build_net")
    trunk = build_trunk(cfg, obs_dim)
    return nn.Sequential(trunk, nn.Linear(trunk.out_channels, n_outputs))
