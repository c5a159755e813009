"""WIDER FACE AP for the Easy, Medium and Hard settings, following the official evaluation.

No toolkit ships it as a function (PaddleDetection writes prediction files for the official
MATLAB/Python tool), so this is that tool's algorithm, vectorised:

- scores are min-max normalised over all images; 1000 thresholds from 0.999 down to 0;
- per image and setting, faces outside the setting's list are ignored: a detection whose best
  match (IoU >= 0.5, boxes with the +1 pixel convention) is an ignored face is not a proposal;
- precision = recalled faces / proposals, recall = recalled faces / faces in the setting;
- AP is the area under the precision envelope (VOC style).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..datasets.records import DetSample
from . import Detections, MetricInputError, check_count, check_detections

LEVELS = ("easy", "medium", "hard")


def _iou(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """IoU matrix (len(pred), len(gt)) with inclusive pixel coordinates, as bbox_overlaps does."""
    iw = np.minimum(pred[:, None, 2], gt[None, :, 2]) - np.maximum(pred[:, None, 0], gt[None, :, 0]) + 1
    ih = np.minimum(pred[:, None, 3], gt[None, :, 3]) - np.maximum(pred[:, None, 1], gt[None, :, 1]) + 1
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    area = lambda b: (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)  # noqa: E731
    return inter / (area(pred)[:, None] + area(gt)[None, :] - inter)


def _image_eval(pred: np.ndarray, gt: np.ndarray, keep: np.ndarray, iou: float) -> tuple[np.ndarray, np.ndarray]:
    """Per detection (sorted by score): faces recalled so far, and whether it is a proposal."""
    overlaps = _iou(pred, gt)
    recalled = np.zeros(len(gt))
    proposal = np.ones(len(pred), dtype=bool)
    pred_recall = np.zeros(len(pred))
    for h in range(len(pred)):
        best = int(overlaps[h].argmax())
        if overlaps[h, best] >= iou:
            if not keep[best]:
                recalled[best], proposal[h] = -1, False
            elif recalled[best] == 0:
                recalled[best] = 1
        pred_recall[h] = (recalled == 1).sum()
    return pred_recall, proposal


def _pr_counts(scores: np.ndarray, pred_recall: np.ndarray, proposal: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Per threshold: proposals at or above it, faces they recall."""
    above = len(scores) - np.searchsorted(scores[::-1], thresholds, side="left")  # scores sorted descending
    proposals = np.concatenate(([0], np.cumsum(proposal)))[above]
    recalls = np.concatenate(([0], pred_recall))[above]
    return np.stack([proposals, recalls], axis=1)


def _voc_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    i = np.flatnonzero(mrec[1:] != mrec[:-1])
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def _normalised(predictions: Sequence[Detections]) -> list[np.ndarray]:
    scores = [d.scores for d in predictions]
    flat = np.concatenate(scores) if scores else np.zeros(0)
    low, high = min(1.0, float(flat.min(initial=1.0))), max(0.0, float(flat.max(initial=0.0)))
    if high - low <= 0:
        return [np.ones_like(s) for s in scores]
    return [(s - low) / (high - low) for s in scores]


def widerface_ap(samples: Sequence[DetSample], predictions: Sequence[Detections], iou: float = 0.5,
                 thresholds: int = 1000) -> dict[str, float]:
    """AP of each setting, in percent.

    Args:
        samples: WIDER FACE val records (with ``subsets``).
        predictions: One :class:`Detections` per sample, same order; labels are ignored.
        iou: Match threshold.
        thresholds: Number of score thresholds.

    Raises:
        MetricInputError: Misaligned or malformed predictions, records without the settings' lists.
    """
    check_count(list(predictions), list(samples))
    for i, (s, d) in enumerate(zip(samples, predictions)):
        check_detections(d, f"predictions[{i}]")
        if set(s.subsets) != set(LEVELS):
            raise MetricInputError(f"samples[{i}] ({s.image}): no easy/medium/hard face lists (val records only)")
    cuts = 1 - (np.arange(thresholds) + 1) / thresholds
    scores = _normalised(predictions)
    out = {}
    for level in LEVELS:
        counts, faces = np.zeros((thresholds, 2)), 0
        for s, d, sc in zip(samples, predictions, scores):
            faces += len(s.subsets[level])
            if not s.boxes or not len(sc):
                continue
            keep = np.zeros(len(s.boxes), dtype=bool)
            keep[list(s.subsets[level])] = True
            order = np.argsort(-sc, kind="stable")
            pred_recall, proposal = _image_eval(d.boxes[order], np.asarray(s.boxes, dtype=np.float64), keep, iou)
            counts += _pr_counts(sc[order], pred_recall, proposal, cuts)
        with np.errstate(invalid="ignore", divide="ignore"):
            precision = np.where(counts[:, 0] > 0, counts[:, 1] / counts[:, 0], 0.0)
        recall = counts[:, 1] / faces if faces else np.zeros(thresholds)
        out[level] = _voc_ap(recall, precision) * 100
    return out
