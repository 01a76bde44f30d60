"""The 8 symmetries of the Go board (the dihedral group of the square), for planes and policies.

Vocabulary: symmetry ``k`` in ``0..7`` rotates the board ``k % 4`` quarter turns counter-clockwise
(``np.rot90`` on the last two axes), then, when ``k >= 4``, mirrors it left to right. ``k = 0`` is the identity.
A *policy* is a vector over the ``N*N + 1`` actions (``i < N*N`` the point ``divmod(i, N)``, ``N*N`` pass); a
symmetry moves the points like board points and leaves pass in place, so that the one-hot policy of a move
transforms like the one-hot plane of its point.

The feature planes themselves are built by :meth:`envs.go.state.GoState.features` and
:meth:`envs.go.batch.GoBatch.features` (AlphaGo Zero layout, channels first).
"""

from __future__ import annotations

from functools import cache

import numpy as np

NUM_SYMMETRIES = 8


def _check(k: int) -> None:
    if not 0 <= k < NUM_SYMMETRIES:
        raise ValueError(f"symmetry index must be in 0..{NUM_SYMMETRIES - 1}, got {k!r}")


def symmetry_planes(planes: np.ndarray, k: int) -> np.ndarray:
    """Apply symmetry ``k`` to the last two (square) axes of ``planes`` ``(..., N, N)``; returns a new array."""
    _check(k)
    out = np.rot90(planes, k % 4, axes=(-2, -1))
    if k >= 4:
        out = np.flip(out, axis=-1)
    return np.ascontiguousarray(out)


@cache
def action_permutation(k: int, size: int) -> np.ndarray:
    """int64 ``(N*N + 1,)`` index map ``perm`` with ``symmetry_policy(p, k, size) == p[..., perm]``."""
    _check(k)
    p = size * size
    source = symmetry_planes(np.arange(p).reshape(size, size), k).ravel()
    perm = np.append(source, p).astype(np.int64)
    perm.setflags(write=False)
    return perm


def symmetry_policy(policy: np.ndarray, k: int, size: int) -> np.ndarray:
    """Apply symmetry ``k`` to the last axis (length ``N*N + 1``) of ``policy``; pass stays last."""
    if policy.shape[-1] != size * size + 1:
        raise ValueError(f"policy's last axis must have length {size * size + 1}, got {policy.shape[-1]}")
    return policy[..., action_permutation(k, size)]


def transform_action(action: int, k: int, size: int) -> int:
    """Where symmetry ``k`` sends ``action`` (pass stays pass)."""
    return int(np.flatnonzero(action_permutation(k, size) == action)[0])


def inverse_symmetry(k: int) -> int:
    """The symmetry that undoes ``k``: rotations invert to the opposite rotation; reflections are their own."""
    _check(k)
    return (4 - k) % 4 if k < 4 else k
