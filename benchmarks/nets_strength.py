"""Playing strength of compressed nets against their fp32 net at equal search, 9x9 Go, CPU.

    python benchmarks/nets_strength.py --save DIR [--games 50] [--simulations 32] [--opening 4]
        [--nets int8,pruned50,pruned80,channels50,student,student_int8] [--sgf reports/games/NAME.tar.gz]

Reads what ``benchmarks/nets_speed.py --save DIR`` kept (nets, calibration positions, the table's rows). Each
compressed net plays ``--games`` games against the fp32 teacher with ``zoo.play_go.play_match``: both sides are
zero agents (``agents.zero``) with the same search (``--simulations`` per move, 8 leaves per step, no noise, the
most visited move), colours alternating game by game. Search without noise is deterministic, so the first
``--opening`` plies of every game are sampled from each side's raw policy (temperature 1); the games then differ
from one another. The samplers' seeds decide the openings, so each pairing plays two halves with the two sides'
seeds swapped. Every game counts towards the distinct games (by move sequence) reported next to its win rate, and
with ``--sgf NAME.tar.gz`` each pairing's games are added to that archive as SGF (root properties ``ZP`` the
pairing, compressed net first, ``ZO`` the sampled opening plies, ``ZS`` the first-named side's opening seed), which
``python -m zoo.arena recount NAME.tar.gz`` turns back into the table. Results go to ``DIR/strength.json`` after
each pairing (a rerun skips the
pairings already there; several processes may play different ``--nets`` into one folder at once); then, once
``DIR/rows.json`` exists, the strength column of ``reports/nets.md``, ``reports/compression.md`` (Elo against size
and latency, Elo relative to fp32 = 0 fitted by ``zoo.ratings.fit_ratings``) and its plot
``reports/compression/elo.png`` are written. The pruned nets and int8 can play while ``nets_speed.py`` is still
distilling the student into the same folder.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import time
from pathlib import Path

import gymnasium
import numpy as np
import torch

from agents.compress import quantize_int8
from agents.compress.positions import load_positions
from agents.nets.checkpoint import load_net
from agents.search.evaluator import NetEvaluator
from agents.zero import ZeroAgent, ZeroConfig
from envs.go.game import GoGame
from envs.go.sgf import GameRecord, write_sgf
from envs.go.state import GoState
from zoo.play.archive import is_archive, pack, read_texts
from zoo.play.go_eval import MatchResult, play_match
from zoo.play.openings import OPENING_PROPERTY, PAIR_PROPERTY, SEED_PROPERTY, distinct_text, game_digest
from zoo.play.ratings import GameResult, fit_ratings
from zoo.reporting.nets_report import table_student, write_report

ROOT = Path(__file__).resolve().parent.parent

NETS = {"int8": "resnet b6c64 int8", "pruned50": "resnet b6c64 pruned 50%", "pruned80": "resnet b6c64 pruned 80%",
        "channels50": "resnet b6c64 50% channels cut", "student": "mobilenet {student} student fp32",
        "student_int8": "mobilenet {student} student int8"}
"""Short name of each compressed net -> its row in the nets table."""


class OpeningPlayer:
    """A zero agent whose first ``plies`` moves of each game are sampled from its raw policy (temperature 1)."""

    def __init__(self, agent: ZeroAgent, plies: int, seed: int) -> None:
        self.agent, self.plies, self.rng = agent, plies, np.random.default_rng(seed)
        self.name = agent.name

    def select_move(self, state: GoState) -> int:
        """The move for one state (see :meth:`select_moves`)."""
        return self.select_moves([state])[0]

    def reset(self) -> None:
        """A new game: the agent forgets its kept tree (``select_moves`` searches from fresh trees anyway)."""
        self.agent.reset()

    def reseed(self, seed: int) -> None:
        """A new generator for the opening moves."""
        self.rng = np.random.default_rng(seed)

    def select_moves(self, states: list[GoState]) -> list[int]:
        """Sampled moves for the states in their opening, searched moves for the others (one batched search)."""
        moves = [0] * len(states)
        early = [i for i, s in enumerate(states) if s.move_count < self.plies]
        late = [i for i, s in enumerate(states) if s.move_count >= self.plies]
        if early:
            planes = np.stack([states[i].features() for i in early])
            masks = np.stack([states[i].legal_mask() for i in early])
            priors, _ = self.agent.evaluator.evaluate(planes, masks)
            for i, p in zip(early, priors.astype(np.float64), strict=True):
                moves[i] = int(self.rng.choice(len(p), p=p / p.sum()))
        if late:
            for i, a in zip(late, self.agent.select_moves([states[i] for i in late]), strict=True):
                moves[i] = a
        return moves


def zero_player(net: torch.nn.Module, game: GoGame, simulations: int, seed: int) -> ZeroAgent:
    """A zero agent searching with ``net`` (any module with a net's forward) on ``game``."""
    cfg = ZeroConfig(simulations=simulations, play_leaves=8, tree_reuse=False)
    obs = gymnasium.spaces.Box(0, 1, (game.num_planes, game.board_size, game.board_size), np.float32)
    agent = ZeroAgent(cfg, obs, gymnasium.spaces.Discrete(game.num_actions), np.random.default_rng(seed))
    agent.evaluator = NetEvaluator(net, "cpu")
    agent.attach(game)
    return agent


def archive_games(archive: str | Path, short: str, halves: list[tuple[int, list[GameRecord]]], opening: int,
                  lock: Path) -> None:
    """Add one pairing's games to the SGF ``archive`` (``.tar.gz``, created if missing; its other games kept, this
    pairing's replaced), holding the file ``lock`` so that processes playing other ``--nets`` into it at once do
    not clash. ``halves``: each half's first-named side's opening seed and its records."""
    files = {}
    k = 0
    for seed, records in halves:
        for record in records:
            record.properties[PAIR_PROPERTY] = [short, "fp32"]
            record.properties[OPENING_PROPERTY] = [str(opening)]
            record.properties[SEED_PROPERTY] = [str(seed)]
            files[f"{short}-vs-fp32-{k:04d}.sgf"] = write_sgf(record)
            k += 1
    path = Path(archive)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        kept = read_texts(path) if path.is_file() else {}
        kept = {name: text for name, text in kept.items() if not name.startswith(f"{short}-vs-fp32-")}
        pack({**kept, **files}, path)


def sgf_flag(args: argparse.Namespace) -> str:
    """`` --sgf NAME.tar.gz`` for the commands the reports quote, when the games were archived."""
    return f" --sgf {args.sgf}" if args.sgf else ""


def black_score(result: str) -> float:
    """Black's score of an SGF result: ``B+...`` 1, ``W+...`` 0, anything else (a draw) 0.5."""
    return 1.0 if result.startswith("B+") else 0.0 if result.startswith("W+") else 0.5


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--save", required=True, help="folder written by nets_speed.py --save")
    p.add_argument("--games", type=int, default=50)
    p.add_argument("--simulations", type=int, default=32)
    p.add_argument("--opening", type=int, default=4, help="plies sampled from the raw policy at the start")
    p.add_argument("--nets", default=",".join(NETS), help=f"comma-separated subset of {', '.join(NETS)}")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--student", default="b6c48", help="student preset, when DIR has no rows.json yet")
    p.add_argument("--out", default=str(ROOT / "reports"))
    p.add_argument("--sgf", default=None, metavar="NAME.tar.gz", help="archive every pairing's games as SGF (for "
                   "`python -m zoo.arena recount`); a pairing played again replaces its games, the others are kept")
    args = p.parse_args()
    if args.sgf and not is_archive(args.sgf):
        p.error(f"--sgf {args.sgf}: expected an archive name ending in .tar.gz")
    torch.set_num_threads(args.threads)
    folder = Path(args.save)
    rows_file = folder / "rows.json"
    student = table_student(json.loads(rows_file.read_text())) if rows_file.exists() else args.student
    wanted = [n.strip() for n in args.nets.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in NETS]
    if unknown:
        p.error(f"unknown net {unknown[0]!r}; valid: {', '.join(NETS)}")
    path = folder / "strength.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    game = GoGame(9, komi=7.5)
    teacher = load_net(folder / "teacher.pt")
    calibration = load_positions(folder / "calibration.npz")
    for short in wanted:
        row = NETS[short].format(student=student)
        if row in results and results[row]["games"] >= args.games:
            continue
        start = time.time()
        if short in ("int8", "student_int8"):
            base = teacher if short == "int8" else load_net(folder / "student.pt")
            net = quantize_int8(base, calibration, batches=16, batch_size=64)
        else:
            net = load_net(folder / f"{short}.pt")
        # Two halves with the opening samplers' seeds swapped: which seed a side gets decides its openings, and a
        # fixed assignment favours one side (fp32 against itself scored 62% with one assignment, 50% with the other).
        halves, seeds = [], []
        for seed_a, seed_b in ((args.seed + 1, args.seed + 2), (args.seed + 2, args.seed + 1)):
            a = OpeningPlayer(zero_player(net, game, args.simulations, args.seed), args.opening, seed_a)
            b = OpeningPlayer(zero_player(teacher, game, args.simulations, args.seed), args.opening, seed_b)
            halves.append(play_match(a, b, args.games // 2, game, names=(short, "fp32"), opening=0))
            seeds.append(seed_a)
        records = [r for h in halves for r in h.records]
        if args.sgf:
            archive_games(args.sgf, short, [(s, h.records) for s, h in zip(seeds, halves, strict=True)],
                          args.opening, folder / "sgf.lock")
        distinct = len({game_digest(m for _, m in r.moves) for r in records})
        match = MatchResult(sum(h.games for h in halves), sum(h.score for h in halves), records, distinct=distinct)
        lo, hi = match.interval()
        games = [GameResult(r.black, r.white, black_score(r.result)) for r in match.records]
        results = json.loads(path.read_text()) if path.exists() else {}  # another process may have added pairings
        results[row] = {"short": short, "games": match.games, "score": match.score, "lo": lo, "hi": hi,
                        "distinct": distinct,
                        "results": [[g.black, g.white, g.score] for g in games], "seconds": time.time() - start}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(results, indent=1) + "\n")
        tmp.replace(path)
        print(f"{short} vs fp32: {match.score:g}/{match.games} = {match.win_rate:.3f} (95% CI {lo:.3f}-{hi:.3f}), "
              f"{distinct_text(distinct, match.games)}, {time.time() - start:.0f} s", flush=True)
    about = (f"Playing strength: each compressed net against the fp32 teacher, {args.games} games per pairing, both "
             f"sides zero agents with {args.simulations} simulations per move (8 leaves per step, no noise, the most "
             f"visited move), colours alternating, the first {args.opening} plies of each game sampled from each "
             "side's raw policy so that games differ (two halves with the samplers' seeds swapped); "
             "`python benchmarks/nets_strength.py --save DIR --games "
             f"{args.games} --simulations {args.simulations} --opening {args.opening}{sgf_flag(args)}`. Win rates "
             "with Wilson 95% "
             "intervals; Elo against size and speed in [compression.md](compression.md).")
    if not rows_file.exists():
        print(f"{rows_file} not written yet: the reports are written by the next run once it is")
        return
    run = json.loads(rows_file.read_text())
    results = json.loads(path.read_text()) if path.exists() else {}
    results_out = {k: v for k, v in results.items() if not k.startswith("_")}
    write_report(Path(args.out) / "nets.md", run, {**results_out, "_about": about})
    write_compression(Path(args.out), run, results_out, args)


def write_compression(out: Path, run: dict, results: dict, args: argparse.Namespace) -> None:
    """``compression.md`` and ``compression/elo.png``: Elo (fp32 = 0) against parameters, MACs and latency."""
    games = [GameResult(*g) for r in results.values() for g in r["results"]]
    ratings = fit_ratings(games, anchor="fp32", anchor_elo=0.0)
    rows = {r["net"]: r for r in run["rows"]}
    teacher = run["rows"][0]
    points = [("fp32", teacher, 0.0, 0.0, 0.0, None)]
    for name, res in results.items():
        r = ratings[res["short"]]
        points.append((res["short"], rows[name], r.elo, r.lo, r.hi, res))
    lines = ["| net | params | MACs/position | ms/position, batch 1 | ms/position, batch 256 | win rate vs fp32 "
             "(95% CI) | Elo vs fp32 (95% CI) |", "|---|---:|---:|---:|---:|---:|---:|"]
    for _, row, e, lo, hi, res in points:
        win = "-" if res is None else f"{res['score'] / res['games']:.1%} ({res['lo']:.0%}-{res['hi']:.0%})"
        if res is not None and "distinct" in res:
            win += f", {res['distinct']}/{res['games']} distinct"
        elo = "0 (reference)" if res is None else f"{e:+.0f} ({lo:+.0f} to {hi:+.0f})"
        lines.append(f"| {row['net']} | {row['params']:,} | {row['macs'] / 1e6:.1f} M | {1000 / row['b1']:.2f} | "
                     f"{1000 / row['b256']:.3f} | {win} | {elo} |")
    folder = out / "compression"
    folder.mkdir(parents=True, exist_ok=True)
    plot(points, folder / "elo.png")
    n = sum(r["games"] for r in results.values())
    text = COMPRESSION.format(
        table="\n".join(lines), games=args.games, sims=args.simulations, opening=args.opening, total=n,
        colour=ratings.colour_advantage, teacher=run["info"]["teacher"], half=elo_halfwidth(args.games),
        command=f"python benchmarks/nets_strength.py --save DIR --games {args.games} --simulations "
                f"{args.simulations} --opening {args.opening}{sgf_flag(args)}")
    (out / "compression.md").write_text(text)
    print("\n".join(lines))
    print(f"wrote {out / 'compression.md'} and {folder / 'elo.png'}")


def elo_halfwidth(games: int) -> float:
    """Half-width in Elo of the 95% interval of an even score over ``games`` games (normal approximation)."""
    half = 1.96 * 0.5 / max(games, 1) ** 0.5
    return 400 * np.log10((0.5 + half) / (0.5 - half)) if half < 0.5 else float("inf")


def plot(points: list, path: Path) -> None:
    """Elo against MACs / position and against latency at batch 1 and 256, one marker per net."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5), sharey=True)
    panels = [("MACs / position (millions)", lambda r: r["macs"] / 1e6),
              ("ms / position, batch 1", lambda r: 1000 / r["b1"]),
              ("ms / position, batch 256", lambda r: 1000 / r["b256"])]
    for ax, (label, x_of) in zip(axes, panels, strict=True):
        for short, row, e, lo, hi, _ in points:
            x = x_of(row)
            ax.errorbar([x], [e], yerr=[[e - lo], [hi - e]], fmt="o", capsize=3)
            ax.annotate(short, (x, e), textcoords="offset points", xytext=(5, 5), fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.axhline(0, color="grey", lw=0.5)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("Elo relative to fp32 (95% interval)")
    fig.suptitle("Compressed 9x9 nets: playing strength against size and CPU latency")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


COMPRESSION = """# Compression: playing strength against size and speed (9x9 Go, CPU)

What a compressed net costs in play: each net below played {games} games against the fp32 net it was made from,
both sides searching {sims} simulations per move with the same zero agent (equal search), colours alternating,
the first {opening} plies of each game sampled from each side's raw policy so that the games differ. {total} games
in all. Elo is relative to the fp32 net (0), fitted with `zoo.ratings.fit_ratings` (Bradley-Terry with a colour
term; black's fitted advantage {colour:+.0f} Elo) with 95% intervals; sizes and latencies come from the same
run of `benchmarks/nets_speed.py` as [nets.md](nets.md) (one thread).

Teacher: {teacher}.

Command: `{command}`

{table}

![Elo against MACs and latency](compression/elo.png)

How to read it: a net left of the fp32 point and at the same height is a free win; the intervals are wide at
{games} games per pairing (about +-{half:.0f} Elo around an even score), so only large losses are resolved.
"""


if __name__ == "__main__":
    main()
