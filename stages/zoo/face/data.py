"""Face detection splits (the detection package's :class:`DetSet`) and SSD training targets."""

from __future__ import annotations

import numpy as np

from ..det.data import DetSet, split  # noqa: F401  (the same splits: images resized to the square input)


def ssd_targets(data: DetSet, idx: np.ndarray) -> dict[str, np.ndarray]:
    """A training batch for ppdet's SSD loss: image, gt_bbox (normalised x1, y1, x2, y2) and gt_class,
    padded to the batch's most faces with empty boxes, as ppdet's ``PadBox`` (an empty box overlaps no
    anchor; the loss sends what matches it to the background). Ignored faces are left out; no mirror
    flips, as for the detectors (a mirrored digit is another glyph)."""
    boxes = []
    for i in idx:
        s = data.dataset.samples[i]
        keep = [k for k in range(len(s.boxes)) if not s.ignore[k]]
        b = np.array([s.boxes[k] for k in keep], np.float32).reshape(-1, 4)
        boxes.append(np.clip(b / np.array([s.width, s.height, s.width, s.height], np.float32), 0, 1))
    slots = max(1, max(len(b) for b in boxes))
    gt_bbox = np.zeros((len(idx), slots, 4), np.float32)
    for k, b in enumerate(boxes):
        gt_bbox[k, :len(b)] = b
    return {"image": data.normalised(idx), "gt_bbox": gt_bbox, "gt_class": np.zeros((len(idx), slots), np.int32)}
