"""The Cityscapes layout with train-id label images, as PaddleSeg's Cityscapes dataset reads it.

    <root>/leftImg8bit/{train,val}/<city>/<city>_<seq>_<frame>_leftImg8bit.png
    <root>/gtFine/{train,val}/<city>/<city>_<seq>_<frame>_gtFine_labelTrainIds.png
        one train id per pixel, 255 = ignore (made from the *_labelIds.png by cityscapesscripts'
        createTrainIdLabelImgs)
    <root>/classes.txt   optional class names, one per line; else the 19 Cityscapes train classes
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from .images import write_image
from .records import Dataset, DatasetError, SegSample

IGNORE_INDEX = 255
CITYSCAPES_CLASSES = ("road", "sidewalk", "building", "wall", "fence", "pole", "traffic light",
                      "traffic sign", "vegetation", "terrain", "sky", "person", "rider", "car", "truck",
                      "bus", "train", "motorcycle", "bicycle")
IMAGE_SUFFIX = "_leftImg8bit.png"
LABEL_SUFFIX = "_gtFine_labelTrainIds.png"
CLASSES_FILE = "classes.txt"


def classes(root: Path) -> tuple[str, ...]:
    """Class names: ``classes.txt`` when present, else Cityscapes' 19 train classes."""
    path = Path(root) / CLASSES_FILE
    if path.is_file():
        return tuple(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return CITYSCAPES_CLASSES


def load(root: Path, split: str) -> Dataset:
    """Read one split: every left image with its train-id label image, sorted by path.

    Raises:
        DatasetError: No images for the split, or an image without its label image.
    """
    root = Path(root)
    images = sorted((root / "leftImg8bit" / split).glob(f"*/*{IMAGE_SUFFIX}"))
    if not images:
        raise DatasetError(root / "leftImg8bit" / split, "no <city>/*_leftImg8bit.png images (expected "
                                                         "the Cityscapes layout: leftImg8bit/ and gtFine/)")
    samples = []
    for image in images:
        stem = image.name[: -len(IMAGE_SUFFIX)]
        label = root / "gtFine" / split / image.parent.name / f"{stem}{LABEL_SUFFIX}"
        if not label.is_file():
            raise DatasetError(label, "missing train-id label image (create it with cityscapesscripts' "
                                      "createTrainIdLabelImgs)")
        samples.append(SegSample(image.relative_to(root).as_posix(), label.relative_to(root).as_posix()))
    return Dataset(root, split, classes(root), tuple(samples), ignore_index=IGNORE_INDEX)


def write_split(root: Path, split: str, items: Iterable[tuple[str, str, np.ndarray, np.ndarray]]) -> int:
    """Write image and label PNGs of a split.

    Args:
        root: Dataset directory.
        split: ``train`` or ``val``.
        items: ``(city, '<city>_<seq>_<frame>', BGR image, uint8 train-id label)``.

    Returns:
        The number of images written.
    """
    count = 0
    for city, stem, image, label in items:
        write_image(root / "leftImg8bit" / split / city / f"{stem}{IMAGE_SUFFIX}", image)
        write_image(root / "gtFine" / split / city / f"{stem}{LABEL_SUFFIX}", label)
        count += 1
    return count


def write_classes(root: Path, names: Iterable[str]) -> None:
    """Write ``classes.txt``."""
    Path(root).mkdir(parents=True, exist_ok=True)
    (Path(root) / CLASSES_FILE).write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
