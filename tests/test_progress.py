"""The progress bar prints plain lines (steps, rate, ETA, metric) when stderr is not a terminal."""

from zoo.run.progress import ProgressBar


def test_plain_lines_when_not_a_terminal(capsys) -> None:
    with ProgressBar(1000, 0, True, description="train", log_interval=0.0) as bar:
        assert bar.plain  # pytest captures stderr: not a terminal
        bar.update(250, "win 0.50")
        bar.update(500, "win 0.75")
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("train ")]
    assert len(lines) == 3  # two updates and the closing line
    assert lines[0].startswith("train 250/1,000 (25.0%)") and lines[0].endswith("win 0.50")
    assert "steps/s" in lines[1] and " eta " in lines[1] and lines[-1].startswith("train 500/1,000 (50.0%)")


def test_no_lines_when_disabled(capsys) -> None:
    with ProgressBar(10, 0, False, log_interval=0.0) as bar:
        bar.update(5, "x")
    assert capsys.readouterr().err == ""


def test_lines_are_spaced_by_the_interval(capsys) -> None:
    with ProgressBar(100, 0, True, log_interval=3600.0) as bar:
        for step in range(1, 101):
            bar.update(step)
    assert len([line for line in capsys.readouterr().err.splitlines() if line.startswith("train ")]) == 1
