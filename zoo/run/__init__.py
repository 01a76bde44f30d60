"""The run core: the collect/update loop and what every run needs (config, checkpoints, logging, progress, envs,
accelerators). It imports nothing of Go, of the play tools, of scale-out or of the pipelines: what a kind of run
adds reaches the loop as hooks from :mod:`zoo.launch`."""
