"""Checkpoints: atomic, versioned, round-trip exact, and damaged or foreign files fail with a clear message."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from zoo.errors import CheckpointError
from zoo.run.checkpoint import (
    FORMAT,
    checkpoint_path,
    list_checkpoints,
    load_checkpoint,
    prune_checkpoints,
    resolve_resume,
    restore_rng_state,
    rng_state,
    save_checkpoint,
)


def payload() -> dict:
    return {"agent": {"q": np.arange(12.0).reshape(3, 4), "nested": [np.int64(3), {"w": torch.ones(2)}]},
            "counters": {"env_steps": 10}}


def test_round_trip_keeps_arrays_and_tensors(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "c.pt", payload())
    loaded = load_checkpoint(path)
    assert loaded["format"] == FORMAT
    np.testing.assert_array_equal(loaded["agent"]["q"], np.arange(12.0).reshape(3, 4))
    assert isinstance(loaded["agent"]["q"], np.ndarray) and loaded["agent"]["nested"][0] == 3
    assert torch.equal(loaded["agent"]["nested"][1]["w"], torch.ones(2))
    assert not list(tmp_path.glob("*.tmp"))


def test_rng_state_restores_the_exact_next_draws() -> None:
    rng = np.random.default_rng(5)
    state = rng_state(rng)
    first = (rng.random(3), random.random(), torch.rand(2))
    rng2 = np.random.default_rng(99)
    restore_rng_state(state, rng2)
    second = (rng2.random(3), random.random(), torch.rand(2))
    np.testing.assert_array_equal(first[0], second[0])
    assert first[1] == second[1] and torch.equal(first[2], second[2])


def test_rng_state_survives_a_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    save_checkpoint(tmp_path / "c.pt", {"rng": rng_state(rng)})
    expected = rng.random()
    other = np.random.default_rng(2)
    restore_rng_state(load_checkpoint(tmp_path / "c.pt")["rng"], other)
    assert other.random() == expected


@pytest.mark.parametrize("damage,message", [
    (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "is corrupt or truncated"),
    (lambda p: p.write_bytes(b"not a checkpoint at all"), "is corrupt or truncated"),
    (lambda p: torch.save({"weights": torch.ones(1)}, p), "is not a zoo checkpoint"),
    (lambda p: torch.save({"format": FORMAT + 1}, p), f"has format {FORMAT + 1}; this version reads format {FORMAT}"),
])
def test_damaged_or_foreign_files_are_refused_by_name(tmp_path: Path, damage, message: str) -> None:
    path = save_checkpoint(tmp_path / "c.pt", payload())
    damage(path)
    with pytest.raises(CheckpointError, match=message) as err:
        load_checkpoint(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_resume_skips_a_damaged_newest_checkpoint(tmp_path: Path) -> None:
    for steps in (100, 200, 300):
        save_checkpoint(checkpoint_path(tmp_path, steps), payload())
    newest = checkpoint_path(tmp_path, 300)
    newest.write_bytes(b"\x00" * 10)
    assert resolve_resume(tmp_path) == checkpoint_path(tmp_path, 200)
    assert newest.exists(), "a damaged checkpoint is never deleted"


def test_resume_of_an_empty_run_dir_says_so(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no checkpoints in"):
        resolve_resume(tmp_path)


def test_prune_keeps_the_newest(tmp_path: Path) -> None:
    for steps in (1, 20, 300, 4000):
        save_checkpoint(checkpoint_path(tmp_path, steps), payload())
    (tmp_path / "checkpoints" / "ckpt-000000005000.pt.tmp").write_bytes(b"partial")
    prune_checkpoints(tmp_path, keep=2)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["ckpt-000000000300.pt", "ckpt-000000004000.pt"]
    assert not list((tmp_path / "checkpoints").glob("*.tmp"))


class _RunsCode:
    """A pickled object whose loading would run a shell command (what a malicious checkpoint carries)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        import os

        return (os.system, (f"touch {self.marker}",))


def test_a_checkpoint_carrying_code_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    import subprocess
    import sys

    from conftest import ROOT, subprocess_env

    from agents.nets.checkpoint import load_net

    marker = tmp_path / "ran"
    evil = tmp_path / "checkpoints" / "ckpt-000000000100.pt"
    evil.parent.mkdir()
    torch.save({"format": 1, "config": {}, "agent": _RunsCode(marker)}, evil)
    with pytest.raises(CheckpointError, match=r"holds code or objects \((posix|os)\.system\) that the suite refuses"):
        load_checkpoint(evil)
    with pytest.raises(ValueError, match="refuses to unpickle"):
        load_net(evil)
    done = subprocess.run([sys.executable, str(ROOT / "train.py"), "env=go5", "agent=zero", f"resume={evil}",
                           "logger=none"], cwd=tmp_path, env=subprocess_env(), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "refuses to unpickle" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not marker.exists() and evil.exists()


def test_resume_names_the_settings_that_differ_from_the_checkpoints_run() -> None:
    from agents.zero import ZeroConfig
    from zoo.run.settings_diff import changed_settings

    saved = {"agent": {"name": "zero", "simulations": 48, "lr": 0.002}, "net": None}
    now = {"agent": {"name": "zero", "simulations": 16, "lr": 0.002, "search": "gumbel", "board_mix": ""}}
    assert changed_settings(saved, now, ZeroConfig.PREDATED) == [
        "agent.simulations=16 (was 48)", "agent.search=gumbel (was puct: the checkpoint predates the setting)"]
    same = {"agent": {**now["agent"], "search": "puct", "simulations": 48}}
    assert changed_settings(saved, same, ZeroConfig.PREDATED) == []  # board_mix's absence means its default
    # a run that named its net (net=resnet net.global_pool=true) before agent.net_global_pool existed ran with pooling
    named = {"agent": {"name": "zero"}, "net": {"kind": "resnet", "global_pool": True}}
    pooled = {"agent": {"name": "zero", "net_global_pool": True}}
    assert changed_settings(named, pooled, ZeroConfig.PREDATED) == []
    assert changed_settings({**named, "net": {"kind": "resnet", "global_pool": False}}, pooled,
                            ZeroConfig.PREDATED) == ["agent.net_global_pool=True (was net.global_pool=False)"]
    assert changed_settings({"agent": {"name": "zero"}, "net": None}, pooled, ZeroConfig.PREDATED) == [
        "agent.net_global_pool=True (was False: the checkpoint predates the setting)"]
    # agent.net_preset=auto (chosen from the board) is no change from the b6c64 the named net ran with; and a run
    # that names its own net is compared section by section, agent.net_X shaping nothing
    named_preset = {"agent": {"name": "zero"}, "net": {"kind": "resnet", "preset": "b6c64", "global_pool": True}}
    assert changed_settings(named_preset, {**pooled, "agent": {**pooled["agent"], "net_preset": "auto"}},
                            ZeroConfig.PREDATED) == []
    assert changed_settings({**named, "net": {"kind": "resnet", "global_pool": False}},
                            {**pooled, "net": {"kind": "resnet", "global_pool": False}}, ZeroConfig.PREDATED) == []
    # the net each run used is compared whichever way it was given: a named net against an agent-built one (the
    # checkpoint's agent.net_global_pool=True shaped nothing: its run named a net without pooling), and back
    named_flat = {"agent": {"name": "zero", "net_global_pool": True}, "net": {"kind": "resnet", "global_pool": False}}
    assert changed_settings(named_flat, pooled, ZeroConfig.PREDATED) == [
        "agent.net_global_pool=True (was net.global_pool=False)"]
    assert changed_settings(pooled, {**pooled, "net": {"kind": "resnet", "preset": None, "global_pool": False}},
                            ZeroConfig.PREDATED) == ["net.global_pool=False (was agent.net_global_pool=True)"]
