"""The shipped agents' command line: their cards listed and shown, rendered to Markdown, their files verified, and
the evaluation that gives a non-Go card its return.

    python -m zoo.pretrained                        # every agent: name, env, algorithm, strength, size, sha256
    python -m zoo.pretrained show go7               # the full card
    python -m zoo.pretrained eval cliff-q --episodes 100 --seed 0   # greedy episodes, as training evaluates
    python -m zoo.pretrained verify                 # every file against its card's sha256
    python -m zoo.pretrained render                 # NAME.md from each NAME.json (after editing a card)

The registry itself (the cards and files, and ``pretrained:NAME`` -> verified file) is :mod:`pretrained`, which
imports nothing of the suite. A card is JSON; besides :data:`pretrained.CARD_FIELDS` it holds ``title``,
``env_id``, ``training`` (``command`` lines, ``time``, ``machine``, ``date``), ``use`` (commands), ``notes``,
``not_measured``, and either ``matches`` and ``ladder`` (Go: the arena's match protocol, each match with its
committed SGF archive) or ``evaluation`` (the other envs: :func:`evaluate_card`'s figures and command).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pretrained
from zoo.errors import UserError

COMMANDS = ("list", "show", "eval", "verify", "render", "path")


def _card(name: str, root: Path | None) -> dict[str, Any]:
    try:
        return pretrained.card(name, root)
    except pretrained.PretrainedError as exc:
        raise UserError(str(exc)) from None


def size_text(size: int) -> str:
    """``875619`` -> ``0.88 MB``; under 100 kB in kB."""
    return f"{size / 1e3:.0f} kB" if size < 100_000 else f"{size / 1e6:.2f} MB"


def listing(root: Path | None = None) -> str:
    """Every agent in two lines: name, env, algorithm, size and sha256 (its first 12 digits), then its strength."""
    root = Path(root or pretrained.ROOT)
    cards = [pretrained.card(n, root) for n in pretrained.names(root)]
    head = [(c["name"], c["env"], c["algorithm"], size_text(int(c["bytes"])), f"sha256 {c['sha256'][:12]}")
            for c in cards]
    widths = [max((len(row[i]) for row in head), default=0) for i in range(4)]
    lines = [f"{len(cards)} pretrained agents in {root} (pretrained:NAME goes wherever a checkpoint does; "
             "python -m zoo.pretrained show NAME prints a card)", ""]
    for row, c in zip(head, cards, strict=True):
        lines.append("  ".join(text.ljust(w) for text, w in zip(row[:4], widths, strict=True)) + "  " + row[4])
        lines.append(" " * (widths[0] + 2) + c["strength"])
    return "\n".join(lines)


def _match_row(m: dict[str, Any]) -> str:
    (pb, gb), (pw, gw) = m["black"], m["white"]
    rate = m["points"] / m["games"]
    return (f"| {m['opponent']} | {m['settings']} | {m['games']} | {m['points']:g}/{m['games']} = {rate:.2f} "
            f"({m['low']:.2f}-{m['high']:.2f}) | {pb:g}/{gb} | {pw:g}/{gw} | {m['distinct']}/{m['games']} | "
            f"`{m['archive']}` |")


def _code(lines: list[str]) -> list[str]:
    return ["```bash", *lines, "```", ""]


def render(card: dict[str, Any]) -> str:
    """The Markdown view of a card (``NAME.md``): what it is, how to use it, how it was trained, how strong it is."""
    c = card
    out = [f"# pretrained:{c['name']}: {c['title']}", "",
           "| | |", "|---|---|",
           f"| env | {c['env']} (`{c['env_id']}`) |",
           f"| algorithm | {c['algorithm']} |",
           f"| strength | {c['strength']} |",
           f"| file | `pretrained/{c['file']}` ({size_text(int(c['bytes']))}, {c['bytes']} bytes) |",
           f"| sha256 | `{c['sha256']}` |", "",
           "## Use", "", *_code(c["use"])]
    t = c["training"]
    out += ["## Training", "", *_code(t["command"]),
            f"Time: {t['time']}. Machine: {t['machine']}. Date: {t['date']}.", ""]
    if c.get("matches"):
        out += ["## Matches", "",
                "The suite's match protocol (`python -m zoo.arena`): every pair of games starts from a random opening "
                "of 2 sensible moves, played once with each colour; area scoring; no search noise; 95% Wilson "
                "intervals; each match's games are archived (`python -m zoo.arena recount ARCHIVE` turns an archive "
                "back into its row).", "",
                "| opponent | settings | games | score (95% interval) | as black | as white | distinct games | "
                "games |",
                "|---|---|---:|---:|---:|---:|---:|---|",
                *[_match_row(m) for m in c["matches"]], "",
                *_code(list(dict.fromkeys(m["command"] for m in c["matches"])))]
    ladder = c.get("ladder")
    if ladder:
        out += ["## Ladder", "",
                f"{ladder['rating']:g} Elo (95% {ladder['low']:g}..{ladder['high']:g}) in `{ladder['file']}` "
                f"({ladder['anchor']}): `python -m zoo.arena ladder {ladder['file']}`.", ""]
    ev = c.get("evaluation")
    if ev:
        success = f", success rate {ev['success_rate']:.3f}" if "success_rate" in ev else ""
        out += ["## Evaluation", "",
                f"Greedy policy, {ev['episodes']} episodes of a separately seeded env (seed {ev['seed']}), as "
                f"training evaluates: return {ev['return_mean']:.3f} (std {ev['return_std']:.3f}){success}, "
                f"mean length {ev['length_mean']:.1f}.", "", *_code([ev["command"]])]
    if c.get("not_measured"):
        out += ["## Not measured", "", *[f"- {line}" for line in c["not_measured"]], ""]
    if c.get("notes"):
        out += ["## Notes", "", *[f"- {line}" for line in c["notes"]], ""]
    return "\n".join(out).rstrip() + "\n"


def render_all(root: Path | None = None, write: bool = True) -> list[Path]:
    """Render every card to ``NAME.md`` beside it; returns the files that differed (written when ``write``)."""
    stale = []
    root = Path(root or pretrained.ROOT)
    for name in pretrained.names(root):
        path = root / f"{name}.md"
        text = render(pretrained.card(name, root))
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if write:
                path.write_text(text, encoding="utf-8")
    return stale


def evaluate_card(name: str, episodes: int, seed: int, root: Path | None = None) -> dict[str, float]:
    """Greedy episodes of a shipped non-Go agent on its env seeded with ``seed``, scored by the run loop's evaluation
    (:func:`zoo.run.loop.evaluate`): ``eval/return_mean`` and the rest. ``UserError`` for a Go agent (its strength
    is a match: the arena) or an unknown name."""
    import envs  # noqa: F401  (registers the suite's zoo/ env ids)
    from zoo.play.players import load_agent
    from zoo.run.loop import evaluate

    c = _card(name, root)
    if c.get("matches") is not None:
        raise UserError(f"pretrained:{c['name']} plays Go: its strength is a match (python -m zoo.arena; its card "
                        f"lists the commands: python -m zoo.pretrained show {c['name']})")
    path = pretrained.resolve(c["name"], root)
    loaded = load_agent(path, seed=seed)
    return evaluate(loaded.agent, loaded.env, episodes)


def _eval_text(name: str, metrics: dict[str, float], episodes: int, seed: int, root: Path | None) -> str:
    c = pretrained.card(name, root)
    said = c.get("evaluation")
    success = f", success {metrics['eval/success_rate']:.3f}" if "eval/success_rate" in metrics else ""
    card = (f"; the card: {said['return_mean']:.3f} over {said['episodes']} episodes, seed {said['seed']}" if said
            else "; the card has no evaluation yet")
    return (f"pretrained:{c['name']} on {c['env']}: {episodes} greedy episodes, seed {seed}: return "
            f"{metrics['eval/return_mean']:.3f} (std {metrics['eval/return_std']:.3f}){success}, length "
            f"{metrics['eval/length_mean']:.1f}{card}")


def main(argv: list[str] | None = None) -> int:
    """``python -m zoo.pretrained [list|show NAME|eval NAME|verify|render|path NAME]``; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m zoo.pretrained", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", default="list", choices=COMMANDS, help="what to do (default: list)")
    parser.add_argument("name", nargs="?", default=None, help="agent name (show, eval, path)")
    parser.add_argument("--episodes", type=int, default=100, help="eval: greedy episodes (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="eval: seed of the env (default 0)")
    parser.add_argument("--check", action="store_true", help="render: write nothing, exit 1 if a card's .md is stale")
    args = parser.parse_args(argv)
    root = pretrained.ROOT
    try:
        if args.command in ("show", "eval", "path") and not args.name:
            raise UserError(f"{args.command} needs a NAME; valid: {', '.join(pretrained.names(root))}")
        if args.command == "list":
            print(listing(root))
        elif args.command == "show":
            print(render(_card(args.name, root)), end="")
        elif args.command == "path":
            c = _card(args.name, root)
            print(pretrained.resolve(c["name"], root))
        elif args.command == "eval":
            if args.episodes < 1:
                raise UserError(f"--episodes must be >= 1, got {args.episodes}")
            metrics = evaluate_card(args.name, args.episodes, args.seed, root)
            print(_eval_text(args.name, metrics, args.episodes, args.seed, root))
        elif args.command == "verify":
            for name in pretrained.names(root):
                print(f"pretrained:{name}: {pretrained.resolve(name, root)} ok")
        elif args.command == "render":
            stale = render_all(root, write=not args.check)
            for path in stale:
                print(f"{path}: {'stale' if args.check else 'written'}")
            return 1 if args.check and stale else 0
    except (UserError, pretrained.PretrainedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
