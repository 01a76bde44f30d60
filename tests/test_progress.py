"""The progress bar: plain lines at once and then every ``log_interval`` seconds when stderr is not a terminal, the
pending steps of a long collect counted, and a live layout that keeps count, rate and ETA in 80 columns."""

import io

from rich.console import Console

from zoo.run.progress import ProgressBar


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def plain_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("train ")]


def test_plain_lines_when_not_a_terminal(capsys) -> None:
    with ProgressBar(1000, 0, True, description="train", log_interval=0.0, heartbeat=False) as bar:
        assert bar.plain  # pytest captures stderr: not a terminal
        bar.update(250, "win 0.50")
        bar.update(500, "win 0.75")
    lines = plain_lines(capsys.readouterr().err)
    assert len(lines) == 4  # the first line at once, two updates and the closing line
    assert lines[0].startswith("train 0/1,000 (0.0%) - steps/s")
    assert lines[1].startswith("train 250/1,000 (25.0%)") and lines[1].endswith("win 0.50")
    assert "steps/s" in lines[2] and " eta " in lines[2] and lines[-1].startswith("train 500/1,000 (50.0%)")


def test_no_lines_when_disabled(capsys) -> None:
    with ProgressBar(10, 0, False, log_interval=0.0) as bar:
        bar.update(5, "x")
        bar.status("evaluating")
        bar.note("a note")
    assert capsys.readouterr().err == ""


def test_plain_line_cadence_on_a_fake_clock(capsys) -> None:
    """A line at once, then one per ``log_interval`` (10 s) however often the loop updates, and one at the end."""
    clock = FakeClock()
    with ProgressBar(100_000, 0, True, clock=clock, heartbeat=False, metric="first collect") as bar:
        assert len(plain_lines(capsys.readouterr().err)) == 1  # at once, before any work
        for step in range(1, 61):  # 60 s of updates, one per second, 100 steps each
            clock.now += 1.0
            bar.update(step * 100, "loss 2.5")
        clock.now += 4.0
        bar.poll()  # 4 s after the last line: nothing
        clock.now += 6.0
        bar.poll()  # 10 s: a line, though no update came (a long collect or evaluation)
    lines = plain_lines(capsys.readouterr().err)
    assert len(lines) == 6 + 1 + 1  # every 10 s of the 60, the poll, the closing line
    assert lines[0] == "train 1,000/100,000 (1.0%) 100 steps/s elapsed 0:00:10 eta 0:16:30 loss 2.5"
    assert lines[5].startswith("train 6,000/100,000 (6.0%) 100 steps/s elapsed 0:01:00 eta 0:15:40")
    assert lines[6].startswith("train 6,000/100,000 (6.0%) 86 steps/s elapsed 0:01:10")


def test_the_first_line_says_what_runs(capsys) -> None:
    with ProgressBar(512, 0, True, heartbeat=False, metric="first collect (self-play)"):
        pass
    first = plain_lines(capsys.readouterr().err)[0]
    assert first == "train 0/512 (0.0%) - steps/s elapsed 0:00:00 eta - first collect (self-play)"


def test_pending_steps_of_a_long_collect_count(capsys) -> None:
    """During a first collect the count and rate come from the collect's own progress, before any update."""
    clock, played = FakeClock(), [0]
    with ProgressBar(200_000, 0, True, clock=clock, heartbeat=False, pending=lambda: played[0]) as bar:
        clock.now += 10.0
        played[0] = 192
        bar.poll()
    line = plain_lines(capsys.readouterr().err)[1]
    assert line.startswith("train 192/200,000 (0.1%) 19 steps/s elapsed 0:00:10 eta 2:53:26")


def test_status_shows_before_the_metric_until_the_next_update(capsys) -> None:
    clock = FakeClock()
    with ProgressBar(1000, 0, True, clock=clock, heartbeat=False) as bar:
        clock.now += 1.0
        bar.update(100, "win vs random 0.50")
        bar.status("evaluating (10 episodes)", 150)  # the steps the run has counted since the last update
        assert bar.text() == "evaluating (10 episodes) | win vs random 0.50" and bar.completed() == 150
        bar.update(200, "win vs random 0.70")
        assert bar.text() == "win vs random 0.70"
    lines = plain_lines(capsys.readouterr().err)
    assert any(line.startswith("train 150/1,000 (15.0%)")
               and line.endswith("evaluating (10 episodes) | win vs random 0.50") for line in lines)


def test_heartbeat_thread_prints_between_updates(capsys) -> None:
    import time

    printed: list[str] = []
    deadline = time.monotonic() + 30
    with ProgressBar(1000, 0, True, log_interval=0.05):
        while len(printed) < 3 and time.monotonic() < deadline:  # waits on the lines, not on a fixed sleep
            printed += plain_lines(capsys.readouterr().err)
            time.sleep(0.01)
    assert len(printed) >= 3, "the heartbeat printed fewer than 3 lines in 30 s with no update"


def test_lines_are_spaced_by_the_interval(capsys) -> None:
    with ProgressBar(100, 0, True, log_interval=3600.0, heartbeat=False) as bar:
        for step in range(1, 101):
            bar.update(step)
    assert len(plain_lines(capsys.readouterr().err)) == 2  # at once and at the end


def render(bar: ProgressBar, width: int = 80) -> list[str]:
    out = io.StringIO()
    Console(file=out, width=width, force_terminal=False, color_system=None).print(bar.renderable())
    return out.getvalue().splitlines()


def test_80_columns_keep_count_rate_and_eta() -> None:
    """Long win-rate text goes on its own line, cut with an ellipsis; the count, rate and ETA stay whole."""
    clock = FakeClock()
    terminal = Console(file=io.StringIO(), width=80, force_terminal=True)
    bar = ProgressBar(200_000, 0, True, clock=clock, heartbeat=False, console=terminal)
    assert not bar.plain
    clock.now += 1000.0
    metric = ("win vs random 0.98, capture 0.78, loss 2.345, self-play 21.3 pos/s, 1,234 games, "
              "and more text than fits in any terminal")
    bar.update(21_000, metric)
    lines = render(bar)
    assert len(lines) == 2 and all(len(line) <= 80 for line in lines)
    row, text = lines
    assert "21,000/200,000" in row and "21 steps/s" in row and "eta 2:22:0" in row and "…" not in row
    assert text.startswith("  win vs random 0.98, capture 0.78") and text.endswith("…")


def test_80_columns_with_the_largest_counts() -> None:
    clock = FakeClock()
    bar = ProgressBar(4_000_000, 0, True, clock=clock, heartbeat=False,
                      console=Console(file=io.StringIO(), width=80, force_terminal=True))
    clock.now += 36_000.0
    bar.update(3_999_999, "x")
    row = render(bar)[0]
    assert "3,999,999/4,000,000" in row and "111 steps/s" in row and "eta 0:00:00" in row and "…" not in row
