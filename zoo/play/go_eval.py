"""Go matches between players, and the Go evaluation the launcher hands the run loop for agents that search.

A :class:`zoo.play.players.BatchPlayer` (``select_moves(states) -> actions``; a searching agent,
:class:`agents.protocol.Searcher`, is one) moves in all the games of a match where it is to move in one batched
call. Other players (:mod:`zoo.play.players`, GTP engines) move one state at a time. Colours alternate game by
game; area scoring; draws count half.

    python -m zoo.play_go --checkpoint runs/go5/zero/.../checkpoints/ckpt-000000020000.pt --opponent capture

:func:`go_evaluation` and :func:`go_progress_text` are the run loop's hooks (:class:`zoo.run.loop.RunHooks`,
given by :func:`zoo.launch.run_hooks`).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

from agents.protocol import Searcher, SelfPlayer
from envs.go.game import GoGame
from envs.go.sgf import GameRecord, result_string, save_sgf
from envs.go.state import BLACK, GoState
from zoo.errors import UserError
from zoo.play.game_media import save_game_media
from zoo.play.openings import default_opening, distinct_text, game_digest, opening_set, play_opening
from zoo.play.players import BatchPlayer, Player, make_player
from zoo.play.ratings import wilson_interval


@dataclass
class MatchResult:
    """Score of player A against player B over ``games`` games (draws count half), per colour, and how many of
    the games were distinct move sequences."""

    games: int
    score: float
    """Wins of A plus half its draws."""
    records: list[GameRecord]
    as_black: tuple[float, int] = (0.0, 0)
    """A's points and games with black."""
    as_white: tuple[float, int] = (0.0, 0)
    distinct: int = 0
    """Distinct move sequences among the games."""

    @property
    def win_rate(self) -> float:
        """A's score per game."""
        return self.score / max(self.games, 1)

    def interval(self) -> tuple[float, float]:
        """Wilson 95% interval of the win rate."""
        return wilson_interval(self.score, self.games)

    def text(self, a: str, b: str, where: str = "") -> str:
        """``A vs B{where}: 17/20 = 0.850 (95% CI ...), as black ..., as white ...; distinct 20/20``."""
        lo, hi = self.interval()
        (pb, gb), (pw, gw) = self.as_black, self.as_white
        return (f"{a} vs {b}{where}: {self.score:g}/{self.games} = {self.win_rate:.3f} (95% CI {lo:.3f}-{hi:.3f}), "
                f"as black {pb:g}/{gb}, as white {pw:g}/{gw}; {distinct_text(self.distinct, self.games)}")


def _moves(player: Player | Searcher, states: list[GoState]) -> list[int]:
    if isinstance(player, BatchPlayer):
        return list(player.select_moves(states))
    return [int(player.select_move(s.copy())) for s in states]


def play_match(a: Player | Searcher, b: Player | Searcher, games: int, game: GoGame, max_moves: int | None = None,
               names: tuple[str, str] = ("A", "B"), opening: int | None = None, seed: int = 0) -> MatchResult:
    """``games`` games of ``a`` against ``b`` (A black in even games); returns A's score and the records. Both are
    reset before the first game; a searching agent plays as it is. Games ``2i`` and ``2i + 1`` start from opening
    ``i`` of :func:`zoo.play.openings.opening_set` (``opening`` plies, default
    :func:`~zoo.play.openings.default_opening`; drawn from ``seed``), so that deterministic players differ."""
    cap = max_moves or 2 * game.board_size**2
    plies = default_opening(game.board_size) if opening is None else opening
    openings = opening_set(game.board_size, game.komi, plies, (games + 1) // 2, seed)
    states = [GoState.new(game.board_size, game.komi, game.history, max_moves=cap) for _ in range(games)]
    a_colour = [BLACK if i % 2 == 0 else -BLACK for i in range(games)]
    moves: list[list[tuple[int, int]]] = [play_opening(states[i], openings[i // 2]) for i in range(games)]
    for p in (a, b):
        p.reset()
    while True:
        live = [i for i in range(games) if not states[i].is_terminal]
        if not live:
            break
        for player, mine in ((a, True), (b, False)):
            turn = [i for i in live if (states[i].to_play == a_colour[i]) == mine and not states[i].is_terminal]
            if not turn:
                continue
            for i, action in zip(turn, _moves(player, [states[i] for i in turn]), strict=True):
                if action < 0:
                    states[i].resign()
                    continue
                moves[i].append((states[i].to_play, int(action)))
                states[i].play(int(action))
    score, records = 0.0, []
    colour_points = {BLACK: [0.0, 0], -BLACK: [0.0, 0]}
    for i, s in enumerate(states):
        w = s.winner() * a_colour[i]
        points = 1.0 if w > 0 else 0.5 if w == 0 else 0.0
        score += points
        colour_points[a_colour[i]][0] += points
        colour_points[a_colour[i]][1] += 1
        black, white = names if a_colour[i] == BLACK else names[::-1]
        records.append(GameRecord(size=game.board_size, komi=game.komi, rules="Tromp-Taylor (area, positional superko)",
                                  result=result_string(s), black=black, white=white, moves=moves[i]))
    distinct = len({game_digest(a for _, a in m) for m in moves})
    return MatchResult(games, score, records, tuple(colour_points[BLACK]), tuple(colour_points[-BLACK]), distinct)


def go_evaluation(agent: Any, env: gymnasium.Env, games: int, run_dir: Path, step: int,
                  opponents: tuple[str, ...] = ("random", "capture"), seed: int = 0) -> dict[str, float]:
    """Win rates of a searching agent against the built-in opponents, plus SGF samples in ``run_dir/sgf`` and the
    first game against the last opponent as pictures (``run_dir/media/eval-STEP.gif`` and ``.png``:
    :func:`zoo.play.game_media.save_game_media`).

    Returns ``{}`` unless ``env`` is a Go env and ``agent`` searches (a :class:`Searcher`). A :class:`SelfPlayer`
    also has its last self-play game written.
    """
    game = getattr(env.unwrapped, "game", None)
    if not isinstance(game, GoGame) or not isinstance(agent, Searcher) or games < 1:
        return {}
    agent.attach(game)
    out: dict[str, float] = {}
    me = str(agent.name)
    folder = Path(run_dir) / "sgf"
    folder.mkdir(parents=True, exist_ok=True)
    for k, name in enumerate(opponents):
        result = play_match(agent, make_player(name, seed + step + k), games, game, names=(me, name),
                            seed=seed + step + k)
        out[f"eval/win_{name}"] = result.win_rate
        out[f"eval/distinct_{name}"] = result.distinct / max(result.games, 1)
        save_sgf(folder / f"{step:012d}-vs-{name}.sgf", result.records[0])
        if k == len(opponents) - 1:
            save_game_media(result.records[0], run_dir, step)
    recent = agent.recent_games if isinstance(agent, SelfPlayer) else []
    for i, g in enumerate(recent[-1:]):
        colours = [BLACK if j % 2 == 0 else -BLACK for j in range(len(g.actions))]
        record = GameRecord(size=game.board_size, komi=game.komi, black=me, white=me,
                            result=_self_play_result(g), moves=list(zip(colours, g.actions, strict=True)))
        save_sgf(folder / f"{step:012d}-selfplay-{i}.sgf", record)
    return out


def go_progress_text(last_eval: Mapping[str, float], last_train: Mapping[str, float]) -> str | None:
    """The progress bar's text once :func:`go_evaluation` has run: win rates against the opponents, and the
    training loss; ``None`` before (the run loop's default text then)."""
    if "eval/win_random" not in last_eval:
        return None
    wins = ", ".join(f"{k[9:]} {v:.2f}" for k, v in last_eval.items() if k.startswith("eval/win_") and "_as_" not in k)
    loss = last_train.get("train/loss")
    return f"win vs {wins}" + (f", loss {loss:.3f}" if loss is not None else "")


def _self_play_result(g: Any) -> str:
    side = "B" if g.winner > 0 else "W"
    if g.winner == 0:
        return "0"
    return f"{side}+R" if g.resigned else f"{side}+"


def load_zero_player(checkpoint: str | Path, simulations: int | None = None, seed: int = 0,
                     option: str = "--checkpoint ") -> tuple[Any, GoGame]:
    """The zero agent of a run's checkpoint (file or run directory) with its game attached, ready to search.
    ``option``: how the command took ``checkpoint``; a missing or damaged checkpoint's error starts with it."""
    import dataclasses

    from agents import build_agent, config_from_saved
    from agents.nets import NetConfig
    from agents.zero import ZeroConfig
    from zoo.run.checkpoint import load_checkpoint, resolve_resume
    from zoo.run.config import EnvConfig
    from zoo.run.make_env import make_env

    ckpt = load_checkpoint(resolve_resume(checkpoint, option=option))
    config = ckpt.get("config", {})
    if config.get("agent", {}).get("name") != "zero":
        raise ValueError(f"{checkpoint} is a checkpoint of agent {config.get('agent', {}).get('name')!r}, not zero")
    cfg = config_from_saved(ZeroConfig, config["agent"])
    if simulations is not None:
        cfg = dataclasses.replace(cfg, simulations=simulations)
    env = make_env(EnvConfig(**config["env"]), seed=seed)
    net = NetConfig(**config["net"]) if config.get("net") else None
    agent = build_agent(cfg, env.observation_space, env.action_space, np.random.default_rng(seed), "cpu", net=net)
    agent.load_state_dict(ckpt["agent"])
    agent.attach(env.unwrapped.game)
    return agent, env.unwrapped.game


def game_text(game: GoGame) -> str:
    """``5x5, komi 24`` (a human line for a game's board, not its repr)."""
    return f"{game.board_size}x{game.board_size}, komi {game.komi:g}"


def main(argv: list[str] | None = None) -> None:
    """``python -m zoo.play_go --checkpoint CKPT --opponent random|capture --games N``: a match, with a 95% CI.
    ``python -m zoo.play_go --human [--checkpoint CKPT | --opponent SPEC]``: play it yourself in the terminal
    (:mod:`zoo.play.human`)."""
    parser = argparse.ArgumentParser(prog="python -m zoo.play_go", description=main.__doc__)
    parser.add_argument("--human", action="store_true",
                        help="play against the opponent yourself, in the terminal (zoo.play.human)")
    parser.add_argument("--checkpoint", default=None, help="a zero agent checkpoint (file or run directory); "
                        "with --human a checkpoint of any agent")
    parser.add_argument("--opponent", default=None, help="built-in opponent: random or capture (default random); "
                        "with --human and no --checkpoint any arena player: random, capture, mcts:N, "
                        "gnugo[:LEVEL], gtp:COMMAND (default mcts:400)")
    parser.add_argument("--games", type=int, default=None, help="games of the match (default 100)")
    parser.add_argument("--simulations", "--sims", type=int, default=None, help="search budget per move")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sgf", default=None, help="folder to write every game's SGF into; with --human the "
                        "game's SGF file (default runs/human/DATE-TIME-NxN.sgf)")
    parser.add_argument("--opening", type=int, default=None, metavar="K",
                        help="plies of the random opening each pair of games starts from (default 2 from 5x5 up)")
    parser.add_argument("--board", type=int, default=None, help="--human: board size (default: the checkpoint's, "
                        "else 9)")
    parser.add_argument("--komi", type=float, default=None, help="--human: komi (default: the checkpoint's, else "
                        "24 on 5x5, 9 on 7x7, 7.5 from 9x9)")
    parser.add_argument("--color", "--colour", default=None, choices=["black", "white"],
                        help="--human: your colour (default black)")
    args = parser.parse_args(argv)
    if args.human:
        _human(args, parser)
        return
    given = [flag for flag, value in (("--board", args.board), ("--komi", args.komi), ("--color", args.color))
             if value is not None]
    if given:
        parser.error(f"{', '.join(given)} only go with --human (a match plays on the checkpoint's board)")
    if not args.checkpoint:
        parser.error("the following arguments are required: --checkpoint (or --human to play yourself)")
    args.games = 100 if args.games is None else args.games
    args.opponent = args.opponent or "random"
    if args.games < 1 or (args.simulations is not None and args.simulations < 1):
        parser.error(f"--games and --simulations must be >= 1 (got {args.games}, {args.simulations})")
    if args.opening is not None and args.opening < 0:
        parser.error(f"--opening must be >= 0, got {args.opening}")
    try:
        opponent = make_player(args.opponent, args.seed)
        agent, game = load_zero_player(args.checkpoint, simulations=args.simulations, seed=args.seed)
    except (ValueError, UserError) as exc:
        parser.error(str(exc))
    result = play_match(agent, opponent, args.games, game, names=("zero", args.opponent), opening=args.opening,
                        seed=args.seed)
    print(result.text("zero", args.opponent, f" on {game_text(game)}"))
    if args.sgf:
        Path(args.sgf).mkdir(parents=True, exist_ok=True)
        for i, record in enumerate(result.records):
            save_sgf(Path(args.sgf) / f"game-{i:03d}.sgf", record)


def _human(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """``--human``: refuse the match's options, then play (:func:`zoo.play.human.play_human`)."""
    from zoo.play.human import HumanOptions, play_human

    given = [flag for flag, value in (("--games", args.games), ("--opening", args.opening)) if value is not None]
    if given:
        parser.error(f"{', '.join(given)} only go with a match, not with --human (one game, from the empty board)")
    options = HumanOptions(checkpoint=args.checkpoint, opponent=args.opponent, board=args.board, komi=args.komi,
                           colour=args.color or "black", sims=args.simulations, sgf=args.sgf, seed=args.seed)
    try:
        play_human(options)
    except UserError as exc:
        parser.error(str(exc))
