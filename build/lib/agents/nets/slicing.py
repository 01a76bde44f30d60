"""Narrowing the hidden channels of a built net: the layers that physically shrink when channels are removed.

A *hidden group* is a set of channels that lives inside one block and nowhere else, so it can be cut without
touching the block's input or output width (which the residual shortcut ties across the whole trunk):

- ResNet :class:`~agents.nets.backbones.ResidualBlock`: the channels between ``conv1`` and ``conv2`` (``conv1``'s
  output channels and its norm, ``conv2``'s input channels).
- MobileNet :class:`~agents.nets.backbones.InvertedResidual`: the expanded channels (``expand`` conv's outputs and
  norm, the depthwise conv and its norm, squeeze-excitation's input/output channels, ``project``'s inputs).

``slice_hidden(net, keeps)`` keeps the listed channels of each group in place and returns the widths; the net's
``forward`` (inputs, outputs, masking) is unchanged. Only ``norm=batch`` and ``norm=none`` can be sliced: a group,
layer or instance norm normalises over several channels, so removing some changes the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from agents.nets.backbones import InvertedResidual, ResidualBlock, SqueezeExcite


@dataclass
class HiddenGroup:
    """One block's hidden channels: the layers whose outputs carry them, and the consumer layers reading them."""

    name: str
    """Module name of the block (e.g. ``trunk.blocks.0``)."""
    producers: list[tuple[nn.Conv2d, nn.Module]]
    """(conv, norm after it) pairs whose output channels are the hidden channels, in order (depthwise convs too)."""
    consumer: nn.Conv2d
    """The conv reading the hidden channels as its input channels."""
    se: SqueezeExcite | None = None
    """A squeeze-excitation module acting on the hidden channels (MobileNetV3), or None."""

    @property
    def width(self) -> int:
        """Number of hidden channels."""
        return self.producers[0][0].out_channels


def hidden_groups(net: nn.Module) -> list[HiddenGroup]:
    """Every hidden group of ``net``, in module order (empty for backbones without one: densenet, mlp)."""
    groups = []
    for name, m in net.named_modules():
        if isinstance(m, ResidualBlock):
            groups.append(HiddenGroup(name, [(m.conv1[0], m.conv1[1])], m.conv2[0]))
        elif isinstance(m, InvertedResidual):
            se = m.se if isinstance(m.se, SqueezeExcite) else None
            groups.append(HiddenGroup(name, [(m.expand[0], m.expand[1]), (m.depthwise[0], m.depthwise[1])],
                                      m.project[0], se))
    return groups


def _check_norm(group: HiddenGroup) -> None:
    for _, norm in group.producers:
        if not isinstance(norm, nn.BatchNorm2d | nn.Identity):
            raise ValueError(f"{group.name}: channels cannot be removed across a {type(norm).__name__} (it mixes "
                             "channels); channel slicing supports norm=batch and norm=none")


def _take(param: torch.Tensor | None, index: torch.Tensor, dim: int) -> nn.Parameter | None:
    if param is None:
        return None
    return nn.Parameter(param.detach().index_select(dim, index).clone(), requires_grad=param.requires_grad)


def _slice_conv_out(conv: nn.Conv2d, keep: torch.Tensor) -> None:
    conv.weight = _take(conv.weight, keep, 0)
    if conv.bias is not None:
        conv.bias = _take(conv.bias, keep, 0)
    if conv.groups > 1:  # depthwise: one input channel per output channel
        conv.groups = conv.in_channels = len(keep)
    conv.out_channels = len(keep)


def _slice_norm(norm: nn.Module, keep: torch.Tensor) -> None:
    if not isinstance(norm, nn.BatchNorm2d):
        return
    norm.weight, norm.bias = _take(norm.weight, keep, 0), _take(norm.bias, keep, 0)
    norm.running_mean = norm.running_mean.index_select(0, keep).clone()
    norm.running_var = norm.running_var.index_select(0, keep).clone()
    norm.num_features = len(keep)


def slice_hidden(net: nn.Module, keeps: list[torch.Tensor]) -> list[int]:
    """Keep only channels ``keeps[i]`` (1-D int64 indices, ascending) of hidden group i of ``net``, in place.

    Conv weights, biases, batch-norm parameters and running statistics are cut to the kept channels, as are the
    consumer conv's input channels and a squeeze-excitation's channels. Returns the new widths. ``ValueError``
    names the block when a group cannot be sliced (a channel-mixing norm, an empty or out-of-range keep).
    """
    groups = hidden_groups(net)
    if len(keeps) != len(groups):
        raise ValueError(f"slice_hidden: {len(keeps)} keep lists for {len(groups)} hidden groups")
    widths = []
    for group, keep in zip(groups, keeps, strict=True):
        _check_norm(group)
        keep = torch.as_tensor(keep, dtype=torch.long).flatten()
        if len(keep) == 0 or int(keep.min()) < 0 or int(keep.max()) >= group.width:
            raise ValueError(f"{group.name}: keep 1..{group.width} channels with indices in [0, {group.width}); "
                             f"got {len(keep)}")
        for conv, norm in group.producers:
            _slice_conv_out(conv, keep)
            _slice_norm(norm, keep)
        consumer = group.consumer
        consumer.weight = _take(consumer.weight, keep, 1)
        consumer.in_channels = len(keep)
        if group.se is not None:
            group.se.fc1.weight = _take(group.se.fc1.weight, keep, 1)
            group.se.fc1.in_channels = len(keep)
            group.se.fc2.weight = _take(group.se.fc2.weight, keep, 0)
            group.se.fc2.bias = _take(group.se.fc2.bias, keep, 0)
            group.se.fc2.out_channels = len(keep)
        widths.append(len(keep))
    return widths


def narrow_to(net: nn.Module, widths: list[int]) -> nn.Module:
    """Shrink ``net``'s hidden groups to ``widths`` (their first channels), in place, so a sliced net's
    state_dict loads into it (see ``agents.nets.checkpoint``). Returns ``net``."""
    slice_hidden(net, [torch.arange(w) for w in widths])
    return net


def hidden_widths(net: nn.Module) -> list[int]:
    """Current width of each hidden group of ``net``."""
    return [g.width for g in hidden_groups(net)]
