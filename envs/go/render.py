"""Pictures of a Go position for the envs' ``render()``: text (``ansi``) and an image (``rgb_array``); and the
pictures of a whole game record, one per position (:func:`game_frames`), for animations of sample games.

Both position pictures read only ``state.board`` (``(N, N)`` int8, ``1`` black, ``-1`` white, ``0`` empty, row 0
at the top), ``state.last_move``, ``state.to_play``, ``state.captures`` and ``state.move_count``. The image is
drawn with numpy alone (no pygame), so it works headless.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import gymnasium
import numpy as np

from envs.go.coords import GTP_COLUMNS, action_to_gtp
from envs.go.sgf import GameRecord, SgfError, record_to_state

if TYPE_CHECKING:
    from envs.go.state import GoState

_WOOD = np.array([220, 179, 92], dtype=np.uint8)
_LINE = np.array([40, 30, 10], dtype=np.uint8)
_BLACK_STONE = np.array([20, 20, 20], dtype=np.uint8)
_WHITE_STONE = np.array([242, 242, 236], dtype=np.uint8)
_MARK = np.array([220, 40, 40], dtype=np.uint8)
_SYMBOL = {1: "X", -1: "O", 0: "."}


def star_points(size: int) -> list[tuple[int, int]]:
    """Hoshi ``(row, col)`` of the usual boards: 4/4 points (3/3 below 13x13), plus sides and centre on 19."""
    if size < 7:
        return [(size // 2, size // 2)] if size % 2 else []
    edge = 3 if size >= 13 else 2
    far = size - 1 - edge
    points = [(edge, edge), (edge, far), (far, edge), (far, far)]
    if size % 2:
        mid = size // 2
        points.append((mid, mid))
        if size >= 19:
            points += [(edge, mid), (far, mid), (mid, edge), (mid, far)]
    return points


def _last_point(state: GoState) -> tuple[int, int] | None:
    last = state.last_move
    n = state.size
    if last is None or not 0 <= int(last) < n * n:
        return None
    return divmod(int(last), n)


def _captures(state: GoState) -> tuple[int, int]:
    caps = state.captures
    return int(caps[0]), int(caps[1])


def ansi(state: GoState) -> str:
    """The board as text with GTP coordinates (columns A.. without I, row 1 at the bottom).

    ``X`` is black, ``O`` white, ``.`` empty, ``+`` an empty star point; the last move is framed ``(X)``.
    A status line follows: side to move (or the result once over), move number, captures, last move.
    """
    n = state.size
    board = np.asarray(state.board)
    stars = set(star_points(n))
    last = _last_point(state)
    header = "   " + " ".join(GTP_COLUMNS[:n])
    lines = [header]
    for r in range(n):
        cells = [_SYMBOL[int(board[r, c])] for c in range(n)]
        cells = ["+" if ch == "." and (r, c) in stars else ch for c, ch in enumerate(cells)]
        seps = [" "] * (n + 1)
        if last is not None and last[0] == r:
            seps[last[1]], seps[last[1] + 1] = "(", ")"
        row = "".join(seps[c] + cells[c] for c in range(n)) + seps[n]
        lines.append(f"{n - r:2d}{row}{n - r:<2d}".rstrip())
    lines.append(header)
    black_caps, white_caps = _captures(state)
    if state.is_terminal:
        winner = state.winner()
        status = "game over: " + {1: "black wins", -1: "white wins"}.get(int(winner), "draw")
    else:
        status = ("black (X)" if state.to_play == 1 else "white (O)") + " to play"
    last_text = "none"
    if state.last_move is not None and int(state.last_move) >= 0:
        last_text = action_to_gtp(int(state.last_move), n)
    lines.append(
        f"{status}; move {state.move_count}; captures: black {black_caps}, white {white_caps}; last move {last_text}"
    )
    return "\n".join(lines)


def rgb_array(state: GoState, cell: int | None = None) -> np.ndarray:
    """An ``(H, W, 3)`` uint8 picture: wooden board, grid lines, star points, stones, a red dot on the last move.

    ``cell`` is the distance between lines in pixels (default: about 400 pixels for the whole board, at least
    16 per line). The image is ``(N + 1) * cell`` pixels square.
    """
    n = state.size
    cell = cell or max(16, 400 // (n + 1))
    img, dist2 = _empty_board(n, cell), _dist2(cell)
    board = np.asarray(state.board)
    for r, c in zip(*np.nonzero(board), strict=True):
        _stone(img, r, c, int(board[r, c]), cell, dist2)
    last = _last_point(state)
    if last is not None:
        _disc(img, last[0], last[1], cell, dist2 <= max(2, cell // 7) ** 2, _MARK)
    return img


def _empty_board(n: int, cell: int) -> np.ndarray:
    """The picture of the empty board: wood, grid lines, star points."""
    side = (n + 1) * cell
    img = np.empty((side, side, 3), dtype=np.uint8)
    img[:] = _WOOD
    lo, hi = cell, n * cell
    width = max(1, cell // 20)
    for i in range(n):
        p = (i + 1) * cell
        img[p - width // 2 : p - width // 2 + width, lo : hi + 1] = _LINE
        img[lo : hi + 1, p - width // 2 : p - width // 2 + width] = _LINE
    dist2 = _dist2(cell)
    for r, c in star_points(n):
        _disc(img, r, c, cell, dist2 <= max(2, cell // 10) ** 2, _LINE)
    return img


def _dist2(cell: int) -> np.ndarray:
    """Squared distance to the centre of a point's square, ``cell + 1`` pixels a side (``-cell // 2 .. cell // 2``
    around the point), so that neighbouring squares share their edge."""
    offs = np.arange(-cell // 2, cell // 2 + 1)
    dy, dx = np.meshgrid(offs, offs, indexing="ij")
    return dy * dy + dx * dx


def _stone(img: np.ndarray, r: int, c: int, colour: int, cell: int, dist2: np.ndarray) -> None:
    """A black (``colour`` > 0) or white stone with its outline on point ``(r, c)``; radius 0.47 cells, so within
    ``(cell - 1) // 2`` pixels of the point and clear of its neighbours."""
    radius = cell * 0.47
    _disc(img, r, c, cell, dist2 <= radius**2, _LINE)
    _disc(img, r, c, cell, dist2 <= (radius - max(1, cell // 24)) ** 2, _BLACK_STONE if colour > 0 else _WHITE_STONE)


def _square(img: np.ndarray, r: int, c: int, size: int, cell: int) -> tuple[slice, slice, int, int]:
    """Rows and columns of the ``size``-pixel square on point ``(r, c)`` (from ``size // 2`` before its centre),
    clipped to the image, and the square's unclipped top left corner."""
    y0, x0 = (r + 1) * cell - size // 2, (c + 1) * cell - size // 2
    ys = slice(max(0, y0), min(img.shape[0], y0 + size))
    xs = slice(max(0, x0), min(img.shape[1], x0 + size))
    return ys, xs, y0, x0


def _disc(img: np.ndarray, r: int, c: int, cell: int, mask: np.ndarray, colour: np.ndarray) -> None:
    """Paint ``colour`` where ``mask`` (a square centred on point ``(r, c)``) is true, clipped to the image."""
    ys, xs, y0, x0 = _square(img, r, c, mask.shape[0], cell)
    sub = mask[ys.start - y0 : ys.stop - y0, xs.start - x0 : xs.stop - x0]
    img[ys, xs][sub] = colour


def game_frames(record: GameRecord, cell: int | None = None) -> list[np.ndarray]:
    """The :func:`rgb_array` pictures of every position of ``record``: its start (empty, or its setup stones), then
    the board after each move; ``len(record.moves) + 1`` pictures of one shape (a pass repeats the board, without
    the red dot). ``cell`` as in :func:`rgb_array`. :class:`~envs.go.sgf.SgfError` names a move that does not
    replay under the suite's rules (illegal, or one colour twice in a row).

    Each picture is the one before with only the points that changed painted again (the stone played, the stones
    captured, the point that loses the red dot): from ``cell`` = 5 on, all that is drawn for a point lies within
    ``(cell - 1) // 2`` pixels of it, so a point is repainted by restoring that square of the empty board and
    drawing what stands there now.
    """
    first = record.first_player or (record.moves[0][0] if record.moves else None)
    state = record_to_state(dataclasses.replace(record, moves=[], first_player=first))
    cell = cell or max(16, 400 // (state.size + 1))
    empty, dist2, own = _empty_board(state.size, cell), _dist2(cell), 2 * ((cell - 1) // 2) + 1
    frames = [rgb_array(state, cell)]
    board, last = np.asarray(state.board).copy(), _last_point(state)
    for number, (colour, action) in enumerate(record.moves, start=1):
        if colour != state.to_play:
            raise SgfError(f"move {number}: {'black' if colour > 0 else 'white'} moves twice in a row")
        try:
            state.play(int(action))
        except ValueError as e:
            raise SgfError(f"move {number} is illegal: {e}") from None
        if cell < 5:
            frames.append(rgb_array(state, cell))
            continue
        img, now = frames[-1].copy(), np.asarray(state.board)
        points = set(zip(*np.nonzero(now != board), strict=True)) | ({last} if last is not None else set())
        for r, c in points:
            ys, xs, _, _ = _square(img, r, c, own, cell)
            img[ys, xs] = empty[ys, xs]
            if now[r, c]:
                _stone(img, r, c, int(now[r, c]), cell, dist2)
        board, last = now.copy(), _last_point(state)
        if last is not None:
            _disc(img, last[0], last[1], cell, dist2 <= max(2, cell // 7) ** 2, _MARK)
        frames.append(img)
    return frames


def render(state: GoState, mode: str | None) -> str | np.ndarray | None:
    """What an env's ``render()`` returns for ``mode``: ``ansi`` text, an ``rgb_array`` picture, or ``None``
    (with Gymnasium's warning) when the env was made without a render mode."""
    if mode is None:
        gymnasium.logger.warn("render() called without a render_mode; pass render_mode='ansi' or 'rgb_array'")
        return None
    return ansi(state) if mode == "ansi" else rgb_array(state)
