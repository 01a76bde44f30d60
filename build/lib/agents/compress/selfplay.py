"""A compressed copy of a learner's net for self-play (``python train.py env=go9 agent=zero compress=int8``).

The learner trains its fp32 net; self-play searches with :meth:`SelfPlayCompression.build`'s result, a copy of
those weights compressed by ``CompressConfig.method``, rebuilt every ``refresh`` updates from the newest replay
positions (the agent decides when: ``agents.zero.agent.ZeroAgent.set_selfplay_compression``):

============  ==================================================================================================
method        self-play net
============  ==================================================================================================
int8          PT2E static int8 (CPU only), calibrated on the newest positions, compiled once per rebuild for a
              fixed batch (smaller batches are padded, so search never triggers a recompilation)
qat           quantization-aware fine-tuning towards the learner's outputs for ``steps`` steps, then int8
int8_dynamic  int8 linear layers (CPU)
fp16, bf16    a half-precision copy on the run's device (fp16 needs CUDA)
prune         a pruned copy (``structure=channels`` cuts the channels out: smaller and faster)
distill       a student net that keeps learning: each rebuild distils the learner into it for ``steps`` steps
============  ==================================================================================================

At the end of a run :meth:`SelfPlayCompression.save` writes the final compressed net beside the checkpoints
(``.pt`` net checkpoint for prune / distill, a ``torch.export`` program ``.pt2`` for int8 / qat / fp16 / bf16)
and, with ``onnx=true``, an ONNX file.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
from torch import nn

from agents.compress.config import CompressConfig
from agents.compress.distill import distill
from agents.compress.positions import positions_from_planes
from agents.compress.quantize import int8_blockers
from agents.compress.wrapped import CompressedNet
from agents.nets.checkpoint import save_net
from agents.nets.heads import Net

CPU_ONLY = ("int8", "qat", "int8_dynamic")
"""Methods whose kernels run on the CPU only."""


class FixedBatch(nn.Module):
    """Runs ``inner`` on batches of exactly ``batch`` rows: smaller inputs are padded with zeros (the extra rows'
    outputs are dropped), larger ones split. Keeps a compiled graph on one static shape."""

    def __init__(self, inner: nn.Module, batch: int) -> None:
        super().__init__()
        self.inner, self.batch = inner, batch

    def forward(self, x: torch.Tensor) -> object:
        """x: (n, C, H, W) -> ``inner``'s outputs for the n rows."""
        outs = []
        for start in range(0, x.shape[0], self.batch):
            chunk = x[start:start + self.batch]
            n = chunk.shape[0]
            if n < self.batch:
                chunk = torch.cat([chunk, chunk.new_zeros((self.batch - n, *chunk.shape[1:]))])
            out = self.inner(chunk)
            outs.append(tuple(o[:n] for o in out) if isinstance(out, tuple) else out[:n])
        if len(outs) == 1:
            return outs[0]
        if isinstance(outs[0], tuple):
            return tuple(torch.cat(parts) for parts in zip(*outs, strict=True))
        return torch.cat(outs)


class SelfPlayCompression:
    """Builds the compressed self-play net from a learner's net; see the module docstring."""

    def __init__(self, cfg: CompressConfig, device: str = "cpu", seed: int = 0) -> None:
        if cfg.method == "none":
            raise ValueError("compress=none needs no self-play compression")
        self.cfg, self.device, self.seed = cfg, torch.device(device), seed
        self.student: Net | None = None
        self.builds = 0

    @property
    def refresh(self) -> int:
        """Rebuild every this many updates."""
        return self.cfg.refresh

    @property
    def min_positions(self) -> int:
        """Replay positions needed before the first build (0: build at once, e.g. fp16)."""
        needs = self.cfg.method in ("int8", "qat", "distill") or (self.cfg.method == "prune" and self.cfg.steps > 0)
        return self.cfg.batch_size if needs else 0

    @property
    def wanted_positions(self) -> int:
        """How many of the newest replay positions a build uses."""
        if self.cfg.method in ("distill", "qat", "prune"):
            return max(self.cfg.batch_size * 32, 4096)
        return self.cfg.batch_size * self.cfg.calibration_batches

    def check(self, net: Net) -> None:
        """``ValueError`` (one line) when this method cannot compress ``net`` on this device."""
        method, device = self.cfg.method, self.device.type
        if method in CPU_ONLY and device != "cpu":
            raise ValueError(f"compress={method} runs on the CPU only, and this run uses device={device}; "
                             "on a GPU use compress=fp16 or compress=bf16 (or device=cpu)")
        if method == "fp16" and device != "cuda":
            raise ValueError("compress=fp16 needs a CUDA device; on the CPU use compress=bf16 or compress=int8")
        if method in ("int8", "qat"):
            blockers = int8_blockers(net)
            if blockers:
                raise ValueError(f"compress={method} cannot quantize layer {blockers[0]}; use norm=batch or "
                                 "norm=none (or compress=bf16)")

    def build(self, net: Net, planes: np.ndarray | None, batch: int | None = None) -> nn.Module:
        """The compressed copy of ``net`` (left unchanged) for self-play on this device.

        ``planes``: float32 (n, C, H, W) recent positions (calibration, fine-tuning, distillation); ``batch``: the
        largest batch self-play evaluates (int8 is compiled for it; smaller batches are padded).
        """
        from agents.compress import compress, student_for

        cfg = self.cfg
        positions = None if planes is None or len(planes) == 0 else positions_from_planes(planes)
        fp32 = copy.deepcopy(net).float().cpu().eval()
        if cfg.method == "distill":
            if self.student is None:
                self.student = student_for(fp32, cfg)
            student = self.student.cpu()
            distill(fp32, student, positions, cfg.steps, cfg.batch_size, cfg.lr, cfg.temperature,
                    cfg.value_weight, self.seed + self.builds)
            model: nn.Module = student.to(self.device).eval()
        elif cfg.method in ("fp16", "bf16"):
            model = compress(fp32, cfg, positions, device=str(self.device))
        else:
            model = compress(fp32, cfg, positions, seed=self.seed + self.builds)
            if cfg.method == "prune":
                from agents.compress.prune import make_permanent

                model = make_permanent(model).to(self.device).eval()
            elif batch and cfg.compile and isinstance(model, CompressedNet) and cfg.method in ("int8", "qat"):
                model.inner = FixedBatch(model.inner, batch)
        self.builds += 1
        return model

    def save(self, model: nn.Module, net: Net, planes: np.ndarray | None, folder: str | Path, stem: str
             ) -> list[Path]:
        """Write ``model`` (a result of :meth:`build` for ``net``) into ``folder`` as ``STEM-METHOD.pt`` (a net
        checkpoint) or ``STEM-METHOD.pt2`` (a ``torch.export`` program of the compressed graph, input planes
        only, unmasked outputs), plus ``STEM-METHOD.onnx`` when ``cfg.onnx``. Returns the paths written."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        method = self.cfg.method
        base = folder / f"{stem}-{method}"
        example = torch.zeros(2, net.in_channels, net.board_size, net.board_size)
        paths = []
        if isinstance(model, Net):
            path = base.with_suffix(".pt")
            save_net(model.float().cpu(), path)
            paths.append(path)
        else:
            paths.append(save_program(model, example, base.with_suffix(".pt2")))
        if self.cfg.onnx:
            from agents.compress.export import export_onnx, quantize_onnx

            onnx_path = base.with_suffix(".onnx")
            source = model.float().cpu() if isinstance(model, Net) else copy.deepcopy(net).float().cpu()
            if method in ("int8", "qat") and planes is not None and len(planes):
                fp32_path = export_onnx(source, folder / f"{stem}-fp32.onnx", example)
                quantize_onnx(fp32_path, onnx_path, source, positions_from_planes(planes))
                fp32_path.unlink()
            else:
                export_onnx(source, onnx_path, example)
            paths.append(onnx_path)
        return paths


def _graph_of(model: CompressedNet) -> tuple[nn.Module, torch.dtype]:
    """The uncompiled inner graph of a compressed net and its input dtype."""
    inner = model.inner
    if isinstance(inner, FixedBatch):
        inner = inner.inner
    return getattr(inner, "_orig_mod", inner), model.dtype


def save_program(model: CompressedNet, example: torch.Tensor, path: str | Path) -> Path:
    """``torch.export.save`` of a compressed net's inner graph (planes -> unmasked outputs, dynamic batch) to
    ``path``; load it with ``torch.export.load(path).module()``."""
    graph, dtype = _graph_of(model)
    device = model.device or torch.device("cpu")
    x = example.to(device=device, dtype=dtype)
    batch = torch.export.Dim("batch", min=1, max=65536)
    exported = torch.export.export(graph, (x,), dynamic_shapes=({0: batch},))
    path = Path(path)
    torch.export.save(exported, str(path))
    return path

