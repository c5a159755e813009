"""Segmentation splits in memory (the tiny profile's small sets): images, train-id labels, crops.

Training takes random ``input`` x ``input`` crops with random horizontal flips (PaddleSeg's
RandomPaddingCrop and RandomHorizontalFlip); evaluation takes whole images, as PaddleSeg scores them.
"""

from __future__ import annotations

import copy
from typing import Any, Iterator

import numpy as np

from ..cls.data import MEAN, STD
from ..datasets import Dataset, load
from ..datasets.images import read_image


class SegSet:
    """A split's images (uint8 RGB, N x H x W x 3) and label maps (N x H x W, ``ignore`` unlabelled)."""

    def __init__(self, dataset: Dataset):
        import cv2

        self.dataset, self.ignore = dataset, dataset.ignore_index
        self.images = np.stack([read_image(dataset.path(s.image))[..., ::-1] for s in dataset.samples])
        self.labels = np.stack([cv2.imread(str(dataset.path(s.label)), cv2.IMREAD_UNCHANGED)
                                for s in dataset.samples])

    def __len__(self) -> int:
        return len(self.images)

    def head(self, n: int) -> "SegSet":
        """The first ``n`` images with their label maps (a pruning candidate's quick score)."""
        first = copy.copy(self)
        first.images, first.labels = self.images[:n], self.labels[:n]
        return first

    @staticmethod
    def normalise(images: np.ndarray) -> np.ndarray:
        """NCHW float32 of uint8 NHWC images."""
        x = (images.astype(np.float32) / 255 - MEAN) / STD
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))

    def crops(self, batch_size: int, size: int, rng: np.random.Generator) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """One epoch of shuffled training batches of random crops: (NCHW float32, N x size x size int64)."""
        order = rng.permutation(len(self))
        h, w = self.labels.shape[1:]
        for start in range(0, len(order) - batch_size + 1, batch_size):
            idx = order[start:start + batch_size]
            ys, xs = rng.integers(0, h - size + 1, len(idx)), rng.integers(0, w - size + 1, len(idx))
            flips = rng.random(len(idx)) < 0.5

            def windows(a: np.ndarray) -> np.ndarray:  # the same crop and flip of images and labels
                return np.stack([a[i, y:y + size, x:x + size][:, ::-1 if f else 1]
                                 for i, y, x, f in zip(idx, ys, xs, flips)])

            yield self.normalise(windows(self.images)), windows(self.labels).astype(np.int64)

    def batches(self, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(indices, images)`` of whole images in order, for prediction."""
        for start in range(0, len(self), batch_size):
            idx = np.arange(start, min(start + batch_size, len(self)))
            yield idx, self.normalise(self.images[idx])


def split(config: dict[str, Any], name: str) -> SegSet:
    """Split ``name`` of a resolved config's dataset.

    Raises:
        DatasetError: The dataset is missing or malformed (one line).
    """
    return SegSet(load(config["dataset"], config["data"], name))
