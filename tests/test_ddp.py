"""torchrun data-parallel training: ranks self-play their own games and keep equal weights; rank 0 alone writes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from conftest import ROOT, subprocess_env, train_cmd

from agents.zero import ZeroConfig
from zoo.run.checkpoint import list_checkpoints, load_checkpoint
from zoo.run.config import EnvConfig, EvalConfig, LoggerConfig, RunConfig
from zoo.scale.torchrun import run_ddp

TINY_AGENT = dict(games=4, simulations=4, moves_per_collect=4, max_moves_factor=0.5, min_replay=16, batch_size=16)
TINY = ("env=go5", "agent=zero", *(f"agent.{k}={v}" for k, v in TINY_AGENT.items()), "eval.every=0",
        "eval.episodes=2", "logger=csv", "progress=false")


def tiny_config(run_dir: Path, steps: int) -> RunConfig:
    return RunConfig(env=EnvConfig(name="go5", id="zoo/Go5x5-v0", kwargs={"opponent": "random"}),
                     agent=ZeroConfig(**TINY_AGENT), logger=LoggerConfig(kind="csv"),
                     eval=EvalConfig(every=0, episodes=2), steps=steps, progress=False, device="cpu",
                     run_dir=str(run_dir))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_one_rank_trains_through_ddp_and_writes_the_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    port = free_port()
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "1")
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=0, world_size=1)
    summary = run_ddp(tiny_config(tmp_path / "run", steps=64))  # also takes the process group down
    assert not dist.is_initialized()
    assert summary["env_steps"] >= 64
    ckpt = load_checkpoint(list_checkpoints(tmp_path / "run")[-1])
    assert ckpt["agent"]["learner"]["steps"] > 0
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert any(r.get("ddp/effective_batch") == 16.0 for r in rows)


RANK_SCRIPT = textwrap.dedent("""
    import sys, torch
    sys.path[:0] = [{root!r}, {tests!r}]
    from test_ddp import tiny_config
    from zoo.scale.torchrun import start
    import torch.distributed as dist
    run = start(tiny_config({run_dir!r}, steps=160))
    run.train()
    torch.save({{"params": {{k: v.detach() for k, v in run.agent.net.named_parameters()}},
                "steps": run.agent.learner.steps, "planes": torch.from_numpy(run.agent.replay.planes[:64].copy())}},
               {out!r} + f"/rank{{dist.get_rank()}}.pt")
    dist.destroy_process_group()
""")


@pytest.mark.mission
@pytest.mark.slow
def test_two_gloo_ranks_keep_equal_parameters(tmp_path: Path) -> None:
    """Two processes: each plays its own games, the gradients are all-reduced, the weights stay equal."""
    port = free_port()
    script = RANK_SCRIPT.format(root=str(ROOT), tests=str(ROOT / "tests"), run_dir=str(tmp_path / "run"),
                                out=str(tmp_path))
    procs = []
    for rank in (0, 1):
        env = {**subprocess_env(), "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": "2",
               "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
        procs.append(subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env, stderr=subprocess.PIPE,
                                      text=True))
    for p in procs:
        _, err = p.communicate(timeout=400)
        assert p.returncode == 0, err[-3000:]
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    assert r0["steps"] == r1["steps"] > 0
    for name, p0 in r0["params"].items():
        assert torch.equal(p0, r1["params"][name]), name
    assert not torch.equal(r0["planes"], r1["planes"])  # each rank played its own games
    assert [p.name for p in (tmp_path / "run").iterdir() if p.name == "checkpoints"]  # rank 0 wrote


@pytest.mark.slow
def test_torchrun_launches_train_py(tmp_path: Path) -> None:
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           *train_cmd(*TINY, "steps=128", f"hydra.run.dir={out}")[1:]]
    done = subprocess.run(cmd, cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["env_steps"] >= 128 and "eval/win_random" in summary
    assert load_checkpoint(list_checkpoints(out)[-1])["counters"]["env_steps"] == summary["env_steps"]
