"""SSD-style detectors from PaddleDetection's (``ppdet``) own layers: SSDLite (MobileNetV3 with extra
blocks and ppdet's ``SSDHead`` with separable convolutions), and what BlazeFace (stages/zoo/face) shares
with it: the detector wrapper, ppdet's ``SSDLoss`` with its paddle 3.3 shim, and the NumPy decoding.

    model = build({"name": "SSDLite", "backbone": "MobileNetV3_large", "classes": 10, "input": 96, "scale": 0.25})

Configured as ppdet's configs/ssd/_base_/ssdlite_mobilenet_v3_{large,small}_320.yml: the backbone's
last three blocks at half width (``multiplier`` 0.5), six outputs (the stride-16 block's expansion,
then a 1x1 conv and four extra blocks, each halving the map), anchors from ``min_ratio`` 20 to
``max_ratio`` 95 of the input with aspect ratios 2 (and 3), SSDBox decoding and per-class NMS. The tiny
profile narrows every width (the extra blocks too) by ``scale``; the anchors follow the input size.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

#: SSD box coding variances (ppdet's SSDLoss and SSDBox defaults).
VARIANCES = [0.1, 0.1, 0.2, 0.2]
#: ppdet's SSDLite backbone settings per MobileNetV3 size: the feature maps the head reads.
FEATURE_MAPS = {"MobileNetV3_large": [14, 17, 18, 19, 20, 21], "MobileNetV3_small": [10, 13, 14, 15, 16, 17]}
EXTRA_FILTERS = [[256, 512], [128, 256], [128, 256], [64, 128]]
#: Anchor settings of the published configs (the sizes are fractions of the input, so they scale with it).
ASPECT_RATIOS = [[2.0], [2.0, 3.0], [2.0, 3.0], [2.0, 3.0], [2.0, 3.0], [2.0, 3.0]]
MIN_RATIO, MAX_RATIO = 20, 95
#: The first output's stride; each later one doubles it (stride-2 convs rounding up).
FIRST_STRIDE = 16
#: ppdet's SSDLite post-processing (``MultiClassNMS``): score 0.01, IoU 0.45, 400 per class in, 200 kept.
SCORE_THRESHOLD, NMS_IOU, TOP_K, KEEP = 0.01, 0.45, 400, 200
#: Match IoU of SSDLite's loss (ppdet's ``SSDLoss`` default).
OVERLAP = 0.5


def anchor_levels(input_size: int) -> list[dict[str, Any]]:
    """Per output: cells per side, step (input px per cell), min and max anchor size (px) and aspect
    ratios, as ppdet's ``AnchorGeneratorSSD`` derives them with ``base_size`` = the input (at 320: steps
    16, 32, 64, 107, 160, 320; sizes 32-304 px)."""
    step = int(math.floor((MAX_RATIO - MIN_RATIO) / (len(ASPECT_RATIOS) - 2)))
    ratios = list(range(MIN_RATIO, MAX_RATIO + 1, step))
    mins = [input_size * 0.10] + [input_size * r / 100 for r in ratios]
    maxs = [input_size * 0.20] + [input_size * (r + step) / 100 for r in ratios]
    cells = [math.ceil(input_size / (FIRST_STRIDE * 2 ** k)) for k in range(len(ASPECT_RATIOS))]
    return [{"cells": c, "step": input_size / c, "min_size": lo, "max_size": hi, "aspect_ratios": ar}
            for c, lo, hi, ar in zip(cells, mins, maxs, ASPECT_RATIOS)]


def _backbone(name: str, scale: float):
    from ppdet.modeling.backbones.mobilenet_v3 import MobileNetV3

    extra = [[max(8, int(a * scale)), max(8, int(b * scale))] for a, b in EXTRA_FILTERS]
    return MobileNetV3(scale=scale, model_name=name.split("_")[1], feature_maps=FEATURE_MAPS[name],
                       with_extra_blocks=True, extra_block_filters=extra, multiplier=0.5, conv_decay=4e-5)


def build(arch: dict[str, Any]):
    """A fresh SSDLite for a resolved ``arch`` (backbone, scale, classes, input)."""
    import paddle
    from ppdet.modeling.heads.ssd_head import SSDHead
    from ppdet.modeling.layers import AnchorGeneratorSSD

    levels = anchor_levels(arch["input"])
    with paddle.utils.unique_name.guard():
        body = _backbone(arch["backbone"], arch.get("scale") or 1.0)
        anchors = AnchorGeneratorSSD(
            steps=[lv["step"] for lv in levels], aspect_ratios=ASPECT_RATIOS,
            min_sizes=[lv["min_size"] for lv in levels],
            max_sizes=[lv["max_size"] for lv in levels], offset=0.5, flip=True, clip=True,
            min_max_aspect_ratios_order=False)
        head = SSDHead(num_classes=arch["classes"], in_channels=[s.channels for s in body.out_shape],
                       anchor_generator=anchors, use_sepconv=True, conv_decay=4e-5, loss=ssd_loss(OVERLAP))
        return detector(body, head, "ssd_head")


def ssd_loss(overlap: float):
    """ppdet's SSDLoss (match IoU ``overlap``), with its hard-negative mining made to run on paddle 3.3.

    Compatibility shim, kept here rather than in stages/zoo/runtime.py because that module is a
    dependency of every stage: ppdet 2.6's ``_mine_hard_example`` compares int64 ranks with float32
    counts, which paddle 3.3 no longer promotes (TypeError). The override is ppdet's method with the
    ranks cast to float (and its per-image loop over the counts as one ``where``).
    """
    import paddle
    from ppdet.modeling.losses.ssd_loss import SSDLoss

    class Loss(SSDLoss):
        def _mine_hard_example(self, conf_loss, targets_label, bg_index, mine_neg_ratio=0.01):
            pos = (targets_label != bg_index).astype(conf_loss.dtype)
            num_pos = pos.sum(axis=1, keepdim=True)
            neg = (targets_label == bg_index).astype(conf_loss.dtype)
            masked = conf_loss.detach() * neg
            rank = masked.argsort(axis=1, descending=True).argsort(axis=1).astype(conf_loss.dtype)
            floor = pos.shape[1] * mine_neg_ratio  # an image without positives keeps 1% of its anchors
            num_neg = paddle.clip(num_pos * self.neg_pos_ratio, max=pos.shape[1])
            num_neg = paddle.where(num_neg > 0, num_neg, paddle.full_like(num_neg, floor))
            return ((rank < num_neg).astype(conf_loss.dtype) + pos).astype("bool")

    return Loss(overlap_threshold=overlap, prior_box_var=VARIANCES)


def detector(backbone, head, head_name: str):
    """An SSD-style detector: ``backbone`` and an SSD/Face ``head`` registered as ``head_name`` (the
    weights' names: ``ssd_head`` as ppdet's SSD, ``blaze_head`` as its BlazeFace)."""
    import paddle

    class Detector(paddle.nn.Layer):
        """Image batch -> box offsets (N, priors, 4) and class logits (N, priors, classes + 1, background
        last); decoding against the anchors and NMS: :func:`detections`. With ``targets`` in train mode,
        ppdet's SSD loss (a scalar)."""

        def __init__(self):
            super().__init__()
            self.backbone = backbone
            self.add_sublayer(head_name, head)
            self.head_name = head_name

        def forward(self, x, targets=None):
            head = getattr(self, self.head_name)
            feats = self.backbone({"image": x})
            boxes, scores = [], []
            for i, feat in enumerate(feats):
                # by registered name, not the head's lists (nor its forward, which uses them): quant-aware
                # training swaps the registered layers, and the lists would keep training the float ones
                box, score = getattr(head, f"boxes{i}"), getattr(head, f"scores{i}")
                boxes.append(box(feat).transpose([0, 2, 3, 1]).reshape([0, -1, 4]))
                scores.append(score(feat).transpose([0, 2, 3, 1]).reshape([0, -1, head.num_classes]))
            if self.training and targets is not None:
                anchors = head.anchor_generator(feats, x)
                return head.get_loss(boxes, scores, targets["gt_bbox"], targets["gt_class"], anchors)
            return [paddle.concat(boxes, 1), paddle.concat(scores, 1)]

    return Detector()


def _expanded(ratios: Sequence[float]) -> list[float]:
    """Paddle's ``prior_box`` aspect ratios: 1, then each ratio and (flip) its inverse."""
    out = [1.0]
    for r in ratios:
        if all(abs(r - o) > 1e-6 for o in out):
            out += [r, 1.0 / r]
    return out


def grid_priors(levels: Sequence[tuple[int, float, Sequence[tuple[float, float]]]], input_size: int,
                clip: bool) -> np.ndarray:
    """Anchors on square grids, normalised x1, y1, x2, y2, in a head's order (level, row, column, then
    each size): per level its cells per side, step (px) and anchor widths and heights (px), centred at
    each cell's middle (Paddle's ``prior_box`` offset 0.5); clipped to the image when ``clip``."""
    out = []
    for cells, step, sizes in levels:
        half = np.array(sizes, np.float64) / 2
        gy, gx = np.mgrid[0:cells, 0:cells]
        cx, cy = (gx + 0.5) * step, (gy + 0.5) * step
        box = np.stack([cx[..., None] - half[:, 0], cy[..., None] - half[:, 1], cx[..., None] + half[:, 0],
                        cy[..., None] + half[:, 1]], -1).reshape(-1, 4) / input_size
        out.append(np.clip(box, 0, 1) if clip else box)
    return np.concatenate(out)


def priors(levels: list[dict[str, Any]], input_size: int) -> np.ndarray:
    """SSDLite's anchors (:func:`anchor_levels`) of a square ``input_size`` image, clipped to it: per
    cell each aspect ratio, then the min-max square, as Paddle's ``prior_box`` with
    ``min_max_aspect_ratios_order`` off."""
    def sizes(lv: dict[str, Any]) -> list[tuple[float, float]]:
        size = lv["min_size"]
        ratios = [(size * math.sqrt(r), size / math.sqrt(r)) for r in _expanded(lv["aspect_ratios"])]
        return ratios + [(math.sqrt(lv["min_size"] * lv["max_size"]),) * 2]

    return grid_priors([(lv["cells"], lv["step"], sizes(lv)) for lv in levels], input_size, clip=True)


def decode(offsets: np.ndarray, prior: np.ndarray, variances: Sequence[float], input_size: int) -> np.ndarray:
    """SSD box offsets (N, P, 4) against ``prior`` -> boxes x1, y1, x2, y2 in input pixels."""
    v = np.asarray(variances, np.float64)
    pw, ph = prior[:, 2] - prior[:, 0], prior[:, 3] - prior[:, 1]
    px, py = prior[:, 0] + pw / 2, prior[:, 1] + ph / 2
    o = offsets.astype(np.float64)
    cx, cy = px + o[..., 0] * pw * v[0], py + o[..., 1] * ph * v[1]
    w, h = np.exp(np.clip(o[..., 2] * v[2], -10, 10)) * pw, np.exp(np.clip(o[..., 3] * v[3], -10, 10)) * ph
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1) * input_size


def detections(outputs: Sequence[np.ndarray], prior: np.ndarray, variances: Sequence[float], input_size: int,
               score: float, iou: float, keep: int,
               top_k: int | None = None) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per image: boxes, scores and labels after per-class NMS (of each class's ``top_k`` best when
    given), at most ``keep``, best first; ``outputs`` are the offsets and the logits (background last)."""
    from .decode import candidates, nms

    offsets, logits = outputs
    boxes = decode(offsets, prior, variances, input_size)
    z = logits.astype(np.float64) - logits.max(-1, keepdims=True)
    probs = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    result = []
    for b, p in zip(boxes, probs[..., :-1]):
        rows, labels = np.nonzero(p > score)
        s = p[rows, labels]
        kept, cls = [], []
        for c in np.unique(labels):
            pick = candidates(s, labels, c, top_k or len(s))
            kept.append(rows[pick][nms(b[rows[pick]], s[pick], iou)])
            cls.append(np.full(len(kept[-1]), c))
        idx, lab = (np.concatenate(kept), np.concatenate(cls)) if kept else (np.zeros(0, int), np.zeros(0, int))
        found = p[idx, lab]
        order = np.argsort(-found, kind="stable")[:keep]
        result.append((b[idx[order]], found[order], lab[order]))
    return result


def ssdlite_detections(outputs: Sequence[np.ndarray], info: dict[str, Any],
                       input_size: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """An SSDLite's detections at ``input_size`` with ppdet's post-processing settings."""
    return detections(outputs, priors(anchor_levels(input_size), input_size), info["variances"], input_size,
                      SCORE_THRESHOLD, NMS_IOU, KEEP, TOP_K)
