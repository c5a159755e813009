"""Scenes of digits: one labelled image per call, deterministic for a random generator state.

A scene is a background, clutter (strokes and rings that belong to no class) and digits that do not
overlap, each with its tight box (pixels where the soft mask is at least 0.5), mask polygons, blur
level and placed soft mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import draw
from .params import Synth


@dataclass
class Placed:
    """One digit drawn into a scene."""

    label: int
    box: tuple[float, float, float, float]
    polygons: tuple[tuple[float, ...], ...]
    blur: int
    mask: np.ndarray  # soft mask, crop
    x: int
    y: int


def _polygons(solid: np.ndarray, x: int, y: int) -> tuple[tuple[float, ...], ...]:
    """Outer contours of a binary mask as COCO polygons (pixel centres, at least 3 points each)."""
    import cv2

    contours, _ = cv2.findContours(solid.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    polys = []
    for c in contours:
        pts = c.reshape(-1, 2).astype(np.float64) + (x + 0.5, y + 0.5)
        if len(pts) >= 3:
            polys.append(tuple(float(v) for v in pts.reshape(-1)))
    return tuple(polys)


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _digit(rng: np.random.Generator, pools: draw.Pools, split: str, s: Synth,
           label: int | None) -> tuple[np.ndarray, int, int]:
    glyph, label = pools.pick(rng, split, label)
    mask = draw.glyph_mask(glyph, _log_uniform(rng, *s.size), float(rng.uniform(-s.rotate, s.rotate)))
    level = int(rng.integers(1, 3)) if rng.random() < s.blur else 0
    if level:
        mask = draw.blurred(mask, level)
    return mask, label, level


def scene(rng: np.random.Generator, pools: draw.Pools, split: str, s: Synth,
          labels: list[int] | None = None) -> tuple[np.ndarray, list[Placed]]:
    """Draw one image.

    Args:
        rng: Random generator (its state decides everything).
        pools: Source digits.
        split: Which pool to draw digits from.
        s: Generator settings.
        labels: Fixed digit classes to draw (default: ``s.objects`` random ones).

    Returns:
        The uint8 BGR image and the digits that were placed.
    """
    canvas = draw.background(rng, s.height, s.width)
    n_clutter = int(rng.integers(s.clutter[0], s.clutter[1] + 1))
    draw.clutter(rng, canvas, n_clutter - n_clutter // 2)
    if labels is None:
        labels = [None] * int(rng.integers(s.objects[0], s.objects[1] + 1))
    taken = np.zeros((s.height, s.width), dtype=bool)
    placed = []
    for want in labels:
        mask, label, level = _digit(rng, pools, split, s, want)
        h, w = mask.shape
        if h > s.height or w > s.width:
            continue
        for _ in range(30):
            x, y = int(rng.integers(0, s.width - w + 1)), int(rng.integers(0, s.height - h + 1))
            if not taken[y:y + h, x:x + w].any():
                break
        else:
            continue
        solid = mask >= 0.5
        polys = _polygons(solid, x, y)
        if not polys:
            continue
        taken[y:y + h, x:x + w] = True
        draw.paste(canvas, mask, x, y, draw.ink(rng, canvas[y:y + h, x:x + w], s.contrast))
        ys, xs = np.nonzero(solid)
        box = (float(x + xs.min()), float(y + ys.min()), float(x + xs.max() + 1), float(y + ys.max() + 1))
        placed.append(Placed(label, box, polys, level, mask, x, y))
    draw.clutter(rng, canvas, n_clutter // 2)  # some strokes cross the digits
    return draw.to_bgr8(rng, canvas, s.noise), placed


def label_map(s: Synth, placed: list[Placed], ignore_index: int) -> np.ndarray:
    """Semantic labels: 0 background, 1 + digit on the digit, ``ignore_index`` on its blurred rim."""
    label = np.zeros((s.height, s.width), dtype=np.uint8)
    for p in placed:
        h, w = p.mask.shape
        region = label[p.y:p.y + h, p.x:p.x + w]
        region[(p.mask >= s.ignore_band) & (p.mask < 0.5) & (region == 0)] = ignore_index
        region[p.mask >= 0.5] = 1 + p.label
    return label


def subsets(s: Synth, boxes: list[tuple[float, float, float, float]]) -> dict[str, tuple[int, ...]]:
    """WIDER FACE settings by face height: Easy >= ``s.easy``, Medium >= ``s.medium``, Hard all."""
    heights = [b[3] - b[1] for b in boxes]
    return {
        "easy": tuple(i for i, h in enumerate(heights) if h >= s.easy),
        "medium": tuple(i for i, h in enumerate(heights) if h >= s.medium),
        "hard": tuple(range(len(heights))),
    }
