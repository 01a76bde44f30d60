"""Self-play throughput of pgx + mctx (JAX): Gumbel AlphaZero on pgx's go_9x9, as in pgx's examples/alphazero.

Runs in its own environment, never the suite's (pgx, mctx and JAX are not dependencies of zoo):

    python3 -m venv /tmp/pgxvenv && /tmp/pgxvenv/bin/pip install jax pgx mctx dm-haiku
    /tmp/pgxvenv/bin/python benchmarks/pgx_mctx_selfplay.py --sims 32 --games 64 --seconds 20
    /tmp/pgxvenv/bin/python benchmarks/pgx_mctx_selfplay.py --devices 2 ...   # batch split over 2 CPU devices

The net has the shape of the suite's resnet b6c64 (``agents.nets``): 3x3 conv stem + BatchNorm + ReLU, 6 residual
blocks of two 3x3 convs with BatchNorm (post-activation, pgx's BlockV1), convolutions without bias; policy head
1x1 conv to 2 channels + BN + ReLU + linear to 82 logits; value head 1x1 conv to 1 channel + BN + ReLU + linear
256 + ReLU + linear 1 + tanh. Inputs are pgx's (B, 9, 9, 17) observations (NHWC, JAX's layout; ours are NCHW
with the same 17 planes). BatchNorm runs on its moving statistics (mean 0, variance 1, as a fresh torch net).

One jitted call plays one move in all B games: a forward pass at the roots, ``mctx.gumbel_muzero_policy`` with
``num_simulations`` (each simulation steps the pgx env of every game and evaluates the new leaves in one batched
forward pass; Gumbel scale 1, completed-Q by mixed value, 16 considered actions, as pgx's example), then the env
step with auto-reset. Net evaluations per move and game: ``sims + 1`` (mctx keeps no tree between moves, so the
root is evaluated again). With ``--devices D`` > 1 the games are split over D JAX CPU devices by ``shard_map``
(XLA_FLAGS=--xla_force_host_platform_device_count=D is set here before JAX loads); by default JAX's CPU
convolutions use about one core, so D=2 is how JAX uses both cores of a 2-core machine.

Prints one JSON object per (sims, B) on stdout: ``moves_per_s`` (positions of self-play per second),
``evals_per_s``, ``raw_forward_per_s`` (the same jitted net on (B, 9, 9, 17) random planes), ``compile_s`` (AOT
compilation of the self-play step, reported apart from the timed window), ``moves`` (timed moves per game),
``wall_s``, ``devices``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any


def set_devices(devices: int) -> None:
    """Ask XLA for ``devices`` host CPU devices; must run before JAX is imported."""
    if "jax" in sys.modules:
        raise RuntimeError("set_devices must run before jax is imported")
    flags = [f for f in os.environ.get("XLA_FLAGS", "").split() if "xla_force_host_platform_device_count" not in f]
    os.environ["XLA_FLAGS"] = " ".join(flags + [f"--xla_force_host_platform_device_count={devices}"])


def make_forward(num_actions: int, blocks: int, channels: int, value_hidden: int) -> Any:
    """haiku ``transform_with_state`` of the dual-head ResNet: ``apply(params, state, x (B, H, W, C) bool)`` ->
    ``((logits (B, A), value (B,) in [-1, 1] from the mover's view), state)``; inference only (moving stats)."""
    import haiku as hk
    import jax
    import jax.numpy as jnp

    def forward_fn(x: jax.Array, is_training: bool = False) -> tuple[jax.Array, jax.Array]:
        def conv_bn(x: jax.Array, out: int, kernel: int) -> jax.Array:
            x = hk.Conv2D(out, kernel_shape=kernel, with_bias=False)(x)
            return hk.BatchNorm(True, True, 0.9)(x, is_training=is_training)

        h = jax.nn.relu(conv_bn(x.astype(jnp.float32), channels, 3))
        for _ in range(blocks):
            y = jax.nn.relu(conv_bn(h, channels, 3))
            h = jax.nn.relu(conv_bn(y, channels, 3) + h)
        p = jax.nn.relu(conv_bn(h, 2, 1)).reshape(h.shape[0], -1)
        logits = hk.Linear(num_actions)(p)
        v = jax.nn.relu(conv_bn(h, 1, 1)).reshape(h.shape[0], -1)
        v = jnp.tanh(hk.Linear(1)(jax.nn.relu(hk.Linear(value_hidden)(v))))
        return logits, v.reshape(-1)

    return hk.without_apply_rng(hk.transform_with_state(forward_fn))


def init_model(forward: Any, observation_shape: tuple[int, ...]) -> Any:
    """(params, state) with random weights and BatchNorm moving mean 0, variance 1 (a fresh torch net's)."""
    import jax
    import jax.numpy as jnp

    x = jnp.zeros((2, *observation_shape), jnp.bool_)
    params, state = forward.init(jax.random.PRNGKey(0), x, is_training=True)
    state = {k: {n: (jnp.ones_like(a) if "var_ema" in k else jnp.zeros_like(a)) if n == "average" else a
                 for n, a in v.items()} for k, v in state.items()}
    return params, state


def make_step(env: Any, forward: Any, sims: int) -> Any:
    """``step(model, state, keys (b, 2)) -> (state, keys)``: one move of Gumbel AlphaZero in each of b games."""
    import jax
    import jax.numpy as jnp
    import mctx
    from pgx.experimental import auto_reset

    def recurrent_fn(model: Any, rng_key: jax.Array, action: jax.Array, state: Any) -> Any:
        del rng_key
        mover = state.current_player
        state = jax.vmap(env.step)(state, action)
        (logits, value), _ = forward.apply(*model, state.observation)
        logits = logits - logits.max(axis=-1, keepdims=True)
        logits = jnp.where(state.legal_action_mask, logits, jnp.finfo(logits.dtype).min)
        reward = state.rewards[jnp.arange(state.rewards.shape[0]), mover]
        value = jnp.where(state.terminated, 0.0, value)
        discount = jnp.where(state.terminated, 0.0, -jnp.ones_like(value))  # the other player moves next
        return mctx.RecurrentFnOutput(reward=reward, discount=discount, prior_logits=logits, value=value), state

    def step(model: Any, state: Any, keys: jax.Array) -> tuple[Any, jax.Array]:
        split = jax.vmap(lambda k: jax.random.split(k, 3))(keys)
        (logits, value), _ = forward.apply(*model, state.observation)
        root = mctx.RootFnOutput(prior_logits=logits, value=value, embedding=state)
        out = mctx.gumbel_muzero_policy(params=model, rng_key=split[0, 2], root=root, recurrent_fn=recurrent_fn,
                                        num_simulations=sims, invalid_actions=~state.legal_action_mask,
                                        qtransform=mctx.qtransform_completed_by_mix_value, gumbel_scale=1.0)
        state = jax.vmap(auto_reset(env.step, env.init))(state, out.action, split[:, 1])
        return state, split[:, 0]

    return step


def measure(args: argparse.Namespace, sims: int, games: int) -> dict[str, float]:
    """Compile the self-play step for (sims, games), then time it for ``args.seconds`` (at least one move)."""
    import jax
    import numpy as np
    import pgx
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    devices = jax.local_devices()[: args.devices]
    if len(devices) < args.devices or games % args.devices:
        raise SystemExit(f"error: {args.devices} devices requested, {len(jax.local_devices())} available; "
                         f"B={games} must divide evenly among them")
    env = pgx.make(f"go_{args.board}x{args.board}")
    forward = make_forward(env.num_actions, args.blocks, args.channels, args.value_hidden)
    mesh = Mesh(np.array(devices), ("d",))
    shard, replicate = NamedSharding(mesh, P("d")), NamedSharding(mesh, P())
    model = jax.device_put(init_model(forward, env.observation_shape), replicate)
    step = make_step(env, forward, sims)
    if args.devices > 1:
        step = jax.shard_map(step, mesh=mesh, in_specs=(P(), P("d"), P("d")), out_specs=(P("d"), P("d")),
                             check_vma=False)
    keys = jax.device_put(jax.random.split(jax.random.PRNGKey(args.seed), games), shard)
    state = jax.jit(jax.vmap(env.init), out_shardings=shard)(keys)

    start = time.perf_counter()
    compiled = jax.jit(step, donate_argnums=(1, 2)).lower(model, state, keys).compile()
    compile_s = time.perf_counter() - start
    state, keys = compiled(model, state, keys)  # warm-up move
    jax.block_until_ready(keys)
    moves, start = 0, time.perf_counter()
    while moves == 0 or time.perf_counter() - start < args.seconds:
        state, keys = compiled(model, state, keys)
        jax.block_until_ready(keys)
        moves += 1
    wall = time.perf_counter() - start

    apply = jax.jit(lambda m, x: forward.apply(*m, x)[0])
    planes = jax.device_put(np.random.default_rng(0).random((games, *env.observation_shape)) < 0.3, shard)
    jax.block_until_ready(apply(model, planes))
    n, t0 = 0, time.perf_counter()
    while n == 0 or time.perf_counter() - t0 < args.raw_seconds:
        jax.block_until_ready(apply(model, planes))
        n += games
    raw = n / (time.perf_counter() - t0)
    return {"sims": sims, "games": games, "devices": args.devices, "moves": moves, "wall_s": wall,
            "compile_s": compile_s, "moves_per_s": games * moves / wall,
            "evals_per_s": games * (sims + 1) * moves / wall, "raw_forward_per_s": raw}


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, measure every (sims, B), print one JSON line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", type=int, default=9, choices=[9, 19], help="pgx Go board (go_9x9, go_19x19)")
    parser.add_argument("--blocks", type=int, default=6)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--value-hidden", type=int, default=256, help="hidden units of the value head (ours: 256)")
    parser.add_argument("--sims", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--games", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--seconds", type=float, default=20.0, help="timed window per (sims, B); at least one move")
    parser.add_argument("--raw-seconds", type=float, default=3.0, help="timed window of the raw forward rate")
    parser.add_argument("--devices", type=int, default=1, help="JAX CPU devices to split the games over")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", default=None, help="JAX persistent compilation cache (reused across runs)")
    args = parser.parse_args(argv)
    if args.devices < 1:
        parser.error("--devices must be >= 1")
    set_devices(args.devices)
    try:
        import haiku  # noqa: F401
        import jax
        import mctx  # noqa: F401
        import pgx  # noqa: F401
    except ImportError:
        parser.error("jax is not installed in this Python; run it with the pgx venv's python "
                     "(pip install jax pgx mctx dm-haiku)")
    if args.cache_dir:
        jax.config.update("jax_compilation_cache_dir", args.cache_dir)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    for sims in args.sims:
        for games in args.games:
            print(json.dumps(measure(args, sims, games)), flush=True)


if __name__ == "__main__":
    main()
