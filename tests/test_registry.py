"""Registration: zoo envs are found with and without importing ``envs`` first (Gymnasium 1.x loads no plugins)."""

from __future__ import annotations

import subprocess
import sys

import gymnasium

import envs


def test_make_without_importing_envs_first() -> None:
    code = ("import sys, gymnasium\n"
            "assert 'envs' not in sys.modules\n"
            "env = gymnasium.make('envs:zoo/FrozenLake8x8-v0')\n"
            "print(env.unwrapped.observation_space.n)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "64"


def test_every_zoo_id_is_registered_once_and_registering_again_is_harmless() -> None:
    before = sorted(k for k in gymnasium.registry if k.startswith("zoo/"))
    envs.register_all()
    assert sorted(k for k in gymnasium.registry if k.startswith("zoo/")) == before
    assert {"zoo/FrozenLake8x8-v0", "zoo/CliffWalking-v0", "zoo/Go9x9-v0", "zoo/TMaze-v0"} <= set(before)


def test_the_run_core_makes_envs_without_importing_envs_and_the_launcher_registers_them() -> None:
    code = ("import sys\n"
            "from zoo.errors import ConfigError\n"
            "from zoo.run.config import EnvConfig\n"
            "from zoo.run.make_env import make_env\n"
            "assert 'envs' not in sys.modules\n"
            "try:\n"
            "    make_env(EnvConfig())\n"
            "except ConfigError as exc:\n"
            "    print(exc)\n"
            "import zoo.launch\n"
            "print(make_env(EnvConfig(), seed=0).unwrapped.observation_space.n)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    refused, made = out.stdout.strip().splitlines()
    assert "cannot make env 'zoo/FrozenLake8x8-v0'" in refused and "none registered (import envs first)" in refused
    assert made == "64"
