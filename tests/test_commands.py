"""The commands keep their word: options they accept do what they say or are refused in one line, errors name
what the user typed, output is for people (``agents.compress``, ``zoo.play_go``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.compress import __main__ as compress_cli
from envs.go.game import GoGame
from zoo.play import go_eval
from zoo.play.players import make_player


def test_compress_help_lists_the_keys_of_every_command(capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for argv in (["--help"], ["quantize", "--help"], ["-h"]):
        monkeypatch.setattr("sys.argv", ["python -m agents.compress", *argv])
        with pytest.raises(SystemExit) as info:
            compress_cli.main()
        assert info.value.code == 0
        out = capsys.readouterr().out
        assert "python -m agents.compress quantize net=CKPT" in out
        assert "quantize: net, positions, seed, threads, count, method" in out


@pytest.mark.parametrize("argv,message", [
    (["quantize", "net=x", "out=q.pt"], "quantize does not take 'out'"),
    (["quantize", "net=x", "int8=true"], "quantize does not take 'int8'"),
    (["quantize", "net=x", "amount=0.5"], "quantize does not take 'amount'"),
    (["prune", "net=x", "student=mlp"], "prune does not take 'student'"),
    (["prune", "net=x", "int8=true"], "prune does not take 'int8'"),
    (["export", "net=x", "steps=10"], "export does not take 'steps'"),
    (["distill", "net=x", "refresh=3"], "distill does not take 'refresh'"),
    (["prune", "teacher=x"], "prune does not take 'teacher'"),
    (["quantize", "net=x", "method=prune"], "quantize method='prune'; valid: int8, int8_dynamic, qat"),
    (["export", "net=x", "int8=yes"], "int8 must be true or false"),
    (["prune", "net=x", "colour=red"], "unknown key 'colour'"),
    ([], "give a command: distill, prune, quantize, export"),
])
def test_compress_refuses_a_key_its_command_would_ignore(argv: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        compress_cli.parse(argv)
    command = argv[0] if argv else None
    assert "\n" not in str(info.value)
    if command and "does not take" in message:
        assert f"{command} takes: {', '.join(compress_cli.command_keys(command))}" in str(info.value)


def test_compress_quantize_out_says_where_a_quantized_file_comes_from() -> None:
    with pytest.raises(ValueError, match="export net=CKPT out=FILE.onnx int8=true"):
        compress_cli.parse(["quantize", "net=x", "out=q.pt"])


def test_every_key_a_compress_command_takes_is_parsed() -> None:
    import dataclasses

    from agents.compress import CompressConfig

    fields = {f.name: f for f in dataclasses.fields(CompressConfig)}
    samples = {"steps": "3", "batch_size": "8", "lr": "0.01", "student": "mlp", "student_preset": "b2c16",
               "temperature": "1.5", "value_weight": "0.5", "amount": "0.3", "structure": "channels",
               "scope": "layer", "rounds": "2", "method": "bf16", "compile": "false", "keep_fp32": "",
               "calibration_batches": "2", "int8": "true"}
    for command in compress_cli.COMMANDS:
        argv = [command, *(f"{k}={samples.get(k, 'x')}" for k in compress_cli.command_keys(command))]
        name, own, cfg = compress_cli.parse(argv)
        assert name == command and own["net"] == "x"
        for key in compress_cli.COMMAND_FIELDS[command]:
            assert getattr(cfg, key) == compress_cli._convert(fields[key], samples[key]), (command, key)


def test_play_go_names_the_missing_checkpoint_by_its_flag(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no-such-run"
    with pytest.raises(SystemExit) as info:
        go_eval.main(["--checkpoint", str(missing), "--games", "2"])
    assert info.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"--checkpoint {missing}: no such checkpoint file or run directory" in last and "resume=" not in last


def test_play_go_prints_a_line_for_people(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    game = GoGame(5, komi=24.0)
    monkeypatch.setattr(go_eval, "load_zero_player", lambda *a, **k: (make_player("capture", 1), game))
    go_eval.main(["--checkpoint", "stand-in", "--opponent", "random", "--games", "2"])
    out = capsys.readouterr().out.strip()
    assert out.startswith("zero vs random on 5x5, komi 24: ") and "95% CI" in out and "GoGame(" not in out


@pytest.mark.parametrize("argv,message", [
    (["--checkpoint", "x", "--games", "0"], "--games and --simulations must be >= 1 (got 0, None)"),
    (["--checkpoint", "x", "--simulations", "0"], "--games and --simulations must be >= 1 (got 100, 0)"),
])
def test_play_go_refuses_counts_it_cannot_play(argv: list[str], message: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        go_eval.main(argv)
    assert info.value.code == 2 and message in capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize("argv,message", [
    (["--engine", "myengine --gtp", "--level", "5"], "--level sets GNU Go's level; --engine 'myengine --gtp'"),
    (["--level", "11"], "--level must be in 0..10"),
    (["--random-moves", "-1"], "--random-moves must be >= 0"),
])
def test_corpus_refuses_options_it_would_ignore(argv: list[str], message: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from zoo.pipelines.corpus import main

    with pytest.raises(SystemExit) as info:
        main(["--out", str(tmp_path / "c"), "--games", "1", *argv])
    assert info.value.code == 2 and message in capsys.readouterr().err.strip().splitlines()[-1]
    assert not (tmp_path / "c").exists()
