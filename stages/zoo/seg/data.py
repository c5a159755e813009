"""Segmentation splits (records in memory, images and train-id labels decoded per batch) and crops.

Training takes random ``input`` x ``input`` crops with random horizontal flips (PaddleSeg's
RandomPaddingCrop and RandomHorizontalFlip); evaluation takes whole images, as PaddleSeg scores them.
Images of different sizes share one canvas, and images smaller than the crop are padded, both on the
bottom and right with PaddleSeg's padding values (grey image, ``ignore`` labels), so padded pixels are
neither learnt nor scored.

A COCO instances dataset (the PaddleX "-coco" segmenters) becomes label maps by filling each object's
polygons with its category + 1 over background 0, as PaddleX's COCO-to-segmentation conversion
does; crowd objects are marked ``ignore``.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, Iterable, Iterator

import numpy as np

from ..cls.data import MEAN, STD
from ..datasets import Dataset, DatasetError, DetSample, load
from ..datasets.images import image_size, read_image

#: Label of unlabelled pixels when a dataset has none of its own (COCO: crowd regions), as Cityscapes'.
IGNORE = 255
#: Image padding value, PaddleSeg's RandomPaddingCrop ``im_padding_value`` (127.5) in uint8.
GREY = 127


class SegSet:
    """A split's records; its images (uint8 RGB, H x W x 3) and label maps (H x W, ``ignore``
    unlabelled) are decoded when a batch needs them, padded onto the split's canvas (the largest
    height and width), so a split of any size costs only its records in memory.

    Attributes:
        classes: Class names, indexed by label (COCO: ``background`` then the categories).
        canvas: ``(height, width)`` every image and label map is padded to.
    """

    def __init__(self, dataset: Dataset):
        self.dataset = dataset
        if dataset.samples and isinstance(dataset.samples[0], DetSample):
            self.ignore, self.classes = IGNORE, ("background", *dataset.classes)
            sizes = [(s.height, s.width) for s in dataset.samples]
        else:
            self.ignore, self.classes = dataset.ignore_index, dataset.classes
            sizes = [image_size(dataset.path(s.image))[::-1] for s in dataset.samples]
        self.canvas = tuple(max(d) for d in zip(*sizes)) if sizes else (0, 0)

    def __len__(self) -> int:
        return len(self.dataset.samples)

    def image(self, i: int) -> np.ndarray:
        """Image ``i`` on the canvas (grey padding)."""
        return pad(read_image(self.dataset.path(self.dataset.samples[i].image))[..., ::-1], *self.canvas, GREY)

    def label(self, i: int) -> np.ndarray:
        """Label map ``i`` on the canvas (``ignore`` padding)."""
        import cv2

        sample = self.dataset.samples[i]
        if isinstance(sample, DetSample):
            label = rasterise(sample, self.ignore)
        else:
            label = cv2.imread(str(self.dataset.path(sample.label)), cv2.IMREAD_UNCHANGED)
            if label is None:
                raise DatasetError(self.dataset.path(sample.label), "missing or not a readable label image")
        return pad(label, *self.canvas, self.ignore)

    def images(self, idx: Iterable[int]) -> np.ndarray:
        """Images ``idx`` (N x H x W x 3) on the canvas."""
        return np.stack([self.image(i) for i in idx])

    def labels(self, idx: Iterable[int]) -> np.ndarray:
        """Label maps ``idx`` (N x H x W) on the canvas."""
        return np.stack([self.label(i) for i in idx])

    def head(self, n: int) -> "SegSet":
        """The first ``n`` images with their label maps (a pruning candidate's quick score), on the same canvas."""
        first = copy.copy(self)
        first.dataset = dataclasses.replace(self.dataset, samples=self.dataset.samples[:n])
        return first

    @staticmethod
    def normalise(images: np.ndarray) -> np.ndarray:
        """NCHW float32 of uint8 NHWC images."""
        x = (images.astype(np.float32) / 255 - MEAN) / STD
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))

    def crops(self, batch_size: int, size: int, rng: np.random.Generator) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """One epoch of shuffled training batches of random crops: (NCHW float32, N x size x size int64)."""
        order = rng.permutation(len(self))
        h, w = (max(n, size) for n in self.canvas)
        for start in range(0, len(order) - batch_size + 1, batch_size):
            idx = order[start:start + batch_size]
            ys, xs = rng.integers(0, h - size + 1, len(idx)), rng.integers(0, w - size + 1, len(idx))
            flips = rng.random(len(idx)) < 0.5
            images, labels = pad(self.images(idx), h, w, GREY, 1), pad(self.labels(idx), h, w, self.ignore, 1)

            def windows(a: np.ndarray) -> np.ndarray:  # the same crop and flip of images and labels
                return np.stack([a[k, y:y + size, x:x + size][:, ::-1 if f else 1]
                                 for k, (y, x, f) in enumerate(zip(ys, xs, flips))])

            yield self.normalise(windows(images)), windows(labels).astype(np.int64)

    def batches(self, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(indices, images)`` of whole images in order, for prediction."""
        for start in range(0, len(self), batch_size):
            idx = np.arange(start, min(start + batch_size, len(self)))
            yield idx, self.normalise(self.images(idx))


def pad(a: np.ndarray, h: int, w: int, value: int, axis: int = 0) -> np.ndarray:
    """``a`` padded with ``value`` on the bottom and right to ``h`` x ``w`` (its axes ``axis`` and
    ``axis + 1``); ``a`` itself when it is that size already."""
    if a.shape[axis:axis + 2] == (h, w):
        return a
    widths = [(0, 0)] * a.ndim
    widths[axis], widths[axis + 1] = (0, h - a.shape[axis]), (0, w - a.shape[axis + 1])
    return np.pad(a, widths, constant_values=value)


def rasterise(sample: DetSample, ignore: int) -> np.ndarray:
    """Label map (H x W uint8) of one COCO record: 0 background, category + 1 inside each object's
    polygons (pycocotools' rasterisation, as COCO's ``annToMask``), ``ignore`` inside crowd objects;
    later objects paint over earlier ones, in the json's order."""
    from pycocotools import mask as mask_utils

    label = np.zeros((sample.height, sample.width), np.uint8)
    for polys, cls, crowd in zip(sample.polygons, sample.labels, sample.ignore):
        polys = [list(p) for p in polys if len(p) >= 6]
        if polys:
            rle = mask_utils.merge(mask_utils.frPyObjects(polys, sample.height, sample.width))
            label[mask_utils.decode(rle) > 0] = ignore if crowd else cls + 1
    return label


def split(config: dict[str, Any], name: str) -> SegSet:
    """Split ``name`` of a resolved config's dataset.

    Raises:
        DatasetError: The dataset is missing or malformed (one line).
    """
    return SegSet(load(config["dataset"], config["data"], name))
