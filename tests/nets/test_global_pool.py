"""Global pooling (KataGo) and the auxiliary heads: one net for every board size, outputs, checkpoints, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from agents.nets import NetConfig, NetOutputs, build_net, load_weights
from agents.nets.backbones import GlobalPoolBlock, ResidualBlock, global_pool, size_feature, value_pool
from agents.nets.checkpoint import load_net, save_net

AUX = ("ownership", "score")


def gpool_net(preset: str = "b6c64", board: int = 9, aux: tuple[str, ...] = AUX) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_net(NetConfig(kind="resnet", preset=preset, global_pool=True), 17, board, board * board + 1,
                     aux=aux).eval()


def test_every_third_block_from_the_second_pools() -> None:
    kinds = [type(b) for b in gpool_net().trunk.blocks]
    assert kinds == [ResidualBlock, GlobalPoolBlock, ResidualBlock, ResidualBlock, GlobalPoolBlock, ResidualBlock]
    plain = build_net(NetConfig(kind="resnet", preset="b6c64"), 17, 9, 82)
    assert all(type(b) is ResidualBlock for b in plain.trunk.blocks)


def test_pooling_features_see_the_board_size() -> None:
    x = torch.ones(2, 3, 5, 5)
    x[:, :, 0, 0] = 4.0
    pooled = global_pool(x)
    assert pooled.shape == (2, 9)
    mean = (24 + 4) / 25
    torch.testing.assert_close(pooled[0], torch.tensor([mean] * 3 + [mean * -0.4] * 3 + [4.0] * 3))
    assert size_feature(torch.zeros(1, 1, 9, 9)) == 0.0 and size_feature(torch.zeros(1, 1, 19, 19)) == 1.0
    torch.testing.assert_close(value_pool(torch.ones(1, 1, 19, 19)), torch.tensor([[1.0, 1.0, 0.9]]))


def test_a_net_built_for_9x9_evaluates_5x5_and_7x7() -> None:
    net = gpool_net()
    for size in (5, 7, 9):
        x = torch.rand(3, 17, size, size).round()
        mask = torch.ones(3, size * size + 1, dtype=torch.bool)
        mask[:, 0] = False
        with torch.no_grad():
            out = net(x, mask, aux=True)
            logits, value = net(x, mask)
        assert isinstance(out, NetOutputs)
        assert out.logits.shape == (3, size * size + 1) and torch.isinf(out.logits[:, 0]).all()
        assert out.value.shape == (3,) and (out.value.abs() <= 1).all()
        assert out.ownership.shape == (3, size, size) and (out.ownership.abs() < 1).all()
        assert out.score_logits.shape == (3, 2 * 81 + 1 + 2 * 81)  # bins -2*81 .. 2*81 of the built board
        bins = net.score.bins
        torch.testing.assert_close(out.score_mean, torch.softmax(out.score_logits, 1) @ bins)
        torch.testing.assert_close(logits, out.logits)  # aux=False returns the same policy and value
        torch.testing.assert_close(value, out.value)


def test_the_fixed_size_heads_still_refuse_another_board() -> None:
    net = build_net(NetConfig(kind="resnet", preset="b2c32"), 17, 9, 82).eval()
    with pytest.raises(RuntimeError):
        net(torch.zeros(1, 17, 5, 5))


def test_aux_heads_work_on_every_conv_trunk_and_a_net_without_them_returns_none() -> None:
    for kind, preset in (("mobilenet", "b4c32"), ("densenet", "b2c32"), ("resnet", "b2c32")):
        net = build_net(NetConfig(kind=kind, preset=preset), 17, 5, 26, aux=AUX).eval()
        out = net(torch.zeros(2, 17, 5, 5), aux=True)
        assert out.ownership.shape == (2, 5, 5) and out.score_mean.shape == (2,)
    bare = build_net(NetConfig(kind="resnet", preset="b2c32"), 17, 5, 26).eval()
    out = bare(torch.zeros(2, 17, 5, 5), aux=True)
    assert out.ownership is None and out.score_logits is None and out.score_mean is None


def test_mistakes_name_the_setting() -> None:
    with pytest.raises(ValueError, match="net.global_pool=true is built for net=resnet"):
        NetConfig(kind="mobilenet", global_pool=True)
    with pytest.raises(ValueError, match="ownership and score heads need a dual net .* net=mlp"):
        build_net(NetConfig(kind="mlp"), 17, 5, 26, aux=AUX)
    with pytest.raises(ValueError, match="the ownership head needs a dual net"):
        build_net(NetConfig(kind="resnet", preset="b2c32"), 17, 5, 26, heads="policy", aux=("ownership",))
    with pytest.raises(ValueError, match="unknown auxiliary head 'komi'"):
        build_net(NetConfig(kind="resnet", preset="b2c32"), 17, 5, 26, aux=("komi",))


def test_a_net_checkpoint_keeps_pooling_and_aux_heads(tmp_path: Path) -> None:
    net = gpool_net("b2c32", board=7)
    save_net(net, tmp_path / "net.pt")
    again = load_net(tmp_path / "net.pt")
    assert again.aux == AUX and again.cfg.global_pool
    x = torch.rand(2, 17, 5, 5).round()
    with torch.no_grad():
        a, b = net(x, aux=True), again(x, aux=True)
    for left, right in zip(a, b, strict=True):
        torch.testing.assert_close(left, right)


def test_weights_without_aux_heads_load_with_the_heads_fresh_and_the_reverse_drops_them() -> None:
    old = gpool_net("b2c32", aux=())
    new = gpool_net("b2c32", aux=AUX)
    fresh_score = new.score.fc[2].weight.clone()
    assert load_weights(new, old.state_dict()) == (["ownership", "score"], [])
    for name, tensor in old.state_dict().items():
        torch.testing.assert_close(new.state_dict()[name], tensor)
    torch.testing.assert_close(new.score.fc[2].weight, fresh_score)  # left as initialised
    assert load_weights(gpool_net("b2c32", aux=()), new.state_dict()) == ([], ["ownership", "score"])
    with pytest.raises(ValueError, match="net weights do not fit this net"):  # another trunk is still refused
        load_weights(new, build_net(NetConfig(kind="resnet", preset="b2c32"), 17, 9, 82).state_dict())
