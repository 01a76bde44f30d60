"""Stage 4 and the data of stage 5: the RL policy by REINFORCE self-play, and value positions from its games.

REINFORCE (AlphaGo, Methods): each iteration plays ``games`` games of the current policy ``rho`` against an
opponent drawn uniformly from a pool of earlier versions (the pool starts with the SL policy), half of them
with each colour, sampling moves. With ``z_t`` the game's outcome from ``rho``'s view (+1 won, -1 lost, 0 draw),
one SGD step on every move ``rho`` played in them::

    loss = - (1 / games) * sum_t z_t * log rho(a_t | s_t)

Every ``pool_every`` iterations the current weights join the pool.

Value data (:func:`value_positions`): each game draws ``U`` uniformly from ``0 .. u_max - 1``; moves ``t < U``
come from the SL policy, move ``U`` is uniformly random, later moves from the RL policy (both sides) to the end.
The one position recorded per game is the one after the random move, with the outcome from its mover's view;
one position per game keeps the training set free of strongly correlated positions.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from agents.alphago.policy import choose, play_games
from agents.search.game import Game


def reinforce(net: torch.nn.Module, game: Game, iterations: int, games: int, lr: float, pool_every: int,
              rng: np.random.Generator, max_moves: int, device: str = "cpu", pool: list[dict] | None = None,
              on_iteration: Callable[[int, dict[str, float]], None] | None = None) -> list[dict]:
    """Improve the policy ``net`` in place (see the module docstring); returns the opponent pool (state dicts)."""
    pool = [copy.deepcopy(net.state_dict())] if not pool else pool
    opponent = copy.deepcopy(net).eval()
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    for it in range(1, iterations + 1):
        opponent.load_state_dict(pool[int(rng.integers(len(pool)))])
        played = play_games(game, net, opponent, games, rng, max_moves, device, record=True)
        z = played.first_score[played.game]
        net.train()
        x = torch.as_tensor(played.planes.astype(np.float32), device=device)
        logits = net(x, torch.as_tensor(played.masks, device=device))
        logp = F.log_softmax(logits, dim=1).gather(1, torch.as_tensor(played.actions, device=device)[:, None])[:, 0]
        loss = -(torch.as_tensor(z, dtype=torch.float32, device=device) * logp).sum() / games
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        net.eval()
        if it % pool_every == 0:
            pool.append(copy.deepcopy(net.state_dict()))
        if on_iteration is not None:
            on_iteration(it, {"win_rate_vs_pool": float((played.first_score > 0).mean()
                                                         + 0.5 * (played.first_score == 0).mean()),
                              "loss": loss.item(), "game_length": played.moves / games,
                              "pool_size": float(len(pool))})
    return pool


def value_positions(game: Game, sl_net: torch.nn.Module, rl_net: torch.nn.Module, n: int, rng: np.random.Generator,
                    max_moves: int, u_max: int, batch: int = 64, device: str = "cpu",
                    progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(planes uint8 (m, C, N, N), z float32 (m,))``: one position per game (``m <= n``; a game that ends before
    its random move gives none); see the module docstring."""
    out_planes, out_z = [], []
    done_games = 0
    while done_games < n:
        b = min(batch, n - done_games)
        games = game.new_batch(b, max_moves=max_moves)
        u = rng.integers(0, max(u_max, 1), size=b)
        recorded = np.full(b, -1, np.int64)
        rec_planes = np.zeros((b, game.num_planes, game.board_size, game.board_size), np.uint8)
        rec_player = np.zeros(b, np.int8)
        while not games.done.all():
            planes, masks, live = games.features(), games.legal_masks(), ~games.done
            t = games.move_count
            take = live & (t == u + 1)
            rec_planes[take] = planes[take].astype(np.uint8)
            rec_player[take] = games.to_play[take]
            recorded[take] = 1
            actions = np.full(b, game.num_actions - 1, np.int64)
            for source, rows in ((sl_net, live & (t < u)), ("random", live & (t == u)), (rl_net, live & (t > u))):
                idx = np.flatnonzero(rows)
                if idx.size:
                    actions[idx] = choose(source, planes[idx], masks[idx], rng, device)
            games.play(actions)
        keep = np.flatnonzero(recorded > 0)
        out_planes.append(rec_planes[keep])
        out_z.append((games.winners()[keep] * rec_player[keep]).astype(np.float32))
        done_games += b
        if progress is not None:
            progress(done_games)
    return np.concatenate(out_planes), np.concatenate(out_z)
