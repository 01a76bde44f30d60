"""``python -m zoo.pretrained``: the agents the suite ships, their cards, files and evaluations
(:mod:`zoo.reporting.pretrained`; the registry and ``pretrained:NAME`` lookup: :mod:`pretrained`)."""

import logging
import os
import warnings

if __name__ == "__main__":  # what torch, Inductor and wandb tell their developers says nothing to a user here
    warnings.filterwarnings("ignore", module=r"(torch|torchao|wandb|onnx|onnxruntime)(\.|$)")
    os.environ.setdefault("TORCH_LOGS", "-dynamo,-inductor")  # torch sets these two loggers' levels from it
    for _name in ("torch.utils._pytree", "torch.utils.cpp_extension"):
        logging.getLogger(_name).setLevel(logging.ERROR)

from zoo.reporting.pretrained import main

if __name__ == "__main__":
    raise SystemExit(main())
