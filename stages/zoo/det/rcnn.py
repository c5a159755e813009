"""Faster, Cascade and Mask RCNN with FPN from PaddleDetection's (``ppdet``) own layers, as its
faster_rcnn_r50_fpn, cascade_rcnn_r50_fpn and mask_rcnn_r50_fpn configs build them: a backbone with its
four stages out, ``FPN`` (5 levels), ``RPNHead``, and ``BBoxHead`` (``TwoFCHead``) or ``CascadeHead``
(three stages of ``CascadeTwoFCHead``, class-agnostic boxes), with ppdet's anchor, proposal and target
settings; Mask RCNN adds ``MaskHead`` (``MaskFeat``: four 3x3 convolutions and a 2x deconvolution, 28 x 28
masks) on the boxes that ppdet's own post-processing (``RCNNBox``, ``MultiClassNMS``) keeps.

    model = build({"name": "FasterRCNN", "backbone": "ResNet50", "neck": "fpn", "classes": 10, "input": 96,
                   "scale": 0.25})

The tiny profile narrows the backbone (as the YOLOv3 ones, :func:`.models.backbone`), the FPN and the
box head's widths by ``scale``, and scales the anchor sizes (published for 800 px) with the input.
In eval mode the model returns what :func:`detections` decodes in NumPy: the proposals, their count per
image, the box head's class-wise deltas and class probabilities (background last). A Mask RCNN returns
the kept boxes (label, score, x1, y1, x2, y2: the mask head runs on them, so NMS is in the graph),
their count, and each box's 28 x 28 mask probabilities for its class (:func:`mask_detections`).
Exported models take one image (ppdet's own export path, ``export_onnx``), and so does the model in eval
mode, image by image.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

#: Anchor sizes per FPN level at 800 px (ppdet's faster_rcnn_r50_fpn), aspect ratios, and level strides.
ANCHOR_SIZES_800 = [[32], [64], [128], [256], [512]]
#: The same sizes on the one stride-16 map of a C4 RCNN (ppdet's faster_rcnn_r50 / mask_rcnn_r50 configs).
ANCHOR_SIZES_C4 = [[32, 64, 128, 256, 512]]
ASPECT_RATIOS = [0.5, 1.0, 2.0]
#: Box regression weights (ppdet's ``BBoxHead.bbox_weight`` and ``RCNNBox.prior_box_var``), and the
#: Cascade head's per stage (the last one decodes its boxes).
BOX_WEIGHTS = (10.0, 10.0, 5.0, 5.0)
CASCADE_WEIGHTS = ([10.0, 10.0, 5.0, 5.0], [20.0, 20.0, 10.0, 10.0], [30.0, 30.0, 15.0, 15.0])
#: ppdet's post-processing of the config: score threshold, NMS IoU, boxes kept per image.
SCORE_THRESHOLD, NMS_IOU, KEEP = 0.05, 0.5, 100
#: Proposals kept per image at test time at 800 px (``test_proposal.post_nms_top_n``), and the fewest at any
#: size (:func:`proposals`).
PROPOSALS_800, MIN_PROPOSALS = 1000, 100
#: RoIs the box head samples per training image at 800 px (``BBoxAssigner.batch_size_per_im``), and the
#: fewest at any size (:func:`rois_per_image`).
ROIS_800, MIN_ROIS = 512, 64
#: Mask RCNN: RoI features of the mask head, predicted mask size (FPN; C4's are 14), and the threshold of a
#: pasted mask.
MASK_ROI, MASK_RESOLUTION, MASK_THRESHOLD = 14, 28, 0.5


def anchor_sizes(input_size: int, c4: bool = False) -> list[list[float]]:
    """The published anchor sizes (per FPN level, or C4's one level) scaled from 800 px to ``input_size``
    (objects scale with the image)."""
    return [[round(s * input_size / 800, 2) for s in level] for level in (ANCHOR_SIZES_C4 if c4 else ANCHOR_SIZES_800)]


def proposals(input_size: int) -> int:
    """Proposals kept per image at test time: ppdet's 1000 at 800 px, scaled with the image's area, at least
    :data:`MIN_PROPOSALS`. A C4 head runs the fifth ResNet stage on each (at 96 px, 1000 of them made
    evaluating slower than training)."""
    return _by_area(PROPOSALS_800, MIN_PROPOSALS, input_size)


def rois_per_image(input_size: int) -> int:
    """RoIs sampled per training image: ppdet's 512 at 800 px, scaled with the image's area, at least
    :data:`MIN_ROIS`. At the tiny profile's 96 px, 512 RoIs of an image with 1-3 digits are nearly all
    background, and training a step took 2.8x as long as with 64 (Faster RCNN R50-FPN, batch 8)."""
    return _by_area(ROIS_800, MIN_ROIS, input_size)


def _by_area(at_800: int, least: int, input_size: int) -> int:
    """A per-image count that ppdet sets for 800 px, scaled with the image's area, at least ``least``."""
    return max(least, round(at_800 * (input_size / 800) ** 2))


def box_weights(name: str) -> list[float]:
    """The weights that decode the final boxes of detector ``name``."""
    return list(CASCADE_WEIGHTS[-1] if name == "CascadeRCNN" else BOX_WEIGHTS)


def describe(arch: dict[str, Any]) -> dict[str, Any]:
    """What model.json records of an RCNN besides the arch: its neck, anchor sizes and box weights."""
    return {"neck": arch.get("neck"), "anchor_sizes": anchor_sizes(arch["input"], arch.get("neck") != "fpn"),
            "box_weights": box_weights(arch["name"])}


def build(arch: dict[str, Any]):
    """A fresh Faster, Cascade or Mask RCNN for a resolved ``arch`` (name, backbone, neck, classes, input,
    scale): with ``neck`` "fpn" on the backbone's four stages, else C4 (the fourth stage's map, the fifth
    stage as the box head, ppdet's ``Res5Head``)."""
    import paddle
    from ppdet.modeling.necks.fpn import FPN

    from . import compat
    from .models import backbone

    compat.apply()
    scale, c4 = arch.get("scale") or 1.0, arch.get("neck") != "fpn"
    width, hidden = max(16, int(256 * scale)), max(64, int(1024 * scale))
    with paddle.utils.unique_name.guard():
        body = backbone(arch["backbone"], scale, outputs="c4" if c4 else "fpn")
        neck = None if c4 else FPN(in_channels=[s.channels for s in body.out_shape], out_channel=width,
                                   spatial_scales=[1 / s for s in (4, 8, 16, 32)])
        maps = (neck or body).out_shape
        rpn = _rpn(maps, anchor_sizes(arch["input"], c4), c4, proposals(arch["input"]))
        scales, rois = [1 / s.stride for s in maps], rois_per_image(arch["input"])
        if c4:
            head = _c4_box_head(maps[0].channels, scales, arch["classes"], rois)
        else:
            head = _box_head(arch["name"], width, hidden, scales, arch["classes"], rois)
        mask = _mask_head(head.get_head().out_shape[0].channels if c4 else width, width, scales, arch["classes"],
                          c4) if arch["name"] == "MaskRCNN" else None
        for layer in (rpn.anchor_generator, head.roi_extractor) + ((mask.roi_extractor,) if mask else ()):
            # not leaves: paddle.flops (stages/zoo/bench.py) records every leaf layer's first input's shape,
            # and these two (no weights) take a list of maps; an idle child makes them branches
            layer.add_sublayer("not_a_leaf", paddle.nn.Identity())
        return _detector(body, neck, rpn, head, arch["input"], mask)


def _rpn(maps: list, sizes: list[list[float]], c4: bool, kept: int):
    """ppdet's ``RPNHead`` on ``maps`` with its configs' target assignment and proposal settings (C4's
    keep more proposals: one map holds them all), keeping ``kept`` proposals at test time."""
    from ppdet.modeling.proposal_generator.rpn_head import RPNHead

    pre, post = (12000, 2000) if c4 else (2000, 1000)
    return RPNHead(anchor_generator={"anchor_sizes": sizes, "aspect_ratios": ASPECT_RATIOS,
                                     "strides": [s.stride for s in maps]},
                   rpn_target_assign={"batch_size_per_im": 256, "fg_fraction": 0.5, "negative_overlap": 0.3,
                                      "positive_overlap": 0.7, "use_random": True},
                   train_proposal={"min_size": 0.0, "nms_thresh": 0.7, "pre_nms_top_n": pre, "post_nms_top_n": post,
                                   "topk_after_collect": not c4},
                   test_proposal={"min_size": 0.0, "nms_thresh": 0.7, "pre_nms_top_n": 6000 if c4 else 1000,
                                  "post_nms_top_n": kept},
                   in_channel=maps[0].channels)


def _c4_box_head(channels: int, scales: list[float], classes: int, rois: int):
    """ppdet's C4 box head: ``BBoxHead`` on 14 px RoIs through ``Res5Head`` (the fifth ResNet stage, its
    widths following the backbone's ``channels``: 1024 at full width), pooled."""
    import paddle
    from ppdet.modeling.backbones.name_adapter import NameAdapter
    from ppdet.modeling.backbones.resnet import Blocks, BottleNeck, Res5Head
    from ppdet.modeling.heads.bbox_head import BBoxHead
    from ppdet.modeling.proposal_generator.target_layer import BBoxAssigner

    class Res5(Res5Head):
        """``Res5Head`` of ResNet50 and deeper (three bottlenecks) on ``channels`` input channels."""

        def __init__(self):
            paddle.nn.Layer.__init__(self)
            self.res5 = Blocks(BottleNeck, channels, channels // 2, count=3, name_adapter=NameAdapter(self),
                               stage_num=5)
            self.feat_out = channels * 2

    roi = {"resolution": 14, "sampling_ratio": 0, "aligned": True, "spatial_scale": scales}
    return BBoxHead(head=Res5(), in_channel=channels * 2, roi_extractor=roi, with_pool=True,
                    bbox_assigner=BBoxAssigner(batch_size_per_im=rois, num_classes=classes), num_classes=classes,
                    bbox_weight=list(BOX_WEIGHTS))


def _box_head(name: str, width: int, hidden: int, scales: list[float], classes: int, rois: int):
    """ppdet's box head of ``name``: ``BBoxHead`` with ``TwoFCHead``, or the three-stage ``CascadeHead``, sampling
    ``rois`` RoIs per training image."""
    from ppdet.modeling.heads.bbox_head import BBoxHead, TwoFCHead
    from ppdet.modeling.heads.cascade_head import CascadeHead, CascadeTwoFCHead
    from ppdet.modeling.proposal_generator.target_layer import BBoxAssigner

    roi = {"resolution": 7, "sampling_ratio": 0, "aligned": True, "spatial_scale": scales}
    assigner = BBoxAssigner(batch_size_per_im=rois, num_classes=classes)
    if name == "CascadeRCNN":
        return CascadeHead(head=CascadeTwoFCHead(in_channel=width, out_channel=hidden, resolution=7),
                           in_channel=hidden, roi_extractor=roi, bbox_assigner=assigner, num_classes=classes,
                           bbox_weight=[list(w) for w in CASCADE_WEIGHTS])
    return BBoxHead(head=TwoFCHead(in_channel=width, out_channel=hidden, resolution=7), in_channel=hidden,
                    roi_extractor=roi, bbox_assigner=assigner, num_classes=classes, bbox_weight=list(BOX_WEIGHTS))


def _mask_head(channels: int, width: int, scales: list[float], classes: int, c4: bool):
    """ppdet's ``MaskHead``, and the ``RCNNBox`` decoding and ``MultiClassNMS`` that pick the boxes it runs on:
    mask_rcnn_r50_fpn's (``MaskFeat``, four convolutions at the FPN's ``width``, 28 px masks), or C4's
    (mask_rcnn_r50: the box head's ``Res5Head`` features, ``channels``, shared, one deconvolution, 14 px)."""
    from ppdet.modeling.heads.mask_head import MaskFeat, MaskHead
    from ppdet.modeling.layers import MultiClassNMS, RCNNBox
    from ppdet.modeling.post_process import BBoxPostProcess
    from ppdet.modeling.proposal_generator.target_layer import MaskAssigner

    roi = {"resolution": MASK_ROI, "sampling_ratio": 0, "aligned": True, "spatial_scale": scales}
    feat = MaskFeat(in_channel=channels if c4 else width, out_channel=width, num_convs=0 if c4 else 4)
    head = MaskHead(head=feat, roi_extractor=roi, num_classes=classes, share_bbox_feat=c4, export_onnx=True,
                    mask_assigner=MaskAssigner(num_classes=classes, mask_resolution=14 if c4 else MASK_RESOLUTION))
    nms = MultiClassNMS(score_threshold=SCORE_THRESHOLD, keep_top_k=KEEP, nms_threshold=NMS_IOU)
    # export_onnx: one fake box (score 0) after NMS, so the mask head never runs on none; dropped in NumPy
    head.post_process = BBoxPostProcess(num_classes=classes, decode=RCNNBox(num_classes=classes), nms=nms,
                                        export_onnx=True)
    return head


def _detector(body, neck, rpn, head, size: int, mask=None):
    import paddle

    class RCNN(paddle.nn.Layer):
        """Image batch -> boxes to refine (R, 4: a Cascade head's last stage's input), their count per image,
        deltas (R, 4 x classes, or 4 class-agnostic) and class probabilities (R, classes + 1; averaged over a
        Cascade head's stages); with ``targets`` in train mode, ppdet's RPN and box head losses."""

        def __init__(self):
            super().__init__()
            self.backbone, self.neck, self.rpn_head, self.bbox_head = body, neck, rpn, head
            if mask is not None:
                self.mask_head = mask

        # traced as plain Python when exported: dy2static's rewrite of ppdet's RPN head did not finish
        # in 10 minutes (paddle 3.3), and the export path below has no tensor-dependent control flow
        @paddle.jit.not_to_static
        def forward(self, x, targets=None):
            one = paddle.ones_like(x[:, 0, 0, :2])
            inputs = {"image": x, "im_shape": one * size, "scale_factor": one}
            feats = self.backbone(inputs)
            feats = feats if self.neck is None else self.neck(feats)
            if self.training and targets is not None:
                inputs.update(targets)
                rois, rois_num, rpn_loss = self.rpn_head(feats, inputs)
                box_loss, box_feat = self.bbox_head(feats, rois, rois_num, inputs)
                losses = {**rpn_loss, **box_loss}
                if mask is not None:  # on the RoIs the box head sampled, with their targets (ppdet's MaskRCNN)
                    rois, rois_num = self.bbox_head.get_assigned_rois()
                    assigned = self.bbox_head.get_assigned_targets()
                    losses.update(self.mask_head(feats, rois, rois_num, inputs, assigned, box_feat))
                return {"loss": paddle.add_n(list(losses.values())), **losses}
            if paddle.in_dynamic_mode() and x.shape[0] > 1:  # image by image, as the exported model runs
                parts = [self(x[i:i + 1]) for i in range(x.shape[0])]
                return [paddle.concat([p[k] for p in parts]) for k in range(len(parts[0]))]
            # ppdet's one-image path (its ONNX export's), also in dygraph: proposals ordered by score alike
            self.rpn_head.export_onnx = True
            rois, rois_num, _ = self.rpn_head(feats, inputs)
            rois_num = paddle.reshape(rois_num, [-1])  # 0-D on paddle 3 (ppdet's shape()[0]); RoIAlign wants 1-D
            (deltas, probs), res5 = self.bbox_head(feats, rois, rois_num, inputs)
            if mask is not None:  # a C4 mask head reads its RoIs through the box head's Res5Head (res5)
                boxes, count, _ = mask.post_process((deltas, probs), (rois, rois_num), inputs["im_shape"], one)
                return [boxes, count.astype("int32"), self.mask_head(feats, boxes, count, inputs, feat_func=res5)]
            refined = getattr(self.bbox_head, "refined_rois", None)  # a Cascade head's last stage's boxes
            rois = refined if refined is not None else rois
            return [paddle.concat(rois), rois_num.astype("int32"), deltas, probs]

    return RCNN()


def per_image(batch: dict[str, Any]) -> dict[str, list]:
    """ppdet's RCNN targets from :func:`.data.rcnn_targets`' tensors: per-image lists of boxes, classes, crowd
    flags (and mask polygons, for a Mask RCNN)."""
    import paddle

    counts = [int(c) for c in batch["gt_count"].numpy()]
    polys = {"gt_poly": list(batch["gt_poly"])} if "gt_poly" in batch else {}
    return {"gt_bbox": [batch["gt_bbox"][k, :n] for k, n in enumerate(counts)],
            "gt_class": [batch["gt_class"][k, :n] for k, n in enumerate(counts)],
            "is_crowd": [paddle.zeros([n, 1], "int32") for n in counts], **polys}


def decode_boxes(rois: np.ndarray, deltas: np.ndarray, input_size: int,
                 weights: Sequence[float] = BOX_WEIGHTS) -> np.ndarray:
    """ppdet's ``delta2bbox``: (R, classes, 4) boxes (R, 1, 4 for class-agnostic deltas) clipped to the input."""
    wx, wy, ww, wh = weights
    w, h = rois[:, 2] - rois[:, 0], rois[:, 3] - rois[:, 1]
    cx, cy = rois[:, 0] + 0.5 * w, rois[:, 1] + 0.5 * h
    d = deltas.reshape(len(rois), -1, 4).astype(np.float64)
    clip = np.log(1000.0 / 16)
    px, py = d[..., 0] / wx * w[:, None] + cx[:, None], d[..., 1] / wy * h[:, None] + cy[:, None]
    pw = np.exp(np.minimum(d[..., 2] / ww, clip)) * w[:, None]
    ph = np.exp(np.minimum(d[..., 3] / wh, clip)) * h[:, None]
    boxes = np.stack([px - pw / 2, py - ph / 2, px + pw / 2, py + ph / 2], -1)
    return np.clip(boxes, 0, input_size)


def detections(outputs: Sequence[np.ndarray], info: dict[str, Any],
               input_size: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per image: boxes, scores and labels after ppdet's post-processing (class-wise boxes, scores over
    :data:`SCORE_THRESHOLD`, per-class NMS at :data:`NMS_IOU`, the best :data:`KEEP`)."""
    from .decode import nms

    if info.get("name") == "MaskRCNN":
        return [d[:3] for d in mask_detections(outputs, info, input_size)]
    rois, counts, deltas, probs = outputs
    result, start = [], 0
    for n in np.asarray(counts).reshape(-1):
        rows = slice(start, start + int(n))
        start += int(n)
        boxes = decode_boxes(rois[rows], deltas[rows], input_size, info.get("box_weights", BOX_WEIGHTS))
        scores, kept = probs[rows, :-1], []
        for c in range(scores.shape[1]):
            idx, b = np.nonzero(scores[:, c] > SCORE_THRESHOLD)[0], boxes[:, min(c, boxes.shape[1] - 1)]
            keep = idx[nms(b[idx], scores[idx, c], NMS_IOU)] if len(idx) else idx
            kept += [(b[i], scores[i, c], c) for i in keep]
        kept.sort(key=lambda k: -k[1])
        kept = kept[:KEEP]
        result.append((np.array([k[0] for k in kept], np.float64).reshape(-1, 4),
                       np.array([k[1] for k in kept], np.float64), np.array([k[2] for k in kept], np.int64)))
    return result


def mask_detections(outputs: Sequence[np.ndarray], info: dict[str, Any],
                    input_size: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Per image of a Mask RCNN's outputs: boxes (input pixels), scores, labels and each box's 28 x 28 mask
    probabilities, as ppdet's NMS in the graph kept them (best first), without its placeholder box (score 0)."""
    boxes, counts, masks = outputs
    result, start = [], 0
    for n in np.asarray(counts).reshape(-1):
        b, m = boxes[start:start + int(n)], masks[start:start + int(n)]
        start += int(n)
        real = b[:, 1] > 0
        result.append((np.clip(b[real, 2:].astype(np.float64), 0, input_size), b[real, 1].astype(np.float64),
                       b[real, 0].astype(np.int64), m[real]))
    return result


def paste_masks(masks: np.ndarray, boxes: np.ndarray, height: int, width: int) -> np.ndarray:
    """ppdet's ``MaskPostProcess``: each box's mask probabilities resized onto its box in a ``height`` x
    ``width`` image, over :data:`MASK_THRESHOLD` -> (K, height, width) uint8."""
    import cv2

    out = np.zeros((len(masks), height, width), np.uint8)
    for k, (m, (x1, y1, x2, y2)) in enumerate(zip(masks, boxes)):
        left, top = int(np.floor(x1)), int(np.floor(y1))
        w, h = max(1, int(np.ceil(x2)) - left), max(1, int(np.ceil(y2)) - top)
        pasted = cv2.resize(m.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR) >= MASK_THRESHOLD
        bottom, right = min(height, top + h), min(width, left + w)
        out[k, top:bottom, left:right] = pasted[:bottom - top, :right - left]
    return out
