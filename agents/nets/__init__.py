"""Neural-net building blocks of the zoo suite: backbones, heads, and their sizes.

    from agents.nets import NetConfig, build_net
    net = build_net(NetConfig(kind="resnet", preset="b6c64"), in_channels=17, board_size=9, n_actions=82)
    logits, value = net(planes, mask)   # (B, 82) with -inf on illegal moves, (B,) in [-1, 1]

``NetConfig(global_pool=True)`` makes a resnet fully convolutional (KataGo's global pooling); ``build_net(...,
aux=("ownership", "score"))`` adds KataGo's auxiliary heads, read with ``net(planes, mask, aux=True)``.

Backbones (``NetConfig.kind``): ``resnet``, ``mobilenet``, ``densenet``, ``mlp``; norms: ``batch`` (default),
``layer``, ``instance``, ``group``, ``none``. Compression hooks live in ``agents.compress``.
"""

from __future__ import annotations

from agents.nets.backbones import build_trunk
from agents.nets.checkpoint import load_net, load_weights, net_checkpoint, net_from_checkpoint, save_net
from agents.nets.config import AUX_HEADS, DEFAULT_PRESET, HEADS, KINDS, NORMS, PRESETS, NetConfig
from agents.nets.heads import Net, NetOutputs, build_mlp, build_net, mask_logits

_STATS = ("count_macs", "count_params", "latency_per_position")
"""Names from :mod:`agents.nets.stats`, imported on first use so that ``python -m agents.nets.stats`` runs a module
not yet imported (runpy warns otherwise)."""


def __getattr__(name: str) -> object:
    if name in _STATS:
        from agents.nets import stats

        return getattr(stats, name)
    raise AttributeError(f"module 'agents.nets' has no attribute {name!r}")

__all__ = ["AUX_HEADS", "DEFAULT_PRESET", "HEADS", "KINDS", "NORMS", "PRESETS", "Net", "NetConfig", "NetOutputs",
           "build_mlp", "build_net", "build_trunk", "count_macs", "count_params", "latency_per_position", "load_net",
           "load_weights", "mask_logits", "net_checkpoint", "net_from_checkpoint", "save_net"]
