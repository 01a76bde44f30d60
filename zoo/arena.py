"""``python -m zoo.arena``: Go matches between any players, an Elo ladder, SPRT (:mod:`zoo.play.arena`)."""

import logging
import os
import sys
import warnings

if __name__ == "__main__":  # what torch, Inductor and wandb tell their developers says nothing to a user here
    warnings.filterwarnings("ignore", module=r"(torch|torchao|wandb|onnx|onnxruntime)(\.|$)")
    os.environ.setdefault("TORCH_LOGS", "-dynamo,-inductor")  # torch sets these two loggers' levels from it
    for _name in ("torch.utils._pytree", "torch.utils.cpp_extension"):
        logging.getLogger(_name).setLevel(logging.ERROR)

from zoo.play.arena import main

if __name__ == "__main__":
    sys.exit(main())
