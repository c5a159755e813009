"""YOLOv3 outputs -> boxes, in NumPy: ppdet's ``YOLOBox`` decoding and ``MultiClassNMS`` (per class,
IoU 0.45, score 0.01, the best 1000 candidates of a class into NMS, keep 100), applied to what an
exported model returns, so Paddle Inference and ONNX Runtime artifacts are scored the same way."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def decode(outputs: Sequence[np.ndarray], info: dict[str, Any], input_size: int,
           conf: float = 0.01) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per image: candidate boxes (x1, y1, x2, y2 in input pixels), scores and labels before NMS."""
    anchors = np.array(info["anchors"], np.float64)
    per_image: list[list] = [[] for _ in range(len(outputs[0]))]
    for out, mask in zip(outputs, info["anchor_masks"]):
        n, _, h, w = out.shape
        p = out.reshape(n, len(mask), -1, h, w).transpose(0, 1, 3, 4, 2).astype(np.float64)
        gy, gx = np.mgrid[0:h, 0:w]
        cx = (_sigmoid(p[..., 0]) + gx) / w * input_size
        cy = (_sigmoid(p[..., 1]) + gy) / h * input_size
        bw = np.exp(np.clip(p[..., 2], -10, 10)) * anchors[mask, 0][None, :, None, None]
        bh = np.exp(np.clip(p[..., 3], -10, 10)) * anchors[mask, 1][None, :, None, None]
        scores = _sigmoid(p[..., 4:5]) * _sigmoid(p[..., 5:])
        boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], -1)
        for i in range(n):
            s, b = scores[i].reshape(-1, scores.shape[-1]), boxes[i].reshape(-1, 4)
            rows, labels = np.nonzero(s > conf)
            per_image[i].append((b[rows], s[rows, labels], labels))
    return [tuple(np.concatenate([part[k] for part in parts]) for k in range(3)) for parts in per_image]


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float = 0.45) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, best first."""
    order, keep = np.argsort(-scores, kind="stable"), []
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while order.size:
        i, order = order[0], order[1:]
        keep.append(i)
        x1 = np.maximum(boxes[i, 0], boxes[order, 0])
        y1 = np.maximum(boxes[i, 1], boxes[order, 1])
        x2 = np.minimum(boxes[i, 2], boxes[order, 2])
        y2 = np.minimum(boxes[i, 3], boxes[order, 3])
        inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
        order = order[inter / (area[i] + area[order] - inter + 1e-9) <= iou]
    return np.array(keep, dtype=np.int64)


def candidates(scores: np.ndarray, labels: np.ndarray, label: int, top_k: int) -> np.ndarray:
    """Indices of one class's ``top_k`` best-scored candidates, best first (ppdet's ``nms_top_k``:
    an untrained detector at 608 px puts ~22k boxes of every class over the score threshold)."""
    rows = np.nonzero(labels == label)[0]
    return rows[np.argsort(-scores[rows], kind="stable")[:top_k]]


def detections(outputs: Sequence[np.ndarray], info: dict[str, Any],
               input_size: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per image of an exported detector's outputs: boxes, scores and labels after its family's
    post-processing (:mod:`.families`: :func:`yolo_detections`, :func:`.ssd.ssdlite_detections`,
    :func:`.rcnn.detections`, with ppdet's settings)."""
    from .families import family

    return family(info["name"]).detections(outputs, info, input_size)


def yolo_detections(outputs: Sequence[np.ndarray], info: dict[str, Any], input_size: int,
                    keep: int = 100, top_k: int = 1000) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per image: a YOLOv3's boxes, scores and labels after per-class NMS (of each class's ``top_k`` best),
    at most ``keep``, best first."""
    result = []
    for boxes, scores, labels in decode(outputs, info, input_size):
        kept = []
        for c in np.unique(labels):
            rows = candidates(scores, labels, c, top_k)
            kept.append(rows[nms(boxes[rows], scores[rows])])
        idx = np.concatenate(kept) if kept else np.zeros(0, np.int64)
        idx = idx[np.argsort(-scores[idx], kind="stable")][:keep]
        result.append((boxes[idx], scores[idx], labels[idx]))
    return result
