"""The COCO 2017 layout (instances json), as PaddleDetection's COCODataSet reads it.

    <root>/annotations/instances_train2017.json
    <root>/annotations/instances_val2017.json
    <root>/train2017/<file_name>, <root>/val2017/<file_name>

Boxes are ``[x, y, width, height]`` in the json and ``(x1, y1, x2, y2)`` in the records; labels index
the categories sorted by id; masks are polygon lists (crowd RLE masks are kept out of the records).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from .images import write_image
from .records import Dataset, DatasetError, DetSample

SPLITS = {"train": "train2017", "val": "val2017"}


def annotation_file(root: Path, split: str) -> Path:
    """Path of the instances json of a split."""
    return Path(root) / "annotations" / f"instances_{SPLITS[split]}.json"


def _require(obj: dict, keys: tuple[str, ...], where: str) -> None:
    missing = [k for k in keys if k not in obj]
    if missing:
        raise DatasetError(where, f"missing key(s) {', '.join(missing)}")


def read_json(path: Path) -> dict[str, Any]:
    """Read and shape-check an instances json."""
    if not path.is_file():
        raise DatasetError(path, "missing (expected the COCO layout: annotations/instances_<split>2017.json)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise DatasetError(path, f"not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise DatasetError(path, "expected a JSON object with images, annotations, categories")
    _require(data, ("images", "annotations", "categories"), str(path))
    for i, img in enumerate(data["images"]):
        _require(img, ("id", "file_name", "width", "height"), f"{path}: images[{i}]")
    for i, ann in enumerate(data["annotations"]):
        _require(ann, ("image_id", "category_id", "bbox"), f"{path}: annotations[{i}]")
    for i, cat in enumerate(data["categories"]):
        _require(cat, ("id", "name"), f"{path}: categories[{i}]")
    return data


def load(root: Path, split: str) -> Dataset:
    """Read one split into records, images in id order.

    Raises:
        DatasetError: Missing json or images, malformed json, unknown image or category ids.
    """
    root = Path(root)
    path = annotation_file(root, split)
    data = read_json(path)
    cats = sorted(data["categories"], key=lambda c: c["id"])
    label = {c["id"]: i for i, c in enumerate(cats)}
    objects: dict[Any, list[dict]] = {img["id"]: [] for img in data["images"]}
    for i, ann in enumerate(data["annotations"]):
        if ann["image_id"] not in objects or ann["category_id"] not in label:
            raise DatasetError(path, f"annotations[{i}] names an unknown image or category id")
        if len(ann["bbox"]) != 4:
            raise DatasetError(path, f"annotations[{i}].bbox: expected [x, y, width, height]")
        objects[ann["image_id"]].append(ann)
    samples = []
    for img in sorted(data["images"], key=lambda m: m["id"]):
        rel = f"{SPLITS[split]}/{img['file_name']}"
        if not (root / rel).is_file():
            raise DatasetError(root / rel, f"missing image (listed in {path.name})")
        anns = [a for a in objects[img["id"]] if a["bbox"][2] > 0 and a["bbox"][3] > 0]
        samples.append(DetSample(
            image=rel, width=int(img["width"]), height=int(img["height"]),
            boxes=tuple((float(x), float(y), float(x + w), float(y + h)) for x, y, w, h in (a["bbox"] for a in anns)),
            labels=tuple(label[a["category_id"]] for a in anns),
            ignore=tuple(bool(a.get("iscrowd", 0)) for a in anns),
            polygons=tuple(_polygons(a) for a in anns),
        ))
    return Dataset(root, split, tuple(c["name"] for c in cats), tuple(samples))


def _polygons(ann: dict) -> tuple[tuple[float, ...], ...]:
    seg = ann.get("segmentation")
    if not isinstance(seg, list):  # crowd RLE or no mask
        return ()
    return tuple(tuple(float(v) for v in poly) for poly in seg)


def to_coco(samples: Iterable[DetSample], classes: Iterable[str], file_names: Iterable[str]) -> dict:
    """Records as an instances json dict (image ids from 1, category ids from 1, mask areas)."""
    from pycocotools import mask as mask_utils

    images, annotations = [], []
    for image_id, (s, name) in enumerate(zip(samples, file_names), 1):
        images.append({"id": image_id, "file_name": name, "width": s.width, "height": s.height})
        polys = s.polygons or ((),) * len(s.boxes)
        for box, lab, ign, poly in zip(s.boxes, s.labels, s.ignore, polys):
            w, h = box[2] - box[0], box[3] - box[1]
            area = w * h
            if poly:
                rle = mask_utils.merge(mask_utils.frPyObjects([list(p) for p in poly], s.height, s.width))
                area = float(mask_utils.area(rle))
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id, "category_id": lab + 1,
                "bbox": [box[0], box[1], w, h], "area": area, "iscrowd": int(ign),
                "segmentation": [list(p) for p in poly],
            })
    categories = [{"id": i + 1, "name": c, "supercategory": "digit"} for i, c in enumerate(classes)]
    return {"images": images, "annotations": annotations, "categories": categories}


def write_split(root: Path, split: str, items: Iterable[tuple[str, np.ndarray, DetSample]],
                classes: tuple[str, ...]) -> int:
    """Write the images and the instances json of a split.

    Args:
        root: Dataset directory.
        split: ``train`` or ``val``.
        items: ``(file name, BGR image, record)``; the record's ``image`` is ignored.
        classes: Category names (ids 1..N).

    Returns:
        The number of images written.
    """
    names, samples = [], []
    for name, image, sample in items:
        write_image(root / SPLITS[split] / name, image)
        names.append(name)
        samples.append(sample)
    path = annotation_file(root, split)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_coco(samples, classes, names)), encoding="utf-8")
    return len(names)
