"""A non-editable install carries everything the commands need: the packages, the Hydra config groups (conf/) and the
shipped agents (pretrained/)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, subprocess_env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The suite built as a wheel and installed (no dependencies: they are this interpreter's) into a folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT), "-w", str(tmp)], check=True,
                   capture_output=True)
    wheel = next(tmp.glob("zoo_rl-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "conf/config.yaml" in names and "conf/agent/zero.yaml" in names and "conf/env/go9.yaml" in names
    shipped = {"pretrained/__init__.py", "pretrained/go7.json", "pretrained/go7.md", "pretrained/go7-zero-2h.pt"}
    assert shipped <= set(names)
    target = tmp / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    return target


def run_installed(target: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**subprocess_env(), "PYTHONPATH": str(target), "WANDB_MODE": "disabled"}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_the_installed_train_module_composes_its_shipped_config(installed: Path, tmp_path: Path) -> None:
    where = run_installed(installed, tmp_path, "-c", "import train, zoo; print(train.CONF_DIR); print(zoo.__file__)")
    conf_dir, zoo_file = where.stdout.split()
    assert Path(conf_dir) == installed / "conf" and Path(zoo_file).is_relative_to(installed)
    done = run_installed(installed, tmp_path, "-m", "train", "env=frozenlake4", "agent=q", "steps=200", "logger=none",
                         "progress=false")
    assert done.returncode == 0, done.stderr
    assert list((tmp_path / "runs" / "frozenlake4" / "q").glob("*/summary.json"))


@pytest.mark.slow
def test_the_installed_package_finds_and_checks_its_shipped_agents(installed: Path, tmp_path: Path) -> None:
    done = run_installed(installed, tmp_path, "-m", "zoo.pretrained", "path", "go7")
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == installed / "pretrained" / "go7-zero-2h.pt"
    listing = run_installed(installed, tmp_path, "-m", "zoo.pretrained")
    assert listing.returncode == 0 and "cartpole-ppo" in listing.stdout and "go7-30min" in listing.stdout


@pytest.mark.slow
def test_the_installed_commands_answer_help(installed: Path, tmp_path: Path) -> None:
    for module in ("zoo.arena", "zoo.gtp", "zoo.report"):
        done = run_installed(installed, tmp_path, "-m", module, "--help")
        assert done.returncode == 0 and "usage" in done.stdout.lower(), (module, done.stderr)
