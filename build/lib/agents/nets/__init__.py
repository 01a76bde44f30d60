"""Neural-net building blocks of the zoo suite: backbones, heads, and their sizes.

    from agents.nets import NetConfig, build_net
    net = build_net(NetConfig(kind="resnet", preset="b6c64"), in_channels=17, board_size=9, n_actions=82)
    logits, value = net(planes, mask)   # (B, 82) with -inf on illegal moves, (B,) in [-1, 1]

Backbones (``NetConfig.kind``): ``resnet``, ``mobilenet``, ``densenet``, ``mlp``; norms: ``batch`` (default),
``layer``, ``instance``, ``group``, ``none``. Compression hooks live in ``agents.compress``.
"""

from __future__ import annotations

from agents.nets.backbones import build_trunk
from agents.nets.checkpoint import load_net, net_checkpoint, net_from_checkpoint, save_net
from agents.nets.config import DEFAULT_PRESET, HEADS, KINDS, NORMS, PRESETS, NetConfig
from agents.nets.heads import Net, build_mlp, build_net, mask_logits
from agents.nets.stats import count_macs, count_params, latency_per_position

__all__ = ["DEFAULT_PRESET", "HEADS", "KINDS", "NORMS", "PRESETS", "Net", "NetConfig", "build_mlp", "build_net",
           "build_trunk", "count_macs", "count_params", "latency_per_position", "load_net", "mask_logits",
           "net_checkpoint", "net_from_checkpoint", "save_net"]
