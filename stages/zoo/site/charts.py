"""Scatter charts (accuracy against latency / size) with the Pareto front, as SVG geometry.

The templates draw the SVG (so labels come from the locale files and the browser renders them in
either language); this module only places the points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WIDTH, HEIGHT, PAD = 640, 360, 48


@dataclass
class Point:
    entry: str
    x: float
    y: float
    px: float = 0.0
    py: float = 0.0
    front: bool = False


@dataclass
class Chart:
    """Points placed in a WIDTH x HEIGHT box; ``front`` is the Pareto front, left to right."""

    x: str
    y: str
    points: list[Point]
    front: list[Point]
    xticks: list[tuple[float, float]]
    yticks: list[tuple[float, float]]
    width: int = WIDTH
    height: int = HEIGHT
    pad: int = PAD


def pareto(points: list[Point]) -> list[Point]:
    """Points no other point beats (lower x and higher y), sorted by x."""
    front, best = [], -math.inf
    for p in sorted(points, key=lambda p: (p.x, -p.y)):
        if p.y > best:
            front.append(p)
            best = p.y
    return front


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    step = (hi - lo) / (n - 1) if hi > lo else 1.0
    return [lo + i * step for i in range(n)]


def chart(x: str, y: str, data: list[tuple[str, float, float]], log_x: bool = True) -> Chart | None:
    """Place ``(entry, x, y)`` points; None when fewer than two have both values."""
    pts = [Point(e, float(a), float(b)) for e, a, b in data if a is not None and b is not None and a > 0]
    if len(pts) < 2:
        return None
    fx = (lambda v: math.log10(v)) if log_x else (lambda v: v)
    xs, ys = [fx(p.x) for p in pts], [p.y for p in pts]
    x0, x1 = min(xs), max(xs) + 1e-9
    y0, y1 = min(ys), max(ys) + 1e-9
    for p in pts:
        p.px = PAD + (fx(p.x) - x0) / (x1 - x0) * (WIDTH - 2 * PAD)
        p.py = HEIGHT - PAD - (p.y - y0) / (y1 - y0) * (HEIGHT - 2 * PAD)
    front = pareto(pts)
    for p in front:
        p.front = True
    xticks = [(PAD + i / 4 * (WIDTH - 2 * PAD), 10 ** v if log_x else v) for i, v in enumerate(_ticks(x0, x1))]
    yticks = [(HEIGHT - PAD - i / 4 * (HEIGHT - 2 * PAD), v) for i, v in enumerate(_ticks(y0, y1))]
    return Chart(x, y, pts, front, xticks, yticks)


def curve(points: list[tuple[float, float]]) -> dict | None:
    """A training curve as an SVG polyline in a small box (None for fewer than two points)."""
    if len(points) < 2:
        return None
    w, h, pad = 320, 160, 32
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs) + 1e-9, min(ys), max(ys) + 1e-9
    coords = [(pad + (x - x0) / (x1 - x0) * (w - 2 * pad), h - pad - (y - y0) / (y1 - y0) * (h - 2 * pad))
              for x, y in points]
    return {"width": w, "height": h, "pad": pad, "coords": coords, "x": (x0, max(xs)), "y": (y0, max(ys)),
            "last": ys[-1]}
