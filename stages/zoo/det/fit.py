"""Training of a YOLOv3 or SSDLite detector (dygraph, CPU or GPU): ppdet's loss in the shared epoch loop
(stages/zoo/loop.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import loop
from .data import DetSet, ssd_targets, yolo_targets


def fit(model: Any, train: DetSet, run: dict[str, Any], kind: str, info: dict[str, Any], rng: np.random.Generator,
        metrics: Path) -> list[float]:
    """Train ``model`` for ``run["epochs"]`` on shuffled batches; returns each epoch's mean loss.

    Args:
        run: The profile's run settings (epochs, lr, batch_size, optimizer, warmup_epochs); ``augment``
            False trains on the images as they are (benchmarks/det_learning.py), else through ppdet's
            augmentations.
        kind: LR schedule, ``piecewise`` or ``cosine``.
        info: The model's description (name; a YOLOv3's anchors, masks, strides, classes) for the targets.
        metrics: dvclive folder for the curves.
    """
    import paddle

    batch, augment, ssd = run["batch_size"], run.get("augment", True), info["name"] == "SSDLite"
    steps = max(1, len(train) // batch)

    def batches():
        order = rng.permutation(len(train))
        for k in range(steps):
            idx, draw = order[k * batch:(k + 1) * batch], rng if augment else None
            yield ssd_targets(train, idx, draw) if ssd else yolo_targets(train, idx, info, draw)

    def loss(model, targets):
        b = {key: paddle.to_tensor(v) for key, v in targets.items()}
        out = model(b["image"], b)
        return out if ssd else out["loss"]  # ppdet's SSD loss is a scalar, its YOLOv3 loss a dict

    return loop.fit(model, run, kind, steps, batches, loss, metrics, 5e-4)
