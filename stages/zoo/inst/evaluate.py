"""Score a Mask RCNN's predictions on a split (COCO box AP and mask AP) and draw them on an image."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..det import evaluate as det_eval
from ..det.data import DetSet
from ..det.rcnn import mask_detections, paste_masks
from ..metrics import Detections


def predict_image(run: Callable[[np.ndarray], Sequence[np.ndarray]], data: DetSet, info: dict[str, Any],
                  i: int) -> Detections:
    """Boxes and binary masks of image ``i``, in its pixels (the exported model takes one image a call)."""
    boxes, scores, labels, masks = mask_detections(run(data.normalised(np.array([i]))), info, data.size)[0]
    s = data.dataset.samples[i]
    boxes = data.to_image(i, boxes)
    return Detections.of(boxes, scores, labels, paste_masks(masks, boxes, s.height, s.width))


def predict(run: Callable[[np.ndarray], Sequence[np.ndarray]], data: DetSet, info: dict[str, Any]) -> list[Detections]:
    """:func:`predict_image` of every image, in order."""
    return [predict_image(run, data, info, i) for i in range(len(data))]


def score(data: DetSet, predictions: list[Detections]) -> dict[str, float]:
    """``box_ap``, ``box_ap50``, ``mask_ap`` and ``mask_ap50`` (COCO AP@[.5:.95] and AP50 of the boxes, and of
    the masks against the split's polygons; :func:`..det.evaluate.score`), in percent."""
    return det_eval.score(data, predictions, ("bbox", "segm"))


def sample(run: Callable[[np.ndarray], Sequence[np.ndarray]], data: DetSet, info: dict[str, Any],
           path: Path) -> None:
    """The site's picture of a model: the first image with ``run``'s boxes and masks (:func:`..det.evaluate.draw`)."""
    det_eval.draw(data, 0, predict_image(run, data, info, 0), path)
