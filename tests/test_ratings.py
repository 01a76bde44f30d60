"""Bradley-Terry Elo fit, anchoring, intervals, the ladder file, and SPRT (zoo/play/ratings.py), on synthetic games."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from zoo.errors import UserError
from zoo.play.ratings import GameResult, Ladder, fit_ratings, format_table, sprt

TRUE = {"gnugo": 1500.0, "a": 1250.0, "b": 1700.0, "c": 1000.0}


def synthetic(true: dict[str, float], per_pair: int, rng: np.random.Generator, black_adv: float = 0.0
              ) -> list[GameResult]:
    """Round-robin with colours alternating; black wins with the Bradley-Terry probability (plus black_adv Elo)."""
    names, games = list(true), []
    for i, x in enumerate(names):
        for y in names[i + 1:]:
            for k in range(per_pair):
                black, white = (x, y) if k % 2 == 0 else (y, x)
                p = 1 / (1 + 10 ** (-(true[black] - true[white] + black_adv) / 400))
                games.append(GameResult(black, white, float(rng.random() < p)))
    return games


def test_fit_recovers_known_strengths_and_colour_advantage() -> None:
    games = synthetic(TRUE, 400, np.random.default_rng(1), black_adv=-80.0)
    ratings = fit_ratings(games)
    assert ratings.anchor == "gnugo" and ratings["gnugo"].elo == 1500.0
    for name, elo in TRUE.items():
        assert abs(ratings[name].elo - elo) < 40, (name, ratings[name].elo)
    assert [r.name for r in ratings.ratings] == ["b", "gnugo", "a", "c"]
    assert abs(ratings.colour_advantage + 80) < 30
    lo, hi = ratings.colour_interval
    assert lo < -80 < hi


def test_intervals_cover_the_true_ratings() -> None:
    rng = np.random.default_rng(1)
    true = {"gnugo": 1500.0, "x": 1400.0, "y": 1650.0}
    covered = total = 0
    for _ in range(80):
        ratings = fit_ratings(synthetic(true, 60, rng))
        for name in ("x", "y"):
            r = ratings[name]
            covered += r.lo <= true[name] <= r.hi
            total += 1
    assert 0.85 <= covered / total <= 1.0


def test_anchor_is_fixed_and_moves_the_whole_scale() -> None:
    games = synthetic(TRUE, 40, np.random.default_rng(2))
    base = fit_ratings(games)
    shifted = fit_ratings(games, anchor_elo=2000.0)
    assert shifted["gnugo"].elo == 2000.0 and shifted["gnugo"].lo == shifted["gnugo"].hi == 2000.0
    for name in TRUE:
        assert shifted[name].elo - base[name].elo == pytest.approx(500.0)
    other = fit_ratings(games, anchor="a", anchor_elo=0.0)
    assert other["a"].elo == 0.0
    assert other["b"].elo - other["gnugo"].elo == pytest.approx(base["b"].elo - base["gnugo"].elo, abs=1e-3)
    absent = fit_ratings([GameResult("p", "q", 1.0), GameResult("q", "p", 0.5)], anchor="gnugo")
    assert absent.anchor == "p" and absent["p"].elo == 1500.0
    assert "anchor p = 1500" in format_table(absent)


def test_a_player_who_won_every_game_gets_a_finite_rating() -> None:
    games = [GameResult("gnugo", "random", 1.0), GameResult("random", "gnugo", 0.0)] * 20
    ratings = fit_ratings(games)
    assert np.isfinite(ratings["random"].elo) and ratings["random"].elo < 1000
    assert np.isfinite(ratings["random"].lo) and ratings["random"].lo < ratings["random"].elo


def test_players_no_games_link_to_the_anchor_are_listed_last_and_unrated() -> None:
    games = synthetic(TRUE, 20, np.random.default_rng(3))
    games += [GameResult("x", "random", 1.0), GameResult("random", "x", 0.0)] * 10  # an island: x beat random 20/20
    ratings = fit_ratings(games)
    assert [r.name for r in ratings.ratings][-2:] == ["x", "random"]
    assert not ratings["x"].linked and ratings["x"].lo == -np.inf and ratings["x"].hi == np.inf
    assert all(r.linked for r in ratings.ratings[:-2])
    table = format_table(ratings)
    assert "x" in table and [line.split()[2] for line in table.splitlines()[-3:-1]] == ["unrated", "unrated"]
    assert "no games link it to gnugo" in table
    rows = table.splitlines()[2:-1]  # the columns stay aligned: the score column's % sign at one place on every row
    assert len({line.index("%") for line in rows}) == 1, table


def test_ladder_saves_loads_and_a_new_player_joins_without_replaying(tmp_path: Path) -> None:
    path = tmp_path / "ladder.json"
    ladder = Ladder.load(path)
    for name in TRUE:
        ladder.register(5, 24, name, name)
    old = synthetic(TRUE, 20, np.random.default_rng(3))
    for g in old:
        ladder.add_game(5, 24, {"black": g.black, "white": g.white, "score": g.score, "pair": [g.black, g.white]})
    ladder.save()
    before = Ladder.load(path).ratings(5, 24)

    joined = Ladder.load(path)
    joined.register(5, 24, "new", "mcts:200")
    for k in range(20):
        black, white = ("new", "gnugo") if k % 2 == 0 else ("gnugo", "new")
        joined.add_game(5, 24, {"black": black, "white": white, "score": 1.0 if black == "new" else 0.0})
    joined.save()
    after = Ladder.load(path)
    assert after.games(5, 24)[: len(old)] == old  # old games kept as they were
    assert len(after.games(5, 24)) == len(old) + 20
    ratings = after.ratings(5, 24)
    assert ratings["new"].elo > ratings["gnugo"].elo
    assert set(r.name for r in ratings.ratings) == {*TRUE, "new"}
    assert ratings["b"].elo == pytest.approx(before["b"].elo, abs=60)
    assert after.section(7, 9)["games"] == []  # sections are per board and komi
    with pytest.raises(UserError, match="already stands for"):
        after.register(5, 24, "new", "mcts:1000")


def test_a_file_that_is_not_a_ladder_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UserError, match="cannot be read"):
        Ladder.load(bad)
    bad.write_text(json.dumps({"players": []}))
    with pytest.raises(UserError, match="not a ladder file"):
        Ladder.load(bad)


def _sprt_until_decided(p_win: float, seed: int, elo1: float = 50.0) -> tuple[str | None, int]:
    rng = np.random.default_rng(seed)
    scores: list[float] = []
    for _ in range(20000):
        scores.append(float(rng.random() < p_win))
        result = sprt(scores, 0.0, elo1, 0.05, 0.05)
        if result.decision:
            return result.decision, len(scores)
    return None, len(scores)


def test_sprt_accepts_h1_for_a_clearly_stronger_player_and_h0_for_equals() -> None:
    assert [_sprt_until_decided(0.75, s)[0] for s in range(5)] == ["H1"] * 5
    equal = [_sprt_until_decided(0.5, s)[0] for s in range(10)]
    assert equal.count("H0") >= 9


def test_sprt_refuses_bad_parameters_and_starts_undecided() -> None:
    assert sprt([]).decision is None
    with pytest.raises(ValueError, match="elo0 < elo1"):
        sprt([1.0], 50, 0)
    with pytest.raises(ValueError, match="alpha"):
        sprt([1.0], 0, 50, alpha=0.7)
