"""The GPU path: precision and compile settings reach the zero agent's evaluator and learner; CUDA checks (gpu)."""

from __future__ import annotations

from pathlib import Path

import gymnasium
import numpy as np
import pytest
import torch
from conftest import compose

import envs  # noqa: F401  (registers the zoo envs)
from agents import build_agent
from agents.zero import ZeroConfig
from zoo.errors import ConfigError
from zoo.run.accel import accelerate, autocast_dtype
from zoo.run.config import RunnerConfig
from zoo.run.loop import Run, resolve_device

TINY = ZeroConfig(games=4, simulations=4, moves_per_collect=4, max_moves_factor=0.5, min_replay=16, batch_size=16)


def zero_agent(device: str = "cpu"):
    env = gymnasium.make("zoo/Go5x5-v0")
    return build_agent(TINY, env.observation_space, env.action_space, np.random.default_rng(0), device), env


def test_precision_maps_to_an_autocast_dtype() -> None:
    assert autocast_dtype("auto", "cpu") is None and autocast_dtype("bf16", "cpu") is None
    assert autocast_dtype("fp32", "cuda") is None
    assert autocast_dtype("fp16", "cuda:1") is torch.float16


def test_the_cpu_keeps_fp32() -> None:
    agent, _ = zero_agent()
    accelerate(agent, RunnerConfig(precision="fp16"), "cpu")
    assert agent.evaluator.amp_dtype is None and agent.learner.amp_dtype is None and agent.learner.scaler is None
    assert agent.evaluator.model is agent.net and agent.learner.model is agent.net


@pytest.mark.slow
def test_compile_wraps_the_net_once_for_inference_and_training() -> None:
    agent, env = zero_agent()
    accelerate(agent, RunnerConfig(compile=True), "cpu")  # importing dynamo alone takes seconds
    assert agent.evaluator.model is agent.learner.model and agent.evaluator.model is not agent.net
    for _ in range(12):  # until the window holds min_replay and the learner has trained
        metrics = agent.update(agent.collect(env))
        if agent.learner.steps:
            break
    assert agent.learner.steps > 0 and np.isfinite(metrics["train/loss"])


def test_compile_on_an_agent_without_a_net_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="runner.compile=true needs an agent with a torch net"):
        Run(compose("env=frozenlake4", "agent=q", "runner.compile=true", "logger=none", run_dir=str(tmp_path)))


# -- on a GPU (pytest -m gpu) -----------------------------------------------------------------------------------

gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.mark.gpu
@gpu
def test_auto_picks_cuda_and_autocast_follows_the_gpu() -> None:
    assert resolve_device("auto") == "cuda"
    expected = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    assert autocast_dtype("auto", "cuda") is expected


@pytest.mark.gpu
@gpu
@pytest.mark.parametrize("precision", ["bf16", "fp16", "fp32"])
def test_gpu_inference_follows_the_cpu_net_and_training_stays_finite(precision: str) -> None:
    if precision == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("no bf16 on this GPU")
    cpu_agent, env = zero_agent("cpu")
    agent, _ = zero_agent("cuda")
    agent.net.load_state_dict(cpu_agent.net.state_dict())
    accelerate(agent, RunnerConfig(precision=precision), "cuda")
    planes = np.random.default_rng(1).integers(0, 2, (64, *env.observation_space.shape)).astype(np.float32)
    masks = np.ones((64, env.action_space.n), bool)
    p_cpu, v_cpu = cpu_agent.evaluator.evaluate(planes, masks)
    p_gpu, v_gpu = agent.evaluator.evaluate(planes, masks)
    tol = 1e-4 if precision == "fp32" else 3e-2
    np.testing.assert_allclose(p_gpu, p_cpu, atol=tol)
    np.testing.assert_allclose(v_gpu, v_cpu, atol=tol)
    for _ in range(12):  # until the window holds min_replay and the learner has trained
        metrics = agent.update(agent.collect(env))
        if agent.learner.steps:
            break
    assert agent.learner.steps > 0 and np.isfinite(metrics["train/loss"])
    assert (agent.learner.scaler is not None) == (precision == "fp16")


@pytest.mark.gpu
@pytest.mark.slow
@gpu
def test_a_compiled_go5_run_on_the_gpu(tmp_path: Path) -> None:
    # Games capped at 12 moves: the replay window fills with finished games, so the learner trains before 512 steps.
    cfg = compose("env=go5", "agent=zero", "agent.games=16", "agent.simulations=8", "agent.max_moves_factor=0.5",
                  "agent.min_replay=64", "agent.batch_size=64", "steps=512", "eval.every=0", "eval.episodes=2",
                  "logger=none", "progress=false", "runner.compile=true", run_dir=str(tmp_path / "run"))
    run = Run(cfg)
    assert run.device == "cuda" and next(run.agent.net.parameters()).is_cuda
    summary = run.train()
    assert summary["env_steps"] >= 512 and run.agent.learner.steps > 0


@pytest.mark.gpu
@pytest.mark.slow
@gpu
def test_ray_workers_share_the_gpu(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    from zoo.scale.ray_selfplay import run_ray

    cfg = compose("env=go5", "agent=zero", "runner=ray", "runner.workers=2", "runner.gpus_per_worker=0.5",
                  "agent.games=16", "agent.simulations=8", "agent.max_moves_factor=0.5", "agent.min_replay=64",
                  "agent.batch_size=64", "steps=512", "eval.every=0", "eval.episodes=2", "logger=none",
                  "progress=false", run_dir=str(tmp_path / "run"))
    assert run_ray(cfg)["env_steps"] >= 512
