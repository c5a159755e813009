"""Pascal VOC mAP at IoU 0.5, with PaddleDetection's DetectionMAP (what its VOC metric reports)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..datasets.records import DetSample
from . import Detections, MetricInputError, check_count, check_detections


def voc_map(samples: Sequence[DetSample], predictions: Sequence[Detections], classes: int,
            map_type: str = "11point", overlap: float = 0.5) -> float:
    """Mean over classes of the average precision, in percent.

    Difficult objects (``ignore``) are neither counted nor punished, as in the VOC protocol.
    PaddleDetection's VOC models report ``11point`` mAP (VOC2007 test); ``integral`` is VOC2010+.

    Args:
        samples: Ground-truth records.
        predictions: One :class:`Detections` per sample, in the same order.
        classes: Number of classes.
        map_type: ``11point`` or ``integral``.
        overlap: IoU above which a detection matches.

    Raises:
        MetricInputError: Malformed or misaligned predictions, unknown ``map_type``.
    """
    from ppdet.metrics.map_utils import DetectionMAP

    if map_type not in ("11point", "integral"):
        raise MetricInputError(f"map_type: expected 11point or integral, got {map_type!r}")
    check_count(list(predictions), list(samples))
    metric = DetectionMAP(classes, overlap_thresh=overlap, map_type=map_type, is_bbox_normalized=False,
                          evaluate_difficult=False, catid2name={i: str(i) for i in range(classes)})
    for i, (sample, det) in enumerate(zip(samples, predictions)):
        check_detections(det, f"predictions[{i}]", classes)
        order = np.argsort(-det.scores, kind="stable")  # DetectionMAP matches in the given order
        metric.update(det.boxes[order], det.scores[order], np.asarray(det.labels)[order],
                      np.asarray(sample.boxes, dtype=np.float64).reshape(-1, 4),
                      np.asarray(sample.labels, dtype=np.int64), np.asarray(sample.ignore, dtype=np.int64))
    metric.accumulate()
    return float(metric.get_map()) * 100
