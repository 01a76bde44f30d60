"""What CI insists on: tests that need GNU Go fail under ``CI=true`` when it is missing instead of skipping."""

from __future__ import annotations

import pytest
from conftest import pytest_runtest_setup


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
