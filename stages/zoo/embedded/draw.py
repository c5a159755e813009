"""Drawing primitives: the source digits, backgrounds, clutter, and digits composited onto a canvas.

Canvases are float32 ``HxWx3`` RGB in [0, 1]; :func:`to_bgr8` turns one into the uint8 BGR image that
OpenCV writes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass(frozen=True)
class Pools:
    """scikit-learn's 1797 handwritten 8x8 digits, split into a train and a held-out val pool.

    Attributes:
        images: ``(n, 8, 8)`` float32 in [0, 1].
        labels: ``(n,)`` digit per image.
        by_split: ``train``/``val`` -> per class, the indices of its digits.
    """

    images: np.ndarray
    labels: np.ndarray
    by_split: dict[str, list[np.ndarray]]

    @classmethod
    def load(cls, seed: int, holdout: float) -> "Pools":
        """Load the digits (shipped inside scikit-learn, no download) and hold out ``holdout`` per class."""
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = (digits.images / 16.0).astype(np.float32)
        rng = np.random.default_rng([seed, 1797])
        by_split: dict[str, list[np.ndarray]] = {"train": [], "val": []}
        for k in range(10):
            idx = rng.permutation(np.flatnonzero(digits.target == k))
            cut = int(round(len(idx) * holdout))
            by_split["val"].append(np.sort(idx[:cut]))
            by_split["train"].append(np.sort(idx[cut:]))
        return cls(images, digits.target.astype(np.int64), by_split)

    def pick(self, rng: np.random.Generator, split: str, label: int | None = None) -> tuple[np.ndarray, int]:
        """A random digit of the split's pool (of class ``label`` if given)."""
        label = int(rng.integers(10)) if label is None else label
        return self.images[rng.choice(self.by_split[split][label])], label


def glyph_mask(glyph: np.ndarray, height: float, angle: float) -> np.ndarray:
    """Render an 8x8 digit as a soft mask about ``height`` pixels tall, rotated by ``angle`` degrees.

    Returns:
        float32 mask in [0, 1], cropped to its visible extent.
    """
    import cv2

    side = max(4, int(round(height * 8 / 7)))  # sklearn's digits fill about 7 of their 8 rows
    up = cv2.resize(glyph, (side, side), interpolation=cv2.INTER_CUBIC).clip(0, 1)
    pad = side // 2
    big = np.pad(up, pad)
    centre = (big.shape[1] / 2, big.shape[0] / 2)
    rot = cv2.warpAffine(big, cv2.getRotationMatrix2D(centre, angle, 1.0), big.shape[::-1],
                         flags=cv2.INTER_LINEAR)
    ys, xs = np.nonzero(rot > 0.05)
    return np.ascontiguousarray(rot[ys.min():ys.max() + 1, xs.min():xs.max() + 1])


def background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A smooth two-colour gradient with low-frequency blotches."""
    import cv2

    a, b = rng.random(3, dtype=np.float32), rng.random(3, dtype=np.float32)
    theta = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    t = (np.cos(theta) * xx / width + np.sin(theta) * yy / height)
    t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
    canvas = a + (b - a) * t[..., None]
    blotch = cv2.resize(rng.normal(0, 0.08, (4, 4, 3)).astype(np.float32), (width, height),
                        interpolation=cv2.INTER_CUBIC)
    return np.clip(canvas + blotch, 0, 1)


def clutter(rng: np.random.Generator, canvas: np.ndarray, count: int) -> None:
    """Draw ``count`` random lines, arcs and rings (distractors that are no class)."""
    import cv2

    h, w = canvas.shape[:2]
    for _ in range(count):
        colour = tuple(float(c) for c in rng.random(3))
        thick = int(rng.integers(1, max(2, min(h, w) // 24) + 1))
        kind = rng.integers(3)
        p = (int(rng.integers(w)), int(rng.integers(h)))
        if kind == 0:
            cv2.line(canvas, p, (int(rng.integers(w)), int(rng.integers(h))), colour, thick, cv2.LINE_AA)
        elif kind == 1:
            cv2.circle(canvas, p, int(rng.integers(2, max(3, min(h, w) // 5))), colour, thick, cv2.LINE_AA)
        else:
            axes = (int(rng.integers(2, max(3, w // 4))), int(rng.integers(2, max(3, h // 4))))
            start = float(rng.uniform(0, 360))
            cv2.ellipse(canvas, p, axes, float(rng.uniform(0, 180)), start, start + float(rng.uniform(60, 200)),
                        colour, thick, cv2.LINE_AA)


def ink(rng: np.random.Generator, under: np.ndarray, contrast: float) -> np.ndarray:
    """A colour whose luminance differs from the mean of ``under`` by at least ``contrast``."""
    base = float(under.reshape(-1, 3).mean(0) @ _LUMA)
    for _ in range(32):
        colour = rng.random(3, dtype=np.float32)
        if abs(float(colour @ _LUMA) - base) >= contrast:
            return colour
    return np.full(3, 0.0 if base > 0.5 else 1.0, dtype=np.float32)


def paste(canvas: np.ndarray, mask: np.ndarray, x: int, y: int, colour: np.ndarray) -> None:
    """Alpha-blend ``colour`` through ``mask`` with its top-left corner at ``(x, y)`` (in bounds)."""
    h, w = mask.shape
    region = canvas[y:y + h, x:x + w]
    region[:] = region * (1 - mask[..., None]) + colour * mask[..., None]


def blurred(mask: np.ndarray, level: int) -> np.ndarray:
    """The mask softened by a Gaussian blur (level 1 normal, 2 heavy, as WIDER FACE grades blur)."""
    import cv2

    sigma = 0.6 * level * max(1.0, min(mask.shape) / 16)
    return cv2.GaussianBlur(mask, (0, 0), sigma)


def to_bgr8(rng: np.random.Generator, canvas: np.ndarray, noise: tuple[float, float]) -> np.ndarray:
    """Add Gaussian noise of a random strength in ``noise`` and convert to uint8 BGR."""
    sigma = float(rng.uniform(*noise))
    noisy = canvas + rng.normal(0, sigma, canvas.shape).astype(np.float32) if sigma > 0 else canvas
    return (np.clip(noisy, 0, 1)[..., ::-1] * 255 + 0.5).astype(np.uint8)
