"""A user's own env: registered with Gymnasium in their package, named in a YAML file, trained from the CLI."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

from conftest import subprocess_env, train_cmd

CORRIDOR = '''
import gymnasium
from gymnasium import spaces


class CorridorEnv(gymnasium.Env):
    """Walk right along a corridor of `length` cells; reward 1 at the end."""

    def __init__(self, length=6):
        self.length = length
        self.observation_space = spaces.Discrete(length)
        self.action_space = spaces.Discrete(2)  # 0 left, 1 right

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.pos = 0
        return self.pos, {}

    def step(self, action):
        self.pos = max(0, min(self.length - 1, self.pos + (1 if action == 1 else -1)))
        done = self.pos == self.length - 1
        return self.pos, float(done), done, False, {"is_success": done} if done else {}
'''


def test_user_env_trains_from_the_cli(tmp_path: Path) -> None:
    pkg = tmp_path / "mypkg"
    pkg.mkdir()
    (pkg / "corridor.py").write_text(CORRIDOR)
    (pkg / "__init__.py").write_text(textwrap.dedent('''
        import gymnasium
        gymnasium.register(id="my/Corridor-v0", entry_point="mypkg.corridor:CorridorEnv", max_episode_steps=50)
    '''))
    conf = tmp_path / "myconf" / "env"
    conf.mkdir(parents=True)
    (conf / "corridor.yaml").write_text("name: corridor\nid: mypkg:my/Corridor-v0\nkwargs:\n  length: 6\n")
    env = subprocess_env()
    env["PYTHONPATH"] = str(tmp_path)
    proc = subprocess.run(
        train_cmd(f"hydra.searchpath=[file://{tmp_path / 'myconf'}]", "env=corridor", "agent=q", "steps=3000",
                  "agent.epsilon_decay_episodes=100", "agent.lr_start=0.5", "eval.episodes=5", "logger=csv",
                  "progress=false", f"hydra.run.dir={tmp_path / 'run'}"),
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=180)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["env"] == "corridor"
    assert summary["eval/success_rate"] == 1.0 and summary["eval/length_mean"] == 5.0  # the shortest path


def test_gym_runs_are_filed_and_reported_by_their_env_id(tmp_path: Path) -> None:
    """``env=gym env.id=mypkg:my/Corridor-v0`` is filed under runs/gym-my-Corridor-v0/ and reported as that env."""
    from zoo.reporting.run_data import load_runs

    pkg = tmp_path / "mypkg"
    pkg.mkdir()
    (pkg / "corridor.py").write_text(CORRIDOR)
    (pkg / "__init__.py").write_text('import gymnasium\ngymnasium.register(id="my/Corridor-v0", '
                                     'entry_point="mypkg.corridor:CorridorEnv", max_episode_steps=50)\n')
    env = subprocess_env()
    env["PYTHONPATH"] = str(tmp_path)
    proc = subprocess.run(train_cmd("env=gym", "env.id=mypkg:my/Corridor-v0", "agent=q", "steps=200",
                                    "eval.episodes=2", "logger=csv", "progress=false"),
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=180)
    assert proc.returncode == 0, proc.stderr
    (run,) = (tmp_path / "runs" / "gym-my-Corridor-v0" / "q").iterdir()
    assert json.loads((run / "summary.json").read_text())["env"] == "gym-my-Corridor-v0"
    assert not (run / "train.log").exists()
    assert [r.key("env") for r in load_runs([tmp_path / "runs"])] == ["gym-my-Corridor-v0"]


def test_default_logger_is_wandb_offline(tmp_path: Path) -> None:
    proc = subprocess.run(
        train_cmd("env=cliff", "agent=sarsa", "steps=500", "eval.episodes=2", "progress=false",
                  f"hydra.run.dir={tmp_path / 'run'}"),
        capture_output=True, text=True, env=subprocess_env(), cwd=tmp_path, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert list((tmp_path / "run" / "wandb").glob("offline-run-*/run-*.wandb"))
