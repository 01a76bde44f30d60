"""The WaveNet encoder: receptive field (formula and measured), causality, and the net=wavenet torso."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.common import build_torso
from agents.nets.wavenet import WaveNet, WaveNetConfig, layers_for, receptive_field


@pytest.mark.parametrize("layers,k,expected", [(1, 2, 2), (3, 2, 8), (4, 2, 16), (2, 3, 9), (3, 3, 27)])
def test_receptive_field_formula(layers: int, k: int, expected: int) -> None:
    assert receptive_field(layers, k) == expected == k**layers


@pytest.mark.parametrize("history,k,expected", [(1, 2, 1), (2, 2, 1), (8, 2, 3), (9, 2, 4), (16, 2, 4), (10, 3, 3)])
def test_fewest_layers_covering_a_history(history: int, k: int, expected: int) -> None:
    assert layers_for(history, k) == expected
    assert receptive_field(expected, k) >= history


@pytest.mark.parametrize("layers,k", [(3, 2), (2, 3)])
def test_measured_receptive_field_equals_the_formula(layers: int, k: int) -> None:
    """The last output's gradient is non-zero exactly on the last receptive_field input steps."""
    torch.manual_seed(0)
    history = 40
    net = WaveNet(WaveNetConfig(channels=8, kernel_size=k, layers=layers), in_features=3, history=history)
    x = torch.randn(1, history, 3, requires_grad=True)
    net.blocks(net.inp(x.transpose(1, 2)))[0, :, -1].sum().backward()
    seen = np.flatnonzero(x.grad[0].abs().sum(-1).numpy() > 0)
    assert len(seen) == receptive_field(layers, k) == net.receptive_field
    assert seen[-1] == history - 1 and np.all(np.diff(seen) == 1)


def test_output_is_causal_and_shaped() -> None:
    torch.manual_seed(0)
    net = WaveNet(WaveNetConfig(channels=16), in_features=6, history=16)
    assert net.layers == 4 and net.receptive_field == 16
    x = torch.randn(5, 16, 6)
    out = net(x)
    assert out.shape == (5, 16)
    y = x.clone()
    y[:, 0] += 1.0  # the oldest step moves the output: it is inside the field
    assert not torch.allclose(net(y), out)


def test_wavenet_torso_needs_a_history() -> None:
    torso, width = build_torso(WaveNetConfig(channels=8), (16, 6), 64, 2, torch.nn.Tanh)
    assert width == 8 and torso(torch.zeros(2, 16, 6)).shape == (2, 8)
    with pytest.raises(ValueError, match="history"):
        build_torso(WaveNetConfig(), (6,), 64, 2, torch.nn.Tanh)


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match="kind"):
        WaveNetConfig(kind="resnet")
    with pytest.raises(ValueError, match="layers"):
        WaveNetConfig(layers=0)
