"""Drive an external GTP engine (GNU Go, Pachi, another zoo engine) as an opponent or a referee.

:class:`GtpClient` owns the engine subprocess. Every read has a timeout; :meth:`GtpClient.close` sends
``quit``, then terminates and finally kills the process, so no engine outlives its client, whether it
exited cleanly, crashed, or hangs. Use it as a context manager::

    with GtpClient(gnugo_argv(level=1)) as gnugo:
        gnugo.send("boardsize 9")
        print(gnugo.send("genmove b"))

:class:`GtpPlayer` makes the engine a :class:`zoo.play.players.Player`; :func:`referee_score` asks it to score.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from envs.go.coords import action_to_gtp, gtp_to_action
from envs.go.opponents import groups, neighbours
from envs.go.state import BLACK, WHITE
from zoo.play.players import RESIGN

if TYPE_CHECKING:
    from envs.go.state import GoState

GNUGO_FALLBACK = "/usr/games/gnugo"
_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True) if sys.platform == "linux" else None


def _engine_preexec() -> None:
    """In the engine's child process (Linux): die with SIGKILL when the process that started it dies."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class GtpError(RuntimeError):
    """The engine answered ``?`` (the message is the engine's), timed out, or died."""


class GtpClient:
    """A GTP engine subprocess started from ``argv``; ``timeout`` (seconds) bounds every response.

    The engine runs in its own session, so a Ctrl-C at the terminal reaches this process (which then closes the
    engine) rather than the engine; on Linux the engine is also killed when the thread that started it ends or its
    process dies, even by SIGKILL (so start engines from a thread that outlives them, e.g. the main thread).
    ``FileNotFoundError`` / ``PermissionError`` when ``argv[0]`` cannot be started.
    """

    def __init__(self, argv: list[str], timeout: float = 30.0, cwd: str | None = None) -> None:
        self.argv = list(argv)
        self.timeout = timeout
        self._proc = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, bufsize=1, cwd=cwd, start_new_session=True,
            preexec_fn=_engine_preexec if _LIBC is not None else None,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: deque[str] = deque(maxlen=20)
        self._threads = [
            threading.Thread(target=self._pump_stdout, daemon=True),
            threading.Thread(target=self._pump_stderr, daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _pump_stdout(self) -> None:
        try:
            for line in self._proc.stdout:
                self._lines.put(line.rstrip("\r\n"))
        except (OSError, ValueError):
            pass
        self._lines.put(None)  # end of output: wakes a waiting reader

    def _pump_stderr(self) -> None:
        try:
            for line in self._proc.stderr:
                self._stderr.append(line.rstrip("\r\n"))
        except (OSError, ValueError):
            pass

    def __enter__(self) -> GtpClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def pid(self) -> int:
        """Process id of the engine."""
        return self._proc.pid

    @property
    def alive(self) -> bool:
        """Whether the engine process is still running."""
        return self._proc.poll() is None

    def _died(self, what: str) -> GtpError:
        tail = " | ".join(self._stderr) or "no stderr"
        return GtpError(f"GTP engine {self.argv[0]} {what} (exit code {self._proc.poll()}; stderr: {tail})")

    def _readline(self, command: str) -> str:
        try:
            line = self._lines.get(timeout=self.timeout)
        except queue.Empty:
            self.close(timeout=0.2)  # a hung engine will not quit: terminate it almost at once
            raise GtpError(f"GTP engine {self.argv[0]} gave no answer to {command!r} within {self.timeout} s") from None
        if line is None:
            self._lines.put(None)
            raise self._died(f"closed its output while answering {command!r}")
        return line

    def send(self, command: str) -> str:
        """Send one command and return the result text (without ``=``, id and blank line).

        Raises :class:`GtpError` with the engine's message on a ``?`` answer, and on a timeout or a dead engine
        (the engine is then closed).
        """
        if not self.alive:
            raise self._died(f"is not running (command {command!r})")
        try:
            self._proc.stdin.write(command.strip() + "\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._died(f"did not accept {command!r}") from None
        line = self._readline(command)
        while not line or line[0] not in "=?":
            line = self._readline(command)
        lines = [line]
        while True:
            line = self._readline(command)
            if not line.strip():
                break
            lines.append(line)
        head = lines[0]
        ok, head = head[0] == "=", head[1:].lstrip("0123456789")
        text = "\n".join([head.strip()] + lines[1:]).strip("\n")
        if not ok:
            raise GtpError(f"GTP engine answered {command!r} with error: {text.strip()}")
        return text.strip() if "\n" not in text else text

    def close(self, timeout: float = 2.0) -> None:
        """Send ``quit`` (if the engine still runs), then terminate and kill it if it does not exit in time."""
        proc = self._proc
        if proc.poll() is None:
            try:
                proc.stdin.write("quit\n")
                proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            try:
                stream.close()
            except (OSError, ValueError):
                pass

    def __del__(self) -> None:
        proc = getattr(self, "_proc", None)
        if proc is not None and proc.poll() is None:
            proc.kill()


def find_gnugo() -> str | None:
    """Path of GNU Go: ``gnugo`` on ``PATH``, else ``/usr/games/gnugo`` (Debian), else ``None``."""
    found = shutil.which("gnugo")
    if found:
        return found
    return GNUGO_FALLBACK if os.access(GNUGO_FALLBACK, os.X_OK) else None


def gnugo_argv(
    level: int = 1, seed: int | None = None, monte_carlo: bool = False, chinese_rules: bool = True,
    path: str | None = None,
) -> list[str]:
    """argv for GNU Go in GTP mode at ``level`` (0..10). ``chinese_rules`` makes it count area like the suite.

    Raises ``FileNotFoundError`` when GNU Go is not installed (see :func:`find_gnugo`).
    """
    path = path or find_gnugo()
    if path is None:
        raise FileNotFoundError("GNU Go not found on PATH or at /usr/games/gnugo (apt-get install gnugo)")
    argv = [path, "--mode", "gtp", "--level", str(level)]
    if seed is not None:
        argv += ["--seed", str(seed)]
    if monte_carlo:
        argv.append("--monte-carlo")
    if chinese_rules:
        argv.append("--chinese-rules")
    return argv


def _chain_order(board: np.ndarray, colour: int) -> list[int]:
    """Stones of ``colour`` ordered chain by chain, each chain grown outwards from a stone next to a liberty.

    Placing stones in this order never leaves a partial chain without a liberty, so a legal position can be
    rebuilt with ``play`` commands without any capture or suicide on the way.
    """
    n = board.shape[0]
    flat = board.reshape(-1)
    order: list[int] = []
    for colour_, stones, _ in groups(board):
        if colour_ != colour:
            continue
        chain = set(stones)
        start = next((p for p in stones if any(flat[q] == 0 for q in neighbours(p, n))), stones[0])
        frontier, seen_chain = [start], {start}
        while frontier:
            p = frontier.pop(0)
            order.append(p)
            for q in neighbours(p, n):
                if q in chain and q not in seen_chain:
                    seen_chain.add(q)
                    frontier.append(q)
    return order


def setup_position(client: GtpClient, state: GoState) -> None:
    """Make the engine hold ``state``'s board: ``boardsize``, ``clear_board``, ``komi``, then ``play`` per stone.

    Black and white stones alternate (a colour that has run out passes), each chain grown from a stone next
    to one of its liberties, so no stone is ever captured or suicidal on the way; a last pass leaves
    ``state.to_play`` to move, which engines that insist on alternating colours need. The engine learns the
    stones but not the history: a ko or superko ban of ``state`` is not carried over.
    """
    n = state.size
    client.send(f"boardsize {n}")
    client.send("clear_board")
    client.send(f"komi {state.komi:g}")
    board = np.asarray(state.board)
    queues = {BLACK: _chain_order(board, BLACK), WHITE: _chain_order(board, WHITE)}
    colour = BLACK
    while queues[BLACK] or queues[WHITE]:
        stones = queues[colour]
        vertex = action_to_gtp(stones.pop(0), n) if stones else "pass"
        client.send(f"play {'b' if colour == BLACK else 'w'} {vertex}")
        colour = -colour
    if colour != state.to_play:
        client.send(f"play {'b' if colour == BLACK else 'w'} pass")


def replay_moves(client: GtpClient, size: int, komi: float, actions: list[int]) -> None:
    """Make the engine hold the game ``actions`` (black first, alternating) from the empty board, move by move."""
    client.send(f"boardsize {size}")
    client.send("clear_board")
    client.send(f"komi {komi:g}")
    colour = BLACK
    for action in actions:
        client.send(f"play {'b' if colour == BLACK else 'w'} {action_to_gtp(action, size)}")
        colour = -colour


def _same(a: GoState, b: GoState) -> bool:
    return (
        a.size == b.size and a.to_play == b.to_play and a.move_count == b.move_count
        and np.array_equal(a.board, b.board)
    )


class GtpPlayer:
    """A :class:`zoo.play.players.Player` backed by a GTP engine: syncs the position, then asks ``genmove``.

    The player mirrors the position the engine holds. When the new position is the mirror plus one move (the
    usual case: the opponent answered the move this player returned), only that move is sent with ``play``,
    so the engine knows the full history (ko). Otherwise the board is rebuilt stone by stone
    (:func:`setup_position`). A move the suite's rules forbid (GNU Go checks simple ko, not positional
    superko) is taken back in the engine and replaced by pass; ``resign`` becomes :data:`RESIGN`.
    """

    def __init__(self, client: GtpClient, name: str | None = None, genmove: str = "genmove") -> None:
        self.client = client
        self.name = name or client.send("name")
        self.genmove = genmove
        """The move command: ``genmove``, or ``kgs-genmove_cleanup`` (GNU Go: capture dead stones before passing,
        which area scoring without a dead-stone phase needs)."""
        self.rebuilds = 0
        """How often the position had to be rebuilt stone by stone (see :meth:`sync`)."""
        self._mirror: GoState | None = None

    def reset(self) -> None:
        """Forget the mirrored position; the next move rebuilds it in the engine."""
        self._mirror = None

    def reseed(self, seed: int) -> None:
        """Nothing to do here: an engine takes its seed on its command line (a match restarts it per game)."""

    def sync(self, state: GoState) -> None:
        """Make the engine hold ``state``: one ``play`` if it is the mirrored position plus one move, else a rebuild."""
        mirror = self._mirror
        if mirror is not None and mirror.size == state.size and mirror.komi == state.komi:
            if _same(mirror, state):
                return
            for action in np.flatnonzero(mirror.legal_mask()):
                after = mirror.copy()
                after.play(int(action))
                if _same(after, state):
                    colour = "b" if mirror.to_play == BLACK else "w"
                    self.client.send(f"play {colour} {action_to_gtp(int(action), state.size)}")
                    self._mirror = after
                    return
        self._mirror = None
        self.rebuilds += 1
        setup_position(self.client, state)
        self._mirror = state.copy()

    def select_move(self, state: GoState) -> int:
        """The engine's move for ``state`` (``state`` itself is not changed)."""
        self.sync(state)
        colour = "b" if state.to_play == BLACK else "w"
        reply = self.client.send(f"{self.genmove} {colour}").strip().lower()
        if reply == "resign":
            self._mirror = None
            return RESIGN
        action = gtp_to_action(reply, state.size)
        if not state.is_legal(action):
            action = state.size * state.size
            try:
                self.client.send("undo")
                self.client.send(f"play {colour} pass")
            except GtpError:
                self._mirror = None
                return action
        self._mirror = state.copy()
        self._mirror.play(action)
        return action


def referee_score(client: GtpClient, state: GoState, actions: list[int] | None = None) -> str:
    """The engine's ``final_score`` (e.g. ``B+3.5``) of ``state``; the engine decides which stones are dead.

    With ``actions`` (the game from the empty board) the game is replayed move by move; without, the board is
    set up stone by stone. Use GNU Go with ``--chinese-rules`` (see :func:`gnugo_argv`) for area counting.
    """
    if actions is not None:
        replay_moves(client, state.size, state.komi, actions)
    else:
        setup_position(client, state)
    return client.send("final_score").strip()
