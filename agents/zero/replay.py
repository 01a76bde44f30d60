"""The replay window: the newest self-play positions, stored compactly, sampled uniformly for training.

Per position: bit-packed feature planes (uint8, 1 bit per plane point), the visit distribution (float16) and
the outcome from the mover's view (int8). A 9x9 position with 17 planes takes 173 + 164 + 1 bytes. A window for
auxiliary heads (``aux``) also keeps the final score margin from the mover's view (float16, 2 bytes: exact for the
half-point margins of any board up to 19x19, |margin| <= 2 * 361 < 1024) and, for the ownership head, the final
owner of every point from the mover's view (int8 per point, 81 bytes on 9x9). A position without auxiliary targets
(a resigned game, or one stored before the heads were turned on) has the margin NaN, which the learner leaves
out of those losses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np


class Sample(NamedTuple):
    """A minibatch drawn from the window (float32 arrays; ``ownership`` and ``score`` only with ``aux``)."""

    planes: np.ndarray
    """(n, C, H, W) feature planes."""
    policy: np.ndarray
    """(n, A) visit distributions."""
    z: np.ndarray
    """(n,) outcomes from the mover's view."""
    ownership: np.ndarray | None
    """(n, H, W) final owners from the mover's view (-1, 0, +1), or None (no ownership head)."""
    score: np.ndarray | None
    """(n,) final score margins from the mover's view, NaN where the position has no auxiliary targets, or None."""


class Replay:
    """A ring buffer of ``capacity`` positions with planes of shape ``plane_shape`` and ``num_actions`` moves;
    ``aux``: the auxiliary heads whose targets it keeps too (``score`` margins for any, ``ownership`` maps for
    the ownership head)."""

    def __init__(self, capacity: int, plane_shape: tuple[int, int, int], num_actions: int,
                 aux: tuple[str, ...] = ()) -> None:
        self.capacity, self.plane_shape, self.num_actions = capacity, tuple(plane_shape), num_actions
        self.plane_bits = int(np.prod(plane_shape))
        self.planes = np.zeros((capacity, (self.plane_bits + 7) // 8), np.uint8)
        self.policy = np.zeros((capacity, num_actions), np.float16)
        self.z = np.zeros(capacity, np.int8)
        self.aux = bool(aux)
        """Whether the window keeps auxiliary targets (a score margin per position, NaN for none)."""
        self.keeps_ownership = "ownership" in aux
        points = self.plane_shape[1] * self.plane_shape[2]
        self.ownership = np.zeros((capacity if self.keeps_ownership else 0, points), np.int8)
        self.score = np.full(capacity if self.aux else 0, np.nan, np.float16)
        self.size = 0
        self.next = 0
        self.added = 0
        """Positions ever added (the window keeps the newest ``capacity``)."""

    def __len__(self) -> int:
        return self.size

    def add(self, planes: np.ndarray, policy: np.ndarray, z: np.ndarray, ownership: np.ndarray | None = None,
            score: np.ndarray | None = None) -> None:
        """Append positions: packed planes ``(n, bytes)`` uint8, policies ``(n, A)``, outcomes ``(n,)``, and with
        ``aux`` their ownership ``(n, N*N)`` int8 and score ``(n,)`` targets (None: the positions have none; the
        ownership is ignored when the window keeps none)."""
        n = len(z)
        if n == 0:
            return
        self.added += n
        if self.aux and (score is None or (self.keeps_ownership and ownership is None)):
            ownership, score = np.zeros((n, self.ownership.shape[1]), np.int8), np.full(n, np.nan, np.float16)
        if n > self.capacity:
            planes, policy, z = planes[-self.capacity :], policy[-self.capacity :], z[-self.capacity :]
            if self.aux:
                score = score[-self.capacity :]
                ownership = ownership[-self.capacity :] if self.keeps_ownership else None
            n = self.capacity
        idx = (self.next + np.arange(n)) % self.capacity
        self.planes[idx], self.policy[idx], self.z[idx] = planes, policy, z
        if self.aux:
            self.score[idx] = score
        if self.keeps_ownership:
            self.ownership[idx] = np.asarray(ownership).reshape(n, -1)
        self.next = int((self.next + n) % self.capacity)
        self.size = min(self.capacity, self.size + n)

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``n`` positions drawn uniformly (with replacement): planes float32 ``(n, C, H, W)``, policy float32
        ``(n, A)``, z float32 ``(n,)``."""
        return self.sample_batch(n, rng)[:3]

    def sample_batch(self, n: int, rng: np.random.Generator) -> Sample:
        """``n`` positions drawn uniformly (with replacement, the same draws as :meth:`sample`) with their
        auxiliary targets when the window keeps them."""
        idx = rng.integers(0, self.size, size=n)
        bits = np.unpackbits(self.planes[idx], axis=1, count=self.plane_bits)
        planes = bits.reshape(n, *self.plane_shape).astype(np.float32)
        ownership = score = None
        if self.keeps_ownership:
            ownership = self.ownership[idx].reshape(n, *self.plane_shape[1:]).astype(np.float32)
        if self.aux:
            score = self.score[idx].astype(np.float32)
        return Sample(planes, self.policy[idx].astype(np.float32), self.z[idx].astype(np.float32), ownership, score)

    def _ordered(self) -> np.ndarray:
        """Indices of the stored positions, oldest first."""
        start = self.next - self.size
        return (start + np.arange(self.size)) % self.capacity

    def state_dict(self) -> dict[str, Any]:
        """The stored positions (oldest first), the counter, and ``next``, the slot the next position goes to; with
        ``aux`` also ``ownership`` and ``score``."""
        order = self._ordered()
        state = {"planes": self.planes[order], "policy": self.policy[order], "z": self.z[order],
                 "added": self.added, "next": self.next}
        if self.aux:
            state["score"] = self.score[order]
        if self.keeps_ownership:
            state["ownership"] = self.ownership[order]
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned; ``ValueError`` on a shape mismatch. Into a window of the same
        capacity every position goes back to its slot, so :meth:`sample` draws what the saved window would have
        drawn from the same generator state (a state without ``next`` fills the window from slot 0). A window
        with ``aux`` restoring a state without auxiliary targets keeps its positions without them; one without
        ``aux`` ignores them."""
        planes, policy, z = (np.asarray(state[k]) for k in ("planes", "policy", "z"))
        if planes.shape[1:] != self.planes.shape[1:] or policy.shape[1:] != self.policy.shape[1:]:
            raise ValueError(f"replay holds planes {planes.shape[1:]} / policies {policy.shape[1:]}; this agent "
                             f"stores {self.planes.shape[1:]} / {self.policy.shape[1:]} (another board size?)")
        score = np.asarray(state["score"], np.float16) if self.aux and "score" in state else None
        ownership = np.asarray(state["ownership"], np.int8) if self.keeps_ownership and "ownership" in state else None
        kept = min(len(z), self.capacity)
        self.size, self.next = 0, (int(state.get("next", kept)) - kept) % self.capacity
        self.add(planes.astype(np.uint8), policy.astype(np.float16), z.astype(np.int8), ownership, score)
        self.added = int(state["added"])
