"""Pictures a run leaves for people to look at: ``RUN/media/NAME-STEP.png`` (an image) and ``.gif`` (an animation).

An evaluation hook that draws (a Go sample game, a gridworld policy) writes its files to :func:`media_path`; once
the evaluations of a step are done, the run loop hands every picture of that step (:func:`step_media`) to its
loggers, and wandb shows them (``media/NAME`` images, ``media/NAME_animation`` animations). The report
(``python -m zoo.report``) embeds each run's latest image of each name (:func:`latest_media`). ``STEP`` is the env
steps at the evaluation, written with 12 digits, as the checkpoints and SGF samples are.

Images are ``(H, W, 3)`` uint8 RGB arrays; Pillow writes them. An animation has one palette of up to 256 colours.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

MEDIA_DIR = "media"
"""The run directory's folder of pictures."""
EXTENSIONS = ("png", "gif")
"""What a picture may be: a PNG image, an animated GIF."""
_NAME = re.compile(r"[a-z0-9_]+")


def media_path(run_dir: str | Path, name: str, step: int, ext: str) -> Path:
    """``RUN/media/NAME-STEP.EXT`` (``STEP`` in 12 digits); ``name`` is lower-case letters, digits and ``_``."""
    if not _NAME.fullmatch(name) or ext not in EXTENSIONS:
        raise ValueError(f"media name {name!r} must be [a-z0-9_]+ and ext {ext!r} one of {', '.join(EXTENSIONS)}")
    return Path(run_dir) / MEDIA_DIR / f"{name}-{int(step):012d}.{ext}"


def step_media(run_dir: str | Path, step: int) -> dict[str, Path]:
    """Every picture of ``step`` in the run directory, by logging key: ``media/NAME`` for an image,
    ``media/NAME_animation`` for an animation; ``{}`` when there is none."""
    found = {}
    for path in sorted((Path(run_dir) / MEDIA_DIR).glob(f"*-{int(step):012d}.*")):
        name, ext = path.stem.rsplit("-", 1)[0], path.suffix[1:]
        if _NAME.fullmatch(name) and ext in EXTENSIONS:
            found[f"media/{name}" + ("_animation" if ext == "gif" else "")] = path
    return found


def latest_media(run_dir: str | Path, name: str, ext: str = "png") -> Path | None:
    """The picture ``name`` of the run's latest step that has one, or ``None``."""
    paths = sorted((Path(run_dir) / MEDIA_DIR).glob(f"{name}-" + "[0-9]" * 12 + f".{ext}"))
    return paths[-1] if paths else None


def save_png(image: np.ndarray, path: str | Path, title: str | None = None) -> Path:
    """Write an ``(H, W, 3)`` uint8 image as a PNG (folders made as needed), with ``title`` as its ``Title`` text
    (what :func:`media_title` reads back); returns the path."""
    from PIL import Image, PngImagePlugin

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    info = PngImagePlugin.PngInfo()
    if title:
        info.add_text("Title", title)
    Image.fromarray(_rgb(image)).save(path, format="PNG", optimize=True, pnginfo=info)
    return path


def media_title(path: str | Path) -> str | None:
    """The ``Title`` text of a PNG written by :func:`save_png` (``None`` without one)."""
    from PIL import Image

    with Image.open(path) as image:
        title = image.info.get("Title")
    return None if title is None else str(title)


def save_gif(frames: Sequence[np.ndarray], path: str | Path, frame_ms: int = 400, last_ms: int = 2500) -> Path:
    """Write ``frames`` (``(H, W, 3)`` uint8, one shape) as a GIF that loops: ``frame_ms`` per frame, ``last_ms`` on
    the last one; returns the path. :class:`ValueError` for no frames or frames of differing shapes."""
    from PIL import Image

    if not frames or len({np.shape(f) for f in frames}) != 1:
        raise ValueError(f"a GIF needs frames of one shape, got {len(frames)} of shapes "
                         f"{sorted({np.shape(f) for f in frames})}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # One palette for every frame, made from a sample of them: Pillow then stores each frame as its change from the
    # one before (a Go game's GIF is a sixth of the size) and maps colours in one pass (five times as fast as its
    # default, a median cut of every frame). A colour seen only in frames left out of the sample takes the nearest.
    palette = _palette(np.concatenate([_rgb(f) for f in [*frames[:: max(1, len(frames) // 16)], frames[-1]]]))
    images = [Image.fromarray(_rgb(f)).quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    durations = [frame_ms] * (len(images) - 1) + [last_ms]
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0)
    return path


def _palette(sample: np.ndarray) -> Any:
    """A Pillow palette image for pictures like ``sample`` (``(H, W, 3)`` uint8): its own colours when it has at most
    256 (kept exactly: a Go board has five), else 256 chosen by an octree."""
    from PIL import Image

    packed = np.unique((sample[..., 0].astype(np.uint32) << 16) | (sample[..., 1].astype(np.uint32) << 8)
                       | sample[..., 2])
    if len(packed) > 256:
        return Image.fromarray(sample).quantize(256, Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    palette = Image.new("P", (1, 1))
    palette.putpalette(np.stack([packed >> 16, (packed >> 8) & 255, packed & 255], axis=1).astype(np.uint8).tobytes())
    return palette


def _rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"an image is (H, W, 3) uint8, got {image.shape} {image.dtype}")
    return np.ascontiguousarray(image)
