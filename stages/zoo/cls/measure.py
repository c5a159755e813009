"""What the benchmark stage measures for a classifier, as one flat dict of figures.

Per exported artifact (Paddle Inference and ONNX Runtime, fp32 and, when given, int8): Top-1/Top-5 on
the profile's val split, size on disk, latency at batch 1 per thread count at the profile's and the
paper's input size. Per model: parameters, MACs and GFLOPs at the profile's input; the same for the
paper-scale architecture (paper width, 1000 classes, paper input), with its fp32/int8 size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..bench import disk_size, latency, model_stats
from ..runtimes import onnx_session, paddle_predictor
from .data import ImageSet
from ..metrics.topk import topk_accuracy

MIB = 2 ** 20


def artifacts(export: Path, int8: Path | None) -> dict[str, tuple[Callable[[int], Callable], int]]:
    """Runtime name -> (factory of a runner for a thread count, bytes on disk)."""
    found = {
        "paddle_fp32": (lambda t: paddle_predictor(export / "inference", t),
                        disk_size(export / "inference.pdmodel", export / "inference.pdiparams")),
        "onnx_fp32": (lambda t: onnx_session(export / "model.onnx", t), disk_size(export / "model.onnx")),
    }
    if int8 is not None:
        found["paddle_int8"] = (lambda t: paddle_predictor(int8 / "inference", t, int8=True),
                                disk_size(int8 / "inference.pdmodel", int8 / "inference.pdiparams"))
        found["onnx_int8"] = (lambda t: onnx_session(int8 / "model.onnx", t), disk_size(int8 / "model.onnx"))
    return found


def paper_stats(config: dict[str, Any], int8: bool, info: dict[str, Any]) -> dict[str, float]:
    """Parameters, GFLOPs and size of the entry's paper-scale architecture after the same compression
    (``info``: its model.json): the same searched tokens, pruned by the same per-weight ratios (the
    names match: same layers, built the same way), int8 weights at one byte."""
    from ..compress.prune import apply_ratios
    from . import models

    paper = config["paper_arch"]
    model = models.build(paper, info.get("tokens"))
    pruned = info.get("pruned")
    if pruned:
        apply_ratios(model, paper["input"], pruned)
    stats = model_stats(model, paper["input"])
    return {"paper_params_m": stats["params_m"], "paper_gflops": stats["gflops"], "paper_input": paper["input"],
            "paper_size_mb": stats["params"] * (1 if int8 else 4) / MIB}


def measure(config: dict[str, Any], model: Any, export: Path, int8: Path | None, val: ImageSet,
            threads: list[int], min_seconds: float, info: dict[str, Any]) -> dict[str, Any]:
    """Every figure of one entry (see the module docstring)."""
    figures: dict[str, Any] = {}
    sizes = {"profile": config["arch"]["input"], "paper": config["paper_arch"]["input"]}
    for name, (factory, size) in artifacts(export, int8).items():
        run = factory(config["threads"])
        logits = np.concatenate([run(x) for x, _ in val.batches(100)])
        for key, value in topk_accuracy(logits, val.labels, ks=(1, min(5, logits.shape[1]))).items():
            figures[f"{name}_{key}"] = value
        figures[f"{name}_size_mb"] = size / MIB
        for t in threads:
            run = factory(t)
            for label, px in sizes.items():
                batch = np.random.default_rng(0).standard_normal((1, 3, px, px)).astype(np.float32)
                timed = latency(run, batch, min_runs=config["run"].get("bench_runs", 30), min_seconds=min_seconds)
                for key, value in timed.items():
                    figures[f"{name}_t{t}_{label}_{key}"] = value
    main = "paddle_int8" if int8 is not None else "paddle_fp32"
    figures.update(top1=figures[f"{main}_top1"], top5=figures[f"{main}_top5"], size_mb=figures[f"{main}_size_mb"])
    stats = model_stats(model, sizes["profile"])
    figures.update(params_m=stats["params_m"], macs=stats["macs"], gflops=stats["gflops"])
    figures.update(paper_stats(config, int8 is not None, info))
    return figures
