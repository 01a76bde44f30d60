"""Elo ratings from game results: Bradley-Terry maximum likelihood, a persistent ladder file, and SPRT.

**Model** (Bradley-Terry on the Elo scale, with a colour term): black scores against white with probability
``p = 1 / (1 + 10 ** (-(r_black - r_white + h) / 400))``, where ``r`` are the players' ratings and ``h`` is the
advantage of playing black (negative when komi favours white), fitted along. A draw scores 1/2 (a fractional
binomial outcome). Ratings are the maximum of the likelihood times a weak prior: ``prior_draws`` virtual drawn
games (colourless) between every pair of players that met, in the manner of BayesElo, so that a player who won
or lost every game still gets a finite rating (and a normal prior of 1000 Elo sd on ``h``, for when one colour
won every game). The maximum is found by Newton's method (the log-likelihood is
concave).

**Anchor.** The ``anchor`` player (by default ``gnugo``: GNU Go 3.8 at its default level 10) is held fixed at
``anchor_elo`` (default :data:`ANCHOR_ELO` = 1500); when the anchor did not play, the first player of the
results is held fixed instead and the table says so.

**Intervals.** 95% Wald intervals ``r +- 1.96 sd`` from the observed Fisher information (the inverse of the
negative Hessian of the log-posterior at the maximum), with the anchor held fixed: an interval is the
uncertainty of the player's difference to the anchor. A player not connected to the anchor by games gets an
infinite interval, is listed after the connected ones and shows as unrated in the tables.

**Ladder file** (JSON, :class:`Ladder`): per section (board size and komi) the players (display name -> spec) and
every game (black, white, black's score, how it ended, seed). Ratings are refitted from all games, so a new player
joins by playing some games against players already there; old games are never replayed.

**SPRT** (:func:`sprt`): the generalised SPRT on the logistic Elo model (as used by Fishtest): with per-game
scores ``x`` of A against B, mean ``m`` and variance ``v``, and ``s_i = 1 / (1 + 10 ** (-elo_i / 400))``,
``LLR = n (s1 - s0) (2 m - s0 - s1) / (2 v)``. H1 (A is ``elo1`` stronger) is accepted when
``LLR >= log((1 - beta) / alpha)``, H0 (A is only ``elo0`` stronger) when ``LLR <= log(beta / (1 - alpha))``. The
variance counts one virtual win and one virtual loss, so a short run of wins alone does not decide.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import UserError

ANCHOR = "gnugo"
"""Display name of the default anchor: GNU Go 3.8 at its default level (10)."""
ANCHOR_ELO = 1500.0
"""Rating the anchor is held at."""
LADDER_FORMAT = 1
_K = math.log(10.0) / 400.0
_Z95 = 1.959963984540054


@dataclass(frozen=True)
class GameResult:
    """One game: who had black and white, and black's score (1 win, 0.5 draw, 0 loss)."""

    black: str
    white: str
    score: float


@dataclass(frozen=True)
class Rating:
    """A player's rating with its 95% interval, games played and points scored (draws count half)."""

    name: str
    elo: float
    lo: float
    hi: float
    games: int
    points: float
    points_black: float
    games_black: int
    points_white: float
    games_white: int
    linked: bool = True
    """False when no chain of games joins the player to the anchor: its Elo is then only the prior's (shown as
    unrated), and its interval infinite."""


@dataclass
class Ratings:
    """The fitted table, best first; ``colour_advantage`` is black's advantage ``h`` in Elo (with its 95% interval)."""

    ratings: list[Rating]
    anchor: str
    anchor_elo: float
    colour_advantage: float = 0.0
    colour_interval: tuple[float, float] = (0.0, 0.0)

    def __getitem__(self, name: str) -> Rating:
        for r in self.ratings:
            if r.name == name:
                return r
        raise KeyError(name)

    def rows(self) -> list[list[Any]]:
        """Rows of the table: rank, player, Elo, low, high, games, score %, score as black %, score as white %."""
        out = []
        for i, r in enumerate(self.ratings, 1):
            out.append([i, r.name, round(r.elo, 1), round(r.lo, 1), round(r.hi, 1), r.games,
                        _pct(r.points, r.games), _pct(r.points_black, r.games_black),
                        _pct(r.points_white, r.games_white)])
        return out

    COLUMNS = ["rank", "player", "elo", "elo_lo95", "elo_hi95", "games", "score_pct", "black_pct", "white_pct"]


def wilson_interval(points: float, games: int, z: float = _Z95) -> tuple[float, float]:
    """Wilson 95% interval of a score rate ``points / games`` (draws count half); ``(0, 1)`` with no games."""
    if games <= 0:
        return 0.0, 1.0
    n, p = games, points / games
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(max(p * (1 - p), 0.0) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _pct(points: float, games: int) -> float:
    return round(100.0 * points / games, 1) if games else float("nan")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def fit_ratings(games: Iterable[GameResult | tuple[str, str, float]], anchor: str | None = ANCHOR,
                anchor_elo: float = ANCHOR_ELO, prior_draws: float = 1.0, colour: bool = True,
                players: Sequence[str] = ()) -> Ratings:
    """Bradley-Terry Elo ratings of every player in ``games`` (and ``players``); see the module docstring.

    ``colour`` fits black's advantage ``h`` (else ``h = 0``). Raises ``ValueError`` for a score outside [0, 1].
    """
    results = [g if isinstance(g, GameResult) else GameResult(*g) for g in games]
    names: list[str] = list(dict.fromkeys([*players, *(n for g in results for n in (g.black, g.white))]))
    if not names:
        return Ratings([], anchor or ANCHOR, anchor_elo)
    index = {n: i for i, n in enumerate(names)}
    fixed = anchor if anchor in index else names[0]
    b = np.array([index[g.black] for g in results], np.int64)
    w = np.array([index[g.white] for g in results], np.int64)
    s = np.array([g.score for g in results], np.float64)
    if s.size and (s.min() < 0 or s.max() > 1):
        raise ValueError("game scores must lie in [0, 1] (black's score: 1 win, 0.5 draw, 0 loss)")
    pairs = sorted({(min(i, j), max(i, j)) for i, j in zip(b.tolist(), w.tolist(), strict=True) if i != j})
    pa = np.array([p[0] for p in pairs], np.int64)
    pb = np.array([p[1] for p in pairs], np.int64)
    n = len(names)
    free = [i for i in range(n) if names[i] != fixed]
    col = {p: k for k, p in enumerate(free)}
    dim = len(free) + (1 if colour else 0)
    x = np.zeros(dim)  # Elo of the free players relative to the anchor, then h

    def unpack(x: np.ndarray) -> tuple[np.ndarray, float]:
        r = np.zeros(n)
        r[free] = x[: len(free)]
        return r, (x[-1] if colour else 0.0)

    def design(i: np.ndarray, j: np.ndarray, with_h: bool) -> np.ndarray:
        d = np.zeros((i.size, dim))
        for row, (a, c) in enumerate(zip(i.tolist(), j.tolist(), strict=True)):
            if a in col:
                d[row, col[a]] += 1.0
            if c in col:
                d[row, col[c]] -= 1.0
            if with_h:
                d[row, -1] = 1.0
        return d

    d_games, d_prior = design(b, w, colour), design(pa, pb, False)
    connected = _connected(n, b, w, index[fixed])
    # Gaussian priors keep the fit finite where the games cannot: 2000 Elo sd on players cut off from the anchor,
    # 1000 Elo sd on the colour term (one colour winning every game); the rest is the likelihood and the draws.
    ridge_vec = np.array([0.0 if connected[i] else 2000.0**-2 for i in free] + ([1000.0**-2] if colour else []))

    def grad_hess(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g, h = -ridge_vec * x, -np.diag(ridge_vec)
        for d, target, weight in ((d_games, s, 1.0), (d_prior, 0.5, prior_draws)):
            if d.shape[0] == 0 or weight == 0:
                continue
            p = _sigmoid(_K * (d @ x))
            g += weight * _K * d.T @ (target - p)
            h -= weight * _K * _K * (d.T * (p * (1 - p))) @ d
        return g, h

    for _ in range(100):
        g, h = grad_hess(x)
        step = np.linalg.solve(h, -g)
        step = np.clip(step, -400.0, 400.0)
        x = x + step
        if np.max(np.abs(step)) < 1e-6:
            break
    _, h = grad_hess(x)
    cov = np.linalg.inv(-h)
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    r, h_adv = unpack(x)
    r = r + anchor_elo
    sd_r = np.zeros(n)
    sd_r[free] = sd[: len(free)]
    table = []
    for i, name in enumerate(names):
        half = _Z95 * sd_r[i] if connected[i] else math.inf
        as_b, as_w = b == i, w == i
        pts_b, pts_w = float(s[as_b].sum()), float((1 - s[as_w]).sum())
        table.append(Rating(name, float(r[i]), float(r[i] - half), float(r[i] + half),
                            int(as_b.sum() + as_w.sum()), pts_b + pts_w, pts_b, int(as_b.sum()), pts_w,
                            int(as_w.sum()), bool(connected[i])))
    table.sort(key=lambda t: (not t.linked, -t.elo))
    h_half = _Z95 * sd[-1] if colour else 0.0
    return Ratings(table, fixed, anchor_elo, float(h_adv), (float(h_adv - h_half), float(h_adv + h_half)))


def _connected(n: int, b: np.ndarray, w: np.ndarray, start: int) -> np.ndarray:
    adj: list[set[int]] = [set() for _ in range(n)]
    for i, j in zip(b.tolist(), w.tolist(), strict=True):
        adj[i].add(j)
        adj[j].add(i)
    seen = np.zeros(n, bool)
    seen[start] = True
    stack = [start]
    while stack:
        for j in adj[stack.pop()]:
            if not seen[j]:
                seen[j] = True
                stack.append(j)
    return seen


def format_table(ratings: Ratings, title: str = "ratings") -> str:
    """The table as text: one line per player plus black's advantage."""
    lines = [f"{title} (anchor {ratings.anchor} = {ratings.anchor_elo:g}; 95% intervals)",
             f"{'#':>3} {'player':<28} {'Elo':>7} {'95% interval':>18} {'games':>6} {'score':>7} "
             f"{'as black':>9} {'as white':>9}"]
    for row, rating in zip(ratings.rows(), ratings.ratings, strict=True):
        rank, name, _, _, _, games, pct, pb, pw = row
        elo, lo, hi = rating.elo, rating.lo, rating.hi  # unrounded: rows() rounds to one decimal
        interval = "fixed" if name == ratings.anchor else f"{lo:7.0f} .. {hi:7.0f}"
        shown, note = f"{elo:7.0f}", ""
        if not rating.linked:
            shown, interval, note = "unrated", "-", f"  (no games link it to {ratings.anchor})"
        lines.append(f"{rank:>3} {name:<28} {shown} {interval:>18} {games:>6} {pct:6.1f}% {pb:8.1f}% {pw:8.1f}%"
                     f"{note}")
    lo, hi = ratings.colour_interval
    lines.append(f"black's advantage: {ratings.colour_advantage:+.0f} Elo (95% {lo:+.0f} .. {hi:+.0f})")
    return "\n".join(lines)


# -- SPRT ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SprtResult:
    """Log-likelihood ratio after ``games`` games, the two bounds, and the decision (``"H1"``, ``"H0"`` or None)."""

    llr: float
    lower: float
    upper: float
    games: int
    score: float
    decision: str | None


def sprt(scores: Sequence[float], elo0: float = 0.0, elo1: float = 50.0, alpha: float = 0.05,
         beta: float = 0.05) -> SprtResult:
    """GSPRT of H1 "A is ``elo1`` stronger than B" against H0 "A is ``elo0`` stronger" from A's per-game ``scores``.

    See the module docstring. Raises ``ValueError`` unless ``elo0 < elo1`` and ``0 < alpha, beta < 1/2``.
    """
    if not elo0 < elo1:
        raise ValueError(f"SPRT needs elo0 < elo1, got elo0={elo0} and elo1={elo1}")
    if not (0 < alpha < 0.5 and 0 < beta < 0.5):
        raise ValueError(f"SPRT needs 0 < alpha, beta < 0.5, got alpha={alpha} and beta={beta}")
    lower, upper = math.log(beta / (1 - alpha)), math.log((1 - beta) / alpha)
    x = np.asarray(scores, np.float64)
    n = x.size
    if n == 0:
        return SprtResult(0.0, lower, upper, 0, 0.0, None)
    mean = float(x.mean())
    padded = np.concatenate([x, [0.0, 1.0]])
    var = float(((padded - padded.mean()) ** 2).mean())
    s0, s1 = 1 / (1 + 10 ** (-elo0 / 400)), 1 / (1 + 10 ** (-elo1 / 400))
    llr = n * (s1 - s0) * (2 * mean - s0 - s1) / (2 * var)
    decision = "H1" if llr >= upper else "H0" if llr <= lower else None
    return SprtResult(llr, lower, upper, n, float(x.sum()), decision)


# -- the ladder file -------------------------------------------------------------------------------------------------


def _dump(sections: dict[str, dict[str, Any]]) -> str:
    """The ladder file's JSON text with one game per line (small, and diffs show the games added)."""
    parts = []
    for key, section in sections.items():
        head = {k: v for k, v in section.items() if k != "games"}
        games = ",\n".join("   " + json.dumps(g) for g in section.get("games", []))
        parts.append(f" {json.dumps(key)}: {json.dumps(head)[:-1]}, \"games\": [\n{games}\n ]}}")
    return f'{{"format": {LADDER_FORMAT}, "sections": {{\n' + ",\n".join(parts) + "\n}}\n"


def section_key(size: int, komi: float) -> str:
    """Name of a ladder section: ``"7x7 komi 9"``."""
    return f"{size}x{size} komi {komi:g}"


@dataclass
class Ladder:
    """Games and players per (board size, komi), kept in a JSON file; see the module docstring.

    File layout: ``{"format": 1, "sections": {"7x7 komi 9": {"size": 7, "komi": 9.0, "players": {name: spec},
    "games": [{"black", "white", "score", "result", "reason", "seed", "moves"}, ...]}}}``; ``score`` is black's.
    """

    path: Path | None = None
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> Ladder:
        """The ladder in ``path``; an empty one if the file does not exist yet. ``UserError`` if it is not a ladder."""
        path = Path(path)
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise UserError(f"ladder file {path} cannot be read as JSON ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != LADDER_FORMAT or "sections" not in data:
            raise UserError(f"{path} is not a ladder file of format {LADDER_FORMAT} (no 'format'/'sections')")
        return cls(path, data["sections"])

    def save(self, path: str | Path | None = None) -> Path:
        """Write the file atomically (temporary file, then rename); returns the path."""
        path = Path(path or self.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(_dump(self.sections), encoding="utf-8")
        os.replace(tmp, path)
        self.path = path
        return path

    def section(self, size: int, komi: float) -> dict[str, Any]:
        """The section of ``size`` and ``komi`` (created empty if new)."""
        key = section_key(size, komi)
        return self.sections.setdefault(key, {"size": int(size), "komi": float(komi), "players": {}, "games": []})

    def register(self, size: int, komi: float, name: str, spec: str) -> None:
        """Add player ``name`` = ``spec``; ``UserError`` if the name already stands for another spec."""
        players = self.section(size, komi)["players"]
        if players.get(name, spec) != spec:
            raise UserError(f"player name {name!r} already stands for {players[name]!r} in the ladder "
                            f"({section_key(size, komi)}); give this one another name with NAME=SPEC")
        players[name] = spec

    def add_game(self, size: int, komi: float, game: dict[str, Any]) -> None:
        """Append one game (a dict with at least ``black``, ``white`` and ``score``, black's score)."""
        self.section(size, komi)["games"].append(dict(game))

    def games(self, size: int, komi: float) -> list[GameResult]:
        """Every game of the section as :class:`GameResult`."""
        return [GameResult(g["black"], g["white"], float(g["score"])) for g in self.section(size, komi)["games"]]

    def ratings(self, size: int, komi: float, anchor: str = ANCHOR, anchor_elo: float = ANCHOR_ELO) -> Ratings:
        """Ratings fitted to every game of the section (players without games are listed too)."""
        return fit_ratings(self.games(size, komi), anchor, anchor_elo,
                           players=list(self.section(size, komi)["players"]))
