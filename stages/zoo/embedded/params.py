"""Schema of ``params/data.yaml``: how each embedded dataset is generated."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

from ..schema import Problem, Where, load


@dataclass(frozen=True)
class Synth:
    """Generator settings of one embedded dataset (every size in pixels).

    Attributes:
        format: On-disk layout: ``imagenet``; ``coco_voc`` (the same set as COCO json and VOC xml,
            with instance masks); ``widerface``; ``cityscapes``.
        width: Image width.
        height: Image height.
        train: Images in the train split.
        val: Images in the val split (drawn from held-out writers' digits).
        size: ``[low, high]`` digit height; drawn log-uniformly.
        objects: ``[low, high]`` digits per image.
        rotate: Largest rotation either way, degrees.
        noise: ``[low, high]`` standard deviation of Gaussian pixel noise (intensity in [0, 1]).
        contrast: Smallest luminance gap between a digit and the background under it.
        clutter: ``[low, high]`` distractor strokes and rings per image.
        blur: Probability that a digit is blurred (WIDER FACE records it as blur level 1 or 2).
        easy: ``widerface``: smallest face height counted in the Easy setting.
        medium: ``widerface``: smallest face height counted in the Medium setting (Hard counts all).
        ignore_band: ``cityscapes``: soft-mask values in ``[ignore_band, 0.5)`` around each digit are
            labelled with the ignore index (the blurred rim, like Cityscapes' void borders).
    """

    format: Literal["imagenet", "coco_voc", "widerface", "cityscapes"]
    width: int
    height: int
    train: int
    val: int
    size: list[float]
    objects: list[int] = (1, 1)
    rotate: float = 0.0
    noise: list[float] = (0.0, 0.0)
    contrast: float = 0.3
    clutter: list[int] = (0, 0)
    blur: float = 0.0
    easy: Optional[int] = None
    medium: Optional[int] = None
    ignore_band: Optional[float] = None


@dataclass(frozen=True)
class DataParams:
    """``params/data.yaml``.

    Attributes:
        seed: Seed of every random choice; the same seed gives the same files.
        holdout: Fraction of scikit-learn's digits (per class) kept for the val splits only, so
            validation digits come from writers never seen in training.
        datasets: Embedded dataset name -> settings; ``dvc repro data`` writes ``data/<name>/``.
    """

    seed: int
    holdout: float
    datasets: dict[str, Synth]


def _check(s: Synth, where: Where) -> None:
    for key in ("size", "objects", "noise", "clutter"):
        value = getattr(s, key)
        if value is not None and (len(value) != 2 or value[0] > value[1] or value[0] < 0):
            where.at(key).fail("expected [low, high] with 0 <= low <= high")
    for key in ("width", "height", "train", "val"):
        if getattr(s, key) is not None and getattr(s, key) <= 0:
            where.at(key).fail("must be a positive integer")
    if s.size and s.width and s.height and s.size[1] > min(s.width, s.height):
        where.at("size").fail(f"largest digit {s.size[1]:g} does not fit a {s.width}x{s.height} image")
    if s.size and s.size[0] < 4:
        where.at("size").fail("digits smaller than 4 pixels are not legible")
    if s.format == "widerface" and not (s.easy and s.medium and s.easy > s.medium):
        where.at("easy").fail("widerface needs easy > medium (smallest face heights per setting)")
    if s.format == "cityscapes" and not (s.ignore_band is not None and 0 < s.ignore_band < 0.5):
        where.at("ignore_band").fail("cityscapes needs ignore_band in (0, 0.5)")


def load_data_params(path: Path) -> DataParams:
    """Load and check ``params/data.yaml``; problems name the dataset as their entry.

    Raises:
        Invalid: One problem per thing wrong (file, dataset, key, message).
    """
    from ..registry import Invalid, read_yaml

    problems: list[Problem] = []
    try:
        rel = path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        rel = path.as_posix()
    raw = read_yaml(path, rel, problems)
    datasets = raw.get("datasets") if isinstance(raw, dict) else None
    if isinstance(datasets, dict):  # each dataset is an entry of its own in the messages
        raw = {**raw, "datasets": {}}
        datasets = {str(n): load(Synth, v, Where(rel, str(n), "", problems)) for n, v in datasets.items()}
    params = None if raw is None else load(DataParams, raw, Where(rel, "-", "", problems))
    if params is not None and datasets is not None:
        params = dataclasses.replace(params, datasets=datasets)
    if params is not None:
        if not 0 < params.holdout < 1:
            Where(rel, "-", "holdout", problems).fail("must be in (0, 1)")
        for name, synth in params.datasets.items():
            if synth is not None:
                _check(synth, Where(rel, name, "", problems))
    if problems or params is None:
        raise Invalid(problems)
    return params


def load_data_or_report(path: Path) -> DataParams | None:
    """Load ``params/data.yaml``, or print each problem on its own line to stderr and return None."""
    from ..registry import Invalid, report

    try:
        return load_data_params(path)
    except Invalid as err:
        report(err, str(path))
        return None
