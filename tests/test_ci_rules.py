"""What CI insists on: tests that need GNU Go fail under ``CI=true`` when it is missing instead of skipping, and
``.ci/run`` runs the README's test command and then the ``mission`` tier of slow tests."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT, pytest_runtest_setup, subprocess_env


class MarkedItem:
    """The one thing the hook asks of a test item: its ``gnugo`` marker."""

    def __init__(self, marked: bool) -> None:
        self.marked = marked

    def get_closest_marker(self, name: str) -> object | None:
        return object() if self.marked and name == "gnugo" else None


@pytest.mark.parametrize("ci,outcome", [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_a_missing_gnugo_fails_under_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch, ci: str,
                                                            outcome: type[BaseException]) -> None:
    monkeypatch.setattr("zoo.play.gtp_client.find_gnugo", lambda: None)
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="GNU Go is not installed"):
        pytest_runtest_setup(MarkedItem(True))
    pytest_runtest_setup(MarkedItem(False))  # unmarked tests are left alone


def test_an_installed_gnugo_lets_marked_tests_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("zoo.play.gtp_client.find_gnugo", lambda: "/usr/games/gnugo")
    monkeypatch.setenv("CI", "true")
    pytest_runtest_setup(MarkedItem(True))


def test_ci_runs_the_readme_test_command_then_the_mission_tier() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert "python -m pytest" in readme and ci[-2:] == ["python -m pytest", "python -m pytest -m mission"]


def test_the_mission_tier_holds_what_guards_the_main_job_and_stays_out_of_the_default_run() -> None:
    def collected(marks: str) -> set[str]:
        argv = ["-o", "addopts=--import-mode=importlib", "--collect-only", "-q", "-m", marks]
        done = subprocess.run([sys.executable, "-m", "pytest", *argv], cwd=ROOT,
                              env=subprocess_env(), capture_output=True, text=True, timeout=300)
        return {line.split("[")[0] for line in done.stdout.splitlines() if "::" in line}

    mission = collected("mission")
    wanted = ["tests/test_distributed.py::test_two_workers_feed_the_learner",
              "tests/test_ddp.py::test_two_gloo_ranks_keep_equal_parameters",
              "tests/nets/test_compress.py::test_int8_pt2e_agrees_with_fp32",
              "tests/agents/test_solve.py::test_dqn_balances_cartpole",
              "tests/go/test_crosscheck.py::test_crosscheck_openspiel_many"]
    assert all(w in mission for w in wanted), sorted(mission)
    assert any(t.startswith("tests/zero/") for t in mission), sorted(mission)  # AlphaZero learns
    assert not mission & collected("not slow and not gpu")  # the README's command (addopts) leaves them out
