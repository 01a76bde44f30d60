"""Draw the suite's package-level import graph (the picture in docs/design.md).

    python docs/package_graph.py [OUT]        # OUT: docs/packages.svg by default; a .png name writes a PNG

What it reads: every module under ``envs/``, ``agents/``, ``zoo/`` and ``train.py``, parsed with ``ast``. Every
import counts, wherever it sits in the file (top level, inside functions, under ``TYPE_CHECKING``), absolute or
relative; imports of anything outside those four (numpy, torch, ...) are ignored.

What it draws: modules grouped into packages at depth 2 (``zoo.run``, ``zoo.play``, ``agents.zero``,
``agents.search``, ``envs.go``; a module at depth 2 is its own group, e.g. ``agents.dqn``, ``zoo.errors``; the
top ``__init__`` of a package is ``agents``, ``envs``, ``zoo``; ``train.py`` is ``train``), one box per group
(with its number of modules) and one arrow from each group to each other group it imports.

Layout: a box's layer is the longest import path that reaches it from ``train`` or from any other group that
nothing imports (the ``python -m`` command modules). Import cycles between groups are broken at their back
edges for the layering; those edges are drawn dashed, pointing up. Boxes are coloured by top-level package;
an arrow that crosses a boundary of ``tests/test_boundaries.py`` (``agents`` <-> ``envs``, ``envs`` or
``agents`` -> ``zoo``, anything -> ``train``) is red; other arrows into another top-level package take that
package's colour, arrows inside one are grey.

It reads whatever layout the tree has when run, so it is rerun after a restructuring. Needs matplotlib only.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOP = ("train", "zoo", "agents", "envs")
"""Top-level packages, in the order a layer starts from (left to right) before crossings are cut."""
COLOURS = {"train": "#f2c57c", "zoo": "#9cc3e4", "agents": "#a8d5a2", "envs": "#e6b3d3"}
EDGE_COLOURS = {"zoo": "#2b6ca3", "agents": "#2e7d32", "envs": "#a0336f"}
"""Colour of an arrow into another top-level package (by the package imported); arrows inside one are grey."""
FORBIDDEN = {"envs": {"agents", "zoo", "train"}, "agents": {"envs", "zoo", "train"}, "zoo": {"train"}}
"""Top package -> top packages it must not import (the suite's rules; tests/test_boundaries.py checks them)."""


# -- reading the tree --------------------------------------------------------------------------------------------


def module_files(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for ``train.py`` and every ``.py`` under envs/, agents/, zoo/."""
    found: dict[str, Path] = {}
    if (root / "train.py").is_file():
        found["train"] = root / "train.py"
    for top in TOP[1:]:
        for path in sorted((root / top).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if "__pycache__" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _known_prefix(name: str, modules: set[str]) -> str | None:
    """The longest dotted prefix of ``name`` that is one of ``modules`` (None: not the suite's)."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in modules:
            return candidate
    return None


def imports_of(name: str, path: Path, modules: set[str]) -> set[str]:
    """The suite's modules that module ``name`` imports, anywhere in its file."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, UnicodeDecodeError) as exc:  # a file mid-edit: say so, draw the rest
        print(f"skipped {path}: {exc}", file=sys.stderr)
        return set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # ``from pkg import sub`` imports the submodule when there is one, else a name of ``pkg``.
            targets = [f"{stem}.{alias.name}" if stem else alias.name for alias in node.names] + [stem]
        else:
            continue
        for target in targets:
            hit = _known_prefix(target, modules) if target else None
            if hit is not None:
                found.add(hit)
    found.discard(name)
    return found


def group_of(module: str) -> str:
    """The package a module is drawn in: its first two dotted parts."""
    return ".".join(module.split(".")[:2])


def package_graph(root: Path) -> tuple[dict[str, int], set[tuple[str, str]]]:
    """(group -> number of modules, edges (importer group, imported group)) of the tree at ``root``."""
    files = module_files(root)
    names = set(files)
    sizes: dict[str, int] = defaultdict(int)
    edges: set[tuple[str, str]] = set()
    for name, path in files.items():
        src = group_of(name)
        sizes[src] += 1
        for target in imports_of(name, path, names):
            dst = group_of(target)
            if dst != src:
                edges.add((src, dst))
    # A group with no edge at all (an empty package __init__) says nothing: leave it out.
    linked = {g for e in edges for g in e}
    return {g: n for g, n in sizes.items() if g in linked or g == "train"}, edges


# -- layout ------------------------------------------------------------------------------------------------------


def _order_key(group: str) -> tuple[int, str]:
    top = group.split(".")[0]
    return (TOP.index(top) if top in TOP else len(TOP), group)


def back_edges(nodes: list[str], edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Edges that close an import cycle, found by depth-first search from the roots (``train`` first)."""
    out: dict[str, list[str]] = defaultdict(list)
    indegree = {n: 0 for n in nodes}
    for a, b in sorted(edges, key=lambda e: (_order_key(e[0]), _order_key(e[1]))):
        out[a].append(b)
        indegree[b] += 1
    starts = sorted((n for n in nodes if indegree[n] == 0), key=_order_key)
    starts += sorted((n for n in nodes if n not in starts), key=_order_key)  # nodes only inside cycles
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    back: set[tuple[str, str]] = set()
    for start in starts:
        if start in state:
            continue
        stack = [(start, iter(out[start]))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(out[child])))
    return back


def layers(nodes: list[str], edges: set[tuple[str, str]]) -> dict[str, int]:
    """Longest path from a root (a group nothing imports) to each group; ``edges`` must be acyclic."""
    importers: dict[str, int] = {n: 0 for n in nodes}
    imported: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        importers[b] += 1
        imported[a].append(b)
    layer = {n: 0 for n in nodes}
    ready = [n for n in nodes if importers[n] == 0]
    while ready:  # topological order: a group is placed once all its importers are
        n = ready.pop()
        for m in imported[n]:
            layer[m] = max(layer[m], layer[n] + 1)
            importers[m] -= 1
            if importers[m] == 0:
                ready.append(m)
    return layer


def chains(layer: dict[str, int], edges: set[tuple[str, str]], back: set[tuple[str, str]]
           ) -> dict[tuple[str, str], list[str]]:
    """Each edge as the list of points it passes, top to bottom: its upper box, one waypoint per layer between,
    its lower box. Waypoints (``~A>B#i``) are laid out like small boxes, so arrows run between boxes, not
    through them. A cycle-closing edge runs from the imported box (above) down to the importer."""
    out = {}
    for a, b in sorted(edges):
        upper, lower = (b, a) if (a, b) in back else (a, b)
        steps = [f"~{a}>{b}#{i}" for i in range(layer[upper] + 1, layer[lower])]
        out[(a, b)] = [upper, *steps, lower]
    return out


def order_layers(layer: dict[str, int], routes: dict[tuple[str, str], list[str]], sweeps: int = 12
                 ) -> list[list[str]]:
    """Boxes and waypoints per layer, ordered to cut crossings (barycentre sweeps, down then up)."""
    level = dict(layer)
    for route in routes.values():
        for k, point in enumerate(route[1:-1], start=1):
            level[point] = level[route[0]] + k
    rows: list[list[str]] = [[] for _ in range(max(level.values()) + 1)]
    ups: dict[str, list[str]] = defaultdict(list)
    downs: dict[str, list[str]] = defaultdict(list)
    for route in routes.values():
        for p, q in pairwise(route):
            ups[q].append(p)
            downs[p].append(q)
    first: dict[str, tuple[int, str]] = {n: _order_key(n) for n in layer}
    for route in routes.values():  # a waypoint starts beside the box its edge leaves from
        for point in route[1:-1]:
            first[point] = _order_key(route[0])
    for n in sorted(level, key=lambda n: first[n]):
        rows[level[n]].append(n)
    best, best_crossings = [list(row) for row in rows], crossings(rows, downs)
    for sweep in range(sweeps):
        index = {n: i / max(len(row) - 1, 1) for row in rows for i, n in enumerate(row)}
        neighbours = ups if sweep % 2 == 0 else downs
        for row in (rows if sweep % 2 == 0 else rows[::-1]):
            def centre(n: str, index: dict[str, float] = index, neighbours: dict[str, list[str]] = neighbours
                       ) -> float:
                near = [index[m] for m in neighbours[n]]
                return sum(near) / len(near) if near else index[n]

            row.sort(key=lambda n: (centre(n), index[n]))
            index.update({n: i / max(len(row) - 1, 1) for i, n in enumerate(row)})
        count = crossings(rows, downs)
        if count < best_crossings:
            best, best_crossings = [list(row) for row in rows], count
    return best


def crossings(rows: list[list[str]], downs: dict[str, list[str]]) -> int:
    """Pairs of segments that cross between neighbouring rows."""
    total = 0
    for upper, lower in pairwise(rows):
        at = {n: i for i, n in enumerate(lower)}
        segments = [(i, at[q]) for i, p in enumerate(upper) for q in downs[p] if q in at]
        total += sum(1 for k, (a, b) in enumerate(segments) for c, d in segments[k + 1:] if (a - c) * (b - d) < 0)
    return total


def place(rows: list[list[str]], gap: dict[tuple[str, str], float], links: dict[str, list[str]],
          rounds: int = 30) -> dict[str, float]:
    """x of every box and waypoint: each pulled towards the mean x of what it links to, rows kept in order with
    at least ``gap`` between neighbours (centre to centre); a least-squares fit per row (pool adjacent violators)."""
    x: dict[str, float] = {}
    for row in rows:
        at = 0.0
        for i, n in enumerate(row):
            at += gap[(row[i - 1], n)] if i else 0.0
            x[n] = at
    for k in range(rounds):
        for row in (rows if k % 2 == 0 else rows[::-1]):
            want = [sum(x[m] for m in links[n]) / len(links[n]) if links[n] else x[n] for n in row]
            offset = [0.0]
            for p, q in pairwise(row):
                offset.append(offset[-1] + gap[(p, q)])
            blocks: list[list[float]] = []  # [mean, weight] of pooled values of want - offset, kept non-decreasing
            for value in (w - o for w, o in zip(want, offset, strict=True)):
                blocks.append([value, 1.0])
                while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
                    (m2, w2), (m1, w1) = blocks.pop(), blocks.pop()
                    blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2])
            fitted = [m for m, weight in blocks for _ in range(int(weight))]
            for n, y, o in zip(row, fitted, offset, strict=True):
                x[n] = y + o
    return x


# -- drawing -----------------------------------------------------------------------------------------------------


def draw(sizes: dict[str, int], edges: set[tuple[str, str]], out: Path) -> None:
    """Lay out and save the picture (format from ``out``'s suffix)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch
    from matplotlib.path import Path as MplPath

    plt.rcParams["svg.fonttype"] = "none"  # text stays text in the SVG: small, searchable
    plt.rcParams["svg.hashsalt"] = "zoo"  # stable ids, so a regenerated SVG diffs cleanly
    nodes = sorted(sizes, key=_order_key)
    back = back_edges(nodes, edges)
    layer = layers(nodes, edges - back)
    routes = chains(layer, edges, back)
    rows = order_layers(layer, routes)

    char, pad, row_gap, box_h = 0.085, 0.25, 1.3, 0.42  # inches (1 data unit = 1 inch)
    label = {n: f"{n} ({sizes[n]})" if sizes[n] > 1 else n for n in nodes}
    width = {n: char * len(label[n]) + 2 * pad for n in nodes}

    def w(n: str) -> float:
        return width.get(n, 0.0)

    def space(p: str, q: str) -> float:  # room between neighbours in a row: boxes 0.3, waypoints 0.12
        return 0.3 if p in width and q in width else 0.12 if p not in width and q not in width else 0.2

    gap = {(p, q): (w(p) + w(q)) / 2 + space(p, q) for row in rows for p, q in pairwise(row)}
    links: dict[str, list[str]] = defaultdict(list)
    for route in routes.values():
        for p, q in pairwise(route):
            links[p].append(q)
            links[q].append(p)
    xs = place(rows, gap, links)
    left = min(xs[n] - w(n) / 2 for n in xs)
    content_w = max(xs[n] + w(n) / 2 for n in xs) - left
    fig_w = max(content_w + 1.0, 12.5)  # 12.5: room for the legend's one row
    fig_h = row_gap * (len(rows) - 1) + box_h + 1.6
    shift = (fig_w - content_w) / 2 - left
    pos = {n: (xs[n] + shift, fig_h - 0.9 - r * row_gap) for r, row in enumerate(rows) for n in row}

    # Ports: the arrows leaving (entering) a box are spread along its bottom (top) edge in the order of their
    # next (previous) point, so they do not all meet at one spot.
    leaving: dict[str, list[tuple[float, tuple[str, str]]]] = defaultdict(list)
    entering: dict[str, list[tuple[float, tuple[str, str]]]] = defaultdict(list)
    for edge, route in routes.items():
        leaving[route[0]].append((pos[route[1]][0], edge))
        entering[route[-1]].append((pos[route[-2]][0], edge))
    port: dict[tuple[str, tuple[str, str]], float] = {}
    for n, side in [*((n, v) for n, v in leaving.items()), *((n, v) for n, v in entering.items())]:
        side.sort()
        for i, (_, edge) in enumerate(side):
            spread = 0.7 * width[n]
            port[(n, edge)] = pos[n][0] + (spread * ((i + 0.5) / len(side) - 0.5) if len(side) > 1 else 0.0)

    fig = plt.figure(figsize=(fig_w, fig_h))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, fig_w)
    ax.set_ylim(0, fig_h)
    ax.axis("off")
    for n in nodes:
        x, y = pos[n]
        box = FancyBboxPatch((x - width[n] / 2, y - box_h / 2), width[n], box_h,
                             boxstyle="round,pad=0,rounding_size=0.08", facecolor=COLOURS.get(n.split(".")[0], "#ddd"),
                             edgecolor="#333333", linewidth=0.8, zorder=3)
        ax.add_patch(box)
        ax.text(x, y, label[n], ha="center", va="center", fontsize=9, family="DejaVu Sans", zorder=4)
    for (a, b), route in sorted(routes.items()):
        top_a, top_b = a.split(".")[0], b.split(".")[0]
        bad = top_b in FORBIDDEN.get(top_a, set())
        colour = "#d62728" if bad else EDGE_COLOURS.get(top_b, "#555555") if top_a != top_b else "#555555"
        points = [(port[(route[0], (a, b))], pos[route[0]][1] - box_h / 2), *(pos[p] for p in route[1:-1]),
                  (port[(route[-1], (a, b))], pos[route[-1]][1] + box_h / 2)]
        verts, codes = [points[0]], [MplPath.MOVETO]
        for (x0, y0), (x1, y1) in pairwise(points):  # vertical tangents at every point: smooth S-bends
            dy = (y0 - y1) / 2
            verts += [(x0, y0 - dy), (x1, y1 + dy), (x1, y1)]
            codes += [MplPath.CURVE4] * 3
        if (a, b) in back:  # drawn from the importer (below) up to the imported
            verts, codes = verts[::-1], [MplPath.MOVETO] + codes[1:]
        arrow = FancyArrowPatch(path=MplPath(verts, codes), arrowstyle="-|>", mutation_scale=9, color=colour,
                                alpha=0.9 if bad else 0.55, linewidth=1.4 if bad else 0.8,
                                linestyle="--" if (a, b) in back else "-", zorder=2)
        ax.add_patch(arrow)
    legend = [Patch(facecolor=COLOURS[t], edgecolor="#333333", label=t) for t in TOP]
    legend += [Line2D([], [], color="#555555", label="imports within a top package"),
               Line2D([], [], color=EDGE_COLOURS["zoo"], label="into zoo"),
               Line2D([], [], color=EDGE_COLOURS["agents"], label="into agents"),
               Line2D([], [], color=EDGE_COLOURS["envs"], label="into envs"),
               Line2D([], [], color="#555555", linestyle="--", label="closes a cycle"),
               Line2D([], [], color="#d62728", linewidth=1.4, label="crosses a boundary")]
    ax.legend(handles=legend, loc="upper left", fontsize=8, frameon=False, ncol=len(legend))
    ax.text(fig_w - 0.3, 0.25, "python docs/package_graph.py   (box: package, number of modules; arrow: imports)",
            ha="right", fontsize=7, color="#666666")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, metadata={"Date": None} if out.suffix == ".svg" else None, dpi=110)
    plt.close(fig)


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print("usage: " + __doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    out = Path(argv[0]) if argv else ROOT / "docs" / "packages.svg"
    sizes, edges = package_graph(ROOT)
    draw(sizes, edges, out)
    cycles = back_edges(sorted(sizes, key=_order_key), edges)
    print(f"{out}: {len(sizes)} packages, {len(edges)} import edges"
          + (f", {len(cycles)} closing a cycle: " + ", ".join(f"{a} -> {b}" for a, b in sorted(cycles))
             if cycles else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
