"""Game archives: a match's SGF files packed as one ``.tar.gz``, and the recount that turns one back into its table.

The arena writes every game's SGF (``--sgf DIR``, or ``--sgf NAME.tar.gz`` for an archive); each record carries,
besides the SGF standard's players, komi and result, three root properties of the suite: ``ZP`` the pairing
(first-named and second-named player, which orients the table), ``ZO`` how many opening plies the match gave
(:mod:`zoo.play.openings`) and ``ZS`` the game's seed. :func:`recount` reads an archive (or a folder of SGF files)
and rebuilds the tally the arena printed: score per pairing with its Wilson interval, per colour, and distinct
games. With a referee (GNU Go's ``final_score``) it also re-scores every game that ended on the board and says how
many results the engine agrees with.

    python -m zoo.arena recount reports/games/go7-zero2h-vs-gnugo.tar.gz [--referee gnugo]
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envs.go.sgf import GameRecord, SgfError, parse_sgf, record_to_state
from zoo.errors import UserError
from zoo.play.gtp_client import GtpClient, GtpError, referee_score
from zoo.play.matches import MatchTally
from zoo.play.openings import OPENING_PROPERTY, PAIR_PROPERTY, SEED_PROPERTY, game_digest


def is_archive(path: str | Path) -> bool:
    """Whether ``path`` names a ``.tar.gz`` / ``.tgz`` archive (rather than a folder)."""
    return str(path).endswith((".tar.gz", ".tgz"))


def pack(files: dict[str, str], archive: str | Path) -> None:
    """Write ``{member name: SGF text}`` as a gzip tar archive, members sorted, times zeroed (same games, same
    bytes apart from gzip's header)."""
    archive = Path(archive)
    archive.parent.mkdir(parents=True, exist_ok=True)
    tmp = archive.with_name(archive.name + ".part")
    with tarfile.open(tmp, "w:gz") as tar:
        for name in sorted(files):
            data = files[name].encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    tmp.replace(archive)


def read_texts(path: str | Path) -> dict[str, str]:
    """``{member name: SGF text}`` of an archive, or of the ``*.sgf`` files of a folder; ``UserError`` naming the
    path when it is neither, or is not a readable gzip tar."""
    path = Path(path)
    if path.is_dir():
        return {p.name: p.read_text(errors="replace") for p in sorted(path.glob("*.sgf"))}
    if not path.is_file():
        raise UserError(f"{path}: no such archive or folder (expected NAME.tar.gz or a folder of .sgf files)")
    try:
        with tarfile.open(path, "r:*") as tar:
            out = {}
            for member in tar.getmembers():
                if member.isfile() and member.name.endswith(".sgf"):
                    handle = tar.extractfile(member)
                    out[member.name] = handle.read().decode(errors="replace") if handle else ""
            return out
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise UserError(f"{path}: not a readable .tar.gz archive of SGF files "
                        f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})") from None


def merge_into(archive: str | Path, folder: str | Path) -> None:
    """Pack the SGF files of ``folder`` into ``archive``, keeping the games already there (same name: the new)."""
    files = read_texts(archive) if Path(archive).is_file() else {}
    files.update(read_texts(folder))
    pack(files, archive)


def _score(result: str) -> float | None:
    text = result.strip().upper()
    if text.startswith("B+"):
        return 1.0
    if text.startswith("W+"):
        return 0.0
    if text in ("0", "DRAW", "JIGO"):
        return 0.5
    return None


def game_of(name: str, record: GameRecord) -> dict[str, Any]:
    """The arena's game dict (``black``, ``white``, ``score``, ``result``, ``pair``, ``digest``, ``reason``) of an
    archived record; ``UserError`` when its result is unreadable."""
    score = _score(record.result or "")
    if score is None:
        raise UserError(f"{name}: unreadable result RE[{record.result}] (expected B+..., W+... or 0)")
    pair = record.properties.get(PAIR_PROPERTY) or [record.black, record.white]
    reason = "forfeit" if (record.result or "").upper().endswith("+F") else \
        "resign" if (record.result or "").upper().endswith("+R") else "score"
    return {"black": record.black, "white": record.white, "score": score, "result": record.result,
            "pair": [pair[0], pair[1] if len(pair) > 1 else ""], "reason": reason,
            "digest": game_digest(a for _, a in record.moves), "file": name}


@dataclass
class Recount:
    """What :func:`recount` found: the tally, and the referee's verdicts on the games scored on the board."""

    tally: MatchTally
    games: list[dict[str, Any]] = field(default_factory=list)
    refereed: int = 0
    agreed: int = 0
    disagreements: list[str] = field(default_factory=list)

    def text(self) -> str:
        """The Markdown table, the per-pair lines, and the referee's agreement when there was one."""
        out = [self.tally.markdown(), "", *self.tally.lines()]
        if self.refereed:
            out.append(f"GNU Go final_score agrees with {self.agreed}/{self.refereed} results of games scored on the "
                       f"board (winner's colour)" + (f"; differs on: {', '.join(self.disagreements)}"
                                                     if self.disagreements else ""))
        return "\n".join(out)


def recount(path: str | Path, referee: Sequence[str] = (), engine_timeout: float = 60.0) -> Recount:
    """Rebuild a match's tally from its archive (or SGF folder); with ``referee`` (a GTP engine's argv, GNU Go with
    Chinese rules) also compare each on-board result's winner with the engine's ``final_score``."""
    texts = read_texts(path)
    if not texts:
        raise UserError(f"{path}: holds no .sgf games")
    tally = Recount(MatchTally())
    for name, text in sorted(texts.items()):
        try:
            record = parse_sgf(text)
        except SgfError as exc:
            raise UserError(f"{path}: {name}: {exc}") from None
        game = game_of(name, record)
        tally.tally.add(game)
        tally.games.append(game)
        if referee and game["reason"] == "score":
            try:
                state = record_to_state(record)
                with GtpClient(list(referee), timeout=engine_timeout) as client:
                    verdict = referee_score(client, state, [a for _, a in record.moves])
            except (GtpError, OSError, SgfError, ValueError) as exc:
                tally.disagreements.append(f"{name} (referee failed: {exc})")
                tally.refereed += 1
                continue
            tally.refereed += 1
            if _score(verdict) == game["score"]:
                tally.agreed += 1
            else:
                tally.disagreements.append(f"{name} ({record.result} here, {verdict} by the referee)")
    return tally


__all__ = ["OPENING_PROPERTY", "PAIR_PROPERTY", "SEED_PROPERTY", "Recount", "game_of", "is_archive", "merge_into",
           "pack", "read_texts", "recount"]
