"""Training of a segmenter (dygraph, CPU or GPU): pixel cross-entropy averaged over labelled pixels,
in the shared epoch loop (stages/zoo/loop.py).

The loss is paddle's own ``cross_entropy`` with ``ignore_index``: PaddleSeg 2.8's CrossEntropyLoss
computes the same mean (``avg_non_ignore``) but fails on paddle 3.3.1 (it multiplies a float mask by
an int64 tensor, which paddle 3 no longer promotes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import loop
from .data import SegSet


def fit(model: Any, train: SegSet, run: dict[str, Any], kind: str, info: dict[str, Any], rng: np.random.Generator,
        metrics: Path) -> list[float]:
    """Train ``model`` for ``run["epochs"]`` on random ``info["input"]`` crops; returns each epoch's mean loss.

    Args:
        run: The profile's run settings (epochs, lr, batch_size, optimizer, warmup_epochs).
        kind: LR schedule, ``piecewise`` or ``cosine``.
        info: The model's description (model.json); its ``input`` is the crop size.
        metrics: dvclive folder for the curves.
    """
    import paddle

    def loss(model, batch):
        x, y = batch
        return paddle.nn.functional.cross_entropy(model(paddle.to_tensor(x))[0], paddle.to_tensor(y),
                                                  ignore_index=train.ignore, axis=1)

    return loop.fit(model, run, kind, max(1, len(train) // run["batch_size"]),
                    lambda: train.crops(run["batch_size"], info["input"], rng), loss, metrics, 4e-5)
