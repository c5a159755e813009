"""Top-k accuracy from logits (or any per-class scores)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from . import MetricInputError


def topk_accuracy(logits: np.ndarray, labels: np.ndarray, ks: Sequence[int] = (1, 5)) -> dict[str, float]:
    """Share of samples whose label is among the ``k`` highest scores, in percent.

    Ties are broken towards the lower class index (a stable sort), so a result never depends on
    floating-point noise in the order of equal scores.

    Args:
        logits: ``(N, C)`` finite scores.
        labels: ``(N,)`` integer labels in ``[0, C)``.
        ks: The ``k`` values; each at most ``C``.

    Returns:
        ``{"top1": ..., "top5": ...}`` (one key per ``k``).

    Raises:
        MetricInputError: Wrong shapes, non-finite scores, labels out of range, ``k`` > C.
    """
    logits, labels = np.asarray(logits), np.asarray(labels)
    if logits.ndim != 2 or logits.shape[0] == 0:
        raise MetricInputError(f"logits: expected shape (N, classes) with N > 0, got {logits.shape}")
    if labels.shape != (logits.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise MetricInputError(f"labels: expected {logits.shape[0]} integers, got {labels.dtype} {labels.shape}")
    if not np.isfinite(logits).all():
        raise MetricInputError("logits: contain NaN or infinity")
    classes = logits.shape[1]
    if labels.min() < 0 or labels.max() >= classes:
        raise MetricInputError(f"labels: expected values in [0, {classes}), got {labels.min()}..{labels.max()}")
    if any(k < 1 or k > classes for k in ks):
        raise MetricInputError(f"ks {tuple(ks)}: each k must be in [1, {classes}]")
    order = np.argsort(-logits, axis=1, kind="stable")
    rank = np.argmax(order == labels[:, None], axis=1)  # position of the true class
    return {f"top{k}": float((rank < k).mean() * 100) for k in ks}
