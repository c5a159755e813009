"""Evaluators against answers worked out by hand (the arithmetic is in each test's comments)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from stages.zoo.datasets import DetSample
from stages.zoo.metrics import Detections, MetricInputError
from stages.zoo.metrics.coco import coco_ap, to_results
from stages.zoo.metrics.miou import MeanIoU
from stages.zoo.metrics.topk import topk_accuracy
from stages.zoo.metrics.voc import voc_map
from stages.zoo.metrics.widerface import widerface_ap

# --- Top-k -------------------------------------------------------------------------------------------

LOGITS = np.array([
    [0.1, 0.5, 0.2, 0.9, 0.0],   # label 3: ranked 1st
    [2.0, 1.0, 3.0, 0.0, -1.0],  # label 0: 2nd
    [0.0, 0.0, 0.0, 1.0, 0.5],   # label 2: 5th (ties 0, 1, 2 keep index order after 3, 4)
    [5.0, 4.0, 3.0, 2.0, 1.0],   # label 4: 5th
])
LABELS = np.array([3, 0, 2, 4])


def test_topk_known_answer():
    assert topk_accuracy(LOGITS, LABELS, ks=(1, 2, 4, 5)) == {"top1": 25.0, "top2": 50.0, "top4": 50.0,
                                                              "top5": 100.0}


@pytest.mark.parametrize("logits, labels, ks, expect", [
    (LOGITS[0], LABELS, (1,), "logits: expected shape"),
    (LOGITS, LABELS[:3], (1,), "labels: expected 4 integers"),
    (LOGITS, LABELS.astype(float), (1,), "labels: expected 4 integers"),
    (LOGITS, np.array([3, 0, 2, 5]), (1,), "labels: expected values in [0, 5)"),
    (np.where(LOGITS > 4, np.nan, LOGITS), LABELS, (1,), "NaN"),
    (LOGITS, LABELS, (1, 6), "each k must be in [1, 5]"),
])
def test_topk_rejects(logits, labels, ks, expect):
    with pytest.raises(MetricInputError, match=re.escape(expect)):
        topk_accuracy(logits, labels, ks)


# --- COCO AP -----------------------------------------------------------------------------------------
# One 100x100 image, two objects of one class: A = [10, 10, 20, 20], B = [50, 50, 30, 30] (x, y, w, h).
# Detections by score: d1 = A exactly (0.9); d2 = B shifted right by 7 px (0.8), IoU 23/37 = 0.622;
# d3 = a false positive (0.7).
#   IoU thresholds 0.50, 0.55, 0.60: TP TP FP -> recall reaches 1 at precision 1 -> AP 1.
#   thresholds 0.65 .. 0.95 (7 of them): TP FP FP -> precision 1 up to recall 0.5, nothing beyond:
#   51 of COCO's 101 recall points (0.00 .. 0.50) -> AP 51/101.
#   AP = (3 * 1 + 7 * 51/101) / 10 = 0.653465; AP50 = 1; AP75 = 51/101.
EXPECTED_AP = (3 + 7 * 51 / 101) / 10 * 100


def _rect(x, y, w, h, size=100):
    mask = np.zeros((size, size), dtype=np.uint8)
    mask[y:y + h, x:x + w] = 1
    return mask


def _coco_gt(with_masks=False):
    from pycocotools import mask as mask_utils

    anns = []
    for i, (x, y, w, h) in enumerate([(10, 10, 20, 20), (50, 50, 30, 30)], 1):
        seg = [[x, y, x + w, y, x + w, y + h, x, y + h]]
        if with_masks:  # exact pixel masks, so that d1's mask IoU is exactly 1
            seg = mask_utils.encode(np.asfortranarray(_rect(x, y, w, h)))
            seg["counts"] = seg["counts"].decode("ascii")
        anns.append({"id": i, "image_id": 1, "category_id": 7, "bbox": [x, y, w, h], "area": w * h,
                     "iscrowd": 0, "segmentation": seg})
    return {"images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 100}], "annotations": anns,
            "categories": [{"id": 7, "name": "seven"}]}


DETS = Detections.of([[10, 10, 30, 30], [57, 50, 87, 80], [0, 80, 10, 90]], [0.9, 0.8, 0.7], [0, 0, 0],
                     masks=np.stack([_rect(10, 10, 20, 20), _rect(57, 50, 30, 30), _rect(0, 80, 10, 10)]))


def test_coco_box_ap_known_answer():
    gt = _coco_gt()
    got = coco_ap(gt, to_results(gt, [DETS]))
    assert got["ap"] == pytest.approx(EXPECTED_AP, abs=1e-6)
    assert got["ap50"] == pytest.approx(100.0) and got["ap75"] == pytest.approx(51 / 101 * 100)


def test_coco_mask_ap_known_answer():
    gt = _coco_gt(with_masks=True)  # rectangles: mask IoUs equal the box IoUs
    got = coco_ap(gt, to_results(gt, [DETS], iou_type="segm"), iou_type="segm")
    assert got["ap"] == pytest.approx(EXPECTED_AP, abs=1e-6)


def test_coco_no_detections_scores_zero():
    assert coco_ap(_coco_gt(), [])["ap"] == 0.0


@pytest.mark.parametrize("result, expect", [
    ({"image_id": 2, "category_id": 7, "bbox": [0, 0, 1, 1], "score": 1.0}, "image_id 2 is not in the ground truth"),
    ({"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1.0}, "category_id 1 is not in"),
    ({"image_id": 1, "category_id": 7, "bbox": [0, 0, -1, 1], "score": 1.0}, "bbox must be"),
    ({"image_id": 1, "category_id": 7, "bbox": [0, 0, 1, 1]}, "expected keys"),
])
def test_coco_rejects(result, expect):
    with pytest.raises(MetricInputError, match=expect):
        coco_ap(_coco_gt(), [result])


def test_detections_rejected_when_misaligned_or_malformed():
    gt = _coco_gt()
    with pytest.raises(MetricInputError, match="2 given for 1 images"):
        to_results(gt, [DETS, DETS])
    with pytest.raises(MetricInputError, match="x2 < x1"):
        to_results(gt, [Detections.of([[10, 10, 5, 30]], [0.5], [0])])
    with pytest.raises(MetricInputError, match=r"labels outside \[0, 1\)"):
        to_results(gt, [Detections.of([[10, 10, 15, 30]], [0.5], [3])])


# --- VOC mAP (PaddleDetection's DetectionMAP, IoU > 0.5 with the +1 pixel convention) ----------------
# One image: g1 class 0; g2 class 0, difficult; g3 class 1.
# Class 0: p3 FP (0.95), p1 = g1 (0.9), p2 on the difficult g2 (0.85: not counted either way).
#   -> precision [0, 0.5] at recall [0, 1] -> 11-point AP 0.5, integral AP 0.5.
# Class 1: p4 = g3 (0.8), p5 FP (0.7) -> precision 1 at recall 1 -> AP 1. mAP = 0.75.
VOC_GT = DetSample("x.jpg", 100, 100, boxes=((0, 0, 10, 10), (20, 20, 30, 30), (40, 40, 60, 60)),
                   labels=(0, 0, 1), ignore=(False, True, False))
VOC_DETS = Detections.of([[0, 0, 10, 10], [20, 20, 30, 30], [70, 70, 80, 80], [40, 40, 60, 60], [0, 0, 10, 10]],
                         [0.9, 0.85, 0.95, 0.8, 0.7], [0, 0, 0, 1, 1])


@pytest.mark.parametrize("map_type", ["11point", "integral"])
def test_voc_map_known_answer(map_type):
    assert voc_map([VOC_GT], [VOC_DETS], classes=2, map_type=map_type) == pytest.approx(75.0)


def test_voc_rejects():
    with pytest.raises(MetricInputError, match="map_type"):
        voc_map([VOC_GT], [VOC_DETS], classes=2, map_type="area")
    with pytest.raises(MetricInputError, match="expected boxes"):
        voc_map([VOC_GT], [Detections.of([[0, 0, 1, 1]], [0.5, 0.4], [0])], classes=2)


# --- WIDER FACE AP -----------------------------------------------------------------------------------
# Faces f0 (40 px, all settings), f1 (20 px, Medium and Hard), f2 (8 px, Hard only).
# Detections: d0 = f0 (0.9), d1 = f2 (0.8), d2 FP (0.7), d3 = f1 (0.6). Scores normalise to 1, .67, .33, 0.
# Easy  (f0 only; d1, d3 hit ignored faces, not proposals): recall 1 from the top at precision 1 -> 1.
# Medium: recall 0.5 at precision 1 (d0), then d2 FP, then d3 -> recall 1 at precision 2/3:
#         AP = 0.5 * 1 + 0.5 * 2/3 = 0.8333.
# Hard: recall 1/3 (P 1), 2/3 (P 1), FP, 1 (P 3/4): AP = 1/3 + 1/3 + 1/3 * 3/4 = 0.9167.
FACES = DetSample("f.jpg", 100, 100, boxes=((0, 0, 40, 40), (50, 0, 70, 20), (80, 0, 88, 8)), labels=(0, 0, 0),
                  ignore=(False, False, False), subsets={"easy": (0,), "medium": (0, 1), "hard": (0, 1, 2)})
FACE_DETS = Detections.of([[0, 0, 40, 40], [80, 0, 88, 8], [0, 60, 20, 80], [50, 0, 70, 20]],
                          [0.9, 0.8, 0.7, 0.6], [0, 0, 0, 0])


def test_widerface_known_answer():
    got = widerface_ap([FACES], [FACE_DETS])
    assert got == pytest.approx({"easy": 100.0, "medium": 250 / 3, "hard": 275 / 3})


def test_widerface_rejects():
    no_lists = DetSample("f.jpg", 100, 100, boxes=(), labels=(), ignore=())
    with pytest.raises(MetricInputError, match="no easy/medium/hard face lists"):
        widerface_ap([no_lists], [Detections.of([], [], [])])
    with pytest.raises(MetricInputError, match="NaN"):
        widerface_ap([FACES], [Detections.of([[0, 0, np.nan, 4]], [0.5], [0])])


# --- mIoU --------------------------------------------------------------------------------------------
# label [[0 0 1] [1 2 255]], pred [[0 1 1] [1 2 0]]; the 255 pixel counts nowhere.
# class 0: inter 1, pred 1, label 2 -> 1/2; class 1: inter 2, pred 3, label 2 -> 2/3; class 2: 1.
# mIoU = (1/2 + 2/3 + 1) / 3 = 0.7222; pixel accuracy 4/5.


def test_miou_known_answer():
    metric = MeanIoU(classes=3, ignore_index=255)
    metric.update(np.array([[0, 1, 1], [1, 2, 0]]), np.array([[0, 0, 1], [1, 2, 255]]))
    got = metric.result()
    assert got["miou"] == pytest.approx((0.5 + 2 / 3 + 1) / 3 * 100)
    assert got["acc"] == pytest.approx(80.0)
    assert got["class_iou"] == pytest.approx([50.0, 200 / 3, 100.0])


@pytest.mark.parametrize("pred, label, expect", [
    (np.zeros((2, 3), int), np.zeros((3, 2), int), "expected equal"),
    (np.zeros((2, 3), float), np.zeros((2, 3), int), "integer class maps"),
    (np.full((2, 3), 3), np.zeros((2, 3), int), r"pred: values must be in \[0, 3\)"),
    (np.zeros((2, 3), int), np.full((2, 3), 7), r"label: values must be in \[0, 3\) or 255"),
])
def test_miou_rejects(pred, label, expect):
    with pytest.raises(MetricInputError, match=expect):
        MeanIoU(classes=3).update(pred, label)
