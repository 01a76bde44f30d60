"""The policy-gradient math on hand-built batches: GAE, PPO's clipped loss, masked entropy, value clipping."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.pg_losses import entropy, gae, masked_log_softmax, ppo_clip_loss, value_loss, vanilla_pg_loss


def test_gae_matches_a_hand_computed_example() -> None:
    # One env, three steps; the episode terminates at step 1, a new one starts at step 2 (not done).
    rewards = np.array([[1.0], [2.0], [3.0]], dtype=np.float32)
    values = np.array([[0.5], [1.0], [2.0], [4.0]], dtype=np.float32)  # V(s0..s3), s3 after the last step
    terminated = np.array([[0.0], [1.0], [0.0]], dtype=np.float32)
    dones = terminated.copy()
    gamma, lam = 0.9, 0.5
    # step 2: delta = 3 + 0.9 * 4 - 2 = 4.6;                   A2 = 4.6
    # step 1: delta = 2 + 0 - 1 = 1 (terminal: no bootstrap); A1 = 1 (trace cut by done)
    # step 0: delta = 1 + 0.9 * 1 - 0.5 = 1.4;                 A0 = 1.4 + 0.9 * 0.5 * 1 = 1.85
    adv = gae(rewards, values, terminated, dones, gamma, lam)
    np.testing.assert_allclose(adv[:, 0], [1.85, 1.0, 4.6], rtol=1e-6)


def test_gae_truncation_bootstraps_but_cuts_the_trace() -> None:
    rewards = np.array([[1.0], [1.0]], dtype=np.float32)
    values = np.array([[0.0], [0.0], [10.0]], dtype=np.float32)  # V(final obs of the truncated step) = 10
    adv = gae(rewards, values, np.zeros((2, 1), np.float32), np.array([[0.0], [1.0]], np.float32), 0.5, 1.0)
    np.testing.assert_allclose(adv[:, 0], [1.0 + 0.5 * 6.0, 1.0 + 0.5 * 10.0])


def test_gae_lambda_one_is_the_monte_carlo_return_minus_v() -> None:
    rewards = np.ones((4, 1), np.float32)
    values = np.zeros((5, 1), np.float32)
    terminated = np.array([[0], [0], [0], [1]], np.float32)
    adv = gae(rewards, values, terminated, terminated, 0.5, 1.0)
    np.testing.assert_allclose(adv[:, 0], [1.875, 1.75, 1.5, 1.0])


def test_ppo_clipped_loss_on_a_hand_built_batch() -> None:
    old = torch.zeros(4)
    new = torch.log(torch.tensor([1.5, 0.5, 1.1, 0.7]))  # ratios 1.5, 0.5, 1.1, 0.7
    adv = torch.tensor([1.0, 1.0, -2.0, -1.0])
    # eps 0.2: min(1.5*1, 1.2*1) = 1.2; min(0.5, 0.8) = 0.5; min(-2.2, -2.2) = -2.2; min(-0.7, -0.8) = -0.8
    expected = -(1.2 + 0.5 - 2.2 - 0.8) / 4
    assert ppo_clip_loss(new, old, adv, 0.2).item() == pytest.approx(expected, rel=1e-6)
    assert vanilla_pg_loss(new, adv).item() == pytest.approx(-(new * adv).mean().item())


def test_clipped_ratio_has_no_gradient_beyond_the_clip() -> None:
    new = torch.log(torch.tensor([1.5])).requires_grad_()
    ppo_clip_loss(new, torch.zeros(1), torch.tensor([1.0]), 0.2).backward()
    assert new.grad.item() == 0.0


def test_value_loss_with_and_without_clipping() -> None:
    v, old, ret = torch.tensor([3.0]), torch.tensor([1.0]), torch.tensor([2.5])
    assert value_loss(v, old, ret, None).item() == pytest.approx(0.5 * 0.25)
    # clipped V = 1 + 0.2 = 1.2: error 1.3^2 = 1.69 > 0.25, so the max is 1.69
    assert value_loss(v, old, ret, 0.2).item() == pytest.approx(0.5 * 1.69)


def test_masked_actions_get_probability_zero_and_no_entropy() -> None:
    logits = torch.tensor([[5.0, 1.0, 1.0]])
    logp = masked_log_softmax(logits, torch.tensor([[False, True, True]]))
    assert logp[0, 0] == float("-inf")
    np.testing.assert_allclose(logp.exp()[0, 1:].numpy(), [0.5, 0.5], rtol=1e-6)
    assert entropy(logp).item() == pytest.approx(np.log(2.0))


def test_masked_entropy_has_finite_gradients() -> None:
    logits = torch.tensor([[5.0, 1.0, 1.0]], requires_grad=True)
    entropy(masked_log_softmax(logits, torch.tensor([[False, True, True]]))).sum().backward()
    assert torch.isfinite(logits.grad).all()


def test_a_zero_critic_head_gives_zero_advantages_until_a_reward() -> None:
    """value_head_std=0: V is exactly 0 everywhere at the start, so a rollout without reward has advantages
    exactly 0 (nothing for normalisation to amplify); shared_torso puts both heads on one encoder."""
    from agents.nets.wavenet import WaveNetConfig
    from agents.pg import ActorCritic, PGConfig

    torch.manual_seed(0)
    cfg = PGConfig(shared_torso=True, value_head_std=0.0)
    model = ActorCritic(WaveNetConfig(channels=8), (16, 6), 4, cfg)
    assert model.actor[0] is model.critic[0]
    obs = torch.rand(10, 16, 6)
    values = model.value(obs).detach().numpy()
    assert np.all(values == 0)
    rewards, flags = np.zeros((9, 1), np.float32), np.zeros((9, 1), np.float32)
    assert np.all(gae(rewards, values.reshape(10, 1), flags, flags, 0.99, 0.95) == 0)
    separate = ActorCritic(WaveNetConfig(channels=8), (16, 6), 4, PGConfig())
    assert model.value(obs).abs().sum() == 0 < separate.value(obs).abs().sum()
    assert sum(p.numel() for p in model.parameters()) < sum(p.numel() for p in separate.parameters())
    with pytest.raises(ValueError, match="value_head_std"):
        PGConfig(value_head_std=-1.0)
