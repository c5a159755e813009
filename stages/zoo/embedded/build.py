"""Build one embedded dataset: draw every split's scenes and write them in the real format.

Each builder returns what it wrote, per split, as the records a loader must read back.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..datasets import cityscapes, coco, imagenet, voc, widerface
from ..datasets.records import ClsSample, DetSample, SegSample
from . import draw
from .params import Synth
from .scenes import label_map, scene, subsets

Progress = Callable[[Iterator, int, str], Iterator]
SPLITS = ("train", "val")


def _rng(seed: int, name: str, split: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode()), SPLITS.index(split)])


def _quiet(items: Iterator, total: int, desc: str) -> Iterator:
    return items


def _sizes(s: Synth) -> dict[str, int]:
    return {"train": s.train, "val": s.val}


def _one_digit(rng: np.random.Generator, pools: draw.Pools, split: str, s: Synth, label: int) -> np.ndarray:
    for _ in range(20):  # a rotated digit near the largest size may not fit: draw again
        image, placed = scene(rng, pools, split, s, labels=[label])
        if placed:
            return image
    raise ValueError(f"digits of size {s.size} do not fit {s.width}x{s.height} images")


def classification(root: Path, name: str, s: Synth, pools: draw.Pools, seed: int,
                   progress: Progress = _quiet) -> dict[str, list[ClsSample]]:
    """ImageNet layout; classes are exactly balanced, in shuffled order."""
    out = {}
    imagenet.write_classes(root, draw.DIGIT_NAMES)
    for split, n in _sizes(s).items():
        rng = _rng(seed, name, split)
        labels = rng.permutation(np.arange(n) % 10)
        records: list[ClsSample] = []

        def items() -> Iterator:
            for i, label in enumerate(labels):
                image = _one_digit(rng, pools, split, s, int(label))
                rel = (f"train/{draw.DIGIT_NAMES[label]}/{draw.DIGIT_NAMES[label]}_{i:05d}.JPEG"
                       if split == "train" else f"val/digits_val_{i + 1:08d}.JPEG")
                records.append(ClsSample(rel, int(label)))
                yield rel, image, int(label)

        imagenet.write_split(root, split, progress(items(), n, f"{name} {split}"))
        out[split] = records
    return out


def detection(root: Path, name: str, s: Synth, pools: draw.Pools, seed: int,
              progress: Progress = _quiet) -> dict[str, list[DetSample]]:
    """The same scenes as COCO (``root/coco``, with masks) and Pascal VOC (``root/voc``)."""
    out, first = {}, 1
    for split, n in _sizes(s).items():
        rng = _rng(seed, name, split)
        items = []
        for i in progress(iter(range(n)), n, f"{name} {split}"):
            image, placed = scene(rng, pools, split, s)
            stem = f"{first + i:012d}"
            items.append((stem, image, DetSample(
                f"{coco.SPLITS[split]}/{stem}.jpg", s.width, s.height,
                boxes=tuple(p.box for p in placed), labels=tuple(p.label for p in placed),
                ignore=(False,) * len(placed), polygons=tuple(p.polygons for p in placed))))
        first += n
        coco.write_split(root / "coco", split, ((f"{st}.jpg", im, rec) for st, im, rec in items),
                         draw.DIGIT_NAMES)
        voc.write_split(root / "voc", split, items, draw.DIGIT_NAMES)
        out[split] = [rec for _, _, rec in items]
    return out


_EVENTS = ("0--Sparse", "1--Group", "2--Crowd")


def faces(root: Path, name: str, s: Synth, pools: draw.Pools, seed: int,
          progress: Progress = _quiet) -> dict[str, list[DetSample]]:
    """WIDER FACE layout: every digit is a face; events by how many faces an image has."""
    out = {}
    for split, n in _sizes(s).items():
        rng = _rng(seed, name, split)
        records: list[DetSample] = []

        def items() -> Iterator:
            for i in range(n):
                image, placed = scene(rng, pools, split, s)
                event = _EVENTS[min(len(placed) * len(_EVENTS) // (s.objects[1] + 1), len(_EVENTS) - 1)]
                rel = f"{event}/{event.split('--')[0]}_{event.split('--')[1]}_digits_{i}.jpg"
                boxes = [p.box for p in placed]
                record = DetSample(f"WIDER_{split}/images/{rel}", s.width, s.height, tuple(boxes),
                                   (0,) * len(boxes), (False,) * len(boxes),
                                   subsets=subsets(s, boxes) if split == "val" else {})
                records.append(record)
                yield rel, image, record, tuple(p.blur for p in placed)

        widerface.write_split(root, split, progress(items(), n, f"{name} {split}"))
        out[split] = records
    return out


_CITIES = {"train": ("aachen", "bremen"), "val": ("frankfurt", "lindau")}


def segmentation(root: Path, name: str, s: Synth, pools: draw.Pools, seed: int,
                 progress: Progress = _quiet) -> dict[str, list[SegSample]]:
    """Cityscapes layout: class 0 background, 1 + digit, 255 on the blurred rims."""
    out = {}
    cityscapes.write_classes(root, ("background",) + draw.DIGIT_NAMES)
    for split, n in _sizes(s).items():
        rng = _rng(seed, name, split)
        records: list[SegSample] = []

        def items() -> Iterator:
            for i in range(n):
                image, placed = scene(rng, pools, split, s)
                city = _CITIES[split][i % 2]
                stem = f"{city}_{i // 2:06d}_000019"
                records.append(SegSample(
                    f"leftImg8bit/{split}/{city}/{stem}{cityscapes.IMAGE_SUFFIX}",
                    f"gtFine/{split}/{city}/{stem}{cityscapes.LABEL_SUFFIX}"))
                yield city, stem, image, label_map(s, placed, cityscapes.IGNORE_INDEX)

        cityscapes.write_split(root, split, progress(items(), n, f"{name} {split}"))
        out[split] = sorted(records, key=lambda r: r.image)  # the loader's order
    return out


BUILDERS = {"imagenet": classification, "coco_voc": detection, "widerface": faces, "cityscapes": segmentation}
