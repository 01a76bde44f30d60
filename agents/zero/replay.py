"""The replay window: the newest self-play positions, stored compactly, sampled uniformly for training.

Per position: bit-packed feature planes (uint8, 1 bit per plane point), the visit distribution (float16) and
the outcome from the mover's view (int8). A 9x9 position with 17 planes takes 173 + 164 + 1 bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


class Replay:
    """A ring buffer of ``capacity`` positions with planes of shape ``plane_shape`` and ``num_actions`` moves."""

    def __init__(self, capacity: int, plane_shape: tuple[int, int, int], num_actions: int) -> None:
        self.capacity, self.plane_shape, self.num_actions = capacity, tuple(plane_shape), num_actions
        self.plane_bits = int(np.prod(plane_shape))
        self.planes = np.zeros((capacity, (self.plane_bits + 7) // 8), np.uint8)
        self.policy = np.zeros((capacity, num_actions), np.float16)
        self.z = np.zeros(capacity, np.int8)
        self.size = 0
        self.next = 0
        self.added = 0
        """Positions ever added (the window keeps the newest ``capacity``)."""

    def __len__(self) -> int:
        return self.size

    def add(self, planes: np.ndarray, policy: np.ndarray, z: np.ndarray) -> None:
        """Append positions: packed planes ``(n, bytes)`` uint8, policies ``(n, A)``, outcomes ``(n,)``."""
        n = len(z)
        if n == 0:
            return
        self.added += n
        if n > self.capacity:
            planes, policy, z = planes[-self.capacity :], policy[-self.capacity :], z[-self.capacity :]
            n = self.capacity
        idx = (self.next + np.arange(n)) % self.capacity
        self.planes[idx], self.policy[idx], self.z[idx] = planes, policy, z
        self.next = int((self.next + n) % self.capacity)
        self.size = min(self.capacity, self.size + n)

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``n`` positions drawn uniformly (with replacement): planes float32 ``(n, C, H, W)``, policy float32
        ``(n, A)``, z float32 ``(n,)``."""
        idx = rng.integers(0, self.size, size=n)
        bits = np.unpackbits(self.planes[idx], axis=1, count=self.plane_bits)
        planes = bits.reshape(n, *self.plane_shape).astype(np.float32)
        return planes, self.policy[idx].astype(np.float32), self.z[idx].astype(np.float32)

    def _ordered(self) -> np.ndarray:
        """Indices of the stored positions, oldest first."""
        start = self.next - self.size
        return (start + np.arange(self.size)) % self.capacity

    def state_dict(self) -> dict[str, Any]:
        """The stored positions (oldest first), the counter, and ``next``, the slot the next position goes to."""
        order = self._ordered()
        return {"planes": self.planes[order], "policy": self.policy[order], "z": self.z[order],
                "added": self.added, "next": self.next}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned; ``ValueError`` on a shape mismatch. Into a window of the same
        capacity every position goes back to its slot, so :meth:`sample` draws what the saved window would have
        drawn from the same generator state (a state without ``next`` fills the window from slot 0)."""
        planes, policy, z = (np.asarray(state[k]) for k in ("planes", "policy", "z"))
        if planes.shape[1:] != self.planes.shape[1:] or policy.shape[1:] != self.policy.shape[1:]:
            raise ValueError(f"replay holds planes {planes.shape[1:]} / policies {policy.shape[1:]}; this agent "
                             f"stores {self.planes.shape[1:]} / {self.policy.shape[1:]} (another board size?)")
        kept = min(len(z), self.capacity)
        self.size, self.next = 0, (int(state.get("next", kept)) - kept) % self.capacity
        self.add(planes.astype(np.uint8), policy.astype(np.float16), z.astype(np.int8))
        self.added = int(state["added"])
