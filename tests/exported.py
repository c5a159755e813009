"""A model's outputs on one random image beside what its exported Paddle Inference program returns for it,
for the tests that check an export computes what the model does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def model_and_export(model: Any, folder: Path, size: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``model`` (put in eval mode) and its program saved under ``folder`` (``inference``), each run on the same
    random ``size`` x ``size`` image: (the model's outputs, the program's)."""
    import paddle

    from stages.zoo.cls.models import save_inference
    from stages.zoo.runtimes import paddle_runner

    model.eval()
    x = np.random.default_rng(0).standard_normal((1, 3, size, size)).astype(np.float32)
    with paddle.no_grad():
        expected = [o.numpy() for o in model(paddle.to_tensor(x))]
    save_inference(model, folder / "inference")
    return expected, paddle_runner(folder / "inference", 1)(x)
