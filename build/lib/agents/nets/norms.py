"""Normalisation layers by name, for feature maps (B, C, H, W) and for vectors (B, F).

=========  =====================================  ==========================================================
name       feature maps (B, C, H, W)              vectors (B, F)
=========  =====================================  ==========================================================
batch      BatchNorm2d (running stats in eval)    BatchNorm1d
layer      GroupNorm(1, C): over C, H, W          LayerNorm(F)
instance   GroupNorm(C, C): over H, W per channel LayerNorm(F) (one sample's features are its only "instance")
group      GroupNorm(g, C), g divides C           GroupNorm(g, F)
none       Identity                               Identity
=========  =====================================  ==========================================================

``batch`` is the default (see ``NetConfig.norm``): in eval mode its output does not depend on the batch size and
it folds into the preceding conv for int8 and ONNX. The others normalise each sample on its own.
"""

from __future__ import annotations

import math

from torch import nn

from agents.nets.config import NORMS, choices_error


def _divisor(groups: int, channels: int) -> int:
    """The largest divisor of ``channels`` that is <= ``groups``."""
    g = math.gcd(groups, channels)
    return max(g, 1)


def norm2d(kind: str, channels: int, groups: int = 8) -> nn.Module:
    """A normalisation layer for (B, channels, H, W) feature maps (see the module table)."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    if kind == "instance":
        return nn.GroupNorm(channels, channels)
    if kind == "group":
        return nn.GroupNorm(_divisor(groups, channels), channels)
    if kind == "none":
        return nn.Identity()
    raise choices_error("norm", kind, NORMS)


def norm1d(kind: str, features: int, groups: int = 8) -> nn.Module:
    """A normalisation layer for (B, features) vectors (see the module table)."""
    if kind == "batch":
        return nn.BatchNorm1d(features)
    if kind in ("layer", "instance"):
        return nn.LayerNorm(features)
    if kind == "group":
        return nn.GroupNorm(_divisor(groups, features), features)
    if kind == "none":
        return nn.Identity()
    raise choices_error("norm", kind, NORMS)
