"""Dynamic programming on a known tabular model: value iteration and policy evaluation (the ground truth).

The model is Gymnasium toy_text's ``P[s][a] = [(prob, next_state, reward, terminated), ...]`` (a dict or a
list of lists, every state in ``0..n_states-1`` and action in ``0..n_actions-1`` present). It is flattened
once into arrays, and each Bellman backup is one weighted ``np.bincount`` over all transitions.

Terminal handling: a transition with ``terminated=True`` ends the episode, so it contributes its reward and
bootstraps 0 (no value of its next state). Absorbing terminal states written as ``(1.0, s, 0.0, True)`` (as
Gymnasium does for goals and holes) therefore get value 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

TransitionModel = Mapping[int, Mapping[int, Sequence[tuple]]] | Sequence[Sequence[Sequence[tuple]]]


class FlatModel(NamedTuple):
    """A tabular model as flat arrays, one entry per transition ``(s, a) -> s'``."""

    sa: np.ndarray
    """int64[T]: ``s * n_actions + a`` of each transition."""
    next_state: np.ndarray
    """int64[T]: its next state."""
    cont: np.ndarray
    """float64[T]: its probability if not terminated, else 0 (the weight of the bootstrapped value)."""
    expected_reward: np.ndarray
    """float64[n_states, n_actions]: ``r(s, a) = sum_{s'} p(s'|s, a) * reward``."""


def flatten_model(P: TransitionModel, n_states: int, n_actions: int) -> FlatModel:
    """Flatten ``P`` into a :class:`FlatModel`; raises ``ValueError`` if some ``P[s][a]`` does not sum to 1."""
    sa, nxt, cont = [], [], []
    reward = np.zeros((n_states, n_actions))
    for s in range(n_states):
        for a in range(n_actions):
            entries = P[s][a]
            total = 0.0
            for prob, s_next, r, terminated in entries:
                sa.append(s * n_actions + a)
                nxt.append(int(s_next))
                cont.append(0.0 if terminated else float(prob))
                reward[s, a] += prob * r
                total += prob
            if abs(total - 1.0) > 1e-9:
                raise ValueError(f"P[{s}][{a}] probabilities sum to {total}, not 1")
    return FlatModel(np.asarray(sa, np.int64), np.asarray(nxt, np.int64), np.asarray(cont), reward)


def bellman_q(model: FlatModel, v: np.ndarray, gamma: float) -> np.ndarray:
    """``Q(s, a) = r(s, a) + gamma * sum_{s'} p(s'|s, a) * (1 - terminated) * V(s')``; float64[nS, nA]."""
    n_states, n_actions = model.expected_reward.shape
    bootstrap = np.bincount(model.sa, weights=model.cont * v[model.next_state], minlength=n_states * n_actions)
    return model.expected_reward + gamma * bootstrap.reshape(n_states, n_actions)


def value_iteration(
    P: TransitionModel,
    n_states: int,
    n_actions: int,
    gamma: float,
    tol: float = 1e-10,
    max_iters: int = 1_000_000,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve the Bellman optimality equation by value iteration; returns ``(V*, Q*, greedy policy)``.

    Iterates ``V_{k+1}(s) = max_a [r(s, a) + gamma * sum_{s'} p(s'|s, a) * (1 - terminated) * V_k(s')]`` from
    ``V_0 = 0`` until ``max_s |V_{k+1}(s) - V_k(s)| < tol`` (raises ``ValueError`` after ``max_iters``
    sweeps). Returns ``V`` float64[nS], ``Q`` float64[nS, nA] (one backup of the final ``V``) and the policy
    int64[nS] = ``argmax_a Q(s, a)`` (lowest action among exact ties). ``gamma = 1`` converges only when
    every policy the iteration meets reaches a terminal (a stochastic shortest path problem).
    """
    model = flatten_model(P, n_states, n_actions)
    v = np.zeros(n_states)
    for _ in range(max_iters):
        q = bellman_q(model, v, gamma)
        v_new = q.max(axis=1)
        delta = np.max(np.abs(v_new - v))
        v = v_new
        if delta < tol:
            q = bellman_q(model, v, gamma)
            return v, q, q.argmax(axis=1)
    raise ValueError(f"value iteration did not converge to tol={tol} in {max_iters} sweeps (last change {delta})")


def policy_evaluation(
    P: TransitionModel,
    policy: Any,
    n_states: int,
    n_actions: int,
    gamma: float,
    tol: float = 1e-10,
    max_iters: int = 1_000_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate ``policy`` exactly (to ``tol``) by iterating its Bellman expectation equation; returns ``(V, Q)``.

    ``policy`` is int[nS] (deterministic: action per state) or float[nS, nA] (``pi(a|s)``, rows summing to
    1). Iterates ``V_{k+1}(s) = sum_a pi(a|s) [r(s, a) + gamma * sum_{s'} p(s'|s, a) (1 - terminated) V_k(s')]``
    from 0 until the largest change is below ``tol``; ``Q`` is one backup of the final ``V``. Raises
    ``ValueError`` on a malformed policy or after ``max_iters`` sweeps (e.g. ``gamma = 1`` and a policy that
    never terminates).
    """
    pi = _policy_matrix(policy, n_states, n_actions)
    model = flatten_model(P, n_states, n_actions)
    v = np.zeros(n_states)
    for _ in range(max_iters):
        q = bellman_q(model, v, gamma)
        v_new = (pi * q).sum(axis=1)
        delta = np.max(np.abs(v_new - v))
        v = v_new
        if delta < tol:
            return v, bellman_q(model, v, gamma)
    raise ValueError(f"policy evaluation did not converge to tol={tol} in {max_iters} sweeps (last change {delta})")


def _policy_matrix(policy: Any, n_states: int, n_actions: int) -> np.ndarray:
    """``pi`` as float64[nS, nA] from an action per state or a matrix of probabilities."""
    policy = np.asarray(policy)
    if policy.shape == (n_states,) and np.issubdtype(policy.dtype, np.integer):
        if policy.min() < 0 or policy.max() >= n_actions:
            raise ValueError(f"policy actions must be in 0..{n_actions - 1}")
        pi = np.zeros((n_states, n_actions))
        pi[np.arange(n_states), policy] = 1.0
        return pi
    if policy.shape == (n_states, n_actions) and np.allclose(policy.sum(axis=1), 1.0):
        return policy.astype(np.float64)
    raise ValueError(
        f"policy must be int[{n_states}] or probabilities float[{n_states}, {n_actions}], got shape {policy.shape}"
    )
