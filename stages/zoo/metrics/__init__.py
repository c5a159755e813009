"""Evaluators, one per metric family the seeds publish; every score is in percent, as published.

    topk.topk_accuracy         Top-1 / Top-5 (classification)
    coco.coco_ap               COCO box AP and mask AP (pycocotools COCOeval)
    voc.voc_map                Pascal VOC mAP at IoU 0.5 (PaddleDetection's DetectionMAP)
    widerface.widerface_ap     WIDER FACE AP for Easy / Medium / Hard (the official protocol)
    miou.MeanIoU               mIoU with an ignore index (PaddleSeg's area and IoU functions)

Each rejects malformed input with :class:`MetricInputError`, whose message is one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np


class MetricInputError(ValueError):
    """Predictions or ground truth that an evaluator cannot score; the message says what and where."""


@dataclass(frozen=True)
class Detections:
    """A detector's output for one image, in pixels of that image.

    Attributes:
        boxes: ``(n, 4)`` boxes ``x1, y1, x2, y2``.
        scores: ``(n,)`` confidences.
        labels: ``(n,)`` class indices (0-based, as in the dataset's records).
        masks: Optional ``(n, H, W)`` binary masks (instance segmentation).
    """

    boxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    masks: Optional[np.ndarray] = None

    @classmethod
    def of(cls, boxes, scores, labels, masks=None) -> "Detections":
        """Build from array-likes (an empty list is zero detections)."""
        boxes = np.asarray(boxes, dtype=np.float64)
        if boxes.size == 0:
            boxes = boxes.reshape(0, 4)
        return cls(boxes, np.asarray(scores, dtype=np.float64), np.asarray(labels), masks)


def check_detections(dets: "Detections", where: str, classes: int | None = None) -> None:
    """Raise :class:`MetricInputError` unless ``dets`` are well-formed."""
    n = len(dets.scores)
    if dets.boxes.shape != (n, 4) or np.asarray(dets.labels).shape != (n,) or dets.scores.shape != (n,):
        raise MetricInputError(f"{where}: expected boxes (n, 4), scores (n,), labels (n,); got "
                               f"{dets.boxes.shape}, {dets.scores.shape}, {np.asarray(dets.labels).shape}")
    if not (np.isfinite(dets.boxes).all() and np.isfinite(dets.scores).all()):
        raise MetricInputError(f"{where}: boxes or scores contain NaN or infinity")
    if n and ((dets.boxes[:, 2] < dets.boxes[:, 0]) | (dets.boxes[:, 3] < dets.boxes[:, 1])).any():
        raise MetricInputError(f"{where}: a box has x2 < x1 or y2 < y1 (expected x1, y1, x2, y2)")
    if n and classes is not None and (np.min(dets.labels) < 0 or np.max(dets.labels) >= classes):
        raise MetricInputError(f"{where}: labels outside [0, {classes})")
    if dets.masks is not None and (dets.masks.ndim != 3 or dets.masks.shape[0] != n):
        raise MetricInputError(f"{where}: expected masks (n, H, W), got {dets.masks.shape}")


def check_count(predictions: list, samples: tuple | list, what: str = "predictions") -> None:
    """Predictions must come one per dataset image, in the dataset's order."""
    if len(predictions) != len(samples):
        raise MetricInputError(f"{what}: {len(predictions)} given for {len(samples)} images (one per image)")
