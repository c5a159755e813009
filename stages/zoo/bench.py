"""Measurements of a model: latency statistics, parameters, MACs and GFLOPs, size on disk."""

from __future__ import annotations

import contextlib
import io
import statistics
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np


def latency(run: Callable[[np.ndarray], Any], batch: np.ndarray, warmup: int = 10, min_runs: int = 30,
            min_seconds: float = 1.0, max_runs: int = 2000) -> dict[str, float]:
    """Time ``run(batch)`` after ``warmup`` calls, until ``min_runs`` and ``min_seconds`` are both met.

    Returns:
        ``median_ms``, ``p90_ms``, ``mean_ms``, ``std_ms`` and ``runs``.
    """
    for _ in range(warmup):
        run(batch)
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max_runs and (len(times) < min_runs or time.perf_counter() - start < min_seconds):
        t = time.perf_counter()
        run(batch)
        times.append((time.perf_counter() - t) * 1000)
    ms = np.array(times)
    return {"median_ms": float(np.median(ms)), "p90_ms": float(np.percentile(ms, 90)),
            "mean_ms": float(ms.mean()), "std_ms": float(statistics.pstdev(times)), "runs": len(times)}


def timing(run: dict[str, Any]) -> dict[str, int]:
    """:func:`latency`'s run counts from a resolved config's ``run`` settings (its defaults where absent)."""
    names = {"bench_runs": "min_runs", "bench_warmup": "warmup"}
    return {arg: run[key] for key, arg in names.items() if key in run}


def model_stats(model: Any, input_size: int) -> dict[str, float]:
    """Parameters and compute of a dygraph model at ``input_size`` (batch 1).

    ``macs`` is what ``paddle.flops`` counts (multiply-accumulates of conv, linear, batch norm,
    activations and pooling); ``gflops`` is 2 x MACs / 1e9, the convention of the seed tables, which
    publish about twice paddle.flops' figure (../shared/STACK.md). A deformable convolution counts as
    the convolution it is (paddle.flops has no rule for ``DeformConv2D`` and counted it as nothing; the
    offsets' bilinear sampling is left out, as the convolution convention leaves out padding).
    """
    import paddle
    from paddle.hapi.dynamic_flops import count_convNd

    rules = {paddle.vision.ops.DeformConv2D: count_convNd}
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():  # it prints a table, warns per op
        warnings.simplefilter("ignore")
        macs = int(paddle.flops(model, [1, 3, input_size, input_size], custom_ops=rules, print_detail=False))
    params = int(sum(int(np.prod(p.shape)) for p in model.parameters()))
    return {"params": params, "params_m": params / 1e6, "macs": macs, "gflops": 2 * macs / 1e9}


def disk_size(*paths: Path) -> int:
    """Bytes on disk of files (and of every file under folders)."""
    total = 0
    for path in paths:
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        total += sum(f.stat().st_size for f in files)
    return total
