"""Backbones x norms x board sizes, heads, masking, configs and sizes of agents.nets."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
import yaml
from torch import nn

from agents.nets import KINDS, NORMS, PRESETS, NetConfig, build_mlp, build_net, count_macs, count_params, stats
from agents.nets.checkpoint import load_net, save_net
from agents.nets.stats import (
    conv_macs,
    main,
    median_ratio,
    separable_macs,
    separable_ratio,
    time_interleaved,
)

ROOT = Path(__file__).resolve().parents[2]
SMALLEST = {kind: next(iter(PRESETS[kind])) for kind in KINDS}


@pytest.mark.parametrize("size", [5, 9, 19])
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("kind", KINDS)
def test_dual_net_shapes(kind: str, norm: str, size: int) -> None:
    net = build_net(NetConfig(kind=kind, blocks=2, channels=8, norm=norm, layers_per_block=2, growth=4, expand=2,
                              se=kind == "mobilenet"), 17, size, size * size + 1)
    x = torch.randn(3, 17, size, size)
    net.train()
    logits, value = net(x)  # a training step's forward, batch statistics included
    assert logits.shape == (3, size * size + 1) and value.shape == (3,)
    net.eval()
    with torch.no_grad():
        logits, value = net(x)
    assert torch.isfinite(logits).all() and (value.abs() <= 1).all()


@pytest.mark.parametrize("kind", KINDS)
def test_single_head_nets(kind: str) -> None:
    cfg = NetConfig(kind=kind, preset=SMALLEST[kind])
    x, mask = torch.randn(2, 17, 9, 9), torch.ones(2, 82, dtype=torch.bool)
    policy = build_net(cfg, 17, 9, 82, heads="policy").eval()
    value = build_net(cfg, 17, 9, 82, heads="value").eval()
    assert policy(x, mask).shape == (2, 82) and value.value is not None and policy.value is None
    v = value(x)
    assert v.shape == (2,) and (v.abs() <= 1).all() and value.policy is None


def test_illegal_moves_are_minus_infinity() -> None:
    net = build_net(NetConfig(kind="resnet", preset="b2c32"), 17, 5, 26).eval()
    mask = torch.rand(4, 26) > 0.5
    mask[:, -1] = True  # pass is always legal
    logits, _ = net(torch.randn(4, 17, 5, 5), mask)
    assert torch.isneginf(logits[~mask]).all() and torch.isfinite(logits[mask]).all()
    probs = torch.softmax(logits, -1)
    assert torch.allclose(probs.sum(-1), torch.ones(4)) and (probs[~mask] == 0).all()


def test_batch_norm_inference_does_not_depend_on_batch_size() -> None:
    net = build_net(NetConfig(kind="resnet", preset="b2c32", norm="batch"), 17, 9, 82)
    net.train()
    for _ in range(3):
        net(torch.randn(32, 17, 9, 9))  # move running statistics away from their initial values
    net.eval()
    x = torch.randn(16, 17, 9, 9)
    with torch.no_grad():
        full, one = net(x), net(x[:1])
    assert torch.allclose(full[0][:1], one[0], atol=1e-5) and torch.allclose(full[1][:1], one[1], atol=1e-5)


def test_presets_and_overrides() -> None:
    assert NetConfig(kind="resnet", preset="b6c64").size() == (6, 64)
    assert NetConfig(kind="resnet", preset="b6c64", blocks=3).size() == (3, 64)
    assert NetConfig(kind="resnet", blocks=2, channels=16).size() == (2, 16)
    assert NetConfig(kind="mobilenet").size() == PRESETS["mobilenet"]["b6c48"]
    net = build_net(NetConfig(kind="resnet", blocks=3, channels=16), 17, 9, 82)
    assert len(net.trunk.blocks) == 3 and net.trunk.out_channels == 16


@pytest.mark.parametrize("field,value,listed", [("kind", "transformer", "resnet, mobilenet, densenet, mlp"),
                                                ("norm", "weight", "batch, layer, instance, group, none"),
                                                ("preset", "b99c1", "b2c32, b4c64, b6c64")])
def test_unknown_choice_lists_valid_ones(field: str, value: str, listed: str) -> None:
    with pytest.raises(ValueError, match="valid: " + listed) as info:
        NetConfig(**{field: value})
    assert "\n" not in str(info.value)


def test_heads_and_mlp_errors() -> None:
    with pytest.raises(ValueError, match="valid: dual, policy, value"):
        build_net(NetConfig(), 17, 9, 82, heads="q")
    with pytest.raises(ValueError, match="mlp"):
        build_mlp(NetConfig(kind="resnet"), 4, 2)


@pytest.mark.parametrize("norm", NORMS)
def test_mlp_for_vector_observations(norm: str) -> None:
    net = build_mlp(NetConfig(kind="mlp", preset="l2w64", norm=norm), obs_dim=8, n_outputs=4)
    assert net(torch.randn(5, 8)).shape == (5, 4)


def test_separable_conv_cost_ratio() -> None:
    h = w = 9
    k, c, m = 3, 64, 128
    standard = nn.Conv2d(c, m, k, padding=1, bias=False)
    separable = nn.Sequential(nn.Conv2d(c, c, k, padding=1, groups=c, bias=False), nn.Conv2d(c, m, 1, bias=False))
    x = torch.randn(1, c, h, w)
    assert count_macs(standard, x) == conv_macs(h, w, k, c, m) == h * w * k * k * c * m
    assert count_macs(separable, x) == separable_macs(h, w, k, c, m) == h * w * k * k * c + h * w * c * m
    assert count_macs(separable, x) / count_macs(standard, x) == pytest.approx(separable_ratio(k, m))
    assert separable_ratio(k, m) == pytest.approx(1 / m + 1 / k**2)


def test_resnet_macs_match_the_formula() -> None:
    b, c, n, planes = 2, 32, 9, 17
    net = build_net(NetConfig(kind="resnet", blocks=b, channels=c), planes, n, n * n + 1)
    hw = n * n
    trunk = hw * 9 * planes * c + b * 2 * hw * 9 * c * c
    policy = hw * c * 2 + 2 * hw * (hw + 1)
    value = hw * c * 1 + hw * 256 + 256
    assert count_macs(net, torch.randn(1, planes, n, n)) == trunk + policy + value
    assert count_params(net) == sum(p.numel() for p in net.parameters())


def test_stats_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--kinds", "mlp,mobilenet", "--rounds", "1", "--batch", "2", "--board", "5"])
    out = capsys.readouterr().out
    assert "| mobilenet | b4c32 |" in out and "| mlp | l2w64 |" in out and "MACs/position" in out


def test_interleaved_timing_keeps_machine_drift_out_of_the_ratio(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake clock on a machine that keeps slowing down: ``slow`` costs 2 units and ``fast`` 1, times a factor
    that grows with every pair of calls. Timed in turn, each round's ratio is exactly 2; timed one after the other
    (``time_call`` twice), ``fast`` runs later on the slower machine and the ratio comes out far from 2."""
    clock, calls = [0.0], [0]

    def cost(units: float) -> None:
        clock[0] += units * (1.0 + 0.25 * (calls[0] // 2))
        calls[0] += 1

    monkeypatch.setattr(stats.time, "perf_counter", lambda: clock[0])
    seconds = time_interleaved({"slow": lambda: cost(2.0), "fast": lambda: cost(1.0)}, rounds=7, min_seconds=0.0)
    assert len(seconds["slow"]) == len(seconds["fast"]) == 7
    assert [s / f for s, f in zip(seconds["slow"], seconds["fast"], strict=True)] == pytest.approx([2.0] * 7)
    assert median_ratio(seconds["slow"], seconds["fast"]) == pytest.approx(2.0)
    calls[0] = 0
    slow = stats.time_call(lambda: cost(2.0), rounds=7, min_seconds=0.0)
    fast = stats.time_call(lambda: cost(1.0), rounds=7, min_seconds=0.0)
    assert slow / fast == pytest.approx(1.2)


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    net = build_net(NetConfig(kind="mobilenet", preset="b4c32", se=True), 17, 7, 50).eval()
    save_net(net, tmp_path / "net.pt")
    back = load_net(tmp_path / "net.pt")
    x = torch.randn(2, 17, 7, 7)
    assert back.cfg == net.cfg and torch.equal(net(x)[0], back(x)[0])
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable net checkpoint"):
        load_net(tmp_path / "bad.pt")


@pytest.mark.parametrize("kind", KINDS)
def test_yaml_lists_every_field(kind: str) -> None:
    data = yaml.safe_load((ROOT / "conf" / "net" / f"{kind}.yaml").read_text())
    assert set(data) == {f.name for f in dataclasses.fields(NetConfig)}
    assert NetConfig(**data).kind == kind


def test_a_wider_depthwise_kernel_costs_what_the_formula_says_and_keeps_shapes() -> None:
    n, planes, blocks, channels, expand = 9, 17, 2, 16, 4
    x = torch.randn(3, planes, n, n)
    nets = {k: build_net(NetConfig(kind="mobilenet", blocks=blocks, channels=channels, expand=expand,
                                   kernel_size=k), planes, n, n * n + 1).eval() for k in (3, 5)}
    hidden = channels * expand
    extra = blocks * n * n * (5 * 5 - 3 * 3) * hidden  # only the depthwise convs grow
    assert count_macs(nets[5], x[:1]) - count_macs(nets[3], x[:1]) == extra
    logits, value = nets[5](x, torch.ones(3, n * n + 1, dtype=torch.bool))
    assert logits.shape == (3, n * n + 1) and value.shape == (3,)
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        NetConfig(kind="mobilenet", kernel_size=4)
