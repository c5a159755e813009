"""What every loader returns: a split of a dataset as plain, comparable records.

Image and label paths are relative to the dataset root (POSIX), so the records of two copies of a
dataset, or of the same images in two formats, compare equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels (x2 = x + width)
Polygon = tuple[float, ...]  # x1, y1, x2, y2, ... as in COCO


class DatasetError(Exception):
    """A dataset directory is missing or not in the expected layout; the message is one line."""

    def __init__(self, path: Path | str, expected: str):
        super().__init__(f"{path}: {expected}")


@dataclass(frozen=True)
class ClsSample:
    """One labelled image (ImageNet list layout)."""

    image: str
    label: int


@dataclass(frozen=True)
class DetSample:
    """One image with its objects (COCO, VOC, WIDER FACE).

    Attributes:
        image: Image path relative to the root.
        width: Image width in pixels.
        height: Image height in pixels.
        boxes: One box per object.
        labels: Class index (0-based, into ``Dataset.classes``) per object.
        ignore: Per object: COCO ``iscrowd``, VOC ``difficult``, WIDER FACE ``invalid``; evaluators
            neither reward nor punish detections of ignored objects.
        polygons: Per object, its mask polygons (COCO only; empty otherwise).
        subsets: WIDER FACE val only: ``easy``/``medium``/``hard`` -> indices of the objects that
            count in that setting (the others are ignored there).
    """

    image: str
    width: int
    height: int
    boxes: tuple[Box, ...]
    labels: tuple[int, ...]
    ignore: tuple[bool, ...]
    polygons: tuple[tuple[Polygon, ...], ...] = ()
    subsets: dict[str, tuple[int, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class SegSample:
    """One image and its label image (class index per pixel, ``ignore_index`` where unlabelled)."""

    image: str
    label: str


Sample = Union[ClsSample, DetSample, SegSample]


@dataclass(frozen=True)
class Dataset:
    """One split of a dataset as read from disk.

    Attributes:
        root: The dataset directory.
        split: ``train`` or ``val``.
        classes: Class names, indexed by label.
        samples: The records, in the dataset's own order.
        ignore_index: Label value that marks unlabelled pixels (segmentation only).
    """

    root: Path
    split: str
    classes: tuple[str, ...]
    samples: tuple[Sample, ...]
    ignore_index: int | None = None

    def path(self, relative: str) -> Path:
        """Absolute path of a record's image or label file."""
        return self.root / relative
