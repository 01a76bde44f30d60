"""compress= in training runs (self-play with a compressed copy of the learner's net) and the compression CLI on
train.py checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import envs  # noqa: F401  (registers the zoo envs)
from agents.compress.__main__ import run as cli
from agents.compress.selfplay import FixedBatch, SelfPlayCompression
from agents.compress.source import load_source
from agents.compress.wrapped import CompressedNet
from agents.nets import count_params
from agents.nets.checkpoint import save_net
from zoo.errors import ConfigError
from zoo.run.logging import read_metrics
from zoo.run.loop import Run

ROOT = Path(__file__).resolve().parents[2]
TINY = ("env=go5", "agent=zero", "agent.games=4", "agent.simulations=4", "agent.min_replay=16", "agent.batch_size=16",
        "steps=160", "eval.every=0", "eval.episodes=2", "logger=csv", "progress=false")


def compose(*overrides: str, run_dir: Path):
    """The RunConfig ``python train.py OVERRIDES`` would run."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    import train

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = hydra_compose(config_name="config", overrides=list(overrides))
    return train.to_run_config(cfg, str(run_dir))


@pytest.fixture(scope="module")
def none_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Path]:
    """A tiny go5 zero run with compress=none."""
    run_dir = tmp_path_factory.mktemp("none") / "run"
    r = Run(compose(*TINY, "steps=112", "agent.max_moves_factor=1.0", "compress=none", run_dir=run_dir))
    r.train()
    return r, run_dir


@pytest.fixture(scope="module")
def int8_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Path]:
    """A tiny go5 zero run with compress=int8 (reference int8 graph, not compiled: seconds, not minutes)."""
    torch.set_num_threads(1)
    run_dir = tmp_path_factory.mktemp("int8") / "run"
    # Games capped at 25 moves, so that finished games fill the replay window (the calibration set) early enough for
    # several builds within the budget.
    r = Run(compose(*TINY, "steps=320", "agent.max_moves_factor=1.0", "compress=int8", "compress.compile=false",
                    "compress.refresh=2", "compress.batch_size=16", "compress.calibration_batches=2", run_dir=run_dir))
    r.train()
    return r, run_dir


@pytest.mark.slow
def test_int8_selfplay_searches_with_the_compressed_net(int8_run: tuple[Run, Path]) -> None:
    r, run_dir = int8_run
    agent = r.agent
    assert r.cfg.compress.method == "int8"
    sp_net = agent.selfplay_evaluator.net
    assert isinstance(sp_net, CompressedNet) and sp_net.method == "int8" and sp_net is not agent.net
    assert agent.selfplay.search.evaluator is agent.selfplay_evaluator  # self-play really searches with it
    assert agent.evaluator.net is agent.net  # evaluation and play keep the learner's fp32 net
    assert all(p.dtype == torch.float32 for p in agent.net.parameters()) and agent.learner.steps > 0
    assert agent.compression.builds >= 2  # rebuilt from the learner's weights as it trained
    flags = [row["selfplay/compressed"] for row in read_metrics(run_dir / "metrics.jsonl")
             if "selfplay/compressed" in row]
    assert flags[-1] == 1.0
    # A build follows the learner's net it was built from (probabilities and values; the tiny net is too flat for
    # its top move to mean much).
    planes = agent._newest_planes(64)
    fresh = agent.compression.build(agent.net, planes)
    x, mask = torch.from_numpy(planes), torch.ones(len(planes), agent.num_actions, dtype=torch.bool)
    with torch.no_grad():
        (ref_logits, ref_value), (logits, value) = agent.net(x, mask), fresh(x, mask)
    assert (torch.softmax(ref_logits, -1) - torch.softmax(logits, -1)).abs().max() < 0.05
    assert (ref_value - value).abs().max() < 0.05


@pytest.mark.slow
def test_the_final_net_is_saved_compressed_beside_the_checkpoint(int8_run: tuple[Run, Path]) -> None:
    r, run_dir = int8_run
    saved = sorted((run_dir / "checkpoints").glob("final-*-int8.pt2"))
    assert len(saved) == 1
    program = torch.export.load(str(saved[0])).module()
    x = torch.from_numpy(r.agent._newest_planes(8))
    with torch.no_grad():
        (logits, value), (ref_logits, ref_value) = program(x), r.agent.net(x)
    assert logits.shape == (8, 26) and (value - ref_value).abs().max() < 0.05
    assert (torch.softmax(ref_logits, -1) - torch.softmax(logits, -1)).abs().max() < 0.05


def test_compress_none_keeps_the_learners_net(none_run: tuple[Run, Path]) -> None:
    r, run_dir = none_run
    assert r.cfg.compress.method == "none"
    assert r.agent.selfplay_evaluator is r.agent.evaluator and r.agent.selfplay_evaluator.net is r.agent.net
    assert list((run_dir / "checkpoints").glob("ckpt-*.pt")) and not list((run_dir / "checkpoints").glob("final-*"))


def _tiny_agent(compression: SelfPlayCompression, iterations: int) -> tuple[object, list[torch.nn.Module], object]:
    import gymnasium

    from agents import build_agent
    from agents.zero import ZeroConfig

    torch.set_num_threads(1)
    env = gymnasium.make("zoo/Go5x5-v0")
    cfg = ZeroConfig(games=4, simulations=4, moves_per_collect=6, min_replay=1, batch_size=16, play_leaves=2,
                     max_moves_factor=1.0)
    torch.manual_seed(0)
    agent = build_agent(cfg, env.observation_space, env.action_space, np.random.default_rng(0))
    agent.set_selfplay_compression(compression)
    nets, batch = [], None
    for _ in range(iterations):
        batch = agent.collect(env)
        agent.update(batch)
        nets.append(agent.selfplay_evaluator.net)
    return agent, nets, batch


def test_an_agent_rebuilds_its_selfplay_net_from_the_learner() -> None:
    """The hook on a tiny agent (bf16 on the CPU: cheap to build): rebuilt every ``refresh`` updates."""
    from agents.compress import CompressConfig

    agent, nets, batch = _tiny_agent(SelfPlayCompression(CompressConfig(method="bf16", refresh=2)), 10)
    assert all(isinstance(n, CompressedNet) and n.dtype == torch.bfloat16 for n in nets)
    assert agent.selfplay.search.evaluator is agent.selfplay_evaluator and agent.evaluator.net is agent.net
    assert all(p.dtype == torch.float32 for p in agent.net.parameters()) and agent.learner.steps > 0
    assert agent.compression.builds == len({id(n) for n in nets}) >= 3  # rebuilt as the learner trained
    assert batch.metrics["selfplay/compressed"] == 1.0


@pytest.mark.slow
def test_an_agent_builds_int8_once_the_replay_can_calibrate_it() -> None:
    from agents.compress import CompressConfig

    compression = SelfPlayCompression(CompressConfig(method="int8", compile=False, batch_size=16,
                                                     calibration_batches=1, refresh=3))
    agent, nets, batch = _tiny_agent(compression, 12)  # 5x5 games of up to 25 moves reach the replay from ~collect 5
    assert nets[0] is agent.net  # fp32 until the replay holds a calibration batch
    assert isinstance(nets[-1], CompressedNet) and nets[-1].method == "int8"
    assert compression.builds >= 2 and batch.metrics["selfplay/compressed"] == 1.0


@pytest.mark.slow
def test_bf16_selfplay_and_onnx_export(tmp_path: Path) -> None:
    r = Run(compose(*TINY, "steps=48", "compress=bf16", "compress.onnx=true", "device=cpu",
                    run_dir=tmp_path / "run"))
    r.train()
    sp_net = r.agent.selfplay_evaluator.net
    assert isinstance(sp_net, CompressedNet) and sp_net.dtype == torch.bfloat16
    names = {p.name.split("-", 2)[-1] for p in (tmp_path / "run" / "checkpoints").glob("final-*")}
    assert names == {"bf16.pt2", "bf16.onnx"}


@pytest.mark.parametrize("overrides,message", [
    ((*TINY, "compress=fp16", "device=cpu"), "compress=fp16 needs a CUDA device"),
    ((*TINY, "compress=int8", "net=resnet", "net.norm=group"), "cannot quantize layer"),
    (("agent=q", "env=frozenlake4", "logger=none", "compress=int8"), "has no self-play"),
])
def test_settings_a_run_cannot_honour_fail_before_training(overrides: tuple[str, ...], message: str,
                                                          tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=message):
        Run(compose(*overrides, run_dir=tmp_path / "run"))


def test_fixed_batch_pads_and_splits() -> None:
    seen = []

    def inner(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        seen.append(x.shape[0])
        return x.sum((1, 2, 3)), -x.sum((1, 2, 3))

    fixed = FixedBatch(inner, 4)
    x = torch.arange(10.0).view(10, 1, 1, 1)
    a, b = fixed(x)
    assert seen == [4, 4, 4] and torch.equal(a, x.flatten()) and torch.equal(b, -x.flatten())


def test_cli_reads_a_train_checkpoint_and_its_replay_window(none_run: tuple[Run, Path], tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    r, run_dir = none_run
    source = load_source(run_dir)  # a run directory: its newest checkpoint
    assert source.path.parent == run_dir / "checkpoints" and "zero run checkpoint" in source.description
    assert source.net.cfg == r.agent.net.cfg and source.positions is not None
    x = torch.from_numpy(r.agent._newest_planes(4))
    torch.testing.assert_close(source.net(x)[1], r.agent.net(x)[1])
    assert source.positions.mask[:, -1].all() and len(source.positions) == len(r.agent.replay)
    cli(["prune", f"net={source.path}", "amount=0.5", "structure=channels", "steps=0", f"out={tmp_path / 'p.pt'}"])
    out = capsys.readouterr().out
    assert "from the checkpoint's replay window" in out and "top-1 agreement" in out
    assert count_params(load_source(tmp_path / "p.pt").net) < count_params(source.net)


@pytest.mark.parametrize("make,message", [
    (lambda d: d, "a directory without checkpoints"),
    (lambda d: d / "missing.pt", "no such checkpoint file or run directory"),
    (lambda d: (d / "junk.pt").write_text("not torch") and d / "junk.pt", "not a readable checkpoint"),
    (lambda d: torch.save({"format": 1, "config": {"agent": {"name": "q"}}, "agent": {"q": [0.0]}},
                          d / "q.pt") or d / "q.pt", "agent 'q', which has no board net"),
])
def test_cli_names_a_file_it_cannot_read(make, message: str, tmp_path: Path) -> None:
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        load_source(make(tmp_path))


def test_a_net_checkpoint_still_loads(tmp_path: Path) -> None:
    from agents.nets import NetConfig, build_net

    net = build_net(NetConfig(preset="b2c32"), 17, 9, 82).eval()
    save_net(net, tmp_path / "n.pt")
    source = load_source(tmp_path / "n.pt")
    assert source.positions is None and source.description.startswith("net checkpoint")
    x = torch.from_numpy(np.zeros((2, 17, 9, 9), np.float32))
    torch.testing.assert_close(source.net(x)[0], net(x)[0])


def test_selfplay_compression_needs_a_method() -> None:
    from agents.compress import CompressConfig

    with pytest.raises(ValueError, match="compress=none"):
        SelfPlayCompression(CompressConfig(method="none"))


def test_train_cli_names_bad_compress_choices_and_keys() -> None:
    import train

    assert "valid choices for compress=: bf16, distill" in train.check_cli_overrides(["compress=int4"])
    problem = train.check_cli_overrides(["env=go5", "agent=zero", "compress=int8", "compress.refrsh=3"])
    assert "unknown key 'compress.refrsh'" in problem and "refresh" in problem
    assert train.check_cli_overrides(["env=go5", "agent=zero", "compress=int8", "compress.refresh=3"]) is None
