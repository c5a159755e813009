"""mIoU with an ignore index, accumulated over images; PaddleSeg's IoU and accuracy functions.

PaddleSeg 2.8's ``calculate_area`` fails on paddle 3 (it concatenates 0-D sums), so the areas are
counted here with the same definition: pixels labelled ``ignore_index`` count nowhere.
"""

from __future__ import annotations

import numpy as np

from . import MetricInputError


class MeanIoU:
    """Accumulate intersection and union areas per class; ``result()`` gives PaddleSeg's figures.

    As in PaddleSeg, a class absent from both predictions and labels counts as IoU 0 in the mean.

    Args:
        classes: Number of classes.
        ignore_index: Label value excluded from every area.
    """

    def __init__(self, classes: int, ignore_index: int = 255):
        if classes < 1:
            raise MetricInputError(f"classes: expected a positive number, got {classes}")
        self.classes, self.ignore_index = classes, ignore_index
        self.areas = np.zeros((3, classes), dtype=np.int64)  # intersect, pred, label

    def update(self, pred: np.ndarray, label: np.ndarray) -> None:
        """Add one image (or a batch) of predicted and true class maps of equal shape.

        Raises:
            MetricInputError: Shapes differ, non-integer maps, values outside the classes.
        """
        pred, label = np.asarray(pred), np.asarray(label)
        if pred.shape != label.shape or pred.ndim not in (2, 3):
            raise MetricInputError(f"pred {pred.shape} and label {label.shape}: expected equal (H, W) or (N, H, W)")
        if not (np.issubdtype(pred.dtype, np.integer) and np.issubdtype(label.dtype, np.integer)):
            raise MetricInputError(f"pred and label: expected integer class maps, got {pred.dtype}, {label.dtype}")
        if pred.size and (pred.min() < 0 or pred.max() >= self.classes):
            raise MetricInputError(f"pred: values must be in [0, {self.classes}), got {pred.min()}..{pred.max()}")
        valid = label[label != self.ignore_index]
        if valid.size and (valid.min() < 0 or valid.max() >= self.classes):
            raise MetricInputError(f"label: values must be in [0, {self.classes}) or {self.ignore_index}, "
                                   f"got {valid.min()}..{valid.max()}")
        keep = label != self.ignore_index
        p, t = pred[keep].astype(np.int64), label[keep].astype(np.int64)
        self.areas += np.stack([np.bincount(p[p == t], minlength=self.classes),
                                np.bincount(p, minlength=self.classes), np.bincount(t, minlength=self.classes)])

    def result(self) -> dict[str, object]:
        """``miou`` and pixel ``acc`` in percent, and ``class_iou`` (percent per class)."""
        import paddle
        from paddleseg.utils.metrics import accuracy, mean_iou

        inter, pred, label = (paddle.to_tensor(a) for a in self.areas)
        class_iou, miou = mean_iou(inter, pred, label)
        _, acc = accuracy(inter, pred)
        return {"miou": float(miou) * 100, "acc": float(acc) * 100,
                "class_iou": [float(v) * 100 for v in class_iou]}
