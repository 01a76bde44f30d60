"""zoo.reporting.report: run directories -> tables (mean +- s.e. over seeds), seed bands, PNG plots, ladders, errors."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import compose

from zoo.errors import UserError
from zoo.launch import run
from zoo.reporting.plots import EloPoint, ladder_rows, ladder_table, plot_elo_vs_cost, plot_elo_vs_training
from zoo.reporting.report import (
    ReportSpec,
    Stat,
    Target,
    first_reach,
    main,
    seed_band,
    write_report,
)
from zoo.reporting.run_data import group_runs, load_run, load_runs
from zoo.run.logging import read_metrics
from zoo.run.loop import Run

PNG = b"\x89PNG\r\n\x1a\n"


def make_run(root: Path, env: str, agent: str, seed: int, evals: list[tuple[int, float]], *,
             seconds_per_step: float = 0.001, gamma: float = 0.99, summary: bool = True) -> Path:
    """A run directory as the runner writes it: train rows with the counters, eval rows, summary."""
    path = root / f"{env}-{agent}-seed{seed}"
    path.mkdir(parents=True)
    config = {"env": {"name": env, "id": f"zoo/{env}"}, "agent": {"name": agent, "gamma": gamma}, "seed": seed}
    (path / "config.json").write_text(json.dumps(config))
    rows = []
    for step, value in evals:
        rows.append({"step": step, "train/wall_time": step * seconds_per_step, "train/episodes": step / 10,
                     "train/return_mean100": value / 2})
        rows.append({"step": step, "eval/success_rate": value, "eval/return_mean": value,
                     "train/wall_time": step * seconds_per_step})
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if summary:
        last = evals[-1]
        (path / "summary.json").write_text(json.dumps({
            "env": env, "agent": agent, "seed": seed, "env_steps": last[0], "wall_time_s": last[0] * seconds_per_step,
            "eval/success_rate": last[1], "eval/return_mean": last[1]}))
    return path


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    make_run(root, "lake", "q", 0, [(100, 0.1), (200, 0.5), (300, 0.5)])
    make_run(root, "lake", "q", 1, [(100, 0.3), (200, 0.6), (300, 0.7)])
    make_run(root, "lake", "vi", 0, [(100, 0.8), (200, 0.8), (300, 0.8)], seconds_per_step=1e-5)
    make_run(root, "lake", "vi", 1, [(100, 0.8), (200, 0.8), (300, 1.0)], seconds_per_step=1e-5)
    make_run(root, "cliff", "q", 0, [(100, -50.0), (200, -13.0)])
    make_run(root, "cliff", "q", 1, [(100, -60.0)], summary=False)  # still training
    return root


def spec(runs: Path, tmp_path: Path, **kw) -> ReportSpec:
    return ReportSpec(name="cmp", runs=[str(runs)], out=tmp_path / "reports" / "cmp.md", **kw)


def table_rows(text: str, section: str) -> list[list[str]]:
    """Cells of the markdown table under ``## section``."""
    block = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    lines = [ln for ln in block.splitlines() if ln.startswith("|")][2:]
    return [[c.strip() for c in ln.strip("|").split("|")] for ln in lines]


def test_runs_group_by_env_and_agent_across_seeds(runs: Path) -> None:
    groups = group_runs(load_runs([runs]), ["env", "agent"])
    assert {k: len(v) for k, v in groups.items()} == {("cliff", "q"): 2, ("lake", "q"): 2, ("lake", "vi"): 2}
    by_gamma = group_runs(load_runs([runs]), ["agent.gamma"])
    assert list(by_gamma) == [("0.99",)] and len(by_gamma[("0.99",)]) == 6


def test_final_table_has_mean_se_runs_and_gap_to_reference(runs: Path, tmp_path: Path) -> None:
    out = write_report(spec(runs, tmp_path, metrics=["eval/success_rate"], reference="vi", plots=False))
    rows = table_rows(out.read_text(), "Final eval/success_rate")
    assert rows == [
        ["cliff", "q", "2", "-36.500 ± 23.500", "-60.000 .. -13.000", "-"],  # the unfinished run's last value
        ["lake", "q", "2", "0.600 ± 0.100", "0.500 .. 0.700", "-0.300"],            # mean (0.5+0.7)/2, s.e. 0.1
        ["lake", "vi", "2", "0.900 ± 0.100", "0.800 .. 1.000", "+0.000"],
    ]
    runs_table = table_rows(out.read_text(), "Runs")
    assert runs_table[0][2] == "2 (1 unfinished)"
    assert runs_table[1][:5] == ["lake", "q", "2", "300", "0.300 ± 0"]  # env steps, wall time from the summaries
    assert runs_table[1][5] == "1,000"  # env steps per second


def test_plots_are_written_for_each_env_metric_and_axis(runs: Path, tmp_path: Path) -> None:
    out = write_report(spec(runs, tmp_path, metrics=["eval/return_mean"]))
    pngs = sorted(p.name for p in (tmp_path / "reports" / "cmp").iterdir())
    assert pngs == ["cliff_eval-return_mean_env_steps.png", "cliff_eval-return_mean_wall_time.png",
                    "lake_eval-return_mean_env_steps.png", "lake_eval-return_mean_wall_time.png"]
    assert all((tmp_path / "reports" / "cmp" / p).read_bytes()[:8] == PNG for p in pngs)
    text = out.read_text()
    assert all(f"(cmp/{p})" in text for p in pngs)
    assert "band is from the lowest to the highest seed" in text


def test_seed_band_minmax_and_standard_error() -> None:
    a = (np.array([0.0, 10.0, 20.0]), np.array([0.0, 1.0, 2.0]))
    b = (np.array([0.0, 20.0]), np.array([2.0, 2.0]))  # other x points: interpolated on the union grid
    band = seed_band([a, b], "minmax")
    assert band.x.tolist() == [0.0, 10.0, 20.0]
    assert band.mean.tolist() == [1.0, 1.5, 2.0]
    assert band.lo.tolist() == [0.0, 1.0, 2.0] and band.hi.tolist() == [2.0, 2.0, 2.0]
    se = seed_band([a, b], "se")
    assert np.allclose(se.hi - se.mean, [1.0, 0.5, 0.0]) and np.allclose(se.mean - se.lo, [1.0, 0.5, 0.0])
    short = (np.array([0.0, 10.0]), np.array([1.0, 1.0]))
    assert seed_band([a, short]).x.max() == 10.0  # only where every seed has data


def test_target_table_counts_seeds_that_reach_the_level(runs: Path, tmp_path: Path) -> None:
    out = write_report(spec(runs, tmp_path, metrics=["eval/success_rate"],
                            targets=[Target.parse("lake:eval/success_rate=0.6")], plots=False))
    rows = table_rows(out.read_text(), "Cost to reach a level")
    assert rows[0][:4] == ["lake", "q", "eval/success_rate ≥ 0.6", "1/2"]
    assert rows[0][4] == "- (-, 200)"  # seed 0 never reached: no median of 2
    assert rows[1][:5] == ["lake", "vi", "eval/success_rate ≥ 0.6", "2/2", "100 (100, 100)"]
    assert len(rows) == 2  # the target names env lake only
    assert Target.parse("eval/return_mean=-13") == Target("eval/return_mean", -13.0, None)
    with pytest.raises(UserError, match=r"expected \[ENV:\]METRIC=VALUE"):
        Target.parse("eval/return_mean>3")


def test_first_reach_and_stat() -> None:
    assert first_reach(np.array([1, 2, 3]), np.array([0.1, 0.9, 0.5]), 0.5) == 2.0
    assert first_reach(np.array([1, 2]), np.array([0.1, 0.2]), 0.5) is None
    assert Stat.of([1.0, 3.0]) == Stat(2.0, 1.0, 2)
    one = Stat.of([4.0])
    assert one.n == 1 and math.isnan(one.se) and one.text() == "4.000"


def test_eval_rows_without_wall_time_take_it_from_the_train_rows(tmp_path: Path) -> None:
    path = make_run(tmp_path, "lake", "q", 0, [(100, 0.2), (300, 0.4)])
    rows = [{"step": 100, "train/wall_time": 1.0}, {"step": 200, "eval/success_rate": 0.5},
            {"step": 300, "train/wall_time": 5.0}]
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    xs, ys = load_run(path).curve("eval/success_rate", "wall_time")
    assert xs.tolist() == [3.0] and ys.tolist() == [0.5]


def test_kept_reading_survives_regeneration(runs: Path, tmp_path: Path) -> None:
    s = spec(runs, tmp_path, plots=False)
    out = write_report(s)
    out.write_text(out.read_text() + "\n<!-- keep -->\nQ reaches the optimum.\n<!-- /keep -->\n")
    text = write_report(s).read_text()
    assert text.count("Q reaches the optimum.") == 1 and text.index("<!-- keep -->") < text.index("## Runs")


def test_errors_name_the_problem(tmp_path: Path, runs: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no runs under"):
        load_runs([tmp_path / "empty"])
    with pytest.raises(UserError, match="no such directory"):
        load_runs([tmp_path / "absent"])
    with pytest.raises(UserError, match=r"unknown metric 'eval/win_rate'; available metrics: eval/return_mean, "):
        write_report(spec(runs, tmp_path, metrics=["eval/win_rate"]))
    broken = make_run(tmp_path / "more", "lake", "q", 5, [(100, 0.1)])
    (broken / "metrics.jsonl").unlink()
    with pytest.raises(UserError, match=f"run {broken} has no metrics.jsonl"):
        load_runs([tmp_path / "more"])
    (broken / "metrics.jsonl").write_text("")
    with pytest.raises(UserError, match=f"run {broken}: metrics.jsonl holds no rows"):  # finished, yet empty
        load_runs([tmp_path / "more"])
    (broken / "summary.json").unlink()  # just started: left out
    assert [r.path for r in load_runs([tmp_path / "more", runs])] == [r.path for r in load_runs([runs])]
    with pytest.raises(UserError, match="has no config key 'agent.lr'"):
        group_runs(load_runs([runs]), ["agent.lr"])


def test_cli_writes_the_report_and_gives_one_line_errors(runs: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r" / "grid.md"
    assert main(["grid", "--runs", str(runs), "--x", "env_steps", "--metric", "eval/success_rate", "--band", "se",
                 "--out", str(out)]) == 0
    assert out.is_file() and "python -m zoo.report grid --runs" in out.read_text()
    assert "lake_eval-success_rate_env_steps.png" in {p.name for p in (tmp_path / "r" / "grid").iterdir()}
    capsys.readouterr()
    assert main(["grid", "--runs", str(tmp_path / "nowhere"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: --runs") and "no such directory" in err
    with pytest.raises(SystemExit) as exc:
        main(["grid", "--runs", str(runs), "--x", "time"])
    assert exc.value.code == 2
    assert "unknown --x 'time'; valid: env_steps, wall_time, episodes" in capsys.readouterr().err


def test_ladder_helpers_tabulate_and_plot(tmp_path: Path) -> None:
    points = ladder_rows([("random", -400, -450, -350), ("gnugo", 0, 0, 0), ("zero-100k", 120, 80, 160)])
    assert [p.player for p in points] == ["zero-100k", "gnugo", "random"]
    table = ladder_table(points)
    assert table.splitlines()[2] == "| zero-100k | 120 | 80 .. 160 |"
    with pytest.raises(UserError, match=r"expected \(player, elo, lo, hi\)"):
        ladder_rows([("random", -400)])
    trained = [EloPoint(f"zero-{s}", elo, elo - 40, elo + 40, series="zero", env_steps=s, wall_time=s / 100)
               for s, elo in [(1000, -200), (2000, -50), (4000, 60)]]
    assert plot_elo_vs_training(trained, tmp_path / "t.png").read_bytes()[:8] == PNG
    nets = [EloPoint("fp32", 60, 20, 100, series="fp32", params=1e6, latency_ms=2.0),
            EloPoint("int8", 50, 10, 90, series="int8", params=1e6, latency_ms=0.6)]
    assert plot_elo_vs_cost(nets, tmp_path / "c.png", x="latency_ms").read_bytes()[:8] == PNG
    assert "| fp32 | 60 | 20 .. 100 | 1,000,000 | 2 |" in ladder_table(nets, ["params", "latency_ms"])
    with pytest.raises(UserError, match="no ladder point has a value for 'macs'"):
        plot_elo_vs_cost(nets, tmp_path / "m.png", x="macs")


def test_report_on_a_real_run(tmp_path: Path) -> None:
    """Every step the runner logs an evaluation at carries the counters (once), which the report plots against."""
    cfg = compose("env=frozenlake4", "agent=q", "logger=csv", "progress=false", "steps=2000", "eval.every=700",
                  "eval.episodes=5", "checkpoint_every=0", run_dir=str(tmp_path / "runs" / "a"))
    run(cfg)
    rows = read_metrics(tmp_path / "runs" / "a" / "metrics.jsonl")
    eval_steps = {r["step"] for r in rows if "eval/success_rate" in r}
    assert len(eval_steps) >= 3 and eval_steps <= {r["step"] for r in rows if "train/wall_time" in r}
    assert eval_steps <= {r["step"] for r in rows if "train/episodes" in r}
    logged = [(r["step"], key) for r in rows for key in r if key != "step"]
    assert len(logged) == len(set(logged))
    # An evaluation at a step with no training row brings the counters itself.
    r = Run(replace(cfg, run_dir=str(tmp_path / "b")))
    r.counters.env_steps, r.counters.wall_time, r.counters.episodes = 500, 2.5, 40
    r._evaluate()
    r.train_row_step = 700
    r.counters.env_steps = 700
    r._evaluate()
    r.logger.close()
    first, second = read_metrics(tmp_path / "b" / "metrics.jsonl")
    assert (first["step"], first["train/wall_time"], first["train/episodes"]) == (500, 2.5, 40.0)
    assert second["step"] == 700 and "train/wall_time" not in second and "eval/success_rate" in second
    out = write_report(ReportSpec(name="real", runs=[str(tmp_path / "runs")], out=tmp_path / "real.md",
                                  metrics=["eval/success_rate"], xs=["wall_time"]))
    assert table_rows(out.read_text(), "Final eval/success_rate")[0][:3] == ["frozenlake4", "q", "1"]
    assert (tmp_path / "real" / "frozenlake4_eval-success_rate_wall_time.png").is_file()


def test_wandb_runs_of_a_comparison_share_the_env_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A multirun over agents and seeds lands in one wandb group (the env), the agent as job type, named alike."""
    import zoo.run.loop

    seen = []
    real = zoo.run.loop.make_logger
    monkeypatch.setattr(zoo.run.loop, "make_logger", lambda *a, **kw: seen.append(kw) or real(*a, **kw))
    for agent, seed in [("q", 0), ("sarsa", 3)]:
        zoo.run.loop.Run(compose("env=frozenlake4", f"agent={agent}", "logger=csv", "progress=false", f"seed={seed}",
                               run_dir=str(tmp_path / f"run{seed}"))).logger.close()
    assert [(kw["group"], kw["job_type"], kw["name"]) for kw in seen] == [
        ("frozenlake4", "q", "frozenlake4-q-seed0"), ("frozenlake4", "sarsa", "frozenlake4-sarsa-seed3")]


def test_ladder_points_read_a_ladder_file_and_checkpoint_costs(tmp_path: Path) -> None:
    from zoo.play.ratings import Ladder
    from zoo.reporting.plots import checkpoint_cost, ladder_points
    from zoo.run.checkpoint import save_checkpoint

    ladder = Ladder(tmp_path / "ladder.json")
    ladder.register(7, 9.0, "gnugo", "gnugo")
    ladder.register(7, 9.0, "zero-2k", "runs/go7/zero/a/checkpoints/ckpt-2000.pt")
    for i in range(10):  # zero-2k scores 8 of 10 against the anchor
        black, white = ("zero-2k", "gnugo") if i % 2 else ("gnugo", "zero-2k")
        won = i < 8
        ladder.add_game(7, 9.0, {"black": black, "white": white, "score": float(won == (black == "zero-2k"))})
    ladder.save()
    points = ladder_points(tmp_path / "ladder.json", 7, 9.0)
    assert [p.player for p in points] == ["zero-2k", "gnugo"]
    assert points[1].elo == 1500.0 and points[0].lo < points[0].elo < points[0].hi and points[0].elo > 1500.0
    assert points[0].spec.endswith("ckpt-2000.pt")
    with pytest.raises(UserError, match="has no section '9x9 komi 7.5'; sections: 7x7 komi 9"):
        ladder_points(tmp_path / "ladder.json", 9, 7.5)
    ckpt = save_checkpoint(tmp_path / "ckpt-2000.pt", {"counters": {"env_steps": 2000, "wall_time": 12.5}})
    assert checkpoint_cost(ckpt) == (2000, 12.5)


def _ladder_with_checkpoints(tmp_path: Path) -> Path:
    """A 7x7 ladder: gnugo, and two checkpoints of one run (at 0.5 h and 1 h) that score 3/10 and 8/10 against it."""
    from zoo.play.ratings import Ladder
    from zoo.run.checkpoint import save_checkpoint

    ladder = Ladder(tmp_path / "ladder.json")
    ladder.register(7, 9.0, "gnugo", "gnugo")
    for name, steps, hours, wins in (("run-30m", 1000, 0.5, 3), ("run-1h", 2000, 1.0, 8)):
        ckpt = save_checkpoint(tmp_path / f"{name}.pt", {"counters": {"env_steps": steps, "wall_time": hours * 3600}})
        ladder.register(7, 9.0, name, str(ckpt))
        for i in range(10):
            black, white = (name, "gnugo") if i % 2 else ("gnugo", name)
            ladder.add_game(7, 9.0, {"black": black, "white": white, "score": float((i < wins) == (black == name))})
    return ladder.save()


def test_refresh_rebuilds_generated_blocks_and_keeps_the_prose(tmp_path: Path) -> None:
    from zoo.reporting.blocks import refresh

    ladder = _ladder_with_checkpoints(tmp_path)
    report = tmp_path / "r.md"
    plot = tmp_path / "r" / "elo.png"
    report.write_text(
        "# hand-written title\n\nprose stays; tables between `<!-- zoo: ... -->` marks are generated.\n\n"
        f"<!-- zoo: ladder {ladder} --board 7 --komi 9 -->\nstale\n<!-- /zoo -->\n\nmore prose\n\n"
        f"<!-- zoo: elo-training {ladder} --board 7 --komi 9 --anchor gnugo --series run=run-30m,run-1h "
        f"--plot {plot} -->\n<!-- /zoo -->\n"
        f"<!-- zoo: selfplay a={tmp_path / 'run-1h.pt'} -->\n<!-- /zoo -->\n", encoding="utf-8")
    done = refresh(report)
    text = report.read_text(encoding="utf-8")
    assert done.blocks == 3 and len(done.changed) == 3
    assert "prose stays;" in text and "more prose" in text and "stale" not in text
    rows = [line for line in text.splitlines() if line.startswith("| run-") or line.startswith("| gnugo")]
    assert [r.split(" | ")[0] for r in rows[:3]] == ["| run-1h", "| gnugo", "| run-30m"]  # best first
    assert "| run | run-30m | 0.50 | 1,000 |" in text and "| run | run-1h | 1.00 | 2,000 |" in text
    assert "| a | 2,000 | 60.0 | 2,000 |" in text  # positions per hour
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert refresh(report, check=True).changed == []  # a second pass finds nothing stale


def test_refresh_names_the_bad_block_and_leaves_the_report_untouched(tmp_path: Path) -> None:
    from zoo.reporting.blocks import refresh, refresh_main

    ladder = _ladder_with_checkpoints(tmp_path)
    report = tmp_path / "r.md"
    original = (f"<!-- zoo: ladder {ladder} --board 7 --komi 9 -->\nold\n<!-- /zoo -->\n"
                "<!-- zoo: histogram x -->\n<!-- /zoo -->\n")
    report.write_text(original, encoding="utf-8")
    with pytest.raises(UserError, match=r"r\.md:4: block 'histogram x': unknown block command 'histogram'; "
                                        r"valid: recount, ladder, elo-training, selfplay"):
        refresh(report)
    assert report.read_text(encoding="utf-8") == original
    report.write_text(f"<!-- zoo: ladder {ladder} --board 9 --komi 7.5 -->\n<!-- /zoo -->\n", encoding="utf-8")
    with pytest.raises(UserError, match="has no section '9x9 komi 7.5'; sections: 7x7 komi 9"):
        refresh(report)
    report.write_text(f"<!-- zoo: ladder {ladder} --board 7 --komi 9 -->\nold\n<!-- /zoo -->\n", encoding="utf-8")
    assert refresh_main([str(report), "--check"]) == 1  # stale, and --check writes nothing
    assert "old" in report.read_text(encoding="utf-8")
    assert refresh_main([str(report)]) == 0 and refresh_main([str(report), "--check"]) == 0


def test_refresh_refuses_a_block_whose_closing_mark_is_not_at_the_start_of_a_line(tmp_path: Path) -> None:
    from zoo.reporting.blocks import refresh

    ladder = _ladder_with_checkpoints(tmp_path)
    report = tmp_path / "r.md"
    original = (f"<!-- zoo: ladder {ladder} --board 7 --komi 9 -->\nold\n  <!-- /zoo -->\n\nprose between\n\n"
                f"<!-- zoo: ladder {ladder} --board 7 --komi 9 -->\nold\n<!-- /zoo -->\n")
    report.write_text(original, encoding="utf-8")
    with pytest.raises(UserError, match=r"r\.md:1: block has no closing '<!-- /zoo -->' at the start of a line"):
        refresh(report)
    assert report.read_text(encoding="utf-8") == original  # the prose between the blocks is not swallowed


def test_refresh_check_writes_no_plot_and_unrated_players_are_left_out_of_the_points(tmp_path: Path) -> None:
    from zoo.play.ratings import Ladder
    from zoo.reporting.blocks import refresh
    from zoo.run.checkpoint import save_checkpoint

    ladder_path = _ladder_with_checkpoints(tmp_path)
    ladder = Ladder.load(ladder_path)
    ckpt = save_checkpoint(tmp_path / "island.pt", {"counters": {"env_steps": 500, "wall_time": 900.0}})
    ladder.register(7, 9.0, "island", str(ckpt))
    ladder.register(7, 9.0, "random", "random")
    for i in range(4):  # island plays only random: no chain of games links it to gnugo
        ladder.add_game(7, 9.0, {"black": "island" if i % 2 else "random", "white": "random" if i % 2 else "island",
                                 "score": float(i % 2 == 1)})
    ladder.save()
    report, plot = tmp_path / "r.md", tmp_path / "elo.png"
    report.write_text(f"<!-- zoo: elo-training {ladder_path} --board 7 --komi 9 --series "
                      f"run=island,run-30m,run-1h --plot {plot} -->\n<!-- /zoo -->\n", encoding="utf-8")
    with pytest.raises(UserError, match="elo.png is missing"):  # --check writes no plot, and misses it
        refresh(report, check=True)
    assert not plot.exists()
    refresh(report)
    text = report.read_text(encoding="utf-8")
    assert "| run | island | 0.25 | 500 | unrated | no games link it to gnugo |" in text
    assert plot.read_bytes()[:8] == PNG and refresh(report, check=True).changed == []
    from zoo.reporting.plots import ladder_points

    assert "island" not in {p.player for p in ladder_points(ladder_path, 7, 9.0)}  # no Elo to plot
    assert {"run-30m", "run-1h", "gnugo"} <= {p.player for p in ladder_points(ladder_path, 7, 9.0)}
    report.write_text(f"<!-- zoo: elo-training {ladder_path} --board 7 --komi 9 --series run=island --plot {plot} "
                      "-->\n<!-- /zoo -->\n", encoding="utf-8")
    for check in (True, False):  # --check fails as refresh does
        with pytest.raises(UserError, match="no player of --series has an Elo"):
            refresh(report, check=check)
