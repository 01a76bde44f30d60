"""Tree reuse when the zero agent plays a game move by move (GTP, arena)."""

import gymnasium as gym
import numpy as np

import envs  # noqa: F401  (registers the zoo Go envs)
from agents.zero import ZeroAgent, ZeroConfig
from envs.go.game import GoGame


def _agent(**overrides) -> tuple[ZeroAgent, GoGame]:
    env = gym.make("zoo/Go5x5-v0")
    cfg = ZeroConfig(net_preset="b2c32", simulations=24, play_leaves=4, **overrides)
    agent = ZeroAgent(cfg, env.observation_space, env.action_space, np.random.default_rng(0))
    game = env.unwrapped.game
    agent.attach(game)
    return agent, game


def test_search_continues_from_the_subtree_after_our_move_and_the_reply():
    agent, game = _agent()
    state = game.new_state()
    ours = agent.select_move(state)
    visits_before = int(agent._play_tree.child_n[0, 0].sum())
    state.play(ours)
    reply = int(np.flatnonzero(state.legal_mask())[3])
    state.play(reply)
    agent.select_move(state)
    assert agent.reused_searches == 1
    assert int(agent._play_tree.child_n[0, 0].sum()) >= agent.cfg.simulations  # kept visits + new ones
    assert visits_before == agent.cfg.simulations


def test_unrelated_position_new_game_and_reset_start_fresh_trees():
    agent, game = _agent()
    state = game.new_state()
    agent.select_move(state)
    agent.select_move(game.new_state())  # a new game: not two plies after the last search
    assert agent.reused_searches == 0
    other = game.new_state()
    for action in (0, 6, 12):
        other.play(action)
    agent.select_move(other)
    assert agent.reused_searches == 0
    agent.reset()
    assert agent._play_tree is None


def test_reuse_can_be_turned_off_and_moves_stay_legal():
    agent, game = _agent(tree_reuse=False)
    state = game.new_state()
    for _ in range(6):
        move = agent.select_move(state)
        assert state.legal_mask()[move]
        state.play(move)
        if state.is_terminal:
            break
        state.play(int(np.flatnonzero(state.legal_mask())[0]))
    assert agent.reused_searches == 0
