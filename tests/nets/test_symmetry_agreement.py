"""The compression benchmark's reference figure: how often a net keeps its top move when the board is turned."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from agents.compress.positions import Positions
from agents.nets import NetConfig, build_net
from envs.go.features import action_permutation, inverse_symmetry, symmetry_planes
from zoo.pipelines.teacher import symmetry_self_agreement


class Symmetrised(nn.Module):
    """The mean over the 8 board symmetries of ``net`` seen in each orientation: exactly equivariant."""

    def __init__(self, net: nn.Module, size: int) -> None:
        super().__init__()
        self.net, self.size = net, size

    def forward(self, planes: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, values = 0.0, 0.0
        for k in range(8):
            turned = torch.from_numpy(symmetry_planes(planes.numpy(), k))
            back = torch.from_numpy(action_permutation(inverse_symmetry(k), self.size).copy())
            lk, vk = self.net(turned, mask[:, torch.from_numpy(action_permutation(k, self.size).copy())])
            logits, values = logits + lk[:, back] / 8, values + vk / 8
        return logits.masked_fill(~mask, float("-inf")), values


class FirstLegalPoint(nn.Module):
    """Prefers the lowest legal point index: a top move that depends on the orientation alone."""

    def forward(self, planes: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = -torch.arange(mask.shape[1], dtype=torch.float32).expand(mask.shape[0], -1)
        return logits.masked_fill(~mask, float("-inf")), torch.zeros(mask.shape[0])


def test_an_equivariant_net_keeps_its_top_move_and_an_orientation_rule_does_not(positions9: Positions) -> None:
    torch.manual_seed(0)
    net = build_net(NetConfig(kind="resnet", preset="b2c32"), 17, 9, 82).eval()
    pos = positions9.take(slice(0, 128))
    assert symmetry_self_agreement(Symmetrised(net, 9).eval(), pos) > 0.99
    plain = symmetry_self_agreement(net, pos)
    corner = symmetry_self_agreement(FirstLegalPoint(), pos)
    assert corner < 0.5 and plain < 0.99
    assert np.isfinite(plain)


def test_the_channels_last_row_is_the_same_net_and_every_row_is_timed_against_the_first() -> None:
    """The nets table's fp32 channels-last row computes the teacher's outputs, and throughputs() times every net
    given, the first being the reference (ratio 1)."""
    from agents.compress.measure import ChannelsLast
    from agents.nets.stats import throughputs

    torch.manual_seed(0)
    net = build_net(NetConfig(kind="resnet", blocks=1, channels=8), 17, 5, 26).eval()
    planes = torch.randn(6, 17, 5, 5)
    mask = torch.ones(6, 26, dtype=torch.bool)
    with torch.no_grad():
        for a, b in zip(net(planes, mask), ChannelsLast(net)(planes, mask), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    pos = Positions(planes, mask)
    speed = throughputs({"net": net, "net again": net}, pos, batch=4, rounds=3)
    assert set(speed) == {"net", "net again"}
    assert speed["net"][1] == 1.0 and speed["net"][0] > 0 and speed["net again"][1] > 0
