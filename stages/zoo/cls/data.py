"""Images of a classification split, decoded per batch, resized and normalised as PaddleClas does."""

from __future__ import annotations

import copy
from typing import Iterator

import numpy as np

from ..datasets import Dataset
from ..datasets.images import read_image

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)  # PaddleClas' NormalizeImage (ImageNet)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def resize_crop(image: np.ndarray, size: int, crop_ratio: float) -> np.ndarray:
    """ResizeImage(resize_short = size / crop_ratio) then CropImage(size), PaddleClas' eval transform."""
    import cv2

    short = int(round(size / crop_ratio))
    h, w = image.shape[:2]
    if min(h, w) != short:
        k = short / min(h, w)
        image = cv2.resize(image, (max(size, round(w * k)), max(size, round(h * k))), interpolation=cv2.INTER_LINEAR)
    h, w = image.shape[:2]
    y, x = (h - size) // 2, (w - size) // 2
    return image[y:y + size, x:x + size]


class ImageSet:
    """A split's files and labels; images are decoded per batch, as uint8 RGB ``(N, size, size, 3)``,
    so a split of any size (ImageNet's 1.28 M in the full profile) costs only its list in memory.

    Args:
        dataset: Loaded split.
        size: Model input size.
        crop_ratio: Eval crop ratio (0.875 for ImageNet's 256 -> 224; 1.0 keeps the whole image).
    """

    def __init__(self, dataset: Dataset, size: int, crop_ratio: float = 1.0):
        self.paths = [dataset.path(s.image) for s in dataset.samples]
        self.labels = np.array([s.label for s in dataset.samples], dtype=np.int64)
        self.size, self.crop_ratio = size, crop_ratio

    def images(self, idx: np.ndarray) -> np.ndarray:
        """The images ``idx``, decoded and resized."""
        return np.stack([resize_crop(read_image(self.paths[i])[..., ::-1], self.size, self.crop_ratio) for i in idx])

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, n: int | None, seed: int) -> "ImageSet":
        """At most ``n`` images, a fixed random choice for ``seed`` (all of them when ``n`` is None)."""
        if n is None or n >= len(self):
            return self
        return self._take(np.sort(np.random.default_rng(seed).permutation(len(self))[:n]))

    def partition(self, n: int, seed: int) -> tuple["ImageSet", "ImageSet"]:
        """A fixed random choice of ``n`` images for ``seed``, and the others (disjoint parts)."""
        order = np.random.default_rng(seed).permutation(len(self))
        return self._take(np.sort(order[:n])), self._take(np.sort(order[n:]))

    def _take(self, keep: np.ndarray) -> "ImageSet":
        part = copy.copy(self)
        part.paths, part.labels = [self.paths[i] for i in keep], self.labels[keep]
        return part

    def batches(self, batch_size: int, rng: np.random.Generator | None = None,
                shift: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """NCHW float32 normalised batches; with ``rng``: shuffled, and shifted up to ``shift`` px."""
        order = rng.permutation(len(self)) if rng is not None else np.arange(len(self))
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            images = self.images(idx)
            if rng is not None and shift:
                images = _shifted(images, rng, shift)
            x = (images.astype(np.float32) / 255 - MEAN) / STD
            yield np.ascontiguousarray(x.transpose(0, 3, 1, 2)), self.labels[idx]


def _shifted(images: np.ndarray, rng: np.random.Generator, shift: int) -> np.ndarray:
    """Random translation by up to ``shift`` pixels (edge padding), one offset per image."""
    n, h, w, _ = images.shape
    padded = np.pad(images, ((0, 0), (shift, shift), (shift, shift), (0, 0)), mode="edge")
    dy, dx = rng.integers(0, 2 * shift + 1, size=(2, n))
    return np.stack([padded[i, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])


def split(config: dict, name: str) -> ImageSet:
    """Split ``name`` of a resolved config's dataset at its input size; ``train`` is cut to the
    profile's ``train_images``. Eval crop: the whole image in the tiny profile, 0.875 at paper scale.

    Raises:
        DatasetError: The dataset is missing or malformed (one line).
    """
    from ..datasets import load

    crop = 1.0 if config["profile"] == "tiny" else 0.875
    images = ImageSet(load(config["dataset"], config["data"], name), config["arch"]["input"], crop)
    return images.subset(config["run"].get("train_images"), config["seed"]) if name == "train" else images
