"""The WIDER FACE layout, with the official evaluation lists for the Easy / Medium / Hard settings.

    <root>/WIDER_train/images/<event>/<name>.jpg, <root>/WIDER_val/images/<event>/<name>.jpg
    <root>/wider_face_split/wider_face_{train,val}_bbx_gt.txt
        '<event>/<name>.jpg', then the face count, then per face
        'x y w h blur expression illumination invalid occlusion pose' (a zero-face image has one
        line of zeros)
    <root>/eval_tools/ground_truth/wider_{easy,medium,hard}_val.mat   (val only)
        MATLAB cells event_list, file_list, gt_list: per image, the 1-based indices of the faces
        that count in that setting; the others are ignored there (the official evaluation).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Iterable

import numpy as np

from .images import image_size, write_image
from .records import Dataset, DatasetError, DetSample

LEVELS = ("easy", "medium", "hard")
_MAT_HEADER = b"MATLAB 5.0 MAT-file, written by SlimZoo".ljust(116)
CLASSES = ("face",)


def _gt_file(root: Path, split: str) -> Path:
    return root / "wider_face_split" / f"wider_face_{split}_bbx_gt.txt"


def _mat_file(root: Path, level: str) -> Path:
    return root / "eval_tools" / "ground_truth" / f"wider_{level}_val.mat"


def _int(text: str, where: str) -> int:
    try:
        return int(float(text))
    except ValueError:
        raise DatasetError(where, f"expected a number, got {text!r}") from None


def _parse(path: Path) -> list[tuple[str, list[list[int]]]]:
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    out, i = [], 0
    while i < len(lines):
        if not lines[i]:
            i += 1
            continue
        name, count = lines[i], _int(lines[i + 1] if i + 1 < len(lines) else "", f"{path}:{i + 2}")
        rows = []
        for j in range(i + 2, i + 2 + max(count, 1)):
            fields = lines[j].split() if j < len(lines) else []
            if len(fields) < 4:
                raise DatasetError(f"{path}:{j + 1}", "expected 'x y w h blur expression illumination "
                                                       "invalid occlusion pose'")
            rows.append([_int(v, f"{path}:{j + 1}") for v in fields[:10]] + [0] * (10 - len(fields[:10])))
        out.append((name, rows if count else []))
        i += 2 + max(count, 1)
    return out


def _subsets(root: Path) -> dict[tuple[str, str], dict[str, tuple[int, ...]]]:
    from scipy.io import loadmat

    found: dict[tuple[str, str], dict[str, tuple[int, ...]]] = {}
    for level in LEVELS:
        path = _mat_file(root, level)
        if not path.is_file():
            raise DatasetError(path, "missing (expected the official WIDER FACE evaluation lists, "
                                     "eval_tools/ground_truth/wider_{easy,medium,hard}_val.mat)")
        try:
            mat = loadmat(str(path))
            for e, event in enumerate(mat["event_list"][:, 0]):
                for f, name in enumerate(mat["file_list"][e, 0][:, 0]):
                    keep = np.asarray(mat["gt_list"][e, 0][f, 0]).reshape(-1)
                    found.setdefault((str(event[0]), str(name[0])), {})[level] = \
                        tuple(int(k) - 1 for k in keep)
        except (KeyError, IndexError, ValueError) as err:
            raise DatasetError(path, f"not a WIDER FACE evaluation list ({err})") from None
    return found


def load(root: Path, split: str) -> Dataset:
    """Read one split; the val records carry the Easy/Medium/Hard face indices.

    Raises:
        DatasetError: Missing or malformed annotation file, images or evaluation lists.
    """
    root = Path(root)
    path = _gt_file(root, split)
    if not path.is_file():
        raise DatasetError(path, "missing (expected the WIDER FACE layout: wider_face_split/"
                                 f"wider_face_{split}_bbx_gt.txt and WIDER_{split}/images/)")
    subsets = _subsets(root) if split == "val" else {}
    samples = []
    for name, rows in _parse(path):
        rel = f"WIDER_{split}/images/{name}"
        width, height = image_size(root / rel)
        event, stem = name.split("/")[0], Path(name).stem
        if split == "val" and (event, stem) not in subsets:
            raise DatasetError(_mat_file(root, "hard"), f"has no entry for {name}")
        samples.append(DetSample(
            rel, width, height,
            boxes=tuple((float(x), float(y), float(x + w), float(y + h)) for x, y, w, h, *_ in rows),
            labels=(0,) * len(rows), ignore=tuple(bool(r[7]) for r in rows),
            subsets=subsets.get((event, stem), {})))
    return Dataset(root, split, CLASSES, tuple(samples))


def write_split(root: Path, split: str, items: Iterable[tuple[str, np.ndarray, DetSample, tuple[int, ...]]]) -> int:
    """Write images and the bbx_gt file of a split (and, for val, the evaluation lists).

    Args:
        root: Dataset directory.
        split: ``train`` or ``val``.
        items: ``('<event>/<name>.jpg', BGR image, record, blur level per face)``; boxes are
            whole pixels.

    Returns:
        The number of images written.
    """
    lines, written = [], []
    for name, image, sample, blur in items:
        write_image(root / f"WIDER_{split}" / "images" / name, image)
        lines += [name, str(len(sample.boxes))]
        for (x1, y1, x2, y2), ign, b in zip(sample.boxes, sample.ignore, blur):
            lines.append(f"{x1:g} {y1:g} {x2 - x1:g} {y2 - y1:g} {b} 0 0 {int(ign)} 0 0 ")
        if not sample.boxes:
            lines.append("0 0 0 0 0 0 0 0 0 0 ")
        written.append((name, sample))
    path = _gt_file(root, split)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if split == "val":
        write_eval_lists(root, written)
    return len(written)


def _cell(values: list) -> np.ndarray:
    cell = np.empty((len(values), 1), dtype=object)
    for i, v in enumerate(values):
        cell[i, 0] = v
    return cell


def write_eval_lists(root: Path, records: list[tuple[str, DetSample]]) -> None:
    """Write ``wider_{easy,medium,hard}_val.mat`` from the records' ``subsets``."""
    from scipy.io import savemat

    events: dict[str, list[tuple[str, DetSample]]] = {}
    for name, sample in records:
        events.setdefault(name.split("/")[0], []).append((Path(name).stem, sample))
    for level in LEVELS:
        path = _mat_file(Path(root), level)
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        savemat(buffer, {
            "event_list": _cell([np.array([e]) for e in events]),
            "file_list": _cell([_cell([np.array([stem]) for stem, _ in items]) for items in events.values()]),
            "gt_list": _cell([_cell([np.array(s.subsets.get(level, ()), dtype=float).reshape(-1, 1) + 1
                                     for _, s in items]) for items in events.values()]),
        })
        data = buffer.getvalue()  # savemat stamps the time into the 116-byte text header: fix it
        path.write_bytes(_MAT_HEADER + data[len(_MAT_HEADER):])
