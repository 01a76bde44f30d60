"""DQN's math on hand-built batches: Double-DQN and plain targets, masked argmax, n-step transitions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.common import masked_argmax
from agents.dqn import td_targets
from agents.replay import NStepQueue, ReplayBuffer


def test_double_dqn_target_on_a_hand_built_batch() -> None:
    online = torch.tensor([[1.0, 5.0, 2.0], [3.0, 0.0, 9.0]])
    target = torch.tensor([[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]])
    masks = torch.tensor([[True, True, True], [True, True, False]])  # row 1: action 2 is illegal at s'
    rewards, discounts, terminated = torch.tensor([1.0, 2.0]), torch.tensor([0.9, 0.9]), torch.tensor([0.0, 0.0])
    # double: row 0 online argmax = 1 -> target 20; row 1 legal online argmax = 0 (9 is masked) -> target 40
    out = td_targets(online, target, masks, rewards, discounts, terminated, double=True)
    np.testing.assert_allclose(out.numpy(), [1 + 0.9 * 20, 2 + 0.9 * 40])
    # plain: max of the target over legal actions: 30 and 50 (60 is masked)
    out = td_targets(online, target, masks, rewards, discounts, terminated, double=False)
    np.testing.assert_allclose(out.numpy(), [1 + 0.9 * 30, 2 + 0.9 * 50])


def test_terminal_transitions_do_not_bootstrap_even_with_an_empty_mask() -> None:
    q = torch.tensor([[1.0, 2.0]])
    out = td_targets(q, q, torch.tensor([[False, False]]), torch.tensor([3.0]), torch.tensor([0.9]),
                     torch.tensor([1.0]), double=True)
    assert out.item() == pytest.approx(3.0)


def test_masked_argmax_skips_illegal_actions() -> None:
    values = torch.tensor([[9.0, 1.0, 2.0], [0.0, 0.0, -1.0]])
    mask = torch.tensor([[False, True, True], [False, False, True]])
    assert masked_argmax(values, mask).tolist() == [2, 2]
    assert masked_argmax(values, None).tolist() == [0, 0]


def test_n_step_queue_sums_discounted_rewards_and_flushes_at_episode_end() -> None:
    queue, gamma = NStepQueue(1, 3, 0.5), 0.5
    mask, obs = np.ones(2, bool), [np.full(1, i, np.float32) for i in range(5)]
    assert queue.push(0, obs[0], 0, 1.0, obs[1], False, False, mask) == []
    assert queue.push(0, obs[1], 1, 2.0, obs[2], False, False, mask) == []
    (first,) = queue.push(0, obs[2], 0, 4.0, obs[3], False, False, mask)
    assert first[0][0] == 0 and first[2] == pytest.approx(1 + 0.5 * 2 + 0.25 * 4) and first[6] == gamma**3
    flushed = queue.push(0, obs[3], 1, 8.0, obs[4], True, True, mask)
    assert [t[0][0] for t in flushed] == [1, 2, 3]
    assert [t[2] for t in flushed] == pytest.approx([2 + 0.5 * 4 + 0.25 * 8, 4 + 0.5 * 8, 8])
    assert [t[6] for t in flushed] == [gamma**3, gamma**2, gamma] and all(t[4] for t in flushed)


def test_replay_buffer_wraps_and_round_trips() -> None:
    buf = ReplayBuffer(3, (2,), 2)
    for i in range(5):
        buf.add(np.full(2, i), i % 2, float(i), np.full(2, i + 1), False, np.ones(2, bool), 0.9)
    assert len(buf) == 3 and sorted(buf.data["rewards"].tolist()) == [2.0, 3.0, 4.0]
    other = ReplayBuffer(3, (2,), 2)
    other.load_state_dict(buf.state_dict())
    sample = other.sample(8, np.random.default_rng(0))
    assert sample.obs.shape == (8, 2) and set(sample.rewards.tolist()) <= {2.0, 3.0, 4.0}
    with pytest.raises(ValueError, match="shape"):
        ReplayBuffer(3, (4,), 2).load_state_dict(buf.state_dict())
