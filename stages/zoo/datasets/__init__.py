"""Loaders (and writers) for the real on-disk dataset formats; one module per format.

The embedded datasets are written in these same formats, so one loader serves the tiny profile and
a user's real dataset directory in the full profile::

    from stages.zoo.datasets import load
    val = load("coco", "data/det/coco", "val")   # a Dataset of DetSample records
"""

from __future__ import annotations

import importlib
from pathlib import Path

from .records import ClsSample, Dataset, DatasetError, DetSample, SegSample

#: Registered dataset name -> module that reads its layout.
FORMATS = {
    "imagenet": "imagenet",
    "cifar10": "imagenet",  # CIFAR-10 as image files + lists, the layout PaddleClas trains DARTS from
    "coco": "coco",
    "voc": "voc",
    "widerface": "widerface",
    "cityscapes": "cityscapes",
}
SPLITS = ("train", "val")

__all__ = ["ClsSample", "Dataset", "DatasetError", "DetSample", "SegSample", "FORMATS", "load"]


def load(dataset: str, root: Path | str, split: str) -> Dataset:
    """Read one split of a dataset in its real layout.

    Args:
        dataset: Registered dataset name (``imagenet``, ``coco``, ...).
        root: Dataset directory.
        split: ``train`` or ``val``.

    Returns:
        The split's records.

    Raises:
        DatasetError: The directory is missing or not in the expected layout (one-line message).
    """
    if dataset not in FORMATS:
        raise DatasetError(root, f"unknown dataset {dataset!r} (known: {', '.join(FORMATS)})")
    if split not in SPLITS:
        raise DatasetError(root, f"unknown split {split!r} (expected train or val)")
    if not Path(root).is_dir():
        raise DatasetError(root, f"no such directory (expected the {dataset} dataset here)")
    return importlib.import_module(f".{FORMATS[dataset]}", __name__).load(Path(root), split)
