"""Score a detector's predictions on a split (COCO box AP, or VOC mAP) and draw them on an image."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..metrics import Detections
from . import decode
from .data import DetSet

#: Batch size of evaluation forwards (the embedded images are small).
BATCH = 32


def predict(run: Callable[[np.ndarray], Sequence[np.ndarray]], data: DetSet, info: dict[str, Any]) -> list[Detections]:
    """Detections in each image's pixels; ``run`` maps an NCHW batch to the three raw outputs."""
    from .models import export_batch

    out = []
    for idx, x in data.batches(export_batch(info) or BATCH):
        for i, (boxes, scores, labels) in zip(idx, decode.detections(run(x), info, data.size)):
            out.append(Detections.of(data.to_image(i, boxes), scores, labels))
    return out


def predict_image(run: Callable[[np.ndarray], Sequence[np.ndarray]], data: DetSet, info: dict[str, Any],
                  i: int) -> Detections:
    """Detections of image ``i`` alone, in its pixels."""
    boxes, scores, labels = decode.detections(run(data.normalised(np.array([i]))), info, data.size)[0]
    return Detections.of(data.to_image(i, boxes), scores, labels)


def sample(run: Callable[[np.ndarray], Sequence[np.ndarray]], data: DetSet, info: dict[str, Any],
           path: Path) -> None:
    """The site's picture of a model: the first image with ``run``'s boxes (:func:`draw`)."""
    draw(data, 0, predict_image(run, data, info, 0), path)


def score(data: DetSet, predictions: list[Detections], iou_types: Sequence[str] = ("bbox",)) -> dict[str, float]:
    """``box_ap`` (COCO AP@[.5:.95]) and ``box_ap50`` for COCO-layout data, with ``mask_ap`` and ``mask_ap50``
    of the predictions' masks when ``iou_types`` has ``segm`` (a Mask RCNN's); ``voc_map`` (11-point, IoU
    0.5, as PaddleDetection's VOC models report) for VOC; in percent."""
    from ..metrics.coco import coco_ap, to_results
    from ..metrics.voc import voc_map

    ds = data.dataset
    if data.kind == "voc":
        return {"voc_map": voc_map(ds.samples, predictions, len(ds.classes))}
    from ..datasets.coco import to_coco

    # COCO's evaluation ignores categories its ground truth does not list: a paper-scale 80-class
    # model scored on a split that names fewer (the full profile's fixtures) keeps only those
    n = len(ds.classes)
    known = []
    for p in predictions:
        keep = p.labels < n
        known.append(Detections.of(p.boxes[keep], p.scores[keep], p.labels[keep],
                                   None if p.masks is None else p.masks[keep]))
    gt = to_coco(ds.samples, ds.classes, [s.image for s in ds.samples])
    out = {}
    for iou_type in iou_types:
        ap = coco_ap(gt, to_results(gt, known, iou_type), iou_type)
        prefix = {"bbox": "box", "segm": "mask"}[iou_type]
        out.update({f"{prefix}_ap": ap["ap"], f"{prefix}_ap50": ap["ap50"]})
    return out


def draw(data: DetSet, i: int, det: Detections, path: Path, threshold: float = 0.3) -> None:
    """Image ``i`` with ground truth (green) and predictions (red, with class and score), scaled up 4x
    so the small embedded images can be read, written as PNG.

    Drawn are the predictions scoring at least ``threshold`` and, however low they score, the most
    confident ones up to the number of ground-truth boxes: an unsure detector's picture still shows
    where it looks, and its scores say how unsure it is. A Mask RCNN's drawn masks are tinted red."""
    import cv2

    from ..datasets.images import read_image

    sample = data.dataset.samples[i]
    image = cv2.resize(read_image(data.dataset.path(sample.image)), None, fx=4, fy=4,
                       interpolation=cv2.INTER_NEAREST)
    for box in sample.boxes:
        x1, y1, x2, y2 = (int(round(v * 4)) for v in box)
        cv2.rectangle(image, (x1, y1), (x2, y2), (0, 200, 0), 1)
    order = np.argsort(-det.scores, kind="stable")
    keep = order[(det.scores[order] >= threshold) | (np.arange(len(order)) < len(sample.boxes))]
    if det.masks is not None and len(keep):
        tinted = cv2.resize(det.masks[keep].max(0), None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST) > 0
        image[tinted] = (0.5 * image[tinted] + 0.5 * np.array([0, 0, 255])).astype(image.dtype)
    for box, s, label in zip(det.boxes[keep], det.scores[keep], det.labels[keep]):
        x1, y1, x2, y2 = (int(round(v * 4)) for v in box)
        cv2.rectangle(image, (x1, y1), (x2, y2), (0, 0, 255), 2)
        names = data.dataset.classes  # a class the split does not list (see score) shows its index
        name = names[int(label)] if int(label) < len(names) else f"class {int(label)}"
        cv2.putText(image, f"{name} {s:.2f}", (x1, max(10, y1 - 3)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 255), 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), image):
        raise OSError(f"{path}: could not write the image")
