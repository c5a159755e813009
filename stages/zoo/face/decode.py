"""BlazeFace outputs -> boxes, in NumPy: ppdet's SSD anchors (``prior_box``), ``SSDBox`` decoding and
``MultiClassNMS`` (IoU 0.3, score 0.01, keep 750, as configs/face_detection/_base_/blazeface.yml), applied
to what an exported model returns, so Paddle Inference and ONNX Runtime artifacts are scored the same way."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..det import ssd

#: ppdet's BlazeFace post-processing.
SCORE_THRESHOLD, NMS_IOU, KEEP = 0.01, 0.3, 750


def priors(info: dict[str, Any], input_size: int) -> np.ndarray:
    """The anchors of a square ``input_size`` image, normalised x1, y1, x2, y2, in the head's order
    (row, column, then size), as ppdet's ``prior_box`` with one aspect ratio and offset 0.5."""
    # stride-2 convs and ceil-mode pools round the cells per side up
    return ssd.grid_priors([(math.ceil(input_size / step), step, [(s, s) for s in sizes])
                            for step, sizes in zip(info["steps"], info["min_sizes"])], input_size, clip=False)


def detections(outputs: Sequence[np.ndarray], info: dict[str, Any],
               input_size: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per image: boxes, scores and labels after per-class NMS, at most :data:`KEEP`, best first."""
    return ssd.detections(outputs, priors(info, input_size), info["variances"], input_size, SCORE_THRESHOLD,
                          NMS_IOU, KEEP)
