"""Net configuration: one frozen dataclass for every backbone, named presets, and the valid choices.

A preset names a size as blocks x channels, the KataGo way (``b6c64`` = 6 blocks of 64 channels); ``blocks=``
and ``channels=`` override either number. For the MLP a "block" is one hidden layer and "channels" its width.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("resnet", "mobilenet", "densenet", "mlp")
"""Backbones ``net=NAME`` can select."""

NORMS = ("batch", "layer", "instance", "group", "none")
"""Normalisation layers ``norm=NAME`` can select (applied after every conv / hidden linear of every backbone)."""

HEADS = ("dual", "policy", "value")
"""Which heads a built net carries: both on one trunk (AlphaGo Zero) or one each (AlphaGo Lee)."""

AUX_HEADS = ("ownership", "score")
"""Auxiliary heads a dual net can carry beside policy and value (KataGo): the final owner of every point, and the
distribution of the final score margin. Agents ask for them (``agent.ownership_weight``, ``agent.score_weight``)."""

PRESETS: dict[str, dict[str, tuple[int, int]]] = {
    "resnet": {"b2c32": (2, 32), "b4c64": (4, 64), "b6c64": (6, 64), "b6c96": (6, 96), "b10c128": (10, 128),
               "b20c256": (20, 256)},
    "mobilenet": {"b4c32": (4, 32), "b6c48": (6, 48), "b8c64": (8, 64), "b12c96": (12, 96)},
    "densenet": {"b2c32": (2, 32), "b3c48": (3, 48), "b4c64": (4, 64)},
    "mlp": {"l2w64": (2, 64), "l2w256": (2, 256), "l3w512": (3, 512)},
}
"""Per backbone: preset name -> (blocks, channels). The first entry of each is the smallest."""

DEFAULT_PRESET = {"resnet": "b6c64", "mobilenet": "b6c48", "densenet": "b3c48", "mlp": "l2w256"}
"""The preset used when ``preset`` is null and neither ``blocks`` nor ``channels`` is given."""


def choices_error(what: str, got: object, valid: tuple[str, ...] | list[str]) -> ValueError:
    """The one-line error for an unknown choice: ``unknown net kind 'x'; valid: resnet, mobilenet, ...``."""
    return ValueError(f"unknown {what} {got!r}; valid: {', '.join(valid)}")


@dataclass(frozen=True)
class NetConfig:
    """Backbone and heads of a net (``conf/net/*.yaml``; one file per ``kind``)."""

    kind: str = "resnet"
    """Backbone: ``resnet`` (residual tower), ``mobilenet`` (inverted residuals), ``densenet`` or ``mlp``."""
    preset: str | None = None
    """Named size of this ``kind`` (see ``PRESETS``), e.g. ``b6c64``; null: the kind's default (``DEFAULT_PRESET``:
    resnet b6c64, mobilenet b6c48, densenet b3c48, mlp l2w256), or ``blocks`` and ``channels`` when both are set."""
    blocks: int | None = None
    """Overrides the preset's block count (residual/inverted-residual blocks, dense blocks, or MLP hidden layers)."""
    channels: int | None = None
    """Overrides the preset's width (trunk channels; the stem width for densenet; hidden units for mlp)."""
    norm: str = "batch"
    """``batch`` (default), ``layer``, ``instance``, ``group`` or ``none``. Batch norm is the default because in
    eval mode it uses running statistics, so inference does not depend on the batch size (self-play may run
    batch 1..1024 while training uses a fixed batch), and it folds into the conv weights for int8 and ONNX, so it
    costs nothing at inference. Its price: the training batch must be large enough (>= ~32) for stable
    statistics, and inference must call ``net.eval()``. ``layer``/``instance``/``group`` are batch-independent
    in training too but stay as separate (fp32) ops after int8 quantization."""
    groups: int = 8
    """Groups of ``norm=group`` (reduced to a divisor of the channel count when it does not divide it)."""
    expand: int = 4
    """MobileNet: expansion ratio t of the 1x1 expand conv (hidden width = t * channels; MobileNetV2 uses 6)."""
    se: bool = False
    """MobileNet: add squeeze-excitation inside each inverted residual block (MobileNetV3)."""
    se_reduce: int = 4
    """MobileNet: squeeze-excitation bottleneck is hidden width / se_reduce."""
    kernel_size: int = 3
    """MobileNet: kernel size of the depthwise conv (odd; MobileNetV3 uses 5 in some blocks). A depthwise KxK
    conv costs H*W*K*K*t*C multiply-adds against 2*H*W*t*C*C for the block's two 1x1 convs, so a wider kernel
    adds little: b6c48 goes from 10.4 M to 11.9 M MACs per 9x9 position with 5x5."""
    growth: int = 16
    """DenseNet: growth rate k (channels each BN-ReLU-conv layer adds)."""
    layers_per_block: int = 4
    """DenseNet: BN-ReLU-conv layers in each dense block."""
    compression: float = 0.5
    """DenseNet: a transition layer keeps this fraction of its input channels (1x1 conv, stride 1, no pooling)."""
    policy_channels: int = 2
    """Channels of the policy head's 1x1 conv (AlphaGo Zero: 2)."""
    value_channels: int = 1
    """Channels of the value head's 1x1 conv (AlphaGo Zero: 1)."""
    value_hidden: int = 256
    """Hidden units of the value head's fully connected layer (AlphaGo Zero: 256); also of the score head's."""
    global_pool: bool = False
    """ResNet: KataGo's global pooling (Wu 2019). Every third block from the second (blocks 1, 4, 7, ...: b6 has
    two) becomes a :class:`~agents.nets.backbones.GlobalPoolBlock`, whose ``pool_channels`` pooled channels (mean,
    size-scaled mean, max over the board) set a bias per channel of the block's first conv; and the policy and
    value heads pool too (:class:`~agents.nets.heads.PoolPolicyHead`, :class:`~agents.nets.heads.PoolValueHead`)
    instead of flattening the board into a fully connected layer. The whole net is then fully convolutional: the
    same weights evaluate any board size (a net built on 9x9 plays 5x5 and 7x7). False: AlphaGo Zero's heads,
    whose fully connected layers fix the board size."""
    pool_channels: int = 16
    """Channels of a global pooling block's pooled branch (KataGo's c_gpool), with ``global_pool``."""
    head_channels: int = 32
    """Channels of the 1x1 convs of the pooled heads (policy and value with ``global_pool``) and of the ownership
    and score heads (KataGo's p1/g1/v1 widths)."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise choices_error("net kind", self.kind, KINDS)
        if self.norm not in NORMS:
            raise choices_error("norm", self.norm, NORMS)
        if self.preset is not None and self.preset not in PRESETS[self.kind]:
            raise choices_error(f"{self.kind} preset", self.preset, list(PRESETS[self.kind]))
        for name in ("blocks", "channels"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"NetConfig.{name} must be >= 1, got {value}")
        if self.global_pool and self.kind != "resnet":
            raise ValueError(f"net.global_pool=true is built for net=resnet (KataGo's global pooling blocks); "
                             f"net={self.kind} has none: use net=resnet or net.global_pool=false")
        for name in ("groups", "expand", "se_reduce", "growth", "layers_per_block", "policy_channels",
                     "value_channels", "value_hidden", "pool_channels", "head_channels"):
            if getattr(self, name) < 1:
                raise ValueError(f"NetConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ValueError(f"NetConfig.kernel_size must be odd and >= 1 (same padding), got {self.kernel_size}")
        if not 0.0 < self.compression <= 1.0:
            raise ValueError(f"NetConfig.compression must be in (0, 1], got {self.compression}")

    def size(self) -> tuple[int, int]:
        """(blocks, channels) after applying ``blocks``/``channels`` over the preset (or the kind's default)."""
        preset = self.preset
        if preset is None and (self.blocks is None or self.channels is None):
            preset = DEFAULT_PRESET[self.kind]
        blocks, channels = PRESETS[self.kind][preset] if preset is not None else (0, 0)
        return (self.blocks or blocks, self.channels or channels)

    def label(self) -> str:
        """A short name for tables: ``resnet b6c64 batch``."""
        blocks, channels = self.size()
        return f"{self.kind} b{blocks}c{channels} {self.norm}{' gpool' if self.global_pool else ''}"
