"""The shipped agents (pretrained/, zoo/reporting/pretrained.py): every card's file is the one its results were
measured with; each Go net beats random under the arena's match protocol; the other agents reach their card's
return; ``pretrained:NAME`` works wherever a checkpoint path does; and every mistake is one line that names what is
valid."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, subprocess_env, train_cmd

import pretrained
from zoo.errors import CheckpointError, UserError
from zoo.play.arena_specs import arena_history, resolve_specs
from zoo.play.matches import pairings, play_match, schedule
from zoo.play.openings import default_opening
from zoo.reporting.pretrained import evaluate_card, listing, render_all
from zoo.run.checkpoint import resolve_resume

GO_NETS = {"go5": (5, 32), "go5-alphago": (5, 256), "go7-30min": (7, 64), "go7": (7, 64), "go9": (9, 16)}
"""Shipped Go nets: board size and the simulations they search with in the test matches."""
SMALL = ("cliff-q", "frozenlake8-q", "cartpole-ppo", "cartpole-dqn")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zoo.pretrained", *args], cwd=ROOT, env=subprocess_env(),
                          capture_output=True, text=True, timeout=300)


def test_the_registry_holds_the_shipped_agents_and_no_placeholder() -> None:
    assert set(pretrained.names()) == {*GO_NETS, *SMALL}
    for name in pretrained.names():
        card = pretrained.card(name)
        assert pretrained.resolve(f"pretrained:{name}") == pretrained.ROOT / card["file"]
        assert ("matches" in card) == (name in GO_NETS) and ("evaluation" in card) == (name in SMALL)
        for match in card.get("matches", []):  # every Go result points at its committed games
            assert (ROOT / match["archive"]).is_file() and match["games"] == 100, (name, match)


def test_every_card_markdown_is_rendered_from_its_json() -> None:
    assert render_all(write=False) == []


def test_unknown_names_are_one_line_listing_the_valid_ones(tmp_path: Path) -> None:
    valid = ", ".join(f"pretrained:{n}" for n in pretrained.names())
    for spec in ("pretrained:NOPE", "pretrained:go11", "pretrained:", "pretrained:../go5"):
        with pytest.raises(pretrained.PretrainedError) as info:
            pretrained.resolve(spec)
        assert str(info.value).endswith(f"; valid: {valid}") and "\n" not in str(info.value)
    with pytest.raises(CheckpointError, match=r"^--checkpoint pretrained:NOPE: no such pretrained agent; valid: .*go7"):
        resolve_resume("pretrained:NOPE", option="--checkpoint ")
    with pytest.raises(UserError, match=r"player 'pretrained:NOPE@sims=8': pretrained:NOPE: no such pretrained agent; "
                                        r"valid: "):
        resolve_specs(["pretrained:NOPE@sims=8", "random"], 7, 9.0)
    done = run_cli("show", "go11")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"error: pretrained:go11: no such pretrained agent; valid: {valid}\n"


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_damaged_copy_is_refused_naming_the_file_and_its_expected_hash(tmp_path: Path, damage: str,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    card = pretrained.card("go5")
    shutil.copy(pretrained.ROOT / "go5.json", tmp_path / "go5.json")
    data = bytearray((pretrained.ROOT / card["file"]).read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0x01
    else:
        data = data[: len(data) - 100]
    (tmp_path / card["file"]).write_bytes(bytes(data))
    with pytest.raises(pretrained.PretrainedError) as info:
        pretrained.resolve("pretrained:go5", root=tmp_path)
    message = str(info.value)
    assert "\n" not in message and message.startswith("pretrained:go5: file ")
    assert str(tmp_path / card["file"]) in message and f"expected {card['sha256']}" in message
    assert ("truncated" in message) == (damage == "truncate")
    monkeypatch.setattr(pretrained, "ROOT", tmp_path)  # every loader goes through the same check
    with pytest.raises(CheckpointError, match=f"expected {card['sha256']}"):
        resolve_resume("pretrained:go5")


def test_the_listing_prints_every_agent_with_its_strength_size_and_hash() -> None:
    done = run_cli()
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == listing()
    for name in pretrained.names():
        card = pretrained.card(name)
        line = next(line for line in done.stdout.splitlines() if line.startswith(f"{name} "))
        assert card["env"] in line and card["algorithm"] in line and card["sha256"][:12] in line
        assert card["strength"] in done.stdout
    shown = run_cli("show", "go7")
    assert shown.returncode == 0 and pretrained.card("go7")["sha256"] in shown.stdout
    assert "reports/games/go7-zero2h-vs-gnugo.tar.gz" in shown.stdout and "43/100" in shown.stdout


def go_match(name: str, games: int) -> dict:
    """``games`` games of the shipped net ``name`` against ``random`` under the arena's protocol (openings, colours
    alternating, seeded); the tally row of the net."""
    size, sims = GO_NETS[name]
    komi = {5: 24.0, 7: 9.0}.get(size, 7.5)
    specs = resolve_specs([f"pretrained:{name}@sims={sims}", "random"], size, komi)
    jobs = schedule(pairings(specs), games, size, komi, seed=7,
                    history=arena_history(specs), max_moves=2 * size * size, opening=default_opening(size))
    _, tally, _ = play_match(jobs, 1, progress=False)
    (row,) = tally.rows()
    return row


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n == "go9" else n for n in GO_NETS])
# 3-12 s each on one core of a loaded machine; go9 (ten 9x9 games of a 10-block net) takes about 150 s
def test_each_go_net_beats_random_from_varied_openings(name: str) -> None:
    row = go_match(name, 10)
    assert row["player"] == f"pretrained:{name}@simulations={GO_NETS[name][1]}"
    assert row["games"] == 10 and row["black"][1] == row["white"][1] == 5
    assert row["distinct"] >= 9, row
    assert row["points"] >= 9, row


def test_a_go_net_on_another_board_names_both_sizes() -> None:
    with pytest.raises(UserError, match=r"the checkpoint plays 7x7 Go; the arena board is 9x9$"):
        resolve_specs(["pretrained:go7", "random"], 9, 7.5)
    gtp = subprocess.run([sys.executable, "-m", "zoo.gtp", "--checkpoint", "pretrained:go5"], cwd=ROOT,
                         env=subprocess_env(), input="boardsize 9\nboardsize 5\nquit\n", capture_output=True,
                         text=True, timeout=120)
    assert gtp.stdout.startswith("? unacceptable size: 9x9; this player plays 5x5 only\n\n=")


@pytest.mark.parametrize("name,episodes,tolerance", [("cliff-q", 5, 0.0), ("frozenlake8-q", 300, 0.08),
                                                     ("cartpole-ppo", 3, 25.0)])
def test_a_small_agent_reaches_its_cards_return(name: str, episodes: int, tolerance: float) -> None:
    said = pretrained.card(name)["evaluation"]
    got = evaluate_card(name, episodes, seed=1)
    assert abs(got["eval/return_mean"] - said["return_mean"]) <= tolerance, (got, said)


def test_evaluation_of_a_go_net_points_to_the_arena() -> None:
    with pytest.raises(UserError, match=r"pretrained:go5 plays Go: .*python -m zoo.arena"):
        evaluate_card("go5", 1, 0)


def test_resume_continues_training_from_a_shipped_agent(tmp_path: Path) -> None:
    done = subprocess.run(train_cmd("env=cliff", "agent=q", "resume=pretrained:cliff-q", "steps=100500",
                                    "logger=none", "progress=false", f"hydra.run.dir={tmp_path / 'run'}"),
                          cwd=tmp_path, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert 100_500 <= summary["env_steps"] < 101_000  # continued from the card's 100,008 steps
    assert summary["eval/return_mean"] == -13.0
    assert not list(pretrained.ROOT.glob("checkpoints"))  # nothing written beside the shipped files


def test_resume_of_a_net_that_predates_todays_defaults_names_the_settings_to_pass(tmp_path: Path) -> None:
    common = ("env=go7", "agent=zero", "agent.search=puct", "agent.simulations=8", "resume=pretrained:go7",
              "logger=none", "progress=false", "eval.episodes=2", "agent.best_games=0", "agent.games=4")
    done = subprocess.run(train_cmd(*common, "steps=327680", f"hydra.run.dir={tmp_path / 'a'}"), cwd=tmp_path,
                          env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "does not fit this agent" in done.stderr
    assert "agent.net_global_pool=True (was False: the checkpoint predates the setting)" in done.stderr
    # the card's command passes them, and continues the run
    card = json.loads((pretrained.ROOT / "go7.json").read_text())
    train_on = next(line for line in card["use"] if "resume=pretrained:go7" in line)
    for setting in ("agent.ownership_weight=0", "agent.score_weight=0", "agent.net_global_pool=false"):
        assert setting in train_on
    done = subprocess.run(train_cmd(*common, "agent.ownership_weight=0", "agent.score_weight=0",
                                    "agent.net_global_pool=false", "steps=327681", f"hydra.run.dir={tmp_path / 'b'}"),
                          cwd=tmp_path, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads((tmp_path / "b" / "summary.json").read_text())["env_steps"] >= 327_681


def test_compression_reads_a_shipped_net_without_importing_zoo() -> None:
    code = ("import sys; from agents.compress.source import load_source; s = load_source('pretrained:go5'); "
            "print(s.path.name, s.description); assert not any(m == 'zoo' or m.startswith('zoo.') for m in "
            "sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=subprocess_env(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("go5-zero-13min.pt zero run checkpoint at 160256 steps, resnet b2c32")
    bad = subprocess.run([sys.executable, "-m", "agents.compress", "quantize", "net=pretrained:NOPE"], cwd=ROOT,
                         env=subprocess_env(), capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("error: pretrained:NOPE: no such pretrained agent; valid: ")
