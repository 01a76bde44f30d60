"""Quantization and half precision, through the supported paths of current PyTorch (torch 2.13+, torchao).

- :func:`quantize_int8`: post-training static int8 on CPU, the PT2E flow now in torchao: ``torch.export`` ->
  ``prepare_pt2e`` with the X86 Inductor quantizer -> calibrate on real positions -> ``convert_pt2e`` ->
  ``torch.compile`` with Inductor freezing (which folds batch norm and packs int8 weights).
  (``torch.ao.quantization`` is deprecated.) Compiling happens on the first call for each batch size. On a CPU
  without VNNI / AMX (AVX2 or plain AVX-512) activations use 7 bits, as FBGEMM's ``reduce_range`` does: its int8
  kernels would otherwise saturate (:func:`needs_reduced_range`).
  Modules named in ``keep_fp32`` stay fp32: by default the policy head, whose logits pick the move. A trained
  policy is often flat (near-tied top moves), and int8 rounding in its last layers flips the choice between them:
  on a 9x9 AlphaZero net trained 65 minutes, top-1 agreement with fp32 went from 95.7% (every layer int8, 4.8x
  fp32 at batch 256) to 98.8% (policy head fp32, 3.9x), measured side by side.
- :func:`quantize_dynamic_linear`: int8 weights and per-call int8 activations for the Linear layers only
  (torchao ``quantize_``); convs stay fp32. Meant for the MLP.
- :func:`quantize_qat`: quantization-aware training (PT2E ``prepare_qat_pt2e``): fake-quantized fine-tuning
  towards the fp32 net's own outputs, then the same conversion as :func:`quantize_int8`.
- :func:`half_precision`: fp16 / bf16 inference (fp16 needs CUDA; bf16 runs on CPU too).

Every function leaves its input net untouched and returns a :class:`CompressedNet` with the same
``forward(x, mask=None)``. The int8 graphs are for inference only.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.export import Dim

from agents.compress.positions import Positions, minibatches
from agents.compress.wrapped import CompressedNet
from agents.nets.heads import Net

INT8_BLOCKERS: dict[type, str] = {
    nn.GroupNorm: "group/layer/instance norm has no int8 kernel in the X86 Inductor quantizer and cannot fold "
                  "into the conv before it, so it would run in fp32 between dequantize/quantize pairs",
    nn.LayerNorm: "layer norm has no int8 kernel in the X86 Inductor quantizer and cannot fold into a conv",
    nn.BatchNorm1d: "batch norm after a linear layer does not fold in the PT2E flow (only conv + BatchNorm2d does)",
}
"""Layer types that static int8 cannot honour, and why."""


def int8_blockers(net: nn.Module) -> list[str]:
    """``"LAYER (Type): why"`` for each layer of ``net`` that static int8 cannot quantize (empty: all good)."""
    return [f"{name} ({type(m).__name__}): {why}" for name, m in net.named_modules()
            for kind, why in INT8_BLOCKERS.items() if type(m) is kind]


def _freezing() -> object:
    """Inductor config patch under which the int8 graph compiles (freezing folds BN and prepacks int8 weights)."""
    import torch._inductor.config as inductor_config

    return inductor_config.patch(freezing=True)


def export_graph(net: nn.Module, example: torch.Tensor) -> nn.Module:
    """``torch.export`` of ``net(x)`` (no mask) with a dynamic batch dimension, as a GraphModule.

    Raises ``ValueError`` naming the failure; ``net`` itself is not changed.
    """
    try:
        batch = Dim("batch", min=1, max=65536)
        return torch.export.export(net, (example,), dynamic_shapes={"x": {0: batch}}).module()
    except Exception as e:  # torch.export names the op it could not trace
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValueError(f"int8: torch.export could not trace {type(net).__name__}: {first}") from e


def _check_int8(net: Net) -> None:
    blockers = int8_blockers(net)
    if blockers:
        raise ValueError(f"int8 cannot quantize layer {blockers[0]}; use norm=batch or norm=none "
                         f"(or compress=int8_dynamic / bf16); the fp32 net is unchanged")


KEEP_FP32 = ("policy",)
"""Modules :func:`quantize_int8` and :func:`quantize_qat` leave in fp32 by default (see the module docstring)."""


def needs_reduced_range() -> bool:
    """Whether int8 activations must use 7 bits on this CPU: True unless it has VNNI or AMX int8 instructions.

    Without them oneDNN multiplies u8 activations by s8 weights with ``vpmaddubsw``, which adds pairs of products
    into int16 and saturates (2 * 255 * 127 > 32767); with 7-bit activations the pair sum stays below 32767. Measured
    on an AVX2-only CPU (9x9 resnet b6c64): the compiled int8 net agreed with fp32 on 72% of top moves (KL 0.046)
    with 8-bit activations and 93% (KL 0.0003) with 7-bit ones; the uncompiled reference graph, which does not
    saturate, 96%."""
    probe = [getattr(torch.cpu, name, None) for name in ("_is_vnni_supported", "_is_amx_tile_supported")]
    return not any(f() for f in probe if f is not None)


def _quantizer(net: nn.Module, keep_fp32: Sequence[str], qat: bool = False) -> object:
    """The X86 Inductor quantizer, int8 everywhere except the modules named in ``keep_fp32`` (and their children);
    7-bit activations where the CPU would saturate 8-bit ones (:func:`needs_reduced_range`)."""
    from torchao.quantization.pt2e.quantizer.x86_inductor_quantizer import (
        X86InductorQuantizer,
        get_default_x86_inductor_quantization_config,
    )

    names = dict(net.named_modules())
    config = get_default_x86_inductor_quantization_config(is_qat=qat, reduce_range=needs_reduced_range())
    quantizer = X86InductorQuantizer().set_global(config)
    for name in keep_fp32:
        if not name or name not in names:
            top = ", ".join(n for n, _ in net.named_children())
            raise ValueError(f"int8: keep_fp32 names no module {name!r} of {type(net).__name__}; its modules: {top} "
                             "(and their dotted children, e.g. policy.fc)")
        quantizer.set_module_name_qconfig(name, None)
    return quantizer


def _finish(prepared: nn.Module, net: Net, method: str, compile: bool) -> CompressedNet:
    """convert_pt2e, then torch.compile with freezing (on the first call per batch size)."""
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e

    converted = convert_pt2e(prepared)
    if not compile:
        return CompressedNet(converted, net, method)
    return CompressedNet(torch.compile(converted), net, method, context=_freezing)


def quantize_int8(net: Net, positions: Positions, batches: int = 8, batch_size: int = 32, compile: bool = True,
                  keep_fp32: Sequence[str] = KEEP_FP32) -> CompressedNet:
    """Static int8 (CPU, x86) of ``net`` calibrated on ``batches`` batches of ``positions``; the modules named in
    ``keep_fp32`` (dotted names, e.g. ``policy`` or ``policy.fc``; ``()``: none) stay fp32.

    Raises ``ValueError`` naming the first layer int8 cannot honour (e.g. a GroupNorm), or a ``keep_fp32`` name
    the net does not have; ``net`` stays usable.
    """
    from torchao.quantization.pt2e.quantize_pt2e import prepare_pt2e

    _check_int8(net)
    model = copy.deepcopy(net).eval().cpu()
    graph = export_graph(model, positions.planes[:batch_size])
    prepared = prepare_pt2e(graph, _quantizer(net, keep_fp32))
    with torch.no_grad():
        for i in range(batches):
            chunk = positions.planes[(i * batch_size) % len(positions):][:batch_size]
            prepared(chunk)
    return _finish(prepared, net, "int8", compile)


def quantize_qat(net: Net, positions: Positions, steps: int = 200, batch_size: int = 32, lr: float = 1e-4,
                 seed: int = 0, compile: bool = True, loss_fn: Callable | None = None,
                 keep_fp32: Sequence[str] = KEEP_FP32) -> CompressedNet:
    """Quantization-aware fine-tuning of a copy of ``net`` for ``steps`` Adam steps, then int8 conversion (the
    modules in ``keep_fp32`` stay fp32, as in :func:`quantize_int8`).

    The target is the fp32 net's own outputs on ``positions`` (``loss_fn(student_out, teacher_out, mask)``;
    default: the distillation loss at temperature 1), so no labels are needed. The batch norms of the
    ``keep_fp32`` modules are folded into their convs first (:func:`fold_batch_norms`).
    """
    from torchao.quantization.pt2e import move_exported_model_to_eval, move_exported_model_to_train
    from torchao.quantization.pt2e.quantize_pt2e import prepare_qat_pt2e

    from agents.compress.distill import distill_loss

    _check_int8(net)
    loss_fn = loss_fn or (lambda s, t, m: distill_loss(s, t, m, temperature=1.0)[0])
    teacher = net.eval()
    model = copy.deepcopy(net).train().cpu()
    modules = dict(model.named_modules())
    for name in keep_fp32:
        if name in modules:  # unknown names get _quantizer's error below
            fold_batch_norms(modules[name])
    graph = export_graph(model, positions.planes[:batch_size])
    prepared = prepare_qat_pt2e(graph, _quantizer(net, keep_fp32, qat=True))
    move_exported_model_to_train(prepared)
    opt = torch.optim.Adam(prepared.parameters(), lr=lr)
    for batch in minibatches(positions, batch_size, steps, torch.Generator().manual_seed(seed)):
        with torch.no_grad():
            target = teacher(batch.planes, batch.mask)
        loss = loss_fn(_masked(prepared(batch.planes), batch.mask, net.heads), target, batch.mask)
        opt.zero_grad()
        loss.backward()
        opt.step()
    move_exported_model_to_eval(prepared)
    return _finish(prepared, net, "qat", compile)


def fold_batch_norms(module: nn.Module) -> None:
    """Fold every ``Conv2d -> BatchNorm2d`` pair inside ``module`` (consecutive children of a ``Sequential``, as
    ``conv_norm_act`` builds them) into the conv, in place, with the norm's running statistics; the norm becomes
    an ``Identity``. The eval-mode function is unchanged.

    :func:`quantize_qat` does this to the modules it keeps in fp32: torchao's QAT conv + batch-norm fusion
    (``prepare_qat_pt2e``) fails on a conv the quantizer leaves unannotated (IndexError in
    ``_update_conv_input_qspec_map_after_replacement``, torchao 0.18), and inference folds those norms anyway."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    for seq in [m for m in module.modules() if isinstance(m, nn.Sequential)]:
        names = list(seq._modules)
        for a, b in zip(names, names[1:], strict=False):
            conv, norm = seq._modules[a], seq._modules[b]
            if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                seq._modules[a] = fuse_conv_bn_eval(conv.eval(), norm.eval())
                seq._modules[b] = nn.Identity()


def _masked(out: object, mask: torch.Tensor, heads: str) -> object:
    from agents.nets.heads import mask_logits

    if heads == "dual":
        return mask_logits(out[0], mask), out[1]
    return mask_logits(out, mask) if heads == "policy" else out


def quantize_dynamic_linear(net: Net) -> CompressedNet:
    """int8 dynamic quantization of the Linear layers of a copy of ``net`` (torchao ``quantize_``); convs stay fp32."""
    from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_

    model = copy.deepcopy(net).eval().cpu()
    quantize_(model, Int8DynamicActivationInt8WeightConfig())
    return CompressedNet(model, net, "int8_dynamic")


def half_precision(net: Net, dtype: torch.dtype = torch.float16, device: str | torch.device = "cuda"
                   ) -> CompressedNet:
    """A copy of ``net`` in ``dtype`` (fp16 or bf16) on ``device``; inputs are cast, outputs come back float32.

    fp16 needs a CUDA device (``ValueError`` otherwise); bf16 also runs on CPU.
    """
    device = torch.device(device)
    if dtype not in (torch.float16, torch.bfloat16):
        raise ValueError(f"half_precision dtype must be torch.float16 or torch.bfloat16, got {dtype}")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("half precision on 'cuda' needs a CUDA device, and none is available; use bf16 on cpu")
    if dtype == torch.float16 and device.type != "cuda":
        raise ValueError(f"fp16 inference needs a CUDA device (got {device}); on CPU use bf16")
    model = copy.deepcopy(net).eval().to(device=device, dtype=dtype)
    return CompressedNet(model, net, "fp16" if dtype == torch.float16 else "bf16", dtype=dtype, device=device)
