"""COCO AP (box and mask) with pycocotools' COCOeval, the evaluator of the COCO benchmark itself."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import numpy as np

from . import Detections, MetricInputError, check_count, check_detections

STATS = ("ap", "ap50", "ap75", "ap_small", "ap_medium", "ap_large")


def _quiet():
    return contextlib.redirect_stdout(io.StringIO())  # COCOeval prints its progress and table


def to_results(gt: dict, predictions: list[Detections], iou_type: str = "bbox") -> list[dict[str, Any]]:
    """Per-image detections (in the order of the gt's images sorted by id) as COCO results."""
    from pycocotools import mask as mask_utils

    images = sorted(gt["images"], key=lambda m: m["id"])
    check_count(predictions, images)
    cat_ids = sorted(c["id"] for c in gt["categories"])
    results = []
    for i, (img, det) in enumerate(zip(images, predictions)):
        check_detections(det, f"predictions[{i}]", len(cat_ids))
        if iou_type == "segm" and det.masks is None:
            raise MetricInputError(f"predictions[{i}]: mask AP needs masks")
        for j, (box, score, label) in enumerate(zip(det.boxes, det.scores, det.labels)):
            x1, y1, x2, y2 = (float(v) for v in box)
            res = {"image_id": img["id"], "category_id": cat_ids[int(label)], "score": float(score),
                   "bbox": [x1, y1, x2 - x1, y2 - y1]}
            if iou_type == "segm":
                rle = mask_utils.encode(np.asfortranarray(det.masks[j].astype(np.uint8)))
                rle["counts"] = rle["counts"].decode("ascii")
                res["segmentation"] = rle
            results.append(res)
    return results


def _check_results(gt: dict, results: list, iou_type: str) -> None:
    if not isinstance(results, list):
        raise MetricInputError(f"results: expected a list of detections, got {type(results).__name__}")
    image_ids = {m["id"] for m in gt["images"]}
    cat_ids = {c["id"] for c in gt["categories"]}
    need = ("image_id", "category_id", "score", "segmentation" if iou_type == "segm" else "bbox")
    for i, r in enumerate(results):
        if not isinstance(r, dict) or any(k not in r for k in need):
            raise MetricInputError(f"results[{i}]: expected keys {', '.join(need)}")
        if r["image_id"] not in image_ids:
            raise MetricInputError(f"results[{i}]: image_id {r['image_id']!r} is not in the ground truth")
        if r["category_id"] not in cat_ids:
            raise MetricInputError(f"results[{i}]: category_id {r['category_id']!r} is not in the ground truth")
        box = r.get("bbox", [0, 0, 0, 0])
        if len(box) != 4 or not np.isfinite(box).all() or box[2] < 0 or box[3] < 0:
            raise MetricInputError(f"results[{i}]: bbox must be [x, y, width >= 0, height >= 0], got {box}")
        if not np.isfinite(r["score"]):
            raise MetricInputError(f"results[{i}]: score is not finite")


def coco_ap(gt: dict, results: list[dict[str, Any]], iou_type: str = "bbox") -> dict[str, float]:
    """COCO AP@[.5:.95] and its companions, in percent.

    Args:
        gt: An instances json dict (the dataset's own file, or ``datasets.coco.to_coco`` of records).
        results: COCO result dicts (``image_id``, ``category_id``, ``score``, ``bbox`` as
            ``[x, y, w, h]``; for masks ``segmentation`` as RLE).
        iou_type: ``bbox`` (Box AP) or ``segm`` (Mask AP).

    Returns:
        ``ap``, ``ap50``, ``ap75``, ``ap_small``, ``ap_medium``, ``ap_large``; an area range without
        ground truth is None (COCOeval's -1). No results at all score 0.

    Raises:
        MetricInputError: Malformed results, or ids that the ground truth does not have.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    if iou_type not in ("bbox", "segm"):
        raise MetricInputError(f"iou_type: expected bbox or segm, got {iou_type!r}")
    if not isinstance(gt, dict) or any(k not in gt for k in ("images", "annotations", "categories")):
        raise MetricInputError("gt: expected an instances dict with images, annotations, categories")
    _check_results(gt, results, iou_type)
    if not results:
        return dict.fromkeys(STATS, 0.0)
    with _quiet():
        coco_gt = COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes([dict(r) for r in results])  # loadRes adds keys in place
        evaluator = COCOeval(coco_gt, coco_dt, iou_type)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return {k: (float(v) * 100 if v >= 0 else None) for k, v in zip(STATS, evaluator.stats)}
