"""Go teachers and position sets for measuring compressed nets (9x9 by default, AlphaGo Zero planes).

The fp32 teacher that ``benchmarks/nets_speed.py`` compresses, and the positions its copies are measured on:

- teachers: resnet b6c64 trained by :func:`train_teacher` on an engine's games (:func:`corpus_positions`, the
  last games held out by :func:`held_out_games`; :func:`corpus_teacher` keeps it in a folder with its
  :class:`TeacherRecipe`) or on a capture/contact heuristic's moves (:func:`play_positions`,
  :func:`heuristic_move`);
- position sets: games the teacher plays against itself with search (:func:`search_positions`) or from its raw
  policy (:func:`raw_policy_positions`);
- board symmetries: a batch turned with its moves (:func:`turn_batch`), symmetric copies of positions
  (:func:`symmetric_copies`), and how often a net keeps its top move on a turned board
  (:func:`symmetry_self_agreement`).

Positions are ``agents.compress.Positions``: planes (N, 17, 9, 9) float32 and legal masks (N, 82) bool, action
``r * 9 + c`` for point (r, c) and 81 for pass. Nets take ``(planes, mask)`` and return ``(logits (N, 82), value
(N,))``. Symmetry ``k`` is 0..7 as in ``envs.go.features`` (0 the identity).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from agents.compress.distill import channels_last, outputs_on
from agents.compress.positions import Positions
from agents.nets import NetConfig, build_net
from agents.nets.checkpoint import load_net, save_net
from agents.search.evaluator import NetEvaluator
from agents.zero.config import ZeroConfig
from agents.zero.selfplay import SelfPlay
from envs.go.batch import GoBatch
from envs.go.features import symmetry_planes, symmetry_policy
from envs.go.game import GoGame
from envs.go.opponents import capture_moves, capture_policy, fills_own_eye, saving_moves
from envs.go.state import BLACK, GoState
from zoo.pipelines.corpus import load_sgf_folder, replay_targets


def heuristic_move(state: GoState) -> int:
    """The heuristic teacher's target action in ``state`` (0..N*N-1 a point, N*N pass), deterministic: biggest
    capture, else biggest save, else the non-eye move touching the most stones (opponent's count double), nearer
    the centre first, lowest index last; pass when nothing is left."""
    for scores in (capture_moves(state), saving_moves(state)):
        if scores:
            return min(scores, key=lambda a: (-scores[a], a))
    n = state.size
    board = np.asarray(state.board)
    best, best_key = n * n, None
    for a in np.flatnonzero(state.legal_mask()[:-1]):
        if fills_own_eye(state, int(a)):
            continue
        r, c = divmod(int(a), n)
        around = ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1))
        near = [board[rr, cc] for rr, cc in around if 0 <= rr < n and 0 <= cc < n]
        touch = sum(2 if v == -state.to_play else 1 for v in near if v != 0)
        key = (-touch, max(abs(r - n // 2), abs(c - n // 2)), int(a))
        if best_key is None or key < best_key:
            best, best_key = int(a), key
    return best


def play_positions(count: int, size: int, seed: int) -> tuple[Positions, torch.Tensor, torch.Tensor]:
    """``count`` positions of whole games of ``envs.go.opponents.capture_policy`` on a ``size`` board (history 8,
    at most 2 * size^2 moves a game), from ``seed``: (positions, :func:`heuristic_move` in each (count,) int64,
    the game's result from the mover's view (count,) float32 in {-1, 0, 1})."""
    rng = np.random.default_rng(seed)
    planes, masks, moves, results = [], [], [], []
    while len(planes) < count:
        state, movers, start = GoState.new(size, max_moves=2 * size * size), [], len(planes)
        while not state.is_terminal:
            planes.append(state.features())
            masks.append(state.legal_mask())
            moves.append(heuristic_move(state))
            movers.append(state.to_play)
            state.play(capture_policy(state, rng))
        winner = state.winner()
        results += [float(np.sign(winner * m)) for m in movers]
        assert len(results) - start == len(movers)
    pos = Positions(torch.from_numpy(np.stack(planes[:count])), torch.from_numpy(np.stack(masks[:count])))
    return pos, torch.tensor(moves[:count]), torch.tensor(results[:count])


def corpus_positions(folder: str | Path, size: int = 9) -> tuple[Positions, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every engine move of the usable games of an SGF folder (``python -m zoo.corpus``) after the random opening
    (root property ``ZR``): (positions with exact legal masks, the move played (N,), the game's result from the
    mover's view (N,) in {-1, 0, 1}, the index of its game (N,)). Raises ``UserError`` for a folder with no usable
    game (see ``zoo.corpus.load_sgf_folder``)."""
    records = load_sgf_folder(folder, size).records
    winners = [BLACK if r == "B" else -BLACK if r == "W" else 0
               for r in ((record.result or "0")[:1].upper() for record in records)]
    planes, masks, moves, results, owner = [], [], [], [], []
    for i, state, action in replay_targets(records, history=8):
        planes.append(state.features())
        masks.append(state.legal_mask())
        moves.append(action)
        results.append(float(winners[i] * state.to_play))
        owner.append(i)
    pos = Positions(torch.from_numpy(np.stack(planes)).float(), torch.from_numpy(np.stack(masks)))
    return pos, torch.tensor(moves), torch.tensor(results), torch.tensor(owner)


def held_out_games(game: torch.Tensor, share: float) -> tuple[torch.Tensor, int]:
    """(mask of the positions of the last ``share`` of the games, at least one game; how many games that is), for
    the game index of each position ``game (N,)`` that :func:`corpus_positions` gives."""
    games = int(game.max()) + 1
    held_games = max(1, round(share * games))
    return game >= games - held_games, held_games


def turn_batch(planes: torch.Tensor, mask: torch.Tensor, moves: torch.Tensor, k: int
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A batch of positions (N, C, H, W), legal masks (N, A) and moves (N,) under board symmetry ``k`` (0..7,
    ``envs.go.features``): the move is carried to the point its stone lands on; pass stays pass."""
    if k == 0:
        return planes, mask, moves
    size = planes.shape[-1]
    one_hot = F.one_hot(moves, size * size + 1).numpy()
    return (torch.from_numpy(symmetry_planes(planes.numpy(), k)),
            torch.from_numpy(symmetry_policy(mask.numpy(), k, size)),
            torch.from_numpy(symmetry_policy(one_hot, k, size)).argmax(-1))


def train_teacher(pos: Positions, moves: torch.Tensor, results: torch.Tensor, steps: int, batch: int, lr: float,
                  seed: int, augment: bool = False, value_weight: float = 1.0) -> torch.nn.Module:
    """resnet b6c64 trained by cross-entropy on ``moves`` + ``value_weight`` x MSE on ``results`` (AdamW, weight
    decay 1e-4, one-cycle schedule: warm up over the first 10% of ``steps`` to ``lr``, then cosine decay),
    shuffled passes over ``pos``, each minibatch under one random board symmetry when ``augment``, in
    channels-last layout. Prints the step, mean loss, rate and ETA every twentieth of the run."""
    torch.manual_seed(seed)
    size = pos.planes.shape[-1]
    net = build_net(NetConfig(kind="resnet", preset="b6c64"), pos.planes.shape[1], size, size * size + 1).train()
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    g = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    order, cursor, start, losses = torch.randperm(len(pos), generator=g), 0, time.time(), []
    with channels_last(net) as layout:
        for step in range(1, steps + 1):
            if cursor + batch > len(pos):
                order, cursor = torch.randperm(len(pos), generator=g), 0
            idx = order[cursor:cursor + batch]
            cursor += batch
            planes, mask, target = pos.planes[idx], pos.mask[idx], moves[idx]
            if augment:
                planes, mask, target = turn_batch(planes, mask, target, int(rng.integers(8)))
            logits, value = net(layout(planes), mask)
            loss = F.cross_entropy(logits, target) + value_weight * F.mse_loss(value, results[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
            if step % max(steps // 20, 1) == 0 or step == steps:
                rate = step / (time.time() - start)
                print(f"  teacher step {step}/{steps}: loss {np.mean(losses[-50:]):.3f}, {rate:.2f} steps/s, "
                      f"ETA {(steps - step) / rate / 60:.1f} min", flush=True)
    return net.eval()


@torch.no_grad()
def search_positions(teacher: torch.nn.Module, count: int, seed: int, games: int = 64, simulations: int = 32,
                     size: int = 9, komi: float = 7.5) -> Positions:
    """``count`` positions (planes and exact legal masks) drawn uniformly from whole games ``teacher`` plays
    against itself with the search of training self-play (``ZeroConfig`` defaults: ``simulations`` per move,
    Dirichlet noise at the root, the first 10 moves sampled by visit count, then the most visited; sensible moves
    only): the positions a net meets in self-play and play. ``games`` games at once; the first ``games`` games to
    finish (at least ``count`` positions in all) are kept. Different seeds give different games."""
    rng = np.random.default_rng(seed)
    game = GoGame(size, komi=komi)
    play = SelfPlay(ZeroConfig(games=games, simulations=simulations), game, NetEvaluator(teacher, "cpu"), rng)
    finished: list = []
    start = shown = time.time()
    while len(finished) < games or sum(len(g.actions) for g in finished) < count:
        finished.extend(play.step())
        if time.time() - shown > 60:  # a line a minute: this takes minutes per 64 games on a CPU
            shown, have = time.time(), sum(len(g.actions) for g in finished)
            rate = have / (shown - start)
            eta = f", ETA {(count - have) / rate / 60:.0f} min" if rate and have < count else ""
            print(f"  search games: {len(finished)} finished ({games} at a time), {have} of {count} positions, "
                  f"{rate * 60:.0f} positions/min{eta}", flush=True)
    planes, masks = [], []
    for g in finished:  # replay each game on the rules engine for its exact planes and legal masks
        state = game.new_state()
        for action in g.actions:
            planes.append(state.features())
            masks.append(state.legal_mask())
            state.play(action)
    pick = np.sort(rng.choice(len(planes), size=min(count, len(planes)), replace=False))
    return Positions(torch.from_numpy(np.stack(planes)[pick]), torch.from_numpy(np.stack(masks)[pick]))


@torch.no_grad()
def raw_policy_positions(teacher: torch.nn.Module, count: int, seed: int, games: int = 64, size: int = 9,
                         komi: float = 7.5, temperature: float = 1.0) -> Positions:
    """``count`` positions (planes and exact legal masks) from games ``teacher`` plays against itself, ``games``
    at once, each move sampled from its raw policy at ``temperature``; a game that ends restarts. Different seeds
    give different games."""
    rng = np.random.default_rng(seed)
    batch = GoBatch(games, size, komi=komi, history=8, max_moves=2 * size * size)
    planes, masks, n = [], [], 0
    while n < count:
        live = ~batch.done
        feats, legal = batch.features()[live], batch.legal_masks()[live]
        logits, _ = teacher(torch.from_numpy(feats), torch.from_numpy(legal))
        probs = torch.softmax(logits / temperature, -1).double().numpy()
        u = rng.random((len(probs), 1))
        picked = np.minimum((np.cumsum(probs, axis=1) < u * probs.sum(1, keepdims=True)).sum(1), size * size)
        picked = np.where(legal[np.arange(len(picked)), picked], picked, size * size)  # pass is always legal
        actions = np.full(games, size * size, np.int64)
        actions[live] = picked
        planes.append(feats)
        masks.append(legal)
        n += len(feats)
        batch.play(actions)
        if batch.done.any():
            batch.reset(np.flatnonzero(batch.done))
    return Positions(torch.from_numpy(np.concatenate(planes)[:count]), torch.from_numpy(np.concatenate(masks)[:count]))


def symmetric_copies(pos: Positions, copies: int, seed: int) -> Positions:
    """``pos`` followed by ``copies - 1`` copies under distinct random non-identity board symmetries drawn from
    ``seed`` (legal masks moved along): ``copies * len(pos)`` positions; ``pos`` itself when ``copies <= 1``."""
    if copies <= 1:
        return pos
    size = pos.planes.shape[-1]
    ks = np.random.default_rng(seed).permutation(np.arange(1, 8))[:copies - 1]
    planes, masks = [pos.planes.numpy()], [pos.mask.numpy()]
    for k in ks:
        planes.append(symmetry_planes(planes[0], int(k)))
        masks.append(symmetry_policy(masks[0], int(k), size))
    return Positions(torch.from_numpy(np.concatenate(planes)), torch.from_numpy(np.concatenate(masks)))


@torch.no_grad()
def symmetry_self_agreement(net: torch.nn.Module, pos: Positions) -> float:
    """How often ``net``'s most likely legal move stays the same move when the board is turned or mirrored: the
    mean over the 7 non-identity symmetries of the top-1 agreement between the net on the transformed positions
    and its own output on the originals, transformed alike. 1.0 for an exactly symmetric net; a low figure means
    its top move is mostly a near-tie decided by the orientation (the turned net is exactly as good a net)."""
    size = pos.planes.shape[-1]
    logits = outputs_on(net, pos)[0].numpy()
    same = []
    for k in range(1, 8):
        turned = Positions(torch.from_numpy(symmetry_planes(pos.planes.numpy(), k)),
                           torch.from_numpy(symmetry_policy(pos.mask.numpy(), k, size)))
        expected = symmetry_policy(logits, k, size).argmax(-1)
        same.append(float((outputs_on(net, turned)[0].numpy().argmax(-1) == expected).mean()))
    return float(np.mean(same))


@dataclass(frozen=True)
class TeacherRecipe:
    """The settings a teacher trained on a corpus depends on, kept beside it as ``DIR/teacher.json`` (these keys,
    in this order): the corpus folder (an absolute path), the held-out share of its games, the seed, and
    :func:`train_teacher`'s steps, batch, peak learning rate and value weight."""

    corpus: str
    held_out: float
    seed: int
    teacher_steps: int
    teacher_batch: int
    teacher_lr: float
    teacher_value_weight: float


def corpus_teacher(recipe: TeacherRecipe, folder: Path | None, positions: Positions, moves: torch.Tensor,
                   results: torch.Tensor) -> torch.nn.Module:
    """The resnet b6c64 teacher of a corpus (:func:`train_teacher` with ``recipe``'s settings and board symmetries
    on the training games' ``positions`` (N, ...), the engine's ``moves`` (N,) and the ``results`` (N,)), saved as
    ``folder/teacher.pt`` with ``recipe`` in ``folder/teacher.json``. A folder that already holds a teacher of
    the same recipe gives that one back instead of training again, so a run stopped after the teacher (Ctrl-C, a
    crash) loses none of its minutes. ``folder`` None: trained, not kept."""
    settings = asdict(recipe)
    if folder and (folder / "teacher.pt").exists() and (folder / "teacher.json").exists() and \
            json.loads((folder / "teacher.json").read_text()) == settings:
        print(f"teacher: {folder / 'teacher.pt'}, trained earlier with these settings", flush=True)
        return load_net(folder / "teacher.pt").eval()
    teacher = train_teacher(positions, moves, results, recipe.teacher_steps, recipe.teacher_batch,
                            recipe.teacher_lr, recipe.seed, augment=True, value_weight=recipe.teacher_value_weight)
    if folder:
        save_net(teacher, folder / "teacher.pt")
        (folder / "teacher.json").write_text(json.dumps(settings, indent=1) + "\n")
    return teacher
