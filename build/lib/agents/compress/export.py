"""ONNX export of any net (fp32, and int8 QDQ through ONNX Runtime's static quantizer) and a runner for it.

The exported graph has inputs ``planes`` (B, C, H, W) float32 and, for nets with a policy head, ``mask`` (B, A)
bool (True = legal; illegal logits come out -inf), and outputs ``policy`` (B, A) and/or ``value`` (B,), with a
dynamic batch dimension. It runs in onnxruntime alone; PyTorch is not needed to load or run it::

    import onnxruntime as ort
    sess = ort.InferenceSession("net.onnx", providers=["CPUExecutionProvider"])
    policy, value = sess.run(None, {"planes": planes, "mask": mask})

int8: ONNX Runtime's ``quantize_static`` in QDQ format, per-channel int8 weights, calibrated on real positions.
(Its ``quantize_dynamic`` turns convs into ConvInteger, which is slower than fp32 on CPU.)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.export import Dim

from agents.compress.positions import Positions
from agents.compress.wrapped import CompressedNet
from agents.nets.heads import Net


def onnx_io_names(net: Net) -> tuple[list[str], list[str]]:
    """(input names, output names) of ``net``'s exported graph."""
    inputs = ["planes"] if net.heads == "value" else ["planes", "mask"]
    outputs = {"dual": ["policy", "value"], "policy": ["policy"], "value": ["value"]}[net.heads]
    return inputs, outputs


def export_onnx(net: Net, path: str | Path, example: torch.Tensor) -> Path:
    """Write ``net`` (eval mode) as ONNX to ``path``; ``example`` is a (B, C, H, W) float32 batch of planes."""
    path = Path(path)
    model = net.eval()
    inputs, outputs = onnx_io_names(net)
    batch = Dim("batch", min=1, max=65536)
    if net.heads == "value":
        args: tuple = (example,)
        shapes: dict = {"x": {0: batch}}
    else:
        args = (example, torch.ones(example.shape[0], net.n_actions, dtype=torch.bool))
        shapes = {"x": {0: batch}, "mask": {0: batch}}
    try:
        program = torch.onnx.export(model, args, dynamo=True, input_names=inputs, output_names=outputs,
                                    dynamic_shapes=shapes, verbose=False)
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValueError(f"ONNX export of {net.cfg.label()} failed: {first}") from e
    program.save(str(path))
    return path


class _Reader:
    """onnxruntime CalibrationDataReader over batches of positions."""

    def __init__(self, positions: Positions, names: list[str], batches: int, batch_size: int) -> None:
        self.feeds = []
        for i in range(batches):
            b = positions.take(slice(i * batch_size, (i + 1) * batch_size))
            if len(b) == 0:
                break
            feed = {"planes": b.planes.numpy()}
            if "mask" in names:
                feed["mask"] = b.mask.numpy()
            self.feeds.append(feed)
        self._it = iter(self.feeds)

    def get_next(self) -> dict | None:
        return next(self._it, None)

    def rewind(self) -> None:
        self._it = iter(self.feeds)


def quantize_onnx(fp32_path: str | Path, int8_path: str | Path, net: Net, positions: Positions,
                  batches: int = 8, batch_size: int = 32) -> Path:
    """Static int8 (QDQ, per-channel weights) of an exported fp32 model, calibrated on ``positions``."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    inputs, _ = onnx_io_names(net)
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=True)
        quantize_static(str(pre), str(int8_path), _Reader(positions, inputs, batches, batch_size),
                        quant_format=QuantFormat.QDQ, per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
    return Path(int8_path)


class OnnxInner(nn.Module):
    """An onnxruntime session behind a torch call: x (B, C, H, W) -> outputs as tensors, unmasked."""

    def __init__(self, path: str | Path, threads: int = 1) -> None:
        super().__init__()
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...] | torch.Tensor:
        feed = {"planes": x.detach().cpu().numpy().astype(np.float32, copy=False)}
        if "mask" in self.inputs:  # mask applied by the wrapper; the graph sees every move as legal
            feed["mask"] = np.ones((x.shape[0], self.session.get_outputs()[0].shape[1]), bool)
        outs = [torch.from_numpy(o) for o in self.session.run(None, feed)]
        return tuple(outs) if len(outs) > 1 else outs[0]


def onnx_net(path: str | Path, like: Net, threads: int = 1) -> CompressedNet:
    """The exported model at ``path`` run by onnxruntime, behind ``like``'s ``forward(x, mask=None)``."""
    return CompressedNet(OnnxInner(path, threads), like, "onnx")
