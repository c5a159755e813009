"""Training of a BlazeFace detector (dygraph, CPU or GPU): ppdet's SSD loss in the shared epoch loop
(stages/zoo/loop.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import loop
from .data import DetSet, ssd_targets

#: L2 weight decay of ppdet's BlazeFace recipe (configs/face_detection/_base_/optimizer_1000e.yml).
WEIGHT_DECAY = 5e-4


def fit(model: Any, train: DetSet, run: dict[str, Any], kind: str, info: dict[str, Any], rng: np.random.Generator,
        metrics: Path) -> list[float]:
    """Train ``model`` for ``run["epochs"]`` on shuffled batches; returns each epoch's mean loss.

    Args:
        run: The profile's run settings (epochs, lr, batch_size, optimizer, warmup_epochs).
        kind: LR schedule, ``piecewise`` or ``cosine``.
        info: The model's description (unused: the head makes its own anchors while training).
        metrics: dvclive folder for the curves.
    """
    import paddle

    _full_rate(model)
    batch = run["batch_size"]
    steps = max(1, len(train) // batch)

    def batches():
        order = rng.permutation(len(train))
        for k in range(steps):
            yield ssd_targets(train, order[k * batch:(k + 1) * batch])

    def loss(model, targets):
        b = {key: paddle.to_tensor(v) for key, v in targets.items()}
        return model(b["image"], b)

    return loop.fit(model, run, kind, steps, batches, loss, metrics, WEIGHT_DECAY)


def _full_rate(model: Any) -> None:
    """Train every weight at the schedule's rate. ppdet's BlazeNet gives each of its convolutions a 0.1
    learning-rate multiplier (``ConvBNLayer(conv_lr=0.1)``, not configurable), made for its recipe of
    1000 epochs at base lr 0.001; in the embedded profile's 750 steps the backbone then hardly moves
    (BlazeFace-NAS, 12 epochs at lr 0.01: Easy/Medium/Hard AP 1.2/1.0/0.7 with it, 17.5/12.6/8.6
    without). Each profile sets its own lr for the whole model instead."""
    for param in model.parameters():
        if param.optimize_attr.get("learning_rate", 1.0) != 1.0:
            param.optimize_attr["learning_rate"] = 1.0
