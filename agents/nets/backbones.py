"""Trunks: planes (B, C_in, H, W) -> features, stride 1 throughout (boards are 5x5..19x19; no spatial pooling).

- :class:`ResNet`: conv stem, then B residual blocks of two 3x3 convs with a shortcut (AlphaGo Zero); with
  ``global_pool`` every third block from the second is a :class:`GlobalPoolBlock` (KataGo).
- :class:`MobileNet`: conv stem, then B inverted residual blocks (1x1 expand, 3x3 depthwise, 1x1 linear
  project, shortcut; MobileNetV2), optionally with squeeze-excitation (MobileNetV3).
- :class:`DenseNet`: conv stem, then B dense blocks (BN-ReLU-conv layers concatenating k channels each) joined by
  1x1 transition layers.
- :class:`MLP`: flattened input through B hidden layers (for vector observations, or planes flattened).

Conv trunks return (B, out_channels, H, W); the MLP returns (B, out_channels). Each trunk has ``out_channels``
and ``spatial`` attributes the heads read. Blocks are named modules (``blocks.0``, ``blocks.1`` ...), which is
what pruning reports and compression errors refer to.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from agents.nets.config import NetConfig
from agents.nets.norms import norm1d, norm2d


def conv_norm_act(cin: int, cout: int, k: int, norm: str, groups: int, act: bool = True, conv_groups: int = 1
                  ) -> nn.Sequential:
    """Conv (stride 1, same padding) -> norm -> ReLU (when ``act``). The conv has a bias only when ``norm=none``."""
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, padding=k // 2, groups=conv_groups, bias=norm == "none"),
                               norm2d(norm, cout, groups)]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class ResidualBlock(nn.Module):
    """relu(x + norm(conv(relu(norm(conv(x)))))): two 3x3 convs, C -> C -> C."""

    def __init__(self, channels: int, norm: str, groups: int) -> None:
        super().__init__()
        self.conv1 = conv_norm_act(channels, channels, 3, norm, groups)
        self.conv2 = conv_norm_act(channels, channels, 3, norm, groups, act=False)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C, H, W) -> (B, C, H, W)."""
        return self.relu(x + self.conv2(self.conv1(x)))


POOL_CENTRE, POOL_SCALE = 9.0, 10.0
"""The board-size feature of global pooling: ``b = (sqrt(area) - POOL_CENTRE) / POOL_SCALE``. KataGo uses
``(sqrt(area) - 14) / 10`` for its 9x9..19x19 boards (b from -0.5 to 0.5); the suite's boards run from 5x5, and its
main board is 9x9, so the centre moves to 9 and the spread per line is kept: b = -0.4 on 5x5, 0 on 9x9, 1 on 19x19."""


def size_feature(x: torch.Tensor) -> float:
    """``b`` of :data:`POOL_CENTRE` for feature maps ``x (B, C, H, W)`` (every board of a batch has one size)."""
    return (math.sqrt(x.shape[-2] * x.shape[-1]) - POOL_CENTRE) / POOL_SCALE


def global_pool(x: torch.Tensor) -> torch.Tensor:
    """KataGo's global pooling of ``x (B, C, H, W)`` -> ``(B, 3C)``: the mean over the board, the mean times the
    size feature ``b`` (:func:`size_feature`), and the max over the board."""
    mean = x.mean(dim=(2, 3))
    return torch.cat([mean, mean * size_feature(x), x.amax(dim=(2, 3))], dim=1)


def value_pool(x: torch.Tensor) -> torch.Tensor:
    """KataGo's value-head pooling of ``x (B, C, H, W)`` -> ``(B, 3C)``: the mean, the mean times ``b`` and the mean
    times ``b*b - 0.1`` (no max: a value should not hang on one point)."""
    mean, b = x.mean(dim=(2, 3)), size_feature(x)
    return torch.cat([mean, mean * b, mean * (b * b - 0.1)], dim=1)


class GlobalPoolBlock(nn.Module):
    """A residual block with KataGo's global pooling bias (post-activation, like :class:`ResidualBlock`):

        r = norm(conv3x3(x))                       C -> C
        g = relu(norm(conv3x3(x)))                 C -> G pooled channels
        r = relu(r + linear(global_pool(g)))       a bias per channel from the whole board (3G -> C)
        out = relu(x + norm(conv3x3(r)))           C -> C

    so every point sees board-wide facts (who is ahead, how many points are settled, a ko somewhere) in one block.
    Channel slicing (``agents.nets.slicing``) leaves these blocks alone.
    """

    def __init__(self, channels: int, pooled: int, norm: str, groups: int) -> None:
        super().__init__()
        self.conv1 = conv_norm_act(channels, channels, 3, norm, groups, act=False)
        self.pooled = conv_norm_act(channels, pooled, 3, norm, groups)
        self.bias = nn.Linear(3 * pooled, channels)
        self.conv2 = conv_norm_act(channels, channels, 3, norm, groups, act=False)
        # one ReLU module per call site: int8's pattern matcher (PT2E) groups nodes by module and refuses a ReLU
        # partition with two outputs
        self.relu_mid = nn.ReLU(inplace=True)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C, H, W) -> (B, C, H, W), any H, W."""
        bias = self.bias(global_pool(self.pooled(x)))
        r = self.relu_mid(self.conv1(x) + bias[:, :, None, None])
        return self.relu(x + self.conv2(r))


def is_pool_block(index: int) -> bool:
    """Whether block ``index`` of a ``global_pool`` ResNet is a :class:`GlobalPoolBlock`: every third from the
    second (1, 4, 7, ...)."""
    return index % 3 == 1


class SqueezeExcite(nn.Module):
    """x * hardsigmoid(fc(relu(fc(mean_hw(x))))), per channel (MobileNetV3), written with 1x1 convs."""

    def __init__(self, channels: int, reduce: int) -> None:
        super().__init__()
        hidden = max(channels // reduce, 8)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(hidden, channels, 1)
        self.gate = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C, H, W) -> (B, C, H, W)."""
        return x * self.gate(self.fc2(self.relu(self.fc1(self.pool(x)))))


class InvertedResidual(nn.Module):
    """x + project(se(depthwise(expand(x)))): C -> t*C (1x1, ReLU) -> KxK depthwise (ReLU; K = 3 unless ``kernel_size``)
    -> C (1x1, linear)."""

    def __init__(self, channels: int, expand: int, norm: str, groups: int, se: bool, se_reduce: int,
                 kernel_size: int = 3) -> None:
        super().__init__()
        hidden = channels * expand
        self.expand = conv_norm_act(channels, hidden, 1, norm, groups)
        self.depthwise = conv_norm_act(hidden, hidden, kernel_size, norm, groups, conv_groups=hidden)
        self.se = SqueezeExcite(hidden, se_reduce) if se else nn.Identity()
        self.project = conv_norm_act(hidden, channels, 1, norm, groups, act=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C, H, W) -> (B, C, H, W); the shortcut applies because stride is 1 and widths match."""
        return x + self.project(self.se(self.depthwise(self.expand(x))))


class DenseLayer(nn.Module):
    """cat(x, conv3x3(relu(norm(x)))): pre-activation BN-ReLU-conv adding ``growth`` channels (DenseNet)."""

    def __init__(self, cin: int, growth: int, norm: str, groups: int) -> None:
        super().__init__()
        self.norm = norm2d(norm, cin, groups)
        self.relu = nn.ReLU(inplace=False)
        self.conv = nn.Conv2d(cin, growth, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C, H, W) -> (B, C + growth, H, W)."""
        return torch.cat([x, self.conv(self.relu(self.norm(x)))], dim=1)


class Transition(nn.Sequential):
    """BN-ReLU-1x1 conv shrinking the channels (stride 1: no pooling on a board)."""

    def __init__(self, cin: int, cout: int, norm: str, groups: int) -> None:
        super().__init__(norm2d(norm, cin, groups), nn.ReLU(inplace=False), nn.Conv2d(cin, cout, 1, bias=False))


class ResNet(nn.Module):
    """Residual tower: stem conv3x3 (C_in -> C) + B :class:`ResidualBlock` (with ``cfg.global_pool``, blocks
    1, 4, 7, ... are :class:`GlobalPoolBlock`); (B, C_in, H, W) -> (B, C, H, W)."""

    spatial = True

    def __init__(self, cfg: NetConfig, in_channels: int) -> None:
        super().__init__()
        blocks, channels = cfg.size()
        self.stem = conv_norm_act(in_channels, channels, 3, cfg.norm, cfg.groups)
        self.blocks = nn.Sequential(*(
            GlobalPoolBlock(channels, cfg.pool_channels, cfg.norm, cfg.groups) if cfg.global_pool and is_pool_block(i)
            else ResidualBlock(channels, cfg.norm, cfg.groups) for i in range(blocks)))
        self.out_channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C_in, H, W) float32 -> (B, C, H, W)."""
        return self.blocks(self.stem(x))


class MobileNet(nn.Module):
    """Stem conv3x3 (C_in -> C) + B :class:`InvertedResidual`; (B, C_in, H, W) -> (B, C, H, W)."""

    spatial = True

    def __init__(self, cfg: NetConfig, in_channels: int) -> None:
        super().__init__()
        blocks, channels = cfg.size()
        self.stem = conv_norm_act(in_channels, channels, 3, cfg.norm, cfg.groups)
        self.blocks = nn.Sequential(*(InvertedResidual(channels, cfg.expand, cfg.norm, cfg.groups, cfg.se,
                                                       cfg.se_reduce, cfg.kernel_size) for _ in range(blocks)))
        self.out_channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C_in, H, W) float32 -> (B, C, H, W)."""
        return self.blocks(self.stem(x))


class DenseNet(nn.Module):
    """Stem conv3x3 (C_in -> C) + B dense blocks of L layers (growth k), a transition after each but the last,
    then a final norm-ReLU; (B, C_in, H, W) -> (B, C_out, H, W)."""

    spatial = True

    def __init__(self, cfg: NetConfig, in_channels: int) -> None:
        super().__init__()
        blocks, channels = cfg.size()
        self.stem = nn.Conv2d(in_channels, channels, 3, padding=1, bias=False)
        layers: list[nn.Module] = []
        width = channels
        for b in range(blocks):
            for _ in range(cfg.layers_per_block):
                layers.append(DenseLayer(width, cfg.growth, cfg.norm, cfg.groups))
                width += cfg.growth
            if b < blocks - 1:
                out = max(int(width * cfg.compression), 1)
                layers.append(Transition(width, out, cfg.norm, cfg.groups))
                width = out
        layers += [norm2d(cfg.norm, width, cfg.groups), nn.ReLU(inplace=False)]
        self.blocks = nn.Sequential(*layers)
        self.out_channels = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C_in, H, W) float32 -> (B, C_out, H, W)."""
        return self.blocks(self.stem(x))


class MLP(nn.Module):
    """Flatten + B hidden layers (linear -> norm -> ReLU) of width W; (B, *in_shape) -> (B, W)."""

    spatial = False

    def __init__(self, cfg: NetConfig, in_features: int) -> None:
        super().__init__()
        blocks, width = cfg.size()
        layers: list[nn.Module] = [nn.Flatten()]
        for i in range(blocks):
            layers += [nn.Linear(in_features if i == 0 else width, width, bias=cfg.norm == "none"),
                       norm1d(cfg.norm, width, cfg.groups), nn.ReLU(inplace=True)]
        self.blocks = nn.Sequential(*layers)
        self.out_channels = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, F) or (B, C, H, W) float32 (flattened) -> (B, W)."""
        return self.blocks(x)


def build_trunk(cfg: NetConfig, in_channels: int, board_size: int | None = None) -> nn.Module:
    """The trunk ``cfg.kind`` names. ``in_channels`` is C_in for conv trunks; for the MLP the input features are
    ``in_channels * board_size**2`` when ``board_size`` is given (flattened planes), else ``in_channels``."""
    if cfg.kind == "resnet":
        return ResNet(cfg, in_channels)
    if cfg.kind == "mobilenet":
        return MobileNet(cfg, in_channels)
    if cfg.kind == "densenet":
        return DenseNet(cfg, in_channels)
    return MLP(cfg, in_channels * (board_size or 1) ** 2)
