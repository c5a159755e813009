"""Scoring a segmenter (mIoU over the dataset's classes, PaddleSeg's definition) and drawing its masks."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .data import SegSet


#: Batch size of evaluation forwards (the embedded images are small).
BATCH = 16
Runner = Callable[[np.ndarray], Sequence[np.ndarray]]


def predict(run: Runner, data: SegSet, info: dict[str, Any] | None = None) -> np.ndarray:
    """Class map (N x H x W) of every image; ``run`` maps an NCHW batch to the model's outputs
    (the first is the logits). ``info`` (the model's description) is not needed, as for detectors.
    One byte per pixel up to 256 classes: Cityscapes val's 500 maps are then 1 GB, not 8."""
    maps = []
    for _, x in data.batches(BATCH):
        logits = np.asarray(run(x)[0])
        maps.append(logits.argmax(1).astype(np.uint8 if logits.shape[1] <= 256 else np.int32))
    return np.concatenate(maps)


def sample(run: Runner, data: SegSet, info: dict[str, Any], path: Path) -> None:
    """The site's picture of a model: the first image with its labels and ``run``'s mask (:func:`draw`)."""
    draw(data, 0, np.asarray(run(data.normalise(data.images([0])))[0]).argmax(1)[0], path)


def score(data: SegSet, pred: np.ndarray) -> dict[str, float]:
    """mIoU (%) and pixel accuracy (%) over labelled pixels; a class absent from both the labels and
    the predictions is left out of the mean (PaddleSeg's ``mean_iou`` counts it as 0 IoU of 0 area)."""
    classes = len(data.classes)
    cm = np.zeros(classes ** 2, np.int64)
    for i in range(len(data)):  # one label map at a time (a split's maps need not fit in memory)
        labels = data.label(i)
        keep = labels != data.ignore
        cm += np.bincount(labels[keep].astype(np.int64) * classes + pred[i][keep], minlength=classes ** 2)
    cm = cm.reshape(classes, classes)
    inter, union = np.diag(cm), cm.sum(0) + cm.sum(1) - np.diag(cm)
    iou = inter[union > 0] / union[union > 0]
    return {"miou": float(iou.mean() * 100), "pixel_acc": float(inter.sum() / cm.sum() * 100),
            "background_iou": float(iou[0] * 100) if union[0] else 0.0}


def palette(classes: int) -> np.ndarray:
    """One RGB colour per class, class 0 (background) black."""
    rng = np.random.default_rng(0)
    colours = rng.integers(64, 256, (classes, 3)).astype(np.uint8)
    colours[0] = 0
    return colours


def draw(data: SegSet, i: int, pred: np.ndarray, path: Path) -> None:
    """PNG of image ``i``: the image, its labels and the predicted mask overlaid, side by side."""
    import cv2

    colours = palette(len(data.classes))
    image, labels = data.image(i), data.label(i)
    labels = np.where(labels == data.ignore, 0, labels)
    panels = [image] + [np.where(m[..., None] > 0, (0.4 * image + 0.6 * colours[m]).astype(np.uint8), image)
                        for m in (labels, pred)]
    strip = np.concatenate([np.pad(p, ((2, 2), (2, 2), (0, 0)), constant_values=255) for p in panels], 1)
    strip = cv2.resize(strip, None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST)
    cv2.imwrite(str(path), strip[..., ::-1])
