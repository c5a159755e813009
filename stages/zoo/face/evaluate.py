"""Score a face detector's predictions on a split (WIDER FACE Easy / Medium / Hard AP) and draw them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..det.evaluate import BATCH, draw
from ..metrics import Detections
from . import decode
from .data import DetSet


def predict(run: Callable[[np.ndarray], Sequence[np.ndarray]], data: DetSet, info: dict[str, Any]) -> list[Detections]:
    """Detections in each image's pixels; ``run`` maps an NCHW batch to the box offsets and logits."""
    out = []
    for idx, x in data.batches(BATCH):
        for i, (boxes, scores, labels) in zip(idx, decode.detections(run(x), info, data.size)):
            out.append(Detections.of(data.to_image(i, boxes), scores, labels))
    return out


def sample(run: Callable[[np.ndarray], Sequence[np.ndarray]], data: DetSet, info: dict[str, Any],
           path: Path) -> None:
    """The site's picture of a model: the first val image with ``run``'s boxes (det's ``draw``)."""
    boxes, scores, labels = decode.detections(run(data.normalised(np.array([0]))), info, data.size)[0]
    draw(data, 0, Detections.of(data.to_image(0, boxes), scores, labels), path)


def score(data: DetSet, predictions: list[Detections]) -> dict[str, float]:
    """WIDER FACE AP of the Easy, Medium and Hard settings (``easy``, ``medium``, ``hard``), in percent."""
    from ..metrics.widerface import widerface_ap

    return widerface_ap(data.dataset.samples, predictions)
