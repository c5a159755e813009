"""What the det_benchmark stage measures for a detector, as one flat dict of figures.

Per exported artifact (Paddle Inference and ONNX Runtime, fp32): the val score (COCO box AP / AP50,
or VOC mAP) of its decoded outputs, size on disk, latency at batch 1 per thread count at the profile's
input size (``profile``), at the paper's (``paper``, 608) and at the seeds' other YOLOv3 sizes
(``paper416``, ``paper320``: the same artifact, its size is free). ``box_ap`` is COCO AP, or for VOC
the mAP, which the seeds publish under Box AP.
Per model: parameters and GFLOPs at the profile's input; the same for the paper-scale architecture
(paper width, 80 or 20 classes, 608 px) with its fp32 size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..bench import disk_size, latency, model_stats
from . import evaluate, models
from .data import DetSet
from ..runtimes import onnx_runner, paddle_runner

MIB = 2 ** 20
#: Input sizes at which the seeds publish YOLOv3 rows (one entry, three measurements).
PAPER_SIZES = (608, 416, 320)


def artifacts(export: Path) -> dict[str, tuple[Any, int]]:
    """Runtime name -> (factory of a runner for a thread count, bytes on disk)."""
    return {
        "paddle_fp32": (lambda t: paddle_runner(export / "inference", t),
                        disk_size(export / "inference.pdmodel", export / "inference.pdiparams")),
        "onnx_fp32": (lambda t: onnx_runner(export / "model.onnx", t), disk_size(export / "model.onnx")),
    }


def paper_stats(config: dict[str, Any]) -> dict[str, float]:
    """Parameters, GFLOPs (at 608 px) and fp32 size of the entry's paper-scale architecture."""
    paper = config["paper_arch"]
    stats = model_stats(models.build(paper), paper["input"])
    return {"paper_params_m": stats["params_m"], "paper_gflops": stats["gflops"], "paper_input": paper["input"],
            "paper_size_mb": stats["params"] * 4 / MIB}


def measure(config: dict[str, Any], model: Any, export: Path, val: DetSet, info: dict[str, Any],
            threads: list[int], min_seconds: float) -> dict[str, Any]:
    """Every figure of one entry (see the module docstring)."""
    figures: dict[str, Any] = {}
    paper = config["paper_arch"]["input"]
    sizes = {"profile": config["arch"]["input"], "paper": paper,
             **{f"paper{px}": px for px in PAPER_SIZES if px != paper}}
    for name, (factory, size) in artifacts(export).items():
        for key, value in evaluate.score(val, evaluate.predict(factory(config["threads"]), val, info)).items():
            figures[f"{name}_{key}"] = value
        figures[f"{name}_size_mb"] = size / MIB
        for t in threads:
            run = factory(t)
            for label, px in sizes.items():
                batch = np.random.default_rng(0).standard_normal((1, 3, px, px)).astype(np.float32)
                timed = latency(run, batch, min_runs=config["run"].get("bench_runs", 30), min_seconds=min_seconds)
                for key, value in timed.items():
                    figures[f"{name}_t{t}_{label}_{key}"] = value
    for key in ("box_ap", "box_ap50", "voc_map", "size_mb"):
        if f"paddle_fp32_{key}" in figures:
            figures[key] = figures[f"paddle_fp32_{key}"]
    if "voc_map" in figures:  # the seeds publish a VOC model's mAP under Box AP
        figures["box_ap"] = figures["voc_map"]
    stats = model_stats(model, sizes["profile"])
    figures.update(params_m=stats["params_m"], macs=stats["macs"], gflops=stats["gflops"])
    figures.update(paper_stats(config))
    return figures
