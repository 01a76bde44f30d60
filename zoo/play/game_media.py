"""A Go game as pictures: the whole game as an animated GIF, its final position as a PNG.

The run's Go evaluation (:func:`zoo.play.go_eval.go_evaluation`) saves one sample game of each evaluation this way,
``RUN/media/eval-STEP.gif`` and ``.png`` (:mod:`zoo.run.media`), which the run loop logs to wandb and the report
embeds. The boards are :func:`envs.go.render.rgb_array` pictures: the animation at about :data:`GIF_PIXELS` pixels
square, so that a game of a few hundred moves stays a few hundred kB, the final position at the renderer's size
(about 400 pixels square).
"""

from __future__ import annotations

from pathlib import Path

from envs.go.render import game_frames, rgb_array
from envs.go.sgf import GameRecord, record_to_state
from zoo.run.media import media_path, save_gif, save_png

GIF_PIXELS = 240
"""Side of the animation's board, in pixels (rounded down to whole cells; at least 8 pixels between lines)."""


def gif_cell(size: int) -> int:
    """Pixels between lines in the animation of a ``size`` x ``size`` game."""
    return max(8, GIF_PIXELS // (size + 1))


def save_game_media(record: GameRecord, run_dir: str | Path, step: int, name: str = "eval") -> tuple[Path, Path]:
    """Write ``record`` as ``RUN/media/NAME-STEP.gif`` (every position, 0.4 s each, the last for 2.5 s) and its final
    position as ``RUN/media/NAME-STEP.png``, titled with the players and the result (:func:`game_title`); returns
    ``(gif, png)``."""
    gif = save_gif(game_frames(record, gif_cell(record.size)), media_path(run_dir, name, step, "gif"))
    png = save_png(rgb_array(record_to_state(record)), media_path(run_dir, name, step, "png"), game_title(record))
    return gif, png


def game_title(record: GameRecord) -> str:
    """``zero (black) vs capture (white), B+R, 37 moves``."""
    return (f"{record.black or '?'} (black) vs {record.white or '?'} (white), {record.result or 'unfinished'}, "
            f"{len(record.moves)} moves")
