"""The math of the policy-gradient agents (``agents/pg.py``), as pure functions a test can check by hand.

Sign conventions: an advantage is positive when an action did better than the critic expected; every loss is
*minimised*, so the policy losses carry a minus sign (gradient ascent on the surrogate objective).
"""

from __future__ import annotations

import numpy as np
import torch


def gae(rewards: np.ndarray, values: np.ndarray, terminated: np.ndarray, dones: np.ndarray, gamma: float,
        lam: float) -> np.ndarray:
    """Generalised advantage estimates (Schulman et al. 2016), float32 (T, N).

    rewards, terminated, dones: (T, N), step t's reward and whether it ended the episode (``terminated``: a true
    terminal, bootstrap 0; ``dones``: terminated or truncated, the trace stops). values: (T + 1, N), V of every
    observation, row t + 1 being the observation step t led to (for a truncated step its final observation, so
    a time limit bootstraps from V(s_T)). ``lam=1`` gives Monte Carlo returns minus V (REINFORCE's baseline)::

        delta_t = r_t + gamma * V(s_{t+1}) * (1 - terminated_t) - V(s_t)
        A_t     = delta_t + gamma * lam * (1 - done_t) * A_{t+1}
    """
    steps = rewards.shape[0]
    advantages = np.zeros(rewards.shape, dtype=np.float32)
    last = np.zeros(rewards.shape[1:], dtype=np.float32)
    for t in reversed(range(steps)):
        delta = rewards[t] + gamma * values[t + 1] * (1.0 - terminated[t]) - values[t]
        last = delta + gamma * lam * (1.0 - dones[t]) * last
        advantages[t] = last
    return advantages


def ppo_clip_loss(new_logp: torch.Tensor, old_logp: torch.Tensor, adv: torch.Tensor, clip: float) -> torch.Tensor:
    """PPO's clipped surrogate, negated: mean over the batch (B,) of -min(r A, clip(r, 1-eps, 1+eps) A),
    r = exp(new_logp - old_logp). Scalar."""
    ratio = (new_logp - old_logp).exp()
    unclipped = ratio * adv
    clipped = torch.clamp(ratio, 1.0 - clip, 1.0 + clip) * adv
    return -torch.min(unclipped, clipped).mean()


def vanilla_pg_loss(new_logp: torch.Tensor, adv: torch.Tensor) -> torch.Tensor:
    """REINFORCE / A2C policy loss: -mean(log pi(a|s) * A) over the batch (B,). Scalar."""
    return -(new_logp * adv).mean()


def value_loss(values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor, clip: float | None
               ) -> torch.Tensor:
    """0.5 * mean (V - R)^2 over (B,); with ``clip`` the larger of that and the error of V kept within
    ``clip`` of the rollout's V (PPO's value clipping). Scalar."""
    unclipped = (values - returns) ** 2
    if clip is None:
        return 0.5 * unclipped.mean()
    clipped = (old_values + torch.clamp(values - old_values, -clip, clip) - returns) ** 2
    return 0.5 * torch.max(unclipped, clipped).mean()


def masked_log_softmax(logits: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """log pi (B, A): log-softmax of ``logits`` with masked actions (``mask`` False) at -inf."""
    if mask is not None:
        logits = logits.masked_fill(~mask, float("-inf"))
    return torch.log_softmax(logits, dim=-1)


def entropy(logp: torch.Tensor) -> torch.Tensor:
    """Entropy (B,) of the distributions with log-probabilities ``logp`` (B, A); masked (-inf) actions add 0."""
    p = logp.exp()
    finite = torch.where(torch.isfinite(logp), logp, torch.zeros_like(logp))  # 0 * -inf would make NaN gradients
    return -(p * finite).sum(-1)


def explained_variance(pred: np.ndarray, target: np.ndarray) -> float:
    """1 - Var(target - pred) / Var(target): 1 is a perfect critic, 0 no better than a constant; NaN when
    the targets do not vary."""
    var = float(np.var(target))
    return float("nan") if var == 0 else 1.0 - float(np.var(target - pred)) / var
