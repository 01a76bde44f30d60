"""The AlphaGo pipeline: every stage on a tiny go5 corpus, checkpoints a player can load, resume, bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import compose, subprocess_env, train_cmd

from agents import AGENT_CONFIGS, build_agent
from zoo.errors import UserError
from zoo.pipelines.alphago import finished_stages, run_pipeline, stage_file
from zoo.run.checkpoint import load_checkpoint, resolve_resume
from zoo.run.logging import read_metrics
from zoo.run.make_env import make_env

TINY = ("agent.sl_steps=4", "agent.sl_batch=16", "agent.rollout_steps=4", "agent.rl_iterations=1", "agent.rl_games=4",
        "agent.eval_games=2", "agent.value_games=6", "agent.value_steps=2", "agent.value_batch=4",
        "agent.simulations=4", "agent.play_leaves=2", "eval.episodes=0", "logger=csv", "progress=false")


def pipeline_cfg(run_dir: Path, *overrides: str):
    return compose("env=go5", "agent=alphago", *TINY, *overrides, run_dir=str(run_dir))


def assert_steps_increase(run_dir: Path, stage: str) -> None:
    """The stage's metrics (what its wandb run gets too) at strictly increasing steps, its result last."""
    rows = read_metrics(run_dir / stage / "metrics.jsonl")
    steps = [r["step"] for r in rows]
    assert steps == sorted(set(steps)) and steps[0] >= 1, (stage, steps)
    summary = json.loads((run_dir / "summary.json").read_text())
    result = {k: v for k, v in rows[-1].items() if k != "step"}
    assert result and all(k.startswith(f"{stage}/") and summary[k] == pytest.approx(v, nan_ok=True)
                          for k, v in result.items()), (stage, result)


def test_every_stage_runs_and_the_checkpoint_plays(priority_corpus: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    summary = run_pipeline(pipeline_cfg(run_dir, f"agent.sgf_dir={priority_corpus}"))
    assert summary["stages"] == "corpus,sl,rollout,rl,value"
    assert finished_stages(run_dir) == ["corpus", "sl", "rollout", "rl", "value"]
    for key in ("corpus/positions", "sl/accuracy_heldout", "rollout/accuracy_heldout", "rollout/us_per_move",
                "rl/win_rate_vs_sl", "value/mse_heldout"):
        assert np.isfinite(summary[key]), key
    assert summary["rl/eval_games"] == 2 and (summary["rl/win_rate_vs_sl"] * 4).is_integer()  # 2 games, draws half
    assert json.loads((run_dir / "summary.json").read_text())["stages"] == summary["stages"]
    for stage in ("corpus", "sl", "rollout", "rl", "value"):
        assert_steps_increase(run_dir, stage)
    # A player loads the run's newest checkpoint the way it loads a zero one.
    ckpt = load_checkpoint(resolve_resume(run_dir))
    cfg = AGENT_CONFIGS[ckpt["config"]["agent"]["name"]](**ckpt["config"]["agent"])
    env = make_env(pipeline_cfg(run_dir).env, seed=0)
    agent = build_agent(cfg, env.observation_space, env.action_space, np.random.default_rng(0))
    agent.load_state_dict(ckpt["agent"])
    agent.attach(env.unwrapped.game)
    assert agent.stages == ["corpus", "sl", "rollout", "rl", "value"] and agent.rollout_weights is not None
    state = env.unwrapped.game.new_state()
    moves = agent.select_moves([state, state], simulations=4)
    assert all(state.is_legal(a) for a in moves)
    with pytest.raises(ValueError, match="not an alphago agent state"):
        agent.load_state_dict({"kind": "zero", "format": 1})

    # Resume: a lost last stage is redone, the earlier ones are kept.
    sl_time = stage_file(run_dir, "sl").stat().st_mtime_ns
    stage_file(run_dir, "value").unlink()
    again = run_pipeline(pipeline_cfg(tmp_path / "other", f"resume={run_dir}", f"agent.sgf_dir={priority_corpus}"))
    assert stage_file(run_dir, "value").is_file() and stage_file(run_dir, "sl").stat().st_mtime_ns == sl_time
    assert again["stages"] == "corpus,sl,rollout,rl,value" and not (tmp_path / "other").exists()
    assert_steps_increase(run_dir, "value")  # the rerun stage's metrics start afresh

    # One stage alone, on a run that has the stages before it.
    run_pipeline(pipeline_cfg(tmp_path / "x", f"resume={run_dir}", "agent.stage=rollout"))
    assert stage_file(run_dir, "rollout").stat().st_mtime_ns > sl_time


def test_a_stage_alone_needs_the_stages_before_it(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="missing: corpus, sl, rollout"):
        run_pipeline(pipeline_cfg(tmp_path / "run", "agent.stage=rl"))


def test_bad_input_gives_one_line(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not a Go env"):
        run_pipeline(compose("env=cliff", "agent=alphago", "logger=csv", run_dir=str(tmp_path / "r")))
    with pytest.raises(UserError, match="unknown stage 'policy'; valid stages: all, corpus, sl"):
        pipeline_cfg(tmp_path / "r", "agent.stage=policy")
    with pytest.raises(UserError, match="does not exist"):
        run_pipeline(pipeline_cfg(tmp_path / "r", f"agent.sgf_dir={tmp_path / 'missing'}"))
    with pytest.raises(UserError, match="no AlphaGo run there"):
        run_pipeline(pipeline_cfg(tmp_path / "r", f"resume={tmp_path}"))
    (tmp_path / "go9run" / "stages").mkdir(parents=True)
    (tmp_path / "go9run" / "config.json").write_text('{"env": {"id": "zoo/Go9x9-v0"}}')
    with pytest.raises(UserError, match="alphago run on env zoo/Go9x9-v0; this run is on env zoo/Go5x5-v0"):
        run_pipeline(pipeline_cfg(tmp_path / "r", f"resume={tmp_path / 'go9run'}"))


@pytest.mark.slow
@pytest.mark.gnugo
def test_train_py_runs_the_whole_pipeline_on_go5(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    proc = subprocess.run(train_cmd("env=go5", "agent=alphago", "agent.corpus_games=4", "agent.corpus_level=0",
                                    *[o for o in TINY if o != "eval.episodes=0"], "eval.episodes=2",
                                    f"hydra.run.dir={run_dir}"),
                          capture_output=True, text=True, env=subprocess_env(), timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["stages"] == "corpus,sl,rollout,rl,value" and "eval/win_random" in summary
    assert len(list((run_dir / "corpus").glob("*.sgf"))) == 4


@pytest.mark.slow
def test_train_py_names_a_missing_sgf_folder(tmp_path: Path) -> None:
    proc = subprocess.run(train_cmd("env=go5", "agent=alphago", f"agent.sgf_dir={tmp_path / 'none'}", "logger=csv",
                                    f"hydra.run.dir={tmp_path / 'run'}"),
                          capture_output=True, text=True, env=subprocess_env(), timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("error: SGF folder") and "Traceback" not in proc.stderr


def test_ctrl_c_keeps_the_finished_stages(priority_corpus: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("zoo.pipelines.alphago.train_policy", interrupted)
    run_dir = tmp_path / "run"
    with pytest.raises(SystemExit) as info:
        run_pipeline(pipeline_cfg(run_dir, f"agent.sgf_dir={priority_corpus}"))
    assert info.value.code == 130
    assert finished_stages(run_dir) == ["corpus"]
    assert f"resume={run_dir}" in capsys.readouterr().out
