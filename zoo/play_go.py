"""``python -m zoo.play_go``: a zero checkpoint against a built-in bot, with a 95% CI (:mod:`zoo.play.go_eval`), or
``--human``: play an agent yourself in the terminal (:mod:`zoo.play.human`)."""

import logging
import os
import warnings

if __name__ == "__main__":  # what torch, Inductor and wandb tell their developers says nothing to a user here
    warnings.filterwarnings("ignore", module=r"(torch|torchao|wandb|onnx|onnxruntime)(\.|$)")
    os.environ.setdefault("TORCH_LOGS", "-dynamo,-inductor")  # torch sets these two loggers' levels from it
    for _name in ("torch.utils._pytree", "torch.utils.cpp_extension"):
        logging.getLogger(_name).setLevel(logging.ERROR)

from zoo.play.go_eval import main

if __name__ == "__main__":
    main()
