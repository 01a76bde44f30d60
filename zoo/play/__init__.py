"""Go play tooling: players, batched matches and the run's Go evaluation, the arena and its Elo ladder, GTP (engine
and client). Commands: ``python -m zoo.arena``, ``python -m zoo.gtp``, ``python -m zoo.play_go``."""
