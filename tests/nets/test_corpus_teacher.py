"""The compression benchmark's supervised teacher: engine games replayed into positions, and its training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from agents.compress.distill import outputs_on
from envs.go.coords import gtp_to_action
from envs.go.sgf import GameRecord, save_sgf
from envs.go.state import BLACK, WHITE, GoState
from zoo.errors import UserError
from zoo.pipelines.corpus import RANDOM_MOVES_PROPERTY
from zoo.pipelines.teacher import corpus_positions, train_teacher, turn_batch

MOVES = ["E5", "C3", "G7", "C7", "G3", "E3", "E7", "C5", "G5", "pass"]


def write_game(folder: Path, name: str, moves: list[str], result: str, random_moves: int) -> list[int]:
    actions = [gtp_to_action(m.lower(), 9) for m in moves]
    colours = [BLACK if i % 2 == 0 else WHITE for i in range(len(actions))]
    record = GameRecord(size=9, komi=7.5, result=result, moves=list(zip(colours, actions, strict=True)))
    record.properties[RANDOM_MOVES_PROPERTY] = [str(random_moves)]
    save_sgf(folder / name, record)
    return actions


def test_corpus_positions_skip_the_random_opening_and_score_from_the_movers_view(tmp_path: Path) -> None:
    first = write_game(tmp_path, "game-000000.sgf", MOVES, "W+3.5", random_moves=2)
    second = write_game(tmp_path, "game-000001.sgf", MOVES[:4], "B+R", random_moves=0)
    pos, moves, results, game = corpus_positions(tmp_path)
    assert len(pos) == len(MOVES) - 2 + 4
    assert moves.tolist() == first[2:] + second
    assert game.tolist() == [0] * (len(MOVES) - 2) + [1] * 4
    # game 0: white won; its first target is move 3 (black to play) -> -1, then alternating
    assert results[: len(MOVES) - 2].tolist() == [-1.0 if i % 2 == 0 else 1.0 for i in range(len(MOVES) - 2)]
    assert results[len(MOVES) - 2 :].tolist() == [1.0, -1.0, 1.0, -1.0]  # black won game 1, black moves first
    assert bool(pos.mask[torch.arange(len(moves)), moves].all())  # every played move is legal where it was played
    state = GoState.new(9, komi=7.5)
    for a in first[:2]:
        state.play(a)
    np.testing.assert_array_equal(pos.planes[0].numpy(), state.features())
    np.testing.assert_array_equal(pos.mask[0].numpy(), state.legal_mask())


def test_corpus_positions_of_a_folder_without_games_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="holds no .sgf files"):
        corpus_positions(tmp_path)


@pytest.mark.parametrize("k", range(8))
def test_a_turned_batch_carries_each_move_to_where_its_stone_lands(k: int) -> None:
    moves = torch.tensor([0, 8, 40, 53, 80, 81])
    planes = torch.zeros(len(moves), 17, 9, 9)
    for i, a in enumerate(moves.tolist()):
        if a < 81:
            planes[i, 0, a // 9, a % 9] = 1.0  # a stone on the move's point
    mask = torch.zeros(len(moves), 82, dtype=torch.bool)
    mask[torch.arange(len(moves)), moves] = True
    turned, turned_mask, turned_moves = turn_batch(planes, mask, moves, k)
    for i in range(len(moves) - 1):
        assert int(turned[i, 0].flatten().argmax()) == int(turned_moves[i])
    assert int(turned_moves[-1]) == 81  # pass stays pass
    assert bool(turned_mask[torch.arange(len(moves)), turned_moves].all())


def test_the_teacher_learns_the_engine_moves_under_random_symmetries(tmp_path: Path) -> None:
    for i in range(4):
        write_game(tmp_path, f"game-{i:06d}.sgf", MOVES, "B+0.5" if i % 2 else "W+0.5", random_moves=0)
    pos, moves, results, _ = corpus_positions(tmp_path)
    torch.manual_seed(0)
    untrained = train_teacher(pos, moves, results, steps=1, batch=8, lr=1e-9, seed=0, augment=True)
    trained = train_teacher(pos, moves, results, steps=80, batch=8, lr=3e-3, seed=0, augment=True)

    def accuracy(net: torch.nn.Module) -> float:
        return float((outputs_on(net, pos)[0].argmax(-1) == moves).float().mean())

    assert accuracy(trained) >= 0.6 > 0.2 > accuracy(untrained)


def test_student_specs_name_shape_expansion_excitation_and_temperature() -> None:
    from benchmarks.student_sweep import parse_student

    s = parse_student("b12c32-e6-se-t2")
    assert s.config.size() == (12, 32) and s.config.expand == 6 and s.config.se and s.temperature == 2.0
    plain = parse_student("b6c48")
    assert plain.config.expand == 4 and not plain.config.se and plain.temperature == 1.0
    tuned = parse_student("b6c48-t2-h0.5-a1-lr0.006")
    assert (tuned.temperature, tuned.hard_weight, tuned.augment, tuned.lr) == (2.0, 0.5, 1, 0.006)
    assert (plain.hard_weight, plain.augment, plain.lr) == (0.0, None, None)  # None: the run's setting
    own = parse_student("b6c48-t2-r60-g5")
    assert (own.raw, own.search, plain.raw, plain.search) == (60, 5, 0, 0)
    assert parse_student("b6c48-k5-se").config.kernel_size == 5 and plain.config.kernel_size == 3
    assert parse_student("b6c48-k5-p16-t2").config.policy_channels == 16 and plain.config.policy_channels == 2
    for bad in ("b6", "b0c8", "b6c48-x", "mobilenet", "b6c48-t0", "b6c48-a0", "b6c48-a9", "b6c48-lr0", "b6c48-k4",
                "b6c48-p0"):
        with pytest.raises(ValueError, match="expected bBcC"):
            parse_student(bad)


def sweep_folders(tmp_path: Path) -> tuple[Path, Path]:
    """(corpus, save): four corpus games and a nets_speed.py --save folder with a tiny teacher of them."""
    import json

    from agents.compress.positions import save_positions
    from agents.nets import NetConfig, build_net
    from agents.nets.checkpoint import save_net

    corpus, save = tmp_path / "corpus", tmp_path / "save"
    corpus.mkdir()
    save.mkdir()
    for i in range(4):
        write_game(corpus, f"game-{i:06d}.sgf", MOVES, "B+0.5", random_moves=0)
    pos, _, _, _ = corpus_positions(corpus)
    torch.manual_seed(0)
    save_net(build_net(NetConfig(kind="resnet", blocks=1, channels=8), 17, 9, 82).eval(), save / "teacher.pt")
    for name in ("test.npz", "raw_test.npz"):
        save_positions(save / name, pos.planes.numpy(), pos.mask.numpy())
    settings = {"distill_from": "corpus", "held_out": 0.25, "distill": 16, "seed": 0, "augment": 2,
                "distill_batch": 8, "distill_lr": 3e-3}
    (save / "rows.json").write_text(json.dumps({"args": settings}))
    return corpus, save


def test_the_student_sweep_distils_each_student_once_and_writes_its_table(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from agents.compress import agreement
    from agents.compress.positions import load_positions
    from agents.nets import NetConfig, build_net
    from agents.nets.checkpoint import load_net, save_net
    from benchmarks import student_sweep

    corpus, save = sweep_folders(tmp_path)
    out = tmp_path / "students.md"
    argv = ["student_sweep.py", "--save", str(save), "--corpus", str(corpus), "--students", "b1c8,b2c8-se-t2",
            "--steps", "4", "--out", str(out)]
    monkeypatch.setattr("sys.argv", argv[:6] + ["b1c8,b2c8-se-t2,b1c8-a1-h1-lr0.01"] + argv[7:])
    student_sweep.main()
    results = json.loads((save / "students.json").read_text())
    assert set(results) == {"b1c8/4", "b2c8-se-t2/4", "b1c8-a1-h1-lr0.01/4"}
    assert results["b2c8-se-t2/4"]["temperature"] == 2.0 and results["b1c8/4"]["steps"] == 4
    tuned = results.pop("b1c8-a1-h1-lr0.01/4")
    assert (tuned["augment"], tuned["hard_weight"], tuned["lr"]) == (1, 1.0, 0.01)
    assert (results["b1c8/4"]["augment"], results["b1c8/4"]["lr"]) == (2, 3e-3)  # the run's settings
    assert "| mobilenet b1c8-a1-h1-lr0.01 |" in out.read_text()
    (save / "students.json").write_text(json.dumps(results))
    monkeypatch.setattr("sys.argv", argv)
    assert results["b2c8-se-t2/4"]["macs"] > results["b1c8/4"]["macs"]
    teacher, test = load_net(save / "teacher.pt").eval(), load_positions(save / "test.npz")
    for r in results.values():  # each figure is its saved student's agreement with the teacher, measured again
        a = agreement(teacher, load_net(save / f"student-{r['name']}-4.pt").eval(), test)
        assert (r["top1"], r["kl"], r["value_mae"]) == pytest.approx((a.top1, a.kl, a.value_mae), rel=1e-5), r
    assert "| mobilenet b1c8 |" in out.read_text() and "| mobilenet b2c8-se-t2 |" in out.read_text()
    capsys.readouterr()
    out.write_text(out.read_text() + "\n## Reading the table\n\nWritten by hand.\n")
    student_sweep.main()  # both done: nothing is distilled again; the written reading stays
    assert "teacher outputs" not in capsys.readouterr().out
    assert out.read_text().endswith("\n## Reading the table\n\nWritten by hand.\n")
    torch.manual_seed(1)  # a new teacher in the folder: its students are distilled afresh
    save_net(build_net(NetConfig(kind="resnet", blocks=1, channels=8), 17, 9, 82).eval(), save / "teacher.pt")
    monkeypatch.setattr("sys.argv", argv[:6] + ["b1c8"] + argv[7:])
    student_sweep.main()
    assert "teacher outputs" in capsys.readouterr().out
    assert set(json.loads((save / "students.json").read_text())) == {"b1c8/4"}
    monkeypatch.setattr("sys.argv", argv[:6] + ["b1c8"] + argv[7:8] + ["6"] + argv[9:])
    student_sweep.main()  # the same student for longer is a row of its own
    results = json.loads((save / "students.json").read_text())
    assert set(results) == {"b1c8/4", "b1c8/6"} and results["b1c8/6"]["steps"] == 6
    assert not list(save.glob("*.state.pt"))  # finished runs leave no resumable state behind
    assert load_net(save / "student-b1c8-6.pt").cfg.blocks == 1  # the student itself, for nets_strength.py etc.
    assert "--students b1c8 --steps 4" in out.read_text() and "--students b1c8 --steps 6" in out.read_text()


def test_a_student_can_learn_on_the_teachers_own_games_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from agents.compress.positions import load_positions
    from benchmarks import student_sweep

    corpus, save = sweep_folders(tmp_path)
    argv = ["student_sweep.py", "--save", str(save), "--corpus", str(corpus), "--students", "b1c8-r1,b1c8",
            "--steps", "2", "--out", str(tmp_path / "students.md")]
    monkeypatch.setattr("sys.argv", argv)
    student_sweep.main()
    results = json.loads((save / "students.json").read_text())
    own = load_positions(save / "distill-raw-1.npz")  # kept for the next student that asks for them
    assert len(own) == 1000 and own.mask.any(1).all()
    corpus_share = results["b1c8/2"]["positions"]
    assert results["b1c8-r1/2"]["positions"] == corpus_share + 2 * 1000  # before the 2 symmetric copies
    assert results["b1c8-r1/2"]["raw"] == 1 and results["b1c8/2"]["raw"] == 0


def test_an_interrupted_student_sweep_says_how_to_resume(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import os
    import signal

    from benchmarks import student_sweep

    corpus, save = sweep_folders(tmp_path)
    argv = ["student_sweep.py", "--save", str(save), "--corpus", str(corpus), "--students", "b1c8", "--steps", "6",
            "--out", str(tmp_path / "students.md")]
    monkeypatch.setattr("sys.argv", argv)
    progress = student_sweep.DistillProgress.__call__

    def interrupt_at_2(self: object, step: int, loss: float) -> None:
        progress(self, step, loss)
        if step == 2:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(student_sweep.DistillProgress, "__call__", interrupt_at_2)
    with pytest.raises(SystemExit) as stop:
        student_sweep.main()
    assert stop.value.code == 130
    err = capsys.readouterr().err
    assert "interrupted: b1c8 saved at step 2 of 6" in err and "run the same command to resume" in err
    assert len(list(save.glob("student-b1c8-6-*.state.pt"))) == 1 and not (save / "students.json").exists()
    monkeypatch.setattr(student_sweep.DistillProgress, "__call__", progress)
    student_sweep.main()
    out = capsys.readouterr().out
    assert "distill step 3/6" in out and "distill step 1/6" not in out  # resumed after the saved step
    assert not list(save.glob("*.state.pt"))


def test_the_student_sweep_without_a_benchmark_folder_says_what_to_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import student_sweep

    monkeypatch.setattr("sys.argv", ["student_sweep.py", "--save", str(tmp_path), "--corpus", str(tmp_path),
                                     "--students", "b6c48"])
    with pytest.raises(SystemExit):
        student_sweep.main()
    assert "has no rows.json and teacher.pt; run benchmarks/nets_speed.py" in capsys.readouterr().err
    monkeypatch.setattr("sys.argv", ["student_sweep.py", "--save", str(tmp_path), "--corpus", str(tmp_path),
                                     "--students", "b6c48-q"])
    with pytest.raises(SystemExit):
        student_sweep.main()
    assert "bad student 'b6c48-q'" in capsys.readouterr().err


def test_remeasure_can_put_a_swept_student_in_the_nets_table(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``nets_speed.py --remeasure DIR --student-from NAME/STEPS``: the student rows are that student of the sweep
    (its net becomes DIR/student.pt, where nets_strength.py looks), the report says where it comes from, and an
    unknown key names the valid ones and leaves the folder as it was."""
    import json

    from agents.nets import NetConfig, build_net
    from agents.nets.checkpoint import load_net, save_net
    from benchmarks import nets_speed
    from zoo.errors import UserError

    _, save = sweep_folders(tmp_path)
    (save / "calibration.npz").write_bytes((save / "test.npz").read_bytes())
    tiny = NetConfig(kind="resnet", blocks=1, channels=8)
    for key in ("pruned50", "pruned80", "channels50"):
        save_net(build_net(tiny, 17, 9, 82).eval(), save / f"{key}.pt")
    save_net(build_net(NetConfig(kind="mobilenet", blocks=1, channels=8), 17, 9, 82).eval(), save / "student.pt")
    swept = build_net(NetConfig(kind="mobilenet", blocks=2, channels=8, kernel_size=5), 17, 9, 82).eval()
    save_net(swept, save / "student-b2c8-k5-t2-30.pt")
    record = {"name": "b2c8-k5-t2", "steps": 30, "steps_per_s": 3.0, "threads": 2, "augment": 2, "lr": 0.006,
              "temperature": 2.0, "raw": 0, "search": 20}
    (save / "students.json").write_text(json.dumps({"b2c8-k5-t2/30": record}))
    run = json.loads((save / "rows.json").read_text())
    run["args"].update(student="b1c8", threads=1, recalibrate=16, finetune_steps=2, distill_steps=1,
                       temperature=1.0, corpus="corpus")
    run.update(info={"teacher": "a tiny teacher", "peak": 0.5, "positions": "a few"}, sparsity={"0.5": 0.5, "0.8": 0.8},
               loss=[3.0, 2.9], torch="test", times={"total": 60.0, "positions": 30.0, "pruning": 20.0,
                                                   "distillation": 10.0})
    (save / "rows.json").write_text(json.dumps(run))
    seen = {}

    def fake_rows(nets, teacher, student, preset, test, raw, calibration):  # noqa: ANN001, ANN202
        seen["student"], seen["preset"] = student, preset
        names = [*nets, "resnet b6c64 int8", f"mobilenet {preset} student int8"]
        return [{"net": n, "params": 1, "macs": 4 if i else 12, "b1": 1.0, "b256": 1.0, "x256": 1.0 + i,
                 "top1": 0.9, "value_mae": 0.1} for i, n in enumerate(names)]

    monkeypatch.setattr(nets_speed, "measure_rows", fake_rows)
    out = tmp_path / "reports" / "nets.md"  # --out may name a folder that does not exist yet
    before = (save / "student.pt").read_bytes()
    with pytest.raises(UserError, match=r"no student 'b9c9/1' .*valid: b2c8-k5-t2/30"):
        nets_speed.remeasure(save, out, 1, "b9c9/1")
    assert (save / "student.pt").read_bytes() == before and not out.exists()
    nets_speed.remeasure(save, out, 1, "b2c8-k5-t2/30")
    assert seen["preset"] == "b2c8-k5-t2" and seen["student"].cfg.kernel_size == 5
    assert load_net(save / "student.pt").cfg.blocks == 2  # nets_strength.py plays the swept student
    report = out.read_text()
    assert "| mobilenet b2c8-k5-t2 student fp32 |" in report and "| mobilenet b2c8-k5-t2 student int8 |" in report
    assert "the best student of `benchmarks/student_sweep.py`" in report and "for 30 steps" in report
    assert "positions and 20,000 positions of the teacher's own search games" in report
    assert "--remeasure " + str(save) + " --threads 1 --student-from b2c8-k5-t2/30" in report
    kept = json.loads((save / "rows.json").read_text())
    assert kept["student_sweep"]["name"] == "b2c8-k5-t2" and kept["student"] == "b2c8-k5-t2"
    assert kept["args"]["student"] == "b1c8" and "--student b1c8 " in report  # the command that was run


def test_an_unknown_student_preset_stops_the_benchmark_before_it_trains(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A sweep spec is not a preset of the run's own student: one line naming the valid presets, before the
    corpus is read or a teacher trained."""
    from benchmarks import nets_speed

    def no_corpus(folder):  # noqa: ANN001, ANN202
        raise AssertionError("read the corpus before checking --student")

    monkeypatch.setattr(nets_speed, "corpus_positions", no_corpus)
    monkeypatch.setattr("sys.argv", ["nets_speed.py", "--corpus", str(tmp_path), "--student", "b6c48-t2-lr0.006",
                                     "--save", str(tmp_path / "run")])
    with pytest.raises(SystemExit) as stop:
        nets_speed.main()
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "unknown --student 'b6c48-t2-lr0.006'; valid mobilenet presets: b4c32, b6c48" in err
    assert "--student-from" in err and not (tmp_path / "run").exists()


def test_a_teacher_of_the_same_settings_is_reused_instead_of_trained_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``nets_speed.py --corpus C --save DIR`` keeps its teacher with its settings; a second run with the same
    settings loads it (a run stopped after the teacher loses nothing), and any other setting trains a new one."""
    import argparse
    import json

    from agents.nets import NetConfig, build_net
    from benchmarks import nets_speed
    from zoo.pipelines import teacher as go_teacher

    calls = []

    def fake_train(*a, **k):  # noqa: ANN002, ANN003, ANN202
        calls.append(a[3])
        return build_net(NetConfig(kind="resnet", blocks=1, channels=4 + len(calls)), 17, 9, 82).eval()

    monkeypatch.setattr(go_teacher, "train_teacher", fake_train)
    args = argparse.Namespace(corpus=str(tmp_path), held_out=0.05, seed=0, teacher_steps=3, teacher_batch=8,
                              teacher_lr=0.002, teacher_value_weight=0.25)
    folder = tmp_path / "run"
    folder.mkdir()
    first = go_teacher.corpus_teacher(nets_speed.teacher_recipe(args), folder, None, None, None)
    kept = json.loads((folder / "teacher.json").read_text())  # the settings' keys in their order
    assert list(kept.items()) == [("corpus", str(tmp_path.resolve())), ("held_out", 0.05), ("seed", 0),
                                  ("teacher_steps", 3), ("teacher_batch", 8), ("teacher_lr", 0.002),
                                  ("teacher_value_weight", 0.25)]
    again = go_teacher.corpus_teacher(nets_speed.teacher_recipe(args), folder, None, None, None)
    assert calls == [3] and again.cfg.channels == first.cfg.channels == 5
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), again.state_dict().values(),
                                                 strict=True))
    args.teacher_steps = 4
    other = go_teacher.corpus_teacher(nets_speed.teacher_recipe(args), folder, None, None, None)
    assert calls == [3, 4] and other.cfg.channels == 6
    assert go_teacher.corpus_teacher(nets_speed.teacher_recipe(args), folder, None, None, None).cfg.channels == 6
