"""Detection splits (records in memory, images decoded per batch) and YOLOv3, SSD and RCNN (Mask RCNN's
with mask polygons) training targets.

Images are resized to the model's square input (no letterbox: the embedded images are square, and a
box scales with its image); boxes stay in the image's own pixels in the records, and predictions are
mapped back to them (:func:`DetSet.to_image`).
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, Iterator

import numpy as np

from ..cls.data import MEAN, STD
from ..datasets import Dataset, load
from ..datasets.images import read_image

#: Ground-truth slots per image in a training batch (ppdet pads gt boxes to a fixed count too).
MAX_BOXES = 50


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    import cv2

    return image if image.shape[:2] == (size, size) else cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR)


class DetSet:
    """A split's images at ``size`` x ``size`` (uint8 RGB) with its records; ``kind`` is the registered
    dataset name (``coco``, ``voc``), which says how it is scored."""

    def __init__(self, dataset: Dataset, size: int, kind: str):
        self.dataset, self.size, self.kind = dataset, size, kind

    def images(self, idx: np.ndarray) -> np.ndarray:
        """The images ``idx``, decoded per batch (a split of any size costs only its records)."""
        return np.stack([_resize(read_image(self.dataset.path(self.dataset.samples[i].image))[..., ::-1], self.size)
                         for i in idx])

    def __len__(self) -> int:
        return len(self.dataset.samples)

    def head(self, n: int) -> "DetSet":
        """The first ``n`` images with their records (a pruning candidate's quick score)."""
        return self._take(np.arange(min(n, len(self))))

    def partition(self, n: int, seed: int) -> tuple["DetSet", "DetSet"]:
        """A fixed random choice of ``n`` images for ``seed``, and the others (disjoint parts, in order)."""
        order = np.random.default_rng(seed).permutation(len(self))
        return self._take(np.sort(order[:n])), self._take(np.sort(order[n:]))

    def _take(self, keep: np.ndarray) -> "DetSet":
        part = copy.copy(self)
        part.dataset = dataclasses.replace(self.dataset, samples=[self.dataset.samples[i] for i in keep])
        return part

    def normalised(self, idx: np.ndarray) -> np.ndarray:
        """NCHW float32 batch of the images ``idx``."""
        x = (self.images(idx).astype(np.float32) / 255 - MEAN) / STD
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))

    def batches(self, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(indices, images)`` in order, for prediction."""
        for start in range(0, len(self), batch_size):
            idx = np.arange(start, min(start + batch_size, len(self)))
            yield idx, self.normalised(idx)

    def to_image(self, i: int, boxes: np.ndarray) -> np.ndarray:
        """Boxes in model-input pixels -> pixels of image ``i``, clipped to it."""
        s = self.dataset.samples[i]
        out = boxes * np.array([s.width, s.height, s.width, s.height]) / self.size
        return np.clip(out, 0, [s.width, s.height, s.width, s.height])

    def gt_xywh(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Image ``i``'s non-ignored boxes as normalised centre x, y, w, h, and their labels."""
        s = self.dataset.samples[i]
        keep = [k for k in range(len(s.boxes)) if not s.ignore[k]]
        b = np.array([s.boxes[k] for k in keep], np.float32).reshape(-1, 4)
        xywh = np.stack([(b[:, 0] + b[:, 2]) / 2 / s.width, (b[:, 1] + b[:, 3]) / 2 / s.height,
                         (b[:, 2] - b[:, 0]) / s.width, (b[:, 3] - b[:, 1]) / s.height], 1)
        return xywh, np.array([s.labels[k] for k in keep], np.int32)

    def gt_polygons(self, i: int) -> list[list[np.ndarray]]:
        """Image ``i``'s non-ignored objects' mask polygons (flat x, y arrays, image pixels), in
        :meth:`gt_xywh`'s order; an object without one (a VOC box) gets its box as a polygon."""
        s = self.dataset.samples[i]
        out = []
        for k in (k for k in range(len(s.boxes)) if not s.ignore[k]):
            x1, y1, x2, y2 = s.boxes[k]
            polys = s.polygons[k] if k < len(s.polygons) and s.polygons[k] else ((x1, y1, x2, y1, x2, y2, x1, y2),)
            out.append([np.array(p, np.float32) for p in polys])
        return out


def split(config: dict[str, Any], name: str) -> DetSet:
    """Split ``name`` of a resolved config's dataset at the model's input size.

    Raises:
        DatasetError: The dataset is missing or malformed (one line).
    """
    return DetSet(load(config["dataset"], config["data"], name), config["arch"]["input"], config["dataset"])


def _augmenters(size: int) -> list:
    """ppdet's YOLOv3 training transforms, in its recipe's order: colour distortion, expansion onto a
    mean-filled canvas (up to 2x: the embedded digits are 18-40 px of 96) and the resize to the input.
    Left out: mirror flips (a mirrored digit is another glyph) and the random crop (it keeps a digit
    cut in half under its label, and its 0.5-2 aspect ratios stretch digits into other glyphs)."""
    from ppdet.data.transform import operators as ops

    return [ops.RandomDistort(), ops.RandomExpand(ratio=2.0, fill_value=tuple(float(m * 255) for m in MEAN)),
            ops.Resize([size, size], keep_ratio=False)]


def augmented(data: DetSet, i: int, seed: int, polygons: bool = False) -> tuple:
    """Image ``i`` through :func:`_augmenters`, deterministic for ``seed``: the normalised CHW
    image, its boxes as normalised centre x, y, w, h, and their labels; with ``polygons``, also each
    kept object's mask polygons in input pixels (ppdet's operators move them with the image)."""
    s = data.dataset.samples[i]
    xywh, labels = data.gt_xywh(i)
    wh = np.array([s.width, s.height], np.float32)
    xyxy = np.concatenate([(xywh[:, :2] - xywh[:, 2:] / 2) * wh, (xywh[:, :2] + xywh[:, 2:] / 2) * wh], 1)
    sample = {"image": read_image(data.dataset.path(s.image))[..., ::-1].astype(np.float32),
              "gt_bbox": xyxy.astype(np.float32), "gt_class": labels.reshape(-1, 1)}
    if polygons:
        sample["gt_poly"] = data.gt_polygons(i)
    outer = np.random.get_state()  # ppdet's operators draw from NumPy's global generator
    np.random.seed(seed)
    try:
        for op in _augmenters(data.size):
            sample = op(sample)
    finally:
        np.random.set_state(outer)
    box = sample["gt_bbox"].reshape(-1, 4) / data.size
    keep = (box[:, 2] - box[:, 0] > 1e-3) & (box[:, 3] - box[:, 1] > 1e-3)
    box = box[keep]
    xywh = np.concatenate([(box[:, :2] + box[:, 2:]) / 2, box[:, 2:] - box[:, :2]], 1)
    image = (np.clip(sample["image"], 0, 255) / 255 - MEAN) / STD
    done = image.transpose(2, 0, 1).astype(np.float32), xywh, sample["gt_class"].reshape(-1)[keep].astype(np.int32)
    if not polygons:
        return done
    return done + ([[np.asarray(p, np.float32) for p in obj] for obj, k in zip(sample["gt_poly"], keep) if k],)


def _batch(data: DetSet, idx: np.ndarray, rng: np.random.Generator | None, polygons: bool = False) -> tuple:
    """Images ``idx`` (NCHW, normalised) and each one's boxes (normalised centre x, y, w, h) and labels
    (with ``polygons``, and mask polygons in input pixels); with ``rng``, through :func:`augmented`."""
    if rng is None:
        return data.normalised(idx), [data.gt_xywh(i) + ((_scaled(data, i),) if polygons else ()) for i in idx]
    done = [augmented(data, i, int(seed), polygons) for i, seed in zip(idx, rng.integers(0, 2 ** 31, len(idx)))]
    return np.stack([d[0] for d in done]), [d[1:] for d in done]


def _scaled(data: DetSet, i: int) -> list[list[np.ndarray]]:
    """Image ``i``'s polygons (:meth:`DetSet.gt_polygons`) in input pixels."""
    s = data.dataset.samples[i]
    xy = np.array([data.size / s.width, data.size / s.height], np.float32)
    return [[(p.reshape(-1, 2) * xy).reshape(-1) for p in polys] for polys in data.gt_polygons(i)]


def ssd_targets(data: DetSet, idx: np.ndarray, rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
    """A training batch for ppdet's SSD loss: image, gt_bbox (normalised x1, y1, x2, y2) and gt_class,
    padded to the batch's most boxes with empty boxes, as ppdet's ``PadBox`` (an empty box overlaps no
    anchor; the loss sends what matches it to the background); with ``rng``, each image through
    :func:`augmented`. Ignored boxes are left out."""
    images, gts = _batch(data, idx, rng)
    gt_bbox, gt_class, _ = _padded(gts)
    return {"image": images, "gt_bbox": gt_bbox, "gt_class": gt_class}


def rcnn_targets(data: DetSet, idx: np.ndarray, rng: np.random.Generator | None = None,
                 polygons: bool = False) -> dict[str, Any]:
    """A training batch for ppdet's RPN and box heads: image, ``gt_bbox`` (x1, y1, x2, y2 in input pixels),
    ``gt_class`` (N, slots, 1) and ``gt_count``, padded as :func:`ssd_targets` (arrays, so a data-parallel
    shard slices them; :func:`.rcnn.per_image` unpads them); with ``rng``, each image through
    :func:`augmented`. Ignored boxes are left out. With ``polygons`` (Mask RCNN), also ``gt_poly``: per image,
    each object's mask polygons in input pixels (an object array over the images, so a shard slices it
    too; :func:`.rcnn.per_image` gives ppdet's ``MaskAssigner`` its lists)."""
    images, gts = _batch(data, idx, rng, polygons)
    gt_bbox, gt_class, counts = _padded([g[:2] for g in gts])
    out = {"image": images, "gt_bbox": gt_bbox * data.size, "gt_class": gt_class[..., None], "gt_count": counts}
    if not polygons:
        return out
    polys = np.empty(len(gts), object)
    polys[:] = [g[2] for g in gts]
    return {**out, "gt_poly": polys}


def _padded(gts: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each image's boxes (normalised centre x, y, w, h) as clipped normalised x1, y1, x2, y2, and their
    labels, padded with empty boxes to the batch's most; and each image's count."""
    slots = max([1] + [len(xywh) for xywh, _ in gts])
    gt_bbox, gt_class = np.zeros((len(gts), slots, 4), np.float32), np.zeros((len(gts), slots), np.int32)
    for k, (xywh, labels) in enumerate(gts):
        corners = np.concatenate([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], 1)
        gt_bbox[k, :len(xywh)], gt_class[k, :len(xywh)] = np.clip(corners, 0, 1), labels
    return gt_bbox, gt_class, np.array([len(xywh) for xywh, _ in gts], np.int64)


def yolo_targets(data: DetSet, idx: np.ndarray, info: dict[str, Any], rng: np.random.Generator | None = None) -> dict:
    """A training batch for ppdet's YOLOv3 loss: image, gt_bbox and one target per output
    (ppdet's own ``Gt2YoloTarget``); with ``rng``, each image through ppdet's augmentations
    (:func:`augmented`), else as it is."""
    from ppdet.data.transform.batch_operators import Gt2YoloTarget

    images, gts = _batch(data, idx, rng)
    samples = []
    for k, (xywh, labels) in enumerate(gts):
        n = min(len(xywh), MAX_BOXES)
        box, cls, score = (np.zeros((MAX_BOXES, 4), np.float32), np.zeros(MAX_BOXES, np.int32),
                           np.zeros((MAX_BOXES, 1), np.float32))
        box[:n], cls[:n], score[:n] = xywh[:n], labels[:n], 1.0
        samples.append({"image": images[k], "gt_bbox": box, "gt_class": cls, "gt_score": score})
    samples = Gt2YoloTarget(info["anchors"], info["anchor_masks"], info["strides"],
                            num_classes=info["classes"])(samples)
    keys = ["image", "gt_bbox"] + [f"target{i}" for i in range(len(info["strides"]))]
    return {key: np.stack([s[key] for s in samples]) for key in keys}
