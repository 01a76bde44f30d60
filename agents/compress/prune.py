"""Magnitude pruning (``torch.nn.utils.prune``): unstructured or by channels, global or per layer, iterative.

- ``structure="unstructured"``: zero the smallest |w| of every Conv2d and Linear weight. The net keeps its shape;
  zeros alone do not speed up dense CPU kernels (the benchmark shows such nets run at fp32 speed).
- ``structure="channels"``: remove whole hidden channels of the blocks (``agents.nets.slicing``: the channels
  between a residual block's two convs, the expanded channels of an inverted residual), smallest first by the
  RMS of the channel's batch-norm-folded conv filter, ``|gamma| / sqrt(var + eps) * rms(w)``. A pruned channel
  has its conv filters and its batch-norm scale and shift masked to zero, so it outputs exactly zero;
  :func:`slice_pruned` then cuts it out of the conv, the norm and the next conv's inputs, so the net gets smaller
  and faster with the same ``forward``. ``amount`` is the fraction of hidden channels removed. The trunk's
  width (tied by the shortcuts) and the heads are kept.
- ``scope="global"``: one ranking across all layers; ``"layer"``: the same fraction in each layer. Channel
  pruning keeps at least one channel in every block.
- :func:`prune_net` runs ``rounds`` of prune -> fine-tune; round r reaches 1 - (1 - amount)^(r / rounds).
- Pruning leaves ``*_orig`` and ``*_mask`` on each pruned tensor (the tensor is their product), so the net keeps
  its interface and can still be fine-tuned; :func:`make_permanent` calls ``prune.remove`` to bake the zeros in.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn
from torch.nn.utils import prune

from agents.compress.config import PRUNE_SCOPES, PRUNE_STRUCTURES
from agents.compress.positions import Positions
from agents.nets.config import choices_error
from agents.nets.slicing import HiddenGroup, hidden_groups, slice_hidden


def prunable_layers(net: nn.Module, structure: str = "unstructured") -> list[tuple[str, nn.Module]]:
    """(name, layer) of the layers whose weights ``structure`` prunes: Conv2d and Linear (unstructured), or the
    convs producing hidden channels (channels: ``agents.nets.slicing.hidden_groups``)."""
    if structure == "unstructured":
        return [(name, m) for name, m in net.named_modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    names = {id(m): name for name, m in net.named_modules()}
    return [(names[id(conv)], conv) for g in hidden_groups(net) for conv, _ in g.producers]


def channel_scores(group: HiddenGroup) -> torch.Tensor:
    """(width,) importance of each hidden channel: RMS of its first conv filter times the norm's scale
    ``|gamma| / sqrt(running_var + eps)`` (1 without batch norm), i.e. the RMS of the folded filter."""
    conv, norm = group.producers[0]
    rms = conv.weight.detach().flatten(1).pow(2).mean(1).sqrt()
    if isinstance(norm, nn.BatchNorm2d):
        rms = rms * norm.weight.detach().abs() / (norm.running_var + norm.eps).sqrt()
    return rms


def _scores(weight: torch.Tensor) -> torch.Tensor:
    return weight.detach().abs()


def _masks(scores: list[torch.Tensor], sparsity: float, scope: str, keep_one: bool) -> list[torch.Tensor]:
    """Keep-masks (1 keep, 0 prune) over each score tensor reaching ``sparsity``; ``keep_one``: never zero a
    whole tensor."""
    masks = [torch.ones_like(s) for s in scores]
    if scope == "layer":
        for s, mask in zip(scores, masks, strict=True):
            k = int(round(sparsity * s.numel()))
            if keep_one:
                k = min(k, s.numel() - 1)
            if k:
                mask.view(-1)[torch.argsort(s.view(-1))[:k]] = 0
        return masks
    flat = torch.cat([s.view(-1) for s in scores])
    k = int(round(sparsity * flat.numel()))
    keep = torch.ones_like(flat)
    keep[torch.argsort(flat)[:k]] = 0
    offset = 0
    for s, mask in zip(scores, masks, strict=True):
        part = keep[offset:offset + s.numel()].view_as(s)
        offset += s.numel()
        if keep_one and part.sum() == 0:
            part[torch.argmax(s)] = 1
        mask.copy_(part)
    return masks


def _mask_channels(group: HiddenGroup, keep: torch.Tensor) -> None:
    """Mask the hidden channels where ``keep`` is 0 in every producer conv (filters, bias) and norm (scale,
    shift), so they output exactly zero."""
    for conv, norm in group.producers:
        tensors = [(conv, "weight"), (conv, "bias"), (norm, "weight"), (norm, "bias")]
        for module, name in tensors:
            param = getattr(module, name, None)
            if not isinstance(param, torch.Tensor):
                continue
            mask = keep.view(-1, *([1] * (param.dim() - 1))).expand_as(param).to(param.dtype).contiguous()
            if prune.is_pruned(module) and hasattr(module, f"{name}_mask"):
                mask = mask * getattr(module, f"{name}_mask")
            prune.custom_from_mask(module, name, mask)


def prune_once(net: nn.Module, sparsity: float, structure: str = "unstructured", scope: str = "global") -> None:
    """Mask ``net``'s prunable weights in place so that a fraction ``sparsity`` of them (or of its hidden
    channels) is zero."""
    if structure not in PRUNE_STRUCTURES:
        raise choices_error("prune structure", structure, PRUNE_STRUCTURES)
    if scope not in PRUNE_SCOPES:
        raise choices_error("prune scope", scope, PRUNE_SCOPES)
    if structure == "channels":
        groups = hidden_groups(net)
        if not groups:
            raise ValueError(f"prune: {type(net).__name__} has no block with hidden channels to remove (channel "
                             "pruning works on resnet and mobilenet); use structure=unstructured")
        for group in groups:
            for _, norm in group.producers:
                if not isinstance(norm, nn.BatchNorm2d | nn.Identity):
                    raise ValueError(f"prune: {group.name} has a {type(norm).__name__}, which mixes channels, so "
                                     "channels cannot be removed; channel pruning needs norm=batch or norm=none")
        for group, keep in zip(groups, _masks([channel_scores(g) for g in groups], sparsity, scope, True),
                               strict=True):
            _mask_channels(group, keep)
        return
    layers = [m for _, m in prunable_layers(net, structure)]
    if not layers:
        raise ValueError(f"prune: {type(net).__name__} has no layer that {structure} pruning applies to")
    for m, mask in zip(layers, _masks([_scores(m.weight) for m in layers], sparsity, scope, False), strict=True):
        prune.custom_from_mask(m, "weight", mask.to(m.weight.dtype).contiguous())


def dead_channels(group: HiddenGroup) -> torch.Tensor:
    """bool (width,): hidden channels that output exactly zero (every producer's filter, bias and norm scale
    and shift are zero)."""
    dead = torch.ones(group.width, dtype=torch.bool)
    for conv, norm in group.producers:
        dead &= conv.weight.detach().flatten(1).abs().sum(1) == 0
        if conv.bias is not None:
            dead &= conv.bias.detach() == 0
        if isinstance(norm, nn.BatchNorm2d):
            dead &= (norm.weight.detach() == 0) & (norm.bias.detach() == 0)
    return dead


def slice_pruned(net: nn.Module) -> nn.Module:
    """Cut the dead hidden channels (:func:`dead_channels`) out of ``net`` in place, baking in any pruning masks
    first; at least one channel of each block stays. The outputs do not change (those channels were exactly
    zero); the parameters, multiply-adds and latency drop. Returns ``net``."""
    make_permanent(net)
    keeps = []
    for group in hidden_groups(net):
        alive = torch.nonzero(~dead_channels(group)).flatten()
        keeps.append(alive if len(alive) else torch.tensor([0]))
    slice_hidden(net, keeps)
    return net


def schedule(amount: float, rounds: int) -> list[float]:
    """Sparsity after each of ``rounds`` rounds: 1 - (1 - amount)^(r / rounds), r = 1..rounds."""
    return [1.0 - (1.0 - amount) ** (r / rounds) for r in range(1, rounds + 1)]


def _norms(net: nn.Module) -> dict[str, nn.modules.batchnorm._BatchNorm]:
    return {name: m for name, m in net.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)}


@torch.no_grad()
def norm_input_stats(net: nn.Module, positions: Positions, batches: int = 16, batch_size: int = 256
                     ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Batch-norm layer name -> (mean, variance) per channel of what that layer receives when ``net`` runs in
    train mode (every batch norm normalising with its batch's statistics) on up to ``batches`` batches of
    ``positions``. ``net``'s weights, running statistics and mode are left as they were. A layer the forward pass
    does not reach (the auxiliary heads' norms: the ownership and score heads run only in training) is left out."""
    norms = _norms(net)
    sums: dict[str, list] = {name: [0.0, 0.0, 0] for name in norms}

    def hook(name: str):
        def record(_m: nn.Module, inp: tuple) -> None:
            x = inp[0].detach().double()
            dims = [d for d in range(x.dim()) if d != 1]
            acc = sums[name]
            acc[0] = acc[0] + x.sum(dims)
            acc[1] = acc[1] + (x * x).sum(dims)
            acc[2] += x.numel() // x.shape[1]
        return record

    saved = {name: {k: v.clone() for k, v in m.named_buffers()} for name, m in norms.items()}
    was_training = net.training
    handles = [m.register_forward_pre_hook(hook(name)) for name, m in norms.items()]
    net.train()
    try:
        for i in range(min(batches, -(-len(positions) // batch_size))):
            net(*positions.take(slice(i * batch_size, (i + 1) * batch_size)))
    finally:
        for h in handles:
            h.remove()
        for name, m in norms.items():
            for k, v in m.named_buffers():
                v.copy_(saved[name][k])
        net.train(was_training)
    out = {}
    for name, (total, squares, count) in sums.items():
        if count == 0:
            continue
        mean = total / count
        out[name] = (mean.float(), (squares / count - mean * mean).clamp_min(0).float())
    return out


@torch.no_grad()
def recalibrate_norm(net: nn.Module, positions: Positions, reference: nn.Module | None = None, batches: int = 16,
                     batch_size: int = 256, reference_stats: dict | None = None) -> nn.Module:
    """Set every batch-norm layer's running mean and variance from what it receives on ``positions`` (up to
    ``batches`` batches) with the net's current weights; no weight changes. Returns ``net`` in eval mode.

    Pruning changes what each conv outputs, so the running statistics the unpruned net learned no longer match
    its activations: in eval mode the pruned net then normalises with the wrong scale and shift.

    - ``reference=None``: the statistics become the measured ones (plain recalibration).
    - ``reference`` (the net before pruning, same layer names): the statistics move by what pruning changed,
      ``mean = mean_ref_running + (mean_net - mean_ref)`` and ``var = var_ref_running * var_net / var_ref``,
      measured on the same positions. When the reference's running statistics match its activations this is
      plain recalibration; when they lag behind its weights (a net saved soon after training moved) it keeps
      that lag, so the pruned net stays close to the reference as it behaves in eval mode.

    ``reference_stats``: :func:`norm_input_stats` of ``reference`` on the same positions, when already measured.
    A net without batch norm is returned unchanged.
    """
    norms = _norms(net)
    if not norms or len(positions) == 0:
        return net.eval()
    stats = norm_input_stats(net, positions, batches, batch_size)
    if reference is None:
        for name, m in norms.items():
            if name not in stats:
                continue
            mean, var = stats[name]
            m.running_mean.copy_(mean)
            m.running_var.copy_(var)
        return net.eval()
    ref_norms = _norms(reference)
    if set(ref_norms) != set(norms):
        raise ValueError("recalibrate_norm: the reference net's batch-norm layers differ from the net's")
    ref_stats = reference_stats or norm_input_stats(reference, positions, batches, batch_size)
    for name, m in norms.items():
        if name not in stats or name not in ref_stats:
            continue  # a layer the forward pass does not reach keeps its statistics
        (mean, var), (ref_mean, ref_var) = stats[name], ref_stats[name]
        ref = ref_norms[name]
        m.running_mean.copy_(ref.running_mean + mean - ref_mean)
        m.running_var.copy_(ref.running_var * var / ref_var.clamp_min(m.eps))
    return net.eval()


def prune_net(net: nn.Module, amount: float, structure: str = "unstructured", scope: str = "global",
              rounds: int = 1, finetune: Callable[[nn.Module], None] | None = None,
              calibration: Positions | None = None) -> nn.Module:
    """A pruned copy of ``net``: ``rounds`` of (prune to the next sparsity of :func:`schedule`, then
    ``finetune(copy)`` when given). Masks stay attached; see :func:`make_permanent`. ``net`` is not changed.

    ``calibration``: positions on which the batch-norm running statistics are recalibrated against ``net``
    (:func:`recalibrate_norm` with ``reference=net``) after each pruning step and after each fine-tuning, so
    that eval mode uses the statistics of the pruned net rather than stale ones of the unpruned net. Give it
    whenever the net has batch norm: without it a pruned net keeps statistics that no longer describe its
    activations.
    """
    if not 0.0 <= amount < 1.0:
        raise ValueError(f"prune amount must be in [0, 1), got {amount}")
    pruned = copy.deepcopy(net)
    ref_stats = norm_input_stats(net, calibration) if calibration is not None and _norms(net) else None
    for sparsity in schedule(amount, rounds):
        prune_once(pruned, sparsity, structure, scope)
        if calibration is not None:
            recalibrate_norm(pruned, calibration, reference=net, reference_stats=ref_stats)
        if finetune is not None:
            finetune(pruned)
            if calibration is not None:
                recalibrate_norm(pruned, calibration, reference=net, reference_stats=ref_stats)
    return pruned.eval()


def make_permanent(net: nn.Module) -> nn.Module:
    """``prune.remove`` every pruned tensor of ``net`` in place (state_dict back to plain ``weight`` / ``bias``);
    returns it."""
    for m in net.modules():
        for name in ("weight", "bias"):
            if hasattr(m, f"{name}_orig") and hasattr(m, f"{name}_mask"):
                prune.remove(m, name)
    return net


def sparsity_report(net: nn.Module) -> dict[str, float]:
    """Layer name -> fraction of zero weights, for every Conv2d and Linear, plus ``"total"`` over all of them."""
    report, zeros, total = {}, 0, 0
    for name, m in prunable_layers(net):
        w = m.weight.detach()
        z = int((w == 0).sum())
        report[name] = z / w.numel()
        zeros, total = zeros + z, total + w.numel()
    report["total"] = zeros / max(total, 1)
    return report
