"""The Pascal VOC layout (xml annotations), as in VOCdevkit.

    <root>/VOCdevkit/VOC2007/Annotations/<id>.xml
    <root>/VOCdevkit/VOC2007/JPEGImages/<id>.jpg
    <root>/VOCdevkit/VOC2007/ImageSets/Main/{trainval,test}.txt
    <root>/VOCdevkit/VOC2012/...                 (optional, trainval only)
    <root>/label_list.txt                         optional class names, one per line (PaddleDetection)

The zoo's split ``train`` is every year's ``trainval`` (VOC2007+2012, as the seeds train), ``val`` is
VOC2007 ``test``. Coordinates are read as written (PaddleDetection does not shift VOC's 1-based pixels).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Iterable

import numpy as np

from .images import write_image
from .records import Dataset, DatasetError, DetSample

VOC_CLASSES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
               "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
               "train", "tvmonitor")
SETS = {"train": "trainval", "val": "test"}
LABELS = "label_list.txt"


def _devkit(root: Path) -> Path:
    return root / "VOCdevkit" if (root / "VOCdevkit").is_dir() else root


def _years(root: Path, split: str) -> list[Path]:
    devkit = _devkit(root)
    years = sorted(p for p in devkit.glob("VOC20*") if p.is_dir())
    if split == "val":
        years = [p for p in years if p.name == "VOC2007"]
    if not years:
        raise DatasetError(devkit, "no VOC2007/VOC2012 folder (expected the VOC layout: "
                                   "VOCdevkit/VOC2007/{Annotations,JPEGImages,ImageSets/Main})")
    return years


def classes(root: Path) -> tuple[str, ...]:
    """Class names: ``label_list.txt`` when present, else the 20 VOC classes."""
    path = Path(root) / LABELS
    if path.is_file():
        return tuple(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return VOC_CLASSES


def _number(node: ET.Element, tag: str, path: Path) -> float:
    text = node.findtext(tag)
    try:
        return float(text)
    except (TypeError, ValueError):
        raise DatasetError(path, f"<{tag}> missing or not a number") from None


def _parse(xml: Path, rel_image: str, names: dict[str, int]) -> DetSample:
    try:
        tree = ET.parse(xml).getroot()
    except (OSError, ET.ParseError) as err:
        raise DatasetError(xml, f"missing or not valid VOC xml ({err})") from None
    size = tree.find("size")
    if size is None:
        raise DatasetError(xml, "no <size> element")
    boxes, labels, ignore = [], [], []
    for obj in tree.findall("object"):
        name = (obj.findtext("name") or "").strip()
        if name not in names:
            raise DatasetError(xml, f"object name {name!r} is not a class of {LABELS} / VOC")
        bnd = obj.find("bndbox")
        if bnd is None:
            raise DatasetError(xml, "object without <bndbox>")
        boxes.append(tuple(_number(bnd, t, xml) for t in ("xmin", "ymin", "xmax", "ymax")))
        labels.append(names[name])
        ignore.append(obj.findtext("difficult", "0").strip() == "1")
    return DetSample(rel_image, int(_number(size, "width", xml)), int(_number(size, "height", xml)),
                     tuple(boxes), tuple(labels), tuple(ignore))


def load(root: Path, split: str) -> Dataset:
    """Read one split (``train``: all years' trainval; ``val``: VOC2007 test).

    Raises:
        DatasetError: Missing folders, lists, images or xml; unknown class names.
    """
    root = Path(root)
    names = {c: i for i, c in enumerate(classes(root))}
    samples = []
    for year in _years(root, split):
        listing = year / "ImageSets" / "Main" / f"{SETS[split]}.txt"
        if not listing.is_file():
            raise DatasetError(listing, f"missing (expected one image id per line for split {split!r})")
        for image_id in listing.read_text(encoding="utf-8").split():
            jpg = year / "JPEGImages" / f"{image_id}.jpg"
            if not jpg.is_file():
                raise DatasetError(jpg, f"missing image (listed in {listing.name})")
            rel = jpg.relative_to(root).as_posix()
            samples.append(_parse(year / "Annotations" / f"{image_id}.xml", rel, names))
    return Dataset(root, split, tuple(names), tuple(samples))


def _xml(image_id: str, sample: DetSample, classes: tuple[str, ...]) -> str:
    objects = "".join(
        f"<object><name>{classes[lab]}</name><pose>Unspecified</pose><truncated>0</truncated>"
        f"<difficult>{int(ign)}</difficult><bndbox><xmin>{b[0]:g}</xmin><ymin>{b[1]:g}</ymin>"
        f"<xmax>{b[2]:g}</xmax><ymax>{b[3]:g}</ymax></bndbox></object>"
        for b, lab, ign in zip(sample.boxes, sample.labels, sample.ignore))
    return (f"<annotation><folder>VOC2007</folder><filename>{image_id}.jpg</filename>"
            f"<size><width>{sample.width}</width><height>{sample.height}</height><depth>3</depth></size>"
            f"<segmented>0</segmented>{objects}</annotation>\n")


def write_split(root: Path, split: str, items: Iterable[tuple[str, np.ndarray, DetSample]],
                classes: tuple[str, ...]) -> int:
    """Write images, xml files and the image set list of a split into VOCdevkit/VOC2007.

    Args:
        root: Dataset directory.
        split: ``train`` (written as trainval) or ``val`` (written as test).
        items: ``(image id, BGR image, record)``.
        classes: Class names (written to ``label_list.txt``).

    Returns:
        The number of images written.
    """
    year = Path(root) / "VOCdevkit" / "VOC2007"
    (year / "Annotations").mkdir(parents=True, exist_ok=True)
    ids = []
    for image_id, image, sample in items:
        write_image(year / "JPEGImages" / f"{image_id}.jpg", image)
        (year / "Annotations" / f"{image_id}.xml").write_text(_xml(image_id, sample, classes), encoding="utf-8")
        ids.append(image_id)
    listing = year / "ImageSets" / "Main" / f"{SETS[split]}.txt"
    listing.parent.mkdir(parents=True, exist_ok=True)
    listing.write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
    (Path(root) / LABELS).write_text("".join(f"{c}\n" for c in classes), encoding="utf-8")
    return len(ids)
