"""The ImageNet list layout that PaddleClas reads (also used for CIFAR-10 converted to image files).

    <root>/train_list.txt     one '<image path relative to root> <label>' per line
    <root>/val_list.txt
    <root>/label_list.txt     optional: '<label> <name>' per line (PaddleClas' class_id_map_file)
    <root>/<image paths>      e.g. train/n01440764/n01440764_10026.JPEG
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from .images import write_image
from .records import ClsSample, Dataset, DatasetError

LISTS = {"train": "train_list.txt", "val": "val_list.txt"}
LABELS = "label_list.txt"


def _classes(root: Path, count: int) -> tuple[str, ...]:
    path = root / LABELS
    if not path.is_file():
        return tuple(str(i) for i in range(count))
    names = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        idx, _, name = line.strip().partition(" ")
        if not idx.isdigit() or not name:
            raise DatasetError(f"{path}:{n}", "expected '<label> <class name>'")
        names[int(idx)] = name
    if sorted(names) != list(range(len(names))):
        raise DatasetError(path, "expected labels 0..N-1, each once")
    return tuple(names[i] for i in range(len(names)))


def load(root: Path, split: str) -> Dataset:
    """Read one split.

    Args:
        root: Dataset directory.
        split: ``train`` or ``val``.

    Returns:
        The split's records, in list order.

    Raises:
        DatasetError: The list file or an image is missing, or a line is malformed.
    """
    root = Path(root)
    path = root / LISTS[split]
    if not path.is_file():
        raise DatasetError(path, f"missing (expected the ImageNet list layout: {LISTS[split]} with "
                                 "'<image path> <label>' per line)")
    samples = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2 or not parts[1].isdigit():
            raise DatasetError(f"{path}:{n}", f"expected '<image path> <label>', got {line.strip()!r}")
        if not (root / parts[0]).is_file():
            raise DatasetError(root / parts[0], f"missing image (listed in {path.name} line {n})")
        samples.append(ClsSample(parts[0], int(parts[1])))
    if not samples:
        raise DatasetError(path, "lists no images")
    classes = _classes(root, max(s.label for s in samples) + 1)
    if max(s.label for s in samples) >= len(classes):
        raise DatasetError(path, f"has labels beyond the {len(classes)} classes of {LABELS}")
    return Dataset(root, split, classes, tuple(samples))


def write_split(root: Path, split: str, items: Iterable[tuple[str, np.ndarray, int]]) -> int:
    """Write images and the split's list file.

    Args:
        root: Dataset directory.
        split: ``train`` or ``val``.
        items: ``(relative image path, BGR uint8 image, label)``.

    Returns:
        The number of images written.
    """
    root.mkdir(parents=True, exist_ok=True)
    lines = []
    for rel, image, label in items:
        write_image(root / rel, image)
        lines.append(f"{rel} {label}\n")
    (root / LISTS[split]).write_text("".join(lines), encoding="utf-8")
    return len(lines)


def write_classes(root: Path, classes: Iterable[str]) -> None:
    """Write ``label_list.txt``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / LABELS).write_text("".join(f"{i} {c}\n" for i, c in enumerate(classes)), encoding="utf-8")
