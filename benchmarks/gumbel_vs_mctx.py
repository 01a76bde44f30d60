"""The suite's Gumbel search against DeepMind's mctx (``gumbel_muzero_policy``) on the same trees.

mctx and JAX are not dependencies of the suite: they live in their own virtual environment, and this script runs
itself there as the peer (``--peer``, which imports only JAX, mctx and numpy):

    python -m venv /tmp/mctx-venv && /tmp/mctx-venv/bin/pip install mctx jax
    python benchmarks/gumbel_vs_mctx.py --mctx-python /tmp/mctx-venv/bin/python

The game is synthetic, since mctx searches any tree given a recurrent function: a state is a 32-bit hash of the
actions from its root (``child = (h * 1664525 + (a + 1) * 1013904223) mod 2**32``); its prior logits and value
(from the mover's view) are fixed float32 functions of the hash, the same on both sides; every action is legal
below the root, and a few are masked at the root; rewards 0 and discount -1 (two players, zero sum). Per case
(actions, simulations, max_considered, gumbel_scale, c_visit, c_scale; 4 roots each), the peer runs
``mctx.gumbel_muzero_policy`` with ``qtransform_completed_by_mix_value(value_scale=c_scale,
maxvisit_init=c_visit)`` and reports its Gumbel draw (the same key split mctx does), its root visit counts,
action and ``action_weights``; the suite's :class:`~agents.search.mcts.Search` then searches the same roots with
that draw. The table gives, per case, whether the root visits and the actions agree and the largest difference
of the policy targets (mctx computes in float32, the suite in float64); the exit status is 1 on any disagreement.

Every case leaves a searchable root action unvisited: where all are visited, mctx's min-max rescaling of Q at the
root also counts its masked actions (completed with the mixed value) and the suite's does not (see
``agents/search/gumbel.py``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

CASES = [  # actions, simulations, max_considered, gumbel_scale, c_visit, c_scale, seed
    (8, 4, 4, 1.0, 50.0, 1.0, 0),
    (8, 16, 4, 1.0, 50.0, 0.1, 1),
    (12, 16, 8, 0.0, 50.0, 1.0, 2),
    (20, 32, 16, 1.0, 50.0, 0.1, 3),
    (20, 64, 16, 1.0, 50.0, 1.0, 4),
    (30, 48, 8, 2.0, 20.0, 0.5, 5),
]
ROOTS = 4
MASKED = 3
"""Root actions masked in each root (the searchable ones stay more than ``max_considered``)."""


def root_hashes(seed: int) -> np.ndarray:
    """uint32 ``(ROOTS,)``: the roots of a case."""
    return np.random.default_rng(seed).integers(0, 2**32, size=ROOTS, dtype=np.uint64).astype(np.uint32)


def root_masks(seed: int, actions: int) -> np.ndarray:
    """bool ``(ROOTS, actions)``: the searchable root actions (``MASKED`` masked in each root)."""
    rng = np.random.default_rng(seed + 1000)
    masks = np.ones((ROOTS, actions), bool)
    for row in masks:
        row[rng.choice(actions, MASKED, replace=False)] = False
    return masks


def child_hash(h: np.ndarray, a: np.ndarray) -> np.ndarray:
    """uint32: the hash after action ``a`` (numpy; the peer does the same in JAX)."""
    x = (h.astype(np.uint64) * np.uint64(1664525) + (a.astype(np.uint64) + 1) * np.uint64(1013904223))
    return (x & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def net(h: np.ndarray, actions: int) -> tuple[np.ndarray, np.ndarray]:
    """float32 logits ``(n, actions)`` and values ``(n,)`` of hashes ``h`` (numpy; the peer mirrors it)."""
    x = (h & np.uint32(1023)).astype(np.float32) / np.float32(1023.0)
    y = ((h >> np.uint32(10)) & np.uint32(1023)).astype(np.float32) / np.float32(1023.0)
    a = np.arange(actions, dtype=np.float32)
    logits = np.float32(2.0) * np.sin(x[:, None] * np.float32(6.0) + a[None] * np.float32(0.9) + y[:, None])
    return logits.astype(np.float32), (np.float32(0.9) * np.sin(y * np.float32(11.0) + x)).astype(np.float32)


# -- the peer: mctx in its own environment ------------------------------------------------------------------------


def peer(cases: list[list]) -> list[dict]:
    """Run ``mctx.gumbel_muzero_policy`` on every case; JSON-ready results."""
    import functools

    import jax
    import jax.numpy as jnp
    import mctx

    def jax_child(h, a):
        return h * jnp.uint32(1664525) + (a.astype(jnp.uint32) + 1) * jnp.uint32(1013904223)

    def jax_net(h, actions):
        x = (h & 1023).astype(jnp.float32) / 1023.0
        y = ((h >> 10) & 1023).astype(jnp.float32) / 1023.0
        a = jnp.arange(actions, dtype=jnp.float32)
        logits = 2.0 * jnp.sin(x[:, None] * 6.0 + a[None] * 0.9 + y[:, None])
        return logits, 0.9 * jnp.sin(y * 11.0 + x)

    out = []
    for actions, sims, m, scale, c_visit, c_scale, seed in cases:
        h0 = jnp.asarray(root_hashes(seed))
        invalid = jnp.asarray(~root_masks(seed, actions))

        def recurrent_fn(params, rng_key, action, embedding, actions=actions):
            h = jax_child(embedding, action)
            logits, value = jax_net(h, actions)
            ones = jnp.ones_like(value)
            return mctx.RecurrentFnOutput(reward=0.0 * ones, discount=-ones, prior_logits=logits, value=value), h

        logits, value = jax_net(h0, actions)
        root = mctx.RootFnOutput(prior_logits=logits, value=value, embedding=h0)
        key = jax.random.PRNGKey(seed)
        qtransform = functools.partial(mctx.qtransform_completed_by_mix_value, value_scale=c_scale,
                                       maxvisit_init=c_visit)
        policy = mctx.gumbel_muzero_policy(params=(), rng_key=key, root=root, recurrent_fn=recurrent_fn,
                                           num_simulations=sims, invalid_actions=invalid,
                                           max_num_considered_actions=m, gumbel_scale=scale, qtransform=qtransform)
        _, gumbel_key = jax.random.split(key)  # as gumbel_muzero_policy draws it
        gumbel = jax.random.gumbel(gumbel_key, shape=logits.shape, dtype=logits.dtype)
        out.append({"gumbel": np.asarray(gumbel, np.float64).tolist(),
                    "visits": np.asarray(policy.search_tree.summary().visit_counts).tolist(),
                    "action": np.asarray(policy.action).tolist(),
                    "policy": np.asarray(policy.action_weights, np.float64).tolist()})
    return out


# -- the suite's side --------------------------------------------------------------------------------------------


class HashBatch:
    """Rows of the synthetic game for :class:`agents.search.mcts.Search`: a hash and a depth per row; features
    are the hash's four bytes (``(n, 4, 1, 1)``); the root rows' masks come from ``masks``, every action is legal
    below the root; nothing ever ends."""

    def __init__(self, hashes: np.ndarray, masks: np.ndarray) -> None:
        self.h, self.root_masks = hashes.astype(np.uint32), masks
        self.num_games, self.depth = len(hashes), np.zeros(len(hashes), np.int64)

    done = property(lambda self: np.zeros(self.num_games, bool))
    to_play = property(lambda self: np.where(self.depth % 2 == 0, 1, -1).astype(np.int8))
    move_count = property(lambda self: self.depth.copy())

    def legal_masks(self) -> np.ndarray:
        return np.where((self.depth == 0)[:, None], self.root_masks, True)

    sensible_masks = legal_masks

    def features(self) -> np.ndarray:
        return self.h.view(np.uint8).reshape(self.num_games, 4, 1, 1).astype(np.float32)

    def winners(self) -> np.ndarray:
        return np.zeros(self.num_games, np.int8)

    def like(self, num_games: int) -> HashBatch:
        return HashBatch(np.zeros(num_games, np.uint32), np.ones((num_games, self.root_masks.shape[1]), bool))

    def load_paths(self, src: HashBatch, src_rows: np.ndarray, paths: np.ndarray, depths: np.ndarray) -> None:
        for r, (row, d) in enumerate(zip(src_rows, depths, strict=True)):
            h = src.h[row : row + 1]
            for a in paths[r, :d]:
                h = child_hash(h, np.array([a]))
            self.h[r], self.depth[r] = h[0], src.depth[row] + d


class DrawnGumbel:
    """Stands in for the search's generator: ``gumbel()`` returns the peer's draws."""

    def __init__(self, draws: np.ndarray) -> None:
        self.draws = draws

    def gumbel(self, size: tuple[int, int]) -> np.ndarray:
        assert size == self.draws.shape, (size, self.draws.shape)
        return self.draws


def ours(case: tuple, gumbel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Root visits ``(ROOTS, A)``, actions and policy targets of the suite's Gumbel search on a case's roots."""
    from agents.search.config import SearchConfig
    from agents.search.evaluator import FunctionEvaluator
    from agents.search.mcts import Search

    actions, sims, m, scale, c_visit, c_scale, seed = case
    cfg = SearchConfig(search="gumbel", simulations=sims, max_considered=m, gumbel_scale=scale, c_visit=c_visit,
                       c_scale=c_scale, sensible_moves=False)

    def evaluate(planes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = planes.reshape(len(planes), 4).astype(np.uint8).copy().view(np.uint32)[:, 0]
        return net(h, actions)

    roots = HashBatch(root_hashes(seed), root_masks(seed, actions))
    search = Search(cfg, ROOTS, actions, FunctionEvaluator(evaluate), DrawnGumbel(gumbel), 1, max_simulations=sims)
    search.run(roots, sims, noise=True)
    policy, moves = search.gumbel_results()
    return search.visit_counts(), moves, policy


def main(argv: list[str] | None = None) -> int:
    """Parse arguments; as the peer, print mctx's results; else compare and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mctx-python", default="/tmp/mctx-venv/bin/python",
                        help="python of a virtual environment with mctx and jax")
    parser.add_argument("--peer", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peer:
        print(json.dumps(peer(json.loads(sys.stdin.read()))))
        return 0
    if not Path(args.mctx_python).exists():
        raise SystemExit(f"error: --mctx-python {args.mctx_python} not found; python -m venv /tmp/mctx-venv && "
                         "/tmp/mctx-venv/bin/pip install mctx jax")
    proc = subprocess.run([args.mctx_python, __file__, "--peer"], input=json.dumps(CASES), capture_output=True,
                          text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise SystemExit(f"error: the mctx peer failed (exit {proc.returncode}): {tail}")
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    print("| actions | sims | max_considered | gumbel_scale | c_visit | c_scale | root visits equal | actions equal | "
          "max abs policy diff |")
    print("|---:|---:|---:|---:|---:|---:|---|---|---:|")
    bad = 0
    for case, theirs in zip(CASES, results, strict=True):
        visits, moves, policy = ours(case, np.asarray(theirs["gumbel"]))
        same_visits = np.array_equal(visits, np.asarray(theirs["visits"]))
        same_moves = np.array_equal(moves, np.asarray(theirs["action"]))
        diff = float(np.abs(policy - np.asarray(theirs["policy"])).max())
        bad += int(not (same_visits and same_moves and diff < 1e-4))
        print(f"| {' | '.join(str(x) for x in case[:6])} | {same_visits} | {same_moves} | {diff:.1e} |", flush=True)
    print(f"{len(CASES) - bad} of {len(CASES)} cases agree")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
