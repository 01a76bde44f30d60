"""The framework, split by job: ``run`` (the loop), ``scale`` (Ray, torchrun), ``play`` (Go tooling), ``pipelines``
(multi-stage training), ``reporting``; ``launch`` picks the runner for ``train.py``. The modules at this level
besides ``errors`` and ``launch`` are the ``python -m zoo.NAME`` commands."""
