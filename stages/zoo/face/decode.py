"""BlazeFace outputs -> boxes, in NumPy: ppdet's SSD anchors (``prior_box``), ``SSDBox`` decoding and
``MultiClassNMS`` (IoU 0.3, score 0.01, keep 750, as configs/face_detection/_base_/blazeface.yml), applied
to what an exported model returns, so Paddle Inference and ONNX Runtime artifacts are scored the same way."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..det.decode import nms

#: ppdet's BlazeFace post-processing.
SCORE_THRESHOLD, NMS_IOU, KEEP = 0.01, 0.3, 750


def priors(info: dict[str, Any], input_size: int) -> np.ndarray:
    """The anchors of a square ``input_size`` image, normalised x1, y1, x2, y2, in the head's order
    (row, column, then size), as ppdet's ``prior_box`` with one aspect ratio and offset 0.5."""
    out = []
    for step, sizes in zip(info["steps"], info["min_sizes"]):
        cells = math.ceil(input_size / step)  # stride-2 convs and ceil-mode pools round up
        gy, gx = np.mgrid[0:cells, 0:cells]
        cx, cy = (gx + 0.5) * step, (gy + 0.5) * step
        half = np.array(sizes, np.float64) / 2
        box = np.stack([cx[..., None] - half, cy[..., None] - half, cx[..., None] + half, cy[..., None] + half], -1)
        out.append(box.reshape(-1, 4) / input_size)
    return np.concatenate(out)


def decode(offsets: np.ndarray, prior: np.ndarray, variances: Sequence[float], input_size: int) -> np.ndarray:
    """SSD box offsets (N, P, 4) against ``prior`` -> boxes x1, y1, x2, y2 in input pixels."""
    v = np.asarray(variances, np.float64)
    pw, ph = prior[:, 2] - prior[:, 0], prior[:, 3] - prior[:, 1]
    px, py = prior[:, 0] + pw / 2, prior[:, 1] + ph / 2
    o = offsets.astype(np.float64)
    cx, cy = px + o[..., 0] * pw * v[0], py + o[..., 1] * ph * v[1]
    w, h = np.exp(np.clip(o[..., 2] * v[2], -10, 10)) * pw, np.exp(np.clip(o[..., 3] * v[3], -10, 10)) * ph
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1) * input_size


def detections(outputs: Sequence[np.ndarray], info: dict[str, Any],
               input_size: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per image: boxes, scores and labels after per-class NMS, at most :data:`KEEP`, best first."""
    offsets, logits = outputs
    boxes = decode(offsets, priors(info, input_size), info["variances"], input_size)
    z = logits.astype(np.float64) - logits.max(-1, keepdims=True)
    probs = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    result = []
    for b, p in zip(boxes, probs[..., :-1]):  # the last class is the background
        rows, labels = np.nonzero(p > SCORE_THRESHOLD)
        kept = [rows[labels == c][nms(b[rows[labels == c]], p[rows[labels == c], c], NMS_IOU)]
                for c in np.unique(labels)]
        cls = [np.full(len(k), c) for k, c in zip(kept, np.unique(labels))]
        idx, lab = (np.concatenate(kept), np.concatenate(cls)) if kept else (np.zeros(0, int), np.zeros(0, int))
        score = p[idx, lab]
        order = np.argsort(-score, kind="stable")[:KEEP]
        result.append((b[idx[order]], score[order], lab[order]))
    return result
