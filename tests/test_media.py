"""Pictures of a run (zoo.run.media): where they go, how they are written, how the loop and wandb log them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import compose
from PIL import Image

import envs  # noqa: F401  (registers the zoo envs)
from zoo.run.config import LoggerConfig
from zoo.run.logging import make_logger
from zoo.run.loop import Run, RunHooks
from zoo.run.media import latest_media, media_path, media_title, save_gif, save_png, step_media


def frames(count: int, shape: tuple[int, int] = (12, 16)) -> list[np.ndarray]:
    """``count`` distinct solid-colour frames."""
    return [np.full((*shape, 3), 40 * i % 256, dtype=np.uint8) for i in range(count)]


def test_media_paths_name_the_step_and_step_media_finds_them(tmp_path: Path) -> None:
    assert media_path(tmp_path, "eval", 2048, "gif") == tmp_path / "media" / "eval-000000002048.gif"
    for name, ext in (("Eval", "png"), ("a-b", "png"), ("eval", "jpg")):
        with pytest.raises(ValueError, match="must be"):
            media_path(tmp_path, name, 1, ext)
    save_png(frames(1)[0], media_path(tmp_path, "eval", 100, "png"))
    save_gif(frames(3), media_path(tmp_path, "eval", 100, "gif"))
    save_png(frames(1)[0], media_path(tmp_path, "policy", 100, "png"))
    save_png(frames(1)[0], media_path(tmp_path, "policy", 300, "png"))
    assert step_media(tmp_path, 100) == {"media/eval": media_path(tmp_path, "eval", 100, "png"),
                                         "media/eval_animation": media_path(tmp_path, "eval", 100, "gif"),
                                         "media/policy": media_path(tmp_path, "policy", 100, "png")}
    assert step_media(tmp_path, 200) == {} and step_media(tmp_path / "nowhere", 100) == {}
    assert latest_media(tmp_path, "policy") == media_path(tmp_path, "policy", 300, "png")
    assert latest_media(tmp_path, "eval", "gif") == media_path(tmp_path, "eval", 100, "gif")
    assert latest_media(tmp_path, "game") is None


def test_a_gif_keeps_its_frames_and_a_png_its_size(tmp_path: Path) -> None:
    gif = Image.open(save_gif(frames(4), tmp_path / "a.gif"))
    assert gif.n_frames == 4 and gif.size == (16, 12) and gif.info["loop"] == 0
    for i, frame in enumerate(frames(4)):  # few colours: kept exactly
        gif.seek(i)
        assert np.array_equal(np.asarray(gif.convert("RGB")), frame)
    noise = [np.random.default_rng(i).integers(0, 256, (20, 20, 3), dtype=np.uint8) for i in range(3)]
    assert Image.open(save_gif(noise, tmp_path / "noise.gif")).n_frames == 3  # more than 256 colours: a palette
    png = Image.open(save_png(frames(2)[1], tmp_path / "sub" / "a.png"))
    assert png.format == "PNG" and png.size == (16, 12)
    assert np.array_equal(np.asarray(png.convert("RGB")), frames(2)[1])
    assert media_title(tmp_path / "sub" / "a.png") is None
    assert media_title(save_png(frames(1)[0], tmp_path / "t.png", title="zero vs capture, B+R")) == \
        "zero vs capture, B+R"
    with pytest.raises(ValueError, match="frames of one shape"):
        save_gif(frames(1) + frames(1, (8, 8)), tmp_path / "b.gif")
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        save_png(np.zeros((4, 4)), tmp_path / "c.png")


def test_wandb_logs_images_and_animations_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WANDB_DIR", raising=False)
    png = save_png(frames(1)[0], media_path(tmp_path / "pics", "eval", 5, "png"))
    gif = save_gif(frames(3), media_path(tmp_path / "pics", "eval", 5, "gif"))
    logger = make_logger(LoggerConfig(kind="wandb", mode="offline"), tmp_path, {}, name="r", group="g", job_type="q")
    logger.log({"eval/win_random": 1.0}, step=5)
    logger.log_media({"media/eval": png, "media/eval_animation": gif}, step=5)
    logger.close()
    (run,) = (tmp_path / "wandb").glob("offline-run-*")
    assert [p.name.split("_5_")[0] for p in run.rglob("media/images/media/*.png")] == ["eval"]
    assert [p.name.split("_5_")[0] for p in run.rglob("media/videos/media/*.gif")] == ["eval_animation"]


class Recorder:
    """A logger that keeps what it is handed."""

    def __init__(self) -> None:
        self.media: list[tuple[int, dict[str, Path]]] = []

    def log(self, metrics: Mapping[str, float], step: int) -> None:
        pass

    def log_media(self, media: Mapping[str, Path], step: int) -> None:
        if media:
            self.media.append((step, dict(media)))

    def close(self, summary: Mapping[str, Any] | None = None) -> None:
        pass


def test_the_run_loop_logs_the_pictures_its_evaluations_drew(tmp_path: Path) -> None:
    def drawing(agent, env, episodes, run_dir, step, *, seed):  # noqa: ANN001, ANN202
        save_png(frames(1)[0], media_path(run_dir, "sketch", step, "png"))
        return {}

    cfg = compose("env=frozenlake4", "agent=q", "logger=csv", "progress=false", "steps=2000", "eval.every=1000",
                  "eval.episodes=2", "checkpoint_every=0", run_dir=str(tmp_path / "run"))
    r = Run(cfg, RunHooks(evaluations=(drawing,)))
    recorder = Recorder()
    r.logger.loggers.append(recorder)
    summary = r.train()
    steps = [step for step, _ in recorder.media]
    assert len(steps) == 2 and steps[-1] == summary["env_steps"]  # two in the loop, the last at the run's end
    assert all(media == {"media/sketch": media_path(tmp_path / "run", "sketch", step, "png")}
               for step, media in recorder.media)
