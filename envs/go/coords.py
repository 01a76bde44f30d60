"""Conversions between zoo Go actions and the coordinates of GTP and SGF.

Vocabulary (the same everywhere in the suite):

- **action**: an ``int``. ``a < N*N`` is the point ``(row, col) = divmod(a, N)`` with row 0 at the **top**;
  ``a == N*N`` is pass.
- **GTP vertex**: a column letter from ``A..Z`` skipping ``I`` and a row number counted from the **bottom**,
  e.g. ``"D4"``; or ``"pass"``. Case-insensitive on input; written upper-case. Boards up to 25x25.
- **SGF point**: two letters, column then row, both counted from the **top-left** corner (``"aa"`` is the
  top-left point); ``a..z`` then ``A..Z`` give up to 52 lines. Pass is ``""`` (FF[4]); ``"tt"`` is also read as
  pass on boards of size 19 or less (FF[3]).

These are pure functions with no board state; the board size is always an argument. Malformed input raises
``ValueError`` with one line naming what was given and what is valid.
"""

from __future__ import annotations

GTP_COLUMNS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"
"""GTP column letters in order: ``A..Z`` without ``I`` (25 letters, so boards up to 25x25)."""

SGF_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
"""SGF coordinate letters in order (52, so boards up to 52x52)."""


def pass_action(size: int) -> int:
    """The pass action of an ``size`` x ``size`` board: ``size * size``."""
    return size * size


def _check_size(size: int, limit: int, what: str) -> None:
    if not isinstance(size, int) or not 1 <= size <= limit:
        raise ValueError(f"board size {size!r} is not valid for {what}: expected an integer in 1..{limit}")


def _check_action(action: int, size: int) -> None:
    if not 0 <= int(action) <= size * size:
        raise ValueError(
            f"action {action!r} is out of range for a {size}x{size} board: valid actions are "
            f"0..{size * size - 1} (points) and {size * size} (pass)"
        )


def action_to_rc(action: int, size: int) -> tuple[int, int] | None:
    """``(row, col)`` of ``action`` with row 0 at the top, or ``None`` for pass."""
    _check_action(action, size)
    if action == size * size:
        return None
    return divmod(int(action), size)


def rc_to_action(row: int, col: int, size: int) -> int:
    """The action of point ``(row, col)`` (row 0 at the top)."""
    if not (0 <= row < size and 0 <= col < size):
        raise ValueError(
            f"point (row={row}, col={col}) is off a {size}x{size} board: rows and columns are 0..{size - 1}"
        )
    return row * size + col


def action_to_gtp(action: int, size: int) -> str:
    """GTP vertex of ``action``: ``"D4"`` or ``"pass"``. Rows count from the bottom (``A1`` is bottom-left)."""
    _check_size(size, len(GTP_COLUMNS), "GTP")
    rc = action_to_rc(action, size)
    if rc is None:
        return "pass"
    row, col = rc
    return f"{GTP_COLUMNS[col]}{size - row}"


def gtp_to_action(vertex: str, size: int) -> int:
    """Action of the GTP vertex ``vertex`` (``"D4"``, ``"d4"``, ``"pass"``) on a ``size`` x ``size`` board.

    Raises ``ValueError`` naming the valid columns and rows when the vertex is malformed or off the board.
    """
    _check_size(size, len(GTP_COLUMNS), "GTP")
    text = vertex.strip().upper() if isinstance(vertex, str) else ""
    if text == "PASS":
        return size * size
    cols = GTP_COLUMNS[:size]
    valid = f"valid: a column {cols[0]}..{cols[-1]} (no I) then a row 1..{size}, or 'pass'"
    if len(text) < 2 or text[0] not in cols or not text[1:].isdigit():
        raise ValueError(f"malformed GTP vertex {vertex!r} for a {size}x{size} board; {valid}")
    number = int(text[1:])
    if not 1 <= number <= size:
        raise ValueError(f"GTP vertex {vertex!r} is off a {size}x{size} board; {valid}")
    return rc_to_action(size - number, cols.index(text[0]), size)


def action_to_sgf(action: int, size: int) -> str:
    """SGF point of ``action``: column letter then row letter from the top (``"aa"`` top-left); ``""`` for pass."""
    _check_size(size, len(SGF_LETTERS), "SGF")
    rc = action_to_rc(action, size)
    if rc is None:
        return ""
    row, col = rc
    return SGF_LETTERS[col] + SGF_LETTERS[row]


def sgf_to_action(point: str, size: int) -> int:
    """Action of the SGF point ``point`` on a ``size`` x ``size`` board.

    ``""`` is pass; ``"tt"`` is pass too when ``size <= 19`` (the FF[3] convention, still written by some
    programs). Raises ``ValueError`` for anything else that is not two letters on the board.
    """
    _check_size(size, len(SGF_LETTERS), "SGF")
    if point == "" or (point == "tt" and size <= 19):
        return size * size
    letters = SGF_LETTERS[:size]
    if len(point) != 2 or point[0] not in letters or point[1] not in letters:
        raise ValueError(
            f"malformed SGF point {point!r} for a {size}x{size} board; valid: two letters in "
            f"{letters[0]}..{letters[-1]} (column then row from the top-left), or '' for pass"
        )
    return rc_to_action(letters.index(point[1]), letters.index(point[0]), size)


def komi_limit(size: int) -> float:
    """The largest komi magnitude on a ``size`` x ``size`` board: its number of points, and at least the default
    7.5 (so 2x2 boards keep it)."""
    return max(float(int(size) * int(size)), 7.5)
