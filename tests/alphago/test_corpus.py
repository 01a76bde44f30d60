"""SGF folders into training positions, engine corpora, and the one-line errors of bad corpus input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from envs.go import rollout as R
from envs.go.game import GoGame
from envs.go.sgf import load_sgf, record_from_actions, save_sgf
from zoo.errors import UserError
from zoo.pipelines import corpus as corpus_mod
from zoo.pipelines.corpus import Positions, generate_corpus, load_sgf_folder, positions


def test_folder_to_positions_skips_the_random_opening(priority_corpus: Path, tmp_path: Path) -> None:
    game = GoGame(5, komi=0.5)
    corpus = load_sgf_folder(priority_corpus, 5)
    assert len(corpus.records) == 40 and corpus.skipped == []
    data = positions(corpus.records, game)
    lengths = [len(r.moves) - 2 for r in corpus.records]
    assert len(data) == sum(lengths)
    assert data.planes.shape == (len(data), game.num_planes, 5, 5) and data.planes.dtype == np.uint8
    assert data.features.shape == (len(data), game.num_actions, R.K)
    # The first target of game 0 is its third move, seen from the position after two moves (white to move...).
    first = corpus.records[0].moves[2][1]
    assert data.actions[0] == first and data.game[0] == 0
    # The recorded move is legal there: its features are not all padding.
    assert (data.features[np.arange(len(data)), data.actions, 0] != R.PAD).all()
    data.save(tmp_path / "p.npz")
    again = Positions.load(tmp_path / "p.npz")
    assert np.array_equal(again.features, data.features) and np.array_equal(again.actions, data.actions)


def test_unusable_games_are_skipped_and_named(priority_corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for src in sorted(priority_corpus.glob("*.sgf"))[:3]:
        (folder / src.name).write_bytes(src.read_bytes())
    (folder / "broken.sgf").write_text("(;FF[4]SZ[5];B[aa", encoding="utf-8")
    save_sgf(folder / "big.sgf", record_from_actions([0, 1], 9))
    corpus = load_sgf_folder(folder, 5)
    assert len(corpus.records) == 3
    assert any("broken.sgf" in s for s in corpus.skipped)
    assert any("big.sgf" in s and "9x9" in s for s in corpus.skipped)


def test_folder_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        load_sgf_folder(tmp_path / "nowhere", 5)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no .sgf files"):
        load_sgf_folder(tmp_path / "empty", 5)
    (tmp_path / "nine").mkdir()
    save_sgf(tmp_path / "nine" / "a.sgf", record_from_actions([0, 1, 2], 9))
    with pytest.raises(UserError, match=r"no usable 5x5 game.*a\.sgf.*board size 9x9") as info:
        load_sgf_folder(tmp_path / "nine", 5)
    assert "\n" not in str(info.value)


def test_missing_engines_name_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("zoo.play.gtp_client.find_gnugo", lambda: None)
    with pytest.raises(UserError, match="apt-get install gnugo"):
        generate_corpus(tmp_path / "c", 1, 5, 0.5, progress=False)
    with pytest.raises(UserError, match="no-such-engine-xyz"):
        generate_corpus(tmp_path / "c", 1, 5, 0.5, engine="no-such-engine-xyz --mode gtp", progress=False)


@pytest.mark.gnugo
def test_gnugo_corpus_is_seeded_per_game_and_resumable(tmp_path: Path) -> None:
    folder = generate_corpus(tmp_path / "c", 2, 5, 0.5, level=0, seed=3, random_moves=1, progress=False)
    games = [load_sgf(p) for p in sorted(folder.glob("*.sgf"))]
    assert len(games) == 2 and all(g.properties["ZR"] == ["1"] for g in games)
    assert games[0].moves != games[1].moves
    first = (folder / "game-000000.sgf").read_text(encoding="utf-8")
    generate_corpus(folder, 3, 5, 0.5, level=0, seed=3, random_moves=1, progress=False)  # keeps the first two
    assert (folder / "game-000000.sgf").read_text(encoding="utf-8") == first
    assert len(list(folder.glob("*.sgf"))) == 3
    assert corpus_mod.RANDOM_MOVES_PROPERTY == "ZR"


@pytest.mark.gnugo
def test_parallel_engines_write_the_same_games(tmp_path: Path) -> None:
    one = generate_corpus(tmp_path / "one", 4, 5, 0.5, level=0, seed=7, random_moves=2, progress=False)
    two = generate_corpus(tmp_path / "two", 4, 5, 0.5, level=0, seed=7, random_moves=2, progress=False, jobs=2)
    names = sorted(p.name for p in one.glob("*.sgf"))
    assert names == sorted(p.name for p in two.glob("*.sgf")) == [f"game-{i:06d}.sgf" for i in range(4)]
    assert [(one / n).read_text(encoding="utf-8") for n in names] == [(two / n).read_text(encoding="utf-8")
                                                                      for n in names]
    assert not list(two.glob(".*.tmp"))
    with pytest.raises(UserError, match="jobs must be >= 1"):
        generate_corpus(tmp_path / "bad", 1, 5, 0.5, progress=False, jobs=0)
