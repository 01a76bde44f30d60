"""SGF FF[4] game records for Go: read, write, replay.

A :class:`GameRecord` holds what the suite needs of a Go game file: board size, komi, rules, result, the
players' names, setup stones (``AB``/``AW``), the moves of the **main line** as ``(colour, action)`` pairs
(colour ``BLACK = 1`` / ``WHITE = -1``, action as everywhere in the suite: ``row * N + col`` with row 0 at the
top, ``N * N`` = pass), and every other root property verbatim in ``properties``.

Reading (:func:`parse_sgf`) follows the SGF grammar ``Collection = GameTree+``, ``GameTree = "(" Node+
GameTree* ")"``, ``Node = ";" Property*``, ``Property = Ident Value+``, ``Value = "[" text "]"``:

- only the first game tree of a collection and, inside it, the first variation at every branch (the main
  line) are read; other variations are checked for well-formedness and skipped;
- text before the first ``(`` is ignored, as is anything after the first game tree closes;
- inside a value ``\\]`` is ``]``, ``\\\\`` is ``\\``, and a backslash before a line break removes both (soft
  line break); lower-case letters in property names are dropped (the FF[3] long names, ``AddBlack`` -> ``AB``);
- unknown properties are kept (root) or skipped (other nodes); comments are skipped;
- pass is ``B[]`` or, on boards of size 19 or less, ``B[tt]``; point lists may be compressed (``AB[aa:cc]``);
- anything malformed raises :class:`SgfError` (a ``ValueError``) with one message naming the line and column.

Writing (:func:`write_sgf`) produces ``(;FF[4]GM[1]CA[UTF-8]SZ[..]KM[..]...;B[..];W[..])`` with pass as ``B[]``
and results like ``B+3.5``, ``W+R``, ``0`` (draw). :func:`save_sgf` writes atomically (temporary file, then
rename), so an interrupted save never leaves half a file behind.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from envs.go.coords import SGF_LETTERS, action_to_sgf, komi_limit, sgf_to_action

if TYPE_CHECKING:
    from envs.go.state import GoState

BLACK, WHITE = 1, -1
_COLOUR = {"B": BLACK, "W": WHITE}
_HANDLED_ROOT = {"FF", "GM", "CA", "SZ", "KM", "RU", "RE", "PB", "PW", "AB", "AW", "AE", "PL", "B", "W"}


class SgfError(ValueError):
    """A malformed or unsupported SGF file. The message names the position (line, column) or move number."""


@dataclass
class GameRecord:
    """One Go game as stored in SGF.

    ``moves`` are ``(colour, action)`` with colour ``1`` (black) or ``-1`` (white); ``setup_black`` and
    ``setup_white`` are actions of stones placed before the first move (``AB``/``AW``); ``first_player`` is the
    colour to move after setup when the file says so (``PL``), else ``None`` (then the first move decides, and
    black moves first in an empty record). ``properties`` keeps other root properties as ``ident -> values``.
    """

    size: int = 19
    komi: float = 0.0
    rules: str | None = None
    result: str | None = None
    black: str | None = None
    white: str | None = None
    setup_black: list[int] = field(default_factory=list)
    setup_white: list[int] = field(default_factory=list)
    moves: list[tuple[int, int]] = field(default_factory=list)
    first_player: int | None = None
    properties: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class _Node:
    offset: int
    props: dict[str, list[str]] = field(default_factory=dict)
    where: dict[str, int] = field(default_factory=dict)


def _position(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


def _fail(text: str, offset: int, message: str) -> SgfError:
    return SgfError(f"SGF error at {_position(text, offset)}: {message}")


def _read_value(text: str, i: int) -> tuple[str, int]:
    """Read the value starting at ``text[i] == '['``; return it unescaped and the index after its ``]``."""
    start, out, i, n = i, [], i + 1, len(text)
    while i < n:
        ch = text[i]
        if ch == "]":
            return "".join(out), i + 1
        if ch == "\\" and i + 1 < n:
            nxt = text[i + 1]
            if nxt in "\r\n":  # soft line break: backslash and the line break vanish
                i += 2
                if i < n and text[i] in "\r\n" and text[i] != nxt:
                    i += 1
                continue
            out.append(nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    raise _fail(text, start, "property value '[' is never closed with ']'")


def _read_property(text: str, i: int, node: _Node | None) -> int:
    """Read ``Ident Value+`` at ``text[i]``; store it in ``node`` (when on the main line); return the next index."""
    start, n = i, len(text)
    while i < n and text[i].isalpha():
        i += 1
    ident = "".join(ch for ch in text[start:i] if ch.isupper())
    if not ident:
        raise _fail(text, start, f"property name {text[start:i]!r} has no upper-case letter")
    values = []
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n or text[i] != "[":
            break
        value, i = _read_value(text, i)
        values.append(value)
    if not values:
        raise _fail(text, i, f"property {ident} has no value: expected '[' after its name")
    if node is not None:
        node.props.setdefault(ident, []).extend(values)
        node.where.setdefault(ident, start)
    return i


def _main_line(text: str) -> list[_Node]:
    """Nodes of the main line of the first game tree in ``text`` (see the module docstring for the rules)."""
    i = text.find("(")
    if i < 0:
        raise SgfError("SGF error: no game tree found (an SGF file starts with '(;')")
    # Per open tree: [on the main line, has a child tree, node count].
    stack: list[list] = []
    nodes: list[_Node] = []
    node: _Node | None = None
    in_node = False
    while i < len(text):
        ch = text[i]
        if ch == "(":
            main = not stack or (stack[-1][0] and not stack[-1][1])
            if stack:
                if stack[-1][2] == 0:
                    raise _fail(text, i, "variation '(' before any node ';' of its game tree")
                stack[-1][1] = True
            stack.append([main, False, 0])
            in_node = False
        elif ch == ")":
            if stack[-1][2] == 0:
                raise _fail(text, i, "empty game tree '()': a game tree needs at least one node ';'")
            stack.pop()
            in_node = False
            if not stack:
                return nodes
        elif ch == ";":
            if stack[-1][1]:
                raise _fail(text, i, "node ';' after a variation: variations must end their game tree")
            stack[-1][2] += 1
            in_node = True
            node = _Node(i) if stack[-1][0] else None
            if node is not None:
                nodes.append(node)
        elif ch.isalpha():
            if not in_node:
                raise _fail(text, i, f"property {ch!r}... outside a node: expected ';' first")
            i = _read_property(text, i, node)
            continue
        elif not ch.isspace():
            raise _fail(text, i, f"unexpected character {ch!r}: expected '(', ';', ')' or a property name")
        i += 1
    raise _fail(text, len(text), f"unexpected end of file: {len(stack)} game tree(s) not closed with ')'")


def _points(text: str, node: _Node, ident: str, size: int) -> list[int]:
    """Actions of the point list ``node.props[ident]``, expanding compressed rectangles ``aa:cc``."""
    out = []
    for value in node.props[ident]:
        try:
            if ":" in value:
                a, b = value.split(":", 1)
                (r0, c0), (r1, c1) = (divmod(sgf_to_action(p, size), size) for p in (a, b))
                for r in range(min(r0, r1), max(r0, r1) + 1):
                    out.extend(r * size + c for c in range(min(c0, c1), max(c0, c1) + 1))
            else:
                out.append(sgf_to_action(value, size))
        except ValueError as e:
            raise _fail(text, node.where[ident], f"{ident}[{value}]: {e}") from None
    return out


def _root_fields(text: str, root: _Node) -> GameRecord:
    props = root.props

    def one(ident: str) -> str | None:
        return props[ident][0] if ident in props else None

    if one("GM") not in (None, "1"):
        raise _fail(text, root.where["GM"], f"GM[{one('GM')}] is not a Go game (Go is GM[1])")
    size_text = (one("SZ") or "19").strip()
    width, _, height = size_text.partition(":")
    if not width.isdigit() or (height and height != width) or not 1 <= int(width) <= len(SGF_LETTERS):
        raise _fail(text, root.where.get("SZ", root.offset), f"SZ[{size_text}]: expected a square size 1..52")
    try:
        komi = float(one("KM") or 0.0)
    except ValueError:
        raise _fail(text, root.where["KM"], f"KM[{one('KM')}] is not a number") from None
    limit = komi_limit(int(width))
    if not math.isfinite(komi) or abs(komi) > limit:
        raise _fail(text, root.where["KM"], f"KM[{one('KM')}]: komi must be a finite number within "
                                            f"-{limit:g}..{limit:g} on SZ[{width}]")
    pl = (one("PL") or "").strip().upper()
    return GameRecord(
        size=int(width), komi=komi, rules=one("RU"), result=one("RE"), black=one("PB"), white=one("PW"),
        first_player=_COLOUR.get(pl),
        properties={k: list(v) for k, v in props.items() if k not in _HANDLED_ROOT},
    )


def parse_sgf(text: str | bytes) -> GameRecord:
    """Parse the main line of the first game in ``text`` into a :class:`GameRecord` (rules in the module doc).

    Bytes are decoded as UTF-8, falling back to Latin-1. Raises :class:`SgfError` for a malformed file, a
    game other than Go (``GM`` not 1), an off-board point, or setup stones after the first move.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            text = text.decode("latin-1")
    nodes = _main_line(text)
    record = _root_fields(text, nodes[0])
    size = record.size
    for number, node in enumerate(nodes):
        for ident, stones in (("AB", record.setup_black), ("AW", record.setup_white), ("AE", None)):
            if ident not in node.props:
                continue
            if record.moves:
                raise _fail(text, node.where[ident], f"setup {ident} after the first move is not supported")
            points = _points(text, node, ident, size)
            if stones is None:
                record.setup_black[:] = [p for p in record.setup_black if p not in points]
                record.setup_white[:] = [p for p in record.setup_white if p not in points]
            else:
                stones.extend(p for p in points if p not in stones)
        played = [k for k in ("B", "W") if k in node.props]
        if len(played) == 2:
            raise _fail(text, node.offset, f"node {number} has both a B and a W move")
        for key in played:
            value = node.props[key][0].strip()
            try:
                action = sgf_to_action(value, size)
            except ValueError as e:
                raise _fail(text, node.where[key], f"move {len(record.moves) + 1}: {e}") from None
            record.moves.append((_COLOUR[key], action))
    return record


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("]", "\\]")


def _prop(ident: str, values: list[str]) -> str:
    return ident + "".join(f"[{_escape(v)}]" for v in values)


def _format_komi(komi: float) -> str:
    return f"{komi:g}"


def write_sgf(record: GameRecord) -> str:
    """SGF FF[4] text of ``record``: a root node with the fields and kept properties, then one node per move.

    Pass is written ``B[]``/``W[]``. Text values are escaped (``]`` -> ``\\]``, ``\\`` -> ``\\\\``).
    """
    size = record.size
    root = [_prop("FF", ["4"]), _prop("GM", ["1"]), _prop("CA", ["UTF-8"])]
    root.append(_prop("AP", record.properties.get("AP") or ["zoo:0.1"]))
    root += [_prop("SZ", [str(size)]), _prop("KM", [_format_komi(record.komi)])]
    for ident, value in (("RU", record.rules), ("PB", record.black), ("PW", record.white), ("RE", record.result)):
        if value is not None:
            root.append(_prop(ident, [value]))
    root += [_prop(k, v) for k, v in record.properties.items() if k not in _HANDLED_ROOT | {"AP"} and v]
    for ident, stones in (("AB", record.setup_black), ("AW", record.setup_white)):
        if stones:
            root.append(_prop(ident, [action_to_sgf(a, size) for a in stones]))
    if record.first_player is not None:
        root.append(_prop("PL", ["B" if record.first_player == BLACK else "W"]))
    lines = ["(;" + "".join(root)]
    moves = [f";{'B' if c == BLACK else 'W'}[{action_to_sgf(a, size)}]" for c, a in record.moves]
    lines += ["".join(moves[i : i + 12]) for i in range(0, len(moves), 12)]
    return "\n".join(lines) + ")\n"


def load_sgf(path: str | os.PathLike) -> GameRecord:
    """Read and parse the SGF file at ``path`` (see :func:`parse_sgf`); the error message names the file."""
    data = Path(path).read_bytes()
    try:
        return parse_sgf(data)
    except SgfError as e:
        raise SgfError(f"{os.fspath(path)}: {e}") from None


def save_sgf(path: str | os.PathLike, record: GameRecord) -> None:
    """Write ``record`` to ``path`` atomically: a temporary file in the same folder, then ``os.replace``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(write_sgf(record))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def result_string(state: GoState) -> str | None:
    """SGF ``RE`` of a game: ``"B+R"``/``"W+R"`` after a resignation, ``"B+3.5"``/``"W+0.5"``/``"0"`` (draw) by area
    score when the game is over, ``None`` while it is still going."""
    if not state.is_terminal:
        return None
    winner = state.winner()
    if state.resigned:
        return ("B" if winner == BLACK else "W") + "+R"
    score = float(state.score())
    if winner == 0 or score == 0:
        return "0"
    return ("B+" if score > 0 else "W+") + f"{abs(score):g}"


def _start_state(record: GameRecord, history: int, max_moves: int | None) -> GoState:
    from envs.go.state import GoState

    first = record.first_player or (record.moves[0][0] if record.moves else BLACK)
    if not record.setup_black and not record.setup_white and first == BLACK:
        return GoState.new(record.size, komi=record.komi, history=history, max_moves=max_moves)
    cells = ["."] * (record.size * record.size)
    for stones, mark in ((record.setup_black, "X"), (record.setup_white, "O")):
        for a in stones:
            if a < len(cells):
                cells[a] = mark
    rows = ("".join(cells[r * record.size : (r + 1) * record.size]) for r in range(record.size))
    try:
        return GoState.from_ascii(
            "\n".join(rows), to_play=first, komi=record.komi, history=history, max_moves=max_moves
        )
    except ValueError as e:
        raise SgfError(f"setup stones AB/AW do not make a legal position: {e}") from None


def record_to_state(record: GameRecord, history: int = 8, max_moves: int | None = None) -> GoState:
    """Replay ``record`` (setup stones, then every move) into a :class:`GoState` under the suite's rules.

    Raises :class:`SgfError` naming the move number when a move is illegal (occupied, suicide, superko, after
    the game ended) or when one colour moves twice in a row (the suite's state alternates colours).
    """
    from envs.go.state import IllegalMoveError

    try:
        state = _start_state(record, history, max_moves)
    except SgfError:
        raise
    except ValueError as e:
        raise SgfError(f"cannot start the game of this record: {e}") from None
    for number, (colour, action) in enumerate(record.moves, start=1):
        name = "B" if colour == BLACK else "W"
        where = f"move {number} {name}[{action_to_sgf(action, record.size)}]"
        if colour != state.to_play:
            raise SgfError(f"{where}: {name} moves twice in a row, which the suite's game state does not allow")
        try:
            state.play(action)
        except IllegalMoveError as e:
            raise SgfError(f"{where} is illegal: {e}") from None
    return state


def record_from_actions(
    actions: list[int],
    size: int,
    komi: float = 7.5,
    black: str | None = None,
    white: str | None = None,
    rules: str = "Chinese",
) -> GameRecord:
    """A :class:`GameRecord` of a game played from the empty board with ``actions`` (black first, alternating).

    The actions are replayed to check them; ``result`` is filled in (see :func:`result_string`) when they end
    the game. ``rules`` defaults to ``Chinese`` (area scoring, as the suite counts).
    """
    from envs.go.state import GoState

    state = GoState.new(size, komi=komi)
    moves = []
    for action in actions:
        moves.append((state.to_play, int(action)))
        state.play(int(action))
    return GameRecord(
        size=size, komi=komi, rules=rules, result=result_string(state), black=black, white=white, moves=moves
    )
